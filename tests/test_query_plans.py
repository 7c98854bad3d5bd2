"""The lists people open all day are searched through indexes, not by reading every handover in a state."""

from __future__ import annotations

import sqlite3

import pytest

from service import db
from service.settings import Settings

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]


async def test_the_inbox_searches_by_receiver(database: db.Database, settings: Settings) -> None:
    sql, params = db.inbox_query(1, [1, 2])
    with sqlite3.connect(settings.database) as conn:
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "handovers_by_receiver" in plan and "handovers_by_state" not in plan, plan


async def test_a_managers_queue_is_read_in_order_from_the_index(database: db.Database, settings: Settings) -> None:
    for team_column, index in (("sending_team_id", "handovers_by_sending_team"),
                               ("receiving_team_id", "handovers_by_receiving_team")):  # fmt: skip
        sql, params = db.queue_query("submitted", team_column, [1])
        with sqlite3.connect(settings.database) as conn:
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, [*params, 25, 0]))
        assert index in plan and "TEMP B-TREE" not in plan, plan


def plan_of(settings: Settings, sql: str, params: list[object]) -> list[str]:
    with sqlite3.connect(settings.database) as conn:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


async def test_what_waits_for_a_person_is_counted_by_searching_indexes(
    database: db.Database, settings: Settings
) -> None:
    sql, params = db.waiting_counts_query(1, [1, 2], [3])
    plan = plan_of(settings, sql, params)
    reads = [step for step in plan if "handovers" in step]
    assert len(reads) == 6 and all(step.startswith("SEARCH handovers USING") for step in reads), plan
    for index in ("handovers_by_author", "handovers_by_receiver", "handovers_by_sending_team",
                  "handovers_by_receiving_team"):  # fmt: skip
        assert index in " | ".join(plan), (index, plan)


@pytest.mark.parametrize("finished", [False, True])
async def test_what_a_worker_received_is_searched_by_receiver(
    database: db.Database, settings: Settings, finished: bool
) -> None:
    sql, params, count = db.received_query(1, finished=finished)
    for query, values in ((sql + " LIMIT ? OFFSET ?", [*params, 25, 0]), (count, params)):
        plan = " | ".join(plan_of(settings, query, values)) + " |"
        assert "handovers_by_receiver" in plan and "handovers_by_state" not in plan, plan
        assert "SCAN h " not in plan and "SCAN handovers " not in plan, plan


@pytest.mark.parametrize("finished", [False, True])
async def test_what_a_worker_started_is_searched_by_author(
    database: db.Database, settings: Settings, finished: bool
) -> None:
    sql, params, count = db.started_query(1, finished=finished)
    for query, values in ((sql + " LIMIT ? OFFSET ?", [*params, 25, 0]), (count, params)):
        plan = " | ".join(plan_of(settings, query, values)) + " |"
        assert "handovers_by_author" in plan and "handovers_by_state" not in plan, plan
        assert "SCAN h " not in plan and "SCAN handovers " not in plan, plan


async def test_a_workers_cases_find_the_handover_that_brought_each_by_the_cases_index(
    database: db.Database, settings: Settings
) -> None:
    sql, params, count = db.allocated_query(1)
    plan = " | ".join(plan_of(settings, sql + " LIMIT ? OFFSET ?", [*params, 25, 0])) + " |"
    assert "handovers_by_case" in plan and "handovers_by_receiver" not in plan and "SCAN h " not in plan, plan
    assert "SEARCH h USING COVERING INDEX handovers_by_case" in plan, "the handover rows themselves are not read"
    assert "cases_by_worker" in plan and "SCAN c " not in plan, plan
    assert " ".join(plan_of(settings, count, params)).startswith("SEARCH c USING COVERING INDEX cases_by_worker")


async def test_who_is_asking_is_read_without_reading_every_team(database: db.Database, settings: Settings) -> None:
    """Every request reads the person and the teams they oversee one step up: only the head of service's branch lists
    every team (an uncorrelated subquery, evaluated only for them); anyone else's teams are found through the
    services they manage, by index."""
    from service.db.people import USER_AND_MEMBERSHIPS_SQL

    plan = plan_of(settings, USER_AND_MEMBERSHIPS_SQL, [1])
    # the head of service's teams: every team, in a subquery that is not correlated (worked out only when needed)
    every_team = plan.index(next(step for step in plan if step.startswith("SCAN o")))
    assert plan[every_team - 1].startswith("SCALAR SUBQUERY"), plan
    # a service manager's: the services they manage, then those services' teams, each by index
    managed = plan[every_team + 1 :]
    assert "SEARCH s USING COVERING INDEX services_by_manager (service_manager_id=?)" in managed, plan
    assert "SEARCH o USING COVERING INDEX teams_by_service (service_id=?)" in managed, plan
    # nothing else reads a whole table but head_of_service, which holds one row at most
    assert [step for step in plan if step.startswith("SCAN")] == ["SCAN hs", plan[every_team]], plan
