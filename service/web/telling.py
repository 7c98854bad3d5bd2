"""Who has been told of the new worker: the handover's "Who has been told" page and its forms, and the agency's signed
link, which needs no account.

Who may record is asked of `core.telling.recording_refusals` (and again by each action), never decided here; the
messages are the core's. Each form posts to its own address and, once recorded, the page is shown again with a banner
(post/redirect/get); a form with errors is shown again with the person's input kept. A refusal is the refusals page
(409), a handover or professional this person may not see is 404.

The signed link (`/agency-acknowledgements/<token>`): opening it only reads (mail scanners open links before people
do); pressing its button writes the acknowledgement once, with no actor in the audit entry, because the signature
made with the service's secret is its proof. A signature that does not hold answers 404, a link that cannot be used
any more 410. No throttle: a link cannot be guessed (a 32-byte random nonce under an HMAC signature), and the sign-in
throttle's counters are for names typed at sign-in.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service import actions, db
from service.core import telling as rules
from service.core.clock import date_in_england
from service.core.dates import BOXES, boxes_in_error, join_date, parse_date
from service.core.errors import Invalid, NotFound, Refused
from service.db import telling as store
from service.web.context import audit_view, back_to, checklists, database, page, viewable
from service.web.forms import sent_more_than_once

# The forms' fields, as a message names each when it is sent more than once.
FAMILY_TOLD_FIELDS = {
    "told": "Who was told",
    "method": "How they were told",
    **{f"told_on-{box}": f"The {box} they were told" for box in BOXES},
}
NOT_TOLD_FIELDS = {"reason": "The reason"}
AGENCY_TOLD_FIELDS = {
    "method": "How they were told",
    **{f"told_on-{box}": f"The {box} they were told" for box in BOXES},
    "note": "The note",
}
FAMILY_REASON = "family-reason"  # the family's reason on the page that holds both family forms


def day_of(stamp: str | None) -> date | None:
    """A stored date (ISO date in England) or timestamp (UTC) as the date in England; None for none."""
    if not stamp:
        return None
    return date_in_england(stamp) if "T" in stamp else parse_date(stamp)


class ContactShown(msgspec.Struct, frozen=True, kw_only=True):
    """A professional on the plan as the page and the API show them: their record, and their status
    (`core.telling.contact_status`)."""

    contact: store.AgencyContact
    status: str
    words: str


def shown(contact: store.AgencyContact) -> ContactShown:
    status, words = rules.contact_status(
        told_method=contact.told_method, told_on=day_of(contact.told_on), email_sent_on=day_of(contact.email_sent_at),
        acknowledged_on=day_of(contact.acknowledged_at), not_told_reason=contact.not_told_reason,
        told_of_previous_worker=contact.told_of_previous_worker,
    )  # fmt: skip
    if contact.note and contact.told_method is not None:
        words = f"{words}. Note: {contact.note}"
    return ContactShown(contact=contact, status=status, words=words)


def notice_words(notice: store.FamilyNotice) -> str:
    return rules.family_notice_words(
        told=notice.told, method=notice.method, told_on=day_of(notice.told_on), note=notice.note,
        worker=notice.told_worker_name, current=notice.current,
    )  # fmt: skip


def date_errors(errors: dict[str, str], name: str, value: str) -> dict[str, str]:
    """The rule keys a date's message by the field; the page by the first box in error, where the message goes."""
    if name not in errors:
        return errors
    found = dict(errors)
    message = found.pop(name)
    return found | {f"{name}-{(boxes_in_error(value) or BOXES)[0]}": message}


def typed_date(form: Any, name: str) -> str:
    return join_date(*(str(form.get(f"{name}-{box}", "")) for box in BOXES))


async def _telling_page(
    request: Request[Any, Any, Any],
    handover_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    view = await viewable(request, handover_id)
    reader = database(request).reader
    notices = await store.family_notices_of(reader, handover_id)
    contacts = [shown(contact) for contact in await store.agency_contacts_of(reader, handover_id)]
    refusals = rules.recording_refusals(view.facts, request.user.actor, required=view.checklist.telling is not None)
    done = rules.RECORDED.get(request.query_params.get("done", ""), "") if not errors else ""
    return page(
        request,
        "telling/telling.html",
        status_code=status_code,
        view=view,
        telling=view.checklist.telling,
        notices=[(notice, notice_words(notice)) for notice in notices],
        contacts=contacts,
        refusals=refusals,
        may_record=not refusals,
        missing=view.facts.telling_missing,
        errors=errors or {},
        values=values or {},
        family_methods=rules.FAMILY_METHODS,
        not_submitted=rules.NOT_SUBMITTED if view.handover.submitted_at is None and not contacts else "",
        no_telling=rules.NO_TELLING,
        told_max=rules.TOLD_MAX,
        note_max=rules.NOTE_MAX,
        family_reason=FAMILY_REASON,
        flash=done,
    )


async def _contact_page(
    request: Request[Any, Any, Any],
    handover_id: int,
    contact_id: int,
    template: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """A form about one professional not yet told, for someone who may record it: `Refused` (the reasons) when they
    may not or the professional is settled already; `NotFound` for a professional not on this handover."""
    view = await viewable(request, handover_id)
    refusals = rules.recording_refusals(view.facts, request.user.actor, required=view.checklist.telling is not None)
    if refusals:
        raise Refused(refusals)
    contact = await store.agency_contact(database(request).reader, handover_id, contact_id)
    if contact is None:
        raise NotFound(rules.CONTACT_NOT_FOUND)
    if contact.settled:
        raise Refused([rules.ALREADY_SETTLED])
    return page(
        request,
        template,
        status_code=status_code,
        view=view,
        contact=contact,
        errors=errors or {},
        values=values or {},
        agency_methods=rules.AGENCY_METHODS,
        note_max=rules.NOTE_MAX,
    )


def _telling(handover_id: int, done: str) -> Redirect:
    return back_to(f"/handovers/{handover_id}/telling?done={done}")


class TellingController(Controller):
    """The "Who has been told" page of a handover, and the forms that record who was told."""

    include_in_schema = False
    path = "/handovers/{handover_id:int}/telling"

    @get("", name="telling")
    async def telling_page(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template:
        response = await _telling_page(request, handover_id)
        await audit_view(request, handover_id, "telling")
        return response

    @post("/family")
    async def family_told(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        told_on = typed_date(form, "told_on")
        values = {"told": str(form.get("told", "")), "method": str(form.get("method", "")), "told_on": told_on}
        try:
            repeated = sent_more_than_once(form, FAMILY_TOLD_FIELDS)
            if repeated:
                raise Invalid(repeated)
            await actions.record_family_told(
                database(request), checklists(request), request.user.actor, handover_id, told=values["told"],
                method=values["method"], told_on=told_on,
            )  # fmt: skip
        except Invalid as exc:
            errors = date_errors(exc.errors, "told_on", told_on)
            return await _telling_page(request, handover_id, errors=errors, values=values, status_code=400)
        return _telling(handover_id, "family-told")

    @post("/family-not-told")
    async def family_not_told(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template | Redirect:
        form = await request.form()
        values = {FAMILY_REASON: str(form.get("reason", ""))}
        try:
            repeated = sent_more_than_once(form, NOT_TOLD_FIELDS)
            if repeated:
                raise Invalid(repeated)
            await actions.record_family_not_told(
                database(request), checklists(request), request.user.actor, handover_id, reason=values[FAMILY_REASON]
            )
        except Invalid as exc:
            errors = {FAMILY_REASON: next(iter(exc.errors.values()))}
            return await _telling_page(request, handover_id, errors=errors, values=values, status_code=400)
        return _telling(handover_id, "family-not-told")

    @post("/agencies/{contact_id:int}/email")
    async def email(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int]
    ) -> Redirect:
        await actions.email_agency(database(request), checklists(request), request.user.actor, handover_id, contact_id)
        return _telling(handover_id, "emailed")

    @get("/agencies/{contact_id:int}/told", name="agency_told")
    async def agency_told_form(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int]
    ) -> Template:
        return await _contact_page(request, handover_id, contact_id, "telling/agency_told.html")

    @post("/agencies/{contact_id:int}/told")
    async def agency_told(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        told_on = typed_date(form, "told_on")
        values = {"method": str(form.get("method", "")), "told_on": told_on, "note": str(form.get("note", ""))}
        try:
            repeated = sent_more_than_once(form, AGENCY_TOLD_FIELDS)
            if repeated:
                raise Invalid(repeated)
            await actions.record_agency_told(
                database(request), checklists(request), request.user.actor, handover_id, contact_id,
                method=values["method"], told_on=told_on, note=values["note"],
            )  # fmt: skip
        except Invalid as exc:
            errors = date_errors(exc.errors, "told_on", told_on)
            return await _contact_page(
                request, handover_id, contact_id, "telling/agency_told.html", errors=errors, values=values,
                status_code=400,
            )  # fmt: skip
        return _telling(handover_id, "agency-told")

    @get("/agencies/{contact_id:int}/not-told", name="agency_not_told")
    async def agency_not_told_form(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int]
    ) -> Template:
        return await _contact_page(request, handover_id, contact_id, "telling/agency_not_told.html")

    @post("/agencies/{contact_id:int}/not-told")
    async def agency_not_told(
        self, request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int]
    ) -> Template | Redirect:
        form = await request.form()
        values = {"reason": str(form.get("reason", ""))}
        try:
            repeated = sent_more_than_once(form, NOT_TOLD_FIELDS)
            if repeated:
                raise Invalid(repeated)
            await actions.record_agency_not_told(
                database(request), checklists(request), request.user.actor, handover_id, contact_id,
                reason=values["reason"],
            )  # fmt: skip
        except Invalid as exc:
            return await _contact_page(
                request, handover_id, contact_id, "telling/agency_not_told.html", errors=exc.errors, values=values,
                status_code=400,
            )  # fmt: skip
        return _telling(handover_id, "agency-not-told")


# ---------------------------------------------------------------- the agency's signed link

# What the link's page answers when it cannot be used: a signature that does not hold names nothing (404); a link
# that was good once is gone (410).
LINK_STATUS = {rules.LINK_NOT_VALID: 404, rules.LINK_USED: 410, rules.LINK_EXPIRED: 410, rules.LINK_CLOSED: 410}


def _link_refused(request: Request[Any, Any, Any], exc: Refused) -> Template:
    reason = exc.reasons[0] if exc.reasons else rules.LINK_NOT_VALID
    return page(request, "telling/link_refused.html", status_code=LINK_STATUS.get(reason, 404), reason=reason)


class AgencyLinkController(Controller):
    """The page a professional reaches from the service's e-mail: no account and no session; the signed link is
    all they hold. Shows the child's reference only (never a name), the new worker and their team."""

    include_in_schema = False
    path = "/agency-acknowledgements/{token:str}"

    @get("", name="agency_acknowledgement")
    async def show(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        reader = database(request).reader
        try:
            contact = await actions.contact_for_link(reader, token)
        except Refused as exc:
            return _link_refused(request, exc)
        handover = await db.handover_by_id(reader, contact.handover_id)
        assert handover is not None, "contact_for_link found its handover"
        return page(
            request, "telling/link.html", contact=contact, handover=handover, heading=rules.LINK_HEADING, token=token
        )

    @post("", status_code=200)
    async def acknowledge(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        try:
            contact = await actions.acknowledge_by_link(database(request), token)
        except Refused as exc:
            return _link_refused(request, exc)
        handover = await db.handover_by_id(database(request).reader, contact.handover_id)
        assert handover is not None, "acknowledge_by_link found its handover"
        return page(request, "telling/link_done.html", contact=contact, handover=handover, heading=rules.LINK_THANKS)
