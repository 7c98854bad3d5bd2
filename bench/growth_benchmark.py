"""Growth benchmark: the same pages and the export as the database grows from 20,000 to a million handovers.

    .venv/bin/python -m bench.growth_benchmark [--sizes 20000 200000 1000000] [--requests 300] [--warmup 30]
        [--page-seconds 60] [--keep]

A script run by hand, not a timed test. For each size it

1. seeds a database with realistic caseloads (`bench.seed.build_realistic`: teams of eight workers and a manager,
   mostly 10-25 children each, years of closed handovers, one case in ten with an open one) and prints the seeding
   time, the database's size and its bytes per handover;
2. starts `handover serve` as the load benchmark does (`bench.load_benchmark.Server`: production settings, one
   worker), signs in an auditor, a worker with a draft (the one with most endorsed handovers waiting for them) and a
   manager (of the team with most submitted handovers), and on ONE keep-alive connection, sequentially, after
   `--warmup` requests of each, sends `--requests` GETs of each page: GET /ping (before the pages and after them;
   its p50 is over both), the auditor's report first page (/audit/incomplete), the worker's landing page (/), the
   task list of their draft (/handovers/ID), their inbox (/inbox), the manager's queue (/queue). Only 200s count;
   anything else stops the run;
3. stops the server and runs `handover export --incomplete --format csv` over the whole database against the
   `sqlite3` shell dumping the same query (`.mode csv`, to a file), each in a child process whose wall time and peak
   resident memory are read (`bench.export_benchmark.run_measured`).

It then prints one table (a column per size) and the targets, and writes the figures to
bench/results/growth-<timestamp>.json. Targets (issue "Performance, restated"): the report's first page p99 < 100 ms
at a million; each of the landing page, task list, inbox and queue with a p50 within 1.5x of its p50 at 20,000
(each is also shown over GET /ping's p50 in the same run, since the machine's speed drifts between sizes); the export
within 3x of the sqlite3 shell's time and its peak memory under 150 MB. A target is judged only when its sizes were
run. Latencies are milliseconds; seeding and export times wall seconds.

Each database is deleted after its size is measured, unless `--keep` (a million handovers take about 5 GB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.export_benchmark import run_measured
from bench.load_benchmark import SECRET, Server, latency_figures, sign_in_all
from bench.load_client import LeanClient
from bench.seed import build_realistic
from service import db
from service.checklist import load_all
from service.core.clock import today
from service.core.report import ReportFilter
from service.reporting import report_terms
from service.settings import PROJECT_ROOT

SIZES = [20_000, 200_000, 1_000_000]
BASELINE = 20_000  # the size every page's p50 is compared with
PING = "ping"
REPORT = "report"
PAGES = {  # key: what the table calls it
    REPORT: "report first page",
    "landing": "landing page /",
    "task list": "task list",
    "inbox": "inbox",
    "queue": "queue",
}
GROWING_PAGES = ["landing", "task list", "inbox", "queue"]  # within GROWTH_LIMIT of their p50 at BASELINE
REPORT_P99_MS = 100.0
REPORT_AT = 1_000_000
GROWTH_LIMIT = 1.5
EXPORT_RATIO_LIMIT = 3.0
EXPORT_PEAK_MB = 150.0


@dataclass(frozen=True)
class People:
    """Who the pages are measured for: their usernames, and the worker's draft."""

    auditor: str
    worker: str
    draft_id: int
    manager: str


def choose(path: Path) -> People:
    """The auditor; the author of a draft who has the most endorsed handovers waiting for them (so that their inbox
    is not empty); a manager of the team with the most submitted handovers (so that their queue is not empty)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        auditor = conn.execute("SELECT username FROM users WHERE is_auditor = 1 ORDER BY id").fetchone()[0]
        worker, draft_id = conn.execute(
            "SELECT u.username, h.id FROM handovers h JOIN users u ON u.id = h.author_id WHERE h.state = 'draft'"
            " ORDER BY (SELECT COUNT(*) FROM handovers e WHERE e.receiver_id = h.author_id AND e.state = 'endorsed')"
            " DESC, h.id LIMIT 1"
        ).fetchone()
        manager = conn.execute(
            "SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.role = 'manager'"
            " ORDER BY (SELECT COUNT(*) FROM handovers h WHERE h.sending_team_id = m.team_id"
            " AND h.state = 'submitted') DESC, u.id LIMIT 1"
        ).fetchone()[0]
    return People(auditor, worker, draft_id, manager)


async def sequential(
    base_url: str, cookies: dict[str, str], path: str, warmup: int, requests: int, limit_s: float = 60.0
) -> list[float]:
    """Latencies (seconds) of `requests` GETs of `path`, one after another on one keep-alive connection, after
    `warmup` GETs that are not counted. A page that has become slow at a size would hold the run for many minutes:
    the warm-up ends after 3 GETs once it has taken a sixth of `limit_s` seconds, and the measuring after 20 once it
    has taken `limit_s`. Stops the run on anything but a 200."""
    client = LeanClient(base_url, cookies)
    latencies: list[float] = []
    began_warmup = time.perf_counter()
    warmed = 0
    deadline = math.inf
    try:
        while len(latencies) < requests and not (len(latencies) >= 20 and time.perf_counter() > deadline):
            began = time.perf_counter()
            response = await client.get(path)
            took = time.perf_counter() - began
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}: {response.text[:300]}")
            if deadline < math.inf:
                latencies.append(took)
                continue
            warmed += 1
            if warmed >= warmup or (warmed >= 3 and time.perf_counter() - began_warmup > limit_s / 6):
                deadline = time.perf_counter() + limit_s
    finally:
        await client.aclose()
    return latencies


def measure_pages(
    folder: Path, people: People, warmup: int, requests: int, limit_s: float
) -> dict[str, dict[str, float]]:
    """p50/p95/p99 (ms) of GET /ping and of each of `PAGES`, and how many GETs were measured (`sequential`),
    through a real server on this folder's database."""
    server = Server(folder, audit_reads=True, label="growth")
    server.start()
    try:
        auditor, worker, manager = asyncio.run(
            sign_in_all(server.base_url, [people.auditor, people.worker, people.manager])
        )
        paths = {
            REPORT: (auditor, "/audit/incomplete"),
            "landing": (worker, "/"),
            "task list": (worker, f"/handovers/{people.draft_id}"),
            "inbox": (worker, "/inbox"),
            "queue": (manager, "/queue"),
        }

        async def run_all() -> dict[str, list[float]]:
            found = {PING: await sequential(server.base_url, worker, "/ping", warmup, requests, limit_s)}
            for key, (cookies, path) in paths.items():
                found[key] = await sequential(server.base_url, cookies, path, warmup, requests, limit_s)
            found[PING] += await sequential(server.base_url, worker, "/ping", warmup, requests, limit_s)
            return found

        latencies = asyncio.run(run_all())
        errors = server.errors_logged()
    finally:
        server.stop()
    if errors:
        raise SystemExit(f"the server logged {errors} errors: {server.last_errors()}")
    return {key: {**latency_figures(sorted(values)), "count": len(values)} for key, values in latencies.items()}


def measure_export(folder: Path) -> dict[str, float]:
    """Wall seconds and peak resident MB of `handover export --incomplete --format csv` and of the sqlite3 shell
    dumping the same query as CSV, the rows each wrote (the export's less its header), and the wall seconds of
    `handover --help` (the command's start-up, without the export's work)."""
    database = folder / "handover.db"
    counts = report_terms(load_all(PROJECT_ROOT / "checklists"), today())
    sql, params = db.incomplete_query(ReportFilter(), None, counts)
    if params:
        raise SystemExit("the unfiltered report query has parameters: the sqlite3 shell cannot be given them")
    env = {key: value for key, value in os.environ.items() if not key.startswith("HANDOVER_")}
    # the servers' secret: the export signs an audit checkpoint, which must match the ones they signed
    env.update({"HANDOVER_DATA_DIR": str(folder), "HANDOVER_SECRET_KEY": SECRET})
    handover = str(Path(sys.executable).with_name("handover"))
    # the first to read a freshly seeded file reads it from the disk and leaves it in the page cache for the next (a
    # million handovers are 6.5 GB): the shell's dump runs once, untimed, before either is measured
    run_measured(["sqlite3", str(database), ".mode csv", sql], env, folder / "shell.csv")
    export_s, export_mb = run_measured(
        [handover, "export", "--incomplete", "--format", "csv"], env, folder / "export.csv"
    )
    # the command's fixed cost (interpreter, imports, settings), for telling start-up from work per row
    start_s, _ = run_measured([handover, "--help"], env, folder / "help.txt")
    shell_s, shell_mb = run_measured(["sqlite3", str(database), ".mode csv", sql], env, folder / "shell.csv")
    with (folder / "export.csv").open("rb") as exported, (folder / "shell.csv").open("rb") as dumped:
        export_rows = sum(1 for _ in exported) - 1
        shell_rows = sum(1 for _ in dumped)
    return {
        "export_s": export_s,
        "export_peak_mb": export_mb,
        "start_up_s": start_s,
        "sqlite3_s": shell_s,
        "sqlite3_peak_mb": shell_mb,
        "export_rows": export_rows,
        "sqlite3_rows": shell_rows,
    }


def database_megabytes(path: Path) -> float:
    return (
        sum(Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists()) / 1e6
    )


def run_size(handovers: int, warmup: int, requests: int, limit_s: float, keep: bool) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"handover-growth-{handovers}-"))
    database = folder / "handover.db"
    try:
        seeded = build_realistic(database, handovers)
        megabytes = database_megabytes(database)
        people = choose(database)
        pages = measure_pages(folder, people, warmup, requests, limit_s)
        exported = measure_export(folder)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return {
        "handovers": handovers,
        "cases": seeded.cases,
        "workers": seeded.workers,
        "teams": seeded.teams,
        "seed_s": seeded.seconds,
        "seed_rows": seeded.rows,
        "seed_rows_per_s": seeded.rows_per_second,
        "megabytes": megabytes,
        "bytes_per_handover": megabytes * 1e6 / handovers,
        "load_average": os.getloadavg(),
        "requests": requests,
        "pages": pages,
        "export": exported,
        "folder": str(folder) if keep else "",
    }


# ---------------------------------------------------------------- figures, table and targets


def add_ratios(runs: list[dict[str, Any]]) -> None:
    """Each page's p50 over its p50 at `BASELINE` (`x_baseline`), and over GET /ping's p50 in the same run
    (`over_ping`); `x_baseline` is left out when the baseline size was not run."""
    baseline = next((run for run in runs if run["handovers"] == BASELINE), None)
    for run in runs:
        ping = run["pages"][PING]["p50_ms"]
        for key in PAGES:
            page = run["pages"][key]
            page["over_ping"] = page["p50_ms"] / ping
            if baseline is not None:
                page["x_baseline"] = page["p50_ms"] / baseline["pages"][key]["p50_ms"]
        run["export"]["ratio"] = run["export"]["export_s"] / run["export"]["sqlite3_s"]


def targets(runs: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """Each target judged on these runs (after `add_ratios`): what it says with the figure, and whether it is met.
    The report's p99 is judged at `REPORT_AT` handovers, the pages' growth at every size but the baseline, the export
    at every size."""
    judged = []
    for run in runs:
        size = f"{run['handovers']:,}"
        if run["handovers"] == REPORT_AT:
            p99 = run["pages"][REPORT]["p99_ms"]
            judged.append((f"{size}: report first page p99 {p99:.1f} ms < {REPORT_P99_MS:.0f} ms", p99 < REPORT_P99_MS))
        if run["handovers"] != BASELINE:
            for key in GROWING_PAGES:
                growth = run["pages"][key].get("x_baseline")
                if growth is not None:
                    judged.append((f"{size}: {PAGES[key]} p50 {growth:.2f}x its {BASELINE:,} figure <= "
                                   f"{GROWTH_LIMIT}x", growth <= GROWTH_LIMIT))  # fmt: skip
        ratio, peak = run["export"]["ratio"], run["export"]["export_peak_mb"]
        judged.append((f"{size}: export {ratio:.2f}x the sqlite3 shell <= {EXPORT_RATIO_LIMIT:.0f}x",
                       ratio <= EXPORT_RATIO_LIMIT))  # fmt: skip
        judged.append((f"{size}: export peak memory {peak:.0f} MB < {EXPORT_PEAK_MB:.0f} MB", peak < EXPORT_PEAK_MB))
    return judged


def table(runs: list[dict[str, Any]]) -> list[str]:
    """The figures as text lines, a column per size (after `add_ratios`)."""
    rows: list[tuple[str, list[str]]] = [
        ("handovers", [f"{r['handovers']:,}" for r in runs]),
        ("cases / workers / teams", [f"{r['cases']:,}/{r['workers']:,}/{r['teams']:,}" for r in runs]),
        ("database MB", [f"{r['megabytes']:,.0f}" for r in runs]),
        ("bytes per handover", [f"{r['bytes_per_handover']:,.0f}" for r in runs]),
        ("seed s (rows/s)", [f"{r['seed_s']:.0f} ({r['seed_rows_per_s'] / 1000:.0f}k)" for r in runs]),
        (
            "GET /ping p50 / p99 ms",
            [f"{r['pages'][PING]['p50_ms']:.2f} / {r['pages'][PING]['p99_ms']:.2f}" for r in runs],
        ),
    ]
    for key, name in PAGES.items():
        pages = [r["pages"][key] for r in runs]
        rows.append((f"{name} p50 / p99 ms", [f"{p['p50_ms']:.1f} / {p['p99_ms']:.1f}" for p in pages]))
        if any(p.get("count", 0) < min(r.get("requests", 0) for r in runs) for p in pages):
            rows.append(("  requests measured (time limit)", [str(p.get("count", "")) for p in pages]))
        rows.append((f"  p50 x {BASELINE // 1000}k (over ping)",
                     [(f"{p['x_baseline']:.2f}" if "x_baseline" in p else "-") + f" ({p['over_ping']:.1f})"
                      for p in pages]))  # fmt: skip
    rows += [
        (
            "export rows (sqlite3's)",
            [f"{r['export']['export_rows']:,} ({r['export']['sqlite3_rows']:,})" for r in runs],
        ),
        ("export s", [f"{r['export']['export_s']:.2f}" for r in runs]),
        ("handover --help s (its start-up)", [f"{r['export']['start_up_s']:.2f}" for r in runs]),
        ("sqlite3 shell s", [f"{r['export']['sqlite3_s']:.2f}" for r in runs]),
        ("export / sqlite3", [f"{r['export']['ratio']:.2f}x" for r in runs]),
        ("export peak MB", [f"{r['export']['export_peak_mb']:.0f}" for r in runs]),
        ("load average (1/5/15 min)", ["/".join(f"{x:.1f}" for x in r["load_average"]) for r in runs]),
    ]
    width = max(len(name) for name, _ in rows)
    columns = [max(len(row[1][i]) for row in rows) for i in range(len(runs))]
    return [name.ljust(width) + "  " + "  ".join(v.rjust(c) for v, c in zip(values, columns, strict=True))
            for name, values in rows]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--requests", type=int, default=300, help="measured GETs of each page, one connection")
    parser.add_argument("--warmup", type=int, default=30, help="GETs of each page first, not counted")
    parser.add_argument("--page-seconds", type=float, default=60.0, help="at most this long measuring one page")
    parser.add_argument("--keep", action="store_true", help="keep each size's database and export files")
    args = parser.parse_args()
    if shutil.which("sqlite3") is None:
        raise SystemExit("the sqlite3 shell is needed (Debian: apt-get install sqlite3)")
    started = datetime.now(UTC)
    runs = []
    for size in args.sizes:
        print(f"--- {size:,} handovers")
        runs.append(run_size(size, args.warmup, args.requests, args.page_seconds, args.keep))
        print(f"    done; load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    add_ratios(runs)
    print()
    print(f"growth benchmark: {args.requests} sequential GETs of each page on one connection after {args.warmup}"
          f" (python -m bench.growth_benchmark --sizes {' '.join(map(str, args.sizes))})")  # fmt: skip
    for line in table(runs):
        print(line)
    print()
    judged = targets(runs)
    for text, met in judged:
        print(f"{'met    ' if met else 'NOT met'}  {text}")
    results = PROJECT_ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    out = results / f"growth-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(json.dumps({"started": started.isoformat(), "arguments": vars(args), "runs": runs,
                               "targets": [{"target": t, "met": m} for t, m in judged]}, indent=2))  # fmt: skip
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
