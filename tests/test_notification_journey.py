"""A transfer from submission to closure through the running service, with a real SMTP server (aiosmtpd) on loopback:
who got which e-mail at each step, that every e-mail names no child, and that the urgent route tells the worker who
now holds the case. With HANDOVER_NOTIFICATIONS=false the steps tell nobody."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service import actions, db
from service.app import create_app
from service.core.workflow import Action
from tests.conftest import World, seed
from tests.helpers import CHECKLISTS, actor, handover_in, settings_for_tests
from tests.smtp_server import Mailbox
from tests.test_mail_delivery import SENDER, mail_server, smtp_settings
from tests.test_notifications import give_everyone_an_email, take

__all__ = ["mail_server"]  # the fixture, shared with the mail delivery tests

pytestmark = pytest.mark.anyio
CHILDREN = ("Mia Test", "T-1", "Liam Test", "T-2")


async def everyone_with_an_email(app: Litestar) -> tuple[db.Database, World]:
    database: db.Database = app.state.db
    world = await seed(database)
    await give_everyone_an_email(database, world)
    return database, world


async def delivered(mailbox: Mailbox, count: int) -> list[tuple[str, str]]:
    """(recipient, subject) of every message the server took, once `count` have arrived (the sender looks every two
    seconds)."""
    for _ in range(300):
        if len(mailbox.messages) >= count:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # and nothing more arrives
    return [(str(m["To"]), str(m["Subject"])) for m in mailbox.messages]


async def test_from_submission_to_closure_each_person_is_emailed_as_the_handover_reaches_them(
    tmp_path: Path, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    app = create_app(smtp_settings(tmp_path, port))
    async with AsyncTestClient(app=app):
        database, world = await everyone_with_an_email(app)
        handover_id = await handover_in(database, world, "draft", "mia")
        steps = [
            (Action.SUBMIT, {"smgr", "smgr2", "both"}, "A case transfer handover is waiting for your endorsement"),
            (Action.ENDORSE, {"rec"}, "A case transfer handover is waiting for you to acknowledge it"),
            (Action.ACKNOWLEDGE, {"rmgr", "rmgr2", "both"}, "A case transfer handover is waiting for your approval"),
            (Action.APPROVE, set(), ""),
        ]
        sent = 0
        for action, people, subject in steps:
            acted_by = await take(database, world, handover_id, action)
            names = {user_id: name for name, user_id in world.users.items()}
            expected = {f"{name}@example.gov.uk" for name in people if world.users[name] != acted_by}
            got = (await delivered(mailbox, sent + len(expected)))[sent:]
            assert {to for to, _ in got} == expected, f"{action}: {names[acted_by]} acted"
            assert len(got) == len(expected), f"{action}: each person once"
            assert {s for _, s in got} <= {subject}
            sent += len(got)
        handover = await db.handover_by_id(database.reader, handover_id)
        assert handover is not None and handover.state == "closed"
    for message in mailbox.messages:
        text = message.as_string()
        assert not any(child in text for child in CHILDREN), "no e-mail names a child or a case reference"
        assert message["From"] == SENDER and str(message["Message-ID"]).endswith("@" + SENDER.split("@")[1] + ">")
        parts = {part.get_content_type() for part in message.walk()}
        assert {"text/plain", "text/html"} <= parts


async def test_an_urgent_transfer_tells_the_worker_who_now_holds_the_case(
    tmp_path: Path, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    app = create_app(smtp_settings(tmp_path, port))
    async with AsyncTestClient(app=app):
        database, world = await everyone_with_an_email(app)
        async with database.transaction() as conn:
            await db.set_head_of_service(conn, world.users["omgr"])
        handover_id = await handover_in(database, world, "submitted", "mia")
        view = await actions.load(database.reader, CHECKLISTS, handover_id)
        assert view is not None
        head = await actor(database, world, "omgr")
        await actions.authorise_urgent_transfer(
            database, CHECKLISTS, head, handover_id, view.handover.version, world.users["rec"], "Risk tonight"
        )
        got = await delivered(mailbox, 1)
    assert ("rec@example.gov.uk", "The head of service authorised an urgent transfer: a case transfer handover must "
            "now be completed after the transfer") in got  # fmt: skip
    assert "omgr@example.gov.uk" not in {to for to, _ in got}, "the head of service is not told of their own step"


async def test_with_notifications_switched_off_a_step_tells_nobody(tmp_path: Path) -> None:
    app = create_app(settings_for_tests(tmp_path, notifications=False))
    async with AsyncTestClient(app=app):
        database, world = await everyone_with_an_email(app)
        await handover_in(database, world, "closed", "mia")
        counts = await database.reader.execute_fetchall(
            "SELECT (SELECT COUNT(*) FROM notifications), (SELECT COUNT(*) FROM outbox)"
        )
    assert [tuple(row) for row in counts] == [(0, 0)]
