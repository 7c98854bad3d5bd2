"""The typed records the queries return, and the one way a row becomes a record."""

from __future__ import annotations

import inspect
import operator
import sqlite3
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, TypeVar

import aiosqlite
import msgspec

from service.core.answers import SectionAnswers

T = TypeVar("T")


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    username: str
    name: str
    password_hash: str
    is_auditor: bool
    is_admin: bool
    disabled: bool
    is_service: bool = False
    sessions_from_ms: int = 0  # sessions begun before this time (milliseconds since the epoch) no longer count
    absent: bool = False  # a manager has recorded their long-term absence: they may read, not write
    overseen_teams: str = ""  # comma-separated ids of the teams they oversee one step up (db.people._OVERSEES)


class Team(msgspec.Struct, frozen=True):
    id: int
    name: str


class Membership(msgspec.Struct, frozen=True):
    team_id: int
    team_name: str
    role: str


class Case(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    reference: str
    child_name: str
    date_of_birth: str
    sibling_group_id: int | None
    sibling_group: str | None
    allocated_worker_id: int
    allocated_worker: str
    allocated_team_id: int
    allocated_team: str
    open_handover_id: int | None
    received_by_handover_id: int | None  # the latest closed handover that brought the case to its allocated worker
    version: int = 1  # a correction made from an older version is refused (`actions.correct_case`)
    corrected_at: str | None = None  # when an administrator last corrected the record
    held_pending_transfer: bool = False  # held by the team manager after its worker left


class AllocatedCase(msgspec.Struct, frozen=True):
    """A case as its allocated worker's own list shows it (their landing page): the child, and the handovers the row
    links to; a full Case also names the worker and the team, who are the reader there."""

    id: int
    reference: str
    child_name: str
    date_of_birth: str
    sibling_group: str | None
    open_handover_id: int | None
    received_by_handover_id: int | None  # the latest closed handover that brought the case to its allocated worker
    held_pending_transfer: int = 0  # held by the team manager after its worker left; 0/1 keeps rows made positionally


class Handover(msgspec.Struct, frozen=True):  # positional too: `record` makes long lists of them quickly
    id: int
    case_id: int
    case_reference: str
    child_name: str
    date_of_birth: str  # ISO, from the case record
    sibling_group: str | None
    siblings_on_record: str  # JSON: [[name, reference], ...] of the other children in the sibling group
    checklist_id: str
    checklist_version: int
    state: str
    author_id: int
    author: str
    sending_team_id: int
    sending_team: str
    receiving_team_id: int
    receiving_team: str
    receiver_id: int | None
    receiver: str | None
    transfer_reason: str
    started_at: str
    submitted_at: str | None
    endorsed_by: int | None
    endorsed_at: str | None
    acknowledged_by: int | None
    acknowledged_at: str | None
    approved_by: int | None
    approved_at: str | None
    returned_reason: str | None
    returned_by: int | None
    returned_at: str | None
    state_since: str
    last_activity_at: str
    version: int
    record_flags: str  # JSON: the stale records found at submission or approval (core.currency.Flag)
    open_disagreements: int  # not yet resolved, whatever stage they have reached
    open_disagreement_stages: str  # each open one's stage and since when: see core.disagreements.UNIT and RECORD
    named_endorser: int | None  # a manager an administrator named for this step (workflow.MANAGER_STEPS)
    named_approver: int | None
    # The markers every list shows (core.case_records.markers): 0/1 rather than bool keeps rows made positionally
    held_pending_transfer: int = 0
    on_behalf_of_name: str | None = None  # the worker who left, whom the team manager continues this handover for
    record_corrected_at: str | None = None  # when the child's case record was last corrected
    group_handover_id: int | None = None  # one child's handover within a sibling group's (db.groups)
    on_behalf_of: int | None = None  # the worker's id (`on_behalf_of_name`): they keep sight of it (workflow.may_view)
    # an urgent transfer the head of service authorised before sign-off (workflow.urgent_refusals): when (UTC, ISO
    # 8601), who, and why; all None for an ordinary handover
    urgent_at: str | None = None
    urgent_by: int | None = None
    urgent_reason: str | None = None
    # who has been told (core.telling.Status): any family notice recorded (0/1), and each agency contact neither told
    # nor with a reason, as "name<US>agency" joined by <RS>
    family_told: int = 0
    agencies_waiting: str = ""


class Waiting(msgspec.Struct, frozen=True):
    """A handover as the inbox and the manager queue list it: only what a row shows (a full Handover costs a
    correlated count and three more joins a row, for columns these lists never print)."""

    id: int
    child_name: str
    author: str
    sending_team: str
    receiver_id: int | None
    receiver: str | None
    receiving_team: str
    state_since: str
    author_id: int
    endorsed_by: int | None
    acknowledged_by: int | None
    state: str
    sending_team_id: int
    receiving_team_id: int
    held_pending_transfer: int = 0  # the markers (core.case_records.markers); 0/1 keeps rows made positionally
    on_behalf_of_name: str | None = None
    started_at: str = ""  # with state_since and urgent_at, what its due date is worked out from (core.due_dates)
    urgent_at: str | None = None
    urgent_by: int | None = None  # the head of service who authorised an urgent transfer (workflow.Facts)


class Received(msgspec.Struct, frozen=True):
    """A handover as the receiving worker's list of what she received shows it: its state and parties (what the
    state machine's who-may checks read, `workflow.HandoverParties`), without the case record's details, whose
    sibling list a full Handover reads for every row."""

    id: int
    child_name: str
    state: str
    author_id: int
    author: str
    sending_team_id: int
    sending_team: str
    receiving_team_id: int
    receiving_team: str
    receiver_id: int | None
    receiver: str | None
    endorsed_by: int | None
    acknowledged_by: int | None
    open_disagreements: int
    state_since: str
    last_activity_at: str
    held_pending_transfer: int = 0  # the markers (core.case_records.markers); 0/1 keeps rows made positionally
    on_behalf_of_name: str | None = None
    started_at: str = ""  # with state_since and urgent_at, what its due date is worked out from (core.due_dates)
    urgent_at: str | None = None
    urgent_by: int | None = None  # the head of service who authorised an urgent transfer (workflow.Facts)


class Started(msgspec.Struct, frozen=True):
    """A handover as its outgoing worker's own lists show it (their landing page's handovers in progress, their
    finished ones): only what a row prints and its due date is worked out from (core.due_dates.Listed). A full
    Handover reads the sibling list, the disagreements, the named managers and who has been told for every row."""

    id: int
    child_name: str
    state: str
    receiving_team: str
    receiver: str | None
    started_at: str
    state_since: str
    last_activity_at: str
    held_pending_transfer: int = 0  # the markers (core.case_records.markers); 0/1 keeps rows made positionally
    on_behalf_of_name: str | None = None
    urgent_at: str | None = None  # when an urgent transfer was authorised (UTC, ISO 8601); None for an ordinary one


class WaitingCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many handovers wait for one person, by what they are to do next (each a number of handovers)."""

    drafts: int = 0  # started by them and not yet submitted
    returned: int = 0  # started by them and returned to them with a query
    to_acknowledge: int = 0  # endorsed to them, or to a team they work in with no worker named (their inbox)
    to_endorse: int = 0  # submitted from a team they manage (their queue)
    to_approve: int = 0  # acknowledged in a team they manage (their queue)


class SectionRecord(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    answers: SectionAnswers
    status: str
    version: int
    updated_at: str
    updated_by: int


class Confirmation(msgspec.Struct, frozen=True, kw_only=True):
    section_id: str
    user_id: int
    readback: str
    confirmed_at: str


class Disagreement(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    handover_id: int
    raised_by: int
    raised_by_name: str
    raised_at: str
    about: str
    with_whom: str
    view: str
    status: str
    stage: str
    stage_date: str
    outcome: str
    decided_by_name: str | None
    decided_at: str | None
    checklist_key: str  # "" unless a row of the checklist's disagreements section records it
    next_step: str
    next_step_by: str
    stage_since: str  # ISO date in England: when it reached its stage


class Query(msgspec.Struct, frozen=True, kw_only=True):
    """One round of a handover returned to its outgoing worker: who returned it with what query, and the reply sent
    with the resubmission (the reply's fields are None until then). Times are ISO 8601 in UTC, as stored."""

    id: int
    returned_by: int
    returned_by_name: str
    returned_at: str
    query: str
    replied_by: int | None
    replied_by_name: str | None
    replied_at: str | None
    reply: str | None


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: str
    actor: str | None
    action: str
    details: dict[str, Any]


def record(row: sqlite3.Row, kind: type[T]) -> T:
    key = (kind, tuple(row.keys()))
    build = _factories.get(key) or _factories.setdefault(key, _record_factory(kind, key[1]))
    return build(row)  # type: ignore[no-any-return]


_factories: dict[tuple[type, tuple[str, ...]], Callable[[sqlite3.Row], Any]] = {}


def _record_factory(kind: type[T], columns: tuple[str, ...]) -> Callable[[sqlite3.Row], T]:
    """How to make a `kind` from rows with these columns: a field per column of the same name, 0/1 to bool.

    The records hold only ints, strings and bools (checked here), so the Struct is made directly rather than through
    msgspec.convert on a dict of the row, which pages with long lists would pay for on every row.
    """
    fields = {field.name: field.type for field in msgspec.structs.fields(kind)}  # type: ignore[arg-type]
    if not all(t in (int, str, bool, int | None, str | None) for t in fields.values()):
        raise TypeError(f"{kind.__name__} has a field that needs converting from SQLite")
    position = {name: index for index, name in enumerate(columns)}
    positional = all(p.kind is p.POSITIONAL_OR_KEYWORD for p in inspect.signature(kind).parameters.values())
    if positional and bool not in fields.values() and set(fields) <= set(position):
        pick = operator.itemgetter(*(position[name] for name in fields))
        return lambda row: kind(*pick(row))  # positional, in field order: the quickest way to make a Struct
    names = tuple(name for name in columns if name in fields)
    flags = [name for name in names if fields[name] is bool]
    # each field's value read by its column's position, paired with the names in C
    wanted = [position[name] for name in names]
    if len(wanted) > 1:
        taken: Callable[[sqlite3.Row], Any] = operator.itemgetter(*wanted)
    else:
        taken = lambda row: tuple(row[index] for index in wanted)  # noqa: E731 (one column or none)

    def build(row: sqlite3.Row) -> T:
        values = dict(zip(names, taken(row), strict=True))
        for name in flags:
            values[name] = bool(values[name])
        return kind(**values)

    return build


class ApiToken(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    scope: str


async def in_batches(conn: Any, sql: str, params: list[Any], batch: int, shape: type[T]) -> AsyncGenerator[T, None]:
    """Every row of `sql` as a `shape` record, fetched `batch` rows at a time, so that a long export holds only a
    batch in memory. `conn` is a `Database.read_only()` connection of either database."""
    if isinstance(conn, aiosqlite.Connection):
        async with conn.execute(sql, params) as cursor:
            while rows := await cursor.fetchmany(batch):
                for row in rows:
                    yield record(row, shape)
        return
    async with aclosing(conn.batches(sql, params, batch)) as batches:
        async for rows in batches:
            for row in rows:
                yield record(row, shape)
