"""The latest step taken on a handover, read from the audit log: what a confirmation page may say happened."""

from __future__ import annotations

import msgspec

from service.core.next_steps import PANEL_TITLES
from service.db.engine import Conn, _one

# The audit entries of the steps a confirmation page is shown for; reading, saving and confirming are not steps.
STEP_ACTIONS = tuple(action.value for action in PANEL_TITLES)


class LatestStep(msgspec.Struct, frozen=True, kw_only=True):
    action: str
    actor_id: int | None
    at: str


async def latest_step(conn: Conn, handover_id: int) -> LatestStep | None:
    """The handover's most recent workflow step and who took it; None before its first."""
    marks = ", ".join("?" for _ in STEP_ACTIONS)
    row = await _one(
        conn,
        "SELECT action, actor_id, at FROM audit_log WHERE object_type = 'handover' AND object_id = ?"
        f" AND action IN ({marks}) ORDER BY seq DESC LIMIT 1",
        (handover_id, *STEP_ACTIONS),
    )
    return None if row is None else LatestStep(action=row["action"], actor_id=row["actor_id"], at=row["at"])
