"""Which handovers a person whose report is limited to some teams may see, as SQL: one clause for the report, the
oversight page and the allocation history, after the rule that decides who may read a handover (`workflow.may_view`)."""

from __future__ import annotations

from typing import Any

from service.core.workflow import WITH_RECEIVER

# Where a receiver may read a handover (`workflow.may_view`): once it has reached the receiving side
_REACHED_RECEIVER = (
    "(h.state IN (" + ", ".join(f"'{state.value}'" for state in sorted(WITH_RECEIVER)) + ")"
    " OR h.urgent_by IS NOT NULL OR (h.state = 'returned' AND h.receiver_id IS NOT NULL))"
)


def visible_sql(scope: frozenset[int] | None, receiving_only: frozenset[int]) -> tuple[str, list[Any]]:
    """The condition (on handovers `h`) that a person whose report is limited to `scope` (None: every team) may see
    a handover: sent from a team in scope, or sent to one, where for the teams in `receiving_only` it has reached its
    receiving side (`core.report.report_receiving_only`, the rule of `workflow.may_view`). "1" for every team."""
    if scope is None:
        return "1", []
    teams = sorted(scope)
    full = sorted(scope - receiving_only)
    partial = sorted(scope & receiving_only)
    marks = ",".join("?" * len(teams)) or "NULL"
    full_marks = ",".join("?" * len(full)) or "NULL"
    partial_marks = ",".join("?" * len(partial)) or "NULL"
    sql = (
        f"(h.sending_team_id IN ({marks}) OR h.receiving_team_id IN ({full_marks})"
        f" OR (h.receiving_team_id IN ({partial_marks}) AND {_REACHED_RECEIVER}))"
    )
    return sql, [*teams, *full, *partial]
