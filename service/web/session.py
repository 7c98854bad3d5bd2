"""Who is signed in: server-side sessions, the current user, and signing in and out."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.response import Redirect, Template
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from service import actions, db, throttle
from service.actions.drafts import KEEP_SECONDS
from service.core import directory, validation
from service.core.report import may_oversee
from service.core.workflow import Actor
from service.db import notifications as db_notifications
from service.web import drafts, timeout
from service.web.context import State, database, page
from service.web.context import settings as context_settings
from service.web.drafts import PENDING_COOKIE

ROTATE_KEY = "handover.rotate_session"
OIDC_ID_TOKEN = "oidc_id_token"  # in the session of a person signed in by the provider: the hint for signing out there


class CurrentUser(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in person, as the pages need them."""

    id: int
    name: str
    actor: Actor
    teams: list[db.Membership]
    unread_notifications: int = 0  # for the header, counted when the person is looked up for the request

    @property
    def can_work(self) -> bool:
        return bool(self.actor.worker_teams)

    @property
    def is_receiver(self) -> bool:
        return bool(self.actor.worker_teams)

    @property
    def is_manager(self) -> bool:
        return bool(self.actor.manager_teams)

    @property
    def is_auditor(self) -> bool:
        return self.actor.is_auditor

    @property
    def menu(self) -> list[tuple[str, str]]:
        """The pages in this person's service navigation, in order (the layout prints it on every page)."""
        items = []
        if self.can_work:
            items.append(("/", "My handovers"))
        if self.is_receiver:
            items.append(("/inbox", "Inbox"))
        if self.is_manager:
            items.append(("/queue", "Manager queue"))
            items.append(("/caseloads", "Caseloads"))
        if may_oversee(self.actor):
            items.append(("/oversight", "Oversight"))
            items.append(("/audit/incomplete", "Incomplete handovers"))
        if items:  # everyone who sees handovers can look one up by the child
            items.append(("/search", "Find a child"))
        if self.actor.is_admin:
            items += [
                ("/admin/people", "People"),
                ("/admin/teams", "Teams and services"),
                ("/admin/cases", "Case records"),
                ("/admin/outbox", "Outbox"),
            ]
        return items


# Set-Cookie lines by (cookie settings, session id). Shared: Litestar makes a session backend for every route.
_cookie_lines: dict[tuple[tuple[tuple[str, Any], ...], str], str] = {}
COOKIE_LINES_KEPT = 10_000
_SESSION_ID = re.compile(r"[0-9a-f]+")


class RotatingSessionBackend(ServerSideSessionBackend):
    """Issues a fresh session id at sign-in, so an id planted in the browser beforehand is worthless.

    The session is stored again on every response (that keeps the idle timeout an idle timeout), and the framework
    writes its cookie line each time through a Cookie dataclass and the standard library's SimpleCookie: a tenth of
    a section save's time. The line depends only on the session id and the settings, so for ids the service made it
    is written once and kept.
    """

    def __init__(self, config: ServerSideSessionConfig) -> None:
        super().__init__(config)
        params = extract_dataclass_items(config, exclude_none=True, include=Cookie.__dict__.keys())
        self._cookie_params = dict(params)
        self._cookie_settings = (("key", config.key), *sorted(self._cookie_params.items()))

    def cookie_line(self, session_id: str) -> str:
        made_here = len(session_id) == 2 * self.config.session_id_bytes and _SESSION_ID.fullmatch(session_id)
        line = _cookie_lines.get((self._cookie_settings, session_id)) if made_here else None
        if line is None:
            line = Cookie(value=session_id, key=self.config.key, **self._cookie_params).to_header(header="")
            if made_here:  # whatever else a browser sent is written out, not kept
                if len(_cookie_lines) >= COOKIE_LINES_KEPT:
                    _cookie_lines.clear()
                _cookie_lines[(self._cookie_settings, session_id)] = line
        return line

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if scope_session is Empty or not scope_session:
            # Signing out, or nobody signed in: nothing is stored (the framework would store an empty session for
            # every anonymous page), and a session cookie the browser still sends is expired the framework's way.
            if self.config.key in connection.cookies:
                await super().store_in_message(Empty, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        session_id = self.get_session_id(connection)
        await self.set(session_id=session_id, data=self.serialize_data(scope_session, connection.scope), store=store)
        MutableScopeHeaders.from_message(message).add("Set-Cookie", self.cookie_line(session_id))

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        rotated = connection.scope.get(ROTATE_KEY)
        if rotated:
            return str(rotated)
        return super().get_session_id(connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


async def retrieve_user(session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    user_id = session.get("user_id")
    state: State = connection.app.state
    if not isinstance(user_id, int):
        return None
    if time.time() - float(session.get("signed_in_at", 0)) > state.absolute_timeout:
        # the framework empties the session next: the sign-in page is told why it ended (`timeout.remember_ending`)
        connection.scope[timeout.ENDED_KEY] = timeout.LIMIT  # type: ignore[literal-required]
        return None
    found = await db.user_and_memberships(state.db.reader, user_id)
    if found is None or found[0].disabled:
        connection.scope[timeout.ENDED_KEY] = timeout.DISABLED  # type: ignore[literal-required]
        return None
    if float(session.get("signed_in_at", 0)) * 1000 < found[0].sessions_from_ms:  # begun before a password reset
        connection.scope[timeout.ENDED_KEY] = timeout.PASSWORD_RESET  # type: ignore[literal-required]
        return None
    user, teams = found
    unread = await db_notifications.unread_count(state.db.reader, user.id)
    return CurrentUser(
        id=user.id, name=user.name, actor=actions.actor_for(user, teams), teams=teams, unread_notifications=unread
    )


@get("/sign-in", name="sign_in", exclude_from_auth=True, include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any]) -> Template:
    notice = drafts.RESUME_MESSAGES.get(request.query_params.get("resume", ""), "")
    still_signed_in = timeout.session_timing(request)["left"] > 0  # another tab kept the session going
    ended = timeout.told_ending(request)  # what the service found, never what the address says
    if not notice and not still_signed_in and ended:
        notice = timeout.ended_messages(request)[ended]
    response = _sign_in_form(request, errors={}, username="", notice=notice)
    if timeout.ENDED_COOKIE in request.cookies:
        response.delete_cookie(timeout.ENDED_COOKIE)  # said once: the page loaded again says nothing of it
    return response


def _sign_in_form(request: Request[Any, Any, Any], *, status_code: int = 200, **context: Any) -> Template:
    """The sign-in page: the password form while passwords are on, and "Sign in with <the council's provider>"
    when one is configured."""
    configured = context_settings(request)
    button = directory.sign_in_button(configured.oidc_provider_name) if configured.oidc_configured else ""
    return page(
        request, "session/sign_in.html", status_code=status_code, passwords=configured.passwords, oidc_button=button,
        **context,
    )  # fmt: skip


@post("/sign-in", exclude_from_auth=True, include_in_schema=False)
async def sign_in(request: Request[Any, Any, Any]) -> Template | Redirect:
    if not context_settings(request).passwords:  # HANDOVER_PASSWORDS=off: the council's provider is the one way in
        return _sign_in_form(request, errors={}, username="", notice=directory.PASSWORDS_OFF, status_code=403)
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    shown = username[: validation.USERNAME_MAX]  # what the form shows again
    missing = {
        key: message
        for key, value, message in (("username", username, "Enter your username"),
                                    ("password", password, "Enter your password"))
        if not value
    }  # fmt: skip
    if missing:
        return _sign_in_form(request, errors=missing, username=shown, status_code=400)
    address = request.client.host if request.client else "unknown"
    outcome = await actions.sign_in(database(request), username, password, address)
    if outcome.locked:
        errors = {"username": throttle.LOCKED_MESSAGE}
        return _sign_in_form(request, errors=errors, username=shown, status_code=429)
    if outcome.user is None or outcome.actor is None:
        errors = {"username": "Enter a correct username and password"}
        return _sign_in_form(request, errors=errors, username=shown, status_code=400)
    return await signed_in(request, outcome.user.id, outcome.actor)


async def signed_in(request: Request[Any, Any, Any], user_id: int, actor: Actor, *, id_token: str = "") -> Redirect:
    """After either way of signing in: a fresh session (with the provider's ID token, for signing out there too),
    and on to the next page."""
    await _start_new_session(request, user_id, id_token)
    response = Redirect(await _after_sign_in(request, actor), status_code=303)
    response.set_cookie(
        drafts.SIGNED_IN_COOKIE, drafts.signed_in_cookie_value(request),
        max_age=request.app.state.absolute_timeout + KEEP_SECONDS, httponly=True, samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )  # fmt: skip
    if request.cookies.get(PENDING_COOKIE):
        response.delete_cookie(PENDING_COOKIE)
    return response


async def _start_new_session(request: Request[Any, Any, Any], user_id: int, id_token: str = "") -> None:
    """A fresh session id at every sign-in: whatever id the browser arrived with is thrown away."""
    old_id = request.cookies.get(request.app.state.session_cookie)
    if old_id:
        await request.app.stores.get("sessions").delete(old_id)
    request.scope[ROTATE_KEY] = secrets.token_hex(32)  # type: ignore[literal-required]
    started: dict[str, Any] = {"user_id": user_id, "signed_in_at": time.time()}
    if id_token:
        started[OIDC_ID_TOKEN] = id_token
    request.set_session(started)


async def _after_sign_in(request: Request[Any, Any, Any], actor: Actor) -> str:
    """Where to go next: back to a form that arrived after the last session ended (now saved), or home."""
    token = request.cookies.get(PENDING_COOKIE, "")
    if not token:
        return "/"
    resumed = await drafts.resume(request, token, actor)
    return resumed or "/"


@post("/sign-out", name="sign_out", include_in_schema=False)
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    await actions.sign_out(database(request), request.user.id)
    id_token = request.session.get(OIDC_ID_TOKEN, "") if request.session else ""
    request.clear_session()
    going_to = "/sign-in"
    council = request.app.state.oidc
    if id_token and council is not None:  # signed in at the provider: signed out there too (RP-initiated logout)
        going_to = await council.logout_url(id_token, f"{context_settings(request).link_base}/sign-in") or going_to
    response = Redirect(going_to, status_code=303)
    response.delete_cookie(drafts.SIGNED_IN_COOKIE)
    return response
