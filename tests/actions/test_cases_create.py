"""Cases and sibling groups added one at a time (as the API adds them): what is stored, the audit entry, and each
refusal with its sentence (and then nothing is stored). Only an enabled person working in the team holds a case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from service import db
from service.actions import cases
from service.actions.cases import NewCase
from service.core import clock
from service.core.audit import Entry
from service.core.errors import Invalid
from service.db.engine import _one
from tests.conftest import World

pytestmark = pytest.mark.anyio

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


def new_case(world: World, **changes: Any) -> NewCase:
    fields = {"reference": "NEW-1", "child_name": "Ava New", "date_of_birth": "2014-09-30",
              "worker_id": world.users["rec"], "team_id": world.teams["cp"]}  # fmt: skip
    return NewCase(**(fields | changes))


async def refused(database: db.Database, world: World, case: NewCase) -> dict[str, str]:
    seq, cases_before = await last_seq(database), await count(database, "cases")
    with pytest.raises(Invalid) as raised:
        await cases.create_case(database, world.users["adm"], case, via="api")
    assert await count(database, "cases") == cases_before and await audit_after(database, seq) == []
    return raised.value.errors


async def test_a_case_is_stored_as_given_allocated_to_a_worker_in_the_team(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    case = new_case(world, reference="  NEW-1 ", child_name=" Ava New  ", date_of_birth=" 2014-09-30 ")
    stored = await cases.create_case(database, world.users["adm"], case, via="api")
    assert stored == db.Case(
        id=stored.id, reference="NEW-1", child_name="Ava New", date_of_birth="2014-09-30", sibling_group_id=None,
        sibling_group=None, allocated_worker_id=world.users["rec"], allocated_worker="Rec",
        allocated_team_id=world.teams["cp"], allocated_team="Cp Team", open_handover_id=None,
        received_by_handover_id=None,
    )  # fmt: skip
    assert await db.case_by_reference(database.reader, "NEW-1") == stored
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["adm"], "create_case", "case", stored.id, {"via": "api"}),
    ]


async def test_a_case_joins_an_existing_sibling_group(database: db.Database, world: World) -> None:
    mia = await db.case_by_id(database.reader, world.cases["mia"])
    assert mia is not None and mia.sibling_group_id is not None
    stored = await cases.create_case(
        database, world.users["adm"], new_case(world, sibling_group_id=mia.sibling_group_id), via="api"
    )
    assert (stored.sibling_group_id, stored.sibling_group) == (mia.sibling_group_id, "Test family")
    assert await db.case_ids_in_group(database.reader, mia.sibling_group_id) == [
        world.cases["mia"], world.cases["liam"], stored.id,
    ]  # fmt: skip


async def test_a_case_born_today_or_on_the_earliest_date_is_accepted(database: db.Database, world: World) -> None:
    today = clock.today().isoformat()
    born_today = await cases.create_case(database, None, new_case(world, date_of_birth=today), via="api")  # type: ignore[arg-type]
    assert born_today.date_of_birth == today
    earliest = await cases.create_case(
        database, world.users["adm"], new_case(world, reference="NEW-2", date_of_birth="1990-01-01"), via="api"
    )
    assert earliest.date_of_birth == "1990-01-01"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"reference": " "}, {"reference": "Enter the local reference"}),
        ({"reference": "NEW 1!"}, {"reference": "The local reference can contain only the letters A to Z, numbers, "
                                                "and spaces, hyphens (-), slashes (/), full stops and underscores "
                                                "between them"}),
        ({"reference": "R" * 51}, {"reference": "The local reference must be 50 characters or fewer"}),
        ({"child_name": ""}, {"child_name": "Enter the child's name"}),
        ({"date_of_birth": "14/09/2014"},
         {"date_of_birth": "Enter the date of birth as a real date written YYYY-MM-DD, for example 2015-03-14"}),
        ({"date_of_birth": "1989-12-31"}, {"date_of_birth": "The date of birth must be on or after 1 January 1990"}),
    ],
)  # fmt: skip
async def test_a_case_with_a_missing_or_wrong_field_is_refused(
    database: db.Database, world: World, changes: dict[str, str], errors: dict[str, str]
) -> None:
    assert await refused(database, world, new_case(world, **changes)) == errors


async def test_a_case_born_tomorrow_is_refused(database: db.Database, world: World) -> None:
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    assert await refused(database, world, new_case(world, date_of_birth=tomorrow)) == {
        "date_of_birth": "The date of birth must be today or in the past"
    }


@pytest.mark.parametrize("reference", ["T-1", "t-1", " t-1 "])
async def test_a_reference_already_used_in_any_case_is_refused(
    database: db.Database, world: World, reference: str
) -> None:
    assert await refused(database, world, new_case(world, reference=reference)) == {
        "reference": "A case with this reference already exists"
    }


async def test_a_wrong_reference_is_told_what_is_wrong_with_it_not_that_it_is_taken(
    database: db.Database, world: World
) -> None:
    async with database.transaction() as conn:  # a reference stored before today's rules
        await db.create_case(conn, "old ref!", "Old Child", "2012-01-01", world.users["rec"], world.teams["cp"])
    assert await refused(database, world, new_case(world, reference="old ref!")) == {
        "reference": "The local reference can contain only the letters A to Z, numbers, and spaces, hyphens (-), "
        "slashes (/), full stops and underscores between them"
    }


@pytest.mark.parametrize(
    ("worker", "team"),
    [
        ("rec", "north"),  # a worker in another team
        ("rmgr", "cp"),  # the team's manager, not one of its workers
        ("aud", "cp"),  # in no team at all
        (None, "cp"),
        ("rec", None),
    ],
)
async def test_a_case_is_held_only_by_a_worker_in_its_team(
    database: db.Database, world: World, worker: str | None, team: str | None
) -> None:
    case = new_case(
        world, worker_id=world.users[worker] if worker else None, team_id=world.teams[team] if team else None
    )
    assert await refused(database, world, case) == {"allocated_worker_id": NOT_IN_TEAM}


async def test_a_disabled_person_or_a_service_account_holds_no_case(database: db.Database, world: World) -> None:
    async with database.transaction() as conn:
        await conn.execute("UPDATE users SET disabled = 1 WHERE id = ?", (world.users["rec2"],))
        system = await db.create_user(conn, "cms", "CMS", "!", is_service=True)
        await db.add_membership(conn, system, world.teams["cp"], "worker")
    for worker_id in (world.users["rec2"], system, 999_999):
        assert await refused(database, world, new_case(world, worker_id=worker_id)) == {
            "allocated_worker_id": NOT_IN_TEAM
        }


async def test_a_case_in_a_sibling_group_that_does_not_exist_is_refused(database: db.Database, world: World) -> None:
    assert await refused(database, world, new_case(world, sibling_group_id=999)) == {
        "sibling_group_id": "There is no sibling group with this id"
    }


async def test_every_problem_with_a_case_is_told_at_once(database: db.Database, world: World) -> None:
    case = new_case(world, reference="T-2", child_name=" ", worker_id=None, sibling_group_id=999)
    assert await refused(database, world, case) == {
        "reference": "A case with this reference already exists",
        "child_name": "Enter the child's name",
        "allocated_worker_id": NOT_IN_TEAM,
        "sibling_group_id": "There is no sibling group with this id",
    }


async def test_a_sibling_group_is_stored_with_its_name_and_recorded(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    group_id = await cases.create_sibling_group(database, world.users["adm"], "  The Smiths ")
    assert await db.sibling_group(database.reader, group_id) == (group_id, "The Smiths")
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["adm"], "create_sibling_group", "sibling_group", group_id, {}),
    ]


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("", {"name": "Enter the sibling group's name"}),
        ("   ", {"name": "Enter the sibling group's name"}),
        ("n" * 201, {"name": "The name must be 200 characters or fewer"}),
    ],
)
async def test_a_sibling_group_without_a_usable_name_is_refused(
    database: db.Database, world: World, name: str, errors: dict[str, str]
) -> None:
    seq, groups = await last_seq(database), await count(database, "sibling_groups")
    with pytest.raises(Invalid) as raised:
        await cases.create_sibling_group(database, world.users["adm"], name)
    assert raised.value.errors == errors
    assert await count(database, "sibling_groups") == groups and await audit_after(database, seq) == []


async def test_the_longest_sibling_group_name_is_accepted(database: db.Database, world: World) -> None:
    group_id = await cases.create_sibling_group(database, world.users["adm"], "n" * 200)
    assert await db.sibling_group(database.reader, group_id) == (group_id, "n" * 200)
