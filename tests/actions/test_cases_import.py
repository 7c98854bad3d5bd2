"""Importing cases from a CSV file: every case or none, each refusal told as "line N: column: sentence" with the
file's own line numbers, and sibling groups made once however their name is spelt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service import db
from service.actions import cases
from service.core.audit import Entry
from service.db.engine import _one
from tests.conftest import World

pytestmark = pytest.mark.anyio

HEADER = "reference,child_name,date_of_birth,worker_username,team,sibling_group\n"
COLUMNS = (
    "line 1: the columns must be exactly reference, child_name, date_of_birth, worker_username, team, sibling_group"
)
NOT_IN_TEAM = "The allocated worker must be a social worker in the allocated team"


async def audit_after(database: db.Database, seq: int) -> list[Entry]:
    return [stored.entry for stored in await db.audit_entries(database.reader, after_seq=seq)]


async def last_seq(database: db.Database) -> int:
    return (await db.last_audit_entry(database.reader))[0]


def shape(entry: Entry) -> tuple[Any, ...]:
    return (entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.details)


async def count(database: db.Database, table: str) -> int:
    row = await _one(database.reader, f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


def csv_file(tmp_path: Path, text: str, name: str = "cases.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


async def nothing_imported(database: db.Database, path: Path) -> list[str]:
    """The problems with a file that is refused, checking that nothing was stored."""
    seq, before = await last_seq(database), (await count(database, "cases"), await count(database, "sibling_groups"))
    imported, problems = await cases.import_cases(database, path)
    assert imported == 0 and problems
    assert (await count(database, "cases"), await count(database, "sibling_groups")) == before
    assert await audit_after(database, seq) == []
    return problems


async def test_every_row_is_imported_as_written_and_recorded_with_the_files_name(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, "\ufeff" + HEADER + " N-1 , Ava New ,2014-09-30, rec , Cp Team ,\n"
                    "N-2,Ben New, 2013-01-02 ,rec2,Cp Team,\n", name="from-cms.csv")  # fmt: skip
    seq = await last_seq(database)
    assert await cases.import_cases(database, path) == (2, [])
    first, second = [await db.case_by_reference(database.reader, ref) for ref in ("N-1", "N-2")]
    assert first is not None and second is not None
    assert (first.child_name, first.date_of_birth, first.allocated_worker_id, first.allocated_team_id) == (
        "Ava New", "2014-09-30", world.users["rec"], world.teams["cp"],
    )  # fmt: skip
    assert (second.child_name, second.date_of_birth, second.allocated_worker_id, second.sibling_group_id) == (
        "Ben New", "2013-01-02", world.users["rec2"], None,
    )  # fmt: skip
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "create_case", "case", first.id, {"via": "import of from-cms.csv"}),
        (None, "create_case", "case", second.id, {"via": "import of from-cms.csv"}),
    ]


async def test_rows_naming_one_group_in_any_case_or_spacing_share_one_new_group(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, HEADER + "N-1,Ava Jones,2014-09-30,rec,Cp Team, The  Joneses \n"
                    "N-2,Ben Jones,2013-01-02,rec,Cp Team,the joneses\nN-3,Cal Other,2012-02-02,rec,Cp Team,Others\n"
                    "N-4,Dee Alone,2012-03-03,rec,Cp Team,  \n")  # fmt: skip
    seq = await last_seq(database)
    assert await cases.import_cases(database, path) == (4, [])
    imported = [await db.case_by_reference(database.reader, f"N-{n}") for n in range(1, 5)]
    assert [case.sibling_group if case else "missing" for case in imported] == ["The  Joneses", "The  Joneses",
                                                                                 "Others", None]  # fmt: skip
    assert imported[0].sibling_group_id == imported[1].sibling_group_id  # type: ignore[union-attr]
    joneses, others = imported[0].sibling_group_id, imported[2].sibling_group_id  # type: ignore[union-attr]
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "create_sibling_group", "sibling_group", joneses, {}),
        (None, "create_case", "case", imported[0].id, {"via": "import of cases.csv"}),  # type: ignore[union-attr]
        (None, "create_case", "case", imported[1].id, {"via": "import of cases.csv"}),  # type: ignore[union-attr]
        (None, "create_sibling_group", "sibling_group", others, {}),
        (None, "create_case", "case", imported[2].id, {"via": "import of cases.csv"}),  # type: ignore[union-attr]
        (None, "create_case", "case", imported[3].id, {"via": "import of cases.csv"}),  # type: ignore[union-attr]
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "reference,child_name,date_of_birth,worker_username,team\nN-1,Ava New,2014-09-30,rec,Cp Team\n",
        "reference,child_name,date_of_birth,worker,team,sibling_group\n",
        "child_name,reference,date_of_birth,worker_username,team,sibling_group\n",
        "N-1,Ava New,2014-09-30,rec,Cp Team,\n",
    ],
)
async def test_a_file_without_exactly_the_columns_is_refused(
    database: db.Database, world: World, tmp_path: Path, text: str
) -> None:
    assert await nothing_imported(database, csv_file(tmp_path, text)) == [COLUMNS]


async def test_a_header_alone_imports_nothing_and_says_nothing(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    assert await cases.import_cases(database, csv_file(tmp_path, HEADER + ",,,,,\n")) == (0, [])


async def test_each_column_is_checked_and_refused_with_its_line_and_sentence(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    rows = [
        " ,Ava New,2014-09-30,rec,Cp Team,",  # line 2
        "N-3,,2014-09-30,rec,Cp Team,",
        "N-4,Ava New,30/09/2014,rec,Cp Team,",
        "N-5,Ava New,2014-09-30,nobody,Cp Team,",
        "N-6,Ava New,2014-09-30,rec,No Such Team,",
        "N-7,Ava New,2014-09-30,out,Cp Team,",
        "N-8,Ava New,2014-09-30,rec,Cp Team," + "g" * 201,
        "n-9,Ava New,2014-09-30,rec,Cp Team, test  FAMILY ",
        "t-1,Ava New,2014-09-30,rec,Cp Team,",
        "N-11,Ava New,2014-09-30,rec,Cp Team",  # line 11: a column short
        "N-12,Ava New,2014-09-30,rec,Cp Team,",  # a good row
        "N-3,Ava New,2014-09-30,rec,Cp Team,",  # line 13: the reference of line 3 again
    ]
    problems = await nothing_imported(database, csv_file(tmp_path, HEADER + "\n".join(rows) + "\n"))
    group_id = (await db.sibling_group_names(database.reader))[0][0]
    assert problems == [
        "line 2: reference: Enter the local reference",
        "line 3: child_name: Enter the child's name",
        "line 4: date_of_birth: Enter the date of birth as a real date written YYYY-MM-DD, for example 2015-03-14",
        f"line 5: worker_username: {NOT_IN_TEAM}",
        "line 6: team: There is no team with this name",
        f"line 7: worker_username: {NOT_IN_TEAM}",
        "line 8: sibling_group: The name must be 200 characters or fewer",
        f"line 9: sibling_group: A sibling group of this name already exists (id {group_id}): a new group would not "
        "link these children to it. Give the new group another name, or add the children to that group through the "
        "API's sibling_group_id",
        "line 10: reference: A case with this reference already exists",
        "line 11: has 5 columns, not 6",
        "line 13: reference: This reference is used by an earlier row of the file",
    ]


async def test_every_problem_of_a_row_is_told(database: db.Database, world: World, tmp_path: Path) -> None:
    problems = await nothing_imported(
        database,
        csv_file(tmp_path, HEADER + "bad ref!,,2099-01-01,rec,Nowhere,\nbad ref!,Ben,2010-01-01,rec,Cp Team,\n"),
    )
    characters = ("The local reference can contain only the letters A to Z, numbers, and spaces, hyphens (-), "
                  "slashes (/), full stops and underscores between them")  # fmt: skip
    assert problems == [
        "line 2: child_name: Enter the child's name",
        f"line 2: reference: {characters}",
        "line 2: date_of_birth: The date of birth must be today or in the past",
        "line 2: team: There is no team with this name",
        f"line 3: reference: {characters}",
    ]


async def test_line_numbers_are_the_files_own_across_blank_rows_and_line_breaks_in_values(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    text = HEADER + ',,,,,\n"N-1","Ava\nNew",2014-09-30,rec,Cp Team,\n\n , ,,,,\nN-2,,2014-09-30,rec,Cp Team,\n'
    assert await nothing_imported(database, csv_file(tmp_path, text)) == [
        "line 3: child_name: The child's name must be on one line, without tabs or invisible characters",
        "line 7: child_name: Enter the child's name",
    ]


async def test_a_wrong_number_of_columns_alone_stops_the_import(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    text = HEADER + "N-1,Ava New,2014-09-30,rec,Cp Team,,extra\n"
    assert await nothing_imported(database, csv_file(tmp_path, text)) == ["line 2: has 7 columns, not 6"]


async def test_problems_are_told_in_the_order_of_their_lines(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    rows = [f"G-{n},Child {n},2014-09-30,rec,Cp Team," for n in range(2, 9)]
    text = (
        HEADER + "\n".join(rows) + "\nN-9,Ava,2014-09-30,rec\nN-10,,2014-09-30,rec,Cp Team,\nN-11,Ava,x,rec,Cp Team,\n"
    )
    assert await nothing_imported(database, csv_file(tmp_path, text)) == [
        "line 9: has 4 columns, not 6",
        "line 10: child_name: Enter the child's name",
        "line 11: date_of_birth: Enter the date of birth as a real date written YYYY-MM-DD, for example 2015-03-14",
    ]


def test_a_file_of_more_than_fifty_thousand_rows_is_refused_before_any_row_is_checked(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + "a,,,,,\n" * 50_001, name="big.csv")
    assert cases._read_rows(path) == ([], ["big.csv: more than 50,000 rows; split the file"])


def test_the_most_rows_a_file_may_have_are_read_and_blank_rows_do_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cases, "IMPORT_ROWS_MAX", 3)
    rows = "N-1,Ava,2014-09-30,rec,Cp Team,\n,,,,,\nN-2,Ben,x,rec,Cp Team,G\n,,,,,\nN-3,Cal,2014-09-30,rec,Cp Team,\n"
    assert cases._read_rows(csv_file(tmp_path, HEADER + rows + ",,,,,\n" * 3)) == (
        [
            (2, {"reference": "N-1", "child_name": "Ava", "date_of_birth": "2014-09-30", "worker_username": "rec",
                 "team": "Cp Team", "sibling_group": ""}),
            (4, {"reference": "N-2", "child_name": "Ben", "date_of_birth": "x", "worker_username": "rec",
                 "team": "Cp Team", "sibling_group": "G"}),
            (6, {"reference": "N-3", "child_name": "Cal", "date_of_birth": "2014-09-30", "worker_username": "rec",
                 "team": "Cp Team", "sibling_group": ""}),
        ],
        [],
    )  # fmt: skip
    path = csv_file(tmp_path, HEADER + rows + "N-4,Dan,2014-09-30,rec,Cp Team,\n", name="four.csv")
    assert cases._read_rows(path) == ([], ["four.csv: more than 3 rows; split the file"])


async def test_a_file_that_is_missing_unreadable_or_not_csv_is_refused(
    database: db.Database, world: World, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.csv"
    assert await nothing_imported(database, missing) == [f"{missing}: there is no such file"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "N-1,Zoë,2014-09-30,rec,Cp Team,\n".encode("latin-1"))
    assert await nothing_imported(database, latin) == [
        "latin.csv: cannot be read as UTF-8 text ('utf-8' codec can't decode byte 0xeb in position 76: invalid "
        "continuation byte)"
    ]
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    assert await nothing_imported(database, folder) == [
        f"folder.csv: cannot be read as UTF-8 text ([Errno 21] Is a directory: '{folder}')"
    ]
    quoted = csv_file(tmp_path, HEADER + 'N-1,Ava New,2014-09-30,rec,Cp Team,\nN-2,"Ben" New,2014-09-30,rec,Cp Team,\n',
                      name="quoted.csv")  # fmt: skip
    assert await nothing_imported(database, quoted) == ["quoted.csv: line 3: not valid CSV (',' expected after '\"')"]


def test_a_file_with_windows_line_endings_keeps_each_value_as_written(tmp_path: Path) -> None:
    text = (
        HEADER.replace("\n", "\r\n")
        + 'N-1,"Ava\r\nNew",2014-09-30,rec,Cp Team,\r\nN-2,Ben,2013-01-02,rec,Cp Team,G\r\n'
    )
    rows, problems = cases._read_rows(csv_file(tmp_path, text))
    assert problems == []
    assert rows == [
        (2, {"reference": "N-1", "child_name": "Ava\r\nNew", "date_of_birth": "2014-09-30", "worker_username": "rec",
             "team": "Cp Team", "sibling_group": ""}),
        (4, {"reference": "N-2", "child_name": "Ben", "date_of_birth": "2013-01-02", "worker_username": "rec",
             "team": "Cp Team", "sibling_group": "G"}),
    ]  # fmt: skip
