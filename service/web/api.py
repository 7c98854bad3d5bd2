"""The JSON API for case management systems, under /api/v1.

A caller authenticates with an API token (`handover token create`): a service account's token reads what its teams and
roles may read, pushes cases and exports, and never takes a step of a handover (the state machine refuses it: only
people hold children's cases); a person's token acts as that person. The same state machine and object-level rules
apply to both. Every request made
with a token is in the audit trail. Bodies and responses are msgspec Structs, so the OpenAPI document Litestar
generates describes them exactly; every error has one shape: a code, a message and per-field details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import msgspec
from litestar import Request, Router, get, post, put
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream

from service import actions, db, reporting
from service.core import disagreements as disagreement_rules
from service.core.answers import SectionAnswers
from service.core.caseload import on_behalf_words
from service.core.clock import today
from service.core.due_dates import due_of
from service.core.errors import Invalid, NotFound
from service.core.numbers import ID_MAX
from service.core.pages import PAGE_NUMBER_MAX
from service.core.report import (
    REPEATED_FILTERS,
    WAIT_BAND_LABELS,
    WAITING_FOR_LABELS,
    WAITING_FOR_STATES,
    BlockerKind,
    ReportFilter,
    ReportRow,
    escalation_stages,
    parse_report_filter,
    repeated_filter_errors,
)
from service.core.tokens import token_hash
from service.core.workflow import ACTION_NAMES, blockers
from service.web import telling_api, urgent
from service.web.api_errors import API_ERRORS, ErrorBody, ErrorDetail
from service.web.context import audit_view, checklists, current_checklist, database, settings
from service.web.documents import document_api
from service.web.guards import admins_only, auditors_only, writers_only
from service.web.session import CurrentUser

BEARER = "Bearer "
OPEN_STATE_NAMES = ("draft", "submitted", "endorsed", "returned", "acknowledged")


def _errors(*codes: int) -> dict[int, ResponseSpec]:
    words = {400: "The request could not be read", 401: "No valid API token", 403: "Not allowed for this account",
             404: "Not found, or not visible to this account", 409: "Refused by the state machine, or stale",
             413: "The request is too large", 422: "The answers or fields are not valid",
             503: "The database is unavailable for a moment: try again"}  # fmt: skip
    return {code: ResponseSpec(data_container=ErrorBody, description=words[code]) for code in codes}


COMMON = (400, 401, 403, 404, 413, 503)


# ---------------------------------------------------------------- bodies


class SectionOut(msgspec.Struct, kw_only=True):
    section_id: str
    answers: SectionAnswers
    status: Literal["in_progress", "completed", "has_errors"]
    version: int
    updated_at: str


class ConfirmationOut(msgspec.Struct, kw_only=True):
    section_id: str
    confirmed_by: int
    readback: str
    confirmed_at: str


class EventOut(msgspec.Struct, kw_only=True):
    seq: int
    at: str
    actor: str | None
    action: str


class QueryOut(msgspec.Struct, kw_only=True):
    """One round of a return to the outgoing worker: the query, and the reply sent with the resubmission (the reply's
    fields are null until then). Times are ISO 8601 in UTC."""

    returned_by: int
    returned_at: str
    query: str
    replied_by: int | None
    replied_at: str | None
    reply: str | None


class DisagreementOut(msgspec.Struct, kw_only=True):
    """A professional disagreement: open until a manager resolves it, whatever stage of the escalation ladder it has
    reached (`stage` is the stage's value in the checklist, `stage_since` the date it reached it, in England).
    `overdue` is the sentence saying it is past its stage's time limit, or null."""

    id: int
    status: Literal["open", "escalated", "resolved"]
    from_checklist: bool
    about: str
    with_whom: str
    stage: str
    stage_since: str
    overdue: str | None
    outcome: str
    decided_at: str | None


# The markers of a case whose worker left (core.case_records.markers), as the OpenAPI document describes them
HeldPending = Annotated[
    bool, msgspec.Meta(description="The case is held by its team manager pending transfer: its worker left")
]
OnBehalfOf = Annotated[
    str | None,
    msgspec.Meta(description="The worker who left, on whose behalf the team manager completes the handover"),
]


class ChildLeftOut(msgspec.Struct, kw_only=True):
    """A child of the sibling group who is not part of this handover, and the reason given for that."""

    case_id: int
    child_name: str
    case_reference: str
    reason: str


class GroupOut(msgspec.Struct, kw_only=True):
    """The sibling group's handover this child's handover is one of: every child's handover in it moves through the
    workflow together (`handover_ids`, this one included), and `left_out` are the children of the group not in it."""

    id: int
    sibling_group_id: int
    sibling_group: str
    handover_ids: list[int]
    left_out: list[ChildLeftOut]


GroupField = Annotated[
    GroupOut | None,
    msgspec.Meta(description="The sibling group's handover this is one child's handover in; null for any other"),
]
ApartField = Annotated[
    list[ChildLeftOut],
    msgspec.Meta(
        description="For a child of a sibling group handed over on their own: each sibling staying behind, with the "
        "reason the siblings are not moving together; empty for any other handover"
    ),
]


DueOn = Annotated[
    str | None,
    msgspec.Meta(description="When the handover's current wait is due: an ISO date in England; null once closed"),
]
DueWait = Annotated[
    str | None,
    msgspec.Meta(
        description="Which time limit set the due date: endorsement, acknowledgement, approval, reply, transfer (the "
        "whole transfer's) or urgent_completion; null once closed"
    ),
]
OverdueBy = Annotated[int, msgspec.Meta(description="Working days past the due date; 0 when it is not overdue")]


class HandoverOut(msgspec.Struct, kw_only=True):
    id: int
    case_id: int
    case_reference: str
    checklist_id: str
    checklist_version: int
    state: str
    version: int
    author_id: int
    sending_team_id: int
    receiving_team_id: int
    receiver_id: int | None
    transfer_reason: str
    started_at: str
    submitted_at: str | None
    sections: list[SectionOut]
    confirmations: list[ConfirmationOut]
    queries: list[QueryOut]  # every round, oldest first: the last is the latest
    disagreements: list[DisagreementOut]
    records_not_up_to_date: list[str]  # each stale record found at submission or approval, with the reason given
    blockers: list[str]
    timeline: list[EventOut]
    # "completed by the team manager on behalf of <name>" when a team manager writes it for a worker who cannot
    on_behalf_of: str | None = None
    held_pending_transfer: HeldPending = False
    completed_on_behalf_of: OnBehalfOf = None
    sibling_group: Annotated[str | None, msgspec.Meta(description="The child's sibling group on record")] = None
    group: GroupField = None
    apart_from_siblings: ApartField = []
    due_on: DueOn = None
    due_wait: DueWait = None
    overdue_by_working_days: OverdueBy = 0
    urgent_at: Annotated[
        str | None,
        msgspec.Meta(description="When the head of service authorised an urgent transfer (UTC), moving the case"),
    ] = None
    urgent_reason: Annotated[str | None, msgspec.Meta(description="Why the transfer was urgent")] = None
    telling_missing: Annotated[
        list[str],
        msgspec.Meta(description="Who is still to be told of the new worker (or why not recorded) before it closes"),
    ] = []


def _left_out(children: list[db.Exclusion]) -> list[ChildLeftOut]:
    return [
        ChildLeftOut(case_id=c.case_id, child_name=c.child_name, case_reference=c.reference, reason=c.reason)
        for c in children
    ]


async def _group_out(conn: db.Conn, handover: db.Handover) -> GroupOut | None:
    """The group handover this child's handover is one of, with its children left out (None outside one)."""
    group_id = handover.group_handover_id
    group = None if group_id is None else await db.group_handover_by_id(conn, group_id)
    if group is None:
        return None
    return GroupOut(
        id=group.id,
        sibling_group_id=group.sibling_group_id,
        sibling_group=group.sibling_group,
        handover_ids=[member.handover_id for member in await db.group_members(conn, group.id)],
        left_out=_left_out(await db.group_exclusions(conn, group.id)),
    )


class HandoverList(msgspec.Struct, kw_only=True):
    total: int
    page: int
    per_page: int
    items: list[ReportRow]


Id = Annotated[int, msgspec.Meta(ge=1, le=ID_MAX)]  # larger numbers cannot name anything stored
Version = Annotated[int, msgspec.Meta(ge=0, le=ID_MAX)]  # a version as the API gave it: never negative


class NewHandover(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    receiving_team_id: Id
    receiver_id: Id | None = None
    transfer_reason: str = msgspec.field(default="")
    # required for a child of a sibling group handed over without their siblings: why they are not moving together
    apart_reason: str = msgspec.field(default="")


class Created(msgspec.Struct):
    id: int


class SectionUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    answers: SectionAnswers
    base_version: Version = msgspec.field(default=0)


class SectionSaved(msgspec.Struct, kw_only=True):
    version: int
    status: str
    errors: list[ErrorDetail]


class WorkflowRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    handover_version: Version
    reason: str = ""  # required to return or cancel
    reply: str = ""  # the reply to the query, required to resubmit a returned handover, and refused otherwise
    # on submission: why each record found not up to date is not, by the rule's key (the 422's field is stale-<key>)
    stale_reasons: dict[str, str] = {}


class WorkflowDone(msgspec.Struct):
    state: str


class ConfirmationRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    handover_version: Version
    understood: bool
    readback: str = ""


class CaseIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reference: str
    child_name: str
    date_of_birth: str  # YYYY-MM-DD, read by the same rule as the import
    allocated_worker_id: Id
    allocated_team_id: Id
    sibling_group_id: Id | None = None


class CaseOut(msgspec.Struct, kw_only=True):
    id: int
    reference: str
    child_name: str
    date_of_birth: str
    sibling_group_id: int | None
    allocated_worker_id: int
    allocated_team_id: int
    open_handover_id: int | None
    held_pending_transfer: HeldPending = False


class SiblingGroupIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str


class SiblingGroupOut(msgspec.Struct, kw_only=True):
    id: int
    name: str
    case_ids: list[int]


WorkflowName = Literal["submit", "endorse", "return", "return-to-receiver", "acknowledge", "approve", "cancel"]
assert set(get_args(WorkflowName)) == set(ACTION_NAMES), "the API's action names are the state machine's"


# ---------------------------------------------------------------- who is calling


class ApiTokenAuth(AbstractAuthenticationMiddleware):
    """Resolve the bearer token to its service account; every use of a token goes to the audit trail."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        if not header.startswith(BEARER):
            raise NotAuthorizedException("Send an API token as 'Authorization: Bearer <token>'")
        database_ = connection.app.state.db
        token = await db.api_token(database_.reader, token_hash(header[len(BEARER) :].strip()))
        found = await db.user_and_memberships(database_.reader, token.user_id) if token else None
        if token is None or found is None or found[0].disabled:
            raise NotAuthorizedException("The API token is not valid, or has been revoked")
        user, teams = found
        current = CurrentUser(id=user.id, name=user.name, actor=actions.actor_for(user, teams), teams=teams)
        await actions.record_api_request(database_, token, str(connection.scope.get("method", "")), connection.url.path)
        return AuthenticationResult(user=current, auth=token)


async def _visible(request: Request[Any, Any, Any], handover_id: int) -> actions.HandoverView:
    return await actions.visible(database(request).reader, checklists(request), request.user.actor, handover_id)


# ---------------------------------------------------------------- handovers


# The report's filters arrive as text and are read by the same parser as the auditor's page and the command line,
# so the same value gets the same message everywhere (422, keyed by the filter's name).
TeamQuery = Annotated[str | None, QueryParameter(description="a team's id")]
SideQuery = Annotated[str | None, QueryParameter(description="either, sending or receiving")]
StateQuery = Annotated[str | None, QueryParameter(name="state", description=", ".join(OPEN_STATE_NAMES))]
BlockerQuery = Annotated[str | None, QueryParameter(description=", ".join(get_args(BlockerKind)))]
MinDaysQuery = Annotated[str | None, QueryParameter(description="open for at least this many working days")]
SortQuery = Annotated[
    str | None,
    QueryParameter(description="oldest, newest, last_activity, state or most_overdue (the earliest due first)"),
]
OverdueQuery = Annotated[str | None, QueryParameter(description="yes: only handovers past their due date")]
GroupQuery = Annotated[str | None, QueryParameter(description="a sibling group's id: only the children in it")]
WaitedQuery = Annotated[
    str | None,
    QueryParameter(
        description="how long it has waited for the person it waits on now, in working days since it reached its "
        "state: " + ", ".join(f"{band} ({label.lower()})" for band, label in WAIT_BAND_LABELS.items())
    ),
]
WaitingForQuery = Annotated[
    str | None,
    QueryParameter(
        description="whom it waits on: "
        + ", ".join(f"{role} ({', '.join(WAITING_FOR_STATES[role])})" for role in WAITING_FOR_LABELS)
    ),
]
UrgentQuery = Annotated[
    str | None, QueryParameter(description="yes: only urgent transfers still completing (moved before sign-off)")
]
DisagreementStageQuery = Annotated[
    str | None,
    QueryParameter(
        description="an escalation stage's value in the checklists' ladder (for example informal or manager): only "
        "handovers with an open professional disagreement at that stage"
    ),
]


async def report_filter_from_query(
    request: Request[Any, Any, Any],
    team: TeamQuery = None,
    side: SideQuery = None,
    state_filter: StateQuery = None,
    blocker: BlockerQuery = None,
    min_days: MinDaysQuery = None,
    sort: SortQuery = None,
    group: GroupQuery = None,
    overdue: OverdueQuery = None,
    waited: WaitedQuery = None,
    waiting_for: WaitingForQuery = None,
    urgent: UrgentQuery = None,
    disagreement_stage: DisagreementStageQuery = None,
) -> ReportFilter:
    """The report's filters from the query string, for every route that takes them (a dependency). A filter given
    more than once is refused (400, each by name), as the auditors' page refuses it: which value was meant cannot be
    known, and taking the last would answer a question that was not asked."""
    repeated = repeated_filter_errors(name for name, _ in request.query_params.multi_items())
    if repeated:
        extra = [{"key": name, "message": message} for name, message in repeated.items()]
        raise HTTPException(status_code=400, detail=REPEATED_FILTERS, extra=extra)
    query = {"team": team, "side": side, "state": state_filter, "blocker": blocker, "min_days": min_days}
    query |= {"sort": sort, "group": group, "overdue": overdue, "waited": waited, "waiting_for": waiting_for,
              "urgent": urgent, "disagreement_stage": disagreement_stage}  # fmt: skip
    teams = [team.id for team in await db.teams(database(request).reader)]
    report_filter = parse_report_filter(query, escalation_stages(checklists(request).values()), teams=teams)
    group_id = report_filter.sibling_group_id
    if group_id is not None and not await db.sibling_group_exists(database(request).reader, group_id):
        raise NotFound(f"sibling group {group_id}")  # a group not on record: 404, not an empty report
    return report_filter


@get(
    "/handovers",
    guards=[auditors_only],
    responses=_errors(*COMMON, 422),
    dependencies={"report_filter": Provide(report_filter_from_query)},
)
async def list_handovers(
    request: Request[Any, Any, Any],
    report_filter: NamedDependency[ReportFilter],
    page: Annotated[int, QueryParameter(ge=1, le=PAGE_NUMBER_MAX)] = 1,
    per_page: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
) -> HandoverList:
    """Handovers that are not complete, with the same filters as the auditors' report."""
    rows, total = await reporting.page_of_rows(
        database(request), checklists(request), report_filter, page, per_page, today()
    )
    return HandoverList(total=total, page=page, per_page=per_page, items=rows)


@get("/handovers/{handover_id:int}", responses=_errors(*COMMON))
async def read_handover(request: Request[Any, Any, Any], handover_id: FromPath[int]) -> HandoverOut:
    """One handover with its answers, checklist version, state, confirmations, what blocks it, and its timeline; for
    a child of a sibling group, the group's handover it is one of and the children left out of it with why, or, for
    a child handed over alone, the siblings staying behind with why they are not moving together."""
    view = await _visible(request, handover_id)
    await audit_view(request, handover_id, "api")
    h = view.handover
    timeline = await db.timeline(database(request).reader, handover_id)
    queries = await db.queries_of(database(request).reader, handover_id)
    disagreements = await db.disagreements_of(database(request).reader, handover_id)
    due = due_of(h, view.checklist, today())
    overdue = {
        d.id: found.sentence()
        for d in disagreements
        if d.status != "resolved"
        and (found := disagreement_rules.overdue_at(view.checklist, d.stage, d.stage_since, today()))
    }
    return HandoverOut(
        id=h.id, case_id=h.case_id, case_reference=h.case_reference, checklist_id=h.checklist_id,
        checklist_version=h.checklist_version, state=h.state, version=h.version, author_id=h.author_id,
        sending_team_id=h.sending_team_id, receiving_team_id=h.receiving_team_id, receiver_id=h.receiver_id,
        transfer_reason=h.transfer_reason, started_at=h.started_at, submitted_at=h.submitted_at,
        sections=[SectionOut(section_id=s.section_id, answers=s.answers, status=s.status,  # type: ignore[arg-type]
                             version=s.version, updated_at=s.updated_at) for s in view.sections.values()],
        confirmations=[ConfirmationOut(section_id=c.section_id, confirmed_by=c.user_id, readback=c.readback,
                                       confirmed_at=c.confirmed_at) for c in view.confirmations.values()],
        queries=[QueryOut(returned_by=q.returned_by, returned_at=q.returned_at, query=q.query, replied_by=q.replied_by,
                          replied_at=q.replied_at, reply=q.reply) for q in queries],
        disagreements=[DisagreementOut(id=d.id, status=d.status, from_checklist=bool(d.checklist_key),  # type: ignore[arg-type]
                                       about=d.about, with_whom=d.with_whom, stage=d.stage, stage_since=d.stage_since,
                                       overdue=overdue.get(d.id), outcome=d.outcome, decided_at=d.decided_at)
                       for d in disagreements],
        records_not_up_to_date=list(view.facts.stale_records),
        blockers=blockers(view.facts),
        timeline=[EventOut(seq=e.seq, at=e.at, actor=e.actor, action=e.action) for e in timeline],
        on_behalf_of=on_behalf_words(h.on_behalf_of_name) if h.on_behalf_of_name else None,
        held_pending_transfer=bool(h.held_pending_transfer), completed_on_behalf_of=h.on_behalf_of_name,
        sibling_group=h.sibling_group, group=await _group_out(database(request).reader, h),
        apart_from_siblings=_left_out(await db.apart_from_siblings(database(request).reader, h.id)),
        due_on=due.due_on.isoformat() if due else None, due_wait=due.wait if due else None,
        overdue_by_working_days=due.overdue_by if due else 0, urgent_at=h.urgent_at, urgent_reason=h.urgent_reason,
        telling_missing=list(view.facts.telling_missing),
    )  # fmt: skip


@post("/cases/{case_id:int}/handovers", guards=[writers_only], status_code=201, responses=_errors(*COMMON, 409, 422))
async def create_handover(
    request: Request[Any, Any, Any], case_id: FromPath[int], data: JSONBody[NewHandover]
) -> Created:
    """Start a handover for a case allocated to this account."""
    try:
        handover_id = await actions.start_handover(
            database(request), request.user.actor, current_checklist(request), case_id=case_id,
            receiving_team_id=data.receiving_team_id, receiver_id=data.receiver_id,
            transfer_reason=data.transfer_reason, apart_reason=data.apart_reason,
        )  # fmt: skip
    except Invalid as exc:  # the rule names the form's fields; the body names them with their ids
        body_names = {"receiving_team": "receiving_team_id", "receiver": "receiver_id"}
        raise Invalid({body_names.get(key, key): message for key, message in exc.errors.items()}) from exc
    return Created(handover_id)


@put(
    "/handovers/{handover_id:int}/sections/{section_id:str}",
    guards=[writers_only],
    responses=_errors(*COMMON, 409, 422),
)
async def update_section(
    request: Request[Any, Any, Any],
    handover_id: FromPath[int],
    section_id: FromPath[str],
    data: JSONBody[SectionUpdate],
) -> SectionSaved:
    """Save a section's answers, validated exactly as the pages are; a stale base_version gets 409."""
    await _visible(request, handover_id)
    version, errors = await actions.save_section(
        database(request), checklists(request), request.user.actor, handover_id, section_id, data.answers,
        data.base_version, finished=True,
    )  # fmt: skip
    status = "completed" if not errors else "has_errors"
    return SectionSaved(version=version, status=status, errors=[ErrorDetail(k, v) for k, v in errors.items()])


@post(
    "/handovers/{handover_id:int}/actions/{name:str}",
    guards=[writers_only],
    status_code=200,
    responses=_errors(*COMMON, 409, 422),
)
async def workflow_action(
    request: Request[Any, Any, Any],
    handover_id: FromPath[int],
    name: FromPath[WorkflowName],
    data: JSONBody[WorkflowRequest],
) -> WorkflowDone:
    """Submit, endorse, return, acknowledge, approve or cancel: the same state machine and refusals as the pages.
    Returning or cancelling needs a reason; resubmitting a handover returned with a query needs a reply to it."""
    await _visible(request, handover_id)
    state = await actions.act(
        database(request), checklists(request), request.user.actor, handover_id, ACTION_NAMES[name],
        data.handover_version, data.reason, reply=data.reply, stale_reasons=data.stale_reasons,
    )  # fmt: skip
    return WorkflowDone(state.value)


@post(
    "/handovers/{handover_id:int}/confirmations/{section_id:str}",
    guards=[writers_only],
    status_code=200,
    responses=_errors(*COMMON, 409, 422),
)
async def confirm(
    request: Request[Any, Any, Any],
    handover_id: FromPath[int],
    section_id: FromPath[str],
    data: JSONBody[ConfirmationRequest],
) -> WorkflowDone:
    """The receiving worker's confirmation of one critical item, with their read-back where one is needed."""
    await _visible(request, handover_id)
    await actions.confirm_item(
        database(request), checklists(request), request.user.actor, handover_id, section_id,
        data.handover_version, understood=data.understood, readback=data.readback,
    )  # fmt: skip
    view = await _visible(request, handover_id)
    return WorkflowDone(view.handover.state)


# ---------------------------------------------------------------- cases and sibling groups


def _case_out(case: db.Case) -> CaseOut:
    return CaseOut(
        id=case.id, reference=case.reference, child_name=case.child_name, date_of_birth=case.date_of_birth,
        sibling_group_id=case.sibling_group_id, allocated_worker_id=case.allocated_worker_id,
        allocated_team_id=case.allocated_team_id, open_handover_id=case.open_handover_id,
        held_pending_transfer=case.held_pending_transfer,
    )  # fmt: skip


@get("/cases/{case_id:int}", responses=_errors(*COMMON))
async def read_case(request: Request[Any, Any, Any], case_id: FromPath[int]) -> CaseOut:
    """A case, for its allocated worker, an administrator account or an auditor."""
    actor = request.user.actor
    case = await db.case_by_id(database(request).reader, case_id)
    if case is None or not (actor.is_admin or actor.is_auditor or case.allocated_worker_id == actor.user_id):
        raise NotFound(f"case {case_id}")
    return _case_out(case)


@post("/cases", guards=[writers_only, admins_only], status_code=201, responses=_errors(*COMMON, 409, 422))
async def create_case(request: Request[Any, Any, Any], data: JSONBody[CaseIn]) -> CaseOut:
    """Push a case in from the case management system (an administrator account)."""
    case = actions.NewCase(
        reference=data.reference, child_name=data.child_name, date_of_birth=data.date_of_birth,
        worker_id=data.allocated_worker_id, team_id=data.allocated_team_id, sibling_group_id=data.sibling_group_id,
    )  # fmt: skip
    return _case_out(await actions.create_case(database(request), request.user.id, case, via="api"))


@post("/sibling-groups", guards=[writers_only, admins_only], status_code=201, responses=_errors(*COMMON, 422))
async def create_sibling_group(request: Request[Any, Any, Any], data: JSONBody[SiblingGroupIn]) -> SiblingGroupOut:
    """A sibling group: each child in it is a case of their own."""
    group_id = await actions.create_sibling_group(database(request), request.user.id, data.name)
    return SiblingGroupOut(id=group_id, name=data.name.strip(), case_ids=[])


@get("/sibling-groups/{group_id:int}", guards=[admins_only], responses=_errors(*COMMON))
async def read_sibling_group(request: Request[Any, Any, Any], group_id: FromPath[int]) -> SiblingGroupOut:
    reader = database(request).reader
    group = await db.sibling_group(reader, group_id)
    if group is None:
        raise NotFound(f"sibling group {group_id}")
    return SiblingGroupOut(id=group[0], name=group[1], case_ids=await db.case_ids_in_group(reader, group_id))


# ---------------------------------------------------------------- export


@dataclass
class ExportOperation(Operation):
    """The export's OpenAPI operation: its 200 answer is JSON Lines or CSV, as `format` asks (Litestar documents one
    media type a response; this names both, so clients and the schema checks know what each is)."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            ok.content = {"application/x-ndjson": text, "text/csv": text}


@get(
    "/exports/incomplete",
    guards=[auditors_only],
    responses=_errors(*COMMON, 422),
    operation_class=ExportOperation,
    dependencies={"report_filter": Provide(report_filter_from_query)},
)
async def export_incomplete(
    request: Request[Any, Any, Any],
    report_filter: NamedDependency[ReportFilter],
    format: FromQuery[Literal["csv", "jsonl"]] = "jsonl",
) -> Stream:
    """The incomplete-handovers export, streamed (one JSON object per line, or CSV)."""
    export_id = await actions.record_export(
        database(request), settings(request), request.user.id, report_filter, format, "api"
    )
    chunks, media_type = reporting.FORMATS[format]
    rows = reporting.all_rows(database(request), checklists(request), report_filter, today())
    return Stream(
        actions.delivering(chunks(rows), database(request), request.user.id, export_id), media_type=media_type
    )


api_router = Router(
    path="/api/v1",
    route_handlers=[
        list_handovers, read_handover, create_handover, update_section, workflow_action, confirm,
        read_case, create_case, create_sibling_group, read_sibling_group, export_incomplete,
        urgent.authorise_urgent_api, document_api, *telling_api.ROUTES,
    ],
    middleware=[DefineMiddleware(ApiTokenAuth)],
    security=[{"apiToken": []}],
    tags=["api"],
    exception_handlers=API_ERRORS,
)  # fmt: skip
