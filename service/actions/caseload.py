"""A team manager moves a person's caseload: every child allocated to them (or held by the team manager since they
left) is listed, and each gets their own handover, with their own receiving team and worker, started one by one
through the same start rules as any handover (`handovers.start_handover`). Nothing moves a child without one.

A manager may also record that a worker is on long-term absence: from then on the manager writes that worker's
handovers on their behalf, and any handover of theirs still to be written (a draft, or one returned to them) continues
with the manager. One already submitted keeps its author and carries on, so the manager is never on both sides.

Each change is one transaction with its audit entry naming the manager. Only managers of a team the person works in
(or whose cases they held when they left) may see or act on their caseload: for anyone else there is no such
caseload (`NotFound`). Errors raised: `Invalid` (messages by field), `NotFound`.
"""

from __future__ import annotations

import msgspec

from service import db
from service.actions.handovers import start_handover
from service.checklist import Checklist
from service.core import caseload as rules
from service.core.errors import Invalid, NotFound
from service.core.workflow import Actor
from service.db import caseload as store


class ChildOnCaseload(msgspec.Struct, frozen=True, kw_only=True):
    """A child on the caseload, and where they are now."""

    child: store.CaseloadChild
    where: rules.Where


class Caseload(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the caseload page shows about one person."""

    person: store.CaseloadPerson
    absence: store.Absence | None
    transfer: store.CaseloadTransfer | None  # the latest caseload transfer, under way or finished
    children: list[ChildOnCaseload]
    counts: rules.Counts
    waiting_on_absent: list[int]  # the absent person's handovers still to be written, which this manager may continue
    staying_with_absent: list[int]  # those this manager may not continue (they have a part in them)

    @property
    def unavailable(self) -> bool:
        return rules.unavailable(disabled=self.person.disabled, absent=self.absence is not None)

    @property
    def under_way(self) -> bool:
        return self.transfer is not None and rules.transfer_under_way(self.counts)


def _teams(actor: Actor) -> list[int]:
    return sorted(actor.manager_teams)


async def people(conn: db.Conn, actor: Actor) -> list[store.CaseloadPerson]:
    """The people whose caseloads this manager may transfer."""
    return await store.people_with_caseloads(conn, _teams(actor))


async def _person(conn: db.Conn, actor: Actor, person_id: int) -> store.CaseloadPerson:
    person = await store.person_with_caseload(conn, person_id, _teams(actor))
    if person is None:
        raise NotFound(f"caseload {person_id}")
    return person


async def caseload(conn: db.Conn, actor: Actor, person_id: int) -> Caseload:
    """A person's caseload as this manager may see it (`NotFound` if they may not)."""
    person = await _person(conn, actor, person_id)
    transfer = await store.latest_transfer(conn, person_id)
    rows = await store.caseload(conn, person_id, _teams(actor), transfer.id if transfer else None)
    children = [
        ChildOnCaseload(
            child=row, where=rules.where(on_caseload=row.on_caseload, open_handover=row.handover_id is not None)
        )
        for row in rows
    ]
    absence = await store.absence(conn, person_id)
    return Caseload(
        person=person,
        absence=absence,
        waiting_on_absent=[] if absence is None else await _passing_to(conn, actor, person_id),
        staying_with_absent=[] if absence is None else await _staying_with(conn, actor, person_id),
        transfer=transfer,
        children=children,
        counts=rules.counted([child.where for child in children]),
    )


async def start_transfer(database: db.Database, actor: Actor, person_id: int) -> int:
    """Begin a caseload transfer of this person's children in the manager's teams; returns its id. `Invalid` keyed
    transfer when one is under way or there is nothing to transfer."""
    async with database.transaction() as conn:
        loaded = await caseload(conn, actor, person_id)
        errors = rules.may_start_transfer(loaded.counts, under_way=loaded.under_way)
        if errors:
            raise Invalid({"transfer": errors[0]})
        case_ids = [c.child.id for c in loaded.children if c.where != rules.Where.MOVED]
        transfer_id = await store.create_transfer(conn, person_id, actor.user_id, case_ids)
        details = {"transfer_id": transfer_id, "cases": len(case_ids), "person": loaded.person.name}
        await db.append_audit(conn, actor.user_id, "start_caseload_transfer", "user", person_id, details)
    return transfer_id


async def start_child_handover(
    database: db.Database,
    actor: Actor,
    checklist: Checklist,
    *,
    person_id: int,
    case_id: int,
    receiving_team_id: int | None,
    receiver_id: int | None,
    transfer_reason: str,
    apart_reason: str = "",
) -> int:
    """One child's handover, started from the person's caseload transfer (which must have begun); returns its id.
    `Invalid` keyed receiving_team, receiver or transfer_reason (the start rules of every handover); `NotFound`."""
    loaded = await caseload(database.reader, actor, person_id)
    if loaded.transfer is None:
        raise Invalid({"transfer": rules.TRANSFER_NOT_STARTED})
    return await start_handover(
        database,
        actor,
        checklist,
        case_id=case_id,
        receiving_team_id=receiving_team_id,
        receiver_id=receiver_id,
        transfer_reason=transfer_reason,
        caseload_of=person_id,
        apart_reason=apart_reason,
    )


async def record_absence(database: db.Database, actor: Actor, person_id: int) -> list[int]:
    """Record the person's long-term absence: from now on the manager writes their handovers on their behalf, and
    each of their handovers in the manager's teams still to be written (`core.caseload.passes_on_absence`)
    continues with this manager; submitted ones keep their author. Returns the ids of those continued. `Invalid`
    keyed absence."""
    async with database.transaction() as conn:
        person = await _person(conn, actor, person_id)
        if person.disabled:
            raise Invalid({"absence": rules.DISABLED_NOT_ABSENT})
        if person_id == actor.user_id:
            raise Invalid({"absence": rules.NOT_YOURSELF})
        if await store.absence(conn, person_id) is not None:
            raise Invalid({"absence": rules.ALREADY_ABSENT})
        await store.record_absence(conn, person_id, actor.user_id)
        await db.append_audit(conn, actor.user_id, "record_absence", "user", person_id, {"person": person.name})
        continued = await _continue_for_absent(conn, actor, person)
    return continued


async def _passing(conn: db.Conn, actor: Actor, person_id: int) -> list[store.AuthoredHandover]:
    """The absent person's handovers in the manager's teams that are theirs to write and would pass to this manager
    (`core.caseload.passes_on_absence`)."""
    return [
        handover
        for handover in await store.authored_open_handovers(conn, person_id)
        if handover.sending_team_id in actor.manager_teams and rules.passes_on_absence(handover.sides, actor.user_id)
    ]


async def _passing_to(conn: db.Conn, actor: Actor, person_id: int) -> list[int]:
    return [handover.id for handover in await _passing(conn, actor, person_id)]


async def _staying_with(conn: db.Conn, actor: Actor, person_id: int) -> list[int]:
    """The absent person's handovers in the manager's teams still theirs to write that this manager may not continue,
    being on another side of them: another manager of the team continues them from the caseload page."""
    return [
        handover.id
        for handover in await store.authored_open_handovers(conn, person_id)
        if handover.sending_team_id in actor.manager_teams
        and handover.sides.state in rules.WITH_AUTHOR
        and not rules.passes_on_absence(handover.sides, actor.user_id)
    ]


async def _continue_for_absent(conn: db.Conn, actor: Actor, person: store.CaseloadPerson) -> list[int]:
    continued = await _passing(conn, actor, person.id)
    for handover in continued:
        await db.continue_on_behalf(conn, handover.id, actor.user_id, person.id)
        # written for whoever it already was (a leaver's handover the absent person was continuing), else for them
        details = {"on_behalf_name": handover.written_for(person.name), "author_user_id": actor.user_id, "absent": True}
        await db.append_audit(conn, actor.user_id, "continue_on_behalf", "handover", handover.id, details)
    return [handover.id for handover in continued]


async def continue_waiting(database: db.Database, actor: Actor, person_id: int) -> list[int]:
    """While a person's absence is recorded, a handover of theirs that comes back to be written (returned to them
    after the absence began) continues with this manager on their behalf, by the same rule as when the absence was
    recorded. Returns the ids continued. `Invalid` keyed absence when no absence is recorded or nothing waits."""
    async with database.transaction() as conn:
        person = await _person(conn, actor, person_id)
        if await store.absence(conn, person_id) is None:
            raise Invalid({"absence": rules.NOT_ABSENT})
        continued = await _continue_for_absent(conn, actor, person)
        if not continued:
            raise Invalid({"absence": rules.NOTHING_WAITS_ON_ABSENT})
    return continued


async def end_absence(database: db.Database, actor: Actor, person_id: int) -> None:
    """The person is back: they write their own handovers again (those the manager continued stay with the
    manager). `Invalid` keyed absence."""
    async with database.transaction() as conn:
        person = await _person(conn, actor, person_id)
        if await store.absence(conn, person_id) is None:
            raise Invalid({"absence": rules.NOT_ABSENT})
        await store.end_absence(conn, person_id)
        await db.append_audit(conn, actor.user_id, "end_absence", "user", person_id, {"person": person.name})


__all__ = [
    "Caseload",
    "ChildOnCaseload",
    "caseload",
    "continue_waiting",
    "end_absence",
    "people",
    "record_absence",
    "start_child_handover",
    "start_transfer",
]
