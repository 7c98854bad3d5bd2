"""The allocation-history data return: each child's allocations (worker, team, from, to, the handover that moved it),
as CSV in the column names of Ofsted's Annex A and as JSON in the shape of the DfE children's social care data feed.

Pure: rows arrive as `AllocationRecord`s from the store; this module names the columns and keys once and shapes each
row, so the command line and the auditors' download write the same return.

Sources of the names:
- CSV: Ofsted's "Annex A" child-level lists (the inspection of local authority children's services) carry the
  columns "Child Unique ID", "Allocated Team" and "Allocated Worker" (lists 3 to 9), spelt as the councils' shared
  Annex A tooling standardises them (Social Finance's liia-tools, `liiatools/spec/annex_a/la-agg.yml`). Annex A has
  no columns for an allocation's dates or cause, so "Allocated From", "Allocated To", "Moved By Handover" and
  "Reason" are this service's, in the same style.
- JSON: the DfE children's social care (CSC) data feed (the DfE's CSC API pilot, whose payloads councils build with
  data-to-insight's `dfe-csc-api-data-flows`) gives each child, by `la_child_id`, a list `social_worker_details`
  of `{worker_id, start_date, end_date}` (dates as YYYY-MM-DD). Its published specification was not found to check
  against, so this follows the payloads that tooling builds; `worker_name`, `team`, `handover_id` and `reason` are
  added keys of this service, and `start_date`/`end_date` are dates in England. In that tooling the list sits inside
  each of the child's `social_care_episodes`; this service holds no episodes of care, so it is on the child's record.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any, Literal

import msgspec

from service.core.clock import date_in_england
from service.core.report import safe_cell

# Why an allocation began. Each store write that moves a case's allocation names one (`db.allocations`).
AllocationReason = Literal[
    "opened",  # the case was added to the service, allocated to its first worker
    "imported",  # the case came in by `handover import` from a case management system's file
    "handover",  # a closed handover: approved by the receiving team's manager
    "urgent",  # an urgent transfer authorised by the head of service, before sign-off
    "held_pending_transfer",  # its worker left: held by the team's manager until it is handed over
    "reallocated",  # moved directly by the store, not through any of the above
    "before_history",  # allocated before this history was kept, and how is not on record
]
REASON_LABELS: dict[str, str] = {
    "opened": "Case opened",
    "imported": "Case imported",
    "handover": "Handover closed",
    "urgent": "Urgent transfer",
    "held_pending_transfer": "Held pending transfer after the worker left",
    "reallocated": "Reallocated",
    "before_history": "Allocated before this history was kept",
}

# The CSV's columns: (the record's field, the heading). The first three are Annex A's, spelt as Annex A spells them.
CSV_COLUMNS: list[tuple[str, str]] = [
    ("child_reference", "Child Unique ID"),
    ("team", "Allocated Team"),
    ("worker", "Allocated Worker"),
    ("allocated_from", "Allocated From"),
    ("allocated_to", "Allocated To"),
    ("handover_id", "Moved By Handover"),
    ("reason", "Reason"),
]

# The JSON's keys, as the DfE CSC data feed names them (the child's, then each allocation's).
CHILD_KEY = "la_child_id"
DETAILS_KEY = "social_worker_details"
WORKER_KEYS = ("worker_id", "start_date", "end_date")

# media types (Litestar adds the charset to text/* itself)
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv", "json": "application/json"}

# What the filters mean for this return, said once for the page's help text and the command's.
FILTERS_HELP = (
    "The allocation history follows the report's team and sibling group filters: a team means the whole history of"
    " every child whose case that team has held or is transferring (sending or receiving); a sibling group means"
    " the whole history of the children in it. The report's other filters are about open handovers, not a child's"
    " history, so they do not apply."
)


class AllocationFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which children's allocation histories the return holds (each child's whole history): all, or those of the
    children whose case one team has held or is transferring, or those of one sibling group's children; `scope` (set
    from the signed-in person by `report.report_scope`, never from the query) limits it to children whose case one of
    those teams has held or is transferring, None for every team."""

    team_id: int | None = None
    sibling_group_id: int | None = None
    scope: frozenset[int] | None = None
    receiving_only: frozenset[int] = frozenset()  # `report.report_receiving_only`: set from the person, never asked


class AllocationRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One allocation as stored: `allocated_from` and `allocated_to` are UTC timestamps (ISO 8601), `allocated_to`
    None while it is the case's current allocation; `handover_id` None when no handover moved it."""

    case_id: int
    child_reference: str
    worker_id: int
    worker: str
    team_id: int
    team: str
    allocated_from: str
    allocated_to: str | None
    handover_id: int | None
    reason: str


def _day(stamp: str | None) -> str:
    """A stored UTC timestamp as the date in England (YYYY-MM-DD), '' for none."""
    return date_in_england(stamp).isoformat() if stamp else ""


def csv_header() -> list[str]:
    return [heading for _, heading in CSV_COLUMNS]


def csv_cells(record: AllocationRecord) -> list[str]:
    """One allocation's CSV cells, in `CSV_COLUMNS` order: dates in England, the reason in words, every cell
    formula-safe (`report.safe_cell`), as a worker's or a team's name may begin with `=`."""
    values: dict[str, object] = {
        "child_reference": record.child_reference,
        "team": record.team,
        "worker": record.worker,
        "allocated_from": _day(record.allocated_from),
        "allocated_to": _day(record.allocated_to),
        "handover_id": record.handover_id if record.handover_id is not None else "",
        "reason": REASON_LABELS.get(record.reason, record.reason),
    }
    return [safe_cell(values[field]) for field, _ in CSV_COLUMNS]


def worker_details(record: AllocationRecord) -> dict[str, Any]:
    """One allocation as an item of the feed's `social_worker_details`: the feed's keys, then this service's."""
    return {
        "worker_id": str(record.worker_id),
        "start_date": _day(record.allocated_from),
        "end_date": _day(record.allocated_to) or None,
        "worker_name": record.worker,
        "team": record.team,
        "handover_id": record.handover_id,
        "reason": record.reason,
    }


async def csv_chunks(records: AsyncIterator[AllocationRecord], batch: int = 500) -> AsyncIterator[bytes]:
    """The CSV return: RFC 4180 (CRLF line ends), UTF-8 with a byte-order mark so spreadsheets read names right, a
    chunk per `batch` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_header())
    yield b"\xef\xbb\xbf" + _taken(buffer).encode()
    count = 0
    async for record in records:
        writer.writerow(csv_cells(record))
        count += 1
        if count % batch == 0:
            yield _taken(buffer).encode()
    yield _taken(buffer).encode()


def _taken(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def json_chunks(records: AsyncIterator[AllocationRecord]) -> AsyncIterator[bytes]:
    """The JSON return: one array of the feed's child records, `{la_child_id, social_worker_details}`, from
    allocations ordered by case (each case's together, oldest first), a chunk per child, so a long history is never
    held whole."""
    yield b"["
    child: dict[str, Any] | None = None
    case_id: int | None = None
    first = True
    async for record in records:
        if record.case_id != case_id:
            if child is not None:
                yield (b"" if first else b",") + msgspec.json.encode(child)
                first = False
            child, case_id = {CHILD_KEY: record.child_reference, DETAILS_KEY: []}, record.case_id
        assert child is not None
        child[DETAILS_KEY].append(worker_details(record))
    if child is not None:
        yield (b"" if first else b",") + msgspec.json.encode(child)
    yield b"]"


CHUNKS = {"csv": csv_chunks, "json": json_chunks}
