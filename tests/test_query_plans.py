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
