"""The receiving worker confirms each critical item in their own words: what is checked, what is stored, what the
audit trail keeps, and that a refused confirmation stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.actions.demo import CASE_M_DISAGREEMENT, CASE_M_LIKE, complete_answers
from service.core.clock import today
from service.core.errors import Conflict, Invalid, NotFound, Refused
from service.core.workflow import Action
from tests.conftest import World
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete, on_record, on_record_of

pytestmark = pytest.mark.anyio

READBACK = "I will visit Mia this week and keep the no-contact safety plan in place."
OPEN_RISKS_WHY = (
    "A serious case review (Case M) found the risk got lost when the case changed hands, and abuse seen as something "
    "that had ended happened again."
)
SIBLING_HARM_WHY = (
    "A serious case review (Case M) found that sexual abuse between siblings was treated as a family matter that had "
    "ended"
)


async def endorsed(
    database: db.Database,
    world: World,
    *,
    receiver: str | None = "rec",
    version: int = 1,
    answers: Any = None,
    case: str = "mia",
) -> int:
    """A handover of `case` from North to CP, endorsed by smgr: sent to `receiver`, or to the team with None."""
    people = {name: await actor(database, world, name) for name in ("out", "smgr")}
    checklist = CHECKLISTS[("case-transfer", version)]
    handover_id = await actions.start_handover(
        database, people["out"], checklist, case_id=world.cases[case], receiving_team_id=world.teams["cp"],
        receiver_id=world.users[receiver] if receiver else None, apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    overrides = {**CASE_M_LIKE, **(answers or {}), "case-summary": on_record_of(case)}
    for section_id, section_answers in complete_answers(checklist, today(), **overrides).items():
        _, errors = await actions.save_section(
            database, CHECKLISTS, people["out"], handover_id, section_id, section_answers, 0, finished=True
        )
        assert not errors, errors
    for who, action in (("out", Action.SUBMIT), ("smgr", Action.ENDORSE)):
        await actions.act(
            database, CHECKLISTS, people[who], handover_id, action, await version_of(database, handover_id)
        )
    return handover_id


async def version_of(database: db.Database, handover_id: int) -> int:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    return handover.version


async def last_seq(database: db.Database) -> int:
    entries = await db.audit_entries(database.reader, limit=100_000)
    return entries[-1].entry.seq if entries else 0


async def written_since(
    database: db.Database, seq: int
) -> list[tuple[str, int | None, str, int | None, dict[str, Any]]]:
    return [
        (e.entry.action, e.entry.actor_id, e.entry.object_type, e.entry.object_id, e.entry.details)
        for e in await db.audit_entries(database.reader, after_seq=seq)
    ]


async def confirm(
    database: db.Database, world: World, who: str, handover_id: int, section_id: str, readback: str, **kwargs: Any
) -> None:
    await actions.confirm_item(
        database, CHECKLISTS, await actor(database, world, who), handover_id, section_id,
        kwargs.pop("version", None) or await version_of(database, handover_id),
        understood=kwargs.pop("understood", True), readback=readback,
    )  # fmt: skip


async def test_the_receivers_words_are_stored_trimmed_and_kept_in_the_audit_trail(
    database: db.Database, world: World
) -> None:
    handover_id = await endorsed(database, world)
    before = await last_seq(database)
    await confirm(database, world, "rec", handover_id, "open-risks", f"  \n{READBACK}\t \n")
    stored = await db.confirmations_of(database.reader, handover_id)
    assert list(stored) == ["open-risks"]
    assert (stored["open-risks"].user_id, stored["open-risks"].readback) == (world.users["rec"], READBACK)
    assert await written_since(database, before) == [
        ("confirm", world.users["rec"], "handover", handover_id, {"section": "open-risks", "readback": READBACK})
    ]
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.receiver_id == world.users["rec"] and handover.state == "endorsed"


async def test_confirming_again_replaces_the_stored_words_and_keeps_both_in_the_audit_trail(
    database: db.Database, world: World
) -> None:
    handover_id = await endorsed(database, world)
    before = await last_seq(database)
    second = "Liam stays with foster carers and every contact with Mia is supervised by them."
    await confirm(database, world, "rec", handover_id, "sibling-harm", READBACK)
    await confirm(database, world, "rec", handover_id, "sibling-harm", second)
    assert (await db.confirmations_of(database.reader, handover_id))["sibling-harm"].readback == second
    assert [details["readback"] for _, _, _, _, details in await written_since(database, before)] == [READBACK, second]


async def test_a_handover_sent_to_a_team_is_taken_on_by_the_first_worker_who_confirms(
    database: db.Database, world: World
) -> None:
    handover_id = await endorsed(database, world, receiver=None)
    before = await last_seq(database)
    await confirm(database, world, "rec2", handover_id, "open-risks", READBACK)
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.receiver_id == world.users["rec2"]
    rec2 = world.users["rec2"]
    assert await written_since(database, before) == [
        ("take_on", rec2, "handover", handover_id, {}),
        ("confirm", rec2, "handover", handover_id, {"section": "open-risks", "readback": READBACK}),
    ]
    middle = await last_seq(database)
    await confirm(database, world, "rec2", handover_id, "sibling-harm", READBACK)
    assert [entry[0] for entry in await written_since(database, middle)] == ["confirm"], "taken on once only"
    with pytest.raises(Refused) as refused:
        await confirm(database, world, "rec", handover_id, "cp-category", READBACK)
    assert refused.value.reasons == ["Only the receiving worker can do this"]


async def test_a_named_receiver_is_not_taken_on_again(database: db.Database, world: World) -> None:
    handover_id = await endorsed(database, world, receiver="rec")
    before = await last_seq(database)
    await confirm(database, world, "rec", handover_id, "open-risks", READBACK)
    assert [entry[0] for entry in await written_since(database, before)] == ["confirm"]


@pytest.mark.parametrize("section_id", ["case-summary", "arrangements", "no-such-section", "disagreements"])
async def test_only_a_critical_item_can_be_confirmed(database: db.Database, world: World, section_id: str) -> None:
    """The disagreements section is critical only when some are recorded; the handover records none."""
    handover_id = await endorsed(database, world)
    before = await last_seq(database)
    with pytest.raises(NotFound) as refused:
        await confirm(database, world, "rec", handover_id, section_id, READBACK)
    assert str(refused.value) == f"critical item {section_id}"
    assert await db.confirmations_of(database.reader, handover_id) == {}
    assert await last_seq(database) == before


async def test_the_disagreements_section_is_confirmed_when_it_records_one(database: db.Database, world: World) -> None:
    handover_id = await endorsed(database, world, answers=CASE_M_DISAGREEMENT)
    await confirm(database, world, "rec", handover_id, "disagreements", READBACK)
    assert list(await db.confirmations_of(database.reader, handover_id)) == ["disagreements"]


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("rec2", "Only the receiving worker can do this"),
        ("rmgr", "Only the receiving worker can do this"),
        ("out", "Only the receiving worker can do this"),
    ],
)
async def test_only_the_named_receiver_confirms(database: db.Database, world: World, who: str, reason: str) -> None:
    handover_id = await endorsed(database, world)
    before = await last_seq(database)
    with pytest.raises(Refused) as refused:
        await confirm(database, world, who, handover_id, "open-risks", READBACK)
    assert refused.value.reasons == [reason]
    assert await db.confirmations_of(database.reader, handover_id) == {}
    assert await last_seq(database) == before


async def test_the_author_cannot_take_on_a_handover_sent_to_their_own_team(database: db.Database, world: World) -> None:
    out = await actor(database, world, "out")
    handover_id = await actions.start_handover(
        database, out, CHECKLIST, case_id=world.cases["mia"], receiving_team_id=world.teams["north"],
        receiver_id=None, apart_reason=APART, transfer_reason="Change of worker",
    )  # fmt: skip
    for section_id, section_answers in (await on_record(database, handover_id, complete(**CASE_M_LIKE))).items():
        await actions.save_section(
            database, CHECKLISTS, out, handover_id, section_id, section_answers, 0, finished=True
        )
    await actions.act(database, CHECKLISTS, out, handover_id, Action.SUBMIT, await version_of(database, handover_id))
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    before = await last_seq(database)
    with pytest.raises(Refused) as refused:
        await confirm(database, world, "out", handover_id, "open-risks", READBACK)
    assert refused.value.reasons == ["You cannot acknowledge a handover you wrote"]
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.receiver_id is None
    assert await db.confirmations_of(database.reader, handover_id) == {}
    assert await last_seq(database) == before


async def test_nothing_can_be_confirmed_before_endorsement(database: db.Database, world: World) -> None:
    out = await actor(database, world, "out")
    handover_id = await actions.start_handover(
        database, out, CHECKLIST, case_id=world.cases["c2"], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    with pytest.raises(Refused) as refused:
        await confirm(database, world, "rec", handover_id, "open-risks", READBACK)
    assert refused.value.reasons == ["This cannot be done now: the handover is draft"]
    assert await db.confirmations_of(database.reader, handover_id) == {}


async def test_nothing_can_be_confirmed_once_acknowledged(database: db.Database, world: World) -> None:
    handover_id = await endorsed(database, world)
    rec = await actor(database, world, "rec")
    for section in ("open-risks", "sibling-harm", "parenting-capacity", "cp-category"):
        await confirm(database, world, "rec", handover_id, section, READBACK)
    await actions.act(
        database, CHECKLISTS, rec, handover_id, Action.ACKNOWLEDGE, await version_of(database, handover_id)
    )
    before = await last_seq(database)
    with pytest.raises(Refused):
        await confirm(database, world, "rec", handover_id, "open-risks", "Something else I now say about the risks.")
    assert (await db.confirmations_of(database.reader, handover_id))["open-risks"].readback == READBACK
    assert await last_seq(database) == before


async def test_a_stale_version_is_a_conflict_and_stores_nothing(database: db.Database, world: World) -> None:
    handover_id = await endorsed(database, world)
    version = await version_of(database, handover_id)
    before = await last_seq(database)
    with pytest.raises(Conflict):
        await confirm(database, world, "rec", handover_id, "open-risks", READBACK, version=version - 1)
    assert await db.confirmations_of(database.reader, handover_id) == {}
    assert await last_seq(database) == before


async def test_the_receiver_must_say_they_understood(database: db.Database, world: World) -> None:
    handover_id = await endorsed(database, world)
    before = await last_seq(database)
    with pytest.raises(Invalid) as refused:
        await confirm(database, world, "rec", handover_id, "open-risks", READBACK, understood=False)
    assert refused.value.errors == {"understood-open-risks": "Confirm you have read and understood ‘Open risks’"}
    assert await db.confirmations_of(database.reader, handover_id) == {}
    assert await last_seq(database) == before


async def test_the_minimum_length_is_the_checklists_own(database: db.Database, world: World) -> None:
    """Version 1 asks for 20 characters, version 2 for 30: 25 characters in five words pass one and not the other."""
    words = "I visit Mia on Monday now"
    assert len(words) == 25
    first = await endorsed(database, world, version=1)
    await confirm(database, world, "rec", first, "open-risks", words)
    second = await endorsed(database, world, version=2, case="c1")
    with pytest.raises(Invalid) as refused:
        await confirm(database, world, "rec", second, "open-risks", words)
    assert refused.value.errors == {
        "readback-open-risks": "Write, in your own words, what you are taking on from ‘Open risks’ (at least 30 "
        "characters)"
    }
    assert await db.confirmations_of(database.reader, second) == {}


async def test_a_readback_of_exactly_the_minimum_length_is_enough(database: db.Database, world: World) -> None:
    handover_id = await endorsed(database, world, version=2)
    words = "I will see Mia on Monday again"
    assert len(words) == 30
    await confirm(database, world, "rec", handover_id, "open-risks", f"  {words}  ")
    assert (await db.confirmations_of(database.reader, handover_id))["open-risks"].readback == words


@pytest.mark.parametrize(
    ("copied", "share"),
    [
        # the item's own answer, another item's answer, and the reasons the checklist gives for two sections
        ("Liam does not live at home; all contact is supervised by the foster carer.", "100%"),
        ("No unsupervised contact; bedroom and bathroom rules agreed with carers.", "100%"),
        (OPEN_RISKS_WHY, "100%"),
        (SIBLING_HARM_WHY, "100%"),
    ],
)
async def test_a_readback_copied_from_the_handover_is_refused(
    database: db.Database, world: World, copied: str, share: str
) -> None:
    handover_id = await endorsed(database, world)
    with pytest.raises(Invalid) as refused:
        await confirm(database, world, "rec", handover_id, "open-risks", copied)
    assert refused.value.errors == {
        "readback-open-risks": f"Your summary of ‘Open risks’ repeats the handover word for word ({share} of it is "
        "copied). Write what you are taking on in your own words: you can quote a few words"
    }
    assert await db.confirmations_of(database.reader, handover_id) == {}
