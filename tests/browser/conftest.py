"""Browser tests: the real service on a loopback port with its own database, driven by Debian's Chromium.

The server, Playwright and the browser live for this package only (scope="package"): Playwright's sync API keeps an
event loop marked as running while it is alive, so it must be gone before the asyncio tests elsewhere start.

`scripts/browser_setup.sh` installs what these need besides Python packages (Chromium, if missing, and axe-core into
the gitignored .cache/axe). No browser is ever downloaded: Playwright drives /usr/bin/chromium. The tests are skipped,
saying why, only when that browser is absent.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from service import db
from tests import live_service
from tests.browser.support import AXE_JS, Axe, Person, new_person
from tests.conftest import PASSWORD_HASH, World, seed
from tests.helpers import TEST_DATABASE, settings_for_tests, test_databases

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HERE = Path(__file__).resolve().parent

_axe_runs: list[Axe] = []
BROWSER_FAMILY = ["Ada Browser", "Bea Browser", "Cy Browser", "Dot Browser"]  # cases c13 to c16


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the real service in headless Chromium (tests/browser)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (bash scripts/browser_setup.sh installs it)")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    scans = [scan for axe in _axe_runs for scan in axe.scans]
    if scans:
        with_js = sum(1 for scan in scans if scan.javascript)
        addresses = len({re.split("[?#]", scan.url)[0] for scan in scans})
        failed = sum(1 for scan in scans if scan.violations)
        version = next((axe.version for axe in _axe_runs if axe.version), "?")
        seconds = sum(axe.seconds for axe in _axe_runs)
        terminalreporter.write_line(
            f"axe-core {version}: {len(scans)} page states scanned ({with_js} with JavaScript, "
            f"{len(scans) - with_js} without; {addresses} distinct addresses), {failed} with violations; "
            f"{seconds:.1f} s in axe"
        )


@dataclass
class Server:
    url: str
    world: World
    data_dir: Path


_free_port = live_service.free_port


async def _seed(database: db.Database) -> World:
    await database.open()
    try:
        world = await seed(database)
        # Browser tests share one server, and a case can be handed over only once at a time: each test file starts
        # its handovers on cases of its own, so these add to the eight the HTTP tests' seed makes.
        async with database.transaction() as conn:
            for number in range(9, 13):
                world.cases[f"c{number}"] = await db.create_case(
                    conn, f"C-{number}", f"Child {number}", "2016-05-05", world.users["out"], world.teams["north"]
                )
        # a worker in north who leaves, with three children of their own (tests/browser/test_caseload.py)
        async with database.transaction() as conn:
            world.users["leaver"] = await db.create_user(
                conn, "leaver", "Lee Leaver", PASSWORD_HASH, is_auditor=False, is_admin=False
            )
            await db.add_membership(conn, world.users["leaver"], world.teams["north"], "worker")
            for number in range(17, 20):
                world.cases[f"c{number}"] = await db.create_case(
                    conn, f"C-{number}", f"Child {number}", "2016-05-05", world.users["leaver"], world.teams["north"]
                )
        await _seed_records_viewers(database, world)
        await _seed_account_rules_more(database, world)
        # tests/browser/test_sibling_group.py: four brothers and sisters, in a sibling group of their own
        async with database.transaction() as conn:
            family = await db.create_sibling_group(conn, "Browser family")
            for number, name in zip(range(13, 17), BROWSER_FAMILY, strict=True):
                world.cases[f"c{number}"] = await db.create_case(
                    conn, f"C-{number}", name, "2014-04-04", world.users["out"], world.teams["north"], family
                )
        await _seed_group_rules(database, world)
        await _seed_returned_while_absent(database, world)
        await _seed_stranding_manager(database, world)
        return world
    finally:
        await database.close()


async def _seed_group_rules(database: db.Database, world: World) -> None:
    """tests/browser/test_group_rules.py: two sibling groups of two. c23 and c24 are out's, each handed over alone
    there; c25 and c26 belong to "mover", a worker in north whose caseload the sending manager moves. Their references
    (SG-23...) share no text with the other cases' ("C-2"), which other files look for."""
    async with database.transaction() as conn:
        world.users["mover"] = await db.create_user(
            conn, "mover", "Mo Mover", PASSWORD_HASH, is_auditor=False, is_admin=False
        )
        await db.add_membership(conn, world.users["mover"], world.teams["north"], "worker")
        for family, holder, numbers in (("Apart family", "out", (23, 24)), ("Mover family", "mover", (25, 26))):
            group = await db.create_sibling_group(conn, family)
            for number in numbers:
                world.cases[f"c{number}"] = await db.create_case(
                    conn, f"SG-{number}", f"Sibling {number}", "2013-07-07", world.users[holder],
                    world.teams["north"], group,
                )  # fmt: skip


async def _seed_records_viewers(database: db.Database, world: World) -> None:
    """test_records_viewers.py's case, c20, held by out2 with a draft handover the sending manager may open. Its
    name and reference share no text with the other cases' ("C-2", "Child 2"), which other files look for."""
    from service import actions
    from tests.helpers import CHECKLIST, actor

    async with database.transaction() as conn:
        for number in (20,):
            world.cases[f"c{number}"] = await db.create_case(
                conn, f"RV-{number}", "Robin Vale", "2016-05-05", world.users["out2"], world.teams["north"]
            )
    out2 = await actor(database, world, "out2")
    await actions.start_handover(
        database, out2, CHECKLIST, case_id=world.cases["c20"], receiving_team_id=world.teams["cp"],
        receiver_id=None, transfer_reason="Moving to the child protection team",
    )  # fmt: skip


async def _written_handover(
    database: db.Database, world: World, author: str, case: str, receiver: str | None = None, team: str = "cp"
) -> int:
    """A handover of this case to this team (and this receiver, if named), every section finished by its author
    (not yet submitted)."""
    from service import actions
    from tests.helpers import CASE_M_LIKE, CHECKLIST, CHECKLISTS, actor, complete, on_record

    worker = await actor(database, world, author)
    handover_id = await actions.start_handover(
        database, worker, CHECKLIST, case_id=world.cases[case], receiving_team_id=world.teams[team],
        receiver_id=world.users[receiver] if receiver else None, transfer_reason="Moving to the child protection team",
    )  # fmt: skip
    for section_id, answers in (await on_record(database, handover_id, complete(**CASE_M_LIKE))).items():
        await actions.save_section(database, CHECKLISTS, worker, handover_id, section_id, answers, 0, finished=True)
    return handover_id


async def _seed_account_rules_more(database: db.Database, world: World) -> None:
    """tests/browser/test_account_rules_more.py: Lone Team, whose only manager continues a leaver's handover of c27
    on their behalf and submits it, so no manager may endorse it; and Quiet Team's only manager, with nothing
    waiting on the team. The child's name and reference share no text with the other cases' ("C-2", "Child 2")."""
    from service import actions
    from service.core.workflow import Action
    from tests.helpers import CHECKLISTS, actor

    async with database.transaction() as conn:
        for team in ("lone", "quiet"):
            world.teams[team] = await db.create_team(conn, f"{team.title()} Team")
        for username, team, role in (("lonemgr", "lone", "manager"), ("loner", "lone", "worker"),
                                     ("quietmgr", "quiet", "manager")):  # fmt: skip
            world.users[username] = await db.create_user(
                conn, username, username.title(), PASSWORD_HASH, is_auditor=False, is_admin=False
            )
            await db.add_membership(conn, world.users[username], world.teams[team], role)
        world.cases["c27"] = await db.create_case(
            conn, "AR-27", "Ash Rowe", "2016-05-05", world.users["loner"], world.teams["lone"]
        )
    handover_id = await _written_handover(database, world, "loner", "c27")
    await actions.disable_person(database, user_id=world.users["loner"], by=None)
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    lonemgr = await actor(database, world, "lonemgr")
    await actions.act(database, CHECKLISTS, lonemgr, handover_id, Action.SUBMIT, view.handover.version, "")


async def _seed_returned_while_absent(database: db.Database, world: World) -> None:
    """tests/browser/test_caseload_absence.py: Away Team's worker submits the handover of c21 and goes on long-term
    absence; their manager then returns it, so it waits on someone who is away."""
    from service import actions
    from service.actions import caseload as caseload_actions
    from service.core.workflow import Action
    from tests.helpers import CHECKLISTS, actor

    async with database.transaction() as conn:
        world.teams["away"] = await db.create_team(conn, "Away Team")
        for username, name, role in (("awaymgr", "Awaymgr", "manager"), ("awayer", "Awayer", "worker")):
            world.users[username] = await db.create_user(
                conn, username, name, PASSWORD_HASH, is_auditor=False, is_admin=False
            )
            await db.add_membership(conn, world.users[username], world.teams["away"], role)
        world.cases["c21"] = await db.create_case(
            conn, "AW-21", "Arlo West", "2016-05-05", world.users["awayer"], world.teams["away"]
        )
    awayer = await actor(database, world, "awayer")
    handover_id = await _written_handover(database, world, "awayer", "c21")
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    await actions.act(database, CHECKLISTS, awayer, handover_id, Action.SUBMIT, view.handover.version, "")
    awaymgr = await actor(database, world, "awaymgr")
    await caseload_actions.record_absence(database, awaymgr, world.users["awayer"])
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    await actions.act(
        database, CHECKLISTS, awaymgr, handover_id, Action.RETURN_TO_OUTGOING, view.handover.version,
        "Say more about the school's concerns",
    )  # fmt: skip


async def _seed_stranding_manager(database: db.Database, world: World) -> None:
    """tests/browser/test_account_rules_more.py: Pair Team's two managers, one of whom is also to receive (in Pair
    Receiving Team) its worker's submitted handover of c28, so disabling the other would leave nobody to endorse it."""
    from service import actions
    from service.core.workflow import Action
    from tests.helpers import CHECKLISTS, actor

    async with database.transaction() as conn:
        world.teams["pair"] = await db.create_team(conn, "Pair Team")
        world.teams["pairin"] = await db.create_team(conn, "Pair Receiving Team")
        for username, team, role in (("pairmgr", "pair", "manager"), ("pairrec", "pair", "manager"),
                                     ("pairrec", "pairin", "worker"), ("pairer", "pair", "worker")):  # fmt: skip
            if username not in world.users:
                world.users[username] = await db.create_user(
                    conn, username, username.title(), PASSWORD_HASH, is_auditor=False, is_admin=False
                )
            await db.add_membership(conn, world.users[username], world.teams[team], role)
        world.cases["c28"] = await db.create_case(
            conn, "PT-28", "Pip Tern", "2016-05-05", world.users["pairer"], world.teams["pair"]
        )
    handover_id = await _written_handover(database, world, "pairer", "c28", receiver="pairrec", team="pairin")
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    pairer = await actor(database, world, "pairer")
    await actions.act(database, CHECKLISTS, pairer, handover_id, Action.SUBMIT, view.handover.version, "")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("handover-browser")
    # in the suite's PostgreSQL pass the server keeps its data there, in a database the run keeps to the end
    url = test_databases.server.create_database("browser") if TEST_DATABASE == "postgresql" else ""
    database = db.Database.for_settings(settings_for_tests(data_dir, database_url=url))
    # asyncio.run in a thread of its own: Playwright's sync API may already be running an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        world = pool.submit(asyncio.run, _seed(database)).result()

    def environment(port: int) -> dict[str, str]:
        env = {
            **os.environ,
            "HANDOVER_DATA_DIR": str(data_dir),
            "HANDOVER_HOST": "127.0.0.1",
            "HANDOVER_PORT": str(port),
            "HANDOVER_SECRET_KEY": "browser-tests-secret-key-0123456789abcdef",  # 40 characters
            "HANDOVER_MODE": "demo",
            "HANDOVER_DATABASE_URL": url,
        }
        env.pop("HANDOVER_DATABASE", None)
        return env

    served = live_service.start(environment, seconds=30, log=data_dir / "server.log")
    try:
        yield Server(url=served.base, world=world, data_dir=data_dir)
    finally:
        live_service.stop(served.process, seconds=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until this process answers ready on `url`; RuntimeError with its log if it stopped or took over 30 s."""
    try:
        live_service.wait_until_ready(process, url, seconds=30)
    except live_service.NotReady as exc:
        live_service.stop(process)
        raise RuntimeError(f"{exc}\n{log_path.read_text(errors='replace')}") from None


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run bash scripts/browser_setup.sh"
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="package")
def axe(browser: Browser) -> Iterator[Axe]:
    scanner = Axe(browser)
    _axe_runs.append(scanner)
    yield scanner
    scanner.close()


@pytest.fixture
def person(browser: Browser, server: Server, axe: Axe) -> Iterator[Callable[..., Person]]:
    """`person("out")` or `person("out", javascript=False)`: a new browser context, signed in through the page."""
    opened: list[Person] = []

    def open_as(username: str | None, *, javascript: bool = True) -> Person:
        someone = new_person(browser, server.url, axe, javascript=javascript)
        opened.append(someone)
        if username:
            someone.sign_in(username)
        return someone

    yield open_as
    for someone in opened:
        someone.context.close()
