"""Signing in with the council's OpenID Connect provider: the start (a redirect to the provider) and the callback.

Between the two, the state, nonce and PKCE verifier live in the browser, in a signed (itsdangerous, with the service's
secret), short-lived, HttpOnly, SameSite=Lax cookie scoped to these two addresses, cleared at the callback: nothing is
stored before the person is known. A wrong state, an error from the provider or a token that does not check out ends
on a page that says so (400 or 403), and stores nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from itsdangerous import BadSignature, URLSafeTimedSerializer
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from service import actions, oidc, throttle
from service.core import directory
from service.web import session
from service.web.context import database, page, settings

log = logging.getLogger("handover")

PENDING_COOKIE = "handover-oidc"
PENDING_PATH = "/sign-in/oidc"
PENDING_SECONDS = 600  # how long a person may take at the provider's sign-in page
_SALT = "handover.oidc-sign-in"


def provider(request: Request[Any, Any, Any]) -> oidc.Provider:
    found: oidc.Provider | None = request.app.state.oidc
    if found is None:
        raise NotFoundException()  # not configured: these addresses do not exist
    return found


def _signer(request: Request[Any, Any, Any]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings(request).secret_key, salt=_SALT)


def _pending(request: Request[Any, Any, Any]) -> oidc.Pending | None:
    """What this browser's sign-in started with, if its cookie is there, signed by the service and still fresh."""
    value = request.cookies.get(PENDING_COOKIE, "")
    if not value:
        return None
    try:
        return msgspec.convert(_signer(request).loads(value, max_age=PENDING_SECONDS), oidc.Pending)
    except (BadSignature, msgspec.ValidationError):
        return None


def _problem(request: Request[Any, Any, Any], title: str, message: str, status_code: int) -> Template:
    response = page(request, "session/oidc_problem.html", title=title, message=message, status_code=status_code)
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    return response


@get("/sign-in/oidc", name="oidc_start", exclude_from_auth=True, include_in_schema=False)
async def start(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Send the browser to the provider, with a fresh state, nonce and PKCE verifier kept in the signed cookie."""
    council = provider(request)
    name = settings(request).oidc_provider_name
    try:
        started = await council.start()
    except oidc.ProviderError as exc:
        log.warning("OpenID sign-in could not start: %s", exc)
        return _problem(request, directory.SIGN_IN_FAILED_TITLE, directory.failed_message(name), 503)
    response = Redirect(started.url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE, _signer(request).dumps(msgspec.to_builtins(started.pending)), max_age=PENDING_SECONDS,
        path=PENDING_PATH, httponly=True, samesite="lax", secure=settings(request).secure_cookies,
    )  # fmt: skip
    return response


@get("/sign-in/oidc/callback", name="oidc_callback", exclude_from_auth=True, include_in_schema=False)
async def callback(request: Request[Any, Any, Any]) -> Redirect | Template:
    """Check what the provider sent back, then sign the person in (`actions.sign_in_with_provider`)."""
    council = provider(request)
    configured = settings(request)
    name = configured.oidc_provider_name
    query = {key: value for key, value in request.query_params.items() if isinstance(value, str)}
    address = request.client.host if request.client else "unknown"
    pending = _pending(request)
    if pending is not None and await throttle.address_locked(database(request).reader, address):
        return _problem(request, directory.SIGN_IN_FAILED_TITLE, throttle.LOCKED_MESSAGE, 429)
    try:
        completed = await council.complete(query, pending)
    except oidc.ProviderError as exc:
        log.warning("OpenID sign-in refused: %s", exc)
        if pending is not None:  # an attempt this browser began here: audited and throttled as a password's is
            await actions.record_failed_provider_sign_in(database(request), address, str(exc))
        if exc.refused:
            return _problem(request, directory.SIGN_IN_FAILED_TITLE, directory.provider_refused_message(name), 403)
        return _problem(request, directory.SIGN_IN_FAILED_TITLE, directory.failed_message(name), 400)
    outcome = await actions.sign_in_with_provider(
        database(request), completed.person, configured.oidc_group_map, provider_name=name,
        contact_email=configured.contact_email, address=address, groups_claim=configured.oidc_groups_claim,
        match_email=configured.oidc_match_email,
    )  # fmt: skip
    if outcome.locked:
        return _problem(request, directory.SIGN_IN_FAILED_TITLE, throttle.LOCKED_MESSAGE, 429)
    if outcome.user is None or outcome.actor is None:
        return _problem(request, directory.NO_ACCESS_TITLE, outcome.refused, 403)
    response = await session.signed_in(request, outcome.user.id, outcome.actor, id_token=completed.id_token)
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    return response
