"""The oversight page for team managers, service managers and auditors, and the two lists behind its figures:
read-only, each kept to the teams `report.report_scope` allows the signed-in person."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.response import Template

from service import db, reporting
from service.core import oversight
from service.core.clock import today
from service.core.errors import Invalid
from service.core.pages import Page, page_number
from service.core.report import (
    WAIT_BAND_LABELS,
    WAITING_FOR_LABELS,
    escalation_stages,
    report_receiving_only,
    report_scope,
)
from service.core.workflow import OPEN_STATES, STATE_LABELS, State
from service.db import oversight as oversight_db
from service.web.context import checklists, database, page
from service.web.guards import overseers_only

PER_PAGE = 50
# the open states in the order a handover passes through them (a return sends it back to its outgoing worker)
OPEN_IN_ORDER = [s.value for s in State if s in OPEN_STATES]


def _scope(request: Request[Any, Any, Any]) -> frozenset[int] | None:
    return report_scope(request.user.actor)  # the guard has let only those it allows this far


def _filter(
    request: Request[Any, Any, Any], scope: frozenset[int] | None, teams: dict[int, str], parameters: tuple[str, ...]
) -> tuple[oversight.OversightFilter, dict[str, str]]:
    """The filter asked for, or no filter and the messages to show by the names that were wrong or given twice."""
    repeated = oversight.repeated_parameter_errors((name for name, _ in request.query_params.multi_items()), parameters)
    query = {name: request.query_params.get(name, "") for name in ("team", "month")}
    try:
        chosen = oversight.parse_oversight_filter(query, scope, teams, today())
    except Invalid as exc:
        return oversight.OversightFilter(), exc.errors | repeated
    return (oversight.OversightFilter(), repeated) if repeated else (chosen, {})


async def _teams(request: Request[Any, Any, Any]) -> dict[int, str]:
    """Every team's name by id (the figures name the teams in scope only)."""
    return {team.id: team.name for team in await db.teams(database(request).reader)}


def _charts(figures: oversight.Figures, stages: dict[str, str]) -> dict[str, oversight.Chart]:
    everyone = figures.closures[0].months
    return {
        "in_progress": oversight.chart(
            "chart-in-progress",
            "Transfers in progress by stage",
            f"{figures.in_progress} in progress: "
            + ", ".join(f"{STATE_LABELS[State(s)]} {figures.state_totals[s]}" for s in figures.states)
            + ".",
            ["Handovers"],
            [(STATE_LABELS[State(s)], [figures.state_totals[s]]) for s in figures.states],
        ),
        "closures": oversight.chart(
            "chart-closures",
            "Working days from start to closure, by month",
            "Median and 90th percentile for each month: "
            + "; ".join(
                f"{oversight.month_words(c.month)}: "
                + (f"median {c.median}, 90th percentile {c.p90}" if c.count else oversight.NO_CLOSURES.lower())
                for c in everyone
            )
            + ".",
            [oversight.MEDIAN, oversight.P90],
            [(oversight.month_short(c.month), [c.median, c.p90]) for c in everyone],
        ),
        "returns": oversight.chart(
            "chart-returns",
            "Returns with a query per month",
            "; ".join(f"{oversight.month_words(m)}: {n}" for m, n in figures.returns_by_month.items()) + ".",
            ["Returns"],
            [(oversight.month_short(m), [n]) for m, n in figures.returns_by_month.items()],
        ),
    }


class OversightController(Controller):
    include_in_schema = False
    path = "/oversight"
    guards = [overseers_only]  # noqa: RUF012 (Litestar's own attribute)

    @get("/", name="oversight")
    async def dashboard(self, request: Request[Any, Any, Any]) -> Template:
        scope = _scope(request)
        teams = await _teams(request)
        chosen, errors = _filter(request, scope, teams, oversight.DASHBOARD_PARAMETERS)
        day = today()
        stages = escalation_stages(checklists(request).values())
        counts = await oversight_db.oversight_counts(
            database(request).scanner,
            scope,
            chosen.team_id,
            wait_cutoffs=oversight.wait_cutoffs(day),
            terms=reporting.report_terms(checklists(request), day),
            closed_since=oversight.month_start(oversight.months_shown(day)[0]),
            receiving_only=report_receiving_only(request.user.actor),
        )
        figures = oversight.figures(
            counts,
            open_states=OPEN_IN_ORDER,
            stages=stages,
            teams=teams,
            scope=scope,
            team_id=chosen.team_id,
            today=day,
        )
        team_query = {"team": str(chosen.team_id)} if chosen.team_id is not None else {}
        return page(
            request,
            "oversight/dashboard.html",
            status_code=400 if errors else 200,
            errors=errors,
            figures=figures,
            charts=_charts(figures, stages),
            ov=oversight,  # the page's words and month helpers (base.html has its own `words`)
            teams={t: name for t, name in teams.items() if scope is None or t in scope},
            chosen=chosen,
            team_query=team_query,
            state_labels={s: STATE_LABELS[State(s)] for s in OPEN_IN_ORDER},
            band_labels=WAIT_BAND_LABELS,
            role_labels=WAITING_FOR_LABELS,
            stage_labels=stages,
            link=lambda path, **params: path + "?" + urlencode({**params, **team_query}),
        )

    @get("/closed", name="oversight_closed")
    async def closed(self, request: Request[Any, Any, Any]) -> Template:
        return await self._list(request, "closed")

    @get("/returns", name="oversight_returns")
    async def returns(self, request: Request[Any, Any, Any]) -> Template:
        return await self._list(request, "returns")

    async def _list(self, request: Request[Any, Any, Any], which: str) -> Template:
        scope = _scope(request)
        teams = await _teams(request)
        chosen, errors = _filter(request, scope, teams, oversight.LIST_PARAMETERS)
        day = today()
        month = chosen.month or oversight.months_shown(day)[-1]
        number = 1 if "page" in errors else page_number(request.query_params.get("page"))
        since, before = oversight.month_start(month), oversight.month_start(oversight.month_after(month))
        finder = oversight_db.closed_in if which == "closed" else oversight_db.returns_in
        rows, total = await finder(
            database(request).scanner, scope, chosen.team_id, since, before, PER_PAGE, number,
            receiving_only=report_receiving_only(request.user.actor),
        )  # fmt: skip
        kept = {"month": month} | ({"team": str(chosen.team_id)} if chosen.team_id is not None else {})
        return page(
            request,
            f"oversight/{which}.html",
            status_code=400 if errors else 200,
            errors=errors,
            rows=rows,
            total=total,
            page_number=number,
            pages=Page(number, PER_PAGE, total).count,
            month=month,
            team=teams.get(chosen.team_id) if chosen.team_id is not None else None,
            chosen_team="" if chosen.team_id is None else str(chosen.team_id),
            teams={t: name for t, name in teams.items() if scope is None or t in scope},
            months={m: oversight.month_words(m) for m in reversed(oversight.months_shown(day))},
            kept=urlencode(kept),
            ov=oversight,  # the page's words and month helpers (base.html has its own `words`)
        )
