"""Creating people and their memberships, and service accounts' and people's API tokens: what is stored, the audit
entry of each change, and what is refused with which sentence (and then nothing is stored)."""

from __future__ import annotations

from typing import Any

import pytest

from service import db
from service.actions import people
from service.core.audit import Entry
from service.core.errors import Invalid
from service.core.tokens import token_hash
from service.db.engine import _one
from tests.conftest import World

PASSWORD = "tall ferns grow quietly"  # long enough, not a common password, without the username or name
LONGEST_PASSWORD = (PASSWORD + " ") * 41 + "x" * 16  # 1,000 characters

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for argon2 (slow on purpose) that still shows which password was hashed."""

    async def rehash(password: str) -> str:
        return "hashed:" + password

    monkeypatch.setattr(people, "rehash", rehash)


async def audit_after(database: db.Database, seq: int) -> list[Entry]:
    return [stored.entry for stored in await db.audit_entries(database.reader, after_seq=seq)]


async def last_seq(database: db.Database) -> int:
    return (await db.last_audit_entry(database.reader))[0]


async def refused(call: Any) -> dict[str, str]:
    with pytest.raises(Invalid) as raised:
        await call
    return raised.value.errors


async def user_count(database: db.Database) -> int:
    row = await _one(database.reader, "SELECT COUNT(*) FROM users")
    assert row is not None
    return int(row[0])


async def token_count(database: db.Database) -> int:
    row = await _one(database.reader, "SELECT COUNT(*) FROM api_tokens")
    assert row is not None
    return int(row[0])


async def team_names(database: db.Database) -> list[str]:
    return [team.name for team in await db.teams(database.reader)]


def shape(entry: Entry) -> tuple[Any, ...]:
    return (entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.details)


# ---------------------------------------------------------------- creating people


async def test_a_new_person_is_stored_with_their_teams_roles_and_a_hash_of_their_password(
    database: db.Database, world: World
) -> None:
    seq = await last_seq(database)
    roles = people.TeamRoles(worker=["North Team"], manager=["Cp Team"])
    user_id = await people.create_person(
        database, username="  newbie  ", full_name="  Nia Ewbie ", password="twelve chars", roles=roles,
        by=world.users["adm"],
    )  # fmt: skip
    user = await db.user_by_username(database.reader, "newbie")
    assert user is not None and user.id == user_id
    assert (user.username, user.name, user.password_hash) == ("newbie", "Nia Ewbie", "hashed:twelve chars")
    assert (user.is_auditor, user.is_admin, user.disabled, user.is_service) == (False, False, False, False)
    assert await db.memberships(database.reader, user_id) == [
        db.Membership(world.teams["cp"], "Cp Team", "manager"),
        db.Membership(world.teams["north"], "North Team", "worker"),
    ]
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["adm"], "add_membership", "user", user_id, {"team": "North Team", "role": "worker"}),
        (world.users["adm"], "add_membership", "user", user_id, {"team": "Cp Team", "role": "manager"}),
        (world.users["adm"], "create_user", "user", user_id, {"username": "newbie", "auditor": False, "admin": False}),
    ]


async def test_a_person_made_from_the_command_line_is_recorded_with_no_administrator(
    database: db.Database, world: World
) -> None:
    seq = await last_seq(database)
    user_id = await people.create_person(
        database, username="ops", full_name="Ops Person", password=PASSWORD, roles=people.TeamRoles()
    )
    assert await db.memberships(database.reader, user_id) == []
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "create_user", "user", user_id, {"username": "ops", "auditor": False, "admin": False}),
    ]


@pytest.mark.parametrize(("auditor", "admin"), [(True, False), (False, True), (True, True)])
async def test_service_wide_roles_are_stored_and_recorded(
    database: db.Database, world: World, auditor: bool, admin: bool
) -> None:
    seq = await last_seq(database)
    roles = people.TeamRoles(auditor=auditor, admin=admin)
    user_id = await people.create_person(
        database, username="roles", full_name="Role Person", password=PASSWORD, roles=roles, by=world.users["adm"]
    )
    user = await db.user_by_id(database.reader, user_id)
    assert user is not None and (user.is_auditor, user.is_admin, user.is_service) == (auditor, admin, False)
    [entry] = await audit_after(database, seq)
    assert entry.details == {"username": "roles", "auditor": auditor, "admin": admin}


async def test_a_team_named_for_the_first_time_is_created_and_recorded(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    roles = people.TeamRoles(worker=["Leaving Care"], manager=["Leaving Care"])
    user_id = await people.create_person(
        database, username="lc", full_name="Lee Care", password=PASSWORD, roles=roles, by=world.users["adm"]
    )
    assert await team_names(database) == ["Cp Team", "Leaving Care", "North Team", "South Team"]
    team_id = {team.name: team.id for team in await db.teams(database.reader)}["Leaving Care"]
    assert sorted(await db.memberships(database.reader, user_id), key=lambda membership: membership.role) == [
        db.Membership(team_id, "Leaving Care", "manager"),
        db.Membership(team_id, "Leaving Care", "worker"),
    ]
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["adm"], "create_team", "team", team_id, {"name": "Leaving Care"}),
        (world.users["adm"], "add_membership", "user", user_id, {"team": "Leaving Care", "role": "worker"}),
        (world.users["adm"], "add_membership", "user", user_id, {"team": "Leaving Care", "role": "manager"}),
        (world.users["adm"], "create_user", "user", user_id, {"username": "lc", "auditor": False, "admin": False}),
    ]


async def test_a_team_named_twice_gives_one_membership_and_one_entry(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    roles = people.TeamRoles(worker=["North Team", "North Team"])
    user_id = await people.create_person(
        database, username="twice", full_name="Two Times", password=PASSWORD, roles=roles
    )
    assert await db.memberships(database.reader, user_id) == [
        db.Membership(world.teams["north"], "North Team", "worker")
    ]
    assert [entry.action for entry in await audit_after(database, seq)] == ["add_membership", "create_user"]


@pytest.mark.parametrize(
    ("username", "full_name", "password", "errors"),
    [
        ("", "Full Name", PASSWORD, {"username": "Enter a username"}),
        ("   ", "Full Name", PASSWORD, {"username": "Enter a username"}),
        ("someone", " ", PASSWORD, {"name": "Enter the person's full name"}),
        ("someone", "Full Name", "x" * 11, {"password": "The password must be at least 12 characters"}),
        ("someone", "Full Name", "x" * 1001, {"password": "The password must be 1,000 characters or fewer"}),
        ("u" * 201, "Full Name", PASSWORD, {"username": "The username must be 200 characters or fewer"}),
        (
            "",
            "",
            "",
            {
                "username": "Enter a username",
                "name": "Enter the person's full name",
                "password": "The password must be at least 12 characters",
            },
        ),
    ],
)
async def test_a_person_with_a_missing_or_wrong_field_is_refused_and_nothing_is_stored(
    database: db.Database, world: World, username: str, full_name: str, password: str, errors: dict[str, str]
) -> None:
    seq, users = await last_seq(database), await user_count(database)
    roles = people.TeamRoles(worker=["New Team"])
    assert (
        await refused(
            people.create_person(database, username=username, full_name=full_name, password=password, roles=roles)
        )
        == errors
    )
    assert await user_count(database) == users and await audit_after(database, seq) == []
    assert "New Team" not in await team_names(database)


async def test_the_longest_username_name_and_password_are_accepted(database: db.Database, world: World) -> None:
    user_id = await people.create_person(
        database, username="u" * 200, full_name="n" * 200, password=LONGEST_PASSWORD, roles=people.TeamRoles()
    )
    user = await db.user_by_id(database.reader, user_id)
    assert user is not None and (user.username, user.name) == ("u" * 200, "n" * 200)


async def test_a_username_already_taken_is_refused_and_nothing_is_stored(database: db.Database, world: World) -> None:
    seq, users = await last_seq(database), await user_count(database)
    roles = people.TeamRoles(worker=["New Team"])
    assert await refused(
        people.create_person(database, username=" out ", full_name="Another Out", password=PASSWORD, roles=roles)
    ) == {"username": "There is already a user called 'out'"}
    assert await user_count(database) == users and await audit_after(database, seq) == []
    assert "New Team" not in await team_names(database)


# ---------------------------------------------------------------- service accounts' tokens


async def test_a_token_for_a_new_service_account_makes_the_account_and_stores_only_the_tokens_hash(
    database: db.Database, world: World
) -> None:
    seq = await last_seq(database)
    roles = people.TeamRoles(worker=["North Team"], manager=["Cp Team"])
    token_id, token = await people.issue_api_token(
        database, account="  cms  ", system_name="Case System", scope="write", roles=roles
    )
    assert token.startswith("hov_") and len(token) == 47
    account = await db.user_by_username(database.reader, "cms")
    assert account is not None
    assert (account.name, account.password_hash, account.is_service) == ("Case System", "!", True)
    assert (account.is_auditor, account.is_admin, account.disabled) == (False, False, False)
    assert await db.api_token(database.reader, token_hash(token)) == db.ApiToken(
        id=token_id, user_id=account.id, scope="write"
    )
    stored = await _one(database.reader, "SELECT token_hash FROM api_tokens WHERE id = ?", (token_id,))
    assert stored is not None and stored[0] == token_hash(token) and token not in stored[0]
    assert await db.memberships(database.reader, account.id) == [
        db.Membership(world.teams["cp"], "Cp Team", "manager"),
        db.Membership(world.teams["north"], "North Team", "worker"),
    ]
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (
            None,
            "create_user",
            "user",
            account.id,
            {"username": "cms", "service": True, "auditor": False, "admin": False},
        ),
        (None, "add_membership", "user", account.id, {"team": "North Team", "role": "worker"}),
        (None, "add_membership", "user", account.id, {"team": "Cp Team", "role": "manager"}),
        (None, "create_api_token", "api_token", token_id, {"account": "cms", "scope": "write"}),
    ]


async def test_each_token_is_new_and_a_second_one_reuses_the_account(database: db.Database, world: World) -> None:
    roles = people.TeamRoles(auditor=True)
    first_id, first = await people.issue_api_token(
        database, account="reports", system_name="", scope="read", roles=roles
    )
    seq = await last_seq(database)
    second_id, second = await people.issue_api_token(
        database, account="reports", system_name="Ignored Now", scope="read", roles=roles
    )
    assert first != second and first_id != second_id
    account = await db.user_by_username(database.reader, "reports")
    assert account is not None and account.name == "reports", "no system name: the account's name is shown"
    assert account.is_auditor and not account.is_admin
    for token_id, token in ((first_id, first), (second_id, second)):
        assert await db.api_token(database.reader, token_hash(token)) == db.ApiToken(
            id=token_id, user_id=account.id, scope="read"
        )
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "create_api_token", "api_token", second_id, {"account": "reports", "scope": "read"}),
    ]


@pytest.mark.parametrize("scope", ["", "admin", "READ", "read "])
async def test_a_token_with_another_scope_is_refused_and_nothing_is_stored(
    database: db.Database, world: World, scope: str
) -> None:
    seq, users = await last_seq(database), await user_count(database)
    errors = await refused(
        people.issue_api_token(database, account="cms", system_name="CMS", scope=scope, roles=people.TeamRoles())
    )
    assert errors == {"scope": "The scope must be read or write"}
    errors = await refused(people.issue_personal_api_token(database, username="out", scope=scope))
    assert errors == {"scope": "The scope must be read or write"}
    assert (await user_count(database), await token_count(database)) == (users, 0)
    assert await audit_after(database, seq) == []


async def test_a_token_is_not_issued_to_a_persons_account(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    errors = await refused(
        people.issue_api_token(database, account=" out ", system_name="", scope="read", roles=people.TeamRoles())
    )
    assert errors == {"account": "'out' is a person, not a service account"}
    assert await token_count(database) == 0 and await audit_after(database, seq) == []


@pytest.mark.parametrize(("auditor", "admin"), [(True, False), (False, True), (True, True)])
async def test_an_existing_service_accounts_roles_are_kept(
    database: db.Database, world: World, auditor: bool, admin: bool
) -> None:
    await people.issue_api_token(database, account="cms", system_name="", scope="read", roles=people.TeamRoles())
    seq, tokens = await last_seq(database), await token_count(database)
    roles = people.TeamRoles(auditor=auditor, admin=admin)
    errors = await refused(people.issue_api_token(database, account="cms", system_name="", scope="read", roles=roles))
    assert errors == {"account": "'cms' exists with other roles; an existing account's roles are kept"}
    account = await db.user_by_username(database.reader, "cms")
    assert account is not None and (account.is_auditor, account.is_admin) == (False, False)
    assert await token_count(database) == tokens and await audit_after(database, seq) == []


async def test_an_existing_service_account_with_the_same_roles_gets_new_teams(
    database: db.Database, world: World
) -> None:
    roles = people.TeamRoles(auditor=True, admin=True)
    await people.issue_api_token(database, account="cms", system_name="", scope="read", roles=roles)
    account = await db.user_by_username(database.reader, "cms")
    assert account is not None
    seq = await last_seq(database)
    more = people.TeamRoles(worker=["South Team"], auditor=True, admin=True)
    token_id, _ = await people.issue_api_token(database, account="cms", system_name="", scope="write", roles=more)
    assert await db.memberships(database.reader, account.id) == [
        db.Membership(world.teams["south"], "South Team", "worker")
    ]
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "add_membership", "user", account.id, {"team": "South Team", "role": "worker"}),
        (None, "create_api_token", "api_token", token_id, {"account": "cms", "scope": "write"}),
    ]


@pytest.mark.parametrize(
    ("roles", "errors"),
    [
        (people.TeamRoles(worker=["Nowhere"]), {"worker": "There is no team called 'Nowhere'"}),
        (people.TeamRoles(manager=["North Team", "Elsewhere"]), {"manager": "There is no team called 'Elsewhere'"}),
    ],
)
async def test_a_service_account_names_only_teams_that_exist_and_nothing_is_stored(
    database: db.Database, world: World, roles: people.TeamRoles, errors: dict[str, str]
) -> None:
    seq, users = await last_seq(database), await user_count(database)
    assert (
        await refused(people.issue_api_token(database, account="cms", system_name="", scope="read", roles=roles))
        == errors
    )
    assert await user_count(database) == users and await token_count(database) == 0
    assert await team_names(database) == ["Cp Team", "North Team", "South Team"]
    assert await audit_after(database, seq) == []


@pytest.mark.parametrize(
    ("account", "system_name", "errors"),
    [
        ("", "CMS", {"account": "Enter the account's name"}),
        ("  ", "CMS", {"account": "Enter the account's name"}),
        ("a" * 201, "CMS", {"account": "The name must be 200 characters or fewer"}),
        ("cms", "s" * 201, {"name": "The system's name must be 200 characters or fewer"}),
        (
            "a" * 201,
            "s" * 201,
            {
                "account": "The name must be 200 characters or fewer",
                "name": "The system's name must be 200 characters or fewer",
            },
        ),
    ],
)
async def test_a_new_service_accounts_name_and_system_name_are_checked_and_nothing_is_stored(
    database: db.Database, world: World, account: str, system_name: str, errors: dict[str, str]
) -> None:
    seq, users = await last_seq(database), await user_count(database)
    assert (
        await refused(
            people.issue_api_token(
                database, account=account, system_name=system_name, scope="read", roles=people.TeamRoles()
            )
        )
        == errors
    )
    assert await user_count(database) == users and await token_count(database) == 0
    assert await audit_after(database, seq) == []


async def test_the_longest_account_and_system_names_are_accepted(database: db.Database, world: World) -> None:
    await people.issue_api_token(
        database, account="a" * 200, system_name="s" * 200, scope="read", roles=people.TeamRoles()
    )
    account = await db.user_by_username(database.reader, "a" * 200)
    assert account is not None and account.name == "s" * 200


# ---------------------------------------------------------------- people's own tokens, revoking, requests


async def test_a_personal_token_acts_as_that_person(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    token_id, token = await people.issue_personal_api_token(database, username="  rec ", scope="write")
    assert token.startswith("hov_") and len(token) == 47
    assert await db.api_token(database.reader, token_hash(token)) == db.ApiToken(
        id=token_id, user_id=world.users["rec"], scope="write"
    )
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "create_api_token", "api_token", token_id, {"person": "rec", "scope": "write"}),
    ]
    assert (await db.user_by_username(database.reader, "rec")).is_service is False  # type: ignore[union-attr]


async def test_a_personal_token_is_refused_for_someone_unknown_disabled_or_a_service_account(
    database: db.Database, world: World
) -> None:
    await people.issue_api_token(database, account="cms", system_name="", scope="read", roles=people.TeamRoles())
    async with database.transaction() as conn:
        await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (world.users["out2"],))
    seq, tokens = await last_seq(database), await token_count(database)
    for username, shown in (("nobody", "nobody"), (" out2 ", "out2"), ("cms", "cms")):
        errors = await refused(people.issue_personal_api_token(database, username=username, scope="read"))
        assert errors == {"person": f"There is no enabled person with the username '{shown}'"}
    assert await token_count(database) == tokens and await audit_after(database, seq) == []


async def test_a_revoked_token_stops_working_at_once_and_revoking_it_again_writes_nothing(
    database: db.Database, world: World
) -> None:
    token_id, token = await people.issue_personal_api_token(database, username="out", scope="read")
    other_id, other = await people.issue_personal_api_token(database, username="out", scope="read")
    seq = await last_seq(database)
    assert await people.revoke_api_token(database, token_id) is True
    assert await db.api_token(database.reader, token_hash(token)) is None
    assert await db.api_token(database.reader, token_hash(other)) == db.ApiToken(
        id=other_id, user_id=world.users["out"], scope="read"
    )
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "revoke_api_token", "api_token", token_id, {}),
    ]
    seq = await last_seq(database)
    assert await people.revoke_api_token(database, token_id) is False
    assert await people.revoke_api_token(database, 999_999) is False
    assert await audit_after(database, seq) == []


async def test_every_api_request_is_recorded_with_its_path_and_method(database: db.Database, world: World) -> None:
    token_id, token = await people.issue_personal_api_token(database, username="rmgr", scope="read")
    api_token = await db.api_token(database.reader, token_hash(token))
    assert api_token is not None
    seq = await last_seq(database)
    await people.record_api_request(database, api_token, "GET", "/api/v1/handovers/7")
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["rmgr"], "api_request", "api_token", token_id,
         {"token": token_id, "method": "GET", "path": "/api/v1/handovers/7"}),
    ]  # fmt: skip
