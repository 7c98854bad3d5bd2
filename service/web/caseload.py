"""A team manager's caseload pages: the people whose children they may transfer, one person's caseload (where each
child is now, the caseload transfer, a long-term absence), and starting one child's handover from it.

Every handler parses, calls one action or query (`service.actions.caseload`), and renders. Only team managers reach
these pages (403 for anyone else); a person outside the manager's teams has no caseload here (404).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import db
from service.actions import caseload as caseload_actions
from service.core import caseload as rules
from service.core.errors import Invalid, NotFound
from service.db.caseload import CaseloadChild
from service.web import forms
from service.web.context import back_to, current_checklist, database, page
from service.web.guards import managers_only

CHOOSE_TEAM = "choose-team"  # the start form's "Continue" without JavaScript, as on the worker's own start page


def _address(person_id: int) -> str:
    return f"/caseloads/{person_id}"


class CaseloadController(Controller):
    """Pages for a team manager moving a person's caseload, one child at a time."""

    include_in_schema = False
    path = "/caseloads"
    guards = [managers_only]  # noqa: RUF012 (Litestar's own attribute)

    @get("/", name="caseloads")
    async def people(self, request: Request[Any, Any, Any]) -> Template:
        listed = await caseload_actions.people(database(request).reader, request.user.actor)
        return page(request, "caseload/people.html", people=listed)

    @get("/{person_id:int}", name="caseload")
    async def caseload(self, request: Request[Any, Any, Any], person_id: FromPath[int]) -> Template:
        return await self._caseload_page(request, person_id, {})

    @post("/{person_id:int}/transfer")
    async def start_transfer(self, request: Request[Any, Any, Any], person_id: FromPath[int]) -> Template | Redirect:
        try:
            await caseload_actions.start_transfer(database(request), request.user.actor, person_id)
        except Invalid as exc:
            return await self._caseload_page(request, person_id, exc.errors)
        return back_to(_address(person_id) + "#children")

    @post("/{person_id:int}/absence")
    async def absence(self, request: Request[Any, Any, Any], person_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        try:
            if form.get("change") == "end":
                await caseload_actions.end_absence(database(request), request.user.actor, person_id)
            else:
                await caseload_actions.record_absence(database(request), request.user.actor, person_id)
        except Invalid as exc:
            return await self._caseload_page(request, person_id, exc.errors)
        return back_to(_address(person_id))

    @get("/{person_id:int}/cases/{case_id:int}/handover", name="caseload_start")
    async def start_form(
        self, request: Request[Any, Any, Any], person_id: FromPath[int], case_id: FromPath[int]
    ) -> Template | Redirect:
        """The start form for one child; `?receiving_team=<id>` draws it with that team's workers (the address the
        page's script asks, as on the worker's own start page)."""
        loaded, child = await self._child(request, person_id, case_id)
        if loaded.transfer is None:
            return back_to(_address(person_id))
        team = request.query_params.get("receiving_team")
        values = {} if team is None else {"receiving_team": team}
        return await self._start_page(request, loaded, child, values, {})

    @post("/{person_id:int}/cases/{case_id:int}/handover")
    async def start(
        self, request: Request[Any, Any, Any], person_id: FromPath[int], case_id: FromPath[int]
    ) -> Template | Redirect:
        loaded, child = await self._child(request, person_id, case_id)
        form = await request.form()
        values = {key: str(form.get(key, "")) for key in ("receiving_team", "receiver", "transfer_reason")}
        if form.get("button") == CHOOSE_TEAM:
            values["receiver"] = ""
            return await self._start_page(request, loaded, child, values, {})
        try:
            await caseload_actions.start_child_handover(
                database(request),
                request.user.actor,
                current_checklist(request),
                person_id=person_id,
                case_id=case_id,
                receiving_team_id=forms.form_number(values["receiving_team"]),
                receiver_id=(forms.form_number(values["receiver"]) or 0) if values["receiver"].strip() else None,
                transfer_reason=values["transfer_reason"],
            )
        except Invalid as exc:
            return await self._start_page(request, loaded, child, values, exc.errors)
        return back_to(_address(person_id) + "#children")

    async def _child(
        self, request: Request[Any, Any, Any], person_id: int, case_id: int
    ) -> tuple[caseload_actions.Caseload, CaseloadChild]:
        """The caseload and one child on it still with the person (no handover open): `NotFound` otherwise."""
        loaded = await caseload_actions.caseload(database(request).reader, request.user.actor, person_id)
        found = next(
            (c.child for c in loaded.children if c.child.id == case_id and c.where == rules.Where.WITH_THEM), None
        )
        if found is None:
            raise NotFound(f"case {case_id} on caseload {person_id}")
        return loaded, found

    async def _caseload_page(self, request: Request[Any, Any, Any], person_id: int, errors: dict[str, str]) -> Template:
        loaded = await caseload_actions.caseload(database(request).reader, request.user.actor, person_id)
        return page(
            request,
            "caseload/caseload.html",
            status_code=400 if errors else 200,
            caseload=loaded,
            labels=rules.WHERE_LABELS,
            errors=errors,
        )

    async def _start_page(
        self,
        request: Request[Any, Any, Any],
        loaded: caseload_actions.Caseload,
        child: CaseloadChild,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> Template:
        reader = database(request).reader
        teams = await db.teams(reader)
        chosen = next((team for team in teams if str(team.id) == values.get("receiving_team", "").strip()), None)
        workers = [] if chosen is None else await db.team_workers(reader, chosen.id)
        return page(
            request,
            "caseload/start.html",
            status_code=400 if errors else 200,
            caseload=loaded,
            case=child,
            teams=teams,
            team=chosen,
            # neither the person whose caseload it is nor whoever holds the case now can receive it
            workers=[(i, name) for i, name in workers if i not in (loaded.person.id, child.allocated_worker_id)],
            values=values,
            errors=errors,
            choose_team=CHOOSE_TEAM,
        )
