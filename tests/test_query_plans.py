"""The lists people open all day are searched through indexes, not by reading every handover in a state."""

from __future__ import annotations

import sqlite3

import pytest

from service import db
from service.settings import Settings

pytestmark = pytest.mark.anyio


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
