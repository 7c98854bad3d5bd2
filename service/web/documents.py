"""The handover as a document for the case record: its PDF copy (from the handover's page and the API) and its
printable page.

Each copy is recorded first (`actions.produce_document`, whose audit entry and hash the copy prints on every page),
then the document is rendered from the same templates as the handover's page and converted in the document worker
(`service.documents`). A conversion that fails or takes too long answers 503 (a page, or the API's error shape):
no copy, not even part of one, leaves the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema
from litestar.params import FromPath
from litestar.response import Template

from service import actions, db, documents
from service.actions.documents import document_not_made, produce_document
from service.actions.urgent import urgent_panel
from service.core.audit import StoredEntry
from service.core.workflow import URGENT_LABEL
from service.db import telling as telling_store
from service.web.api_errors import ErrorBody, json_error
from service.web.context import audit_view, checklists, database, log, page, viewable

# The same pieces the handover's page is made of, so that the page and the document cannot say different things.
from service.web.handover import _confirmers, _shown, _titled
from service.web.telling import notice_words, shown

PDF = "application/pdf"


async def _people(reader: db.Conn, handover: db.Handover) -> list[tuple[str, str, str | None]]:
    """Who took part, each with their part and when they took it (an ISO time in UTC, or None): the outgoing worker
    and their team (with when they started it), the receiving team and worker, and whoever endorsed, acknowledged and
    approved the handover. Who submitted it, and each other step, is in its history."""

    async def name(user_id: int | None) -> str:
        user = await db.user_by_id(reader, user_id) if user_id is not None else None
        return user.name if user else "Not known"

    people: list[tuple[str, str, str | None]] = [
        ("Started by (outgoing worker)", f"{handover.author}, {handover.sending_team}", handover.started_at),
        ("Receiving team", handover.receiving_team, None),
        ("Receiving worker", handover.receiver or "Not yet chosen", None),
    ]
    steps = [("Endorsed by", handover.endorsed_by, handover.endorsed_at),
             ("Acknowledged by", handover.acknowledged_by, handover.acknowledged_at),
             ("Approved by", handover.approved_by, handover.approved_at)]  # fmt: skip
    for role, user_id, at in steps:
        if user_id is not None:
            people.append((role, await name(user_id), at))
    return people


async def _document(
    request: Request[Any, Any, Any], view: actions.HandoverView, copy: StoredEntry | None
) -> dict[str, Any]:
    """The document's context, read as the handover's page reads it (`HandoverController._view_page`)."""
    reader = database(request).reader
    handover_id = view.handover.id
    return {
        "view": view,
        "people": await _people(reader, view.handover),
        "queries": await db.queries_of(reader, handover_id),
        "disagreements": _shown(view.checklist, await db.disagreements_of(reader, handover_id)),
        "timeline": _titled(view.checklist, await db.timeline(reader, handover_id)),
        "confirmed_by": await _confirmers(reader, view),
        "urgent": await urgent_panel(reader, checklists(request), request.user.actor, view),
        "urgent_label": URGENT_LABEL,
        "left_out": await actions.group_left_out(reader, view.handover),
        "copy": copy,
        "copy_by": request.user.actor.name,
        # who was told of the new worker (a checklist version with [telling]): the family's notices and each agency
        # as the "Who has been told" page words them
        "family_notices": [
            (notice, notice_words(notice)) for notice in await telling_store.family_notices_of(reader, handover_id)
        ],
        "agency_contacts": [shown(contact) for contact in await telling_store.agency_contacts_of(reader, handover_id)],
    }


async def _pdf_of(request: Request[Any, Any, Any], handover_id: int) -> bytes:
    """Record the copy, render the whole handover, convert it; `NotFound` for a handover this person may not read,
    `DocumentUnavailable` when the conversion fails."""
    produced = await produce_document(database(request), checklists(request), request.user.actor, handover_id)
    context = await _document(request, produced.view, produced.entry)
    engine = request.app.template_engine
    if engine is None:  # never: the app is made with its templates (service.app.create_app)
        raise documents.DocumentUnavailable("the app has no template engine")
    html = engine.get_template("handover/document.html").render(**context)
    handover = produced.view.handover
    title = f"Handover for {handover.child_name} ({handover.case_reference})"
    try:
        return await documents.render_pdf(
            html, title=title, language="en-GB", stylesheets=("govuk/govuk-frontend-6.6.0.min.css", "app.css")
        )
    except documents.DocumentUnavailable as exc:
        await document_not_made(database(request), request.user.actor, handover_id, produced.entry.entry.seq, str(exc))
        raise


def _attachment(pdf: bytes, handover_id: int) -> Response[bytes]:
    return Response(
        pdf,
        media_type=PDF,
        headers={"Content-Disposition": f'attachment; filename="handover-{handover_id}.pdf"'},
    )


class DocumentController(Controller):
    """The handover's PDF copy and its printable page, for anyone who may read the handover."""

    include_in_schema = False

    @get("/handovers/{handover_id:int}/document.pdf", name="handover_document")
    async def document(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Response[Any]:
        try:
            pdf = await _pdf_of(request, handover_id)
        except documents.DocumentUnavailable as exc:
            log.error("no PDF of handover %s: %s", handover_id, exc)
            return page(
                request, "handover/document_unavailable.html", status_code=503, handover_id=handover_id,
                message=documents.UNAVAILABLE,
            )  # fmt: skip
        return _attachment(pdf, handover_id)

    @get("/handovers/{handover_id:int}/print", name="handover_print")
    async def printable(self, request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Template:
        view = await viewable(request, handover_id)
        await audit_view(request, handover_id, "print")
        context = await _document(request, view, None)
        return page(request, "handover/document_print.html", **context)


@dataclass
class PdfOperation(Operation):
    """The document's OpenAPI operation: its 200 answer is a PDF file, not JSON."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.content = {PDF: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format="binary"))}  # type: ignore[arg-type]


_API_ERRORS = {
    400: "The request could not be read",
    401: "No valid API token",
    403: "Not allowed for this account",
    404: "Not found, or not visible to this account",
    503: "The document could not be made just now, or the database is unavailable for a moment: try again",
}


@get(
    "/handovers/{handover_id:int}/document.pdf",
    operation_class=PdfOperation,
    responses={code: ResponseSpec(data_container=ErrorBody, description=words) for code, words in _API_ERRORS.items()},
    response_description="The whole handover as a tagged PDF (PDF/UA-1) for the case record",
)
async def document_api(request: Request[Any, Any, Any], handover_id: FromPath[int]) -> Response[Any]:
    """The whole handover as a PDF for the case record: every section and its answers, the receiver's confirmations
    with their read-backs, disagreements, queries, the history, the checklist id and version and the people. Each
    copy is in the audit trail (`produce_document`); every page's foot names that entry and its SHA-256 hash."""
    try:
        pdf = await _pdf_of(request, handover_id)
    except documents.DocumentUnavailable as exc:
        log.error("no PDF of handover %s: %s", handover_id, exc)
        return json_error("unavailable", documents.UNAVAILABLE, 503)
    return _attachment(pdf, handover_id)
