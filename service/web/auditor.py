"""The report of incomplete handovers, and its downloads: read-only, for auditors across every team and for managers
across the teams they manage or oversee (`core.report.report_scope`)."""

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
    GROUP_NOT_KNOWN_MESSAGE,
    GROUP_NUMBER_MESSAGE,
    OVERDUE_CHOICES,
    SORTS,
    URGENT_CHOICES,
    WAIT_BAND_LABELS,
    WAITING_FOR_LABELS,
    WORKING_DAYS_OPEN,
    WORKING_DAYS_OPEN_MEANS,
    WORKING_DAYS_WAITING,
    WORKING_DAYS_WAITING_MEANS,
    ReportFilter,
    escalation_stages,
    parse_report_filter,
    repeated_filter_errors,
    report_receiving_only,
    report_scope,
)
from service.core.workflow import STATE_LABELS, State
from service.db.report import sibling_group_ids, sibling_groups_in_scope
from service.web.context import checklists, database, page, settings
from service.web.guards import overseers_only

# rows of the report on one page: about a screenful, as the queue and the landing page; each row is a dozen facts
PER_PAGE = 25
# sibling groups the filter offers as a list to choose from; with more, a list would be thousands of options long
# (every group of a large service), so the group's number is typed instead
GROUPS_LISTED_MAX = 100


def _scope(request: Request[Any, Any, Any]) -> frozenset[int] | None:
    """Whose handovers the signed-in person may see (the guard has let only those with a scope through)."""
    return report_scope(request.user.actor)


async def _filter_or_errors(request: Request[Any, Any, Any]) -> tuple[ReportFilter, dict[str, str]]:
    """The filter asked for, limited to the person's scope, or the scope's default filter and the messages to show by
    the fields that were wrong."""
    scope = _scope(request)
    receiving_only = report_receiving_only(request.user.actor)
    default = ReportFilter(scope=scope, receiving_only=receiving_only)
    repeated = repeated_filter_errors(name for name, _ in request.query_params.multi_items())
    try:
        report_filter = parse_report_filter(
            dict(request.query_params),
            escalation_stages(checklists(request).values()),
            scope,
            [team.id for team in await db.teams(database(request).reader)],
            receiving_only,
        )
    except Invalid as exc:
        return default, exc.errors | repeated
    return (default, repeated) if repeated else (report_filter, {})


async def known_group(request: Request[Any, Any, Any], report_filter: ReportFilter) -> None:
    """A report filtered by a sibling group not on record, or not among those the person may choose, is not found
    (404), rather than an empty report."""
    group_id = report_filter.sibling_group_id
    if group_id is None:
        return
    reader = database(request).reader
    if report_filter.scope is None:
        known = await db.sibling_group_exists(reader, group_id)
    else:
        known = group_id in dict(
            await sibling_groups_in_scope(reader, report_filter.scope, report_filter.receiving_only)
        )
    if not known:
        raise NotFound(f"sibling group {group_id}")


class AuditorController(Controller):
    include_in_schema = False
    path = "/audit"
    guards = [overseers_only]  # noqa: RUF012 (Litestar's own attribute)

    @get("/incomplete", name="incomplete_report")
    async def incomplete(self, request: Request[Any, Any, Any]) -> Template:
        query = dict(request.query_params)
        report_filter, errors = await _filter_or_errors(request)
        reader = database(request).reader
        scope = report_filter.scope
        groups = await sibling_groups_in_scope(reader, scope, report_filter.receiving_only, GROUPS_LISTED_MAX + 1)
        listed = len(groups) <= GROUPS_LISTED_MAX
        try:
            await known_group(request, report_filter)
        except NotFound:
            if listed:  # a group not in the list is a made-up address
                raise
            # typed: the same message whether no such group is on record or it is not one this person may see
            errors = {"group": GROUP_NOT_KNOWN_MESSAGE}
            report_filter = ReportFilter(scope=scope, receiving_only=report_filter.receiving_only)
        if not listed and "group" in errors and errors["group"] != GROUP_NOT_KNOWN_MESSAGE:
            errors = {**errors, "group": GROUP_NUMBER_MESSAGE}  # there is no list to select from
        number = page_number(query.get("page"))
        rows, total = await reporting.page_of_rows(
            database(request), checklists(request), report_filter, number, PER_PAGE, today()
        )
        names = await db.child_names(reader, [row.handover_id for row in rows])
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
            teams=[team for team in await db.teams(reader) if scope is None or team.id in scope],
            sibling_groups=groups if listed else None,
            group_ids=await sibling_group_ids(reader, [row.handover_id for row in rows]),
            states={
                state.value: STATE_LABELS[state] for state in State if state not in (State.CLOSED, State.CANCELLED)
            },
            blockers=BLOCKER_LABELS,
            overdue_choices=OVERDUE_CHOICES,
            wait_bands=WAIT_BAND_LABELS,
            waiting_for=WAITING_FOR_LABELS,
            urgent_choices=URGENT_CHOICES,
            stages=escalation_stages(checklists(request).values()),
            sorts=SORTS,
            scoped=scope is not None,
            measures={
                WORKING_DAYS_OPEN: WORKING_DAYS_OPEN_MEANS,
                WORKING_DAYS_WAITING: WORKING_DAYS_WAITING_MEANS,
            },
        )

    @get("/incomplete/{fmt:str}", name="incomplete_export")
    async def export(self, request: Request[Any, Any, Any], fmt: FromPath[str]) -> Stream | Redirect:
        if fmt not in reporting.FORMATS:
            raise NotFoundException("Exports are CSV or JSON Lines")
        report_filter, errors = await _filter_or_errors(request)
        if errors:  # back to the report, which shows each wrong filter's message by the filter
            return Redirect(f"/audit/incomplete?{request.url.query}", status_code=303)
        await known_group(request, report_filter)
        person_id = request.user.actor.user_id
        # the audit entry records the filter, and with it the scope: whose handovers this person took out
        export_id = await actions.record_export(
            database(request), settings(request), person_id, report_filter, fmt, "web"
        )
        chunks, media_type = reporting.FORMATS[fmt]
        rows = reporting.all_rows(database(request), checklists(request), report_filter, today())
        filename = f"incomplete-handovers-{today().isoformat()}.{fmt}"
        return Stream(
            actions.delivering(chunks(rows), database(request), person_id, export_id),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
