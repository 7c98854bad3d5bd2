"""Who is signed in: server-side sessions, the current user, and signing in and out."""

from __future__ import annotations

import secrets
import time
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.response import Redirect, Template

from service import actions, db
from service.core.workflow import Actor
from service.passwords import verify_password
from service.web.common import State, page

ROTATE_KEY = "handover.rotate_session"


class CurrentUser(msgspec.Struct, frozen=True, kw_only=True):
    """The signed-in person, as the pages need them."""

    id: int
    name: str
    actor: Actor
    teams: list[db.Membership]

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


class RotatingSessionBackend(ServerSideSessionBackend):
    """Issues a fresh session id at sign-in, so an id planted in the browser beforehand is worthless."""

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
    if not isinstance(user_id, int) or time.time() - float(session.get("signed_in_at", 0)) > state.absolute_timeout:
        return None
    user = await db.user_by_id(state.db.reader, user_id)
    if user is None or user.disabled:
        return None
    teams = await db.memberships(state.db.reader, user.id)
    return CurrentUser(id=user.id, name=user.name, actor=actions.actor_for(user, teams), teams=teams)


@get("/sign-in", name="sign_in", exclude_from_auth=True)
async def sign_in_page(request: Request[Any, Any, Any]) -> Template:
    return page(request, "session/sign_in.html", errors={}, username="")


@post("/sign-in", exclude_from_auth=True)
async def sign_in(request: Request[Any, Any, Any]) -> Template | Redirect:
    state: State = request.app.state
    form = await request.form()
    username = str(form.get("username", "")).strip()[:200]
    password = str(form.get("password", ""))[:1000]
    missing = {
        key: message
        for key, value, message in (("username", username, "Enter your username"),
                                    ("password", password, "Enter your password"))
        if not value
    }  # fmt: skip
    if missing:
        return page(request, "session/sign_in.html", errors=missing, username=username, status_code=400)
    user = await db.user_by_username(state.db.reader, username) if username else None
    password_ok = await verify_password(user.password_hash if user else None, password)
    signed_in = user is not None and password_ok and not user.disabled
    async with state.db.transaction() as conn:
        await db.append_audit(
            conn,
            user.id if user else None,
            "sign_in" if signed_in else "sign_in_failed",
            "user",
            user.id if user else None,
            {"username": username},
        )
    if not signed_in or user is None:
        errors = {"username": "Enter a correct username and password"}
        return page(request, "session/sign_in.html", errors=errors, username=username, status_code=400)
    old_id = request.cookies.get("session")
    if old_id:
        await request.app.stores.get("sessions").delete(old_id)
    request.scope[ROTATE_KEY] = secrets.token_hex(32)  # type: ignore[literal-required]
    request.set_session({"user_id": user.id, "signed_in_at": time.time()})
    return Redirect("/", status_code=303)


@post("/sign-out", name="sign_out")
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    state: State = request.app.state
    async with state.db.transaction() as conn:
        await db.append_audit(conn, request.user.id, "sign_out", "user", request.user.id)
    request.clear_session()
    return Redirect("/sign-in", status_code=303)
