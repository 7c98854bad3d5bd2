"""The auditor's report of incomplete handovers, and its downloads. Read-only, across all teams."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template

from service import actions, db, reporting
from service.core.clock import today
from service.core.errors import Invalid, NotFound
from service.core.pages import Page, page_number
from service.core.report import (
    BLOCKER_LABELS,
    FILTER_NAMES,
    OVERDUE_CHOICES,
    SORTS,
    ReportFilter,
    parse_report_filter,
    repeated_filter_errors,
)
from service.core.workflow import STATE_LABELS, State
from service.web.context import checklists, database, page, settings
from service.web.guards import auditors_only

PER_PAGE = 50


def _filter_or_errors(request: Request[Any, Any, Any]) -> tuple[ReportFilter, dict[str, str]]:
    """The filter asked for, or the default one and the messages to show by the fields that were wrong."""
    repeated = repeated_filter_errors(name for name, _ in request.query_params.multi_items())
    try:
        report_filter = parse_report_filter(dict(request.query_params))
    except Invalid as exc:
        return ReportFilter(), exc.errors | repeated
    return (ReportFilter(), repeated) if repeated else (report_filter, {})


async def _known_group(request: Request[Any, Any, Any], report_filter: ReportFilter) -> None:
    """A report filtered by a sibling group not on record is not found (404), rather than an empty report."""
    group_id = report_filter.sibling_group_id
    if group_id is not None and not await db.sibling_group_exists(database(request).reader, group_id):
        raise NotFound(f"sibling group {group_id}")


class AuditorController(Controller):
    include_in_schema = False
    path = "/audit"
    guards = [auditors_only]  # noqa: RUF012 (Litestar's own attribute)

    @get("/incomplete", name="incomplete_report")
    async def incomplete(self, request: Request[Any, Any, Any]) -> Template:
        query = dict(request.query_params)
        report_filter, errors = _filter_or_errors(request)
        await _known_group(request, report_filter)
        number = page_number(query.get("page"))
        rows, total = await reporting.page_of_rows(
            database(request), checklists(request), report_filter, number, PER_PAGE, today()
        )
        names = await db.child_names(database(request).reader, [row.handover_id for row in rows])
        chosen_filters = {key: query[key] for key in FILTER_NAMES if query.get(key) and not errors}
        pages = Page(number, PER_PAGE, total).count
        return page(
            request,
            "audit/incomplete.html",
            status_code=400 if errors else 200,
            rows=rows,
            names=names,
            total=total,
            page_number=number,
            pages=pages,
            query=query,
            errors=errors,
            kept=urlencode(chosen_filters),
            teams=await db.teams(database(request).reader),
            sibling_groups=await db.sibling_group_names(database(request).reader),
            states={
                state.value: STATE_LABELS[state] for state in State if state not in (State.CLOSED, State.CANCELLED)
            },
            blockers=BLOCKER_LABELS,
            overdue_choices=OVERDUE_CHOICES,
            sorts=SORTS,
        )

    @get("/incomplete/{fmt:str}", name="incomplete_export")
    async def export(self, request: Request[Any, Any, Any], fmt: FromPath[str]) -> Stream | Redirect:
        if fmt not in reporting.FORMATS:
            raise NotFoundException("Exports are CSV or JSON Lines")
        report_filter, errors = _filter_or_errors(request)
        if errors:  # back to the report, which shows each wrong filter's message by the filter
            return Redirect(f"/audit/incomplete?{request.url.query}", status_code=303)
        await _known_group(request, report_filter)
        auditor_id = request.user.actor.user_id
        export_id = await actions.record_export(
            database(request), settings(request), auditor_id, report_filter, fmt, "web"
        )
        chunks, media_type = reporting.FORMATS[fmt]
        rows = reporting.all_rows(database(request), checklists(request), report_filter, today())
        filename = f"incomplete-handovers-{today().isoformat()}.{fmt}"
        return Stream(
            actions.delivering(chunks(rows), database(request), auditor_id, export_id),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
