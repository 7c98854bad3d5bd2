"""Taking data out: every export of the incomplete-handovers report, by page, API or command line, is recorded."""

from __future__ import annotations

import msgspec

from service import db
from service.audit_trail import write_checkpoint
from service.core.report import ReportFilter
from service.settings import Settings


async def record_export(
    database: db.Database, settings: Settings, actor_id: int | None, report_filter: ReportFilter, fmt: str, channel: str
) -> None:
    """Every export is itself in the audit trail (who took which data out, when, how and with which filter), and the
    chain's end is signed into the checkpoint file at once, so the record of an export cannot quietly be removed.

    `actor_id` is None for the command line, run by operations; `channel` is "web", "api" or "command line".
    """
    async with database.transaction() as conn:
        details = {"format": fmt, "via": channel, "filter": msgspec.to_builtins(report_filter)}
        await db.append_audit(conn, actor_id, "export", "report", None, details)
    await write_checkpoint(database, settings)
