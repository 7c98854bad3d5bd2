"""Each child's allocation history and its data return: kept by every write that moves a case, taken out by the
command line and the overseers' download as CSV (Annex A's columns) or JSON (the DfE data feed's worker details)."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import actions, cli, db
from service.actions.cases import create_case_in
from service.core import allocations as rules
from service.core.allocations import AllocationFilter, AllocationRecord
from service.core.clock import today
from service.core.report import NOT_AN_OVERSEER
from service.db import caseload as caseload_store
from tests.conftest import PASSWORD_HASH, Site, seed
from tests.helpers import CHECKLISTS, handover_in
from tests.test_queries import UNDO_LATER_MIGRATIONS
from tests.test_urgent_transfer import authorise, make_head

pytestmark = pytest.mark.anyio

FORMULA_NAME = '=HYPERLINK("http://example.invalid","x")'


async def consistent(database: db.Database) -> None:
    """Every case has exactly one current allocation, and it is the case's allocated worker and team; each case's
    allocations follow one another without gaps (each ends when the next begins)."""
    rows = await db.allocations_of(database.reader, AllocationFilter())
    by_case: dict[int, list[AllocationRecord]] = {}
    for row in rows:
        by_case.setdefault(row.case_id, []).append(row)
    cases = await database.reader.execute_fetchall("SELECT id, allocated_worker_id, allocated_team_id FROM cases")
    assert {int(case[0]) for case in cases} == set(by_case)
    for case_id, worker_id, team_id in cases:
        history = by_case[case_id]
        current = [row for row in history if row.allocated_to is None]
        assert [(row.worker_id, row.team_id) for row in current] == [(worker_id, team_id)], case_id
        assert history[-1] is current[0]
        for before, after in itertools.pairwise(history):
            assert before.allocated_to == after.allocated_from, case_id


class History(msgspec.Struct, kw_only=True):
    closed: int  # the handover that moved Mia to Rec in the CP team
    urgent: int  # the urgent transfer that moved Child 1 to Rec2 in the CP team
    formula_case: int


async def make_history(site: Site) -> History:
    """Mia moved by a closed handover; Child 1 by an urgent transfer; Zoe held by her team's manager after her worker
    left; and a child whose worker's name is a spreadsheet formula."""
    world = site.world
    closed = await handover_in(site.db, world, "closed", "mia")
    await make_head(site, "omgr")
    urgent = await handover_in(site.db, world, "submitted", "c1")
    head = await site.as_user("omgr")
    assert (await authorise(head, urgent, world.users["rec2"])).status_code == 303
    await actions.disable_person(site.db, user_id=world.users["other"], by=world.users["adm"])
    async with site.db.transaction() as conn:
        sly = await db.create_user(conn, "sly", FORMULA_NAME, PASSWORD_HASH)
        await db.add_membership(conn, sly, world.teams["south"], "worker")
        formula_case = await db.create_case(conn, "F-1", "Fay Formula", "2014-02-02", sly, world.teams["south"])
    return History(closed=closed, urgent=urgent, formula_case=formula_case)


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so spreadsheets read the names right"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


async def test_the_csv_holds_each_childs_history_column_by_column(site: Site) -> None:
    made = await make_history(site)
    await consistent(site.db)
    auditor = await site.as_user("aud")
    response = await auditor.get("/audit/allocations/csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header, *rows = csv_rows(response.content)
    assert header == ["Child Unique ID", "Allocated Team", "Allocated Worker", "Allocated From", "Allocated To",
                      "Moved By Handover", "Reason"]  # fmt: skip
    day = today().isoformat()
    by_child: dict[str, list[list[str]]] = {}
    for row in rows:
        by_child.setdefault(row[0], []).append(row)
    # opened, then moved by the closed handover: the first ends the day the second begins
    assert by_child["T-1"] == [
        ["T-1", "North Team", "Out", day, day, "", "Case opened"],
        ["T-1", "Cp Team", "Rec", day, "", str(made.closed), "Handover closed"],
    ]
    assert by_child["C-1"] == [
        ["C-1", "North Team", "Out", day, day, "", "Case opened"],
        ["C-1", "Cp Team", "Rec2", day, "", str(made.urgent), "Urgent transfer"],
    ]
    # the leaver's case stays in its team, held by the team's manager
    assert by_child["T-3"] == [
        ["T-3", "South Team", "Other", day, day, "", "Case opened"],
        ["T-3", "South Team", "Omgr", day, "", "", "Held pending transfer after the worker left"],
    ]
    assert by_child["T-2"] == [["T-2", "North Team", "Out", day, "", "", "Case opened"]]
    # a name that a spreadsheet would run as a formula is shown as text
    assert by_child["F-1"] == [["F-1", "South Team", "'" + FORMULA_NAME, day, "", "", "Case opened"]]
    assert len(rows) == 3 * 2 + 1 + 7 + 1  # the three moved, Liam, Child 2 to 8, Fay


async def test_an_urgent_transfers_approval_is_no_second_move(site: Site) -> None:
    """An acknowledged handover made urgent closes at once: the case moved once, by the urgent transfer."""
    await make_head(site, "omgr")
    handover_id = await handover_in(site.db, site.world, "acknowledged", "c2")
    head = await site.as_user("omgr")
    assert (await authorise(head, handover_id, site.world.users["rec"])).status_code == 303
    closed = await db.handover_by_id(site.db.reader, handover_id)
    assert closed is not None and closed.state == "closed"
    history = await db.allocations_of(site.db.reader, AllocationFilter())
    moves = [(row.reason, row.handover_id) for row in history if row.case_id == site.world.cases["c2"]]
    assert moves == [("opened", None), ("urgent", handover_id)]
    await consistent(site.db)


async def test_the_json_is_the_feeds_child_records_with_their_worker_details(site: Site) -> None:
    made = await make_history(site)
    auditor = await site.as_user("aud")
    response = await auditor.get("/audit/allocations/json?team=" + str(site.world.teams["cp"]))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    children = json.loads(response.content)
    day = today().isoformat()
    # a team filter keeps the children CP has held: Mia and Child 1, each with where they came from
    assert [child["la_child_id"] for child in children] == ["T-1", "C-1"]
    assert children[0]["social_worker_details"] == [
        {"worker_id": str(site.world.users["out"]), "start_date": day, "end_date": day, "worker_name": "Out",
         "team": "North Team", "handover_id": None, "reason": "opened"},
        {"worker_id": str(site.world.users["rec"]), "start_date": day, "end_date": None, "worker_name": "Rec",
         "team": "Cp Team", "handover_id": made.closed, "reason": "handover"},
    ]  # fmt: skip
    assert set(children[1]["social_worker_details"][0]) >= set(rules.WORKER_KEYS)


async def test_the_sibling_group_filter_keeps_its_childrens_histories(site: Site) -> None:
    await make_history(site)
    group = int((await site.db.reader.execute_fetchall("SELECT id FROM sibling_groups"))[0][0])
    auditor = await site.as_user("aud")
    children = json.loads((await auditor.get(f"/audit/allocations/json?group={group}")).content)
    assert [child["la_child_id"] for child in children] == ["T-1", "T-2"]
    assert len(children[0]["social_worker_details"]) == 2
    assert (await auditor.get("/audit/allocations/json?group=999")).status_code == 404
    wrong = await auditor.get("/audit/allocations/csv?team=north")
    assert wrong.status_code == 303 and wrong.headers["location"].startswith("/audit/incomplete?")
    twice = await auditor.get(f"/audit/allocations/csv?group={group}&group={group}")
    assert twice.status_code == 303


async def test_a_team_manager_gets_the_whole_history_of_the_children_their_teams_hold_or_are_receiving(
    site: Site,
) -> None:
    await make_history(site)
    await handover_in(site.db, site.world, "endorsed", "c2")  # Child 2, in transfer from North to CP
    manager = await site.as_user("rmgr")  # manages CP only
    rows = csv_rows((await manager.get("/audit/allocations/csv")).content)[1:]
    # Mia and Child 1 were moved into CP: where they came from is part of their history; Child 2 is on its way
    assert sorted({row[0] for row in rows}) == ["C-1", "C-2", "T-1"]
    assert [row[1:3] for row in rows if row[0] == "T-1"] == [["North Team", "Out"], ["Cp Team", "Rec"]]
    assert [row[1:3] for row in rows if row[0] == "C-2"] == [["North Team", "Out"]]
    # nothing of a child CP never held nor is receiving: Liam, Zoe, Fay
    assert not {"T-2", "T-3", "F-1"} & {row[0] for row in rows}


async def test_a_team_outside_the_persons_scope_or_not_on_record_is_refused_not_an_empty_return(site: Site) -> None:
    await make_history(site)
    manager = await site.as_user("rmgr")  # manages CP only
    auditor = await site.as_user("aud")
    for person, team in ((manager, site.world.teams["north"]), (auditor, 9999), (manager, 9999)):
        for fmt in ("csv", "json"):
            response = await person.get(f"/audit/allocations/{fmt}?team={team}")
            assert response.status_code == 303, (team, fmt)
            report = await person.get(response.headers["location"])
            assert report.status_code == 400 and "Select a team from the list" in report.text
    exports = await site.db.reader.execute_fetchall("SELECT COUNT(*) FROM audit_log WHERE action = 'export'")
    assert exports[0][0] == 0, "a refused download is not recorded as an export"


async def test_a_sibling_group_outside_the_persons_scope_is_not_found(site: Site) -> None:
    await make_history(site)
    async with site.db.transaction() as conn:  # a group of South's children only: nothing to do with CP
        group = await db.create_sibling_group(conn, "Far Family")
        await conn.execute("UPDATE cases SET sibling_group_id = ? WHERE id = ?", (group, site.world.cases["zoe"]))
    manager = await site.as_user("rmgr")
    auditor = await site.as_user("aud")
    assert (await manager.get(f"/audit/allocations/csv?group={group}")).status_code == 404
    assert (await manager.get(f"/audit/incomplete?group={group}")).status_code == 404
    assert (await auditor.get(f"/audit/allocations/csv?group={group}")).status_code == 200


@pytest.mark.parametrize("username", ["out", "rec", "adm"])
async def test_people_who_oversee_no_team_are_refused(site: Site, username: str) -> None:
    person = await site.as_user(username)
    for fmt in ("csv", "json"):
        response = await person.get(f"/audit/allocations/{fmt}")
        assert response.status_code == 403
        assert NOT_AN_OVERSEER in response.text
    rows = await site.db.reader.execute_fetchall("SELECT COUNT(*) FROM audit_log WHERE action = 'export'")
    assert rows[0][0] == 0, "a refused download is not recorded as an export"


async def test_a_signed_out_request_is_sent_to_sign_in_and_stores_nothing(site: Site) -> None:
    before = (await site.db.reader.execute_fetchall("SELECT COUNT(*) FROM audit_log"))[0][0]
    response = await (await site.as_user(None)).get("/audit/allocations/csv")
    assert response.status_code in (302, 303, 401)
    assert (await site.db.reader.execute_fetchall("SELECT COUNT(*) FROM audit_log"))[0][0] == before


async def test_each_download_is_recorded_with_its_filter_and_its_outcome(site: Site) -> None:
    manager = await site.as_user("rmgr")
    team = site.world.teams["cp"]
    assert (await manager.get(f"/audit/allocations/json?team={team}")).status_code == 200
    entries = [e.entry for e in await db.audit_entries(site.db.reader, limit=100_000)]
    [export] = [e for e in entries if e.action == "export"]
    assert export.object_type == "allocations" and export.actor_id == site.world.users["rmgr"]
    assert export.details["format"] == "json" and export.details["via"] == "web"
    assert export.details["filter"]["team_id"] == team and export.details["filter"]["scope"] == [team]
    [delivered] = [e for e in entries if e.action == "export_delivered"]
    assert delivered.details["export"] == export.seq and delivered.object_type == "allocations"


async def test_the_unknown_format_is_not_found(site: Site) -> None:
    auditor = await site.as_user("aud")
    assert (await auditor.get("/audit/allocations/xlsx")).status_code == 404


# ---------------------------------------------------------------- the command line


@pytest.fixture
def env(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    return settings


async def test_the_command_writes_the_same_return_as_the_download(site: Site, env: Any, tmp_path: Path) -> None:
    await make_history(site)
    auditor = await site.as_user("aud")
    for fmt in ("csv", "json"):
        out = tmp_path / f"allocations.{fmt}"
        code = await anyio.to_thread.run_sync(cli.main, ["export", "allocations", "--format", fmt, "-o", str(out)])
        assert code == 0
        assert out.read_bytes() == (await auditor.get(f"/audit/allocations/{fmt}")).content
    entries = [e.entry for e in await db.audit_entries(site.db.reader, limit=100_000)]
    assert [e.details["via"] for e in entries if e.action == "export"] == ["command line", "web"] * 2
    # the command line has no signed-in person: the operating-system account that ran it is named instead
    assert [bool(e.details.get("os_user")) for e in entries if e.action == "export"] == [True, False] * 2


async def test_the_command_refuses_a_wrong_or_repeated_filter_and_records_nothing(
    site: Site, env: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*words: str) -> int:
        try:
            return cli.main(["export", "allocations", *words])
        except SystemExit as exc:
            return int(exc.code or 0)

    assert await anyio.to_thread.run_sync(run, "--team", "north") == 2
    assert "--team: Select a team from the list" in capsys.readouterr().err
    assert await anyio.to_thread.run_sync(run, "--team", "9999") == 2  # not on record: not an empty return
    assert "--team: Select a team from the list" in capsys.readouterr().err
    assert await anyio.to_thread.run_sync(run, "--group", "99") == 2
    assert "nothing was exported" in capsys.readouterr().err
    assert await anyio.to_thread.run_sync(run, "--team", "1", "--team", "2") == 2
    assert "--team: Choose this filter once" in capsys.readouterr().err
    assert await anyio.to_thread.run_sync(run, "--format", "xlsx") == 2
    assert await anyio.to_thread.run_sync(run, "--state", "draft") == 2, "the report's other filters do not apply"
    rows = await site.db.reader.execute_fetchall("SELECT COUNT(*) FROM audit_log WHERE action = 'export'")
    assert rows[0][0] == 0


def test_the_incomplete_export_is_parsed_as_before() -> None:
    args = cli.parser().parse_args(["export", "--incomplete", "--format", "jsonl"])
    assert args.incomplete and args.format == "jsonl" and not hasattr(args, "export_what")
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["export", "allocations"])  # only `main` sends this to its own parser


# ---------------------------------------------------------------- the core


def test_every_csv_cell_is_formula_safe_and_the_columns_are_annex_as() -> None:
    record = AllocationRecord(
        case_id=1, child_reference="+1", worker_id=2, worker="@SUM(A1)", team_id=3, team="-Team",
        allocated_from="2026-06-30T23:30:00+00:00", allocated_to=None, handover_id=None, reason="imported",
    )  # fmt: skip
    cells = rules.csv_cells(record)
    assert cells[:3] == ["'+1", "'-Team", "'@SUM(A1)"]
    assert cells[3] == "2026-07-01", "the date in England: 23:30 UTC is half past midnight in summer time"
    assert cells[6] == "Case imported"
    assert rules.csv_header()[:3] == ["Child Unique ID", "Allocated Team", "Allocated Worker"]


# ---------------------------------------------------------------- the history of a database from before it was kept


def since_allocations() -> list[str]:
    """What the allocations migration and every later one added, undone, so that they apply again."""
    return UNDO_LATER_MIGRATIONS[UNDO_LATER_MIGRATIONS.index("DROP TABLE allocations") :]


@pytest.mark.sqlite_only
async def test_the_migration_rebuilds_the_history_a_database_already_holds(site: Site, settings: Any) -> None:
    """A database at the migration before the allocations table: its history is rebuilt from the cases, the
    handovers and the audit trail, to what the writes themselves record, except that a case added without an audit
    entry (here, straight into the store) cannot say how it began."""
    made = await make_history(site)
    async with site.db.transaction() as conn:
        north, out = site.world.teams["north"], site.world.users["out"]
        for reference, via in (("A-1", "api"), ("I-1", "import of cases.csv")):
            case = actions.NewCase(reference=reference, child_name="Ann Api", date_of_birth="2015-05-05",
                                   worker_id=out, team_id=north)  # fmt: skip
            await create_case_in(conn, None, case, via)
    await consistent(site.db)

    def kept(rows: list[AllocationRecord]) -> list[tuple[Any, ...]]:
        return [(r.case_id, r.worker_id, r.team_id, r.handover_id, r.reason, r.allocated_from[:10],
                 (r.allocated_to or "")[:10]) for r in rows]  # fmt: skip

    written = kept(await db.allocations_of(site.db.reader, AllocationFilter()))
    number = next(n for n, script in enumerate(db.MIGRATIONS, start=1) if "CREATE TABLE allocations" in script)
    async with site.db.transaction() as conn:
        for undo in since_allocations():
            await conn.execute(undo)
        await conn.execute("DELETE FROM schema_migrations WHERE version >= ?", (number,))
    again = db.Database.for_settings(settings)
    await again.open()  # migrates
    try:
        rebuilt = kept(await db.allocations_of(again.reader, AllocationFilter()))
    finally:
        await again.close()
    seeded = set(site.world.cases.values()) | {made.formula_case}
    expected = [(*row[:4], "before_history" if row[0] in seeded and row[4] == "opened" else row[4], *row[5:])
                for row in written]  # fmt: skip
    assert rebuilt == expected
    reasons = {row[4] for row in rebuilt}
    assert {"opened", "imported", "handover", "urgent", "held_pending_transfer", "before_history"} <= reasons
    await consistent(site.db)


@pytest.mark.sqlite_only
async def test_the_migration_ends_each_history_with_the_case_as_it_is(site: Site, settings: Any) -> None:
    """A case moved by a write that left no trace (straight into the store) still ends with its allocation now."""
    async with site.db.transaction() as conn:
        await conn.execute(
            "UPDATE cases SET allocated_worker_id = ?, allocated_team_id = ? WHERE id = ?",
            (site.world.users["rec"], site.world.teams["cp"], site.world.cases["c5"]),
        )
        for undo in since_allocations():
            await conn.execute(undo)
        number = next(n for n, script in enumerate(db.MIGRATIONS, start=1) if "CREATE TABLE allocations" in script)
        await conn.execute("DELETE FROM schema_migrations WHERE version >= ?", (number,))
    again = db.Database.for_settings(settings)
    await again.open()
    await again.close()
    await consistent(site.db)
    rows = await db.allocations_of(site.db.reader, AllocationFilter())
    assert [(r.worker_id, r.reason) for r in rows if r.case_id == site.world.cases["c5"]] == [
        (site.world.users["rec"], "before_history")
    ]


# ---------------------------------------------------------------- every write keeps one current allocation

WRITES = st.lists(
    st.tuples(
        st.sampled_from(["reallocate", "hold_caseload", "hold_people", "create"]),
        st.integers(0, 2),  # which case
        st.sampled_from(["out", "rec", "smgr", "rmgr"]),  # to whom
        st.sampled_from(["north", "cp"]),  # in which team
    ),
    max_size=12,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=WRITES)
def test_every_write_that_moves_a_case_leaves_exactly_one_current_allocation_equal_to_it(
    tmp_path_factory: pytest.TempPathFactory, writes: list[tuple[str, int, str, str]]
) -> None:
    """Whatever order the store's allocation writes come in (a handover's or an urgent transfer's reallocation,
    a hold pending transfer by either store function, a new case), each case has one current allocation and it is
    the case's worker and team."""

    async def run() -> None:
        database = db.SqliteDatabase(tmp_path_factory.mktemp("writes") / "handover.db")
        await database.open()
        try:
            world = await seed(database)
            cases = [world.cases["mia"], world.cases["zoe"], world.cases["c1"]]
            for kind, which, person, team in writes:
                async with database.transaction() as conn:
                    case_id, user, team_id = cases[which], world.users[person], world.teams[team]
                    if kind == "reallocate":
                        await db.reallocate_case(conn, case_id, user, team_id, why="handover")
                    elif kind == "hold_caseload":
                        await caseload_store.hold_pending_transfer(conn, case_id, user)
                    elif kind == "hold_people":
                        await db.hold_pending_transfer(conn, case_id, user)
                    else:
                        cases.append(await db.create_case(conn, f"N-{len(cases)}", "New", "2016-01-01", user, team_id))
                await consistent(database)
        finally:
            await database.close()

    asyncio.run(run())


async def test_the_demo_shows_a_closed_handovers_move_and_a_leavers_cases_held(database: db.Database) -> None:
    from service.actions import demo

    checklist = CHECKLISTS[max(CHECKLISTS)]
    assert await demo.load(database, CHECKLISTS, checklist)
    await consistent(database)
    rows = await db.allocations_of(database.reader, AllocationFilter())
    closed = await database.reader.execute_fetchall("SELECT id, case_id FROM handovers WHERE state = 'closed'")
    assert closed, "the demo closes a handover"
    moved = {(r.case_id, r.handover_id) for r in rows if r.reason == "handover"}
    assert {(int(h[1]), int(h[0])) for h in closed} <= moved
    assert any(r.reason == "held_pending_transfer" for r in rows)


async def test_the_report_offers_the_history_by_its_own_team_and_group_with_what_applies(site: Site) -> None:
    auditor = await site.as_user("aud")
    team = site.world.teams["cp"]
    page = html.unescape((await auditor.get(f"/audit/incomplete?team={team}&state=endorsed")).text)
    assert f'href="/audit/allocations/csv?team={team}&group="' in page
    assert f'href="/audit/allocations/json?team={team}&group="' in page
    assert rules.FILTERS_HELP in page


async def test_the_streams_group_each_childs_allocations_across_chunks() -> None:
    def allocation(case_id: int, worker_id: int, start: str, end: str | None) -> AllocationRecord:
        return AllocationRecord(
            case_id=case_id, child_reference=f"R-{case_id}", worker_id=worker_id, worker=f"W{worker_id}", team_id=1,
            team="T", allocated_from=start, allocated_to=end, handover_id=None, reason="opened",
        )  # fmt: skip

    records = [
        allocation(1, 1, "2026-01-05T10:00:00+00:00", "2026-02-02T10:00:00+00:00"),
        allocation(1, 2, "2026-02-02T10:00:00+00:00", None),
        allocation(2, 3, "2026-01-06T10:00:00+00:00", None),
        allocation(3, 1, "2026-01-07T10:00:00+00:00", None),
    ]

    async def stream() -> Any:
        for item in records:
            yield item

    chunks = [chunk async for chunk in rules.csv_chunks(stream(), batch=2)]
    assert len(chunks) == 4, "the header, then a chunk each two rows, then the rest"
    assert [row[0] for row in csv_rows(b"".join(chunks))[1:]] == ["R-1", "R-1", "R-2", "R-3"]
    children = json.loads(b"".join([chunk async for chunk in rules.json_chunks(stream())]))
    assert [(c["la_child_id"], [d["worker_id"] for d in c["social_worker_details"]]) for c in children] == [
        ("R-1", ["1", "2"]), ("R-2", ["3"]), ("R-3", ["1"]),
    ]  # fmt: skip
    assert children[0]["social_worker_details"][0]["end_date"] == "2026-02-02"
    assert json.loads(b"".join([chunk async for chunk in rules.json_chunks(_nothing())])) == []


async def _nothing() -> Any:
    for item in ():
        yield item


@pytest.mark.parametrize("words", [["export", "allocations", "--format", "json"], ["export", "--incomplete"]])
async def test_an_export_whose_reader_stops_early_is_recorded_as_not_delivered_without_a_traceback(
    site: Site, env: Any, words: list[str]
) -> None:
    await make_history(site)
    command = [sys.executable, "-c", "import sys; from service import cli; sys.exit(cli.main(sys.argv[1:]))", *words]

    def run() -> tuple[int, str]:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None
        process.stdout.close()  # the reader goes away before the first byte, as `| head -c 0` would
        _, err = process.communicate(timeout=120)
        return process.returncode, err.decode()

    code, text = await anyio.to_thread.run_sync(run)
    assert code == 1, text
    assert "Traceback" not in text and "closed database" not in text, text
    assert "the output was closed before the end" in text
    entries = [e.entry for e in await db.audit_entries(site.db.reader, limit=100_000)]
    assert [e.action for e in entries if e.action.startswith("export")] == ["export", "export_failed"]
    [export] = [e for e in entries if e.action == "export"]
    assert export.details["os_user"], "the operating-system account that ran the command is named"
