"""Every export of the incomplete-handovers report is in the audit trail before any data leaves (who, how, which
filter), the chain's end is signed into the checkpoint file at once, and whether it all arrived is recorded after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service import actions, db
from service.audit_trail import checkpoint_key, read_checkpoints
from service.core.audit import checkpoint_is_genuine
from service.core.report import ReportFilter
from service.settings import Settings
from tests.conftest import World

pytestmark = pytest.mark.anyio

FILTER = ReportFilter(team_id=2, team_side="sending", state="submitted", blocker="awaiting_endorsement",
                      min_working_days=3, sort="newest")  # fmt: skip
FILTER_AS_RECORDED = {"team_id": 2, "team_side": "sending", "state": "submitted", "blocker": "awaiting_endorsement",
                      "min_working_days": 3, "sort": "newest", "sibling_group_id": None,
                      "overdue": False, "waited": None, "waiting_for": None, "urgent": False,
                      "disagreement_stage": None, "scope": None, "receiving_only": []}  # fmt: skip


async def entries(database: db.Database, after: int = 0) -> list[tuple[Any, ...]]:
    return [
        (e.entry.seq, e.entry.action, e.entry.actor_id, e.entry.object_type, e.entry.object_id, e.entry.details)
        for e in await db.audit_entries(database.reader, after_seq=after)
    ]


async def last_seq(database: db.Database) -> int:
    found = await db.audit_entries(database.reader, limit=100_000)
    return found[-1].entry.seq if found else 0


async def test_an_export_is_recorded_with_who_how_and_the_filter_and_its_entry_signed_at_once(
    database: db.Database, world: World, settings: Settings
) -> None:
    before = await last_seq(database)
    seq = await actions.record_export(database, settings, world.users["aud"], FILTER, "csv", "web")
    assert seq == before + 1
    assert await entries(database, before) == [
        (
            seq,
            "export",
            world.users["aud"],
            "report",
            None,
            {"format": "csv", "via": "web", "filter": FILTER_AS_RECORDED},
        )
    ]
    [stored] = await db.audit_entries(database.reader, after_seq=before)
    checkpoint = read_checkpoints(settings.checkpoint_file)[-1]
    assert (checkpoint.seq, checkpoint.hash) == (seq, stored.hash)
    assert checkpoint_is_genuine(checkpoint_key(settings), checkpoint)


async def test_an_export_from_the_command_line_names_no_person(
    database: db.Database, world: World, settings: Settings
) -> None:
    before = await last_seq(database)
    seq = await actions.record_export(database, settings, None, ReportFilter(), "json", "command line")
    default_filter = {"team_id": None, "team_side": "either", "state": None, "blocker": None, "min_working_days": 0,
                      "sort": "oldest", "sibling_group_id": None, "overdue": False,
                      "waited": None, "waiting_for": None, "urgent": False, "disagreement_stage": None,
                      "scope": None, "receiving_only": []}  # fmt: skip
    assert await entries(database, before) == [
        (seq, "export", None, "report", None, {"format": "json", "via": "command line", "filter": default_filter})
    ]
    assert read_checkpoints(settings.checkpoint_file)[-1].seq == seq


async def test_each_export_gets_its_own_checkpoint(database: db.Database, world: World, settings: Settings) -> None:
    first = await actions.record_export(database, settings, world.users["aud"], FILTER, "csv", "web")
    second = await actions.record_export(database, settings, world.users["aud"], FILTER, "csv", "api")
    assert second == first + 1
    assert [c.seq for c in read_checkpoints(settings.checkpoint_file)][-2:] == [first, second]


async def test_a_delivered_export_is_recorded_against_its_entry(database: db.Database, world: World) -> None:
    before = await last_seq(database)
    async with actions.export_outcome(database, world.users["aud"], 41):
        pass
    assert await entries(database, before) == [
        (before + 1, "export_delivered", world.users["aud"], "report", None, {"export": 41})
    ]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError("No space left on device"), "No space left on device"),
        (RuntimeError("x" * 250), "x" * 200),
        (RuntimeError("y" * 200), "y" * 200),
    ],
)
async def test_a_failed_export_is_recorded_with_its_reason_and_the_error_goes_on(
    database: db.Database, world: World, error: Exception, reason: str
) -> None:
    before = await last_seq(database)
    with pytest.raises(type(error)):
        async with actions.export_outcome(database, None, 7):
            raise error
    assert await entries(database, before) == [
        (before + 1, "export_failed", None, "report", None, {"export": 7, "reason": reason})
    ]


async def test_an_export_cancelled_part_way_is_recorded_as_a_closed_connection(
    database: db.Database, world: World
) -> None:
    before = await last_seq(database)
    with pytest.raises(asyncio.CancelledError):
        async with actions.export_outcome(database, world.users["aud"], 9):
            raise asyncio.CancelledError
    assert await entries(database, before) == [
        (before + 1, "export_failed", world.users["aud"], "report", None,
         {"export": 9, "reason": "the connection was closed"}),
    ]  # fmt: skip


async def chunks(*parts: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for index, part in enumerate(parts):
        if fail_after is not None and index == fail_after:
            raise OSError("the file could not be written")
        yield part


async def test_delivering_passes_every_chunk_on_in_order_then_records_the_delivery(
    database: db.Database, world: World
) -> None:
    before = await last_seq(database)
    sent = [chunk async for chunk in actions.delivering(chunks(b"a,b\n", b"1,2\n", b""), database, 3, 12)]
    assert sent == [b"a,b\n", b"1,2\n", b""]
    assert await entries(database, before) == [(before + 1, "export_delivered", 3, "report", None, {"export": 12})]


async def test_delivering_records_a_failure_part_way(database: db.Database, world: World) -> None:
    before = await last_seq(database)
    sent: list[bytes] = []
    with pytest.raises(OSError, match="the file could not be written"):
        async for chunk in actions.delivering(chunks(b"a", b"b", b"c", fail_after=2), database, 3, 12):
            sent.append(chunk)
    assert sent == [b"a", b"b"]
    assert await entries(database, before) == [
        (before + 1, "export_failed", 3, "report", None, {"export": 12, "reason": "the file could not be written"})
    ]


async def test_delivering_records_a_reader_that_went_away(database: db.Database, world: World) -> None:
    before = await last_seq(database)
    stream = actions.delivering(chunks(b"a", b"b", b"c"), database, 3, 12)
    assert await anext(stream) == b"a"
    await stream.aclose()
    assert await entries(database, before) == [
        (before + 1, "export_failed", 3, "report", None, {"export": 12, "reason": "the connection was closed"})
    ]
