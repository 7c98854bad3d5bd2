"""Mutation testing's results, per module: how many mutants the tests killed, and every survivor accounted for.

Run by `bash scripts/mutation.sh` after `mutmut run` (configured in pyproject.toml's `[tool.mutmut]`); reads the
results mutmut keeps under `mutants/`. A surviving mutant is either accepted in `bench/mutation_accepted/`, with one
line saying why (it cannot change behaviour, or why it is tolerated), or a gap in the tests. The score is the
share of the mutants not accepted as equivalent that the tests killed.

    python -m bench.mutation                # the table, then every survivor not accounted for
    python -m bench.mutation --survivors    # also print each unexplained survivor's diff (slow: one mutmut call each)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
ACCEPTED = ROOT / "bench" / "mutation_accepted"  # one TOML file per module: [mutants] name = "why"

# mutmut's exit codes, as its own `stats.status_by_exit_code` names them
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "not reached", 33: "not reached", 34: "skipped", 36: "timeout",
          37: "killed", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not run"}  # fmt: skip
# The goals the README states: share of non-equivalent mutants killed, by group of modules.
GOALS = {"service/core/": 0.95, "service/checklist.py": 0.95, "service/actions/": 0.85, "service/db/": 0.85}


def accepted() -> dict[str, str]:
    """Mutant name → why it survives ("equivalent: …" cannot change behaviour; "accepted: …" tolerated)."""
    found: dict[str, str] = {}
    for path in sorted(ACCEPTED.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        found |= {name: str(why) for name, why in data.get("mutants", {}).items()}
    return found


def results() -> dict[str, dict[str, str]]:
    """Module path → {mutant name: status}."""
    found: dict[str, dict[str, str]] = {}
    for meta in sorted(MUTANTS.glob("service/**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        if codes:
            module = str(meta.relative_to(MUTANTS))[: -len(".meta")]
            found[module] = {name: STATUS.get(code, "suspicious") for name, code in codes.items()}
    return found


def goal_for(module: str) -> float | None:
    return next((goal for prefix, goal in GOALS.items() if module.startswith(prefix)), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="print each unexplained survivor's diff")
    options = parser.parse_args()
    if not MUTANTS.exists():
        print("No results: run `bash scripts/mutation.sh` first.", file=sys.stderr)
        return 2
    why = accepted()
    table = results()
    unexplained: list[str] = []
    heading = f"{'module':<34}{'mutants':>8}{'killed':>8}{'survived':>9}{'timeout':>8}{'not reached':>12}"
    print(heading + f"{'equivalent':>11}{'accepted':>9}{'score':>8}  goal")
    totals: Counter[str] = Counter()
    below_goal = False
    for module, statuses in table.items():
        counts = Counter(statuses.values())
        survivors = [name for name, status in statuses.items() if status in ("survived", "not reached", "suspicious")]
        equivalent = sum(1 for name in survivors if why.get(name, "").startswith("equivalent"))
        tolerated = sum(1 for name in survivors if why.get(name, "").startswith("accepted"))
        unexplained += [name for name in survivors if name not in why]
        # a timeout is a kill: the mutant made the code loop or stall, which the tests noticed
        killed = counts["killed"] + counts["timeout"]
        scored = len(statuses) - equivalent
        score = killed / scored if scored else 1.0
        goal = goal_for(module)
        below_goal |= goal is not None and score < goal
        mark = "" if goal is None else f"{goal:.0%} {'met' if score >= goal else 'NOT MET'}"
        print(
            f"{module:<34}{len(statuses):>8}{counts['killed']:>8}{counts['survived']:>9}{counts['timeout']:>8}"
            f"{counts['not reached']:>12}{equivalent:>11}{tolerated:>9}{score:>8.1%}  {mark}"
        )
        totals.update(counts)
        totals["equivalent"] += equivalent
        totals["all"] += len(statuses)
    scored = totals["all"] - totals["equivalent"]
    overall = (totals["killed"] + totals["timeout"]) / scored if scored else 1.0
    print(f"{'all':<34}{totals['all']:>8}{totals['killed']:>8}{totals['survived']:>9}{totals['timeout']:>8}"
          f"{totals['not reached']:>12}{totals['equivalent']:>11}{'':>9}{overall:>8.1%}")  # fmt: skip
    stale = sorted(set(why) - {name for statuses in table.values() for name in statuses})
    if stale:
        print(f"\n{len(stale)} accepted mutant(s) no longer exist (the code changed): remove them from", ACCEPTED)
    if unexplained:
        print(f"\n{len(unexplained)} survivor(s) neither killed nor accounted for in bench/mutation_accepted/:")
        for name in unexplained:
            print(f"  {name}")
            if options.survivors:
                mutmut = str(Path(sys.executable).with_name("mutmut"))
                diff = subprocess.run([mutmut, "show", name], cwd=ROOT, capture_output=True, text=True).stdout
                print("\n".join("    " + line for line in diff.splitlines()[1:]))
    return 1 if below_goal or unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
