"""Who has been told of the new worker: the family's notices and the agency contacts (migration 21). Each write is
called inside the action's transaction that makes it, with its audit entry (`service.actions.telling`)."""

from __future__ import annotations

import msgspec

from service.core.telling import BY_THE_SERVICE, NOT_TOLD
from service.db.engine import Conn, _insert, _one, _rows
from service.db.records import record

# Whether a professional (`ac`, on handover `h`) needs telling no more: a reason not told is recorded, or they were
# told of the worker the handover names now, and, if by the service's e-mail, the outbox has delivered it or they
# acknowledged it through its link (an e-mail still queued, or failing, has told nobody). The one definition: what
# stops closure, the page and every write use it.
SETTLED = (
    "(ac.not_told_reason IS NOT NULL OR (ac.told_method IS NOT NULL"
    " AND ac.told_worker_id IS NOT DISTINCT FROM h.receiver_id AND (ac.told_method <> 'email'"
    " OR ac.acknowledged_at IS NOT NULL OR EXISTS (SELECT 1 FROM outbox o"
    " WHERE o.id = ac.outbox_id AND o.sent_at IS NOT NULL))))"
)
# Whether a family notice (`fn`) counts: a reason not told, or told of the worker the handover names now.
FAMILY_CURRENT = f"(fn.method = '{NOT_TOLD}' OR fn.told_worker_id IS NOT DISTINCT FROM h.receiver_id)"


class FamilyNotice(msgspec.Struct, frozen=True):
    id: int
    handover_id: int
    told: str  # who was told ('' for a reason not told)
    method: str  # core.telling.FAMILY_METHODS, or core.telling.NOT_TOLD
    told_on: str | None  # ISO date in England
    note: str  # the reason not told
    told_worker_id: int | None  # the new worker they were told of (None for a reason not told)
    recorded_by: int
    recorded_at: str  # UTC
    recorded_by_name: str
    told_worker_name: str | None
    # told of the worker the handover names now (or a reason not told): what counts at closure (`SETTLED` below)
    current: bool


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
    told_worker_id: int | None
    note: str
    not_told_reason: str | None
    outbox_id: int | None
    link_hash: str | None
    link_expires_at: str | None  # UTC
    acknowledged_at: str | None  # UTC
    acknowledged_how: str | None
    told_by_name: str | None
    told_worker_name: str | None
    email_sent_at: str | None  # when the outbox delivered the service's e-mail (None: not yet, or not by e-mail)
    # told of the worker the handover names now, by a way that reached them, or with a reason: nothing more stops
    # closure (`SETTLED`)
    settled: bool
    # told of a worker the handover no longer names (the receiver changed since): to be told again
    told_of_previous_worker: bool


async def add_family_notice(
    conn: Conn, handover_id: int, *, told: str, method: str, told_on: str | None, note: str, user_id: int, now: str,
    told_worker_id: int | None,
) -> int:  # fmt: skip
    return await _insert(
        conn,
        "INSERT INTO family_notices (handover_id, told, method, told_on, note, told_worker_id, recorded_by,"
        " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (handover_id, told, method, told_on, note, told_worker_id, user_id, now),
    )


async def family_notices_of(conn: Conn, handover_id: int) -> list[FamilyNotice]:
    rows = await _rows(
        conn,
        "SELECT fn.*, u.name AS recorded_by_name, w.name AS told_worker_name, " + FAMILY_CURRENT + " AS current"
        " FROM family_notices fn JOIN handovers h ON h.id = fn.handover_id JOIN users u ON u.id = fn.recorded_by"
        " LEFT JOIN users w ON w.id = fn.told_worker_id WHERE fn.handover_id = ? ORDER BY fn.id",
        (handover_id,),
    )
    return [record(row, FamilyNotice) for row in rows]


_CONTACT_SELECT = (
    "SELECT ac.*, u.name AS told_by_name, w.name AS told_worker_name, o.sent_at AS email_sent_at, "
    + SETTLED
    + " AS settled, (ac.told_method IS NOT NULL AND ac.not_told_reason IS NULL AND ac.told_worker_id IS DISTINCT"
    " FROM h.receiver_id) AS told_of_previous_worker"
    " FROM agency_contacts ac JOIN handovers h ON h.id = ac.handover_id LEFT JOIN users u ON u.id = ac.told_by"
    " LEFT JOIN users w ON w.id = ac.told_worker_id LEFT JOIN outbox o ON o.id = ac.outbox_id"
)


async def agency_contacts_of(conn: Conn, handover_id: int) -> list[AgencyContact]:
    rows = await _rows(conn, _CONTACT_SELECT + " WHERE ac.handover_id = ? ORDER BY ac.id", (handover_id,))
    return [record(row, AgencyContact) for row in rows]


async def agency_contact(conn: Conn, handover_id: int, contact_id: int) -> AgencyContact | None:
    row = await _one(conn, _CONTACT_SELECT + " WHERE ac.handover_id = ? AND ac.id = ?", (handover_id, contact_id))
    return record(row, AgencyContact) if row else None


async def agency_contact_by_link(conn: Conn, link_hash: str) -> AgencyContact | None:
    """The contact whose acknowledgement link's secret has this SHA-256 (`core.tokens.token_hash`)."""
    row = await _one(conn, _CONTACT_SELECT + " WHERE ac.link_hash = ?", (link_hash,))
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
        # an e-mail went to an address since corrected: it may have reached nobody, so they are to be told again
        await conn.execute(
            "UPDATE agency_contacts SET email = ?, told_method = NULL, told_on = NULL, told_by = NULL,"
            " told_worker_id = NULL, outbox_id = NULL, link_hash = NULL, link_expires_at = NULL,"
            " acknowledged_at = NULL, acknowledged_how = NULL WHERE id = ? AND told_method = ? AND email <> ?",
            (email, existing["id"], BY_THE_SERVICE, email),
        )
        return None
    return await _insert(
        conn,
        "INSERT INTO agency_contacts (handover_id, checklist_key, agency, name, role, email) VALUES (?, ?, ?, ?, ?, ?)",
        (handover_id, key, agency, name, role, email),
    )


# A write to a professional's record happens only while they need telling (`SETTLED` does not hold); telling them
# again (of a new worker, or after an e-mail that never left) replaces what was recorded, the acknowledgement too.
_UNSETTLED = (
    " WHERE id = ? AND NOT EXISTS (SELECT 1 FROM agency_contacts ac JOIN handovers h ON h.id = ac.handover_id"
    " WHERE ac.id = agency_contacts.id AND " + SETTLED + ")"
)
_TOLD_AGAIN = "acknowledged_at = NULL, acknowledged_how = NULL, not_told_reason = NULL"


async def untrack_unlisted(conn: Conn, handover_id: int, listed_keys: list[str]) -> list[AgencyContact]:
    """Stop tracking the professionals of this handover whose key is not in `listed_keys` and who still need telling
    (`SETTLED` does not hold: never told, told of an earlier worker, or an e-mail not delivered); returns them as they
    were."""
    gone = [
        contact
        for contact in await agency_contacts_of(conn, handover_id)
        if contact.checklist_key not in listed_keys and not contact.settled
    ]
    for contact in gone:
        await conn.execute("DELETE FROM agency_contacts WHERE id = ?", (contact.id,))
    return gone


async def mark_agency_emailed(
    conn: Conn, contact_id: int, *, told_on: str, user_id: int, worker_id: int, outbox_id: int, link_hash: str,
    expires_at: str,
) -> bool:  # fmt: skip
    cursor = await conn.execute(
        "UPDATE agency_contacts SET told_method = ?, told_on = ?, told_by = ?, told_worker_id = ?, outbox_id = ?,"
        " link_hash = ?, link_expires_at = ?, note = '', " + _TOLD_AGAIN + _UNSETTLED,
        (BY_THE_SERVICE, told_on, user_id, worker_id, outbox_id, link_hash, expires_at, contact_id),
    )
    return cursor.rowcount == 1


async def mark_agency_told(
    conn: Conn, contact_id: int, *, method: str, told_on: str, note: str, user_id: int, worker_id: int
) -> bool:
    cursor = await conn.execute(
        "UPDATE agency_contacts SET told_method = ?, told_on = ?, told_by = ?, told_worker_id = ?, note = ?,"
        " outbox_id = NULL, link_hash = NULL, link_expires_at = NULL, " + _TOLD_AGAIN + _UNSETTLED,
        (method, told_on, user_id, worker_id, note, contact_id),
    )
    return cursor.rowcount == 1


async def mark_agency_not_told(conn: Conn, contact_id: int, *, reason: str, user_id: int) -> bool:
    cursor = await conn.execute(
        "UPDATE agency_contacts SET not_told_reason = ?, told_by = ?, told_method = NULL, told_on = NULL,"
        " told_worker_id = NULL, link_hash = NULL, link_expires_at = NULL" + _UNSETTLED,
        (reason, user_id, contact_id),
    )
    return cursor.rowcount == 1


async def use_acknowledgement_link(conn: Conn, link_hash: str, *, now: str) -> bool:
    """Mark the link used and the professional's acknowledgement given, once: False when it was used already or has
    expired (checked again here, inside the write, so two clicks at once acknowledge once)."""
    cursor = await conn.execute(
        "UPDATE agency_contacts SET acknowledged_at = ?, acknowledged_how = 'link'"
        " WHERE link_hash = ? AND acknowledged_at IS NULL AND link_expires_at > ?",
        (now, link_hash, now),
    )
    return cursor.rowcount == 1


async def work_email(conn: Conn, user_id: int) -> str:
    """A person's work e-mail address ('' when none is kept): the new worker's, in an agency's e-mail."""
    row = await _one(conn, "SELECT email FROM users WHERE id = ?", (user_id,))
    return str(row["email"]) if row else ""
