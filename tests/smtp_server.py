"""A real SMTP server (aiosmtpd) on loopback, in the test process, that keeps every message it takes and can be told
to refuse: the sender is tested against what it talks to, never against a mock of itself."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """aiosmtpd's handler: what it took, and what it answers. `refuse_data`/`refuse_rcpt`: an SMTP reply such as
    '451 4.3.0 Try again later' given instead of accepting, until set back to None."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse_data: str | None = None
        self.refuse_rcpt: str | None = None
        self.delay = 0.0  # seconds taken over each message, as a real server takes some
        self.on_message: Callable[[EmailMessage], None] | None = None  # called once the message is kept
        self.lock = threading.Lock()
        self.taken = threading.Condition(self.lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=default)
        with self.taken:
            self.messages.append(message)  # type: ignore[arg-type]
            self.taken.notify_all()
        if self.on_message is not None:
            self.on_message(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(str(m["Message-ID"]) for m in self.messages)

    def wait_for(self, count: int, seconds: float) -> bool:
        """Wait until at least `count` messages have been taken (True), or `seconds` have passed (False)."""
        with self.taken:
            return self.taken.wait_for(lambda: len(self.messages) >= count, seconds)


@contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Mailbox, int]]:
    """The server on a free loopback port; `options` go to aiosmtpd's SMTP (authentication, for example)."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
