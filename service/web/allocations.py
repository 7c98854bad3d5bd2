"""The allocation-history download for those who oversee teams: each child's allocations as CSV (Annex A's columns) or
JSON (the DfE children's social care data feed's worker details), streamed and recorded in the audit trail."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from service import actions, db
from service.core.allocations import CHUNKS, FILTERS_HELP, MEDIA_TYPES, AllocationFilter
from service.core.clock import today
from service.core.errors import Invalid, Refused
from service.core.report import parse_report_filter, repeated_filter_errors, report_receiving_only, report_scope
from service.web.auditor import known_group
from service.web.context import database, settings

__all__ = ["FILTERS_HELP", "AllocationsController"]

# The report's filters that apply to a child's allocation history (`core.allocations.FILTERS_HELP`)
APPLIES = ("team", "group")


class AllocationsController(Controller):
    include_in_schema = False
    path = "/audit"

    @get("/allocations/{fmt:str}", name="allocations_export")
    async def export(self, request: Request[Any, Any, Any], fmt: FromPath[str]) -> Stream | Redirect:
        """The history as `fmt` ("csv" or "json", else 404) for the teams the person oversees (`report_scope`: 403
        for anyone who oversees none), filtered by the report's `team` and `group`; a wrong or repeated filter goes
        back to the report, which says what is wrong, and a sibling group not on record is 404. Recorded before any
        data leaves (`record_allocations_export`), and whether it all arrived after."""
        if fmt not in CHUNKS:
            raise NotFoundException("The allocation history downloads as CSV or JSON")
        try:
            scope = report_scope(request.user.actor)
        except Refused as exc:
            raise PermissionDeniedException(exc.reasons[0]) from exc
        names = [name for name, _ in request.query_params.multi_items() if name in APPLIES]
        try:
            if repeated_filter_errors(names):
                raise Invalid(repeated_filter_errors(names))
            teams = [team.id for team in await db.teams(database(request).reader)]
            asked = parse_report_filter(
                {name: request.query_params.get(name) for name in APPLIES},
                scope=scope,
                teams=teams,
                receiving_only=report_receiving_only(request.user.actor),
            )
        except Invalid:  # a team outside the person's scope or not on record included: the report says which
            return Redirect(f"/audit/incomplete?{request.url.query}", status_code=303)
        await known_group(request, asked)  # a group not on record, or not among those they may choose: 404
        allocation_filter = AllocationFilter(
            team_id=asked.team_id,
            sibling_group_id=asked.sibling_group_id,
            scope=scope,
            receiving_only=report_receiving_only(request.user.actor),
        )
        person = request.user.actor.user_id
        export_id = await actions.record_allocations_export(
            database(request), settings(request), person, allocation_filter, fmt, "web"
        )
        records = db.stream_allocations(database(request), allocation_filter)
        filename = f"allocations-{today().isoformat()}.{fmt}"
        return Stream(
            actions.delivering(CHUNKS[fmt](records), database(request), person, export_id, "allocations"),
            media_type=MEDIA_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
