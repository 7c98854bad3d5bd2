"""The benchmarks' realistic seed: council-shaped caseloads and teams, history with one case in ten open, the
service's own schema, and an audit chain the verifier accepts."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.seed import OPEN_STATES, TEAM_SIZE, build, caseloads_for, draw_caseload
from service import audit_trail, db
from tests.helpers import settings_for_tests

pytestmark = pytest.mark.sqlite_only

HANDOVERS = 3_000


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("realistic")
    figures = build(folder / "handover.db", HANDOVERS, caseload="realistic")
    assert figures is not None and figures.handovers == HANDOVERS and figures.rows > HANDOVERS
    return folder


def rows(folder: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(folder / "handover.db") as conn:
        return conn.execute(sql).fetchall()


def test_most_workers_hold_10_to_25_children_a_few_about_40_and_the_mean_is_about_16() -> None:
    loads = caseloads_for(200_000, random.Random(7))
    assert 0.8 <= sum(10 <= n <= 25 for n in loads) / len(loads) <= 0.95
    assert 0.03 <= sum(38 <= n <= 42 for n in loads) / len(loads) <= 0.07
    assert 15 <= sum(loads) / len(loads) <= 17
    assert sum(caseloads_for(1_234, random.Random(1))) == 1_234
    rng = random.Random(2)
    assert all(3 <= draw_caseload(rng) <= 42 for _ in range(10_000))


def test_more_cases_means_more_workers_not_fuller_caseloads() -> None:
    small, large = caseloads_for(10_000, random.Random(3)), caseloads_for(100_000, random.Random(3))
    assert 9 <= len(large) / len(small) <= 11
    assert abs(sum(large) / len(large) - sum(small) / len(small)) < 1


def test_the_seed_holds_caseloads_in_teams_of_eight_and_a_manager(seeded: Path) -> None:
    loads = [n for (n,) in rows(seeded, "SELECT COUNT(*) FROM cases GROUP BY allocated_worker_id")]
    assert sum(10 <= n <= 25 for n in loads) / len(loads) >= 0.75
    assert 14 <= sum(loads) / len(loads) <= 18
    teams = rows(
        seeded,
        "SELECT team_id, SUM(role = 'worker'), SUM(role = 'manager') FROM memberships GROUP BY team_id",
    )
    assert len(teams) == -(-len(loads) // TEAM_SIZE)
    assert all(workers <= TEAM_SIZE and managers == 1 for _, workers, managers in teams)
    assert rows(seeded, "SELECT COUNT(*) FROM users WHERE is_auditor = 1") == [(1,)]


def test_about_a_third_of_children_are_in_sibling_groups_held_by_one_worker(seeded: Path) -> None:
    ((cases, in_groups),) = rows(seeded, "SELECT COUNT(*), COUNT(sibling_group_id) FROM cases")
    assert 0.2 <= in_groups / cases <= 0.45
    groups = rows(
        seeded,
        "SELECT COUNT(*), COUNT(DISTINCT allocated_worker_id) FROM cases WHERE sibling_group_id IS NOT NULL"
        " GROUP BY sibling_group_id",
    )
    assert all(2 <= size <= 4 and workers == 1 for size, workers in groups)


def test_about_one_case_in_ten_has_one_open_handover_in_every_open_state(seeded: Path) -> None:
    ((cases,),) = rows(seeded, "SELECT COUNT(*) FROM cases")
    open_rows = rows(
        seeded,
        "SELECT h.case_id, h.state, h.author_id = c.allocated_worker_id, h.started_at, h.sending_team_id,"
        " h.receiving_team_id FROM handovers h JOIN cases c ON c.id = h.case_id"
        " WHERE h.state NOT IN ('closed', 'cancelled')",
    )
    assert len(open_rows) == round(cases / 10)
    assert max(Counter(case for case, *_ in open_rows).values()) == 1
    assert set(Counter(state for _, state, *_ in open_rows)) == set(OPEN_STATES)
    assert all(by_current_worker for _, _, by_current_worker, *_ in open_rows)
    recent = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    assert all(started > recent for *_, started, _, _ in open_rows)
    assert all(sending != receiving for *_, sending, receiving in open_rows)
    ((first, closed),) = rows(seeded, "SELECT MIN(started_at), SUM(state = 'closed') FROM handovers")
    assert str(first) < (datetime.now(UTC) - timedelta(days=89)).isoformat()
    assert closed > HANDOVERS / 2


def test_each_case_has_one_current_allocation_to_its_worker_and_one_more_per_closed_handover(seeded: Path) -> None:
    assert rows(
        seeded,
        "SELECT COUNT(*) FROM cases c JOIN allocations a ON a.case_id = c.id AND a.allocated_to IS NULL"
        " AND a.worker_id = c.allocated_worker_id AND a.team_id = c.allocated_team_id",
    ) == rows(seeded, "SELECT COUNT(*) FROM cases")
    ((allocations,),) = rows(seeded, "SELECT COUNT(*) FROM allocations")
    assert rows(seeded, "SELECT COUNT(*) + (SELECT COUNT(*) FROM cases) FROM handovers WHERE state = 'closed'") == [
        (allocations,)
    ]


def test_the_schema_is_the_services_with_every_index_and_the_audit_chain_verifies(seeded: Path, tmp_path: Path) -> None:
    async def migrate() -> None:
        database = db.SqliteDatabase(tmp_path / "fresh.db", "NORMAL")
        await database.open()
        await database.close()

    asyncio.run(migrate())
    schema = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name"
    with sqlite3.connect(tmp_path / "fresh.db") as fresh:
        assert rows(seeded, schema) == fresh.execute(schema).fetchall()
    assert rows(seeded, "PRAGMA journal_mode") == [("wal",)]
    assert rows(seeded, "PRAGMA integrity_check") == [("ok",)]
    checked, problems = asyncio.run(audit_trail.verify(settings_for_tests(seeded)))
    assert problems == [] and checked == 3 * HANDOVERS
