"""Section forms that arrived after their session had ended, kept until their author signs in again."""

from __future__ import annotations

from service.db.engine import Conn, _one


async def keep_pending_draft(conn: Conn, token: str, path: str, form: str, at: float, keep_seconds: float) -> None:
    """Keep a form under `token` (times in seconds since the epoch), clearing out every one older than
    `keep_seconds` at the same time."""
    await conn.execute("DELETE FROM pending_drafts WHERE created_at < ?", (at - keep_seconds,))
    await conn.execute(
        "INSERT OR REPLACE INTO pending_drafts (token, path, form, created_at) VALUES (?, ?, ?, ?)",
        (token, path, form, at),
    )


async def take_pending_draft(conn: Conn, token: str, newer_than: float) -> tuple[str, str] | None:
    row = await _one(
        conn, "SELECT path, form FROM pending_drafts WHERE token = ? AND created_at > ?", (token, newer_than)
    )
    await conn.execute("DELETE FROM pending_drafts WHERE token = ?", (token,))
    return (str(row["path"]), str(row["form"])) if row else None
