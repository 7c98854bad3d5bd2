"""Finding a child's handovers: the search asks the state machine about every handover it finds, with the same
question every page asks before showing one (`workflow.may_view`), so it never lists a handover the person could
not open. Nothing is written: listing handovers is not audited (no list is); opening one is."""

from __future__ import annotations

from service import db
from service.core.clock import today
from service.core.errors import Invalid
from service.core.search import like_pattern, search_errors
from service.core.workflow import Actor, facts_for, may_view


async def find_handovers(conn: db.Conn, actor: Actor, text: str) -> list[db.Found]:
    """The handovers this person may see whose child's name or case reference contains `text` (any letter case),
    most recent activity first. `Invalid` with the search box's message for a search that cannot be made."""
    errors = search_errors(text)
    if errors:
        raise Invalid(errors)
    found = await db.handovers_matching(
        conn,
        like_pattern(text),
        everyone=actor.is_auditor,
        user_id=actor.user_id,
        manager_teams=sorted(actor.manager_teams),
        worker_teams=sorted(actor.worker_teams),
    )
    now = today()
    return [handover for handover in found if may_view(facts_for(handover, now), actor)]
