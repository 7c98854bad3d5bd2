"""Professional disagreements are one thing: a disagreement written in the checklist is tracked like one raised on the
page, stays open through every escalation until a manager resolves it, and shows as overdue past its stage's limit."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from service import actions, db, reporting
from service.actions.demo import CASE_M_DISAGREEMENT, complete_answers
from service.checklist import ChecklistError, load_file
from service.core import disagreements as rules
from service.core.clock import today
from service.core.errors import Invalid, Refused
from service.core.report import ReportFilter
from service.core.workdays import working_days_between
from service.core.workflow import Action
from tests.conftest import Site
from tests.helpers import APART, CHECKLIST, CHECKLISTS, MIA_ON_RECORD, act, actor, checklist_changed, handover_in
from tests.test_api import call, tokens

pytestmark = pytest.mark.anyio

ABOUT = "Whether the mother can protect the children from the eldest son if he returns home."


async def report(site: Site, **wanted: object) -> dict[int, reporting.ReportRow]:
    rows, _ = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(**wanted), 1, 500, today())
    return {row.handover_id: row for row in rows}


def dated(day: date) -> dict[str, str]:
    return {"stage_date-day": str(day.day), "stage_date-month": str(day.month), "stage_date-year": str(day.year)}


async def open_ids(site: Site, handover_id: int) -> list[int]:
    return [d.id for d in await db.disagreements_of(site.db.reader, handover_id) if d.status != "resolved"]


async def test_a_disagreement_written_in_the_checklist_blocks_approval_and_shows_to_the_approver(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    rmgr = await site.as_user("rmgr")
    view = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    assert "None recorded" not in view and ABOUT in view
    assert view.index(ABOUT) < view.index("Approve the transfer") if "Approve the transfer" in view else True
    refused = await act(rmgr, handover_id, "approve")
    assert refused.status_code == 409 and "professional disagreement is still open" in refused.text
    row = (await report(site))[handover_id]
    assert "1 open professional disagreement, not yet resolved" in row.blockers
    assert handover_id in await report(site, blocker="open_disagreement")


async def test_escalating_never_resolves_only_a_resolution_unblocks(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    rmgr = await site.as_user("rmgr")
    [disagreement] = await open_ids(site, handover_id)
    url = f"/handovers/{handover_id}/disagreements/{disagreement}"
    escalation = {"decision": "escalated", "outcome": "Escalated to the heads of both services", "stage": "manager"}
    escalation |= dated(today())
    assert (await rmgr.post(url, escalation)).status_code == 303
    assert (await act(rmgr, handover_id, "approve")).status_code == 409
    assert handover_id in await report(site, blocker="open_disagreement")
    lower = await rmgr.post(url, escalation | {"stage": "informal"})
    assert lower.status_code == 400 and "Select a stage above ‘Escalated to managers’" in lower.text
    assert (await rmgr.post(url, {"decision": "resolved", "outcome": "CASP-R assessment agreed"})).status_code == 303
    assert handover_id not in await report(site, blocker="open_disagreement")
    assert (await act(rmgr, handover_id, "approve")).status_code == 303
    again = await rmgr.post(url, {"decision": "resolved", "outcome": "Twice"})
    assert again.status_code in (404, 409), "a resolved disagreement cannot be decided again"


async def test_resubmission_does_not_track_the_same_row_twice(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "returned", "mia", answers=CASE_M_DISAGREEMENT)
    out = await actor(site.db, site.world, "out")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    await actions.act(
        site.db, CHECKLISTS, out, handover_id, Action.SUBMIT, view.handover.version, reply="Nothing needed to change."
    )
    assert len(await db.disagreements_of(site.db.reader, handover_id)) == 1


async def test_a_disagreement_past_its_stages_limit_is_overdue_on_the_page_the_report_and_the_export(
    site: Site,
) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    fresh = await handover_in(site.db, site.world, "acknowledged", "c1", answers=CASE_M_DISAGREEMENT)
    rmgr = await site.as_user("rmgr")
    [disagreement] = await open_ids(site, handover_id)
    async with site.db.transaction() as conn:  # it has been open, informally, for six weeks
        since = (today() - timedelta(days=42)).isoformat()
        await conn.execute("UPDATE disagreements SET stage_since = ? WHERE id = ?", (since, disagreement))
    long_ago = today() - timedelta(days=30)  # six weeks of working days at most: over the 5 allowed at "manager"
    escalation = {"decision": "escalated", "outcome": "To managers", "stage": "manager"} | dated(long_ago)
    assert (await rmgr.post(f"/handovers/{handover_id}/disagreements/{disagreement}", escalation)).status_code == 303
    days = working_days_between(long_ago, today())
    sentence = (
        f"A professional disagreement is overdue at ‘Escalated to managers’: {days} working days since "
        f"{long_ago.day} {long_ago:%B %Y}, against a limit of 5"
    )
    assert sentence in (await report(site))[handover_id].blockers
    assert set(await report(site, blocker="overdue_disagreement")) == {handover_id}
    assert fresh in await report(site, blocker="open_disagreement")
    page = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    assert "Overdue</strong>" in page and f"{days} working days, against a limit of 5" in page
    auditor = await site.as_user("aud")
    export = await auditor.get("/audit/incomplete/csv?blocker=overdue_disagreement")
    assert export.status_code == 200 and "overdue at ‘Escalated to managers’" in export.text
    filtered = (await auditor.get("/audit/incomplete?blocker=overdue_disagreement")).text
    assert f"#{handover_id}<" in filtered and f"#{fresh}<" not in filtered
    issued = await tokens(site)
    [shown] = (await call(site, issued["api_rmgr"], "GET", f"/handovers/{handover_id}")).json()["disagreements"]
    assert shown["status"] == "escalated" and shown["stage"] == "manager" and shown["overdue"] == sentence
    assert shown["from_checklist"] is True and shown["stage_since"] == long_ago.isoformat()


def test_the_escalation_ladder_and_its_limits_come_from_the_checklist() -> None:
    ladder = CHECKLIST.escalation_ladder
    assert [stage.value for stage in ladder] == ["informal", "manager", "head_of_service", "safeguarding_partnership"]
    assert all(stage.working_days for stage in ladder)
    assert rules.first_stage(CHECKLIST) == "informal"
    assert [s.value for s in rules.stages_above(CHECKLIST, "head_of_service")] == ["safeguarding_partnership"]
    assert rules.escalation_stage_errors(CHECKLIST, "manager", "manager")
    assert rules.escalation_stage_errors(CHECKLIST, "manager", "nonsense")
    assert rules.escalation_stage_errors(CHECKLIST, "manager", "head_of_service") == {}


@pytest.mark.parametrize("stage", [s.value for s in CHECKLIST.escalation_ladder])
def test_a_disagreement_is_overdue_only_after_its_stages_limit(stage: str) -> None:
    limit = next(s.working_days for s in CHECKLIST.escalation_ladder if s.value == stage)
    assert limit is not None
    on = date(2026, 11, 30)
    cutoff = date.fromisoformat(rules.overdue_before(CHECKLIST, on)[stage])
    assert working_days_between(cutoff, on) == limit + 1
    assert working_days_between(cutoff + timedelta(days=1), on) <= limit
    assert rules.overdue_at(CHECKLIST, stage, cutoff.isoformat(), on) is not None
    assert rules.overdue_at(CHECKLIST, stage, (cutoff + timedelta(days=1)).isoformat(), on) is None
    listed = rules.RECORD.join(f"{stage}{rules.UNIT}{day.isoformat()}" for day in (cutoff, on))
    assert len(rules.overdue(CHECKLIST, listed, on)) == 1


def test_rows_of_the_checklist_are_read_as_disagreements() -> None:
    answers = CASE_M_DISAGREEMENT["disagreements"]
    from tests.helpers import complete

    found = rules.from_answers(CHECKLIST, complete(disagreements=answers))
    assert [(d.about, d.stage) for d in found] == [(ABOUT, "informal")]
    assert rules.from_answers(CHECKLIST, complete()) == [], "answering 'No' records none"


async def test_a_manager_cannot_escalate_with_a_stage_off_the_ladder(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    rmgr = await actor(site.db, site.world, "rmgr")
    [disagreement] = await open_ids(site, handover_id)
    with pytest.raises(Invalid) as refused:
        await actions.decide_disagreement(site.db, CHECKLISTS, rmgr, handover_id, disagreement, decision="escalated",
                                          outcome="Up", stage="Stage 2", stage_date=today().isoformat())  # fmt: skip
    assert refused.value.errors == {"stage": "Select the stage the disagreement has been escalated to"}
    rec = await actor(site.db, site.world, "rec")
    with pytest.raises(Refused):
        await actions.decide_disagreement(site.db, CHECKLISTS, rec, handover_id, disagreement, decision="resolved",
                                          outcome="Mine", stage="", stage_date="")  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('next_step_by = "next_step_by"', 'next_step_by = "when"', "next_step_by field 'when' is not in that group"),
        ('stage = "stage"', 'stage = "about"', "field 'about': stage must be a radios field"),
        ('group = "disagreements"', 'group = "risks"', "group 'risks' is not in that section"),
        ('label = "Escalated to managers" }', 'label = "Escalated to managers", working_days = 5 }',
         "option 'manager': working_days: time limits live in checklists/time-limits/, not in a checklist"),
        ('{ value = "high", label = "High" }', '{ value = "high", label = "High", working_days = 3 }',
         "field 'rating': option 'high': working_days: time limits live in checklists/time-limits/"),
    ],
)  # fmt: skip
def test_a_bad_disagreement_definition_stops_start_up_naming_where(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ChecklistError, match=re.escape(message)):
        load_file(checklist_changed(tmp_path, 1, old, new))


async def test_an_escalation_cannot_be_dated_before_the_stage_it_escalates_from(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    rmgr = await site.as_user("rmgr")
    [disagreement] = await open_ids(site, handover_id)
    url = f"/handovers/{handover_id}/disagreements/{disagreement}"
    early = {"decision": "escalated", "outcome": "To managers", "stage": "manager"} | dated(date(2019, 10, 1))
    refused = await rmgr.post(url, early)
    assert refused.status_code == 400
    assert "The date of the escalation must be on or after" in refused.text
    assert [d.stage for d in await db.disagreements_of(site.db.reader, handover_id)] == ["informal"]


async def test_the_time_at_a_stage_counts_from_when_the_checklist_says_it_was_reached(site: Site) -> None:
    v2 = CHECKLISTS[("case-transfer", 2)]
    out = await actor(site.db, site.world, "out")
    handover_id = await actions.start_handover(
        site.db, out, v2, case_id=site.world.cases["mia"], receiving_team_id=site.world.teams["cp"],
        receiver_id=site.world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    reached = today() - timedelta(days=60)
    row = {**CASE_M_DISAGREEMENT["disagreements"]["disagreements_rows"][0], "stage_reached_on": reached.isoformat()}
    disagreements = {"any_disagreements": "yes", "disagreements_rows": [row]}
    given = complete_answers(v2, today(), **{"case-summary": MIA_ON_RECORD, "disagreements": disagreements})
    for section_id, answers in given.items():
        _, errors = await actions.save_section(site.db, CHECKLISTS, out, handover_id, section_id, answers, 0,
                                               finished=True)  # fmt: skip
        assert not errors, errors
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    await actions.act(site.db, CHECKLISTS, out, handover_id, Action.SUBMIT, view.handover.version)
    [tracked] = await db.disagreements_of(site.db.reader, handover_id)
    assert tracked.stage_since == reached.isoformat()
    row_of_report = (await report(site))[handover_id]
    assert any(b.startswith("A professional disagreement is overdue at ‘Informal") for b in row_of_report.blockers)
