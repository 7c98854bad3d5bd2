"""The incomplete-handovers report as a page of rows, and as streamed CSV and JSON Lines downloads: queries and
formats only (recording an export is `actions.record_export`)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date

import msgspec

from service import db
from service.actions import Checklists
from service.core import disagreements as disagreement_rules
from service.core.due_dates import first_moment_after, limits_checklist, overdue_cutoffs
from service.core.pages import Page
from service.core.report import (
    CSV_COLUMNS,
    IncompleteRecord,
    ReportFilter,
    ReportRow,
    ReportTerms,
    csv_cells,
    latest_start_for,
    report_row,
    wait_band_cutoffs,
)

BATCH = 500
QUICK_ROWS = 150  # rows a page may step through (its offset included) and still be read on the event loop


def reader_for(database: db.Database, report_filter: ReportFilter, page: int, per_page: int) -> db.Conn:
    """Where to read a page of the report. The first pages in order of start, filtered by state or age at most, are
    read in index order and step through at most QUICK_ROWS rows: those run on the event loop like any page's
    queries. The rest run on the scanner's thread, where they do not hold up everyone else's requests: a blocker
    or overdue filter is worked out for every open handover, the other sorts and a team filter (a manager's teams
    too) sort or walk every open handover, the filters by wait, role, urgency or stage may keep few of the rows they
    step through, and a deep page steps through every row before it."""
    in_index_order = (
        report_filter.sort in ("oldest", "newest")
        and report_filter.team_id is None
        and report_filter.blocker is None
        and not report_filter.overdue
        and report_filter.waited is None
        and report_filter.waiting_for is None
        and not report_filter.urgent
        and report_filter.disagreement_stage is None
        and report_filter.scope is None
    )
    if in_index_order and page * per_page <= QUICK_ROWS:
        return database.reader
    return database.scanner


# the terms of the last few (checklists, day) pairs asked for: every request for the report on one day needs the same
# ones, and working them out (each time limit counted back in working days) was a tenth of the report page's time.
# Each entry holds its checklists, so the id in its key is never another object's while the entry is kept.
_TERMS_KEPT = 8
_terms: dict[tuple[int, date], tuple[Checklists, ReportTerms]] = {}


def report_terms(checklists: Checklists, today: date) -> ReportTerms:
    """What the report's SQL needs to know from the checklists on `today` (a date in England). The checklists are
    never changed once loaded, so the terms for one day are worked out once (`_work_out_terms`)."""
    kept = _terms.get((id(checklists), today))
    if kept is not None and kept[0] is checklists:
        return kept[1]
    terms = _work_out_terms(checklists, today)
    if len(_terms) >= _TERMS_KEPT:
        del _terms[next(iter(_terms))]  # the oldest asked for
    _terms[(id(checklists), today)] = (checklists, terms)
    return terms


def _work_out_terms(checklists: Checklists, today: date) -> ReportTerms:
    timed = limits_checklist(checklists.values())
    return ReportTerms(
        section_counts={key: len(checklist.sections) for key, checklist in checklists.items()},
        overdue_before={
            (*key, stage): cutoff
            for key, checklist in checklists.items()
            for stage, cutoff in disagreement_rules.overdue_before(checklist, today).items()
        },
        overdue_since=overdue_cutoffs(timed, today),
        due_checklist=timed,
        today=today,
        waited_since=wait_band_cutoffs(today),
    )


def started_before(report_filter: ReportFilter, today: date) -> str | None:
    """The stored time (UTC) before which a handover open at least `min_working_days` working days on `today` (in
    England) started: the first moment, in England, of the day after the latest start that has been open that long,
    so the filter keeps exactly the rows whose "Working days open" is at least the minimum."""
    if report_filter.min_working_days <= 0:
        return None
    return first_moment_after(latest_start_for(today, report_filter.min_working_days))


def _row(record: IncompleteRecord, checklists: Checklists, today: date) -> ReportRow:
    return report_row(record, checklists[(record.checklist_id, record.checklist_version)], today)


async def page_of_rows(
    database: db.Database, checklists: Checklists, report_filter: ReportFilter, page: int, per_page: int, today: date
) -> tuple[list[ReportRow], int]:
    """One page (`page` from 1, `per_page` rows) of the report and the number of rows in all; `today` in England."""
    reader = reader_for(database, report_filter, page, per_page)
    before = started_before(report_filter, today)
    counts = report_terms(checklists, today)
    total = await db.count_incomplete(reader, report_filter, before, counts)
    records = await db.incomplete_page(reader, report_filter, before, counts, Page(page, per_page, total))
    return [_row(record, checklists, today) for record in records], total


async def all_rows(
    database: db.Database, checklists: Checklists, report_filter: ReportFilter, today: date
) -> AsyncIterator[ReportRow]:
    before = started_before(report_filter, today)
    async for record in db.stream_incomplete(database, report_filter, before, report_terms(checklists, today)):
        yield _row(record, checklists, today)


async def csv_chunks(rows: AsyncIterator[ReportRow]) -> AsyncIterator[bytes]:
    """RFC 4180 CSV (CRLF line ends), UTF-8 with a byte-order mark so Excel reads names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for _, title in CSV_COLUMNS])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    count = 0
    buffer.seek(0)
    buffer.truncate()
    async for row in rows:
        writer.writerow(csv_cells(row))
        count += 1
        if count % BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def jsonl_chunks(rows: AsyncIterator[ReportRow]) -> AsyncIterator[bytes]:
    encoder = msgspec.json.Encoder()
    chunk = bytearray()
    async for row in rows:
        encoder.encode_into(row, chunk, len(chunk))
        chunk.extend(b"\n")
        if len(chunk) > 64_000:
            yield bytes(chunk)
            chunk.clear()
    yield bytes(chunk)


# Litestar adds the charset to text/* itself
FORMATS = {"csv": (csv_chunks, "text/csv"), "jsonl": (jsonl_chunks, "application/x-ndjson")}
