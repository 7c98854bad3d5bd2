"""The head of service authorises an urgent transfer: the form, its confirmation, and the API's route.

Who may see the form and who may authorise is asked of `actions.urgent` and the state machine
(`workflow.urgent_refusals`), never decided here. The form posts the handover's version, so a stale page is refused
(the conflict page, 409) instead of moving a case on a handover that has moved on.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from service import actions
from service.actions import urgent
from service.core.errors import Invalid
from service.core.numbers import ID_MAX
from service.core.validation import in_form_order
from service.core.workflow import (
    URGENT_LABEL,
    URGENT_REASON_FIELD,
    URGENT_REASON_LABEL,
    URGENT_RECEIVER_FIELD,
    URGENT_RECEIVER_LABEL,
    State,
    urgent_next_steps,
)
from service.web.api_errors import ErrorBody
from service.web.context import audit_view, back_to, checklists, database, page
from service.web.forms import SINGLE_ANSWERS, form_number, sent_more_than_once
from service.web.guards import writers_only


async def _form_page(
    request: Request[Any, Any, Any],
    handover_id: int,
    *,
    errors: dict[str, str],
    values: dict[str, str],
    status_code: int = 200,
) -> Template:
    form = await urgent.urgent_form(database(request).reader, checklists(request), request.user.actor, handover_id)
    return page(
        request,
        "handover/urgent.html",
        status_code=status_code,
        form=form,
        view=form.view,
        errors=in_form_order(errors, (URGENT_RECEIVER_FIELD, URGENT_REASON_FIELD)),  # the form asks the worker first
        values=values,
        reason_field=URGENT_REASON_FIELD,
        receiver_field=URGENT_RECEIVER_FIELD,
        reason_label=URGENT_REASON_LABEL,
        receiver_label=URGENT_RECEIVER_LABEL,
        urgent_label=URGENT_LABEL,
    )


class UrgentController(Controller):
    """The urgent transfer's form and confirmation (the handover's page links here for the head of service)."""

    include_in_schema = False

    @get("/handovers/{handover_id:int}/urgent", name="urgent_transfer")
    async def form(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template:
        response = await _form_page(request, handover_id, errors={}, values={})
        await audit_view(request, handover_id, "urgent")
        return response

    @post("/handovers/{handover_id:int}/urgent")
    async def authorise(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        values = {key: str(form.get(key, "")) for key in (URGENT_RECEIVER_FIELD, URGENT_REASON_FIELD)}
        labels = {URGENT_RECEIVER_FIELD: URGENT_RECEIVER_LABEL, URGENT_REASON_FIELD: URGENT_REASON_LABEL}
        repeated = sent_more_than_once(form, labels | {"handover_version": SINGLE_ANSWERS["handover_version"]})
        if repeated:
            return await _form_page(request, handover_id, errors=repeated, values=values, status_code=400)
        try:
            await actions.authorise_urgent_transfer(
                database(request), checklists(request), request.user.actor, handover_id,
                form_number(form.get("handover_version", "")) or 0, form_number(values[URGENT_RECEIVER_FIELD]),
                values[URGENT_REASON_FIELD],
            )  # fmt: skip
        except Invalid as exc:
            return await _form_page(request, handover_id, errors=exc.errors, values=values, status_code=400)
        return back_to(f"/handovers/{handover_id}/urgent/done")

    @get("/handovers/{handover_id:int}/urgent/done", name="urgent_transfer_done")
    async def done(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template | Redirect:
        """The confirmation, shown to the head of service who authorised it; anyone else (or before it is
        authorised) is sent to the form, which says where the handover stands."""
        form = await urgent.urgent_form(database(request).reader, checklists(request), request.user.actor, handover_id)
        if form.view.handover.urgent_by != request.user.id:
            return back_to(f"/handovers/{handover_id}/urgent")
        return page(
            request, "handover/urgent_done.html", form=form, view=form.view, urgent_label=URGENT_LABEL,
            next_steps=urgent_next_steps(form.view.facts),
        )  # fmt: skip


# ---------------------------------------------------------------- the API


class UrgentRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The head of service's urgent transfer: the receiving worker the case moves to, why the child cannot wait for
    the full handover, and the handover's version as the caller last read it."""

    receiver_id: Annotated[int, msgspec.Meta(ge=1, le=ID_MAX)]
    reason: str
    version: Annotated[int, msgspec.Meta(ge=0, le=ID_MAX)]


class UrgentDone(msgspec.Struct, kw_only=True):
    """The handover's state once authorised (a submitted one is endorsed, an acknowledged one closed), and the
    receiving worker the case is now allocated to."""

    state: str
    receiver_id: int


# What the API's urgent transfer may answer besides 200, in the API's one error shape (`api_errors.ErrorBody`).
API_ANSWERS = {
    400: "The request could not be read", 401: "No valid API token", 403: "Not allowed for this account",
    404: "Not found, or not visible to this account", 409: "Refused by the state machine, or stale",
    413: "The request is too large", 422: "The receiving worker or the reason is not valid",
    503: "The database is unavailable for a moment: try again",
}  # fmt: skip


@post(
    "/handovers/{handover_id:int}/urgent",
    guards=[writers_only],
    status_code=200,
    responses={code: ResponseSpec(data_container=ErrorBody, description=words) for code, words in API_ANSWERS.items()},
)
async def authorise_urgent_api(
    request: Request[Any, Any, Any], handover_id: FromPath[int], data: JSONBody[UrgentRequest]
) -> UrgentDone:
    """The head of service authorises an urgent transfer: the case moves to the receiving worker at once, and the
    handover is completed after the transfer. 409 when refused or stale; 422 keyed receiver_id and reason."""
    try:
        state = await actions.authorise_urgent_transfer(
            database(request), checklists(request), request.user.actor, handover_id, data.version, data.receiver_id,
            data.reason,
        )  # fmt: skip
    except Invalid as exc:  # the rule names the form's fields; the body names the receiver by its id
        body_names = {URGENT_RECEIVER_FIELD: "receiver_id"}
        raise Invalid({body_names.get(key, key): message for key, message in exc.errors.items()}) from exc
    return UrgentDone(state=State(state).value, receiver_id=data.receiver_id)
