"""The auditor's report of incomplete handovers, and its downloads. Read-only, across all teams."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Stream, Template

from service import actions, db, reporting
from service.audit_trail import write_checkpoint
from service.core.report import BLOCKER_LABELS, SORTS, ReportFilter
from service.core.workflow import STATE_LABELS, State
from service.web.common import checklists, database, page, settings

PER_PAGE = 50
QUERY_FIELDS = {"team": "team_id", "side": "team_side", "state": "state", "blocker": "blocker",
                "min_days": "min_working_days", "sort": "sort"}  # fmt: skip


async def auditors_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if not connection.user.actor.is_auditor:
        raise PermissionDeniedException("Only auditors can see the incomplete-handovers report")


def parse_filter(query: dict[str, str]) -> tuple[ReportFilter, dict[str, str]]:
    """The filter the auditor asked for, or the default one and a message for each field that was wrong."""
    raw = {field: query[key] for key, field in QUERY_FIELDS.items() if query.get(key, "") != ""}
    try:
        return msgspec.convert(raw, ReportFilter, strict=False), {}
    except msgspec.ValidationError as exc:
        key = next((k for k, field in QUERY_FIELDS.items() if f"`$.{field}`" in str(exc)), "min_days")
        message = {
            "min_days": "Enter the minimum age as a whole number of working days, for example 10",
            "team": "Select a team from the list",
        }.get(key, "Select one of the options given")
        return ReportFilter(), {key: message}


class AuditorController(Controller):
    include_in_schema = False
    path = "/audit"
    guards = [auditors_only]  # noqa: RUF012 (Litestar's own attribute)

    @get("/incomplete", name="incomplete_report")
    async def incomplete(self, request: Request[Any, Any, Any]) -> Template:
        query = dict(request.query_params)
        wanted, errors = parse_filter(query)
        page_text = query.get("page", "1")
        page_number = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 100_000 else 1
        rows, total = await reporting.page_of_rows(
            database(request), checklists(request), wanted, page_number, PER_PAGE, actions.today()
        )
        kept = {key: query[key] for key in QUERY_FIELDS if query.get(key) and not errors}
        pages = max(1, -(-total // PER_PAGE))
        return page(
            request,
            "audit/incomplete.html",
            status_code=400 if errors else 200,
            rows=rows,
            total=total,
            page_number=page_number,
            pages=pages,
            query=query,
            errors=errors,
            kept=urlencode(kept),
            teams=await db.teams(database(request).reader),
            states={
                state.value: STATE_LABELS[state] for state in State if state not in (State.CLOSED, State.CANCELLED)
            },
            blockers=BLOCKER_LABELS,
            sorts=SORTS,
        )

    @get("/incomplete/{fmt:str}", name="incomplete_export")
    async def export(self, request: Request[Any, Any, Any], fmt: FromPath[str]) -> Stream:
        if fmt not in reporting.FORMATS:
            raise PermissionDeniedException("Exports are CSV or JSON Lines")
        wanted, errors = parse_filter(dict(request.query_params))
        if errors:
            raise PermissionDeniedException("The filters are not valid: go back and correct them")
        await reporting.record_export(database(request), request.user.actor.user_id, wanted, fmt, "web")
        await write_checkpoint(database(request), settings(request))
        chunks, media_type = reporting.FORMATS[fmt]
        rows = reporting.all_rows(database(request), checklists(request), wanted, actions.today())
        filename = f"incomplete-handovers-{actions.today().isoformat()}.{fmt}"
        return Stream(
            chunks(rows),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
