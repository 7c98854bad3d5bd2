"""The transfer cannot close until the child and family have been told of the new worker, or the reason why not is
recorded, and every professional the multi-agency network lists is told (by the service's e-mail or another way) or
has a reason recorded: for a checklist version with `[telling]` (version 4). Each professional becomes an agency
contact once, when the handover is submitted; earlier versions keep their own answers and close as before."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.actions.demo import complete_answers
from service.core import telling
from service.core.clock import today
from service.core.errors import Invalid, NotFound, Refused
from service.core.workflow import Action
from service.db import outbox as outbox_store
from service.db import telling as telling_store
from tests.conftest import World
from tests.helpers import APART, CHECKLISTS, actor, on_record_of

pytestmark = pytest.mark.anyio

GP = {"agency": "gp", "name": "Dr A. Khan", "role": "GP", "email": "a.khan@surgery.example.org"}
SCHOOL = {"agency": "school", "name": "Ms R. Dale", "role": "Safeguarding lead", "email": ""}
OTHER = {"agency": "other", "agency_name": "Youth offending service", "name": "Sam Reid", "role": "Case worker",
         "email": "s.reid@yos.example.org"}  # fmt: skip


def network(*rows: dict[str, str]) -> dict[str, Any]:
    return {"network": {"gp_engaged": "yes", "contacts_rows": list(rows)}}


async def version_of(database: db.Database, handover_id: int) -> int:
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    return handover.version


async def acknowledged(database: db.Database, world: World, answers: dict[str, Any], *, version: int = 4) -> int:
    """A handover of checklist `version`, with `answers`, submitted, endorsed and acknowledged through the actions."""
    people = {name: await actor(database, world, name) for name in ("out", "smgr", "rec")}
    checklist = CHECKLISTS[("case-transfer", version)]
    handover_id = await actions.start_handover(
        database, people["out"], checklist, case_id=world.cases["mia"], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    for section_id, section_answers in complete_answers(
        checklist, today(), **answers, **{"case-summary": on_record_of("mia")}
    ).items():
        _, errors = await actions.save_section(
            database, CHECKLISTS, people["out"], handover_id, section_id, section_answers, 0, finished=True
        )
        assert not errors, errors
    for who, action in (("out", Action.SUBMIT), ("smgr", Action.ENDORSE)):
        await actions.act(
            database, CHECKLISTS, people[who], handover_id, action, await version_of(database, handover_id)
        )
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    for item in view.critical_sections():
        await actions.confirm_item(
            database, CHECKLISTS, people["rec"], handover_id, item.id, await version_of(database, handover_id),
            understood=True, readback="I take on these risks, the child's wishes and the plan to manage them.",
        )  # fmt: skip
    await actions.act(
        database, CHECKLISTS, people["rec"], handover_id, Action.ACKNOWLEDGE, await version_of(database, handover_id)
    )
    return handover_id


async def approve(database: db.Database, world: World, handover_id: int) -> None:
    rmgr = await actor(database, world, "rmgr")
    await actions.act(database, CHECKLISTS, rmgr, handover_id, Action.APPROVE, await version_of(database, handover_id))


async def test_approval_waits_for_the_family_and_every_agency_then_closes(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP, SCHOOL, OTHER))
    contacts = await telling_store.agency_contacts_of(database.reader, handover_id)
    assert [(c.agency, c.name, c.role, c.email) for c in contacts] == [
        ("GP", "Dr A. Khan", "GP", GP["email"]),
        ("School or nursery", "Ms R. Dale", "Safeguarding lead", ""),
        ("Youth offending service", "Sam Reid", "Case worker", OTHER["email"]),
    ]
    with pytest.raises(Refused) as refused:
        await approve(database, world, handover_id)
    assert refused.value.reasons == [
        telling.FAMILY_NOT_TOLD,
        telling.agency_not_told("Dr A. Khan", "GP"),
        telling.agency_not_told("Ms R. Dale", "School or nursery"),
        telling.agency_not_told("Sam Reid", "Youth offending service"),
    ]

    out = await actor(database, world, "out")
    await actions.record_family_told(
        database, CHECKLISTS, out, handover_id, told="Ms Test (mother)", method="letter", told_on=today().isoformat()
    )
    gp, school, other = contacts
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    await actions.record_agency_told(
        database, CHECKLISTS, out, handover_id, school.id, method="phone", told_on=today().isoformat()
    )
    with pytest.raises(Refused) as refused:
        await approve(database, world, handover_id)
    assert refused.value.reasons == [
        telling.agency_not_told("Dr A. Khan", "GP"),  # an e-mail still in the outbox has told nobody
        telling.agency_not_told("Sam Reid", "Youth offending service"),
    ]
    [emailed] = [c for c in await telling_store.agency_contacts_of(database.reader, handover_id) if c.id == gp.id]
    assert emailed.outbox_id is not None and not emailed.settled
    async with database.transaction() as conn:  # the sender delivers it
        assert await outbox_store.mark_sent(conn, emailed.outbox_id, db.now())
    with pytest.raises(Refused) as refused:
        await approve(database, world, handover_id)
    assert refused.value.reasons == [telling.agency_not_told("Sam Reid", "Youth offending service")]

    await actions.record_agency_not_told(
        database, CHECKLISTS, out, handover_id, other.id, reason="The youth offending order ended last week."
    )
    await approve(database, world, handover_id)
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.state == "closed"


async def test_the_agency_email_names_no_child_and_carries_a_link_that_works_once(
    database: db.Database, world: World
) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    [gp] = await telling_store.agency_contacts_of(database.reader, handover_id)
    out = await actor(database, world, "out")
    await actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id)
    [emailed] = await telling_store.agency_contacts_of(database.reader, handover_id)
    assert emailed.outbox_id is not None and emailed.told_method == telling.BY_THE_SERVICE
    email = await outbox_store.email_by_id(database.reader, emailed.outbox_id)
    assert email is not None and email.recipient == GP["email"]
    for text in (email.subject, email.body_text, email.body_html):
        assert "Mia" not in text and "Test" not in text, "the child is named only by the council's reference"
        assert "T-1" in text
    token = email.body_text.split("/agency-acknowledgements/")[1].split()[0]
    acknowledged_contact = await actions.acknowledge_by_link(database, token)
    assert acknowledged_contact.id == gp.id
    with pytest.raises(Refused) as again:
        await actions.acknowledge_by_link(database, token)
    assert again.value.reasons == [telling.LINK_USED]
    # a character of the signed nonce changed (the signature's last character can carry spare bits: not there)
    for altered_token in (("B" if token[0] == "A" else "A") + token[1:], token[: len(token) // 2], token + "x"):
        with pytest.raises(Refused) as altered:
            await actions.acknowledge_by_link(database, altered_token)
        assert altered.value.reasons == [telling.LINK_NOT_VALID]


async def test_a_professional_is_told_once(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    [gp] = await telling_store.agency_contacts_of(database.reader, handover_id)
    out = await actor(database, world, "out")
    await actions.record_agency_told(
        database, CHECKLISTS, out, handover_id, gp.id, method="meeting", told_on=today().isoformat()
    )
    for second in (
        actions.email_agency(database, CHECKLISTS, out, handover_id, gp.id),
        actions.record_agency_not_told(database, CHECKLISTS, out, handover_id, gp.id, reason="Changed my mind now"),
    ):
        with pytest.raises(Refused) as refused:
            await second
        assert refused.value.reasons == [telling.ALREADY_SETTLED]


async def test_a_professional_listed_twice_or_on_resubmission_is_one_contact(
    database: db.Database, world: World
) -> None:
    same = GP | {"name": "  dr a.  KHAN ", "role": "Family doctor"}
    handover_id = await acknowledged(database, world, network(GP, same, SCHOOL))
    contacts = await telling_store.agency_contacts_of(database.reader, handover_id)
    assert [c.name for c in contacts] == ["Dr A. Khan", "Ms R. Dale"]


@pytest.mark.parametrize(
    ("method", "told_on", "field"),
    [("", "2026-01-05", "method"), ("pigeon", "2026-01-05", "method"), ("letter", "", "told_on"),
     ("letter", "2999-01-01", "told_on"), ("letter", "31/2/2026", "told_on")],
)  # fmt: skip
async def test_a_family_notice_with_a_bad_answer_is_refused_by_the_field(
    database: db.Database, world: World, method: str, told_on: str, field: str
) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    out = await actor(database, world, "out")
    with pytest.raises(Invalid) as invalid:
        await actions.record_family_told(
            database, CHECKLISTS, out, handover_id, told="Ms Test", method=method, told_on=told_on
        )
    assert set(invalid.value.errors) == {field}
    assert await telling_store.family_notices_of(database.reader, handover_id) == []


async def test_nobody_off_the_handover_and_no_auditor_records_telling(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, network(GP))
    for name, refusal in (("aud", Refused), ("other", NotFound)):
        person = await actor(database, world, name)
        with pytest.raises(refusal):
            await actions.record_family_told(
                database, CHECKLISTS, person, handover_id, told="Ms Test", method="phone", told_on=today().isoformat()
            )
    assert await telling_store.family_notices_of(database.reader, handover_id) == []


async def test_an_earlier_version_closes_on_its_own_answers(database: db.Database, world: World) -> None:
    handover_id = await acknowledged(database, world, {}, version=3)
    assert await telling_store.agency_contacts_of(database.reader, handover_id) == []
    await approve(database, world, handover_id)
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.state == "closed"


async def test_the_report_shows_who_a_handover_waits_to_tell(database: db.Database, world: World) -> None:
    from service import reporting
    from service.core.report import ReportFilter

    handover_id = await acknowledged(database, world, network(GP, SCHOOL))
    waiting, _ = await reporting.page_of_rows(
        database, CHECKLISTS, ReportFilter(blocker="agency_not_told"), 1, 50, today()
    )
    assert [row.handover_id for row in waiting] == [handover_id]
    assert telling.FAMILY_NOT_TOLD in waiting[0].blockers
    assert telling.agency_not_told("Ms R. Dale", "School or nursery") in waiting[0].blockers

    out = await actor(database, world, "out")
    for contact in await telling_store.agency_contacts_of(database.reader, handover_id):
        await actions.record_agency_told(
            database, CHECKLISTS, out, handover_id, contact.id, method="letter", told_on=today().isoformat()
        )
    none_left, _ = await reporting.page_of_rows(
        database, CHECKLISTS, ReportFilter(blocker="agency_not_told"), 1, 50, today()
    )
    assert none_left == []
    everything, _ = await reporting.page_of_rows(database, CHECKLISTS, ReportFilter(), 1, 50, today())
    [row] = [row for row in everything if row.handover_id == handover_id]
    assert telling.FAMILY_NOT_TOLD in row.blockers
    assert not any("Ms R. Dale" in blocker for blocker in row.blockers)
