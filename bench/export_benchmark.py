"""Export benchmark: the incomplete-handovers CSV export against the `sqlite3` shell dumping the same query.

    .venv/bin/python -m bench.export_benchmark [--handovers 200000] [--caseload heavy|realistic]

Builds a database of that many handovers (with their sections, confirmations and audit log), then runs, each in a
child process so their peak memory can be read: `handover export --incomplete --format csv` and
`sqlite3 -csv FILE QUERY`. Prints wall time and peak resident memory of each, and the ratio. Targets: the export
within 3x of the shell's time, and under 150 MB peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.seed import build
from service import db
from service.checklist import load_all
from service.core.clock import today
from service.core.report import ReportFilter
from service.reporting import report_terms
from service.settings import PROJECT_ROOT


def run_measured(command: list[str], env: dict[str, str], stdout_path: Path) -> tuple[float, float]:
    """Wall seconds and peak resident MB of one command, measured by a small separate process."""
    measured = subprocess.run(
        [sys.executable, "-m", "bench.measure", str(stdout_path), *command],
        env=env, capture_output=True, check=True, cwd=PROJECT_ROOT,
    )  # fmt: skip
    figures = json.loads(measured.stdout)
    if figures["exit"] != 0:
        raise SystemExit(f"{command[0]} failed: {measured.stderr.decode()}")
    return figures["seconds"], figures["peak_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--handovers", type=int, default=200_000)
    parser.add_argument(
        "--caseload", choices=["heavy", "realistic"], default="heavy", help="the seed's shape (bench/seed.py)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="handover-export-bench-"))
    database = folder / "handover.db"
    started = time.perf_counter()
    build(database, args.handovers, caseload=args.caseload)
    print(f"built {args.handovers:,} handovers in {time.perf_counter() - started:.1f} s ({folder})")

    counts = report_terms(load_all(PROJECT_ROOT / "checklists"), today())
    sql, params = db.incomplete_query(ReportFilter(), None, counts)
    assert not params, "the unfiltered report has no parameters"
    env = {**os.environ, "HANDOVER_DATA_DIR": str(folder), "HANDOVER_SECRET_KEY": "b" * 40}
    handover = str(Path(sys.executable).with_name("handover"))
    export_time, export_mb = run_measured(
        [handover, "export", "--incomplete", "--format", "csv"], env, folder / "export.csv"
    )
    shell_time, shell_mb = run_measured(["sqlite3", "-csv", str(database), sql], env, folder / "shell.csv")
    rows = sum(1 for _ in (folder / "export.csv").open("rb")) - 1
    shell_rows = sum(1 for _ in (folder / "shell.csv").open("rb"))
    print(f"rows exported: {rows:,} (sqlite3 shell: {shell_rows:,})")
    print(f"handover export --format csv : {export_time:6.2f} s, peak RSS {export_mb:6.1f} MB")
    print(f"sqlite3 -csv (same query)    : {shell_time:6.2f} s, peak RSS {shell_mb:6.1f} MB")
    print(f"ratio export / shell         : {export_time / shell_time:6.2f}x (target <= 3x); "
          f"memory target < 150 MB: {'met' if export_mb < 150 else 'NOT met'}")  # fmt: skip
    print(f"self RSS (benchmark driver)  : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
