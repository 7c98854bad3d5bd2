"""The administrator: people (joiners, movers and leavers), and the services teams belong to.

Every handler parses the form, calls one action or query, and renders; the rules and their messages are in
`service.core.accounts`, the changes in `service.actions.accounts`.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import actions, db
from service.actions import outbox as outbox_actions
from service.actions.accounts import disable_check, steps_left_by_disabling, steps_without_manager
from service.core import accounts, directory, identity
from service.core import outbox as mail_rules
from service.core.errors import Invalid, NotFound
from service.core.numbers import whole_number
from service.core.pages import Page, page_number
from service.db import outbox as outbox_store
from service.web.context import back_to, database, page, settings
from service.web.guards import admins_only

PEOPLE = "/admin/people"
HINTS = {"username": identity.USERNAME_HINT, "password": identity.PASSWORD_HINT}
OUTBOX_PER_PAGE = 25


def _text(form: FormMultiDict, key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""


def _roles(form: FormMultiDict) -> actions.TeamRoles:
    """The teams ticked for each role (`getall`: one ticked box arrives as a string), and the service-wide roles."""
    return actions.TeamRoles(
        worker=[v for v in form.getall("worker", []) if isinstance(v, str)],
        manager=[v for v in form.getall("manager", []) if isinstance(v, str)],
        auditor=_text(form, "auditor") == "yes",
        admin=_text(form, "admin") == "yes",
    )


# the person's details in the order the form asks for them; the teams' checkboxes come after
FORM_ORDER = ("name", "username", "email", "password")


def _by_field(errors: dict[str, str]) -> dict[str, str]:
    """Messages about the teams as a whole are shown by the first box of the team checkboxes; all of them in the
    form's order, which the error summary lists them in (GOV.UK error summary: in the order they appear)."""
    keyed = [("worker" if key == "teams" else key, message) for key, message in errors.items()]
    ordered = sorted(keyed, key=lambda item: FORM_ORDER.index(item[0]) if item[0] in FORM_ORDER else len(FORM_ORDER))
    return dict(ordered)


async def _person(request: Request[Any, Any, Any], user_id: int) -> db.PersonSummary:
    person = await db.person_summary(database(request).reader, user_id)
    if person is None:
        raise NotFound(f"person {user_id}")
    return person


def _passwords_on(request: Request[Any, Any, Any]) -> None:
    """A password reset while passwords are off (HANDOVER_PASSWORDS=off) is refused (403): the council's provider is
    the one way in."""
    if not settings(request).passwords:
        raise PermissionDeniedException(directory.PASSWORD_RESETS_OFF)


class AdminController(Controller):
    include_in_schema = False
    path = "/admin"
    guards = [admins_only]  # noqa: RUF012 (Litestar's own attribute)

    @get("/people", name="admin_people")
    async def people(self, request: Request[Any, Any, Any]) -> Template:
        reader = database(request).reader
        waiting = await actions.waiting_for(reader, request.user.actor)  # the landing page says what waits, as all do
        vacant = [("/admin/teams", post) for post in await actions.vacant_posts(reader)]
        # a manager step nobody may take waits on an administrator: each is explained lower on this page
        stuck = await steps_without_manager(reader)
        also = vacant + [(f"#step-{found.handover_id}", found.message) for found in stuck]
        return page(
            request, "admin/people.html", people=await db.people_list(reader), waiting=waiting, vacant=also,
            stuck=stuck,
        )  # fmt: skip

    @get("/people/new", name="admin_add_person")
    async def add_form(self, request: Request[Any, Any, Any]) -> Template:
        return await self._add_page(request, {}, actions.TeamRoles(), {})

    @post("/people/new")
    async def add(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        values = {key: _text(form, key).strip() for key in ("username", "name", "email")}
        roles = _roles(form)
        try:
            user_id = await actions.add_person(
                database(request), username=values["username"], full_name=values["name"], email=values["email"],
                password=_text(form, "password"), roles=roles, by=request.user.id,
            )  # fmt: skip
        except Invalid as exc:
            return await self._add_page(request, values, roles, _by_field(exc.errors), status_code=400)
        return back_to(f"{PEOPLE}/{user_id}?done=added")

    async def _add_page(
        self,
        request: Request[Any, Any, Any],
        values: dict[str, str],
        roles: actions.TeamRoles,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return page(
            request, "admin/add_person.html", values=values, roles=roles, errors=errors, status_code=status_code,
            teams=await db.teams(database(request).reader), hints=HINTS,
        )  # fmt: skip

    @get("/people/{user_id:int}", name="admin_person")
    async def person(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template:
        person = await _person(request, user_id)
        done = {
            "added": f"{person.name} has been added",
            "roles": f"{person.name}'s teams and roles have been changed",
            "password": f"{person.name}'s password has been reset",
        }.get(request.query_params.get("done", ""), "")
        return page(
            request, "admin/person.html", person=person, flash=done, passwords=settings(request).passwords,
            cases=await db.held_cases(database(request).reader, user_id),
        )  # fmt: skip

    @get("/people/{user_id:int}/roles", name="admin_person_roles")
    async def roles_form(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template:
        person = await _person(request, user_id)
        memberships = await db.memberships(database(request).reader, user_id)
        roles = actions.TeamRoles(
            worker=[m.team_name for m in memberships if m.role == "worker"],
            manager=[m.team_name for m in memberships if m.role == "manager"],
            auditor=person.is_auditor,
            admin=person.is_admin,
        )
        return await self._roles_page(request, person, roles, {})

    @post("/people/{user_id:int}/roles")
    async def change_roles(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template | Redirect:
        person = await _person(request, user_id)
        roles = _roles(await request.form())
        try:
            await actions.change_roles(database(request), user_id=user_id, roles=roles, by=request.user.id)
        except Invalid as exc:
            return await self._roles_page(request, person, roles, _by_field(exc.errors), status_code=400)
        return back_to(f"{PEOPLE}/{user_id}?done=roles")

    async def _roles_page(
        self,
        request: Request[Any, Any, Any],
        person: db.PersonSummary,
        roles: actions.TeamRoles,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return page(
            request, "admin/roles.html", person=person, roles=roles, errors=errors, status_code=status_code,
            teams=await db.teams(database(request).reader),
        )  # fmt: skip

    @get("/people/{user_id:int}/password", name="admin_person_password")
    async def password_form(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template:
        _passwords_on(request)
        person = await _person(request, user_id)
        return page(request, "admin/password.html", person=person, errors={}, hints=HINTS)

    @post("/people/{user_id:int}/password")
    async def reset_password(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template | Redirect:
        _passwords_on(request)
        person = await _person(request, user_id)
        form = await request.form()
        try:
            await actions.reset_password(
                database(request), user_id=user_id, password=_text(form, "password"), by=request.user.id
            )
        except Invalid as exc:
            return page(
                request, "admin/password.html", person=person, errors=exc.errors, hints=HINTS,
                status_code=400,
            )  # fmt: skip
        return back_to(f"{PEOPLE}/{user_id}?done=password")

    @get("/people/{user_id:int}/disable", name="admin_person_disable")
    async def disable_check(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template:
        person = await _person(request, user_id)
        return await self._disable_page(request, person, {})

    @post("/people/{user_id:int}/disable")
    async def disable(self, request: Request[Any, Any, Any], user_id: FromPath[int]) -> Template:
        person = await _person(request, user_id)
        try:
            outcome = await actions.disable_person(database(request), user_id=user_id, by=request.user.id)
        except Invalid as exc:
            return await self._disable_page(request, person, exc.errors, status_code=400)
        return page(request, "admin/disabled.html", person=person, outcome=outcome)

    async def _disable_page(
        self, request: Request[Any, Any, Any], person: db.PersonSummary, errors: dict[str, str], status_code: int = 200
    ) -> Template:
        # what disabling would do and what stops it, asked of the same rules the action keeps, before any POST
        check = await disable_check(database(request).reader, user_id=person.id, by=request.user.id)
        stranded = await steps_left_by_disabling(database(request), user_id=person.id, by=request.user.id)
        return page(
            request, "admin/disable.html", person=person, errors=errors, status_code=status_code, check=check,
            sole_manager=[accounts.sole_manager_message(person.name, t) for t in check.teams_left_without_manager],
            posts=[accounts.post_vacated_message(post) for post in check.posts_vacated], stranded=stranded,
        )  # fmt: skip

    @get("/outbox", name="admin_outbox")
    async def outbox(self, request: Request[Any, Any, Any]) -> Template:
        """The newest e-mails first, each with its state; their text can be read (e-mails carry no child's details)."""
        return await self._outbox_page(request, {})

    @post("/outbox")
    async def send_again(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Send a held e-mail once more (the form's `email_id`)."""
        email_id = whole_number(_text(await request.form(), "email_id"))
        if email_id is None:
            raise NotFound("e-mail")
        try:
            await outbox_actions.send_again(database(request), email_id, by=request.user.id)
        except Invalid as exc:
            return await self._outbox_page(request, exc.errors, status_code=400)
        return back_to("/admin/outbox?done=again")

    async def _outbox_page(
        self, request: Request[Any, Any, Any], errors: dict[str, str], status_code: int = 200
    ) -> Template:
        reader = database(request).reader
        total = await outbox_store.outbox_count(reader)
        number = min(page_number(request.query_params.get("page")), Page(1, OUTBOX_PER_PAGE, total).count)
        shown = Page(number, OUTBOX_PER_PAGE, total)
        emails = await outbox_store.outbox_page(reader, offset=shown.offset, limit=OUTBOX_PER_PAGE)
        states = [mail_rules.state(sent_at=e.sent_at, attempts=e.attempts, in_doubt=e.in_doubt) for e in emails]
        flash = mail_rules.SENT_AGAIN if request.query_params.get("done") == "again" and not errors else ""
        return page(
            request, "admin/outbox.html", emails=list(zip(emails, states, strict=True)), page_number=number,
            pages=shown.count, total=total, first=shown.first, sending=settings(request).smtp_configured,
            messages=mail_rules, errors=errors, flash=flash, status_code=status_code,
        )  # fmt: skip

    @get("/teams", name="admin_teams")
    async def teams(self, request: Request[Any, Any, Any]) -> Template:
        return await self._teams_page(request, {}, {})

    @post("/services")
    async def create_service(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        values = {"name": _text(form, "name"), "service_manager": _text(form, "service_manager")}
        try:
            await actions.create_service(
                database(request), name=values["name"], service_manager=values["service_manager"], by=request.user.id
            )
        except Invalid as exc:
            return await self._teams_page(request, values, exc.errors, status_code=400)
        return back_to("/admin/teams?done=service")

    @post("/teams/service")
    async def set_team_service(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        values = {"team": _text(form, "team"), "service": _text(form, "service")}
        try:
            await actions.set_team_service(
                database(request), team=values["team"], service=values["service"], by=request.user.id
            )
        except Invalid as exc:
            return await self._teams_page(request, values, exc.errors, status_code=400)
        return back_to("/admin/teams?done=team")

    @post("/services/manager")
    async def set_service_manager(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        values = {
            "managed_service": _text(form, "managed_service"),
            "new_service_manager": _text(form, "service_manager"),
        }
        try:
            await actions.set_service_manager(
                database(request), service=values["managed_service"], service_manager=values["new_service_manager"],
                by=request.user.id,
            )  # fmt: skip
        except Invalid as exc:
            renamed = {"service": "managed_service", "service_manager": "new_service_manager"}
            errors = {renamed.get(key, key): text for key, text in exc.errors.items()}
            return await self._teams_page(request, values, errors, status_code=400)
        return back_to("/admin/teams?done=manager")

    @post("/head-of-service")
    async def set_head_of_service(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        form = await request.form()
        values = {"head_of_service": _text(form, "head_of_service")}
        try:
            await actions.set_head_of_service(database(request), username=values["head_of_service"], by=request.user.id)
        except Invalid as exc:
            return await self._teams_page(request, values, exc.errors, status_code=400)
        return back_to("/admin/teams?done=head")

    async def _teams_page(
        self, request: Request[Any, Any, Any], values: dict[str, str], errors: dict[str, str], status_code: int = 200
    ) -> Template:
        reader = database(request).reader
        done = {
            "service": "The service has been added",
            "team": "The team's service has been changed",
            "manager": "The service manager has been changed",
            "head": "The head of service has been changed",
        }.get(request.query_params.get("done", ""), "")
        people = await db.enabled_team_managers(reader)  # only a team manager may hold either post
        return page(
            request, "admin/teams.html", values=values, errors=errors, status_code=status_code, flash=done,
            teams=await db.teams_overview(reader), services=await db.services(reader), people=people,
            head=await db.head_of_service(reader),
        )  # fmt: skip
