"""The people one step up read what they are chased about, never act on it; an urgent transfer is named on every
list; the new forms refuse an answer sent twice; the daily summary is a manager's; and an overdue worker's wait goes
to their own managers."""

from __future__ import annotations

import pytest

from service import actions, db
from service.actions import notifications
from service.core import notifications as rules
from service.core.workflow import URGENT_LABEL, Action
from tests.conftest import Site
from tests.helpers import CHECKLISTS, actor, handover_in
from tests.test_notifications import first_day, give_everyone_an_email, last_id, told_since
from tests.test_urgent_transfer import REASON, authorise, make_head

pytestmark = pytest.mark.anyio


async def test_the_head_of_service_and_a_service_manager_read_the_handovers_they_oversee_and_act_on_none(
    site: Site,
) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    await make_head(site, "omgr")
    async with site.db.transaction() as conn:  # "other" manages the service the sending team belongs to
        service = await db.create_service(conn, "Early help", site.world.users["other"])
        await db.set_team_service(conn, site.world.teams["north"], service)
    for name in ("omgr", "other"):
        person = await site.as_user(name)
        assert (await person.get(f"/handovers/{handover_id}/view")).status_code == 200, name
        view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert view is not None
        endorsed = await person.post(f"/handovers/{handover_id}/endorse", {"handover_version": view.handover.version})
        assert endorsed.status_code in (403, 404, 409), name
    assert (await (await site.as_user("rec2")).get(f"/handovers/{handover_id}/view")).status_code == 404
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.state == "submitted"


async def test_an_urgent_transfer_is_named_on_the_lists_of_everyone_who_sees_it(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "c1")
    await make_head(site, "omgr")
    head = await site.as_user("omgr")
    assert (await authorise(head, handover_id, site.world.users["rec"])).status_code == 303
    for name, path in [("out", "/"), ("rec", "/inbox"), ("aud", "/audit/incomplete"),
                       ("out", "/search?q=Child")]:  # fmt: skip
        page = await (await site.as_user(name)).get(path)
        assert page.status_code == 200 and URGENT_LABEL in page.text, (name, path)
    exported = await (await site.as_user("aud")).get("/audit/incomplete/jsonl")
    assert exported.status_code == 200
    [line] = [line for line in exported.text.splitlines() if f'"handover_id":{handover_id},' in line]
    assert '"urgent":true' in line and URGENT_LABEL in line


@pytest.mark.parametrize(
    ("person", "path", "form", "field"),
    [
        ("omgr", "/handovers/{id}/urgent", {"receiver": ["{rec}", "{rec2}"], "reason": REASON}, "receiver"),
        ("omgr", "/handovers/{id}/urgent", {"receiver": "{rec}", "reason": [REASON, "Another"]}, "reason"),
        ("smgr", "/notifications/settings", {"delivery": ["each", "digest"]}, "delivery"),
    ],
)
async def test_an_answer_sent_twice_is_refused_by_its_field_and_nothing_is_saved(
    site: Site, person: str, path: str, form: dict[str, object], field: str
) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    await make_head(site, "omgr")
    before = await db.handover_by_id(site.db.reader, handover_id)
    assert before is not None
    users = {"rec": site.world.users["rec"], "rec2": site.world.users["rec2"]}

    def filled(value: object) -> object:
        if isinstance(value, list):
            return [filled(each) for each in value]
        return str(value).format(**users) if isinstance(value, str) else value

    data = {key: filled(value) for key, value in form.items()} | {"handover_version": str(before.version)}
    answered = await (await site.as_user(person)).post(path.format(id=handover_id), data)
    assert answered.status_code == 400
    assert "send one answer, not several" in answered.text
    assert f'href="#{field}' in answered.text, "the error summary links to the field"
    after = await db.handover_by_id(site.db.reader, handover_id)
    assert after is not None and after.urgent_at is None and after.version == before.version
    assert not await db.notifications.takes_digest(site.db.reader, site.world.users["smgr"])


async def test_someone_who_no_longer_manages_a_team_gets_each_email_again(site: Site) -> None:
    await give_everyone_an_email(site.db, site.world)
    async with site.db.transaction() as conn:  # "out" once chose the summary as a manager, and manages no team now
        await db.notifications.set_email_digest(conn, site.world.users["out"], True)
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    before = await last_id(site.db, "notifications")
    await actions.act(site.db, CHECKLISTS, await actor(site.db, site.world, "smgr"), handover_id,
                      Action.RETURN_TO_OUTGOING, view.handover.version, "Please add the school's view")  # fmt: skip
    [(user_id, kind, outbox_id)] = await told_since(site.db, before)
    assert (user_id, kind) == (site.world.users["out"], "returned") and outbox_id is not None


async def test_an_overdue_reply_goes_to_the_outgoing_workers_own_managers(site: Site) -> None:
    await give_everyone_an_email(site.db, site.world)
    handover_id = await handover_in(site.db, site.world, "returned", "c1")
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    before = await last_id(site.db, "notifications")
    await notifications.remind(site.db, CHECKLISTS, first_day(handover, "overdue"))
    told = {user_id for user_id, kind, _ in await told_since(site.db, before) if kind == rules.Event.OVERDUE.value}
    expected = {site.world.users[name] for name in ("out", "smgr", "smgr2", "both")}
    assert told == expected


@pytest.mark.parametrize(
    ("person", "state", "path", "field", "value"),
    [
        ("smgr", "submitted", "/handovers/{id}/return", "reason", "Please add the school's view"),
        ("smgr", "submitted", "/handovers/{id}/endorse", "handover_version", "{version}"),
        ("smgr", "submitted", "/handovers/{id}/disagreements", "about", "Whether the risk has reduced"),
        ("out", "returned", "/handovers/{id}/submit", "reply", "The school's view is added"),
        ("out", "returned", "/handovers/{id}/submit", "handover_version", "{version}"),
        ("omgr", "submitted", "/handovers/{id}/urgent", "handover_version", "{version}"),
    ],
)
async def test_a_workflow_form_with_an_answer_sent_twice_changes_nothing(
    site: Site, person: str, state: str, path: str, field: str, value: str
) -> None:
    handover_id = await handover_in(site.db, site.world, state, "c1")
    await make_head(site, "omgr")
    before = await db.handover_by_id(site.db.reader, handover_id)
    assert before is not None
    filled = value.format(version=before.version)
    form = {
        "handover_version": str(before.version), "reason": REASON, "reply": "Answered", "about": "Risk",
        "with_whom": "The school", "view": "It has not reduced", "receiver": str(site.world.users["rec2"]),
    } | {field: [filled, filled + "9"]}  # fmt: skip
    answered = await (await site.as_user(person)).post(path.format(id=handover_id), form)
    assert answered.status_code == 400, answered.text[:300]
    assert "send one answer, not several" in answered.text
    after = await db.handover_by_id(site.db.reader, handover_id)
    assert after is not None and (after.state, after.version) == (before.state, before.version)
    assert after.open_disagreements == before.open_disagreements


async def test_a_receiver_who_leaves_hands_the_wait_to_their_teams_managers(site: Site) -> None:
    await give_everyone_an_email(site.db, site.world)
    handover_id = await handover_in(site.db, site.world, "endorsed", "c1")
    before = await last_id(site.db, "notifications")
    await actions.disable_person(site.db, user_id=site.world.users["rec"], by=site.world.users["adm"])
    told = await told_since(site.db, before)
    assert {(user_id, kind) for user_id, kind, _ in told} == {
        (site.world.users[name], rules.Event.SENT_TO_TEAM.value) for name in ("rmgr", "rmgr2", "both")
    }
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.receiver_id is None


async def test_an_urgent_transfer_that_closes_the_handover_says_so_to_the_workers_and_the_receiving_team(
    site: Site,
) -> None:
    await give_everyone_an_email(site.db, site.world)
    handover_id = await handover_in(site.db, site.world, "acknowledged", "c1")
    await make_head(site, "omgr")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    before = await last_id(site.db, "notifications")
    await actions.authorise_urgent_transfer(
        site.db, CHECKLISTS, await actor(site.db, site.world, "omgr"), handover_id, view.handover.version,
        site.world.users["rec"], REASON,
    )  # fmt: skip
    told = await told_since(site.db, before)
    assert {kind for _, kind, _ in told} == {rules.Event.URGENT_CLOSED.value}
    assert {user_id for user_id, _, _ in told} == {
        site.world.users[name] for name in ("rec", "out", "rmgr", "rmgr2", "both")
    }
