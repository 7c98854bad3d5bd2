"""Joiners, movers and leavers: what each action stores, the audit entries naming who made the change, and what is
refused with which sentence (and then nothing is stored)."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.actions import accounts
from service.core import accounts as rules
from service.core.audit import Entry
from service.core.clock import today
from service.core.errors import Invalid
from service.core.workflow import Action, facts_for, person_refusals
from service.db.engine import _one
from tests.conftest import World
from tests.helpers import actor, handover_in

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    async def rehash(password: str) -> str:
        return "hashed:" + password

    monkeypatch.setattr(accounts, "rehash", rehash)


async def entries_after(database: db.Database, seq: int) -> list[Entry]:
    return [stored.entry for stored in await db.audit_entries(database.reader, after_seq=seq)]


async def last_seq(database: db.Database) -> int:
    return (await db.last_audit_entry(database.reader))[0]


async def refused(call: Any) -> dict[str, str]:
    with pytest.raises(Invalid) as raised:
        await call
    return raised.value.errors


def joiner(**changes: Any) -> dict[str, Any]:
    return {
        "username": "jo",
        "full_name": "Jo Joiner",
        "email": "jo.joiner@example.gov.uk",
        "password": "a long enough password",
        "roles": actions.TeamRoles(worker=["North Team"]),
        "by": None,
    } | changes


async def test_a_joiner_is_added_with_their_email_and_team_and_the_entry_names_the_administrator(
    database: db.Database, world: World
) -> None:
    seq = await last_seq(database)
    user_id = await actions.add_person(database, **joiner(by=world.users["adm"]))
    person = await db.person_summary(database.reader, user_id)
    assert person is not None and person.email == "jo.joiner@example.gov.uk"
    assert person.teams == "North Team (worker)"
    assert (await db.user_by_id(database.reader, user_id)).password_hash == "hashed:a long enough password"  # type: ignore[union-attr]
    entries = await entries_after(database, seq)
    assert [(e.action, e.actor_id) for e in entries] == [
        ("create_user", world.users["adm"]),
        ("add_membership", world.users["adm"]),
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": ""}, "email", "Enter the person's work email address"),
        ({"email": "jo at example"}, "email", "Enter an email address in the correct format, like name@example.gov.uk"),
        ({"email": "jo@example"}, "email", "Enter an email address in the correct format, like name@example.gov.uk"),
        ({"password": "short"}, "password", "The password must be at least 12 characters"),
        ({"roles": actions.TeamRoles()}, "teams", rules.NO_ROLE_CHOSEN),
        ({"roles": actions.TeamRoles(worker=["Nowhere"])}, "worker", rules.NO_SUCH_TEAM),
        ({"username": "out"}, "username", "There is already a user called 'out'"),
    ],
)
async def test_a_joiner_with_a_mistake_is_refused_by_the_field_and_nothing_is_stored(
    database: db.Database, world: World, change: dict[str, Any], field: str, message: str
) -> None:
    seq = await last_seq(database)
    errors = await refused(actions.add_person(database, **joiner(**change)))
    assert errors[field] == message
    assert await entries_after(database, seq) == []
    assert await db.user_by_username(database.reader, "jo") is None


async def test_a_mover_changes_teams_each_change_audited(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    changed = await actions.change_roles(
        database, user_id=world.users["out2"], roles=actions.TeamRoles(worker=["South Team"], manager=["Cp Team"]),
        by=world.users["adm"],
    )  # fmt: skip
    assert changed == ["no longer a worker in North Team", "now a worker in South Team", "now a manager in Cp Team"]
    memberships = {(m.team_name, m.role) for m in await db.memberships(database.reader, world.users["out2"])}
    assert memberships == {("South Team", "worker"), ("Cp Team", "manager")}
    assert [e.action for e in await entries_after(database, seq)] == ["remove_membership"] + ["add_membership"] * 2


async def test_a_worker_who_holds_cases_in_a_team_stays_a_worker_there(database: db.Database, world: World) -> None:
    errors = await refused(
        actions.change_roles(database, user_id=world.users["out"], roles=actions.TeamRoles(worker=["Cp Team"]), by=None)
    )
    assert errors["worker"] == rules.keeps_cases_message("Out", "North Team")
    assert {m.team_name for m in await db.memberships(database.reader, world.users["out"])} == {"North Team"}


async def test_a_manager_holding_cases_pending_transfer_stays_their_manager(
    database: db.Database, world: World
) -> None:
    await actions.disable_person(database, user_id=world.users["other"], by=None)  # Zoe moves to Omgr
    elsewhere = actions.TeamRoles(manager=["Cp Team"])
    errors = await refused(actions.change_roles(database, user_id=world.users["omgr"], roles=elsewhere, by=None))
    assert errors["manager"] == rules.keeps_cases_message("Omgr", "South Team")
    changed = await actions.change_roles(
        database, user_id=world.users["omgr"], roles=actions.TeamRoles(manager=["South Team", "Cp Team"]), by=None
    )
    assert changed == ["now a manager in Cp Team"]


async def test_a_password_reset_replaces_the_hash_and_is_audited(database: db.Database, world: World) -> None:
    seq = await last_seq(database)
    await actions.reset_password(database, user_id=world.users["rec"], password="another long password", by=None)
    user = await db.user_by_id(database.reader, world.users["rec"])
    assert user is not None and user.password_hash == "hashed:another long password"
    assert [e.action for e in await entries_after(database, seq)] == ["reset_password"]
    errors = await refused(actions.reset_password(database, user_id=world.users["rec"], password="short", by=None))
    assert "password" in errors


async def test_disabling_a_leaver_moves_every_case_to_the_team_manager_pending_transfer(
    database: db.Database, world: World
) -> None:
    seq = await last_seq(database)
    outcome = await actions.disable_person(database, user_id=world.users["out"], by=world.users["adm"])
    # "Both" manages North Team and sorts first by name: the interim holder is chosen the same way every time
    assert {manager for _, manager in outcome.cases_moved} == {"Both"}
    assert len(outcome.cases_moved) == 10
    held = await db.held_cases(database.reader, world.users["both"])
    assert len(held) == 10 and all(case.held_pending_transfer for case in held)
    assert await db.held_cases(database.reader, world.users["out"]) == []
    user = await db.user_by_id(database.reader, world.users["out"])
    assert user is not None and user.disabled
    entries = await entries_after(database, seq)
    assert [e.action for e in entries].count("hold_pending_transfer") == 10
    assert entries[-1].action == "disable_user" and all(e.actor_id == world.users["adm"] for e in entries)


async def test_a_handover_the_leaver_started_continues_with_the_manager_acting_for_them(
    database: db.Database, world: World
) -> None:
    handover_id = await handover_in(database, world, "draft", "mia")
    outcome = await actions.disable_person(database, user_id=world.users["out"], by=None)
    assert outcome.handovers_continued == [(handover_id, "Both", outcome.name)]
    row = await _one(database.reader, "SELECT author_id, on_behalf_of FROM handovers WHERE id = ?", (handover_id,))
    assert row is not None and (row[0], row[1]) == (world.users["both"], world.users["out"])
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    facts = facts_for(handover, today())
    manager = await actor(database, world, "both")
    assert person_refusals(Action.EDIT, facts, manager) == []
    assert person_refusals(Action.SUBMIT, facts, manager) == []
    # the manager is now its author, so endorsing falls to another manager of the sending team
    assert person_refusals(Action.ENDORSE, facts, manager) == ["You cannot endorse a handover you wrote"]
    assert person_refusals(Action.ENDORSE, facts, await actor(database, world, "smgr")) == []


async def test_a_handover_the_leaver_acknowledged_waits_for_another_receiving_worker(
    database: db.Database, world: World
) -> None:
    handover_id = await handover_in(database, world, "acknowledged", "mia")
    outcome = await actions.disable_person(database, user_id=world.users["rec"], by=None)
    assert outcome.handovers_released == [handover_id]
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    assert (handover.state, handover.receiver_id, handover.acknowledged_by) == ("endorsed", None, None)
    assert await db.confirmations_of(database.reader, handover_id) == {}


async def test_a_leaver_whose_team_has_no_manager_is_not_disabled_and_the_message_says_what_to_do(
    database: db.Database, world: World
) -> None:
    await actions.disable_person(database, user_id=world.users["omgr"], by=None)
    seq = await last_seq(database)
    errors = await refused(actions.disable_person(database, user_id=world.users["other"], by=None))
    assert errors["disable"] == rules.no_manager_message("Other", "South Team")
    assert "Add a manager to South Team first" in errors["disable"]
    assert await entries_after(database, seq) == []
    user = await db.user_by_id(database.reader, world.users["other"])
    assert user is not None and not user.disabled
    assert len(await db.held_cases(database.reader, world.users["other"])) == 1


async def test_an_administrator_cannot_disable_themselves_or_a_disabled_account(
    database: db.Database, world: World
) -> None:
    errors = await refused(actions.disable_person(database, user_id=world.users["adm"], by=world.users["adm"]))
    assert errors == {"disable": rules.NOT_YOURSELF}
    await actions.disable_person(database, user_id=world.users["aud"], by=None)
    errors = await refused(actions.disable_person(database, user_id=world.users["aud"], by=None))
    assert errors == {"disable": rules.ALREADY_DISABLED}


async def test_a_case_held_pending_transfer_stops_being_so_once_a_handover_moves_it(
    database: db.Database, world: World
) -> None:
    await actions.disable_person(database, user_id=world.users["other"], by=None)
    zoe = world.cases["zoe"]
    assert await db.is_held_pending_transfer(database.reader, zoe)
    async with database.transaction() as conn:
        await db.reallocate_case(conn, zoe, world.users["rec"], world.teams["cp"])
    assert not await db.is_held_pending_transfer(database.reader, zoe)


async def test_services_their_managers_and_the_head_of_service(database: db.Database, world: World) -> None:
    await actions.create_service(database, name="Children's services", service_manager="smgr", by=None)
    await actions.set_team_service(database, team="North Team", service="Children's services", by=None)
    await actions.set_service_manager(database, service="Children's services", service_manager="rmgr", by=None)
    await actions.set_head_of_service(database, username="omgr", by=None)
    [service] = await db.services(database.reader)
    assert (service.name, service.service_manager, service.teams) == ("Children's services", "Rmgr", "North Team")
    assert await db.head_of_service(database.reader) == (world.users["omgr"], "Omgr")
    errors = await refused(actions.create_service(database, name="children's SERVICES", service_manager="", by=None))
    assert errors == {"name": rules.SERVICE_TAKEN}
    errors = await refused(actions.set_team_service(database, team="North Team", service="Nope", by=None))
    assert errors == {"service": rules.NO_SUCH_SERVICE}
    errors = await refused(actions.set_head_of_service(database, username="nobody", by=None))
    assert errors == {"head_of_service": rules.NO_SUCH_PERSON}
