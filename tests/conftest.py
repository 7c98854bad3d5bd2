"""Fixtures: a real SQLite file in a temporary folder, a running app, and people in every role."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from litestar.testing import AsyncTestClient

from service import db, passwords
from service import settings as service_settings
from service.app import create_app
from service.passwords import hash_password
from service.settings import Settings
from tests.error_summary_check import check_error_summary
from tests.helpers import TEST_DATABASE, settings_for_tests, test_databases

# No deadline per example, and no complaint that examples are slow to make: the suite runs two passes side by side on
# two cores, and an example that waited for a core is not a failure; speed is the benchmarks' to judge, never a
# test's. Mutation testing (scripts/mutation.sh)
# runs the property tests once per mutant: fewer, repeatable examples there.
UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
hypothesis_settings.register_profile("suite", **UNTIMED)
hypothesis_settings.register_profile("mutation", max_examples=25, derandomize=True, database=None, **UNTIMED)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# The service hashes with argon2id at 64 MiB and 3 passes, about 0.2 s a check on purpose. The suite signs people in
# thousands of times, so it hashes at the smallest cost argon2 allows; the tests about the service's own settings ask
# for them with the `service_hashing` fixture.
SERVICE_HASHER = passwords._hasher
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


class World(msgspec.Struct, kw_only=True):
    """Who and what exists in a test database, by short names."""

    users: dict[str, int]
    teams: dict[str, int]
    cases: dict[str, int]


# username: (team, role) pairs; the sending team is "north", the receiving team "cp", "south" is unrelated
PEOPLE = {
    "out": [("north", "worker")],
    "out2": [("north", "worker")],
    "rec": [("cp", "worker")],
    "rec2": [("cp", "worker")],
    "smgr": [("north", "manager")],
    "smgr2": [("north", "manager")],
    "rmgr": [("cp", "manager")],
    "rmgr2": [("cp", "manager")],
    "both": [("north", "manager"), ("cp", "manager")],
    "other": [("south", "worker")],
    "omgr": [("south", "manager")],
    "aud": [],
    "adm": [],
}


async def seed(database: db.Database) -> World:
    async with database.transaction() as conn:
        teams = {name: await db.create_team(conn, name.title() + " Team") for name in ("north", "cp", "south")}
        users = {}
        for username, roles in PEOPLE.items():
            users[username] = await db.create_user(
                conn,
                username,
                username.title(),
                PASSWORD_HASH,
                is_auditor=username == "aud",
                is_admin=username == "adm",
            )
            for team, role in roles:
                await db.add_membership(conn, users[username], teams[team], role)
        group = await db.create_sibling_group(conn, "Test family")
        cases = {
            "mia": await db.create_case(conn, "T-1", "Mia Test", "2015-03-14", users["out"], teams["north"], group),
            "liam": await db.create_case(conn, "T-2", "Liam Test", "2008-06-02", users["out"], teams["north"], group),
            "zoe": await db.create_case(conn, "T-3", "Zoe Other", "2012-01-01", users["other"], teams["south"]),
        }
        for number in range(1, 9):
            cases[f"c{number}"] = await db.create_case(
                conn, f"C-{number}", f"Child {number}", "2016-05-05", users["out"], teams["north"]
            )
    return World(users=users, teams=teams, cases=cases)


def pytest_sessionstart(session: pytest.Session) -> None:
    if TEST_DATABASE == "postgresql":  # one throwaway server for the run, in a folder of the run's own
        test_databases.start(Path(session.config._tmp_path_factory.mktemp("postgresql")))  # type: ignore[attr-defined]


# Where PostgreSQL's answer differs from SQLite's, and why (each is in the closing notes and docs/operations.md)
POSTGRESQL_DIFFERENCES = {
    "test_a_username_that_only_looks_like_an_existing_one_is_refused_wherever_it_is_set[service account-\\uff41": (
        "refused on both, in other words: the ICU collation behind usernames on PostgreSQL ignores width as well as"
        " case, so the full-width name is found as the person it imitates rather than reported as looking like them"
    ),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DATABASE == "postgresql":
        skip = pytest.mark.skip(reason="about SQLite's file itself; the PostgreSQL pass runs the rest")
        for item in items:
            if item.get_closest_marker("sqlite_only"):
                item.add_marker(skip)
            for start, reason in POSTGRESQL_DIFFERENCES.items():
                if item.name.startswith(start):
                    item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(autouse=True)
def _commands_find_the_tests_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the PostgreSQL pass, a command run in the test's process (`cli.main`, with HANDOVER_DATA_DIR set as a
    council's would be) finds the database of that folder there, as it finds the SQLite file in it otherwise."""
    if TEST_DATABASE != "postgresql":
        return

    def database_url(env: dict[str, str]) -> str:
        given = env.get("HANDOVER_DATABASE_URL", "")
        return given or test_databases.url_for(Path(env.get("HANDOVER_DATA_DIR", "data")))

    monkeypatch.setattr(service_settings, "_database_url", database_url)


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    before = set(test_databases.made)  # made by fixtures of a wider scope, set up before this one
    yield
    if TEST_DATABASE == "postgresql":
        test_databases.drop_made_since(before)


@pytest.fixture
def service_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hash and verify passwords with the service's own argon2 settings for one test."""
    monkeypatch.setattr(passwords, "_hasher", SERVICE_HASHER)
    passwords._dummy.cache_clear()  # the stand-in for unknown usernames is made with whichever settings are in use
    yield
    passwords._dummy.cache_clear()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A SQLite file with the schema up to date, made once for the run; None in the PostgreSQL pass, whose template
    database does the same there. Migrating a new file took most of a test's start."""
    if TEST_DATABASE == "postgresql":
        return None
    made = settings_for_tests(tmp_path_factory.mktemp("migrated"))

    async def migrate() -> None:
        async with db.Database.for_settings(made).opened():
            pass

    asyncio.run(migrate())
    assert not made.database.with_name(made.database.name + "-wal").exists()  # closed: all of it is in the one file
    return made.database


@pytest.fixture
def settings(tmp_path: Path, _migrated_sqlite: Path | None) -> Settings:
    """Settings for a test's own data folder, whose database already has the service's schema (as after its first
    start: the migrations themselves are tested from an empty file and from older schemas elsewhere)."""
    made = settings_for_tests(tmp_path)
    if _migrated_sqlite is not None:
        shutil.copyfile(_migrated_sqlite, made.database)
    return made


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[db.Database]:
    database = db.Database.for_settings(settings)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def world(database: db.Database) -> World:
    return await seed(database)


class Browser:
    """One person's browser: their own cookies on the shared test client, forms posted with the CSRF token."""

    def __init__(self, client: AsyncTestClient) -> None:  # type: ignore[type-arg]
        self.client = client
        self.jar = httpx.Cookies()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.client.cookies = self.jar
        try:
            response = await self.client.request(method, url, follow_redirects=False, **kwargs)
        finally:
            self.jar = httpx.Cookies(self.client.cookies)
        # every page a test is given is held to the error summary's pattern (tests/error_summary_check.py)
        if "text/html" in response.headers.get("content-type", ""):
            check_error_summary(f"{method} {url} ({response.status_code})", response.text)
        return response

    @property
    def csrf(self) -> str:
        return self.jar.get("csrftoken") or ""

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        if not self.csrf:
            await self.get("/sign-in")
        return await self.request("POST", url, data={"_csrf_token": self.csrf, **(data or {})}, **kwargs)

    async def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/sign-in")
        return await self.post("/sign-in", {"username": username, "password": password})


class Site(msgspec.Struct, kw_only=True):
    """The running app, its seeded world, and a way to open a browser as anyone."""

    app: Any
    client: Any
    world: World

    async def as_user(self, username: str | None) -> Browser:
        person = Browser(self.client)
        if username:
            response = await person.sign_in(username)
            assert response.status_code == 303, response.text
        return person

    @property
    def db(self) -> db.Database:
        return self.app.state.db  # type: ignore[no-any-return]


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        world = await seed(app.state.db)
        yield Site(app=app, client=client, world=world)
