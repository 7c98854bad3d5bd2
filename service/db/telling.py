"""Who has been told of the new worker: the family's notices and the agency contacts (migration 21). Each write is
called inside the action's transaction that makes it, with its audit entry (`service.actions.telling`)."""

from __future__ import annotations

import msgspec

from service.core.telling import BY_THE_SERVICE
from service.db.engine import Conn, _insert, _one, _rows
from service.db.records import record


class FamilyNotice(msgspec.Struct, frozen=True):
    id: int
    handover_id: int
    told: str  # who was told ('' for a reason not told)
    method: str  # core.telling.FAMILY_METHODS, or core.telling.NOT_TOLD
    told_on: str | None  # ISO date in England
    note: str  # the reason not told
    recorded_by: int
    recorded_at: str  # UTC
    recorded_by_name: str


class AgencyContact(msgspec.Struct, frozen=True):
    id: int
    handover_id: int
    checklist_key: str
    agency: str
    name: str
    role: str
    email: str
    told_method: str | None  # core.telling.AGENCY_METHOD_LABELS; None: not yet told
    told_on: str | None  # ISO date in England
    told_by: int | None
    note: str
    not_told_reason: str | None
    outbox_id: int | None
    link_nonce: str | None
    link_expires_at: str | None  # UTC
    acknowledged_at: str | None  # UTC
    acknowledged_how: str | None
    told_by_name: str | None
    email_sent_at: str | None  # when the outbox delivered the service's e-mail (None: not yet, or not by e-mail)

    @property
    def settled(self) -> bool:
        """Told, or with a reason why not: nothing more stops closure."""
        return self.told_method is not None or self.not_told_reason is not None


async def add_family_notice(
    conn: Conn, handover_id: int, *, told: str, method: str, told_on: str | None, note: str, user_id: int, now: str
) -> int:
    return await _insert(
        conn,
        "INSERT INTO family_notices (handover_id, told, method, told_on, note, recorded_by, recorded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (handover_id, told, method, told_on, note, user_id, now),
    )


async def family_notices_of(conn: Conn, handover_id: int) -> list[FamilyNotice]:
    rows = await _rows(
        conn,
        "SELECT n.*, u.name AS recorded_by_name FROM family_notices n JOIN users u ON u.id = n.recorded_by"
        " WHERE n.handover_id = ? ORDER BY n.id",
        (handover_id,),
    )
    return [record(row, FamilyNotice) for row in rows]


_CONTACT_SELECT = """
    SELECT ac.*, u.name AS told_by_name, o.sent_at AS email_sent_at
    FROM agency_contacts ac LEFT JOIN users u ON u.id = ac.told_by LEFT JOIN outbox o ON o.id = ac.outbox_id
"""


async def agency_contacts_of(conn: Conn, handover_id: int) -> list[AgencyContact]:
    rows = await _rows(conn, _CONTACT_SELECT + " WHERE ac.handover_id = ? ORDER BY ac.id", (handover_id,))
    return [record(row, AgencyContact) for row in rows]


async def agency_contact(conn: Conn, handover_id: int, contact_id: int) -> AgencyContact | None:
    row = await _one(conn, _CONTACT_SELECT + " WHERE ac.handover_id = ? AND ac.id = ?", (handover_id, contact_id))
    return record(row, AgencyContact) if row else None


async def agency_contact_by_nonce(conn: Conn, nonce: str) -> AgencyContact | None:
    row = await _one(conn, _CONTACT_SELECT + " WHERE ac.link_nonce = ?", (nonce,))
    return record(row, AgencyContact) if row else None


async def track_agency_contact(
    conn: Conn, handover_id: int, *, key: str, agency: str, name: str, role: str, email: str
) -> int | None:
    """Add a professional the handover's multi-agency network lists; None when the same row (`key`) is tracked
    already (a resubmission), whose e-mail address is then brought up to date while they are not yet told."""
    existing = await _one(
        conn, "SELECT id FROM agency_contacts WHERE handover_id = ? AND checklist_key = ?", (handover_id, key)
    )
    if existing is not None:
        await conn.execute(
            "UPDATE agency_contacts SET role = ?, email = ? WHERE id = ? AND told_method IS NULL"
            " AND not_told_reason IS NULL",
            (role, email, existing["id"]),
        )
        return None
    return await _insert(
        conn,
        "INSERT INTO agency_contacts (handover_id, checklist_key, agency, name, role, email) VALUES (?, ?, ?, ?, ?, ?)",
        (handover_id, key, agency, name, role, email),
    )


async def mark_agency_emailed(
    conn: Conn, contact_id: int, *, told_on: str, user_id: int, outbox_id: int, nonce: str, expires_at: str
) -> bool:
    cursor = await conn.execute(
        "UPDATE agency_contacts SET told_method = ?, told_on = ?, told_by = ?, outbox_id = ?, link_nonce = ?,"
        " link_expires_at = ? WHERE id = ? AND told_method IS NULL AND not_told_reason IS NULL",
        (BY_THE_SERVICE, told_on, user_id, outbox_id, nonce, expires_at, contact_id),
    )
    return cursor.rowcount == 1


async def mark_agency_told(conn: Conn, contact_id: int, *, method: str, told_on: str, note: str, user_id: int) -> bool:
    cursor = await conn.execute(
        "UPDATE agency_contacts SET told_method = ?, told_on = ?, told_by = ?, note = ?"
        " WHERE id = ? AND told_method IS NULL AND not_told_reason IS NULL",
        (method, told_on, user_id, note, contact_id),
    )
    return cursor.rowcount == 1


async def mark_agency_not_told(conn: Conn, contact_id: int, *, reason: str, user_id: int) -> bool:
    cursor = await conn.execute(
        "UPDATE agency_contacts SET not_told_reason = ?, told_by = ?"
        " WHERE id = ? AND told_method IS NULL AND not_told_reason IS NULL",
        (reason, user_id, contact_id),
    )
    return cursor.rowcount == 1


async def use_acknowledgement_link(conn: Conn, nonce: str, *, now: str) -> bool:
    """Mark the link used and the professional's acknowledgement given, once: False when it was used already or has
    expired (checked again here, inside the write, so two clicks at once acknowledge once)."""
    cursor = await conn.execute(
        "UPDATE agency_contacts SET acknowledged_at = ?, acknowledged_how = 'link'"
        " WHERE link_nonce = ? AND acknowledged_at IS NULL AND link_expires_at > ?",
        (now, nonce, now),
    )
    return cursor.rowcount == 1


async def work_email(conn: Conn, user_id: int) -> str:
    """A person's work e-mail address ('' when none is kept): the new worker's, in an agency's e-mail."""
    row = await _one(conn, "SELECT email FROM users WHERE id = ?", (user_id,))
    return str(row["email"]) if row else ""
