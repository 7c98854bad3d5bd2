"""The account rules hold at every place an account is changed: the actions, the administrator's pages and the
`handover` command give the same refusal in the same words, and store nothing then. Each rule is checked at each
place, generated from the one list of places below, so a place added later is checked against every rule.

The rules: the last enabled manager of a team that work waits on stays until another is in post; a leaver's service
manager or head of service post is vacated (and listed as waiting for the administrator); passwords follow the
NCSC's guidance; usernames are plain and never look like another's, e-mail addresses are never shared; only an
enabled team manager may be a service manager or head of service; the command line records who ran it."""

from __future__ import annotations

import html
import os
import pwd
from collections.abc import Awaitable
from typing import Any

import anyio.to_thread
import pytest

from service import actions, cli, db
from service.core import accounts as rules
from service.core import identity
from service.core.errors import Invalid
from service.settings import Settings
from tests.conftest import Browser, Site
from tests.helpers import handover_in

pytestmark = pytest.mark.anyio

PLACES = ("action", "page", "command")
GOOD_PASSWORD = "tall ferns grow quietly"


class Place:
    """One way an administrator changes accounts. Each method returns what the administrator is told when the change
    is refused, and "" when it is made."""

    def __init__(self, kind: str, site: Site, admin: Browser) -> None:
        self.kind, self.site, self.admin = kind, site, admin

    async def _id(self, username: str) -> int:
        user = await db.user_by_username(self.site.db.reader, username)
        assert user is not None
        return user.id

    @staticmethod
    async def _action(call: Awaitable[Any]) -> str:
        try:
            await call
        except Invalid as exc:
            return "\n".join(exc.errors.values())
        return ""

    async def _page(self, path: str, form: dict[str, Any], *, done: int = 303) -> str:
        response = await self.admin.post(path, form)
        if response.status_code == done:
            return ""
        assert response.status_code == 400, (path, response.status_code)
        return html.unescape(response.text)

    @staticmethod
    async def _command(*argv: str) -> str:
        def run() -> str:
            try:
                status = cli.main([*argv, "--by", "adm"])
            except SystemExit as exc:
                return str(exc.code)
            return "" if status == 0 else f"exit status {status}"

        return await anyio.to_thread.run_sync(run)

    async def add_person(self, username: str, name: str, email: str, password: str) -> str:
        if self.kind == "action":
            return await self._action(actions.add_person(
                self.site.db, username=username, full_name=name, email=email, password=password,
                roles=actions.TeamRoles(worker=["Cp Team"]), by=self.site.world.users["adm"],
            ))  # fmt: skip
        if self.kind == "page":
            form = {"username": username, "name": name, "email": email, "password": password, "worker": "Cp Team"}
            return await self._page("/admin/people/new", form)
        return await self._command(
            "add-person", username, "--name", name, "--email", email, "--password", password, "--worker", "Cp Team"
        )

    async def reset_password(self, username: str, password: str) -> str:
        user_id = await self._id(username)
        if self.kind == "action":
            return await self._action(actions.reset_password(self.site.db, user_id=user_id, password=password, by=None))
        if self.kind == "page":
            return await self._page(f"/admin/people/{user_id}/password", {"password": password})
        return await self._command("reset-password", username, "--password", password)

    async def set_roles(self, username: str, *, worker: list[str], manager: list[str]) -> str:
        user_id = await self._id(username)
        if self.kind == "action":
            roles = actions.TeamRoles(worker=worker, manager=manager)
            return await self._action(actions.change_roles(self.site.db, user_id=user_id, roles=roles, by=None))
        if self.kind == "page":
            return await self._page(f"/admin/people/{user_id}/roles", {"worker": worker, "manager": manager})
        teams = [part for team in worker for part in ("--worker", team)]
        teams += [part for team in manager for part in ("--manager", team)]
        return await self._command("set-roles", username, *teams)

    async def disable(self, username: str) -> str:
        user_id = await self._id(username)
        if self.kind == "action":
            return await self._action(actions.disable_person(self.site.db, user_id=user_id, by=None))
        if self.kind == "page":
            return await self._page(f"/admin/people/{user_id}/disable", {}, done=200)
        return await self._command("disable-user", username)

    async def create_service(self, name: str, manager: str) -> str:
        if self.kind == "action":
            return await self._action(actions.create_service(self.site.db, name=name, service_manager=manager, by=None))
        if self.kind == "page":
            return await self._page("/admin/services", {"name": name, "service_manager": manager})
        return await self._command("service", "create", name, "--manager", manager)

    async def set_service_manager(self, service: str, manager: str) -> str:
        if self.kind == "action":
            return await self._action(
                actions.set_service_manager(self.site.db, service=service, service_manager=manager, by=None)
            )
        if self.kind == "page":
            form = {"managed_service": service, "service_manager": manager}
            return await self._page("/admin/services/manager", form)
        return await self._command("service", "manager", service, manager)

    async def set_head(self, username: str) -> str:
        if self.kind == "action":
            return await self._action(actions.set_head_of_service(self.site.db, username=username, by=None))
        if self.kind == "page":
            return await self._page("/admin/head-of-service", {"head_of_service": username})
        return await self._command("service", "head", username)


@pytest.fixture(params=PLACES)
async def place(
    request: pytest.FixtureRequest, site: Site, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Place:
    # the command line opens the same database file as the running site
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    return Place(request.param, site, await site.as_user("adm"))


async def user(site: Site, username: str) -> db.User:
    found = await db.user_by_username(site.db.reader, username)
    assert found is not None
    return found


async def only_manager_of_north(site: Site) -> None:
    """smgr is left the only manager of North Team (its other managers stop managing it while nothing waits)."""
    for username in ("smgr2", "both"):
        roles = actions.TeamRoles(manager=["Cp Team"]) if username == "both" else actions.TeamRoles(worker=["Cp Team"])
        await actions.change_roles(site.db, user_id=site.world.users[username], roles=roles, by=None)


# ---------------------------------------------------------------- 1. a team with work waiting keeps a manager


async def test_the_only_manager_of_a_team_with_a_handover_waiting_can_neither_step_down_nor_leave(
    place: Place, site: Site
) -> None:
    await only_manager_of_north(site)
    await handover_in(site.db, site.world, "submitted", "mia")
    told = await place.set_roles("smgr", worker=["South Team"], manager=[])
    assert "Smgr is the only team manager of North Team" in told and "1 open handover waits on the team" in told
    told = await place.disable("smgr")
    assert "Smgr is the only team manager of North Team" in told and "1 open handover waits on the team" in told
    smgr = await user(site, "smgr")
    assert not smgr.disabled
    assert [(m.team_name, m.role) for m in await db.memberships(site.db.reader, smgr.id)] == [("North Team", "manager")]
    # once another manager is in post, the first may go
    await actions.change_roles(
        site.db, user_id=site.world.users["smgr2"], roles=actions.TeamRoles(manager=["North Team"]), by=None
    )
    assert await place.disable("smgr") == ""
    assert (await user(site, "smgr")).disabled


async def test_the_only_manager_holding_a_leavers_cases_cannot_leave_and_is_told_what_waits(
    place: Place, site: Site
) -> None:
    await only_manager_of_north(site)
    await actions.disable_person(site.db, user_id=site.world.users["out"], by=None)  # 10 cases now held by smgr
    told = await place.disable("smgr")
    assert "only team manager of North Team" in told and "10 cases are held pending transfer" in told
    assert not (await user(site, "smgr")).disabled


async def test_a_manager_of_a_team_nothing_waits_on_may_step_down(place: Place, site: Site) -> None:
    assert await place.set_roles("omgr", worker=["South Team"], manager=[]) == ""


# ---------------------------------------------------------------- 2. a leaver's posts are vacated


async def test_disabling_a_service_manager_or_head_of_service_vacates_the_post_and_lists_it_for_the_administrator(
    place: Place, site: Site
) -> None:
    await actions.create_service(site.db, name="Early help", service_manager="smgr", by=None)
    await actions.set_head_of_service(site.db, username="rmgr", by=None)
    assert await place.disable("smgr") == ""
    assert await place.disable("rmgr") == ""
    [service] = await db.services(site.db.reader)
    assert service.service_manager_id is None
    assert await db.head_of_service(site.db.reader) is None
    entries = [stored.entry for stored in await db.audit_entries(site.db.reader, after_seq=0)]
    assert {"vacate_service_manager", "vacate_head_of_service"} <= {entry.action for entry in entries}
    landing = html.unescape((await place.admin.get("/admin/people")).text)
    waiting = landing[landing.index("Waiting for you") : landing.index("Add a person")]
    assert rules.vacant_service_manager("Early help") in waiting and rules.VACANT_HEAD_OF_SERVICE in waiting


async def test_the_disabled_page_says_which_posts_are_now_vacant(site: Site) -> None:
    await actions.set_head_of_service(site.db, username="rmgr", by=None)
    admin = await site.as_user("adm")
    done = await admin.post(f"/admin/people/{site.world.users['rmgr']}/disable")
    assert done.status_code == 200 and "No one is head of service now" in done.text


async def test_with_every_post_filled_nothing_waits_for_the_administrator(site: Site) -> None:
    await actions.create_service(site.db, name="Early help", service_manager="smgr", by=None)
    admin = await site.as_user("adm")
    assert rules.VACANT_HEAD_OF_SERVICE in html.unescape((await admin.get("/admin/people")).text)
    await actions.set_head_of_service(site.db, username="rmgr", by=None)
    assert "Nothing is waiting for you" in (await admin.get("/admin/people")).text


# ---------------------------------------------------------------- 3. passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Password123456", identity.PASSWORD_COMMON),
        ("qwertyuiop123", identity.PASSWORD_COMMON),
        ("aaaaaaaaaaaaaaaa", identity.PASSWORD_COMMON),
        ("Joiner rides bikes", identity.PASSWORD_HAS_NAME),  # the name
        ("bikes for jo.joiner", identity.PASSWORD_HAS_NAME),  # the username
        ("eleven char", identity.PASSWORD_TOO_SHORT),
    ],
)
async def test_a_new_persons_password_must_be_long_uncommon_and_without_their_name(
    place: Place, site: Site, password: str, message: str
) -> None:
    told = await place.add_person("jo.joiner", "Jo Joiner", "jo@example.gov.uk", password)
    assert message in told
    assert await db.user_by_username(site.db.reader, "jo.joiner") is None


@pytest.mark.parametrize(
    ("password", "message"),
    [("iloveyou1234", identity.PASSWORD_COMMON), ("Rec2 sails small boats", identity.PASSWORD_HAS_NAME)],
)
async def test_a_reset_password_follows_the_same_rule(place: Place, site: Site, password: str, message: str) -> None:
    before = (await user(site, "rec2")).password_hash
    assert message in await place.reset_password("rec2", password)
    assert (await user(site, "rec2")).password_hash == before


async def test_a_long_password_is_accepted(place: Place, site: Site) -> None:
    long_password = (GOOD_PASSWORD + " ") * 20  # 480 characters: no limit a person would meet
    assert await place.reset_password("rec2", long_password) == ""


# ---------------------------------------------------------------- 4. usernames and e-mail addresses


@pytest.mark.parametrize("username", ["JSmith", "j smith", "jsmíth", ".jsmith", "ｊｓｍｉｔｈ"])
async def test_a_username_outside_the_documented_characters_is_refused(place: Place, site: Site, username: str) -> None:
    told = await place.add_person(username, "Jay Smith", "jay@example.gov.uk", GOOD_PASSWORD)
    assert identity.USERNAME_CHARACTERS in told
    assert "jay@example.gov.uk" not in [p.email for p in await db.people_list(site.db.reader)]


@pytest.mark.parametrize(("existing", "typed"), [("Sam.Lee", "sam.lee"), ("\ufb01ona", "fiona")])
async def test_a_username_that_looks_like_an_existing_one_is_refused(
    place: Place, site: Site, existing: str, typed: str
) -> None:
    async with site.db.transaction() as conn:  # an account made before usernames were restricted
        await db.create_user(conn, existing, "Earlier Person", "!")
    told = await place.add_person(typed, "Another Person", "another@example.gov.uk", GOOD_PASSWORD)
    assert identity.username_taken_message(existing) in told
    assert [p.username for p in await db.people_list(site.db.reader) if p.name == "Another Person"] == []


async def test_an_email_address_another_person_has_is_refused_whatever_its_case(place: Place, site: Site) -> None:
    assert await actions.add_person(
        site.db, username="first", full_name="First Person", email="shared@example.gov.uk", password=GOOD_PASSWORD,
        roles=actions.TeamRoles(worker=["Cp Team"]), by=None,
    )  # fmt: skip
    told = await place.add_person("second", "Second Person", "Shared@Example.GOV.uk", GOOD_PASSWORD)
    assert identity.EMAIL_TAKEN in told
    assert await db.user_by_username(site.db.reader, "second") is None


# ---------------------------------------------------------------- 6. who may hold a service post


async def test_only_an_enabled_team_manager_may_be_a_service_manager_or_head_of_service(
    place: Place, site: Site
) -> None:
    await actions.create_service(site.db, name="Early help", service_manager="", by=None)
    await actions.disable_person(site.db, user_id=site.world.users["omgr"], by=None)
    assert rules.NOT_A_MANAGER_SERVICE in await place.create_service("Family help", "rec")
    assert rules.NOT_A_MANAGER_SERVICE in await place.set_service_manager("Early help", "out")
    assert rules.NOT_A_MANAGER_SERVICE in await place.set_service_manager("Early help", "omgr")  # disabled
    assert rules.NOT_A_MANAGER_HEAD in await place.set_head("aud")
    assert rules.NOT_A_MANAGER_HEAD in await place.set_head("omgr")
    assert [s.name for s in await db.services(site.db.reader)] == ["Early help"]
    assert (await db.services(site.db.reader))[0].service_manager_id is None
    assert await db.head_of_service(site.db.reader) is None
    assert await place.set_service_manager("Early help", "smgr") == ""
    assert await place.set_head("rmgr") == ""


async def test_a_post_holder_keeps_a_team_manager_role_while_in_post(place: Place, site: Site) -> None:
    await actions.create_service(site.db, name="Early help", service_manager="omgr", by=None)
    told = await place.set_roles("omgr", worker=["South Team"], manager=[])
    assert "Omgr is the service manager of Early help" in told
    await actions.set_service_manager(site.db, service="Early help", service_manager="smgr", by=None)
    await actions.set_head_of_service(site.db, username="omgr", by=None)
    assert "Omgr is the head of service" in await place.set_roles("omgr", worker=["South Team"], manager=[])


async def test_each_refusal_is_keyed_by_its_field(site: Site) -> None:
    async def keys(call: Awaitable[Any]) -> set[str]:
        with pytest.raises(Invalid) as refused:
            await call
        return set(refused.value.errors)

    assert await keys(actions.create_service(site.db, name="X", service_manager="rec", by=None)) == {"service_manager"}
    assert await keys(actions.set_head_of_service(site.db, username="rec", by=None)) == {"head_of_service"}
    admin = await site.as_user("adm")
    page = (await admin.post("/admin/head-of-service", {"head_of_service": "rec"})).text
    assert 'href="#head_of_service"' in page and 'id="head_of_service-error"' in page
    teams = (await admin.get("/admin/teams")).text
    assert 'value="smgr"' in teams and 'value="rec"' not in teams, "only team managers are offered"


# ---------------------------------------------------------------- 5. the command line says who ran it


def account_commands() -> list[str]:
    """Every command (and service subcommand) that takes --by, read from the command line's own parser."""
    found = []
    for name, parser in cli.parser()._subparsers._group_actions[0].choices.items():  # type: ignore[union-attr]
        if parser._subparsers is not None:
            found += [
                f"{name} {sub}"
                for sub, subparser in parser._subparsers._group_actions[0].choices.items()
                if any("--by" in action.option_strings for action in subparser._actions)
            ]
        elif any("--by" in action.option_strings for action in parser._actions):
            found.append(name)
    return found


COMMANDS = {
    "create-user": ["create-user", "newbie", "--name", "New Person", "--password", GOOD_PASSWORD],
    "add-person": [
        "add-person",
        "jo",
        "--name",
        "Jo Joiner",
        "--email",
        "jo@example.gov.uk",
        "--password",
        GOOD_PASSWORD,
        "--worker",
        "Cp Team",
    ],
    "set-roles": ["set-roles", "rec2", "--worker", "South Team"],
    "reset-password": ["reset-password", "rec2", "--password", GOOD_PASSWORD],
    "disable-user": ["disable-user", "rec2"],
    "service create": ["service", "create", "Early help", "--manager", "smgr"],
    "service manager": ["service", "manager", "Existing service", "rmgr"],
    "service add-team": ["service", "add-team", "Existing service", "North Team"],
    "service head": ["service", "head", "rmgr"],
    "correct-case": ["correct-case", "T-3", "--name", "Zoe Corrected"],
}
# commands that take --by whose audit is proven where their setup lives (a handover waiting on a step nobody may take)
PROVEN_ELSEWHERE = {"name-manager": "tests/test_input_filters_cli.py"}


def test_every_account_command_takes_by() -> None:
    assert sorted(account_commands()) == sorted([*COMMANDS, *PROVEN_ELSEWHERE])


def operating_system_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("by", [None, "adm"])
async def test_each_account_command_records_the_administrator_and_the_operating_system_account(
    site: Site, settings: Settings, monkeypatch: pytest.MonkeyPatch, command: str, by: str | None
) -> None:
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    await actions.create_service(site.db, name="Existing service", service_manager="", by=None)
    seq = (await db.last_audit_entry(site.db.reader))[0]
    argv = COMMANDS[command] + (["--by", by] if by else [])
    assert await anyio.to_thread.run_sync(cli.main, argv) == 0
    entries = [stored.entry for stored in await db.audit_entries(site.db.reader, after_seq=seq)]
    assert entries, "the change is audited"
    expected_actor = site.world.users["adm"] if by else None
    for entry in entries:
        assert entry.actor_id == expected_actor, entry
        assert entry.details.get("os_user") == operating_system_user(), entry


@pytest.mark.parametrize("by", ["out", "nobody", "smgr"])
async def test_by_must_name_an_enabled_administrator_and_then_nothing_changes(
    site: Site, settings: Settings, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    seq = (await db.last_audit_entry(site.db.reader))[0]

    def run() -> str:
        with pytest.raises(SystemExit) as refused:
            cli.main(["disable-user", "rec2", "--by", by])
        return str(refused.value.code)

    assert f"handover disable-user: by: {rules.NOT_AN_ADMINISTRATOR}" in await anyio.to_thread.run_sync(run)
    assert not (await user(site, "rec2")).disabled
    assert await db.audit_entries(site.db.reader, after_seq=seq) == []


def test_the_operating_system_account_is_the_process_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "someone-else")  # what the caller's environment says is not taken for it
    assert cli._os_user() == operating_system_user()
