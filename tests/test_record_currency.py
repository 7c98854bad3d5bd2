"""Stale records never pass silently: the checklist's currency rules are judged at submission (update the record or
say why not) and again at approval, and every stale record is flagged to each person who signs off and to auditors."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from service import actions, db, reporting
from service.actions.demo import complete_answers
from service.checklist import ChecklistError, CurrencyRule, latest, load_file
from service.core import currency
from service.core.answers import SectionAnswers
from service.core.clock import today
from service.core.report import ReportFilter
from service.core.workflow import Action
from tests.conftest import Site
from tests.helpers import (
    CHECKLISTS,
    MIA_ON_RECORD,
    actor,
    checklist_changed,
    confirm_all,
    fill_all,
    form_for,
    start,
    tell_everyone,
    version_in,
)

pytestmark = pytest.mark.anyio

V2 = CHECKLISTS[("case-transfer", 2)]
CURRENT = latest(CHECKLISTS, "case-transfer")  # what the pages start: its currency rules are version 2's
ON = date(2026, 11, 30)


def answers_with(**dates: Any) -> dict[str, SectionAnswers]:
    """Complete answers to the newest version for Mia (a child on a child protection plan), with these record
    dates."""
    given = complete_answers(CURRENT, today(), **{"case-summary": {**MIA_ON_RECORD, "legal_status": ["cp_plan"]}})
    for field_id, value in dates.items():
        if field_id == "review_date":
            given["open-risks"].groups["risks"][0]["review_date"] = value
        else:
            given["record-currency"].values[field_id] = value
    return given


def stale_answers() -> dict[str, SectionAnswers]:
    return answers_with(
        chronology_updated=(today() - timedelta(days=30)).isoformat(),
        last_visit=(today() - timedelta(days=60)).isoformat(),
        assessment_date=(today() - timedelta(days=430)).isoformat(),
        review_date=(today() - timedelta(days=2)).isoformat(),
    )


def form_pieces(section_id: str, answers: SectionAnswers) -> dict[str, Any]:
    section = CURRENT.section(section_id)
    assert section is not None
    return form_for(section, answers)


async def test_stale_records_are_asked_about_at_submission_and_flagged_to_everyone(site: Site) -> None:
    out, smgr, rec, rmgr, aud = [await site.as_user(n) for n in ("out", "smgr", "rec", "rmgr", "aud")]
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    await fill_all(out, handover_id, stale_answers())
    task_list = (await out.get(f"/handovers/{handover_id}")).text
    assert task_list.count("Completed") >= len(CURRENT.sections), "a stale record is still a completed answer"

    check = (await out.get(f"/handovers/{handover_id}/check")).text
    for words in ("The chronology was last updated", "The last visit to a child on a child protection plan",
                  "The latest assessment was completed", "Risk 1: The risk&#39;s review date"):  # fmt: skip
        assert words in check, words
    refused = await out.post(f"/handovers/{handover_id}/submit", {"handover_version": version_in(check)})
    assert refused.status_code == 400 and "Update it, or say why it is not up to date" in refused.text
    assert (await db.handover_by_id(site.db.reader, handover_id)).state == "draft"  # type: ignore[union-attr]
    keys = re.findall(r'name="(stale-[^"]+)"', refused.text)
    assert len(keys) == 4, keys
    reasons = {key: "The visit was rearranged after the strategy meeting; booked for Monday." for key in keys}
    partly = await out.post(
        f"/handovers/{handover_id}/submit", {"handover_version": version_in(check), **dict(list(reasons.items())[1:])}
    )
    assert partly.status_code == 400 and "booked for Monday" in partly.text, "what was typed is kept"
    submitted = await out.post(f"/handovers/{handover_id}/submit", {"handover_version": version_in(check), **reasons})
    assert submitted.status_code == 303

    flag = "Record not up to date at submission: The chronology was last updated"
    assert flag in (await smgr.get(f"/handovers/{handover_id}/view")).text
    await smgr.post(f"/handovers/{handover_id}/endorse", {"handover_version": version_in(
        (await smgr.get(f"/handovers/{handover_id}/view")).text)})  # fmt: skip
    review = (await rec.get(f"/handovers/{handover_id}/review")).text
    assert "Records not up to date" in review and "booked for Monday" in review
    await confirm_all(rec, handover_id, "I will visit Mia on Monday and bring the chronology up to date myself.")
    review = (await rec.get(f"/handovers/{handover_id}/review")).text
    assert (
        await rec.post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(review)})
    ).status_code == 303
    assert flag in (await rmgr.get(f"/handovers/{handover_id}/view")).text

    rows, _ = await reporting.page_of_rows(site.db, CHECKLISTS, ReportFilter(blocker="stale_record"), 1, 50, today())
    assert [row.handover_id for row in rows] == [handover_id]
    assert any(b.startswith(flag) for b in rows[0].blockers)
    export = await aud.get("/audit/incomplete/csv?blocker=stale_record")
    assert export.status_code == 200 and "Record not up to date at submission" in export.text


async def test_approval_judges_the_records_again(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    await fill_all(out, handover_id, answers_with())
    check = (await out.get(f"/handovers/{handover_id}/check")).text
    assert "Records not up to date" not in check
    assert (
        await out.post(f"/handovers/{handover_id}/submit", {"handover_version": version_in(check)})
    ).status_code == 303
    people = {n: await actor(site.db, site.world, n) for n in ("smgr", "rec", "rmgr")}
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None and view.handover.record_flags == "[]"
    await actions.act(site.db, CHECKLISTS, people["smgr"], handover_id, Action.ENDORSE, view.handover.version)
    async with site.db.transaction() as conn:  # the weeks pass: the chronology is now 20 days old
        record = view.sections["record-currency"].answers
        record.values["chronology_updated"] = (today() - timedelta(days=20)).isoformat()
        await conn.execute(
            "UPDATE sections SET answers = ? WHERE handover_id = ? AND section_id = 'record-currency'",
            (msgspec_json(record), handover_id),
        )
    for section in view.critical_sections():
        current = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert current is not None
        readback = "I will see Mia this week and review her plan myself."
        await actions.confirm_item(site.db, CHECKLISTS, people["rec"], handover_id, section.id,
                                   current.handover.version, understood=True, readback=readback)  # fmt: skip
    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)
    for who, action in (("rec", Action.ACKNOWLEDGE), ("rmgr", Action.APPROVE)):
        current = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert current is not None
        await actions.act(site.db, CHECKLISTS, people[who], handover_id, action, current.handover.version)
    closed = await db.handover_by_id(site.db.reader, handover_id)
    assert closed is not None and closed.state == "closed"
    [flag] = currency.stored_flags(closed.record_flags)
    assert flag.judged_at == "approval" and flag.message.startswith("The chronology was last updated")


def msgspec_json(value: Any) -> str:
    import msgspec

    return msgspec.json.encode(value).decode()


def _rule_date(rule: CurrencyRule, stale: bool) -> str:
    if rule.not_past:
        return (ON - timedelta(days=1) if stale else ON).isoformat()
    assert rule.within is not None
    if rule.unit == "months":
        months = rule.within + (1 if stale else 0)
        year, month = divmod(ON.month - 1 - months, 12)
        return date(ON.year + year, month + 1, min(ON.day, 28)).isoformat()
    if rule.unit == "working_days":
        day, counted = ON, 0
        while counted < rule.within + (1 if stale else 0):
            day -= timedelta(days=1)
            counted += day.weekday() < 5
        return day.isoformat()
    return (ON - timedelta(days=rule.within + (1 if stale else 0))).isoformat()


@pytest.mark.parametrize("rule", V2.currency, ids=[rule.key for rule in V2.currency])
def test_each_currency_rule_flags_a_date_just_past_its_limit_and_not_one_at_it(rule: CurrencyRule) -> None:
    status = rule.when.any_of[0] if rule.when else "cin"
    for stale in (False, True):
        given = complete_answers(V2, ON, **{"case-summary": {"legal_status": [status]}})
        value = _rule_date(rule, stale)
        if rule.group:
            given[rule.section].groups[rule.group][0][rule.field] = value
        else:
            given[rule.section].values[rule.field] = value
        keys = {item.key.removesuffix(".1") for item in currency.stale_items(V2, given, ON)}
        assert (rule.key in keys) == stale, (rule.key, value, keys)


def test_a_visit_is_judged_by_the_childs_legal_status() -> None:
    fifteen_working_days_ago = _rule_date(CurrencyRule(section="", field="", within=14, unit="working_days",
                                                       what="x", source="y"), stale=True)  # fmt: skip
    for status, flagged in (("cp_plan", True), ("cin", False), ("looked_after", False)):
        given = complete_answers(V2, ON, **{"case-summary": {"legal_status": [status]}})
        given["record-currency"].values["last_visit"] = fifteen_working_days_ago
        found = [item.key for item in currency.stale_items(V2, given, ON)]
        assert any(key.startswith("record-currency.last_visit") for key in found) == flagged, status


def test_a_month_is_counted_to_the_same_day_of_the_month() -> None:
    rule = next(rule for rule in V2.currency if rule.unit == "months")
    assert currency._age(rule, date(2026, 1, 31), date(2026, 2, 27)) == 0
    assert currency._age(rule, date(2026, 1, 31), date(2026, 2, 28)) == 1, "a month from 31 January ends with February"
    assert currency._age(rule, date(2025, 11, 30), date(2026, 8, 30)) == 9
    assert currency._age(rule, date(2025, 11, 30), date(2026, 8, 29)) == 8


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('field = "chronology_updated"\nwithin', 'field = "chronology"\nwithin', "is not in the checklist"),
        ('field = "chronology_updated"\nwithin', 'field = "case_notes_finalised"\nwithin', "only a date field"),
        ('within = 14\nunit = "calendar_days"', 'within = 14\nnot_past = true\nunit = "calendar_days"', "either"),
        ('any_of = ["cin"] }', 'any_of = ["child_in_need"] }', "does not offer"),
        ('unit = "calendar_days"\nwhat', 'unit = "fortnights"\nwhat', "fortnights"),
    ],
)  # fmt: skip
def test_a_bad_currency_rule_stops_start_up_naming_where(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ChecklistError, match=re.escape(message)) as refused:
        load_file(checklist_changed(tmp_path, 2, old, new))
    assert "changed.toml" in str(refused.value)
