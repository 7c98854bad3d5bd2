"""No lost work when a session times out: the web side of `actions.drafts`. A section form posted by a browser that
had signed in, and whose session has ended, is kept; the browser is sent to sign in again, and the form is saved as
a draft once its author has."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie, FormMultiDict
from litestar.response import Redirect

from service import actions
from service.actions.drafts import KEEP_SECONDS, SECTION_FORM, FormItems
from service.checklist import Section
from service.core.answers import SectionAnswers
from service.core.workflow import Actor
from service.web import forms
from service.web.context import checklists, database, settings

PENDING_COOKIE = "handover-pending"
SIGNED_IN_COOKIE = "handover-signed-in"  # says only that this browser had signed in; it grants nothing


def to_sign_in(request: Request[Any, Any, Any], url: str = "/sign-in") -> Response[Any]:
    """Send the browser to sign in again. A request htmx made (adding a row, say) is told to load the page in full
    (`HX-Redirect`): followed inside htmx, the redirect would swap the sign-in page into the form instead."""
    if request.headers.get("hx-request") == "true":
        return Response("", status_code=200, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


async def keep(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Keep a section form posted by a browser whose session has ended; None if this is not such a request."""
    had_session = request.cookies.get(SIGNED_IN_COOKIE) == "1"
    if request.method != "POST" or not had_session or not SECTION_FORM.match(request.url.path):
        return None
    form = await request.form()
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str) and key != "_csrf_token"]
    token = await actions.keep_pending_draft(database(request), request.url.path, items)
    response = to_sign_in(request, "/sign-in?resume=1")
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


def _parse_kept_form(section: Section, items: FormItems) -> tuple[SectionAnswers, int]:
    form = FormMultiDict(items)
    return forms.parse_section(section, form), forms.form_number(form.get("version", "")) or 0


async def resume(request: Request[Any, Any, Any], token: str, actor: Actor) -> str | None:
    """Save the kept form for the person who has just signed in; returns where to show it, or None."""
    return await actions.resume_pending_draft(database(request), checklists(request), actor, token, _parse_kept_form)
