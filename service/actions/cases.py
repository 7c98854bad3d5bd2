"""Cases and sibling groups as they arrive from a case management system: one at a time through the API, or in bulk
from a CSV export with `handover import cases`.

Both ways check a case with the same rules and messages (`service.core.validation.case_errors`, and the allocated
worker must be a worker in the allocated team). Each action is one transaction with its audit entries; an import
writes nothing unless every row is good.

Errors raised: `Invalid` (messages by field).
"""

from __future__ import annotations

import csv
from pathlib import Path

import msgspec

from service import db
from service.core import validation
from service.core.clock import today
from service.core.errors import Invalid

IMPORT_COLUMNS = ["reference", "child_name", "date_of_birth", "worker_username", "team", "sibling_group"]
IMPORT_ROWS_MAX = 50_000  # a council's whole caseload, with room to spare; a larger file is a mistake


class NewCase(msgspec.Struct, frozen=True, kw_only=True):
    """A case as it arrives: `date_of_birth` is ISO text (YYYY-MM-DD)."""

    reference: str
    child_name: str
    date_of_birth: str
    worker_id: int | None
    team_id: int | None
    sibling_group_id: int | None = None


async def _case_errors(conn: db.Conn, case: NewCase, references_in_this_batch: set[str]) -> dict[str, str]:
    """Everything wrong with one case, keyed by the API's field names."""
    errors = validation.case_errors(case.reference, case.child_name, case.date_of_birth, today())
    key = validation.reference_key(case.reference)  # CS-1 and cs-1 are one case
    if "reference" not in errors and key in references_in_this_batch:
        errors["reference"] = validation.REFERENCE_REPEATED
    elif "reference" not in errors and await db.case_by_reference_key(conn, key):
        errors["reference"] = validation.REFERENCE_TAKEN
    if (
        case.worker_id is None
        or case.team_id is None
        or not await db.is_team_worker(conn, case.worker_id, case.team_id)
        or not await _enabled(conn, case.worker_id)
    ):
        errors["allocated_worker_id"] = validation.WORKER_NOT_IN_TEAM
    if case.sibling_group_id is not None and await db.sibling_group(conn, case.sibling_group_id) is None:
        errors["sibling_group_id"] = validation.NO_SUCH_SIBLING_GROUP
    return errors


async def _enabled(conn: db.Conn, user_id: int) -> bool:
    """Only enabled people hold cases."""
    user = await db.user_by_id(conn, user_id)
    return user is not None and not user.disabled


async def create_case(database: db.Database, by: int, case: NewCase, *, via: str) -> db.Case:
    """Add one case, allocated to a worker in a team; returns it as stored. `by` is the administrator account's id,
    `via` the channel ("api"). `Invalid` keyed by the API's field names."""
    async with database.transaction() as conn:
        errors = await _case_errors(conn, case, set())
        if errors:
            raise Invalid(errors)
        case_id = await create_case_in(conn, by, case, via)
        stored = await db.case_by_id(conn, case_id)
    assert stored is not None
    return stored


async def create_sibling_group(database: db.Database, by: int, name: str) -> int:
    """A sibling group (each child in it is a case of their own); returns its id. `Invalid` keyed name."""
    errors = validation.sibling_group_name_errors(name)
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        return await create_sibling_group_in(conn, by, name.strip())


async def create_case_in(conn: db.Conn, by: int | None, case: NewCase, via: str) -> int:
    """The writes of adding a checked case, with its audit entry, in a transaction the caller holds."""
    assert case.worker_id is not None and case.team_id is not None, "a checked case has a worker and a team"
    born = validation.iso_date(case.date_of_birth)
    assert born is not None, "a checked case has a real date of birth"
    case_id = await db.create_case(
        conn, case.reference.strip(), case.child_name.strip(), born.isoformat(), case.worker_id, case.team_id,
        case.sibling_group_id, why="imported" if via.startswith("import") else "opened",
    )  # fmt: skip
    await db.append_audit(conn, by, "create_case", "case", case_id, {"via": via})
    return case_id


async def create_sibling_group_in(conn: db.Conn, by: int | None, name: str) -> int:
    group_id = await db.create_sibling_group(conn, name)
    await db.append_audit(conn, by, "create_sibling_group", "sibling_group", group_id, {})
    return group_id


# What an import reports for each API field name, by the CSV column that carries it.
_IMPORT_COLUMN_FOR = {"allocated_worker_id": "worker_username"}


def _read_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The file's rows with the physical line each starts on, or the problems that stop it being read at all.

    The csv module reads the file itself (not lines split beforehand), so a quoted value may hold a line break and
    line numbers stay those of the file. Rows of empty cells, which spreadsheets write at the end, are skipped.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file, strict=True)
            header = next(reader, None)
            if header != IMPORT_COLUMNS:
                return [], [f"line 1: the columns must be exactly {', '.join(IMPORT_COLUMNS)}"]
            rows: list[tuple[int, dict[str, str]]] = []
            problems: list[str] = []
            line = reader.line_num + 1
            for cells in reader:
                if any(cell.strip() for cell in cells):
                    if len(cells) != len(IMPORT_COLUMNS):
                        problems.append(f"line {line}: has {len(cells)} columns, not {len(IMPORT_COLUMNS)}")
                    else:
                        rows.append((line, dict(zip(IMPORT_COLUMNS, cells, strict=True))))
                if len(rows) > IMPORT_ROWS_MAX:
                    return [], [f"{path.name}: more than {IMPORT_ROWS_MAX:,} rows; split the file"]
                line = reader.line_num + 1
    except FileNotFoundError:
        return [], [f"{path}: there is no such file"]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path.name}: cannot be read as UTF-8 text ({exc})"]
    except csv.Error as exc:
        return [], [f"{path.name}: line {reader.line_num}: not valid CSV ({exc})"]
    return rows, problems


async def import_cases(database: db.Database, path: Path) -> tuple[int, list[str]]:
    """Import every case in a CSV file, or none: returns (cases imported, problems as "line N: column: message").

    Columns, with a header row: reference, child_name, date_of_birth (YYYY-MM-DD), worker_username, team,
    sibling_group (may be empty; rows naming the same group, in any case or spacing, share it; a name an existing
    group has is refused, since a new group of that name would not link the children to it). Extra or missing
    columns are refused so that a misspelt one is noticed.
    """
    rows, problems = _read_rows(path)
    if not rows and problems:
        return 0, problems
    async with database.transaction() as conn:
        teams = {team.name: team.id for team in await db.teams(conn)}
        existing_groups = {validation.group_name_key(name): id_ for id_, name in await db.sibling_group_names(conn)}
        seen: set[str] = set()
        cases: list[tuple[NewCase, str]] = []
        for line, row in rows:
            worker = await db.user_by_username(conn, row["worker_username"].strip())
            case = NewCase(
                reference=row["reference"],
                child_name=row["child_name"],
                date_of_birth=row["date_of_birth"],
                worker_id=worker.id if worker else None,
                team_id=teams.get(row["team"].strip()),
            )
            errors = await _case_errors(conn, case, seen)
            if case.team_id is None:
                errors.pop("allocated_worker_id", None)
                errors["team"] = validation.NO_SUCH_TEAM
            group_name = row["sibling_group"].strip()
            group_errors = validation.sibling_group_name_errors(group_name) if group_name else {}
            if group_errors:
                errors["sibling_group"] = group_errors["name"]
            elif group_name and (same := existing_groups.get(validation.group_name_key(group_name))) is not None:
                errors["sibling_group"] = validation.sibling_group_exists(same)
            problems.extend(
                f"line {line}: {_IMPORT_COLUMN_FOR.get(field, field)}: {message}" for field, message in errors.items()
            )
            seen.add(validation.reference_key(case.reference))
            cases.append((case, group_name))
        if problems:  # nothing has been written
            return 0, sorted(problems, key=lambda problem: int(problem.split(":")[0].removeprefix("line ")))
        groups: dict[str, int] = {}  # by `validation.group_name_key`: "Grp", "grp" and " Grp " are one group
        for case, group_name in cases:
            key = validation.group_name_key(group_name)
            if group_name and key not in groups:
                groups[key] = await create_sibling_group_in(conn, None, group_name)
            grouped = msgspec.structs.replace(case, sibling_group_id=groups.get(key))
            await create_case_in(conn, None, grouped, f"import of {path.name}")
    return len(cases), []
