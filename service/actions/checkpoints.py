"""Signing where the audit chain ends, where every instance and the operator can reach it: a row in the database,
which all instances write to and `handover audit verify` reads wherever it runs, and a line in the exported file
(`settings.checkpoint_file`) that operations ship off the host."""

from __future__ import annotations

from service import db
from service.audit_trail import append_to_file, checkpoint_key
from service.core.audit import Checkpoint, another_key_message, checkpoint_is_genuine, sign_checkpoint
from service.settings import Settings


class AnotherKey(Exception):
    """This instance's secret did not sign the checkpoints already kept (`core.audit.another_key_message`)."""


async def check_signing_key(database: db.Database, settings: Settings) -> None:
    """Raise AnotherKey unless the latest checkpoint kept, if any, was signed with this instance's secret: the service
    does not start with another one (a second instance set up with a different secret would otherwise sign
    checkpoints that fail `handover audit verify` for good, since the table keeps every row)."""
    latest = await db.latest_audit_checkpoint(database.reader)
    if latest is not None and not checkpoint_is_genuine(checkpoint_key(settings), latest):
        raise AnotherKey(another_key_message(latest.seq))


async def write_checkpoint(database: db.Database, settings: Settings) -> Checkpoint | None:
    """Sign the chain's end (HMAC-SHA256 of its sequence number, hash and the time in UTC, with the key derived from
    the secret, which the database never holds) and keep it: returns that checkpoint, or None while the log is empty.

    One transaction reads the end of the chain and inserts the row, so the checkpoint names an entry committed with
    it or before it. Nothing is written when the chain has not moved since the latest checkpoint, whichever instance
    wrote it; when another instance signs the same entry at the same moment, its row stands and is returned
    (`db.insert_audit_checkpoint`). The line is appended to this instance's file only for a row this instance wrote,
    after it is committed, so a file holds each checkpoint once and never one the database has not.

    A checkpoint has no audit entry of its own: an entry would move the end of the chain it records.

    Raises OSError when the file cannot be written; the row is kept, and the next checkpoint's line covers the chain up
    to it. Raises AnotherKey, writing nothing, when the latest checkpoint kept was signed with another secret.
    """
    key = checkpoint_key(settings)
    async with database.transaction() as conn:
        seq, hash_ = await db.last_audit_entry(conn)
        if seq == 0:
            return None
        latest = await db.latest_audit_checkpoint(conn)
        if latest is not None and not checkpoint_is_genuine(key, latest):
            raise AnotherKey(another_key_message(latest.seq))
        if latest is not None and latest.seq == seq:
            return latest
        checkpoint = sign_checkpoint(key, seq, hash_, db.now())
        written = await db.insert_audit_checkpoint(conn, checkpoint)
        if not written:
            return await db.latest_audit_checkpoint(conn)
    append_to_file(settings.checkpoint_file, checkpoint)
    return checkpoint
