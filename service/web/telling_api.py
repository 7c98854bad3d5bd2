"""Who has been told of the new worker, through the API: read the family's notices and the professionals with their
status; record that the family was told (or why not); e-mail a professional, or record how they were told (or why
not). The same actions, rules and refusals as the "Who has been told" page (`service.web.telling`); a service
account's token is refused (`core.telling.recording_refusals`), a read-only token too (`guards.writers_only`).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from service import actions
from service.core import telling as rules
from service.db import telling as store
from service.web.api_errors import ErrorBody
from service.web.context import audit_view, checklists, database, viewable
from service.web.guards import writers_only
from service.web.telling import day_of, shown

# What these operations may answer besides 200 and 201, in the API's one error shape (`api_errors.ErrorBody`).
API_ANSWERS = {
    400: "The request could not be read", 401: "No valid API token", 403: "Not allowed for this account",
    404: "Not found, or not visible to this account", 409: "Refused: not a party, closed, or already recorded",
    413: "The request is too large", 422: "A field is not valid", 503: "The database is unavailable for a moment",
}  # fmt: skip
READ_ANSWERS = (400, 401, 403, 404, 413, 503)


def _answers(*codes: int) -> dict[int, ResponseSpec]:
    return {code: ResponseSpec(data_container=ErrorBody, description=API_ANSWERS[code]) for code in codes}


WRITE = _answers(*API_ANSWERS)

IsoDate = Annotated[str, msgspec.Meta(description="A date in England, YYYY-MM-DD: today or earlier")]


class FamilyNoticeOut(msgspec.Struct, kw_only=True):
    """Someone in the family told of the new worker, or (method `not_told`) why they were not: `told` is empty and
    `reason` holds it. `recorded_at` is UTC."""

    id: int
    told: str
    method: str  # core.telling.FAMILY_METHODS, or "not_told"
    told_on: str | None
    reason: str
    recorded_by: int
    recorded_at: str


class AgencyContactOut(msgspec.Struct, kw_only=True):
    """A professional on the plan, taken from the multi-agency network when the handover was submitted. `status`:
    not_yet_told, email_queued, emailed, told, acknowledged or not_told; `status_text` says it in words. Dates
    (`told_on`, `email_sent_on`, `acknowledged_on`) are dates in England."""

    id: int
    agency: str
    name: str
    role: str
    email: str
    status: str
    status_text: str
    told_method: str | None  # "email" (by the service), or core.telling.AGENCY_METHODS
    told_on: str | None
    note: str
    not_told_reason: str | None
    email_sent_on: str | None
    acknowledged_on: str | None


class TellingOut(msgspec.Struct, kw_only=True):
    """Who has been told on one handover. `required`: its checklist version records telling here (earlier versions
    keep it in their answers, and the lists are empty); `missing`: what still stops the transfer closing."""

    required: bool
    family_notices: list[FamilyNoticeOut]
    agency_contacts: list[AgencyContactOut]
    missing: list[str]


class FamilyToldIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who in the family was told, how (letter, visit or phone) and on which date."""

    told: str
    method: str
    told_on: IsoDate


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Why they have not been told."""

    reason: str


class AgencyToldIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How a professional was told another way (phone, meeting, letter or own_email), on which date, with an optional
    note."""

    method: str
    told_on: IsoDate
    note: str = ""


class Recorded(msgspec.Struct, kw_only=True):
    """What is recorded now: the handover's telling as `GET .../telling` reads it."""

    telling: TellingOut


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


async def _telling(request: Request[Any, Any, Any], handover_id: int) -> TellingOut:
    view = await viewable(request, handover_id)
    reader = database(request).reader
    notices = await store.family_notices_of(reader, handover_id)
    contacts = [shown(contact) for contact in await store.agency_contacts_of(reader, handover_id)]
    return TellingOut(
        required=view.checklist.telling is not None,
        family_notices=[
            FamilyNoticeOut(
                id=n.id, told=n.told, method=n.method, told_on=n.told_on, reason=n.note if n.method == rules.NOT_TOLD
                else "", recorded_by=n.recorded_by, recorded_at=n.recorded_at,
            )
            for n in notices
        ],
        agency_contacts=[
            AgencyContactOut(
                id=c.contact.id, agency=c.contact.agency, name=c.contact.name, role=c.contact.role,
                email=c.contact.email, status=c.status, status_text=c.words, told_method=c.contact.told_method,
                told_on=c.contact.told_on, note=c.contact.note, not_told_reason=c.contact.not_told_reason,
                email_sent_on=_iso(day_of(c.contact.email_sent_at)),
                acknowledged_on=_iso(day_of(c.contact.acknowledged_at)),
            )
            for c in contacts
        ],
        missing=list(view.facts.telling_missing),
    )  # fmt: skip


@get("/handovers/{handover_id:int}/telling", responses=_answers(*READ_ANSWERS))
async def read_telling(request: Request[Any, Any, Any], handover_id: FromPath[int]) -> TellingOut:
    """Who has been told of the new worker: the family's notices, each professional on the plan with their status,
    and what still stops the transfer closing."""
    telling = await _telling(request, handover_id)
    await audit_view(request, handover_id, "api telling")
    return telling


@post("/handovers/{handover_id:int}/family-notices", guards=[writers_only], status_code=201, responses=WRITE)
async def family_told_api(
    request: Request[Any, Any, Any], handover_id: FromPath[int], data: JSONBody[FamilyToldIn]
) -> Recorded:
    """Record that someone in the family (or the child) was told. 422 keyed told, method, told_on; 409 when this
    account may not record it (a service account, someone not on the handover, a closed handover)."""
    await actions.record_family_told(
        database(request), checklists(request), request.user.actor, handover_id, told=data.told, method=data.method,
        told_on=data.told_on,
    )  # fmt: skip
    return Recorded(telling=await _telling(request, handover_id))


@post("/handovers/{handover_id:int}/family-notices/not-told", guards=[writers_only], status_code=201, responses=WRITE)
async def family_not_told_api(
    request: Request[Any, Any, Any], handover_id: FromPath[int], data: JSONBody[ReasonIn]
) -> Recorded:
    """Record why the child and family have not been told. 422 keyed reason; 409 as for a notice."""
    await actions.record_family_not_told(
        database(request), checklists(request), request.user.actor, handover_id, reason=data.reason
    )
    return Recorded(telling=await _telling(request, handover_id))


@post(
    "/handovers/{handover_id:int}/agency-contacts/{contact_id:int}/email",
    guards=[writers_only],
    status_code=200,
    responses=WRITE,
)
async def email_agency_api(
    request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int]
) -> Recorded:
    """Tell a professional by the service's e-mail (queued in the outbox, with a single-use link to confirm it; no
    child's name in it). 409 when they are told already, have a reason recorded, or have no e-mail address."""
    await actions.email_agency(database(request), checklists(request), request.user.actor, handover_id, contact_id)
    return Recorded(telling=await _telling(request, handover_id))


@post(
    "/handovers/{handover_id:int}/agency-contacts/{contact_id:int}/told",
    guards=[writers_only],
    status_code=200,
    responses=WRITE,
)
async def agency_told_api(
    request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int], data: JSONBody[AgencyToldIn]
) -> Recorded:
    """Record how a professional was told another way. 422 keyed method, told_on, note; 409 as for the e-mail."""
    await actions.record_agency_told(
        database(request), checklists(request), request.user.actor, handover_id, contact_id, method=data.method,
        told_on=data.told_on, note=data.note,
    )  # fmt: skip
    return Recorded(telling=await _telling(request, handover_id))


@post(
    "/handovers/{handover_id:int}/agency-contacts/{contact_id:int}/not-told",
    guards=[writers_only],
    status_code=200,
    responses=WRITE,
)
async def agency_not_told_api(
    request: Request[Any, Any, Any], handover_id: FromPath[int], contact_id: FromPath[int], data: JSONBody[ReasonIn]
) -> Recorded:
    """Record why a professional has not been told. 422 keyed reason; 409 as for the e-mail."""
    await actions.record_agency_not_told(
        database(request), checklists(request), request.user.actor, handover_id, contact_id, reason=data.reason
    )
    return Recorded(telling=await _telling(request, handover_id))


ROUTES = [read_telling, family_told_api, family_not_told_api, email_agency_api, agency_told_api, agency_not_told_api]
