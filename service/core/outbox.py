"""E-mail delivery's rules: how long a failed e-mail waits before the next try, when an e-mail is not sent again,
and the words the operator's outbox page uses for each e-mail's state.

An e-mail may be handed to the mail server and the service stop before it learns the answer: the server may have
taken it. Each such hand-over is counted (`in_doubt`); an e-mail is sent again after one, never after two, so that
nobody receives the same e-mail (the same Message-ID) more than twice.
"""

from __future__ import annotations

from datetime import timedelta

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
IN_DOUBT_LIMIT = 2  # hand-overs whose answer is unknown, after which an e-mail is not sent again
ERROR_MAX = 300  # characters of the mail server's answer kept with the e-mail

NOT_CONFIGURED = (
    "No mail server is set up (HANDOVER_SMTP_HOST), so e-mails are not sent: they are kept here for you to read."
)
IN_DOUBT = "The service stopped while the mail server was taking this e-mail: it may have been delivered."
HELD = (
    "Not sent again: the service stopped twice while the mail server was taking this e-mail, and it may have "
    "been delivered twice. Ask the person whether it arrived; if it did not, send it once more."
)
MAYBE_TWICE = "It may have arrived twice: the service stopped once while the mail server was taking it."
SENT_AGAIN = "The e-mail will be sent once more"
NOT_HELD = "This e-mail is no longer held: it has been sent, or will be tried again without you"


def retry_delay(failures: int) -> timedelta:
    """How long to wait after the `failures`-th failed try (1 or more): 1 minute, doubling, at most 1 hour."""
    if failures < 1:
        raise ValueError("failures counts failed tries, from 1")
    if failures > 7:  # 2**6 minutes is already over the cap; no need to build large numbers
        return LONGEST_RETRY
    delay: timedelta = FIRST_RETRY * 2 ** (failures - 1)
    return min(delay, LONGEST_RETRY)


def may_send(in_doubt: int) -> bool:
    """Whether an e-mail not yet recorded as sent may be handed to the mail server (again)."""
    return in_doubt < IN_DOUBT_LIMIT


def short_error(text: str) -> str:
    """The mail server's answer or the connection's error, on one line and at most `ERROR_MAX` characters."""
    line = " ".join(text.split())
    return line if len(line) <= ERROR_MAX else line[: ERROR_MAX - 1] + "…"


def after_release() -> int:
    """The `in_doubt` count an administrator's "send it once more" leaves: one more hand-over in doubt holds it
    again, so each decision of theirs sends it at most once more."""
    return IN_DOUBT_LIMIT - 1


def state(*, sent_at: str | None, attempts: int, in_doubt: int) -> tuple[str, str]:
    """The state of one e-mail for the operator, and its GOV.UK tag colour: Sent, Waiting, Retrying or Held."""
    if sent_at:
        return "Sent", "green"
    if not may_send(in_doubt):
        return "Held", "red"
    if attempts or in_doubt:
        return "Retrying", "yellow"
    return "Waiting", "grey"
