"""Nothing waits in silence: each step tells whoever the handover now waits on, in the same transaction as the step;
e-mails never name the child; reminders are written once; a manager's daily summary is one e-mail; and each person
sees only their own notifications."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service import actions, cli, db
from service.actions import notifications
from service.core import notifications as rules
from service.core.clock import ENGLAND, today
from service.core.deadlines import due
from service.core.errors import Refused
from service.core.workflow import OPEN_STATES, TRANSITIONS, Action, State, facts_for, person_refusals, refusals
from service.settings import Settings
from tests.conftest import PEOPLE, World
from tests.helpers import CHECKLISTS, actor, handover_in

pytestmark = pytest.mark.anyio

STEPS_BACK = {Action.RETURN_TO_OUTGOING, Action.RETURN_TO_RECEIVER, Action.CANCEL}
REACHABLE = {State.DRAFT, State.SUBMITTED, State.RETURNED, State.ENDORSED, State.ACKNOWLEDGED}


def forward_step(state: State) -> Action:
    """The step a waiting state waits for, read from the workflow: the one way forward out of it."""
    (step,) = [
        action
        for action, (sources, target) in TRANSITIONS.items()
        if state in sources and target is not None and action not in STEPS_BACK
    ]
    return step


def moving_steps() -> list[tuple[Action, State]]:
    """Every step of the workflow that leaves a handover waiting on someone, with each state it may be taken from."""
    return [
        (action, source)
        for action, (sources, target) in TRANSITIONS.items()
        if target is not None and target in OPEN_STATES
        for source in sorted(sources & REACHABLE)
    ]


async def give_everyone_an_email(database: db.Database, world: World) -> None:
    async with database.transaction() as conn:
        for name, user_id in world.users.items():
            await db.set_email(conn, user_id, f"{name}@example.gov.uk")


async def rows(database: db.Database, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    return list(await database.reader.execute_fetchall(sql, params))


async def last_id(database: db.Database, table: str) -> int:
    (row,) = await rows(database, f"SELECT COALESCE(MAX(id), 0) FROM {table}")
    return int(row[0])


async def told_since(database: db.Database, after: int) -> list[tuple[int, str, int | None]]:
    """(person, kind, outbox id) of each notification written after id `after`."""
    found = await rows(
        database, "SELECT user_id, kind, outbox_id FROM notifications WHERE id > ? ORDER BY id", (after,)
    )
    return [(r[0], r[1], r[2]) for r in found]


async def who_may(database: db.Database, world: World, handover_id: int, action: Action) -> set[int]:
    """Every seeded person the state machine lets take this step of the handover, whatever it lacks."""
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    facts = facts_for(handover, today())
    people = [await actor(database, world, name) for name in PEOPLE]
    return {person.user_id for person in people if not person_refusals(action, facts, person)}


async def take(database: db.Database, world: World, handover_id: int, action: Action) -> int:
    """Take the step as the first seeded person allowed to; returns their id."""
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    for name in PEOPLE:
        person = await actor(database, world, name)
        if person_refusals(action, view.facts, person):
            continue
        if action == Action.ACKNOWLEDGE:  # the receiver reads back every critical item first
            for item in view.critical_sections():
                await actions.confirm_item(
                    database, CHECKLISTS, person, handover_id, item.id, view.handover.version, understood=True,
                    readback="I take on these risks and the plan to manage them.",
                )  # fmt: skip
            view = await actions.load(database.reader, CHECKLISTS, handover_id)
            assert view is not None
        assert refusals(action, view.facts, person, "Because") == []
        reply = "Answered: the plan is agreed" if view.facts.state == State.RETURNED else ""
        await actions.act(
            database, CHECKLISTS, person, handover_id, action, view.handover.version, "Because", reply=reply
        )
        return person.user_id
    raise AssertionError(f"nobody may {action} from {view.facts.state}")


@pytest.mark.parametrize(("action", "source"), moving_steps(), ids=lambda v: str(v))
async def test_each_step_tells_whoever_the_handover_now_waits_on(
    database: db.Database, world: World, action: Action, source: State
) -> None:
    await give_everyone_an_email(database, world)
    handover_id = await handover_in(database, world, source.value, "c1")
    before = await last_id(database, "notifications")
    actor_id = await take(database, world, handover_id, action)
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    expected = await who_may(database, world, handover_id, forward_step(State(handover.state))) - {actor_id}
    told = await told_since(database, before)
    assert {user_id for user_id, _, _ in told} == expected
    assert len(told) == len(expected), "each person is told once"
    assert all(outbox_id is not None for _, _, outbox_id in told), "each has an e-mail address, so each is e-mailed"
    recipients = {r[0] for r in await rows(database, "SELECT recipient FROM outbox WHERE id IN "
                                           f"({','.join(str(o) for _, _, o in told) or 'NULL'})")}  # fmt: skip
    names = {user_id: name for name, user_id in world.users.items()}
    assert recipients == {f"{names[user_id]}@example.gov.uk" for user_id in expected}


async def test_a_step_that_does_not_happen_writes_no_notification_and_no_email(
    database: db.Database, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await give_everyone_an_email(database, world)
    handover_id = await handover_in(database, world, "submitted", "c1")
    counts = (await last_id(database, "notifications"), await last_id(database, "outbox"))
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    with pytest.raises(Refused):  # the outgoing worker may not endorse their own handover
        await actions.act(database, CHECKLISTS, await actor(database, world, "out"), handover_id, Action.ENDORSE,
                          view.handover.version)  # fmt: skip
    real = notifications.notify_step

    async def told_then_failed(*args: Any) -> int:
        assert await real(*args) > 0, "the notifications were written inside the step's transaction"
        raise OSError("the disk filled up after the notifications were written")

    monkeypatch.setattr(notifications, "notify_step", told_then_failed)
    with pytest.raises(OSError):
        await actions.act(database, CHECKLISTS, await actor(database, world, "smgr"), handover_id, Action.ENDORSE,
                          view.handover.version)  # fmt: skip
    assert (await last_id(database, "notifications"), await last_id(database, "outbox")) == counts
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.state == "submitted"


async def children_on_record(database: db.Database) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in await rows(database, "SELECT child_name, reference FROM cases")]


async def test_no_email_names_any_child_or_case_reference(database: db.Database, world: World) -> None:
    await give_everyone_an_email(database, world)
    await db_set_head_of_service(database, world.users["omgr"])
    for case, state in (("mia", "submitted"), ("c1", "endorsed"), ("c2", "acknowledged"), ("c3", "returned")):
        await handover_in(database, world, state, case)
    mia = (await rows(database, "SELECT id FROM handovers WHERE case_id = ?", (world.cases["mia"],)))[0][0]
    smgr = await actor(database, world, "smgr")
    await actions.raise_disagreement(database, CHECKLISTS, smgr, mia, about="Risk", with_whom="Police", view_text="No")
    later = today() + timedelta(days=60)
    assert await notifications.remind(database, CHECKLISTS, later) > 0
    emails = await rows(database, "SELECT subject, body_text, body_html FROM outbox")
    assert len(emails) > 10
    for name, reference in await children_on_record(database):
        words = [name, reference, *(part for part in name.split() if part.isalpha())]
        for email in emails:
            for part in email:
                found = [word for word in words if re.search(rf"\b{re.escape(word)}\b", part)]
                assert not found, (found, part)
    listed = {r[0] for r in await rows(database, "SELECT message FROM notifications")}
    assert any("Mia Test" in message for message in listed), "the list in the service names the child"


async def db_set_head_of_service(database: db.Database, user_id: int) -> None:
    async with database.transaction() as conn:
        await db.set_head_of_service(conn, user_id)


def first_day(handover: db.Handover, when: str) -> Any:
    """The first date on which the handover's wait is due tomorrow (`when` "tomorrow") or overdue."""
    limits = CHECKLISTS[(handover.checklist_id, handover.checklist_version)].time_limits
    assert limits is not None
    day = today()
    for _ in range(400):
        found = due(handover.state, today(), today(), limits, day)
        assert found is not None
        if found.due_tomorrow if when == "tomorrow" else found.overdue:
            return day
        day += timedelta(days=1)
    raise AssertionError("never due")


async def test_reminders_are_written_once_however_often_they_are_worked_out(
    database: db.Database, world: World
) -> None:
    await give_everyone_an_email(database, world)
    await db_set_head_of_service(database, world.users["omgr"])
    handover_id = await handover_in(database, world, "submitted", "c1")
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    managers = {world.users[name] for name in ("smgr", "smgr2", "both")}

    before = await last_id(database, "notifications")
    on = first_day(handover, "tomorrow")
    written = await notifications.remind(database, CHECKLISTS, on)
    told = await told_since(database, before)
    assert {(u, k) for u, k, _ in told if k == "due_tomorrow"} == {(u, "due_tomorrow") for u in managers}
    assert written == len([t for t in told if t[1] == "due_tomorrow"])
    assert await notifications.remind(database, CHECKLISTS, on) == 0, "running twice writes nothing twice"

    before = await last_id(database, "notifications")
    late = first_day(handover, "overdue")
    assert await notifications.remind(database, CHECKLISTS, late) == len(managers) + 1
    told = await told_since(database, before)
    assert {u for u, k, _ in told if k == "overdue"} == managers | {world.users["omgr"]}, "and one step up"
    assert await notifications.remind(database, CHECKLISTS, late) == 0
    assert await notifications.remind(database, CHECKLISTS, late + timedelta(days=1)) == 0
    audits = await rows(database, "SELECT details FROM audit_log WHERE action = 'remind'")
    assert len(audits) == 2, "a run that wrote reminders is audited, a run that wrote none is not"


async def test_the_command_line_writes_the_reminders_due_now(
    site: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import anyio

    monkeypatch.setenv("HANDOVER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HANDOVER_DATABASE_URL", settings.database_url)  # empty: SQLite, in the folder
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    async with site.db.transaction() as conn:  # it has waited for weeks
        await conn.execute("UPDATE handovers SET state_since = '2020-01-06T09:00:00+00:00', started_at ="
                           " '2020-01-06T09:00:00+00:00' WHERE id = ?", (handover_id,))  # fmt: skip
    assert await anyio.to_thread.run_sync(cli.main, ["remind", "--now"]) == 0
    assert capsys.readouterr().out.startswith("3 reminders written")
    assert await anyio.to_thread.run_sync(cli.main, ["remind", "--now"]) == 0
    assert capsys.readouterr().out.startswith("0 reminders written")


async def test_a_manager_who_takes_the_daily_summary_gets_one_email_a_day(database: db.Database, world: World) -> None:
    await give_everyone_an_email(database, world)
    smgr = await actor(database, world, "smgr")
    await notifications.choose_delivery(database, smgr, "digest")
    before = await last_id(database, "outbox")
    for case in ("c1", "c2", "c3"):
        await handover_in(database, world, "submitted", case)
    mine = "SELECT COUNT(*) FROM outbox WHERE user_id = ? AND id > ?"
    assert (await rows(database, mine, (smgr.user_id, before)))[0][0] == 0, "no e-mail for each event"
    assert (await rows(database, mine, (world.users["smgr2"], before)))[0][0] == 3, "the others get one each"
    morning = datetime.combine(today(), datetime.min.time(), tzinfo=ENGLAND)
    assert await notifications.send_digests(database, (morning + timedelta(hours=6)).astimezone(UTC)) == 0
    later = datetime.now(UTC) + timedelta(minutes=1)
    at = max(later, (morning + timedelta(hours=7, minutes=5)).astimezone(UTC))
    assert await notifications.send_digests(database, at) == 1
    (digest,) = await rows(database, "SELECT id, subject, body_text FROM outbox WHERE user_id = ? AND id > ?",
                           (smgr.user_id, before))  # fmt: skip
    assert digest[1] == rules.DIGEST_SUBJECT
    assert digest[2].count("/handovers/") == 3
    linked = await rows(database, "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND outbox_id = ?",
                        (smgr.user_id, digest[0]))  # fmt: skip
    assert linked[0][0] == 3
    assert await notifications.send_digests(database, at + timedelta(hours=1)) == 0, "once a day"


async def test_a_person_without_an_email_address_is_told_in_the_service_only(
    database: db.Database, world: World
) -> None:
    before = (await last_id(database, "notifications"), await last_id(database, "outbox"))
    await handover_in(database, world, "submitted", "c1")
    assert await last_id(database, "notifications") > before[0]
    assert await last_id(database, "outbox") == before[1]


async def test_a_disabled_manager_is_never_told(database: db.Database, world: World) -> None:
    async with database.transaction() as conn:
        await db.disable_user(conn, world.users["smgr2"])
    before = await last_id(database, "notifications")
    await handover_in(database, world, "submitted", "c1")
    told = {u for u, _, _ in await told_since(database, before)}
    assert world.users["smgr"] in told and world.users["smgr2"] not in told


# ---------------------------------------------------------------- the pages


async def test_the_list_shows_a_persons_notifications_and_opening_one_marks_it_read(site: Any) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    smgr = await site.as_user("smgr")
    page = await smgr.get("/notifications")
    assert page.status_code == 200
    assert "The handover for Child 1 is waiting for your endorsement" in page.text
    assert "Notifications (1 unread)" in page.text
    (notification_id,) = re.findall(r'action="/notifications/(\d+)/open"', page.text)
    opened = await smgr.post(f"/notifications/{notification_id}/open")
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/handovers/{handover_id}/view"
    page = await smgr.get("/search")
    assert "Notifications (1 unread)" not in page.text and ">Notifications<" in page.text.replace("\n", "")


async def test_mark_all_as_read(site: Any) -> None:
    for case in ("c1", "c2"):
        await handover_in(site.db, site.world, "submitted", case)
    smgr = await site.as_user("smgr")
    assert "Notifications (2 unread)" in (await smgr.get("/notifications")).text
    done = await smgr.post("/notifications/read-all")
    assert done.status_code == 303
    page = await smgr.get(done.headers["location"])
    assert "unread)" not in page.text
    assert rules.DONE["read"] in page.text


async def test_access_to_notifications(site: Any) -> None:
    await handover_in(site.db, site.world, "submitted", "c1")
    (theirs,) = [r[0] for r in await rows(site.db, "SELECT id FROM notifications WHERE user_id = ?",
                                          (site.world.users["smgr"],))]  # fmt: skip
    anonymous = await site.as_user(None)
    for url in ("/notifications", "/notifications/settings"):
        response = await anonymous.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith("/sign-in"), url
    other = await site.as_user("smgr2")
    assert (await other.post(f"/notifications/{theirs}/open")).status_code == 404
    assert (await other.post("/notifications/999999/open")).status_code == 404
    unread = await rows(site.db, "SELECT read_at FROM notifications WHERE id = ?", (theirs,))
    assert unread[0][0] is None, "another person's notification stays unread"
    assert "Child 1" not in (await other.get("/notifications?page=1")).text.split("<main")[0]


@pytest.mark.parametrize(("name", "allowed"), [("out", False), ("rec", False), ("aud", False), ("adm", False),
                                               ("smgr", True), ("rmgr", True)])  # fmt: skip
async def test_only_managers_choose_the_daily_summary(site: Any, name: str, allowed: bool) -> None:
    person = await site.as_user(name)
    page = await person.get("/notifications/settings")
    assert page.status_code == (200 if allowed else 403)
    chosen = await person.post("/notifications/settings", {"delivery": "digest"})
    assert chosen.status_code == (303 if allowed else 403)
    stored = await rows(site.db, "SELECT email_digest FROM users WHERE id = ?", (site.world.users[name],))
    assert stored[0][0] == (1 if allowed else 0)
    if allowed:
        assert 'value="digest" checked' in (await person.get("/notifications/settings")).text
        blank = await person.post("/notifications/settings", {})
        assert blank.status_code == 400 and rules.CHOOSE_DELIVERY in blank.text


async def test_an_overdue_reminder_goes_to_the_teams_service_manager_before_the_head_of_service(
    database: db.Database, world: World
) -> None:
    await db_set_head_of_service(database, world.users["omgr"])
    async with database.transaction() as conn:
        service_id = await db.create_service(conn, "North services", world.users["rmgr2"])
        await db.set_team_service(conn, world.teams["north"], service_id)
    handover_id = await handover_in(database, world, "submitted", "c1")
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None
    before = await last_id(database, "notifications")
    await notifications.remind(database, CHECKLISTS, first_day(handover, "overdue"))
    told = {user_id for user_id, kind, _ in await told_since(database, before) if kind == "overdue"}
    assert world.users["rmgr2"] in told
    assert world.users["omgr"] not in told


async def test_the_link_in_an_email_is_the_configured_address(
    database: db.Database, world: World, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import settings_for_tests

    for name in ("base_url", "sender"):  # put back whatever the process had once this test is over
        monkeypatch.setattr(notifications.Links, name, getattr(notifications.Links, name))
    notifications.use_settings(settings_for_tests(tmp_path, base_url="https://handover.council.example.gov.uk/"))
    await give_everyone_an_email(database, world)
    handover_id = await handover_in(database, world, "submitted", "c1")
    (body,) = {r[0] for r in await rows(database, "SELECT body_text FROM outbox WHERE subject = ?",
                                        (rules.sentence_for(rules.Event.SUBMITTED, child=None),))}  # fmt: skip
    assert f"https://handover.council.example.gov.uk/handovers/{handover_id}/view" in body


async def test_a_disagreement_overdue_at_its_stage_is_chased_once_to_its_deciders_and_one_step_up(
    database: db.Database, world: World
) -> None:
    from service.actions.demo import CASE_M_DISAGREEMENT
    from service.core.disagreements import overdue

    await give_everyone_an_email(database, world)
    await db_set_head_of_service(database, world.users["omgr"])
    handover_id = await handover_in(database, world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    handover = await db.handover_by_id(database.reader, handover_id)
    assert handover is not None and handover.open_disagreements == 1
    checklist = CHECKLISTS[(handover.checklist_id, handover.checklist_version)]
    day = today()
    while not overdue(checklist, handover.open_disagreement_stages, day):
        day += timedelta(days=1)
    deciders = {world.users[name] for name in ("smgr", "smgr2", "rmgr", "rmgr2", "both")}

    before = await last_id(database, "notifications")
    await notifications.remind(database, CHECKLISTS, day - timedelta(days=1))
    assert not [t for t in await told_since(database, before) if t[1] == "disagreement_overdue"], "not yet overdue"
    await notifications.remind(database, CHECKLISTS, day)
    told = [t for t in await told_since(database, before) if t[1] == "disagreement_overdue"]
    assert {user_id for user_id, _, _ in told} == deciders | {world.users["omgr"]}
    assert len(told) == len(deciders) + 1, "each once"
    again = await last_id(database, "notifications")
    await notifications.remind(database, CHECKLISTS, day + timedelta(days=3))
    assert not [t for t in await told_since(database, again) if t[1] == "disagreement_overdue"], "once per stage"
    subjects = await rows(database, "SELECT subject FROM outbox WHERE id IN (SELECT outbox_id FROM notifications "
                          "WHERE kind = 'disagreement_overdue')")  # fmt: skip
    assert subjects and all("Mia" not in s[0] and "overdue at its stage" in s[0] for s in subjects)
