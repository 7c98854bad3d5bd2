"""Taking data out: every export of the incomplete-handovers report, by page, API or command line, is recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from service import db
from service.actions.checkpoints import write_checkpoint
from service.core.report import ReportFilter
from service.settings import Settings


async def record_export(
    database: db.Database,
    settings: Settings,
    actor_id: int | None,
    report_filter: ReportFilter,
    fmt: str,
    channel: str,
    os_user: str | None = None,
) -> int:
    """Every export is itself in the audit trail (who took which data out, when, how and with which filter), and the
    chain's end is signed into the checkpoint file at once, so the record of an export cannot quietly be removed.
    This records the attempt, before any data leaves; `export_outcome` records whether it all arrived. Returns the
    entry's sequence number, which the outcome names.

    `actor_id` is None for the command line, run by operations, and `os_user` is then the operating-system account
    that ran it (kept in the entry's details, as for the command line's other changes); `channel` is "web", "api" or
    "command line".
    """
    async with database.transaction() as conn:
        details = {"format": fmt, "via": channel, "filter": msgspec.to_builtins(report_filter)}
        details |= {"os_user": os_user} if os_user else {}
        entry = await db.append_audit(conn, actor_id, "export", "report", None, details)
    await write_checkpoint(database, settings)
    return entry.seq


@asynccontextmanager
async def export_outcome(
    database: db.Database, actor_id: int | None, export_seq: int, exported: str = "report"
) -> AsyncIterator[None]:
    """Around the sending of an export: records `export_delivered` when every byte was handed on, or `export_failed`
    (with the reason: the connection closed, the file could not be written) when it stopped part way; the error, if
    any, goes on. The record is written even when the request is being cancelled (a browser that went away).
    `exported` is the object type the `export` entry named: "report" or "allocations"."""
    try:
        yield
    except BaseException as exc:
        reason = "the connection was closed" if isinstance(exc, (asyncio.CancelledError, GeneratorExit)) else str(exc)
        await asyncio.shield(_record_outcome(database, actor_id, export_seq, "export_failed", reason[:200], exported))
        raise
    await _record_outcome(database, actor_id, export_seq, "export_delivered", "", exported)


async def _record_outcome(
    database: db.Database, actor_id: int | None, export_seq: int, action: str, reason: str, exported: str
) -> None:
    details: dict[str, object] = {"export": export_seq}
    if reason:
        details["reason"] = reason
    async with database.transaction() as conn:
        await db.append_audit(conn, actor_id, action, exported, None, details)


async def delivering(
    chunks: AsyncIterator[bytes],
    database: db.Database,
    actor_id: int | None,
    export_seq: int,
    exported: str = "report",
) -> AsyncIterator[bytes]:
    """The export's chunks, passed on as they are sent, with its outcome recorded (`export_outcome`) at the end."""
    async with export_outcome(database, actor_id, export_seq, exported):
        async for chunk in chunks:
            yield chunk
