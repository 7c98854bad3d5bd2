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
from service.core import directory
from service.core.clock import today
from service.core.deadlines import Due
from service.core.due_dates import due_on_stored, limits_checklist
from service.core.errors import Invalid, NotFound
from service.db.caseload import CaseloadChild
from service.web import start_form
from service.web.context import back_to, checklists, current_checklist, database, page, settings
from service.web.guards import managers_only


def _dues(request: Request[Any, Any, Any], loaded: caseload_actions.Caseload) -> dict[int, Due | None]:
    """Each open handover's due date on the caseload, by handover id."""
    timed, on = limits_checklist(checklists(request).values()), today()
    return {
        c.handover_id: due_on_stored(
            timed, c.handover_state, c.handover_state_since, c.handover_started_at, c.handover_urgent_at, on
        )
        for c in (entry.child for entry in loaded.children)
        if c.handover_id is not None
        and c.handover_state is not None
        and c.handover_state_since is not None
        and c.handover_started_at is not None
    }


def _left_note(request: Request[Any, Any, Any]) -> str:
    """What is said of a person whose groups at the council's provider no longer give them access."""
    return directory.left_directory_note(settings(request).oidc_provider_name)


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
        return page(request, "caseload/people.html", people=listed, left_note=_left_note(request))

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
        change = form.getall("change", [])
        try:
            if len(change) != 1 or change[0] not in rules.ABSENCE_CHANGES:
                raise Invalid({"absence": rules.ABSENCE_CHANGE_UNKNOWN})
            if change[0] == "continue":
                await caseload_actions.continue_waiting(database(request), request.user.actor, person_id)
            elif change[0] == "end":
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
        values = start_form.read(form)
        # judged once the form is there to be sent: with no caseload transfer begun, the caseload page says so
        repeated = {}
        if loaded.transfer is not None:
            repeated = start_form.repeats(form, await self._fields(request, loaded, child, values, {}))
        if repeated:
            return await self._start_page(request, loaded, child, values, repeated)
        if start_form.choosing_team(form):
            values["receiver"] = ""
            errors = await start_form.team_errors(database(request).reader, values["receiving_team"])
            return await self._start_page(request, loaded, child, values, errors)
        try:
            await caseload_actions.start_child_handover(
                database(request), request.user.actor, current_checklist(request), person_id=person_id,
                case_id=case_id, receiving_team_id=start_form.team_id(values),
                receiver_id=start_form.receiver_id(values),
                transfer_reason=values["transfer_reason"], apart_reason=values["apart_reason"],
            )  # fmt: skip
        except Invalid as exc:
            if "transfer" in exc.errors:  # no caseload transfer begun: said on the caseload, by its button to begin one
                return await self._caseload_page(request, person_id, exc.errors)
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
        if "absence" in errors and loaded.person.disabled:
            # a disabled person's page has no absence buttons: whatever was sent, what there is to say is why
            errors = errors | {"absence": rules.DISABLED_NOT_ABSENT}
        return page(
            request,
            "caseload/caseload.html",
            status_code=400 if errors else 200,
            caseload=loaded,
            left_note=_left_note(request),
            labels=rules.WHERE_LABELS,
            errors=errors,
            dues=_dues(request, loaded),
        )

    async def _start_page(
        self,
        request: Request[Any, Any, Any],
        loaded: caseload_actions.Caseload,
        child: CaseloadChild,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> Template:
        return page(
            request,
            "caseload/start.html",
            status_code=400 if errors else 200,
            caseload=loaded,
            case=child,
            receiving=await self._fields(request, loaded, child, values, errors),
            errors=errors,
        )

    async def _fields(
        self,
        request: Request[Any, Any, Any],
        loaded: caseload_actions.Caseload,
        child: CaseloadChild,
        values: dict[str, str],
        errors: dict[str, str],
    ) -> dict[str, Any]:
        """The start form's shared fields for this child (`start_form.fields`)."""
        reader = database(request).reader
        record = await db.case_by_id(reader, child.id)
        return await start_form.fields(
            reader,
            values=values,
            errors=errors,
            address=f"/caseloads/{loaded.person.id}/cases/{child.id}/handover",
            # neither the person whose caseload it is nor whoever holds the case now can receive it
            not_offered={loaded.person.id, child.allocated_worker_id},
            team_label=f"Which team is {child.child_name}’s case moving to?",
            receiver_hint="If nobody is named yet, any worker in the team can take the case on.",
            reason_hint="For example: the allocated worker has left the service.",
            apart=record is not None and record.sibling_group_id is not None,
        )
