"""Importing cases in bulk from a case management system's CSV export: every row is checked, each bad row is
reported by its line number, and nothing is imported unless every row is good.

Columns (a header row is required; extra columns are refused so that a misspelt one is noticed):
    reference, child_name, date_of_birth (YYYY-MM-DD), worker_username, team, sibling_group (may be empty)
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from service import db

COLUMNS = ["reference", "child_name", "date_of_birth", "worker_username", "team", "sibling_group"]


async def _row_problems(conn: db.Conn, row: dict[str, str], seen: set[str]) -> list[str]:
    problems = []
    reference = row["reference"].strip()
    if not reference or len(reference) > 50:
        problems.append("reference must be 1 to 50 characters")
    elif reference in seen or await db.case_by_reference(conn, reference):
        problems.append(f"reference {reference!r} is already used")
    if not row["child_name"].strip() or len(row["child_name"]) > 200:
        problems.append("child_name must be 1 to 200 characters")
    try:
        born = date.fromisoformat(row["date_of_birth"].strip())
        if not date(1990, 1, 1) <= born <= date.today():
            problems.append("date_of_birth must not be in the future")
    except ValueError:
        problems.append("date_of_birth must be a real date written YYYY-MM-DD")
    worker = await db.user_by_username(conn, row["worker_username"].strip())
    team_id = await db.team_by_name(conn, row["team"].strip())
    if worker is None or team_id is None or not await db.is_team_worker(conn, worker.id, team_id):
        problems.append("worker_username must be a worker in the named team")
    seen.add(reference)
    return problems


async def import_cases(database: db.Database, path: Path) -> tuple[int, list[str]]:
    """(cases imported, problems); with any problem at all, nothing is imported."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return 0, [f"{path}: cannot be read as UTF-8 text ({exc})"]
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != COLUMNS:
        return 0, [f"line 1: the columns must be exactly {', '.join(COLUMNS)}"]
    rows = list(reader)
    async with database.transaction() as conn:
        problems: list[str] = []
        seen: set[str] = set()
        for line, row in enumerate(rows, start=2):
            if None in row or any(value is None for value in row.values()):
                problems.append(f"line {line}: has the wrong number of columns")
                continue
            problems.extend(f"line {line}: {p}" for p in await _row_problems(conn, row, seen))
        if problems:
            return 0, problems
        groups: dict[str, int] = {}
        for row in rows:
            group_name = row["sibling_group"].strip()
            if group_name and group_name not in groups:
                groups[group_name] = await db.create_sibling_group(conn, group_name)
            worker = await db.user_by_username(conn, row["worker_username"].strip())
            team_id = await db.team_by_name(conn, row["team"].strip())
            assert worker is not None and team_id is not None
            case_id = await db.create_case(
                conn, row["reference"].strip(), row["child_name"].strip(), row["date_of_birth"].strip(), worker.id,
                team_id, groups.get(group_name),
            )  # fmt: skip
            await db.append_audit(conn, None, "import_case", "case", case_id, {"file": path.name})
    return len(rows), []
