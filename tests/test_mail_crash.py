"""Crash test for e-mail: the real service, sending its outbox to a real SMTP server, is killed (SIGKILL) while it
sends, even at the worst moment (the server has taken a message and the service has not recorded it). After each
restart every e-mail is delivered: none lost, none delivered more than twice, a resend with the same Message-ID."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from service import db
from service.db import outbox as store
from tests import live_service
from tests.smtp_server import Mailbox, smtp_server

pytestmark = pytest.mark.anyio
SENDER = "handover@riverford.example"
TIMEOUT = "0.3"  # seconds for each SMTP step: the lease (12 steps' worth) runs out 3.6 s after a crash


@pytest.fixture
def mail_server() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as running:
        yield running


def start_service(data: Path, smtp_port: int) -> subprocess.Popen[bytes]:
    """The service with its outbox sender; nothing here talks to its web port."""
    production = live_service.production(
        data, "m" * 40, HANDOVER_SMTP_HOST="127.0.0.1", HANDOVER_SMTP_PORT=str(smtp_port), HANDOVER_SMTP_TLS="none",
        HANDOVER_MAIL_FROM=SENDER, HANDOVER_SMTP_TIMEOUT_SECONDS=TIMEOUT,
        HANDOVER_BASE_URL="https://handover.riverford.example",
    )  # fmt: skip
    return live_service.serve(production(live_service.free_port()))


async def queue(data: Path, n: int) -> set[str]:
    """N e-mails in the outbox, as the changes that cause them would leave them; their Message-IDs."""
    database = db.SqliteDatabase(data / "handover.db")
    async with database.opened():
        async with database.transaction() as conn:
            ids = [
                await store.queue_email(
                    conn, user_id=None, recipient=f"manager{i}@riverford.example", subject=f"Handover {i} waits",
                    body_text=f"Handover {i} waits for you.", body_html=f"<p>Handover {i} waits for you.</p>",
                    now=db.now(), sender=SENDER,
                )
                for i in range(n)
            ]  # fmt: skip
        rows = await database.reader.execute_fetchall(
            f"SELECT message_id FROM outbox WHERE id IN ({','.join('?' * len(ids))})", ids
        )
    return {str(row[0]) for row in rows}


async def outbox_rows(data: Path) -> list[store.OutboxEmail]:
    async with db.open_read_only(data / "handover.db") as conn:
        return [db.record(row, store.OutboxEmail) for row in await conn.execute_fetchall("SELECT * FROM outbox")]


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


async def until(condition: object, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if condition():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return bool(condition())  # type: ignore[operator]


async def settled(data: Path) -> bool:
    """Every e-mail recorded as sent, or held after two hand-overs in doubt: nothing left for the sender to do."""
    return all(row.sent_at or row.in_doubt >= 2 for row in await outbox_rows(data))


async def run_until_settled(data: Path, port: int, mailbox: Mailbox, expected: set[str], seconds: float) -> None:
    """Start the service, wait until every expected Message-ID has arrived and the outbox is settled, and stop it."""
    process = start_service(data, port)
    try:
        for _ in range(int(seconds / 0.1)):
            if set(mailbox.message_ids()) >= expected and await settled(data):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"not delivered in {seconds} s: {len(mailbox.message_ids())} of {len(expected)}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            kill(process)


async def test_a_message_the_server_took_as_the_service_died_is_sent_once_more_and_never_a_third_time(
    tmp_path: Path, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    expected = await queue(tmp_path, 5)
    victim: dict[str, object] = {}
    process = start_service(tmp_path, port)

    def die_after_taking(message: EmailMessage) -> None:
        """The worst moment: the server has the message, the service has not heard so, and it dies."""
        victim.setdefault("message_id", str(message["Message-ID"]))
        if str(message["Message-ID"]) == victim["message_id"]:
            os.kill(process.pid, signal.SIGKILL)

    mailbox.on_message = die_after_taking
    try:
        assert await until(lambda: process.poll() is not None, 10), "killed as the server took the first e-mail"
        process = start_service(tmp_path, port)
        assert await until(lambda: process.poll() is not None, 10), "the resend after its lease should kill it again"
    finally:
        kill(process)
    mailbox.on_message = None
    await run_until_settled(tmp_path, port, mailbox, expected - {str(victim["message_id"])}, 10)
    counts = mailbox.message_ids()
    assert counts[str(victim["message_id"])] == 2, "taken twice by the server, each time with the same Message-ID"
    assert set(counts) == expected and all(counts[m] == 1 for m in expected - {str(victim["message_id"])})
    held = [row for row in await outbox_rows(tmp_path) if not row.sent_at]
    assert [(row.message_id, row.in_doubt) for row in held] == [(victim["message_id"], 2)], (
        "held, not sent a third time"
    )


async def test_every_email_arrives_once_or_twice_whenever_the_service_is_killed(
    tmp_path: Path, mail_server: tuple[Mailbox, int]
) -> None:
    mailbox, port = mail_server
    mailbox.delay = 0.01  # a message takes the server a moment, so that kills land while one is being sent
    expected = await queue(tmp_path, 40)
    rng = random.Random(os.environ.get("CRASH_SEED", "23"))
    for _ in range(3):
        taken = len(mailbox.messages)
        process = start_service(tmp_path, port)
        try:
            await until(lambda taken=taken: len(mailbox.messages) > taken, 10)  # sending has begun (or resumed)
            await asyncio.sleep(rng.uniform(0, 0.3))
        finally:
            kill(process)
    await run_until_settled(tmp_path, port, mailbox, expected, 12)
    counts = mailbox.message_ids()
    assert set(counts) == expected, "none lost"
    assert max(counts.values()) <= 2, "none sent more than twice"
