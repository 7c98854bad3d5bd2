"""Delivery of the outbox over SMTP, against a real mail server in the test process (aiosmtpd): what arrives, what
happens when the server refuses, that two senders never send one e-mail twice, and that the settings which describe
the mail server refuse what they cannot use."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

from service import db
from service.app import create_app
from service.core import outbox as rules
from service.db import outbox as store
from service.mail import Sender, lease_for
from service.settings import Settings, SettingsError, settings_from_env
from tests.conftest import Site, seed
from tests.helpers import settings_for_tests
from tests.smtp_server import Mailbox, free_port, smtp_server

pytestmark = pytest.mark.anyio
SENDER = "handover@riverford.example"


@pytest.fixture
def mail_server() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


def smtp_settings(tmp_path: Path, port: int) -> Settings:
    return settings_for_tests(
        tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", mail_from=SENDER, smtp_timeout_seconds=2
    )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[db.Database]:
    database = db.SqliteDatabase(tmp_path / "handover.db")
    await database.open()
    yield database
    await database.close()


async def queue(database: db.Database, n: int = 1, recipient: str = "smgr@riverford.example") -> list[int]:
    async with database.transaction() as conn:
        return [
            await store.queue_email(
                conn, user_id=None, recipient=recipient, subject=f"A handover waits for you ({i})",
                body_text=f"A handover waits for your endorsement.\n\nhttp://127.0.0.1:8000/queue ({i})",
                body_html=f'<p>A handover waits.</p><p><a href="/queue">Manager queue</a> ({i})</p>',
                now=db.now(), sender=SENDER,
            )
            for i in range(n)
        ]  # fmt: skip


async def row(database: db.Database, email_id: int) -> store.OutboxEmail:
    rows = await database.reader.execute_fetchall("SELECT * FROM outbox WHERE id = ?", (email_id,))
    return db.record(rows[0], store.OutboxEmail)


async def make_due(database: db.Database, email_id: int) -> None:
    """As if the back-off had passed."""
    async with database.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE id = ?", ("2000-01-01T00:00:00+00:00", email_id)
        )


async def test_a_queued_email_arrives_with_both_parts_and_its_stored_message_id(
    tmp_path: Path, database: db.Database, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    [email_id] = await queue(database)
    assert await Sender(database, smtp_settings(tmp_path, port)).deliver_due() == 1
    stored = await row(database, email_id)
    [message] = mailbox.messages
    assert message["Message-ID"] == stored.message_id and stored.message_id.endswith("@riverford.example>")
    assert (message["From"], message["To"]) == (SENDER, "smgr@riverford.example")
    assert message["Subject"] == "A handover waits for you (0)" and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and "waits for your endorsement" in plain.get_content()
    assert html is not None and '<a href="/queue">Manager queue</a>' in html.get_content()
    assert stored.sent_at and stored.in_doubt == 0 and stored.attempts == 0
    entries = [e.entry for e in await db.audit_entries(database.reader)]
    assert [(e.action, e.object_id, e.details["message_id"]) for e in entries] == [
        ("send_email", email_id, stored.message_id)
    ]
    assert await Sender(database, smtp_settings(tmp_path, port)).deliver_due() == 0, "sent once, not again"
    assert len(mailbox.messages) == 1


async def test_a_refused_email_is_kept_retried_after_the_back_off_and_delivered_once_the_server_accepts(
    tmp_path: Path, database: db.Database, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    sender = Sender(database, smtp_settings(tmp_path, port))
    [email_id] = await queue(database)
    mailbox.refuse_data = "451 4.3.0 Mailbox busy, try again later"
    before = datetime.now(UTC)
    assert await sender.deliver_due() == 0
    failed = await row(database, email_id)
    assert failed.sent_at is None and failed.attempts == 1 and "451" in (failed.last_error or "")
    assert failed.in_doubt == 0, "the server answered the hand-over: it did not take the message"
    retry_at = datetime.fromisoformat(failed.next_attempt_at)
    assert before + timedelta(seconds=59) <= retry_at <= datetime.now(UTC) + timedelta(seconds=61)
    mailbox.refuse_data = None
    assert await sender.deliver_due() == 0, "not before the back-off has passed"
    await make_due(database, email_id)
    assert await sender.deliver_due() == 1
    assert mailbox.message_ids() == {failed.message_id: 1}
    assert (await row(database, email_id)).sent_at


async def test_a_refused_recipient_and_an_unreachable_server_are_failed_tries_not_deliveries(
    tmp_path: Path, database: db.Database, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    [email_id] = await queue(database)
    mailbox.refuse_rcpt = "550 5.1.1 No such mailbox"
    await Sender(database, smtp_settings(tmp_path, port)).deliver_due()
    refused = await row(database, email_id)
    assert (refused.attempts, refused.in_doubt, refused.sent_at) == (1, 0, None) and "550" in (refused.last_error or "")
    await make_due(database, email_id)
    await Sender(database, smtp_settings(tmp_path, free_port())).deliver_due()  # nothing listens there
    unreachable = await row(database, email_id)
    assert unreachable.attempts == 2 and "Connection" in (unreachable.last_error or "")
    second_wait = datetime.fromisoformat(unreachable.next_attempt_at) - datetime.now(UTC)
    assert timedelta(seconds=100) < second_wait <= timedelta(seconds=121), "the second wait is twice the first"
    assert mailbox.messages == []


async def test_starttls_is_never_given_up_for_a_plain_connection(
    tmp_path: Path, database: db.Database, mail_server: tuple[Mailbox, int]
) -> None:
    """This server offers no STARTTLS: with the default setting the e-mail is not sent in clear text, but kept."""
    mailbox, port = mail_server
    [email_id] = await queue(database)
    settings = msgspec.structs.replace(smtp_settings(tmp_path, port), smtp_tls="starttls")
    assert await Sender(database, settings).deliver_due() == 0
    kept = await row(database, email_id)
    assert mailbox.messages == [] and kept.attempts == 1 and "STARTTLS" in (kept.last_error or "")


def passwords(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    right = isinstance(auth_data, LoginPassword) and auth_data.password == b"right password"
    return AuthResult(success=right, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.mark.parametrize(("password", "delivered"), [("right password", 1), ("wrong password", 0)])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # loopback, in this test
async def test_the_sender_signs_in_to_a_server_that_asks(
    tmp_path: Path, database: db.Database, password: str, delivered: int
) -> None:
    options = {"auth_required": True, "auth_require_tls": False, "authenticator": passwords}
    with smtp_server(**options) as (mailbox, port):
        [email_id] = await queue(database)
        settings = msgspec.structs.replace(
            smtp_settings(tmp_path, port), smtp_username="mailer", smtp_password=password
        )
        assert await Sender(database, settings).deliver_due() == delivered
        assert len(mailbox.messages) == delivered
    if not delivered:
        assert "535" in ((await row(database, email_id)).last_error or ""), "the server's refusal is kept"


async def test_an_email_in_doubt_once_is_sent_again_and_twice_is_held(
    tmp_path: Path, database: db.Database, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    once, twice = await queue(database, 2)
    async with database.transaction() as conn:
        await conn.execute("UPDATE outbox SET in_doubt = 1 WHERE id = ?", (once,))
        await conn.execute("UPDATE outbox SET in_doubt = 2 WHERE id = ?", (twice,))
    assert await Sender(database, smtp_settings(tmp_path, port)).deliver_due() == 1
    assert mailbox.message_ids() == {(await row(database, once)).message_id: 1}
    sent, held = await row(database, once), await row(database, twice)
    assert sent.sent_at and sent.in_doubt == 1, "this hand-over's answer is known; the one before stays in doubt"
    assert held.sent_at is None and rules.state(sent_at=None, attempts=0, in_doubt=held.in_doubt)[0] == "Held"


async def test_two_senders_on_one_database_send_each_email_once(
    tmp_path: Path, mail_server: tuple[Mailbox, int]
) -> None:
    """Two service processes share the database file: each has its own connections and its own sender."""
    mailbox, port = mail_server
    first, second = db.SqliteDatabase(tmp_path / "handover.db"), db.SqliteDatabase(tmp_path / "handover.db")
    await first.open()
    await second.open()
    try:
        await queue(first, 30)
        settings = smtp_settings(tmp_path, port)
        counts = await asyncio.gather(Sender(first, settings).deliver_due(), Sender(second, settings).deliver_due())
    finally:
        await first.close()
        await second.close()
    assert sum(counts) == 30 and set(mailbox.message_ids().values()) == {1} and len(mailbox.message_ids()) == 30


async def test_the_service_delivers_what_is_queued_while_it_runs(
    tmp_path: Path, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    app = create_app(smtp_settings(tmp_path, port))
    async with AsyncTestClient(app=app):
        await seed(app.state.db)
        await queue(app.state.db, 3)
        for _ in range(200):  # the sender looks every 2 seconds
            if len(mailbox.messages) == 3:
                break
            await asyncio.sleep(0.05)
    assert len(mailbox.message_ids()) == 3


async def test_without_a_mail_server_nothing_is_sent_and_the_email_waits(
    tmp_path: Path, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, _ = mail_server
    app = create_app(settings_for_tests(tmp_path))
    async with AsyncTestClient(app=app):
        [email_id] = await queue(app.state.db)
        await asyncio.sleep(0.3)
        waiting = await row(app.state.db, email_id)
    assert waiting.sent_at is None and waiting.attempts == 0 and mailbox.messages == []


def test_the_lease_outlasts_every_step_of_a_try(tmp_path: Path) -> None:
    settings = smtp_settings(tmp_path, 25)
    assert lease_for(settings) >= timedelta(seconds=6 * settings.smtp_timeout_seconds)


@given(st.integers(min_value=1, max_value=10_000))
def test_the_back_off_doubles_from_a_minute_and_stops_at_an_hour(failures: int) -> None:
    delay = rules.retry_delay(failures)
    assert timedelta(minutes=1) <= delay <= timedelta(hours=1)
    assert rules.retry_delay(failures + 1) == min(delay * 2, timedelta(hours=1))
    assert rules.retry_delay(1) == timedelta(minutes=1)


# ---------------------------------------------------------------- settings


BASE = {"HANDOVER_SECRET_KEY": "k" * 40}
PRODUCTION = BASE | {
    "HANDOVER_MODE": "production", "HANDOVER_COUNCIL_NAME": "Riverford City Council",
    "HANDOVER_CONTACT_EMAIL": "help@riverford.example", "HANDOVER_DPO_EMAIL": "dpo@riverford.example",
    "HANDOVER_STATEMENT_DATE": "2026-11-20",
}  # fmt: skip
MAIL = {"HANDOVER_SMTP_HOST": "smtp.riverford.example", "HANDOVER_MAIL_FROM": SENDER}


def bad_mail_settings() -> list[tuple[str, dict[str, str], str]]:
    """(what, environment, the setting its message names): each setting given values it cannot use."""
    cases: list[tuple[str, dict[str, str], str]] = []
    for value in ("smtp example", "smtp\n.example", "x" * 254, "smtp;rm"):
        cases.append((f"host {value!r}", BASE | MAIL | {"HANDOVER_SMTP_HOST": value}, "HANDOVER_SMTP_HOST"))
    for value in ("0", "65536", "-1", "25.5", "smtp", ""):
        cases.append((f"port {value!r}", BASE | MAIL | {"HANDOVER_SMTP_PORT": value}, "HANDOVER_SMTP_PORT"))
    for value in ("ssl", "yes", "STARTTLS1", ""):
        cases.append((f"tls {value!r}", BASE | MAIL | {"HANDOVER_SMTP_TLS": value}, "HANDOVER_SMTP_TLS"))
    elsewhere = PRODUCTION | MAIL | {"HANDOVER_SMTP_TLS": "none", "HANDOVER_BASE_URL": "https://h.riverford.example"}
    cases.append(("no TLS to another machine in production", elsewhere, "HANDOVER_SMTP_TLS"))
    cases.append(("a username alone", BASE | MAIL | {"HANDOVER_SMTP_USERNAME": "mailer"}, "HANDOVER_SMTP_USERNAME"))
    cases.append(("a password alone", BASE | MAIL | {"HANDOVER_SMTP_PASSWORD": "secret"}, "HANDOVER_SMTP_PASSWORD"))
    cases.append(
        ("a password over two lines", BASE | MAIL | {"HANDOVER_SMTP_USERNAME": "m", "HANDOVER_SMTP_PASSWORD": "a\nb"},
         "HANDOVER_SMTP_PASSWORD")
    )  # fmt: skip
    for value in ("0", "0.05", "-3", "soon", "nan", "inf"):
        cases.append((f"timeout {value!r}", BASE | MAIL | {"HANDOVER_SMTP_TIMEOUT_SECONDS": value},
                      "HANDOVER_SMTP_TIMEOUT_SECONDS"))  # fmt: skip
    cases.append(
        ("a host and no sender", BASE | {"HANDOVER_SMTP_HOST": "smtp.riverford.example"}, "HANDOVER_MAIL_FROM")
    )
    for value in ("handover", "handover@", "hand over@riverford.example", "h@r.example\nBcc: x@y.example"):
        cases.append((f"sender {value!r}", BASE | MAIL | {"HANDOVER_MAIL_FROM": value}, "HANDOVER_MAIL_FROM"))
    for value in (
        "handover.riverford.example",
        "ftp://h.example",
        "https://",
        "https://h.example/?a=1",
        "https://h.example/#top",
        "https://user@h.example",
        "https://h.example:port",
        "https://h. example",
    ):
        cases.append((f"base URL {value!r}", BASE | {"HANDOVER_BASE_URL": value}, "HANDOVER_BASE_URL"))  # fmt: skip
    cases.append(("plain http to another machine in production", PRODUCTION | MAIL | {
        "HANDOVER_BASE_URL": "http://handover.riverford.example"}, "HANDOVER_BASE_URL"))  # fmt: skip
    cases.append(("e-mail in production with no base URL", PRODUCTION | MAIL, "HANDOVER_BASE_URL"))
    return cases


@pytest.mark.parametrize(("what", "env", "named"), bad_mail_settings(), ids=[c[0] for c in bad_mail_settings()])
def test_a_mail_setting_that_cannot_be_used_stops_start_up(
    tmp_path: Path, what: str, env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        settings_from_env(env | {"HANDOVER_DATA_DIR": str(tmp_path)})


def test_mail_settings_that_can_be_used_are_read(tmp_path: Path) -> None:
    demo = settings_from_env(BASE | {"HANDOVER_DATA_DIR": str(tmp_path), "HANDOVER_PORT": "8123"})
    assert not demo.smtp_configured and demo.link_base == "http://127.0.0.1:8123"
    env = PRODUCTION | MAIL | {
        "HANDOVER_DATA_DIR": str(tmp_path), "HANDOVER_SMTP_PORT": "465", "HANDOVER_SMTP_TLS": "TLS",
        "HANDOVER_SMTP_USERNAME": "mailer", "HANDOVER_SMTP_PASSWORD": "p a s s", "HANDOVER_SMTP_TIMEOUT_SECONDS": "10",
        "HANDOVER_BASE_URL": "https://handover.riverford.example/",
    }  # fmt: skip
    live = settings_from_env(env)
    assert (live.smtp_host, live.smtp_port, live.smtp_tls, live.smtp_username, live.smtp_password) == (
        "smtp.riverford.example",
        465,
        "tls",
        "mailer",
        "p a s s",
    )
    assert live.mail_from == SENDER and live.link_base == "https://handover.riverford.example"
    here = {"HANDOVER_SMTP_HOST": "127.0.0.1", "HANDOVER_SMTP_TLS": "none", "HANDOVER_BASE_URL": "https://h.example"}
    local = settings_from_env(PRODUCTION | MAIL | here | {"HANDOVER_DATA_DIR": str(tmp_path)})
    assert local.smtp_tls == "none", "no TLS is allowed to a mail server on this machine"


# ---------------------------------------------------------------- the operator's outbox page


@pytest.mark.parametrize("username", ["out", "smgr", "rmgr", "rec", "aud"])
async def test_only_an_administrator_reads_the_outbox(site: Site, username: str) -> None:
    await queue(site.db)
    response = await (await site.as_user(username)).get("/admin/outbox")
    assert response.status_code == 403 and "smgr@riverford.example" not in response.text


async def test_signed_out_the_outbox_asks_for_sign_in(site: Site) -> None:
    response = await (await site.as_user(None)).get("/admin/outbox")
    assert (response.status_code, response.headers["location"]) == (303, "/sign-in")


async def test_the_administrator_reads_each_email_and_its_state(site: Site) -> None:
    _waiting, failing, held, sent = await queue(site.db, 4)
    async with site.db.transaction() as conn:
        await store.mark_failed(conn, failing, next_attempt_at="2030-01-01T09:00:00+00:00", error="451 4.3.0 Busy")
        await conn.execute("UPDATE outbox SET in_doubt = 2 WHERE id = ?", (held,))
        await store.mark_sent(conn, sent, db.now())
    admin = await site.as_user("adm")
    assert '<a class="govuk-service-navigation__link" href="/admin/outbox"' in (await admin.get("/admin/people")).text
    text = html.unescape((await admin.get("/admin/outbox")).text)
    assert rules.NOT_CONFIGURED in text, "the demo says why nothing is sent"
    rows = text[text.index("<tbody") :].split('<tr class="govuk-table__row">')[1:]
    assert ["(3)" in rows[0], "(2)" in rows[1], "(1)" in rows[2], "(0)" in rows[3]] == [True] * 4, "newest first"
    assert ">Sent<" in rows[0] and ">Held<" in rows[1] and rules.HELD in rows[1]
    assert ">Retrying<" in rows[2] and "Tried 1 time; the last answer was: 451 4.3.0 Busy" in rows[2]
    assert ">Waiting<" in rows[3] and "smgr@riverford.example" in rows[3]
    assert '<summary class="govuk-details__summary">' in rows[3] and "A handover waits for your endorsement." in rows[3]
    assert "Next try" not in text, "no next try is promised when nothing is sent"


async def test_the_outbox_is_read_a_page_at_a_time(site: Site) -> None:
    await queue(site.db, 30)
    admin = await site.as_user("adm")
    first = (await admin.get("/admin/outbox")).text
    assert first.count("A handover waits for you (") == 25 and "E-mails 1 to 25 of 30" in first
    assert 'href="/admin/outbox?page=2" rel="next"' in first and "(29)" in first and "(4)" not in first
    for asked in ("2", "99", "x"):
        second = (await admin.get(f"/admin/outbox?page={asked}")).text
        expected = 5 if asked != "x" else 25
        assert second.count("A handover waits for you (") == expected, asked
    last = (await admin.get("/admin/outbox?page=2")).text
    assert "E-mails 26 to 30 of 30" in last and 'rel="prev"' in last and "(0)" in last


async def test_the_administrator_sends_a_held_email_once_more_and_no_more(
    tmp_path: Path, site: Site, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    held, sent = await queue(site.db, 2)
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE outbox SET in_doubt = 2 WHERE id = ?", (held,))
        await store.mark_sent(conn, sent, db.now())
    admin = await site.as_user("adm")
    response = await admin.post("/admin/outbox", {"email_id": str(held)})
    assert (response.status_code, response.headers["location"]) == (303, "/admin/outbox?done=again")
    assert rules.SENT_AGAIN in (await admin.get(response.headers["location"])).text
    released = await row(site.db, held)
    assert released.in_doubt == rules.IN_DOUBT_LIMIT - 1 and released.next_attempt_at <= db.now()
    assert not rules.may_send(released.in_doubt + 1), "interrupted once more, it is held again"
    entries = [e.entry for e in await db.audit_entries(site.db.reader)]
    assert (entries[-1].action, entries[-1].actor_id, entries[-1].object_id) == (
        "send_email_again",
        site.world.users["adm"],
        held,
    )
    assert await Sender(site.db, smtp_settings(tmp_path, port)).deliver_due() == 1
    assert mailbox.message_ids() == {released.message_id: 1} and (await row(site.db, held)).sent_at


async def test_only_a_held_email_can_be_sent_once_more(site: Site) -> None:
    waiting, sent = await queue(site.db, 2)
    async with site.db.transaction() as conn:
        await store.mark_sent(conn, sent, db.now())
    admin = await site.as_user("adm")
    for email_id in (waiting, sent):
        response = await admin.post("/admin/outbox", {"email_id": str(email_id)})
        assert response.status_code == 400 and f'href="#email-{email_id}"' in response.text
        assert html.escape(rules.NOT_HELD, quote=False) in response.text
        assert (await row(site.db, email_id)).in_doubt == 0
    for nobody in ("999999", "x", ""):
        assert (await admin.post("/admin/outbox", {"email_id": nobody})).status_code == 404
    assert all(e.entry.action != "send_email_again" for e in await db.audit_entries(site.db.reader))
