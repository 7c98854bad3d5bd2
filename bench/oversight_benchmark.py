"""Oversight benchmark: the oversight page's time to first byte on one connection, and the server's memory after it.

    .venv/bin/python -m bench.oversight_benchmark [--handovers 20000] [--requests 200]

Builds a database of that many handovers with `bench.seed.build`, then spreads it over a year the way the page reads
it: closed handovers get a start in the last twelve months and a closure 1 to 60 days later, open ones a current
state begun 0 to 40 days ago, about one in five a return with a query, and one in twenty open ones an unresolved
disagreement and one in fifty an urgent transfer. Starts `handover serve` (production settings, one worker: the load
benchmark's `Server`), signs in the auditor (every team: the page's largest scope) and a team manager, and asks for
`/oversight` again and again on one kept-alive connection, timing each request to its status line and headers.
Prints p50/p95/p99 and the largest time per person (target: p99 under 200 ms for the auditor at 20,000 handovers),
and the server's resident memory after (target: under 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import math
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.load_benchmark import Server, sign_in_all
from bench.seed import build

OPEN_STATES = ("draft", "submitted", "endorsed", "returned", "acknowledged")
STAGES = ("informal", "manager", "head_of_service", "safeguarding_partnership")


def spread_over_a_year(path: Path, seed: int = 20261201) -> dict[str, int]:
    """Closure times, waits, returns, disagreements and urgent transfers for the page to count (see the module)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    rows = conn.execute("SELECT id, state, receiving_team_id FROM handovers").fetchall()
    closed, opened, queries, disagreements, urgent = [], [], [], [], []
    for handover_id, state, receiving_team in rows:
        if state == "closed":
            started = now - timedelta(days=rng.randint(1, 364), minutes=rng.randint(0, 1440))
            ended = min(now, started + timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600)))
            closed.append((started.isoformat(timespec="seconds"), ended.isoformat(timespec="seconds"),
                           ended.isoformat(timespec="seconds"), receiving_team * 9, handover_id))  # fmt: skip
            moment = started
        elif state in OPEN_STATES:
            since = now - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 1440))
            opened.append((since.isoformat(timespec="seconds"), handover_id))
            moment = since
            if rng.random() < 0.05:
                disagreements.append((handover_id, rng.choice(STAGES)))
            if rng.random() < 0.02:
                urgent.append((since.isoformat(timespec="seconds"), handover_id))
        else:
            continue
        if rng.random() < 0.2:
            queries.append((handover_id, (moment + timedelta(hours=rng.randint(1, 200))).isoformat(timespec="seconds")))
    conn.executemany(
        "UPDATE handovers SET started_at = ?, approved_at = ?, state_since = ?, approved_by = ? WHERE id = ?", closed
    )
    conn.executemany("UPDATE handovers SET state_since = ? WHERE id = ?", opened)
    conn.executemany("UPDATE handovers SET urgent_at = ?, urgent_by = 1 WHERE id = ?", urgent)
    conn.executemany(
        "INSERT INTO queries (handover_id, returned_by, returned_at, query) VALUES (?, 1, ?, 'Which school?')", queries
    )
    conn.executemany(
        "INSERT INTO disagreements (handover_id, raised_by, raised_at, about, with_whom, view, status, stage,"
        " stage_since) VALUES (?, 1, '2026-01-05T09:00:00+00:00', 'Contact', 'School', 'Unsafe', 'escalated', ?,"
        " '2026-01-05')",
        disagreements,
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return {"closed": len(closed), "open": len(opened), "returns": len(queries), "disagreements": len(disagreements)}


def first_byte_times(port: int, cookies: dict[str, str], path: str, count: int, warm_up: int = 5) -> list[float]:
    """Seconds from sending each request to having its status line and headers, on one kept-alive connection."""
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for n in range(warm_up + count):
        began = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        took = time.perf_counter() - began
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path} answered {response.status}: {body[:300]!r}")
        if n >= warm_up:
            times.append(took)
    conn.close()
    return sorted(times)


def rank(sorted_seconds: list[float], share: float) -> float:
    """Nearest rank, in milliseconds."""
    return sorted_seconds[max(0, math.ceil(share * len(sorted_seconds)) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handovers", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="handover-oversight-bench-"))
    database = folder / "handover.db"
    started = time.perf_counter()
    build(database, args.handovers)
    spread = spread_over_a_year(database)
    print(f"built {args.handovers:,} handovers in {time.perf_counter() - started:.1f} s ({folder}): {spread}")
    server = Server(folder, audit_reads=True, label="oversight")
    server.start()
    try:
        print(f"server resident memory after start-up: {server.memory_mb()['VmRSS']:.1f} MB")
        people = {"auditor": "auditor", "team manager": "m1"}
        cookies = dict(zip(people, asyncio.run(sign_in_all(server.base_url, list(people.values()))), strict=True))
        for who, jar in cookies.items():
            times = first_byte_times(server.port, jar, "/oversight", args.requests)
            print(
                f"GET /oversight as the {who:12}: first byte p50 {rank(times, 0.5):6.1f} ms, p95 "
                f"{rank(times, 0.95):6.1f} ms, p99 {rank(times, 0.99):6.1f} ms, max {times[-1] * 1000:6.1f} ms "
                f"({len(times)} requests on one connection)"
            )
        memory = server.memory_mb()
        print(f"server resident memory after the page: {memory['VmRSS']:.1f} MB (peak {memory['VmHWM']:.1f} MB); "
              f"target < 150 MB: {'met' if memory['VmHWM'] < 150 else 'NOT met'}")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
