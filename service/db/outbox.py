"""The outbox: e-mails written in the transaction of the change that causes them, and their delivery's bookkeeping.

Times are stored as the rest of the store's are: UTC, ISO 8601 to the second (`engine.now()`), so they compare as
text. `next_attempt_at` is when the sender may next take an e-mail: queued, it is the time it was queued; while the
sender has it, the end of its lease; after a failed try, the end of the back-off.
"""

from __future__ import annotations

import uuid

import msgspec

from service.core.outbox import IN_DOUBT_LIMIT, after_release
from service.db.engine import Conn, _insert, _one, _rows
from service.db.records import record

NO_DOMAIN = "handover.invalid"  # RFC 2606: a name that is nobody's, for Message-IDs when no sender is set


class OutboxEmail(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    message_id: str  # with its angle brackets, as written in the header
    user_id: int | None
    recipient: str
    subject: str
    body_text: str
    body_html: str
    created_at: str
    attempts: int  # failed tries so far
    next_attempt_at: str
    last_error: str | None
    sent_at: str | None
    in_doubt: int  # hand-overs to the mail server whose answer the service never learned


def message_id_for(sender: str) -> str:
    """A new Message-ID, `<32 hex digits@domain>`, the domain taken from the sender's address (or `NO_DOMAIN`)."""
    domain = sender.rpartition("@")[2] if "@" in sender else NO_DOMAIN
    return f"<{uuid.uuid4().hex}@{domain or NO_DOMAIN}>"


async def queue_email(
    conn: Conn,
    *,
    user_id: int | None,
    recipient: str,
    subject: str,
    body_text: str,
    body_html: str,
    now: str,
    sender: str = "",
) -> int:
    """Put one e-mail in the outbox, due at once; returns its id. Call inside the transaction of the change that
    causes it, so that the e-mail exists exactly when the change does. Its Message-ID is fixed here, so that a resend
    after a crash is the same message; `sender` (the settings' `mail_from`) gives the Message-ID its domain."""
    return await _insert(
        conn,
        "INSERT INTO outbox (message_id, user_id, recipient, subject, body_text, body_html, created_at,"
        " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (message_id_for(sender), user_id, recipient, subject, body_text, body_html, now, now),
    )


async def due_emails(conn: Conn, now: str, limit: int) -> list[OutboxEmail]:
    """E-mails not sent whose next try is due by `now` (UTC ISO), oldest due first, leaving out those handed over
    to the mail server `IN_DOUBT_LIMIT` times without an answer (service.core.outbox: never sent a third time)."""
    rows = await _rows(
        conn,
        "SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? AND in_doubt < ?"
        " ORDER BY next_attempt_at, id LIMIT ?",
        (now, IN_DOUBT_LIMIT, limit),
    )
    return [record(row, OutboxEmail) for row in rows]


async def claim_email(conn: Conn, email_id: int, now: str, until: str) -> bool:
    """Take an e-mail for sending until `until` (a lease: no other sender takes it before then); False when it is
    no longer due (sent, or taken by another sender since it was read)."""
    cursor = await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND sent_at IS NULL AND next_attempt_at <= ?",
        (until, email_id, now),
    )
    return cursor.rowcount == 1


async def mark_in_doubt(conn: Conn, email_id: int) -> None:
    """Record, before the message is handed to the mail server, that it may be delivered from now on."""
    await conn.execute("UPDATE outbox SET in_doubt = in_doubt + 1 WHERE id = ?", (email_id,))


async def mark_sent(conn: Conn, email_id: int, now: str) -> bool:
    """The mail server took the e-mail: it is sent (and this hand-over's answer known). False if it already was."""
    cursor = await conn.execute(
        "UPDATE outbox SET sent_at = ?, in_doubt = MAX(in_doubt - 1, 0) WHERE id = ? AND sent_at IS NULL",
        (now, email_id),
    )
    return cursor.rowcount == 1


async def mark_failed(
    conn: Conn, email_id: int, *, next_attempt_at: str, error: str, refused_after_hand_over: bool = False
) -> None:
    """A try failed: one more failed attempt, the next at `next_attempt_at` (the back-off), `error` kept (already
    short). `refused_after_hand_over`: the server answered the hand-over with a refusal, so it did not take it."""
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
        " in_doubt = MAX(in_doubt - ?, 0) WHERE id = ? AND sent_at IS NULL",
        (next_attempt_at, error, 1 if refused_after_hand_over else 0, email_id),
    )


async def release_held(conn: Conn, email_id: int, now: str) -> bool:
    """Let a held e-mail be sent once more, due at `now`; False when it is not held (sent, or not yet held)."""
    cursor = await conn.execute(
        "UPDATE outbox SET in_doubt = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL AND in_doubt >= ?",
        (after_release(), now, email_id, IN_DOUBT_LIMIT),
    )
    return cursor.rowcount == 1


async def email_by_id(conn: Conn, email_id: int) -> OutboxEmail | None:
    row = await _one(conn, "SELECT * FROM outbox WHERE id = ?", (email_id,))
    return record(row, OutboxEmail) if row else None


async def email_due_at(conn: Conn, now: str) -> bool:
    """Whether any e-mail may be sent by `now`: a cheap look before taking the write lock."""
    row = await _one(
        conn,
        "SELECT 1 FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ? AND in_doubt < ? LIMIT 1",
        (now, IN_DOUBT_LIMIT),
    )
    return row is not None


async def outbox_page(conn: Conn, *, offset: int, limit: int) -> list[OutboxEmail]:
    """The outbox newest first: `limit` e-mails after the first `offset`."""
    rows = await _rows(conn, "SELECT * FROM outbox ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset))
    return [record(row, OutboxEmail) for row in rows]


async def outbox_count(conn: Conn) -> int:
    row = await _one(conn, "SELECT COUNT(*) FROM outbox")
    return int(row[0]) if row else 0
