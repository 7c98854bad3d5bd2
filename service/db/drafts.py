"""Section forms that arrived after their session had ended, kept until their author signs in again."""

from __future__ import annotations

from service.db.engine import Conn, _one


async def clear_old_pending_drafts(conn: Conn, older_than: float) -> None:
    """Forget every kept form made before `older_than` (seconds since the epoch)."""
    await conn.execute("DELETE FROM pending_drafts WHERE created_at < ?", (older_than,))


async def pending_draft_counts(conn: Conn, kept_for: str, address: str) -> tuple[int, int]:
    """How many kept forms wait for this browser, and for this address."""
    row = await _one(
        conn,
        "SELECT (SELECT COUNT(*) FROM pending_drafts WHERE kept_for = ?) AS browser,"
        " (SELECT COUNT(*) FROM pending_drafts WHERE address = ?) AS address",
        (kept_for, address),
    )
    assert row is not None
    return int(row["browser"]), int(row["address"])


async def keep_pending_draft(
    conn: Conn, token: str, path: str, form: str, at: float, kept_for: str, address: str
) -> None:
    """Keep a form under `token` (`at` in seconds since the epoch) for the browser `kept_for`, sent from `address`."""
    await conn.execute(
        "INSERT INTO pending_drafts (token, path, form, created_at, kept_for, address) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (token) DO UPDATE SET path = excluded.path, form = excluded.form,"
        " created_at = excluded.created_at, kept_for = excluded.kept_for, address = excluded.address",
        (token, path, form, at, kept_for, address),
    )


async def take_pending_draft(conn: Conn, token: str, newer_than: float) -> tuple[str, str] | None:
    row = await _one(
        conn, "SELECT path, form FROM pending_drafts WHERE token = ? AND created_at > ?", (token, newer_than)
    )
    await conn.execute("DELETE FROM pending_drafts WHERE token = ?", (token,))
    return (str(row["path"]), str(row["form"])) if row else None
