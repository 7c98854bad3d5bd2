"""Notifications: each person's list (with when each was read), the e-mail that told them of each (`outbox_id`,
the row `db.outbox.queue_email` queued), and who is to be told about a handover (its people, with their e-mail
addresses, whether they take a daily summary, and whether their absence is recorded).

Times are stored as UTC ISO text to the second (`engine.now`). Only enabled people, never service accounts, are
returned as people to tell.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import msgspec

from service.db.engine import Conn, _one, _rows
from service.db.handovers import _HANDOVER_SELECT
from service.db.records import Handover, record


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """An enabled person who may be told something: their teams by role, whether they are away, and how they get
    e-mail ("" when they have no address: the list only)."""

    user_id: int
    name: str
    email: str
    digest: bool  # a daily summary instead of one e-mail for each notification
    absent: bool
    worker_teams: tuple[int, ...]
    manager_teams: tuple[int, ...]


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    user_id: int
    handover_id: int | None
    kind: str
    message: str
    created_at: str
    read_at: str | None


class Pending(msgspec.Struct, frozen=True, kw_only=True):
    """A notification waiting for its person's daily summary (its kind words its line: the message names the
    child, and an e-mail must not)."""

    id: int
    user_id: int
    handover_id: int | None
    kind: str
    recipient: str


_CONTACT = """
    SELECT u.id AS user_id, u.name, u.email, u.email_digest AS digest,
           EXISTS (SELECT 1 FROM absences a WHERE a.user_id = u.id) AS absent,
           COALESCE((SELECT group_concat(m.team_id) FROM memberships m WHERE m.user_id = u.id AND m.role = 'worker'),
                    '') AS worker_teams,
           COALESCE((SELECT group_concat(m.team_id) FROM memberships m WHERE m.user_id = u.id AND m.role = 'manager'),
                    '') AS manager_teams
    FROM users u WHERE u.disabled = 0 AND u.is_service = 0
"""


def _ids(text: str) -> tuple[int, ...]:
    return tuple(sorted(int(part) for part in text.split(",") if part))


def _contact(row: sqlite3.Row) -> Contact:
    return Contact(
        user_id=int(row["user_id"]),
        name=str(row["name"]),
        email=str(row["email"]),
        digest=bool(row["digest"]),
        absent=bool(row["absent"]),
        worker_teams=_ids(str(row["worker_teams"])),
        manager_teams=_ids(str(row["manager_teams"])),
    )


async def contacts(conn: Conn, user_ids: Sequence[int], manager_of: Sequence[int] = ()) -> list[Contact]:
    """The enabled people among `user_ids`, and every enabled manager of the teams `manager_of`, by id."""
    ids = [user_id for user_id in user_ids if user_id is not None]
    people = ",".join("?" * len(ids)) or "NULL"
    teams = ",".join("?" * len(manager_of)) or "NULL"
    rows = await _rows(
        conn,
        _CONTACT + f" AND (u.id IN ({people}) OR u.id IN (SELECT m.user_id FROM memberships m"
        f" WHERE m.role = 'manager' AND m.team_id IN ({teams}))) ORDER BY u.id",
        (*ids, *manager_of),
    )
    return [_contact(row) for row in rows]


async def one_step_up(conn: Conn, team_id: int) -> int | None:
    """The manager one step up from a team's managers: its service's service manager, else the head of service
    (None when neither has an enabled account)."""
    row = await _one(
        conn,
        "SELECT COALESCE("
        " (SELECT u.id FROM teams t JOIN services s ON s.id = t.service_id JOIN users u ON u.id = s.service_manager_id"
        "   WHERE t.id = ? AND u.disabled = 0),"
        " (SELECT u.id FROM head_of_service h JOIN users u ON u.id = h.user_id WHERE u.disabled = 0)) AS up",
        (team_id,),
    )
    return int(row["up"]) if row and row["up"] is not None else None


async def open_handovers(conn: Conn) -> list[Handover]:
    """Every handover that waits on someone (neither closed nor cancelled), oldest first."""
    rows = await _rows(conn, _HANDOVER_SELECT + " WHERE h.state NOT IN ('closed', 'cancelled') ORDER BY h.id")
    return [record(r, Handover) for r in rows]


async def add_notification(
    conn: Conn,
    *,
    user_id: int,
    handover_id: int | None,
    kind: str,
    message: str,
    now: str,
    once_key: str | None = None,
) -> int | None:
    """A notification in the person's list; None (and nothing written) when one with `once_key` is there already."""
    row = await _one(
        conn,
        "INSERT INTO notifications (user_id, handover_id, kind, message, created_at, once_key)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        (user_id, handover_id, kind, message, now, once_key),
    )
    return int(row[0]) if row else None


async def link_email(conn: Conn, notification_ids: Sequence[int], outbox_id: int) -> None:
    """Record the e-mail that told the person of these notifications."""
    marks = ",".join("?" * len(notification_ids))
    await conn.execute(f"UPDATE notifications SET outbox_id = ? WHERE id IN ({marks})", (outbox_id, *notification_ids))


async def notifications_of(conn: Conn, user_id: int, limit: int, offset: int = 0) -> list[Notification]:
    """A person's notifications, newest first."""
    rows = await _rows(
        conn,
        "SELECT id, user_id, handover_id, kind, message, created_at, read_at FROM notifications WHERE user_id = ?"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (user_id, limit, offset),
    )
    return [record(r, Notification) for r in rows]


async def count_notifications(conn: Conn, user_id: int) -> int:
    row = await _one(conn, "SELECT COUNT(*) AS n FROM notifications WHERE user_id = ?", (user_id,))
    return int(row["n"]) if row else 0


async def notification_by_id(conn: Conn, notification_id: int) -> Notification | None:
    row = await _one(
        conn,
        "SELECT id, user_id, handover_id, kind, message, created_at, read_at FROM notifications WHERE id = ?",
        (notification_id,),
    )
    return record(row, Notification) if row else None


_UNREAD = "SELECT COUNT(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL"


async def unread_count(conn: Conn, user_id: int) -> int:
    """How many of the person's notifications they have not read (the partial index `notifications_unread`)."""
    row = await _one(conn, _UNREAD, (user_id,))
    return int(row["n"]) if row else 0


async def mark_read(conn: Conn, user_id: int, notification_ids: Sequence[int] | None, now: str) -> int:
    """Mark the person's unread notifications read (those among `notification_ids`, or all of them for None);
    returns how many changed."""
    if notification_ids is None:
        cursor = await conn.execute(
            "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL", (now, user_id)
        )
    else:
        marks = ",".join("?" * len(notification_ids)) or "NULL"
        cursor = await conn.execute(
            f"UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL AND id IN ({marks})",
            (now, user_id, *notification_ids),
        )
    return int(cursor.rowcount)


async def set_email_digest(conn: Conn, user_id: int, digest: bool) -> None:
    await conn.execute("UPDATE users SET email_digest = ? WHERE id = ?", (int(digest), user_id))


async def takes_digest(conn: Conn, user_id: int) -> bool:
    row = await _one(conn, "SELECT email_digest FROM users WHERE id = ?", (user_id,))
    return bool(row and row["email_digest"])


async def pending_digests(conn: Conn, before: str) -> list[Pending]:
    """The notifications created before `before` of each enabled person with an e-mail address who takes a daily
    summary, not yet e-mailed, by person and age."""
    rows = await _rows(
        conn,
        "SELECT n.id, n.user_id, n.handover_id, n.kind, u.email AS recipient FROM notifications n"
        " JOIN users u ON u.id = n.user_id"
        " WHERE n.outbox_id IS NULL AND n.created_at < ? AND u.email_digest = 1 AND u.email != ''"
        "   AND EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.role = 'manager')"
        "   AND u.disabled = 0 AND u.is_service = 0"
        " ORDER BY n.user_id, n.id",
        (before,),
    )
    return [record(r, Pending) for r in rows]


async def had_digest_since(conn: Conn, user_id: int, subject: str, since: str) -> bool:
    """Whether the person was sent a daily summary (an outbox row with its subject) at or after `since`."""
    row = await _one(
        conn,
        "SELECT 1 FROM outbox WHERE user_id = ? AND subject = ? AND created_at >= ? LIMIT 1",
        (user_id, subject, since),
    )
    return row is not None


async def email_of(conn: Conn, user_id: int) -> str:
    row = await _one(conn, "SELECT email FROM users WHERE id = ? AND disabled = 0", (user_id,))
    return str(row["email"]) if row else ""
