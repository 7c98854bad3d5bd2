"""People's identities at the council's OpenID Connect provider: (issuer, subject) -> an account here."""

from __future__ import annotations

from service.db.engine import Conn, _one, _rows, now
from service.db.people import _ABSENT
from service.db.records import User, record


async def identity_user(conn: Conn, issuer: str, subject: str) -> User | None:
    """The account this provider's subject names, if linked."""
    row = await _one(
        conn,
        f"SELECT u.*, {_ABSENT} FROM oidc_identities i JOIN users u ON u.id = i.user_id"
        " WHERE i.issuer = ? AND i.subject = ?",
        (issuer, subject),
    )
    return record(row, User) if row else None


async def unlinked_person_by_email(conn: Conn, issuer: str, email: str) -> User | None:
    """The one enabled person (not a service account) with this e-mail address, compared without regard to case, who
    has no identity at this provider yet; None when there is none, or more than one."""
    rows = await _rows(
        conn,
        f"SELECT u.*, {_ABSENT} FROM users u WHERE u.is_service = 0 AND u.disabled = 0 AND u.email <> ''"
        " AND lower(u.email) = lower(?)"
        " AND NOT EXISTS (SELECT 1 FROM oidc_identities i WHERE i.user_id = u.id AND i.issuer = ?)",
        (email, issuer),
    )
    return record(rows[0], User) if len(rows) == 1 else None


async def link_identity(conn: Conn, issuer: str, subject: str, user_id: int) -> None:
    await conn.execute(
        "INSERT INTO oidc_identities (issuer, subject, user_id, linked_at) VALUES (?, ?, ?, ?)",
        (issuer, subject, user_id, now()),
    )


async def set_groups_lost(conn: Conn, issuer: str, subject: str, lost: bool) -> bool:
    """Mark (or clear) that this identity's groups give no access any more; True if that changed."""
    sql = (
        "UPDATE oidc_identities SET groups_lost_at = ? WHERE issuer = ? AND subject = ? AND groups_lost_at IS NULL"
        if lost
        else "UPDATE oidc_identities SET groups_lost_at = NULL WHERE issuer = ? AND subject = ?"
        " AND groups_lost_at IS NOT NULL"
    )
    params = (now(), issuer, subject) if lost else (issuer, subject)
    cursor = await conn.execute(sql, params)
    return bool(cursor.rowcount)
