"""The sender: delivers the outbox over SMTP from inside the service process, durably.

Each e-mail is written to the outbox in the transaction of the change that causes it (`service.db.outbox`). The
sender takes one due e-mail at a time under a lease committed before anything is sent, hands it to the mail server
and records the answer in a transaction of its own:

- taken (lease committed) -> crash: the lease runs out and it is taken again; nothing had been sent;
- the server refuses it (a 4xx/5xx answer, a broken connection before the hand-over): tried again after a back-off
  (1 minute, doubling, at most an hour), kept in the outbox meanwhile;
- `in_doubt` committed, then the message handed over (SMTP DATA) -> crash before `sent` is committed: the server
  may have taken it. It is sent once more with the same Message-ID, and never a third time (`service.core.outbox`).

The whole conversation is bounded by `smtp_timeout_seconds` per step, and the lease is long enough to cover it, so
two senders (two service processes on one database) never hand over the same e-mail at once.
With no mail server in the settings (the demo) the sender does not run: e-mails wait in the outbox, and the
operator reads them on /admin/outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from service import db
from service.actions import outbox as delivery
from service.db.outbox import OutboxEmail
from service.settings import Settings

log = logging.getLogger("handover.mail")

POLL_SECONDS = 2.0  # how often the outbox is looked at (a read of one index entry) when nobody pokes the sender
STEPS_PER_TRY = 6  # connect, greet, TLS, sign in, envelope, hand-over: each may take the timeout
ACCEPTED_RECIPIENT = (250, 251)


def lease_for(settings: Settings) -> timedelta:
    """How long the sender keeps an e-mail it has taken: every step of a try at its timeout, and as long again for
    the transactions around them. A sender stopped mid-try (a crash) lets it go when this runs out."""
    return timedelta(seconds=2 * STEPS_PER_TRY * settings.smtp_timeout_seconds)


def message_for(email: OutboxEmail, sender: str) -> EmailMessage:
    """The e-mail as sent: plain text with an HTML alternative, its stored Message-ID, and the Date it was queued
    (so a resend after a crash is byte for byte the same message). Raises ValueError for a header that cannot be
    written (a line break in the subject or the address)."""
    message = EmailMessage(policy=SMTP)
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(datetime.fromisoformat(email.created_at))
    message["From"] = sender
    message["To"] = email.recipient
    message["Subject"] = email.subject
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies are not sent back to it
    message.set_content(email.body_text)
    message.add_alternative(email.body_html, subtype="html")
    return message


class HandOverRefused(Exception):
    """The server answered the hand-over (DATA) with a refusal: it did not take the message."""


class Sender:
    """One service process's sender. `run` until cancelled; `poke` to look at the outbox now."""

    def __init__(self, database: db.Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.lease = lease_for(settings)
        self._poked = asyncio.Event()
        self._stopping = False

    def poke(self) -> None:
        self._poked.set()

    def stop(self) -> None:
        """Finish the e-mail being sent, if any, and stop."""
        self._stopping = True
        self._poked.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.deliver_due()
            except Exception:  # the database or the thread pool: log it and look again later
                log.exception("the outbox could not be delivered; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poked.wait(), POLL_SECONDS)
            self._poked.clear()

    async def deliver_due(self) -> int:
        """Send every e-mail due now, one at a time over one connection; returns how many the server took."""
        sent = 0
        connection: smtplib.SMTP | None = None
        try:
            while not self._stopping and (email := await delivery.take_next_email(self.database, self.lease)):
                taken_at = time.monotonic()
                try:
                    message = message_for(email, self.settings.mail_from).as_bytes()
                    if connection is None:
                        connection = await asyncio.to_thread(self._connect)
                    await asyncio.to_thread(self._envelope, connection, email.recipient)
                    if time.monotonic() - taken_at > self.lease.total_seconds() / 2:
                        # so slow that the hand-over might outlast the lease: let the next try start afresh
                        raise TimeoutError("the mail server was too slow; the e-mail will be tried again")
                    await delivery.hand_over(self.database, email.id)
                    try:
                        await asyncio.to_thread(self._hand_over, connection, message)
                    except HandOverRefused as refused:
                        await delivery.record_failed_try(
                            self.database, email, str(refused), refused_after_hand_over=True
                        )
                        continue
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    await delivery.record_failed_try(
                        self.database, email, _describe(exc), refused_after_hand_over=False
                    )
                    _close(connection)  # a conversation that went wrong is not reused
                    connection = None
                    continue
                await delivery.record_sent(self.database, email)
                sent += 1
        finally:
            _close(connection)
        return sent

    # ---------------------------------------------------------------- the SMTP conversation (on a worker thread)

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        timeout = settings.smtp_timeout_seconds
        connection: smtplib.SMTP
        if settings.smtp_tls == "tls":
            connection = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        try:
            connection.ehlo()
            if settings.smtp_tls == "starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if settings.smtp_username:
                connection.login(settings.smtp_username, settings.smtp_password)
        except BaseException:
            _close(connection)
            raise
        return connection

    def _envelope(self, connection: smtplib.SMTP, recipient: str) -> None:
        code, answer = connection.mail(self.settings.mail_from)
        if code != 250:
            connection.rset()
            raise smtplib.SMTPSenderRefused(code, answer, self.settings.mail_from)
        code, answer = connection.rcpt(recipient)
        if code not in ACCEPTED_RECIPIENT:
            connection.rset()
            raise smtplib.SMTPRecipientsRefused({recipient: (code, answer)})

    @staticmethod
    def _hand_over(connection: smtplib.SMTP, message: bytes) -> None:
        try:
            code, answer = connection.data(message)
            if code != 250:  # smtplib raises for a refused DATA command, and returns the answer to the message
                raise smtplib.SMTPDataError(code, answer)
        except smtplib.SMTPDataError as exc:  # an answer, so a known refusal; anything else leaves it in doubt
            connection.rset()
            raise HandOverRefused(_describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        answer = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {answer}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {answer.decode(errors='replace')}" for code, answer in exc.recipients.values())
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()


@contextlib.asynccontextmanager
async def delivering(database: db.Database, settings: Settings) -> AsyncIterator[Sender | None]:
    """Run the sender for as long as the block (the app's lifespan), if a mail server is set; yields the sender
    (None without one). At the end it finishes the e-mail it is sending, waiting at most two steps' timeout; if
    cancelled mid-send after all, that e-mail is sent again when its lease runs out (see above)."""
    if not settings.smtp_configured:
        yield None
        return
    sender = Sender(database, settings)
    task = asyncio.create_task(sender.run())
    try:
        yield sender
    finally:
        sender.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 2 * settings.smtp_timeout_seconds)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
