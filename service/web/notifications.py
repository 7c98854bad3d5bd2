"""A person's notifications: their list (newest first, unread marked), opening one (which marks it read and goes to
its handover), marking them all read, and how they get e-mails about them (one each, or, for a team manager, a daily
summary). The unread count in every page's header (`unread_notifications`), and the service's hourly reminder run
(`reminders_lifespan`).

Every handler parses, calls one action or query, and renders. A person sees and changes only their own
notifications: another person's is not found (404). Only team managers reach the e-mail settings (403 for anyone
else), since only they may choose the daily summary.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Controller, Litestar, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.actions import notifications as actions
from service.core import notifications as rules
from service.core.errors import Invalid
from service.core.pages import Page, page_number
from service.db import notifications as store
from service.web.context import back_to, database, page
from service.web.forms import sent_more_than_once
from service.web.guards import managers_only

HOME = "/notifications"


@asynccontextmanager
async def reminders_lifespan(app: Litestar) -> AsyncIterator[None]:
    """While the service runs: reminders and daily summaries every hour (`actions.keep_reminding`)."""
    restore = actions.use_settings(app.state.settings)
    task = asyncio.create_task(actions.keep_reminding(app.state.db, app.state.checklists))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        restore()


def unread_notifications(request: Request[Any, Any, Any] | None) -> int:
    """How many notifications the signed-in person has not read, for the header; 0 for nobody signed in.

    Templates are rendered synchronously, so the count is read before, when the person is looked up for the request
    (`session.retrieve_user`)."""
    user = None if request is None else request.scope.get("user")
    return int(getattr(user, "unread_notifications", 0))


class NotificationsController(Controller):
    """The signed-in person's notifications and their e-mail settings."""

    include_in_schema = False
    path = HOME

    @get("/", name="notifications")
    async def list_page(self, request: Request[Any, Any, Any]) -> Template:
        reader = database(request).reader
        user_id = request.user.id
        total = await store.count_notifications(reader, user_id)
        count = Page(1, actions.PER_PAGE, total).count
        number = min(page_number(request.query_params.get("page")), count)
        listed = await store.notifications_of(
            reader, user_id, actions.PER_PAGE, Page(number, actions.PER_PAGE, total).offset
        )
        return page(
            request, "notifications/list.html", notifications=listed, total=total, page_number=number, pages=count,
            unread=await store.unread_count(reader, user_id), flash=_flash(request),
        )  # fmt: skip

    @post("/{notification_id:int}/open")
    async def open_one(self, request: Request[Any, Any, Any], notification_id: FromPath[int]) -> Redirect:
        handover_id = await actions.open_notification(database(request), request.user.actor, notification_id)
        return back_to(f"/handovers/{handover_id}/view" if handover_id else HOME)

    @post("/read-all")
    async def read_all(self, request: Request[Any, Any, Any]) -> Redirect:
        await actions.mark_all_read(database(request), request.user.actor)
        return back_to(HOME + "?done=read")

    @get("/settings", name="notification_settings", guards=[managers_only])
    async def settings_page(self, request: Request[Any, Any, Any]) -> Template:
        digest = await store.takes_digest(database(request).reader, request.user.id)
        return self._settings(request, "digest" if digest else "each", {})

    @post("/settings", guards=[managers_only])
    async def choose(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        choice = str(form.get("delivery", ""))
        repeated = sent_more_than_once(form, {"delivery": rules.DELIVERY_QUESTION})
        if repeated:
            return self._settings(request, "", repeated, status_code=400)
        try:
            await actions.choose_delivery(database(request), request.user.actor, choice)
        except Invalid as exc:
            return self._settings(request, choice, exc.errors, status_code=400)
        return back_to(HOME + "?done=settings")

    @staticmethod
    def _settings(
        request: Request[Any, Any, Any], choice: str, errors: dict[str, str], status_code: int = 200
    ) -> Template:
        return page(
            request, "notifications/settings.html", status_code=status_code, choice=choice, errors=errors,
            choices=rules.DELIVERY_CHOICES, delivery_question=rules.DELIVERY_QUESTION,
        )  # fmt: skip


def _flash(request: Request[Any, Any, Any]) -> str:
    return rules.DONE.get(request.query_params.get("done", ""), "")
