"""The sign-out warning's server side (WCAG 2.2.1, timing adjustable): how long the session has left, a keep-alive
that extends it, and a sign-in page that says why a person was signed out when the session ended by itself.

The session middleware stores the session again on every response, which restarts its idle timeout: so any request
a page makes (a page load, an htmx request, an autosave, the keep-alive) extends it, up to the absolute limit.
`service/static/session-timeout.js` counts down from what `session_timing` says and warns before the end.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from litestar import MediaType, Request, Response, post

from service.core.timing import duration_words
from service.web.context import settings
from service.web.drafts import browser_mark

IDLE, LIMIT = "idle", "limit"  # the two ways a session ends by itself (`/sign-in?ended=...`)
# and the ways an administrator ends it: the account was disabled (a leaver), or its password was reset
DISABLED, PASSWORD_RESET = "disabled", "reset"
FOUND_BY_THE_SERVER = (LIMIT, DISABLED, PASSWORD_RESET)  # set in the request's scope (`ENDED_KEY`)
# set in the request's scope when a stored session is past its absolute limit, or its person's account is disabled
ENDED_KEY = "handover.session_ended"
# Says that the service itself found this browser's session ended, and how: signed, and believed for a few minutes
# only. The sign-in page explains a timeout only with it, so an address alone (`?ended=idle`) cannot make the page
# tell someone they were signed out.
ENDED_COOKIE = "handover-ended"
ENDED_BELIEVED_SECONDS = 300


def idle_seconds(request: Request[Any, Any, Any]) -> int:
    """How long a session lasts without a request (`HANDOVER_SESSION_IDLE_MINUTES`), in seconds."""
    return round(settings(request).session_idle_minutes * 60)


def _absolute_left(request: Request[Any, Any, Any], session: object) -> float | None:
    """Seconds until the session's absolute limit; None for a scope without a signed-in session."""
    if not isinstance(session, dict) or not isinstance(session.get("user_id"), int):
        return None
    signed_in_at = session.get("signed_in_at", 0)
    started = float(signed_in_at) if isinstance(signed_in_at, int | float) else 0.0
    return float(request.app.state.absolute_timeout) - (time.time() - started)


def session_timing(request: Request[Any, Any, Any]) -> dict[str, int]:
    """What the page's countdown starts from: the idle timeout, and the seconds left before the absolute limit."""
    left = _absolute_left(request, request.scope.get("session"))
    return {"idle": idle_seconds(request), "left": max(0, int(left if left is not None else 0))}


def ended_messages(request: Request[Any, Any, Any]) -> dict[str, str]:
    """What the sign-in page says after a session ended by itself. Only what is true: a section's answers are saved
    as they are typed only with JavaScript (autosave); a section form sent after the session ended is kept, but that
    case has its own message (`web.drafts`); text typed into any other form and not sent is not kept anywhere."""
    idle = duration_words(idle_seconds(request))
    limit = duration_words(request.app.state.absolute_timeout)
    kept = (
        "Answers that were saved before then are kept. With JavaScript on, a handover section's answers are saved "
        "as you type: check the section when you sign in again. Anything else you had typed but not sent has not "
        "been kept."
    )
    return {
        IDLE: f"You were signed out because you had not done anything for {idle}. {kept}",
        LIMIT: f"You were signed out because you had been signed in for {limit}, the longest a session can last. "
        f"{kept}",
        DISABLED: "You were signed out because your account is no longer enabled. If you still need to use Handover, "
        "ask your team manager or an administrator.",
        PASSWORD_RESET: "You were signed out because an administrator reset your password. Sign in with the new "
        "password.",
    }


def ended_by_itself(request: Request[Any, Any, Any]) -> str | None:
    """How this browser's session ended, if it ended by itself: past its absolute limit, or idle (the browser still
    carries the mark the service gave it at sign-in, which signing out removes); None otherwise."""
    ended = request.scope.get(ENDED_KEY)
    if ended in FOUND_BY_THE_SERVER:
        return str(ended)
    if browser_mark(request) is not None:
        return IDLE
    return None


def signed_in_url(request: Request[Any, Any, Any]) -> str:
    """Where a request without a live session is sent: the sign-in page (its address names how the session ended,
    for people and logs; what the page says comes from `remember_ending`'s cookie, not from the address)."""
    reason = ended_by_itself(request)
    return f"/sign-in?ended={reason}" if reason else "/sign-in"


def _ended_signature(secret: str, reason: str, issued: str) -> str:
    return hmac.new(secret.encode(), f"handover-ended:{reason}:{issued}".encode(), hashlib.sha256).hexdigest()


def remember_ending(request: Request[Any, Any, Any], response: Response[Any]) -> None:
    """When the service finds that this browser's session ended by itself, it says so in a short-lived signed cookie
    for the sign-in page to explain (`told_ending`)."""
    reason = ended_by_itself(request)
    if reason is None:
        return
    issued = str(int(time.time()))
    value = f"{reason}.{issued}.{_ended_signature(settings(request).secret_key, reason, issued)}"
    response.set_cookie(
        ENDED_COOKIE, value, max_age=ENDED_BELIEVED_SECONDS, httponly=True, samesite="lax",
        secure=settings(request).secure_cookies,
    )  # fmt: skip


def told_ending(request: Request[Any, Any, Any]) -> str | None:
    """How the session ended, from a cookie the service signed within the last few minutes; None for anything else
    (no cookie, an old one, or one made up by hand)."""
    parts = request.cookies.get(ENDED_COOKIE, "").split(".")
    if len(parts) != 3:
        return None
    reason, issued, signature = parts
    if reason not in (IDLE, *FOUND_BY_THE_SERVER) or not (issued.isascii() and issued.isdigit() and len(issued) <= 12):
        return None
    if not hmac.compare_digest(signature, _ended_signature(settings(request).secret_key, reason, issued)):
        return None
    if not 0 <= time.time() - int(issued) <= ENDED_BELIEVED_SECONDS:
        return None
    return reason


@post("/session/keep-alive", name="keep_alive", include_in_schema=False, status_code=200)
async def keep_alive(request: Request[Any, Any, Any]) -> Response[dict[str, int]]:
    """ "Stay signed in": the answer stores the session again (the middleware does, on every response), so the idle
    timeout starts over. Signed in only (otherwise the sign-in redirect), and a form post like any other, so it needs
    the CSRF token."""
    return Response(session_timing(request), media_type=MediaType.JSON)
