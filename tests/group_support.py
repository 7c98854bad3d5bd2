"""Building sibling-group handovers for the tests: started, filled in and moved through the real actions."""

from __future__ import annotations

from typing import Any

from service import actions, db
from service.actions.demo import CASE_M_LIKE, complete_answers, naming_children
from service.core.answers import SectionAnswers, case_record_values
from service.core.clock import today
from service.core.workflow import Action
from tests.helpers import CHECKLISTS, actor

V3 = CHECKLISTS[("case-transfer", 3)]
READBACK = "I take on these risks and the plan for each child."


async def add_children(database: db.Database, world: Any, names: list[str], group_name: str = "Ward family") -> int:
    """A sibling group of these children (references W-1, W-2...), allocated to "out" in the north team; each
    child's case id is added to `world.cases` by their first name, lower case; returns the group's id."""
    async with database.transaction() as conn:
        group = await db.create_sibling_group(conn, group_name)
        for number, name in enumerate(names, start=1):
            world.cases[name.split()[0].lower()] = await db.create_case(
                conn, f"W-{number}", name, "2014-02-03", world.users["out"], world.teams["north"], group
            )
    return group


async def start_group(
    database: db.Database,
    world: Any,
    case: str = "mia",
    *,
    left_out: dict[str, str] | None = None,
    receiver: str | None = "rec",
) -> int:
    """The group handover of `case`'s sibling group by "out" to "rec" in the cp team, leaving out `left_out` (by
    case name, with the reason)."""
    left = {world.cases[name]: reason for name, reason in (left_out or {}).items()}
    case_row = await db.case_by_id(database.reader, world.cases[case])
    assert case_row is not None and case_row.sibling_group_id is not None
    everyone = [child[0] for child in await db.cases_in_sibling_group(database.reader, case_row.sibling_group_id)]
    return await actions.start_group_handover(
        database, await actor(database, world, "out"), V3, case_id=world.cases[case],
        included=[case_id for case_id in everyone if case_id not in left], left_out=left,
        receiving_team_id=world.teams["cp"], receiver_id=world.users[receiver] if receiver else None,
        transfer_reason="Step-up to child protection",
    )  # fmt: skip


async def member_ids(database: db.Database, group_id: int) -> list[int]:
    return [member.handover_id for member in await db.group_members(database.reader, group_id)]


async def answers_for(database: db.Database, handover_id: int) -> dict[str, SectionAnswers]:
    """Complete Case M-like answers for one child's handover, restating their case record."""
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    summary = case_record_values(view.checklist.sections[0], view.child)
    answers = complete_answers(view.checklist, today(), **CASE_M_LIKE, **{"case-summary": summary})
    return naming_children(view.checklist, answers)


async def fill_group(
    database: db.Database, world: Any, group_id: int, *, skip: tuple[int, str] | list[tuple[int, str]] | None = None
) -> None:
    """Every section of every child's handover saved by "out": family sections once (from the first child's
    handover), child sections for each child; `skip` leaves one (handover id, section id), or each of a list of
    them, unsaved."""
    skipped = skip if isinstance(skip, list) else [skip] if skip else []
    out = await actor(database, world, "out")
    ids = await member_ids(database, group_id)
    for index, handover_id in enumerate(ids):
        for section_id, section_answers in (await answers_for(database, handover_id)).items():
            section = V3.section(section_id)
            assert section is not None
            if (section.level == "family" and index > 0) or (handover_id, section_id) in skipped:
                continue
            version = await db.section_version(database.reader, handover_id, section_id)
            await actions.save_section(
                database, CHECKLISTS, out, handover_id, section_id, section_answers, version, finished=True
            )


async def step(database: db.Database, world: Any, who: str, handover_id: int, action: Action, reason: str = "") -> Any:
    """`who` takes the step on the (group's) handover, at its current version."""
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    person = await actor(database, world, who)
    return await actions.act(database, CHECKLISTS, person, handover_id, action, view.handover.version, reason)


async def confirm_everything(database: db.Database, world: Any, group_id: int, who: str = "rec") -> None:
    """The receiver confirms every critical item: a family item once, a child's item for each child."""
    person = await actor(database, world, who)
    done_for_family: set[str] = set()
    for handover_id in await member_ids(database, group_id):
        view = await actions.load(database.reader, CHECKLISTS, handover_id)
        assert view is not None
        for item in view.critical_sections():
            if item.level == "family" and item.id in done_for_family:
                continue
            done_for_family.add(item.id) if item.level == "family" else None
            current = await actions.load(database.reader, CHECKLISTS, handover_id)
            assert current is not None
            await actions.confirm_item(
                database, CHECKLISTS, person, handover_id, item.id, current.handover.version,
                understood=True, readback=READBACK,
            )  # fmt: skip
