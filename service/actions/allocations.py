"""Taking the allocation history out: every export of it, by page or command line, is recorded like the report's."""

from __future__ import annotations

import msgspec

from service import db
from service.actions.checkpoints import write_checkpoint
from service.core.allocations import AllocationFilter
from service.settings import Settings


async def record_allocations_export(
    database: db.Database,
    settings: Settings,
    actor_id: int | None,
    allocation_filter: AllocationFilter,
    fmt: str,
    channel: str,
    os_user: str | None = None,
) -> int:
    """The export of the allocation history is itself in the audit trail: an `export` entry on "allocations" (who,
    when, which format, how and with which filter, its scope included), written before any data leaves, and the
    chain's end signed into the checkpoint file at once, as for the report (`record_export`). Returns the entry's
    sequence number, which `export_outcome` names when it records whether it all arrived.

    `actor_id` is None for the command line, run by operations, and `os_user` is then the operating-system account
    that ran it; `channel` is "web" or "command line"."""
    async with database.transaction() as conn:
        details = {"format": fmt, "via": channel, "filter": msgspec.to_builtins(allocation_filter)}
        details |= {"os_user": os_user} if os_user else {}
        entry = await db.append_audit(conn, actor_id, "export", "allocations", None, details)
    await write_checkpoint(database, settings)
    return entry.seq
