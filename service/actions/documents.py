"""Copies of a handover made for the case record: each one is in the audit trail, and names its own entry there."""

from __future__ import annotations

from typing import Literal

import msgspec

from service import db
from service.actions.handovers import Checklists, HandoverView, visible
from service.core.audit import StoredEntry
from service.core.workflow import Actor
from service.db.audit import append_audit_stored

DocumentFormat = Literal["pdf"]


class ProducedDocument(msgspec.Struct, frozen=True, kw_only=True):
    """A copy about to be made: the handover as this person may read it, and the audit entry recording the copy
    (its `hash`, SHA-256 in hex, is printed on every page so the copy can be matched to the trail)."""

    view: HandoverView
    entry: StoredEntry


async def produce_document(
    database: db.Database, checklists: Checklists, actor: Actor, handover_id: int, fmt: DocumentFormat = "pdf"
) -> ProducedDocument:
    """Record that this person is taking a copy of the whole handover out of the service (`produce_document`, object
    the handover, with the format and the checklist id and version the handover was written on), in a transaction
    of its own, before the copy is made, so that a copy that exists always has its entry; one that could not be
    made is then marked so by `document_not_made`.

    Raises `NotFound` when the person may not read the handover (the same rule as its page, `visible`), so that
    nobody learns that a handover they may not see exists; nothing is recorded then."""
    view = await visible(database.reader, checklists, actor, handover_id)
    handover = view.handover
    details = {"format": fmt, "checklist_id": handover.checklist_id, "checklist_version": handover.checklist_version}
    async with database.transaction() as conn:
        entry = await append_audit_stored(conn, actor.user_id, "produce_document", "handover", handover_id, details)
    return ProducedDocument(view=view, entry=entry)


async def document_not_made(database: db.Database, actor: Actor, handover_id: int, copy_seq: int, reason: str) -> None:
    """Record that the copy recorded as audit entry `copy_seq` was never given to the person (`produce_document_failed`,
    with the reason, cut to 200 characters), so the trail does not show a copy on file that does not exist."""
    async with database.transaction() as conn:
        await db.append_audit(
            conn, actor.user_id, "produce_document_failed", "handover", handover_id,
            {"copy": copy_seq, "reason": reason[:200]},
        )  # fmt: skip
