"""Joiners, movers and leavers from the `handover` command: the same actions as the administrator's pages, the same
messages when something is wrong (on standard error, exit status 1), and nothing changed then."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from service import cli, db
from service.core import accounts as rules
from service.settings import Settings
from tests.conftest import seed
from tests.helpers import settings_for_tests

PASSWORD = "a long enough password"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = settings_for_tests(tmp_path)
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)

    async def populate() -> None:
        async with db.Database.for_settings(settings).opened() as database:
            await seed(database)

    asyncio.run(populate())
    return settings


def read(settings: Settings, query: Callable[[db.Conn], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with db.Database.for_settings(settings).opened() as database:
            return await query(database.reader)

    return asyncio.run(run())


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as raised:
        cli.main(argv)
    return str(raised.value.code)


def test_add_person_stores_the_email_and_teams(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["add-person", "jo", "--name", "Jo Joiner", "--email", "jo@example.gov.uk", "--password", PASSWORD,
            "--worker", "North Team", "--manager", "South Team"]  # fmt: skip
    assert cli.main(argv) == 0
    assert "Added Jo Joiner" in capsys.readouterr().out
    jo = next(p for p in read(env, db.people_list) if p.username == "jo")
    assert (jo.email, jo.teams) == ("jo@example.gov.uk", "North Team (worker); South Team (manager)")


def test_add_person_refuses_a_bad_email_before_asking_for_a_password(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    message = refused(["add-person", "jo", "--name", "Jo", "--email", "jo.example.gov.uk", "--worker", "North Team"],
                      capsys)  # fmt: skip
    assert message == "handover add-person: email: " + rules.email_errors("jo.example.gov.uk")["email"]
    message = refused(["add-person", "jo", "--name", "Jo", "--email", "jo@x.uk", "--password", PASSWORD,
                       "--worker", "Nowhere"], capsys)  # fmt: skip
    assert message == f"handover add-person: worker: {rules.NO_SUCH_TEAM}"
    assert not any(p.username == "jo" for p in read(env, db.people_list))


def test_set_roles_moves_a_person_and_keeps_a_worker_where_they_hold_cases(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["set-roles", "out2", "--worker", "South Team"]) == 0
    assert "no longer a worker in North Team; now a worker in South Team" in capsys.readouterr().out
    message = refused(["set-roles", "out", "--worker", "South Team"], capsys)
    assert message == "handover set-roles: worker: " + rules.keeps_cases_message("Out", "North Team")
    assert refused(["set-roles", "nobody", "--worker", "South Team"], capsys).endswith(rules.NO_SUCH_PERSON)


def test_reset_password(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    before = read(env, lambda conn: db.user_by_username(conn, "rec")).password_hash
    assert cli.main(["reset-password", "rec", "--password", PASSWORD]) == 0
    assert read(env, lambda conn: db.user_by_username(conn, "rec")).password_hash != before
    assert "at least 12 characters" in refused(["reset-password", "rec", "--password", "short"], capsys)


def test_disable_user_moves_the_leavers_cases_to_the_team_manager(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["disable-user", "out"]) == 0
    out = capsys.readouterr().out
    assert "Disabled Out ('out')" in out and "Mia Test: held by the team manager pending transfer (Both)" in out
    assert read(env, lambda conn: db.user_by_username(conn, "out")).disabled
    both = read(env, lambda conn: db.user_by_username(conn, "both")).id
    held = read(env, lambda conn: db.held_cases(conn, both))
    assert len(held) == 10 and all(case.held_pending_transfer for case in held)


def test_disable_user_is_refused_when_the_team_has_no_manager(
    env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["disable-user", "omgr"]) == 0
    message = refused(["disable-user", "other"], capsys)
    assert message == "handover disable-user: disable: " + rules.no_manager_message("Other", "South Team")
    assert not read(env, lambda conn: db.user_by_username(conn, "other")).disabled


def test_services_and_head_of_service(env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["service", "create", "Early help", "--manager", "smgr"]) == 0
    assert cli.main(["service", "add-team", "Early help", "North Team"]) == 0
    assert cli.main(["service", "manager", "Early help", "rmgr"]) == 0
    assert cli.main(["service", "head", "omgr"]) == 0
    [service] = read(env, db.services)
    assert (service.name, service.service_manager, service.teams) == ("Early help", "Rmgr", "North Team")
    assert read(env, db.head_of_service)[1] == "Omgr"
    message = refused(["service", "add-team", "Early help", "Nowhere"], capsys)
    assert message == f"handover service add-team: team: {rules.NO_SUCH_TEAM}"
