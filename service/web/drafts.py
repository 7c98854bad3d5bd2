"""No lost work when a session times out: a section form that arrives after its session ended is kept, and saved as
a draft as soon as its author signs in again (and only if they may still edit it)."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import msgspec
from litestar import Request
from litestar.datastructures import Cookie, FormMultiDict
from litestar.response import Redirect

from service import actions, db
from service.core.workflow import Refused
from service.web import forms
from service.web.common import checklists, database, settings

PENDING_COOKIE = "handover-pending"
SIGNED_IN_COOKIE = "handover-signed-in"  # says only that this browser had signed in; it grants nothing
KEEP_SECONDS = 3600
SECTION_FORM = re.compile(r"^/handovers/(\d+)/sections/([a-z0-9-]+)$")


async def keep(request: Request[Any, Any, Any]) -> Redirect | None:
    """Keep a section form posted by a browser whose session has ended; None if this is not such a request."""
    had_session = request.cookies.get(SIGNED_IN_COOKIE) == "1"
    if request.method != "POST" or not had_session or not SECTION_FORM.match(request.url.path):
        return None
    form = await request.form()
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str) and key != "_csrf_token"]
    token = secrets.token_urlsafe(32)
    async with database(request).transaction() as conn:
        await db.keep_pending_draft(conn, token, request.url.path, msgspec.json.encode(items).decode(), time.time())
    response = Redirect("/sign-in?resume=1", status_code=303)
    response.set_cookie(
        Cookie(
            key=PENDING_COOKIE,
            value=token,
            max_age=KEEP_SECONDS,
            httponly=True,
            samesite="lax",
            secure=settings(request).secure_cookies,
            path="/",
        )
    )
    return response


async def resume(request: Request[Any, Any, Any], token: str, user_id: int) -> str | None:
    """Save the kept form for the person who has just signed in; returns where to show it, or None."""
    async with database(request).transaction() as conn:
        pending = await db.take_pending_draft(conn, token, time.time() - KEEP_SECONDS)
    match = SECTION_FORM.match(pending[0]) if pending else None
    if pending is None or match is None:
        return None
    handover_id, section_id = int(match.group(1)), match.group(2)
    form = FormMultiDict(msgspec.json.decode(pending[1], type=list[tuple[str, str]]))
    reader = database(request).reader
    user = await db.user_by_id(reader, user_id)
    view = await actions.load(reader, checklists(request), handover_id)
    section = view.checklist.section(section_id) if view else None
    if user is None or section is None:
        return None
    actor = actions.actor_for(user, await db.memberships(reader, user_id))
    version = int(str(form.get("version", "0"))) if str(form.get("version", "0")).isdigit() else 0
    try:
        await actions.save_section(
            database(request),
            checklists(request),
            actor,
            handover_id,
            section_id,
            forms.parse_section(section, form),
            version,
            finished=False,
        )
    except (Refused, db.NotFound):
        return None  # someone else signed in on this browser: their own work only
    except db.Conflict:
        return f"/handovers/{handover_id}/sections/{section_id}?resumed=conflict"
    return f"/handovers/{handover_id}/sections/{section_id}?resumed=saved"
