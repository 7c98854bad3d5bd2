"""Delivering the outbox: the sender's changes to it, each in a transaction of its own.

Taking an e-mail (its lease) and recording a failed try are the delivery's bookkeeping, kept on the e-mail's own row
and shown on the operator's outbox page; delivery itself is recorded in the audit trail, so that whether a person was
told stays provable with the rest of the record.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from service import db
from service.core import outbox as rules
from service.core.errors import Invalid, NotFound
from service.db import outbox as store


def _later(now: str, delay: timedelta) -> str:
    return (datetime.fromisoformat(now) + delay).isoformat(timespec="seconds")


async def take_next_email(database: db.Database, lease: timedelta) -> store.OutboxEmail | None:
    """The e-mail due longest, taken for `lease` (no other sender takes it before then), or None if none is due.
    The lease is committed before the e-mail is sent: after a crash it runs out and the e-mail is tried again."""
    if not await store.email_due_at(database.reader, db.now()):
        return None  # the usual answer, found without taking the write lock
    async with database.transaction() as conn:
        now = db.now()
        for email in await store.due_emails(conn, now, 1):
            if await store.claim_email(conn, email.id, now, _later(now, lease)):
                return email
    return None


async def hand_over(database: db.Database, email_id: int) -> None:
    """Record, durably and before the message goes to the mail server, that from now on it may have been delivered
    (see service.core.outbox: an e-mail is sent at most twice)."""
    async with database.transaction() as conn:
        await store.mark_in_doubt(conn, email_id)


async def record_sent(database: db.Database, email: store.OutboxEmail) -> None:
    """The mail server took the e-mail: it is sent, and the audit trail says who was told (by their id) and when."""
    async with database.transaction() as conn:
        if await store.mark_sent(conn, email.id, db.now()):
            details = {"message_id": email.message_id, "user_id": email.user_id}
            await db.append_audit(conn, None, "send_email", "email", email.id, details)


async def record_failed_try(
    database: db.Database, email: store.OutboxEmail, error: str, *, refused_after_hand_over: bool
) -> None:
    """A try failed: the e-mail stays in the outbox, tried again after the back-off (1 minute, doubling, at most an
    hour: `service.core.outbox.retry_delay`), with the error kept short for the operator's page."""
    async with database.transaction() as conn:
        now = db.now()
        await store.mark_failed(
            conn,
            email.id,
            next_attempt_at=_later(now, rules.retry_delay(email.attempts + 1)),
            error=rules.short_error(error),
            refused_after_hand_over=refused_after_hand_over,
        )


async def send_again(database: db.Database, email_id: int, *, by: int) -> None:
    """An administrator, having asked the person, lets a held e-mail (see `service.core.outbox.HELD`) be sent once
    more. Raises NotFound for no such e-mail, Invalid (keyed `email-<id>`) when it is not held."""
    async with database.transaction() as conn:
        if await store.email_by_id(conn, email_id) is None:
            raise NotFound(f"e-mail {email_id}")
        if not await store.release_held(conn, email_id, db.now()):
            raise Invalid({f"email-{email_id}": rules.NOT_HELD})
        await db.append_audit(conn, by, "send_email_again", "email", email_id)
