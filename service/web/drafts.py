"""No lost work when a session times out: the web side of `actions.drafts`. A section form posted by a browser that
had signed in, and whose session has ended, is kept; the browser is sent to sign in again, and the form is saved as
a draft once its author has."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie, FormMultiDict
from litestar.response import Redirect

from service import actions
from service.actions.drafts import KEEP_SECONDS, SECTION_FORM, FormItems
from service.checklist import Section
from service.core.answers import SectionAnswers
from service.core.errors import Invalid
from service.core.workflow import Actor
from service.web import forms
from service.web.context import checklists, database, settings

PENDING_COOKIE = "handover-pending"
# Says that the service signed this browser in (a random mark, when, and the service's signature over both); it
# grants nothing but the keeping of a form posted after the session ended, counted against the mark.
SIGNED_IN_COOKIE = "handover-signed-in"
RESUME_MESSAGES = {
    "1": "Your session had ended. What you typed has been kept: sign in again to save it as a draft.",
    "lost": "Your session had ended, and what you last typed could not be kept. Sign in again, then check the "
    "section and type your last changes again.",
}


def _signature(secret: str, mark: str, issued: str) -> str:
    return hmac.new(secret.encode(), f"handover-signed-in:{mark}:{issued}".encode(), hashlib.sha256).hexdigest()


def signed_in_cookie_value(request: Request[Any, Any, Any]) -> str:
    """A new mark for a browser that has just signed in, signed with the service's secret key."""
    mark, issued = secrets.token_urlsafe(16), str(int(time.time()))
    return f"{mark}.{issued}.{_signature(settings(request).secret_key, mark, issued)}"


def browser_mark(request: Request[Any, Any, Any]) -> str | None:
    """The mark the service gave this browser when it last signed in, if its cookie is one the service signed within
    the longest a session lasts plus `KEEP_SECONDS`; None for anything else (a browser that never signed in here, or
    a cookie made up by hand)."""
    parts = request.cookies.get(SIGNED_IN_COOKIE, "").split(".")
    if len(parts) != 3:
        return None
    mark, issued, signature = parts
    if not (issued.isascii() and issued.isdigit() and len(issued) <= 12):
        return None
    if not hmac.compare_digest(signature, _signature(settings(request).secret_key, mark, issued)):
        return None
    if time.time() - int(issued) > request.app.state.absolute_timeout + KEEP_SECONDS:
        return None
    return mark


def to_sign_in(request: Request[Any, Any, Any], url: str = "/sign-in") -> Response[Any]:
    """Send the browser to sign in again. A request htmx made (adding a row, say) is told to load the page in full
    (`HX-Redirect`): followed inside htmx, the redirect would swap the sign-in page into the form instead."""
    if request.headers.get("hx-request") == "true":
        return Response("", status_code=200, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


async def keep(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """Keep a section form posted by a browser whose session has ended; None if this is not such a request."""
    mark = browser_mark(request)
    if request.method != "POST" or mark is None or not SECTION_FORM.match(request.url.path):
        return None
    form = await request.form()
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str) and key != "_csrf_token"]
    address = request.client.host if request.client else "unknown"
    token = await actions.keep_pending_draft(database(request), request.url.path, items, kept_for=mark, address=address)
    if token is None:
        return to_sign_in(request, "/sign-in?resume=lost")
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
    """The kept form read as the section's page reads one; `Invalid` when the page would refuse it for an answer (or
    its version) sent twice."""
    form = FormMultiDict(items)
    repeated = forms.repeated_answers(section, form)
    if repeated:
        raise Invalid(repeated)
    return forms.parse_section(section, form), forms.form_number(form.get("version", "")) or 0


async def resume(request: Request[Any, Any, Any], token: str, actor: Actor) -> str | None:
    """Save the kept form for the person who has just signed in; returns where to show it, or None."""
    return await actions.resume_pending_draft(database(request), checklists(request), actor, token, _parse_kept_form)
