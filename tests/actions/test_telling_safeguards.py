"""What keeps "told" true: nobody is recorded as told of a new worker the handover does not name, a change of worker
means telling them again, an e-mail counts once it is delivered, a reason must say why, a date cannot be long
before the transfer, a professional taken off the plan is no longer waited for, and a signed link has one spelling."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.core import telling
from service.core.answers import validate_field
from service.core.clock import today
from service.core.errors import Invalid, NotFound, Refused
from service.core.report import working_days_back
from service.core.workflow import Action
from service.db import outbox as outbox_store
from service.db import telling as telling_store
from tests.actions.test_telling_closure import GP, SCHOOL, acknowledged, network, version_of
from tests.conftest import World
from tests.helpers import CHECKLISTS, actor

pytestmark = pytest.mark.anyio


async def contacts(database: db.Database, handover_id: int) -> dict[str, Any]:
    return {c.name: c for c in await telling_store.agency_contacts_of(database.reader, handover_id)}


async def missing(database: db.Database, handover_id: int) -> tuple[str, ...]:
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    return view.facts.telling_missing


async def test_nobody_is_told_of_a_worker_the_handover_does_not_name(database: db.Database, world: World) -> None:
    out = await actor(database, world, "out")
    checklist = CHECKLISTS[("case-transfer", 4)]
    handover_id = await actions.start_handover(
        database, out, checklist, case_id=world.cases["c1"], receiving_team_id=world.teams["cp"], receiver_id=None,
        transfer_reason="Step-up",
    )  # fmt: skip
    day = today().isoformat()
    with pytest.raises(Refused) as refused:
        await actions.record_family_told(
            database, CHECKLISTS, out, handover_id, told="Ms Test (mother)", method="visit", told_on=day
        )
    assert refused.value.reasons == [telling.NO_NEW_WORKER]
    # a reason not to tell them needs no worker
    await actions.record_family_not_told(
        database, CHECKLISTS, out, handover_id, reason="Telling the mother now would put the child at risk."
    )


async def test_a_change_of_worker_means_telling_everyone_again(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP, SCHOOL))
    out = await actor(database, world, "out")
    day = today().isoformat()
    await actions.record_family_told(
        database, CHECKLISTS, out, handover_id, told="Ms Test (mother)", method="visit", told_on=day
    )
    for contact in (await contacts(database, handover_id)).values():
        await actions.record_agency_told(
            database, CHECKLISTS, out, handover_id, contact.id, method="phone", told_on=day
        )
    assert await missing(database, handover_id) == ()

    # the receiving manager sends it back to the receiving side; another worker of the team takes it on
    rmgr = await actor(database, world, "rmgr")
    await actions.act(database, CHECKLISTS, rmgr, handover_id, Action.RETURN_TO_RECEIVER,
                      await version_of(database, handover_id), "Another worker will take this child on")  # fmt: skip
    async with database.transaction() as conn:  # as an administrator's reallocation would name them
        await conn.execute("UPDATE handovers SET receiver_id = ? WHERE id = ?", (world.users["rec2"], handover_id))
    assert await missing(database, handover_id) == (
        telling.FAMILY_NOT_TOLD,
        telling.agency_not_told("Dr A. Khan", "GP"),
        telling.agency_not_told("Ms R. Dale", "School or nursery"),
    )
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    assert gp.told_of_previous_worker and not gp.settled
    # told again, of the worker named now
    await actions.record_agency_told(database, CHECKLISTS, out, handover_id, gp.id, method="letter", told_on=day)
    again = (await contacts(database, handover_id))["Dr A. Khan"]
    assert again.settled and again.told_worker_id == world.users["rec2"] and again.told_method == "letter"


async def test_an_email_counts_once_delivered_and_one_never_sent_can_be_replaced(
    database: db.Database, world: World
) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    queued = (await contacts(database, handover_id))["Dr A. Khan"]
    assert not queued.settled and telling.agency_not_told("Dr A. Khan", "GP") in await missing(database, handover_id)
    # it never leaves (the mail server refuses it): the worker phones instead, and that is what counts
    await actions.record_agency_told(
        database, CHECKLISTS, out, handover_id, gp.id, method="phone", told_on=today().isoformat()
    )
    phoned = (await contacts(database, handover_id))["Dr A. Khan"]
    assert phoned.settled and phoned.told_method == "phone" and phoned.outbox_id is None and phoned.link_hash is None
    assert telling.agency_not_told("Dr A. Khan", "GP") not in await missing(database, handover_id)


async def test_a_delivered_email_settles_the_professional(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    queued = (await contacts(database, handover_id))["Dr A. Khan"]
    assert queued.outbox_id is not None
    async with database.transaction() as conn:
        assert await outbox_store.mark_sent(conn, queued.outbox_id, db.now())
    assert (await contacts(database, handover_id))["Dr A. Khan"].settled
    with pytest.raises(Refused) as refused:
        await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    assert refused.value.reasons == [telling.ALREADY_SETTLED]


@pytest.mark.parametrize(
    "reason",
    [".", "-", "x", "no reason", "   n / a   ", "..........", "x x x x x x x x x x", "----------", "aaaaaaaaaa",
     ". . . . . . . . . .", "aa aa aa aa", "12345 67890 1234"],
)  # fmt: skip
async def test_a_reason_must_say_why(database: db.Database, world: World, reason: str) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    for record in (
        actions.record_family_not_told(database, CHECKLISTS, out, handover_id, reason=reason),
        actions.record_agency_not_told(database, CHECKLISTS, out, handover_id, gp.id, reason=reason),
    ):
        with pytest.raises(Invalid) as invalid:
            await record
        assert set(invalid.value.errors) == {"reason"}
    assert await telling_store.family_notices_of(database.reader, handover_id) == []


async def test_a_date_long_before_the_transfer_is_refused(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    limits = CHECKLISTS[("case-transfer", 4)].time_limits
    assert limits is not None
    earliest = working_days_back(today(), limits.waits.transfer)
    for told_on in ("1900-01-01", (earliest.replace(day=1) if earliest.day > 1 else earliest).isoformat()):
        if told_on >= earliest.isoformat():
            continue
        with pytest.raises(Invalid) as invalid:
            await actions.record_family_told(
                database, CHECKLISTS, out, handover_id, told="Ms Test (mother)", method="letter", told_on=told_on
            )
        assert set(invalid.value.errors) == {"told_on"}
    await actions.record_family_told(
        database, CHECKLISTS, out, handover_id, told="Ms Test (mother)", method="letter", told_on=earliest.isoformat()
    )


async def test_a_professional_taken_off_the_plan_is_no_longer_waited_for(database: db.Database, world: World) -> None:
    from service.actions.demo import complete_answers

    handover_id = await acknowledged(database, world, network(GP, SCHOOL))
    out, rmgr = await actor(database, world, "out"), await actor(database, world, "rmgr")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    await actions.record_agency_told(
        database, CHECKLISTS, out, handover_id, gp.id, method="phone", told_on=today().isoformat()
    )
    await actions.act(database, CHECKLISTS, rmgr, handover_id, Action.RETURN_TO_OUTGOING,
                      await version_of(database, handover_id), "The school is no longer involved")  # fmt: skip
    checklist = CHECKLISTS[("case-transfer", 4)]
    answers = complete_answers(checklist, today(), **network(GP))["network"]
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    _, errors = await actions.save_section(
        database, CHECKLISTS, out, handover_id, "network", answers, view.sections["network"].version, finished=True
    )
    assert not errors, errors
    await actions.act(database, CHECKLISTS, out, handover_id, Action.SUBMIT, await version_of(database, handover_id),
                      reply="The school is off the plan")  # fmt: skip
    assert list(await contacts(database, handover_id)) == ["Dr A. Khan"], "the told GP stays, the school goes"
    trail = [e.entry.action for e in await db.audit_entries(database.reader) if e.entry.object_id == handover_id]
    assert "untrack_agency_contact" in trail


@pytest.mark.parametrize(
    "address",
    ["Khan<attacker@evil.example>", "a,attacker2@evil.example", "<script>@x.example", "ａ@ｂ.ｃｏｍ", "a@b",
     "a b@c.example", '"quoted"@c.example', "a@b.example;c@d.example"],
)  # fmt: skip
def test_an_email_field_takes_exactly_one_plain_address(address: str) -> None:
    field = CHECKLISTS[("case-transfer", 4)].agency_field("email")
    assert field is not None
    assert validate_field(field, address, today()) is not None, address
    assert validate_field(field, "a.khan@surgery.example.org", today()) is None


async def test_a_signed_link_has_one_spelling(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    queued = (await contacts(database, handover_id))["Dr A. Khan"]
    assert queued.outbox_id is not None
    email = await outbox_store.email_by_id(database.reader, queued.outbox_id)
    assert email is not None
    token = email.body_text.split("/agency-acknowledgements/")[1].split()[0]
    assert telling.signed_links_withheld(email.body_text).count(token) == 0, "the administrator's outbox hides it"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for spelling in [token[:-1] + c for c in alphabet if c != token[-1]] + [token + "=", token + "=="]:
        with pytest.raises(Refused) as refused:
            async with database.transaction() as conn:
                await actions.contact_for_link(conn, spelling)
        assert refused.value.reasons == [telling.LINK_NOT_VALID], spelling
    async with database.transaction() as conn:
        assert (await actions.contact_for_link(conn, token)).id == gp.id


@pytest.mark.parametrize("told", [".", "x", "-", "123", "(m)"])
async def test_who_was_told_names_someone(database: db.Database, world: World, told: str) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    with pytest.raises(Invalid) as invalid:
        await actions.record_family_told(
            database, CHECKLISTS, out, handover_id, told=told, method="visit", told_on=today().isoformat()
        )
    assert set(invalid.value.errors) == {"told"}


async def test_an_acknowledgement_through_the_link_counts_as_told(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    queued = (await contacts(database, handover_id))["Dr A. Khan"]
    assert queued.outbox_id is not None and not queued.settled
    email = await outbox_store.email_by_id(database.reader, queued.outbox_id)
    assert email is not None
    await actions.acknowledge_by_link(database, email.body_text.split("/agency-acknowledgements/")[1].split()[0])
    assert (await contacts(database, handover_id))["Dr A. Khan"].settled


async def _resubmitted_with(database: db.Database, world: World, handover_id: int, *rows: dict[str, str]) -> None:
    from service.actions.demo import complete_answers

    rmgr, out = await actor(database, world, "rmgr"), await actor(database, world, "out")
    await actions.act(database, CHECKLISTS, rmgr, handover_id, Action.RETURN_TO_OUTGOING,
                      await version_of(database, handover_id), "The network has changed")  # fmt: skip
    answers = complete_answers(CHECKLISTS[("case-transfer", 4)], today(), **network(*rows))["network"]
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    _, errors = await actions.save_section(
        database, CHECKLISTS, out, handover_id, "network", answers, view.sections["network"].version, finished=True
    )
    assert not errors, errors
    await actions.act(database, CHECKLISTS, out, handover_id, Action.SUBMIT, await version_of(database, handover_id),
                      reply="The network is up to date")  # fmt: skip


async def test_a_removed_professional_is_never_reached_by_an_old_id(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP, SCHOOL))
    school = (await contacts(database, handover_id))["Ms R. Dale"]
    police = {"agency": "police", "name": "PC J. Reed", "role": "Officer", "email": ""}
    await _resubmitted_with(database, world, handover_id, GP, police)
    now = await contacts(database, handover_id)
    assert set(now) == {"Dr A. Khan", "PC J. Reed"} and now["PC J. Reed"].id != school.id
    out = await actor(database, world, "out")
    with pytest.raises(NotFound):
        await actions.record_agency_told(
            database, CHECKLISTS, out, handover_id, school.id, method="phone", told_on=today().isoformat()
        )
    assert not (await contacts(database, handover_id))["PC J. Reed"].settled


async def test_a_removed_professional_whose_email_never_left_is_not_waited_for(
    database: db.Database, world: World
) -> None:
    handover_id = await acknowledged(database, world, network(GP, SCHOOL))
    out = await actor(database, world, "out")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    await _resubmitted_with(database, world, handover_id, SCHOOL)
    assert list(await contacts(database, handover_id)) == ["Ms R. Dale"]


async def test_a_corrected_address_means_e_mailing_again(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    gp = (await contacts(database, handover_id))["Dr A. Khan"]
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    emailed = (await contacts(database, handover_id))["Dr A. Khan"]
    assert emailed.outbox_id is not None
    async with database.transaction() as conn:
        await outbox_store.mark_sent(conn, emailed.outbox_id, db.now())
    await _resubmitted_with(database, world, handover_id, GP | {"email": "a.khan@riverside.example.org"})
    corrected = (await contacts(database, handover_id))["Dr A. Khan"]
    assert corrected.email == "a.khan@riverside.example.org" and corrected.told_method is None and not corrected.settled
