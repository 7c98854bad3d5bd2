"""`bench.load_benchmark --compare`: the targets between its three runs judge only the phases that were run."""

from __future__ import annotations

from typing import Any

from bench.load_benchmark import comparison_targets


def phase(key: str, name: str, rps: float, ping: float, ceiling: bool = False) -> dict[str, Any]:
    return {
        "key": key,
        "ceiling": ceiling,
        "endpoints": {name: {"rps": rps, "rps_over_ping": rps / ping}},
        "ping": {"rps": ping},
    }


def run(save_rps: float) -> dict[str, Any]:
    return {
        "phases": [phase("ping", "ping", 1000.0, 1000.0, ceiling=True), phase("save", "section save", save_rps, 1000.0)]
    }


def test_only_the_phases_run_are_judged() -> None:
    found = {target["target"]: target for target in comparison_targets([run(500.0), run(300.0), run(330.0)])}
    assert sorted(found) == [
        "ping: two instances / one on PostgreSQL, req/s",
        "save / section save: two instances / one on PostgreSQL, req/s",
        "save: PostgreSQL / SQLite, one instance, each over GET /ping",
    ]
    assert found["save: PostgreSQL / SQLite, one instance, each over GET /ping"]["value"] == 0.6
    assert round(found["save / section save: two instances / one on PostgreSQL, req/s"]["value"], 2) == 1.1
