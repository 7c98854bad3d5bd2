"""Professional disagreements raised on a handover and decided by a team manager: who may, what each decision
stores (a resolution keeps the stage reached; an escalation goes up the ladder, from a date on or after the stage
was reached), the exact sentences that refuse, and the audit entry each writes."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.core.clock import today
from service.core.errors import Conflict, Invalid, NotFound, Refused
from tests.conftest import World
from tests.helpers import CHECKLISTS, actor, handover_in

pytestmark = pytest.mark.anyio

ABOUT = "Whether the mother can protect Mia if Liam comes home."
WITH_WHOM = "Designated safeguarding lead, Hillside Primary School"
VIEW = "The school thinks supervised contact at home is safe; we do not."
INFORMAL = "Informal discussion between professionals"


async def last_seq(database: db.Database) -> int:
    entries = await db.audit_entries(database.reader, limit=100_000)
    return entries[-1].entry.seq if entries else 0


async def written_since(database: db.Database, seq: int) -> list[tuple[Any, ...]]:
    return [
        (e.entry.action, e.entry.actor_id, e.entry.object_type, e.entry.object_id, e.entry.details)
        for e in await db.audit_entries(database.reader, after_seq=seq)
    ]


async def raise_one(database: db.Database, world: World, who: str, handover_id: int, **given: str) -> int:
    text = {"about": ABOUT, "with_whom": WITH_WHOM, "view_text": VIEW} | given
    return await actions.raise_disagreement(
        database, CHECKLISTS, await actor(database, world, who), handover_id, **text
    )


async def decide(database: db.Database, world: World, who: str, handover_id: int, disagreement_id: int, **given: str):
    chosen = {"decision": "resolved", "outcome": "Agreed", "stage": "", "stage_date": ""} | given
    await actions.decide_disagreement(
        database, CHECKLISTS, await actor(database, world, who), handover_id, disagreement_id, **chosen
    )


async def only(database: db.Database, handover_id: int) -> db.Disagreement:
    [disagreement] = await db.disagreements_of(database.reader, handover_id)
    return disagreement


async def reached_on(database: db.Database, disagreement_id: int, day: str) -> None:
    """As if the disagreement had reached its stage on `day`."""
    async with database.transaction() as conn:
        await conn.execute("UPDATE disagreements SET stage_since = ? WHERE id = ?", (day, disagreement_id))


# ---------------------------------------------------------------- raising


async def test_a_raised_disagreement_is_stored_trimmed_at_the_lowest_stage_from_today_and_audited(
    database: db.Database, world: World
) -> None:
    handover_id = await handover_in(database, world, "submitted", "mia")
    before = await last_seq(database)
    disagreement_id = await raise_one(
        database, world, "rec", handover_id, about=f"  {ABOUT}\n", with_whom=f" {WITH_WHOM} ", view_text=f"\t{VIEW}  "
    )
    stored = await only(database, handover_id)
    assert stored.id == disagreement_id and stored.handover_id == handover_id
    assert (stored.about, stored.with_whom, stored.view) == (ABOUT, WITH_WHOM, VIEW)
    assert (stored.raised_by, stored.raised_by_name) == (world.users["rec"], "Rec")
    assert (stored.status, stored.stage, stored.stage_since) == ("open", "informal", today().isoformat())
    assert (stored.checklist_key, stored.next_step, stored.next_step_by) == ("", "", "")
    assert (stored.outcome, stored.stage_date, stored.decided_by_name, stored.decided_at) == ("", "", None, None)
    assert await written_since(database, before) == [
        ("raise_disagreement", world.users["rec"], "handover", handover_id, {"disagreement": disagreement_id})
    ]


async def test_a_disagreement_needs_what_it_is_about_with_whom_and_the_view(
    database: db.Database, world: World
) -> None:
    handover_id = await handover_in(database, world, "submitted", "mia")
    before = await last_seq(database)
    with pytest.raises(Invalid) as refused:
        await raise_one(database, world, "out", handover_id, about=" ", with_whom="", view_text="\n")
    assert refused.value.errors == {
        "about": "Enter what the disagreement is about",
        "with_whom": "Enter who you disagree with",
        "view": "Enter your view",
    }
    assert await db.disagreements_of(database.reader, handover_id) == []
    assert await last_seq(database) == before


async def test_who_a_disagreement_is_with_fits_on_one_line_of_at_most_200_characters(
    database: db.Database, world: World
) -> None:
    handover_id = await handover_in(database, world, "submitted", "mia")
    with pytest.raises(Invalid) as refused:
        await raise_one(database, world, "out", handover_id, with_whom="x" * 201)
    assert refused.value.errors == {"with_whom": "Who you disagree with must be 200 characters or fewer"}
    await raise_one(database, world, "out", handover_id, with_whom="x" * 200)
    assert (await only(database, handover_id)).with_whom == "x" * 200


@pytest.mark.parametrize(
    ("state", "who", "reasons"),
    [
        ("draft", "out", ["This cannot be done now: the handover is draft"]),
        ("closed", "out", ["This cannot be done now: the handover is closed"]),
        ("submitted", "other", ["Only people involved in this handover can record a disagreement"]),
        ("submitted", "omgr", ["Only people involved in this handover can record a disagreement"]),
    ],
)
async def test_only_people_on_an_open_submitted_handover_raise_a_disagreement(
    database: db.Database, world: World, state: str, who: str, reasons: list[str]
) -> None:
    handover_id = await handover_in(database, world, state, "mia")
    before = await last_seq(database)
    with pytest.raises(Refused) as refused:
        await raise_one(database, world, who, handover_id)
    assert refused.value.reasons == reasons
    assert await db.disagreements_of(database.reader, handover_id) == []
    assert await last_seq(database) == before


async def test_a_disagreement_on_no_such_handover_is_not_found(database: db.Database, world: World) -> None:
    with pytest.raises(NotFound):
        await raise_one(database, world, "out", 999)


# ---------------------------------------------------------------- resolving


async def test_a_resolution_keeps_the_stage_reached_and_is_audited_with_it(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    await reached_on(database, disagreement_id, "2025-01-06")
    before = await last_seq(database)
    # a stage given with a resolution is not checked and not kept
    await decide(database, world, "rmgr", handover_id, disagreement_id, outcome="  CASP-R assessment agreed \n",
                 stage="head_of_service", stage_date="nonsense")  # fmt: skip
    stored = await only(database, handover_id)
    assert (stored.status, stored.outcome, stored.decided_by_name) == ("resolved", "CASP-R assessment agreed", "Rmgr")
    assert (stored.stage, stored.stage_since, stored.stage_date) == ("informal", "2025-01-06", "")
    assert stored.decided_at is not None
    assert await written_since(database, before) == [
        ("disagreement_resolved", world.users["rmgr"], "handover", handover_id,
         {"disagreement": disagreement_id, "stage": "informal"}),
    ]  # fmt: skip


async def test_the_sending_manager_may_resolve_too(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "submitted", "mia")
    disagreement_id = await raise_one(database, world, "out", handover_id)
    await decide(database, world, "smgr", handover_id, disagreement_id)
    assert (await only(database, handover_id)).status == "resolved"


async def test_a_resolved_disagreement_cannot_be_decided_again(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    await decide(database, world, "rmgr", handover_id, disagreement_id, outcome="First")
    before = await last_seq(database)
    escalation = {"decision": "escalated", "stage": "manager", "stage_date": today().isoformat()}
    for decision in ({"outcome": "Second"}, escalation):
        with pytest.raises(Conflict):
            await decide(database, world, "rmgr", handover_id, disagreement_id, **decision)
    assert (await only(database, handover_id)).outcome == "First"
    assert await last_seq(database) == before


@pytest.mark.parametrize("who", ["rec", "out", "other", "aud"])
async def test_only_a_team_manager_decides(database: db.Database, world: World, who: str) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    before = await last_seq(database)
    with pytest.raises(Refused) as refused:
        await decide(database, world, who, handover_id, disagreement_id)
    assert refused.value.reasons == ["Only a team manager can resolve or escalate a disagreement"]
    assert (await only(database, handover_id)).status == "open"
    assert await last_seq(database) == before


async def test_a_disagreement_of_another_handover_is_not_found(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    other_id = await handover_in(database, world, "acknowledged", "c1")
    disagreement_id = await raise_one(database, world, "rec", other_id)
    before = await last_seq(database)
    with pytest.raises(NotFound) as refused:
        await decide(database, world, "rmgr", handover_id, disagreement_id)
    assert str(refused.value) == f"disagreement {disagreement_id}"
    assert (await only(database, other_id)).status == "open"
    assert await last_seq(database) == before


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        ({"decision": ""}, {"decision": "Select whether the disagreement is resolved or escalated"}),
        ({"decision": "Resolved"}, {"decision": "Select whether the disagreement is resolved or escalated"}),
        ({"outcome": "  "}, {"outcome": "Enter the resolution, or what was decided at escalation"}),
        ({"outcome": "x" * 2001}, {"outcome": "The resolution must be 2,000 characters or fewer"}),
    ],
)
async def test_a_decision_needs_a_known_decision_and_an_outcome(
    database: db.Database, world: World, given: dict[str, str], errors: dict[str, str]
) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    before = await last_seq(database)
    with pytest.raises(Invalid) as refused:
        await decide(database, world, "rmgr", handover_id, disagreement_id, **given)
    assert refused.value.errors == errors
    assert (await only(database, handover_id)).status == "open"
    assert await last_seq(database) == before


# ---------------------------------------------------------------- escalating


async def test_an_escalation_moves_the_stage_up_from_its_date_stays_open_and_is_audited(
    database: db.Database, world: World
) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    await reached_on(database, disagreement_id, "2025-01-06")
    before = await last_seq(database)
    await decide(database, world, "rmgr", handover_id, disagreement_id, decision="escalated",
                 outcome=" To the heads of both services ", stage="manager", stage_date="2025-01-06")  # fmt: skip
    stored = await only(database, handover_id)
    assert (stored.status, stored.outcome, stored.decided_by_name) == (
        "escalated", "To the heads of both services", "Rmgr"
    )  # fmt: skip
    assert (stored.stage, stored.stage_date, stored.stage_since) == ("manager", "2025-01-06", "2025-01-06")
    assert await written_since(database, before) == [
        ("disagreement_escalated", world.users["rmgr"], "handover", handover_id,
         {"disagreement": disagreement_id, "stage": "manager"}),
    ]  # fmt: skip
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.open_disagreements == 1


async def test_a_second_escalation_must_go_above_the_first(database: db.Database, world: World) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    await reached_on(database, disagreement_id, "2025-01-06")
    first = {"decision": "escalated", "outcome": "Up", "stage": "manager", "stage_date": "2025-02-03"}
    await decide(database, world, "rmgr", handover_id, disagreement_id, **first)
    with pytest.raises(Invalid) as refused:
        await decide(database, world, "rmgr", handover_id, disagreement_id, **first)
    assert refused.value.errors == {
        "stage": "Select a stage above ‘Escalated to managers’, the stage it has already reached"
    }
    with pytest.raises(Invalid) as early:
        await decide(database, world, "rmgr", handover_id, disagreement_id,
                     **(first | {"stage": "head_of_service", "stage_date": "2025-02-02"}))  # fmt: skip
    assert early.value.errors == {
        "stage_date-day": "The date of the escalation must be on or after 3 February 2025, when the disagreement "
        "reached ‘Escalated to managers’"
    }
    await decide(database, world, "rmgr", handover_id, disagreement_id,
                 **(first | {"stage": "head_of_service", "stage_date": "2025-02-03"}))  # fmt: skip
    stored = await only(database, handover_id)
    assert (stored.status, stored.stage, stored.stage_since) == ("escalated", "head_of_service", "2025-02-03")


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        ({"stage": "informal"},
         {"stage": f"Select a stage above ‘{INFORMAL}’, the stage it has already reached"}),
        ({"stage": ""}, {"stage": "Select the stage the disagreement has been escalated to"}),
        ({"stage": "Stage 2"}, {"stage": "Select the stage the disagreement has been escalated to"}),
        ({"stage_date": ""}, {"stage_date-day": "Enter the date of the escalation"}),
        ({"stage_date": "2025-01-05"},
         {"stage_date-day": "The date of the escalation must be on or after 6 January 2025, when the disagreement "
                            f"reached ‘{INFORMAL}’"}),
        ({"stage_date": "2999-01-01"}, {"stage_date-day": "The date of the escalation must be today or in the past"}),
        # a date with its own problem gets only that message, however early it is
        ({"stage_date": "1899-12-31"}, {"stage_date-year": "The date of the escalation must be after 1900"}),
        ({"outcome": "", "stage": "informal", "stage_date": "2025-01-05"},
         {"outcome": "Enter the resolution, or what was decided at escalation",
          "stage": f"Select a stage above ‘{INFORMAL}’, the stage it has already reached",
          "stage_date-day": "The date of the escalation must be on or after 6 January 2025, when the disagreement "
                            f"reached ‘{INFORMAL}’"}),
    ],
)  # fmt: skip
async def test_an_escalation_goes_up_the_ladder_on_a_date_from_the_stage_reached(
    database: db.Database, world: World, given: dict[str, str], errors: dict[str, str]
) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    await reached_on(database, disagreement_id, "2025-01-06")
    before = await last_seq(database)
    escalation = {"decision": "escalated", "outcome": "Up", "stage": "manager", "stage_date": "2025-01-06"} | given
    with pytest.raises(Invalid) as refused:
        await decide(database, world, "rmgr", handover_id, disagreement_id, **escalation)
    assert refused.value.errors == errors
    stored = await only(database, handover_id)
    assert (stored.status, stored.stage, stored.stage_since) == ("open", "informal", "2025-01-06")
    assert await last_seq(database) == before


async def test_an_escalation_from_a_stage_off_the_ladder_may_go_to_any_stage(
    database: db.Database, world: World
) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    disagreement_id = await raise_one(database, world, "rec", handover_id)
    async with database.transaction() as conn:
        await conn.execute("UPDATE disagreements SET stage = 'level 2', stage_since = 'unknown' WHERE id = ?",
                           (disagreement_id,))  # fmt: skip
    await decide(database, world, "rmgr", handover_id, disagreement_id, decision="escalated", outcome="Up",
                 stage="informal", stage_date="2025-01-06")  # fmt: skip
    stored = await only(database, handover_id)
    assert (stored.stage, stored.stage_since) == ("informal", "2025-01-06")
