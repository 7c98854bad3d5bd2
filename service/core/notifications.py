"""Who is told, and what they are told, each time a handover starts waiting on someone, and when a wait is due
tomorrow or overdue. Pure: nothing here reads the store or knows the web.

A handover waits on whoever may take its next step (`WAITING_STEP`, asked of the state machine with
`workflow.eligible`, so the separation of duties decides who is told as it decides who may act). When nobody may
(the person is absent, or nobody is left in post), the managers of the team it waits on are told instead, and failing
them the manager one step up: the service manager of that team's service, else the head of service. A professional
disagreement waits on the managers of both teams (`Action.RESOLVE_DISAGREEMENT`); an escalated one, and an overdue
wait, is told to the manager one step up too. The person who took the step is never told of their own step.

Each person is told in the service's list of notifications (which may name the child: the service is
access-controlled) and, where they have a work e-mail address, by e-mail: a short sentence and a link, never the
child's name, case reference or any other detail, because council e-mail is often not secure enough for case data.
Every sentence is defined here once (`SENTENCES`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from enum import StrEnum

import msgspec

from service.core.clock import ENGLAND
from service.core.workflow import Action, Actor, Facts, State, eligible, is_receiving_manager

DIGEST_HOUR = 7  # the daily digest goes out once a day, from 07:00 in England


class Event(StrEnum):
    """What a person is told about: a handover began waiting on them, or one of their waits is due or overdue."""

    SUBMITTED = "submitted"  # waits for the sending team's manager to endorse it
    ENDORSED = "endorsed"  # waits for the receiving worker to acknowledge it
    SENT_TO_TEAM = "sent_to_team"  # endorsed to a team with no worker named: its managers see it is taken on
    RETURNED = "returned"  # back with the outgoing worker, with a query
    RETURNED_TO_RECEIVER = "returned_to_receiver"  # the receiving team's manager sent it back to the receiver
    ACKNOWLEDGED = "acknowledged"  # waits for the receiving team's manager to approve it
    DISAGREEMENT_RAISED = "disagreement_raised"
    DISAGREEMENT_ESCALATED = "disagreement_escalated"
    MANAGER_NAMED = "manager_named"  # an administrator named this manager for a step
    # the head of service moved the case before sign-off: the receiving worker now holds it, and whoever the handover
    # waits on must complete it (`workflow.urgent_refusals`)
    URGENT_AUTHORISED = "urgent_authorised"
    URGENT_CLOSED = "urgent_closed"  # the same, for a handover already acknowledged: authorising it closed it
    DUE_TOMORROW = "due_tomorrow"
    OVERDUE = "overdue"
    # a professional disagreement longer at its escalation stage than the time limits allow (core.disagreements)
    DISAGREEMENT_OVERDUE = "disagreement_overdue"


# The step each waiting state waits for: whoever may take it is who the handover waits on.
WAITING_STEP: dict[State, Action] = {
    State.DRAFT: Action.SUBMIT,
    State.RETURNED: Action.SUBMIT,
    State.SUBMITTED: Action.ENDORSE,
    State.ENDORSED: Action.ACKNOWLEDGE,
    State.ACKNOWLEDGED: Action.APPROVE,
}

# What each event says: (the list's sentence, which may name the child as {child}; the e-mail's, which never does).
# {wait} is the wait's label (`deadlines.WAIT_LABELS`), {days} how overdue in working days, {step} the manager step.
SENTENCES: dict[Event, tuple[str, str]] = {
    Event.SUBMITTED: (
        "The handover for {child} is waiting for your endorsement",
        "A case transfer handover is waiting for your endorsement",
    ),
    Event.ENDORSED: (
        "The handover for {child} is waiting for you to acknowledge it",
        "A case transfer handover is waiting for you to acknowledge it",
    ),
    Event.SENT_TO_TEAM: (
        "The handover for {child} is waiting for a worker in your team to take it on",
        "A case transfer handover is waiting for a worker in your team to take it on",
    ),
    Event.RETURNED: (
        "The handover for {child} was returned to you with a query",
        "A case transfer handover was returned to you with a query",
    ),
    Event.RETURNED_TO_RECEIVER: (
        "The handover for {child} was returned to you by the receiving team's manager",
        "A case transfer handover was returned to you by the receiving team's manager",
    ),
    Event.ACKNOWLEDGED: (
        "The handover for {child} is waiting for your approval",
        "A case transfer handover is waiting for your approval",
    ),
    Event.DISAGREEMENT_RAISED: (
        "A professional disagreement about the handover for {child} is waiting for a team manager to resolve or "
        "escalate it",
        "A professional disagreement about a case transfer handover is waiting for a team manager to resolve or "
        "escalate it",
    ),
    Event.DISAGREEMENT_ESCALATED: (
        "A professional disagreement about the handover for {child} was escalated and still needs resolving",
        "A professional disagreement about a case transfer handover was escalated and still needs resolving",
    ),
    Event.MANAGER_NAMED: (
        "An administrator named you to {step} the handover for {child}",
        "An administrator named you to {step} a case transfer handover",
    ),
    Event.URGENT_AUTHORISED: (
        "The head of service moved {child}'s case at once: the handover must now be completed after the transfer",
        "The head of service authorised an urgent transfer: a case transfer handover must now be completed after "
        "the transfer",
    ),
    Event.URGENT_CLOSED: (
        "The head of service moved {child}'s case at once, and its handover is now complete",
        "The head of service authorised an urgent transfer: a case has moved, and its handover is now complete",
    ),
    Event.DUE_TOMORROW: (
        "The handover for {child} is due tomorrow ({wait})",
        "A case transfer handover is due tomorrow ({wait})",
    ),
    Event.OVERDUE: (
        "The handover for {child} is overdue by {days} ({wait})",
        "A case transfer handover is overdue by {days} ({wait})",
    ),
    Event.DISAGREEMENT_OVERDUE: (
        "A professional disagreement about the handover for {child} is overdue at its stage ({wait}) and needs "
        "resolving or escalating",
        "A professional disagreement about a case transfer handover is overdue at its stage ({wait}) and needs "
        "resolving or escalating",
    ),
}

# A daily summary's line for each kind: the same as its own e-mail, without what changes by the day (how overdue,
# which wait, which step), which the handover's page shows.
DIGEST_LINES: dict[Event, str] = {
    **{event: emailed for event, (_, emailed) in SENTENCES.items()},
    Event.MANAGER_NAMED: "An administrator named you for a manager step of a case transfer handover",
    Event.DUE_TOMORROW: "A case transfer handover is due tomorrow",
    Event.OVERDUE: "A case transfer handover is overdue",
}

LINK_TEXT = "Open the handover in Handover"
PRIVACY_NOTE = "This email has no details of the child, to keep them safe: sign in to Handover to see the handover."
DIGEST_SUBJECT = "Your daily summary from Handover"
DIGEST_INTRO = "These case transfer handovers need you. Each link opens one in Handover."
# The person's choice on the settings page, as its radios name it.
DELIVERY_CHOICES: dict[str, str] = {"each": "One email for each notification", "digest": "A daily summary email"}
CHOOSE_DELIVERY = "Select how you want to get emails about notifications"
DELIVERY_QUESTION = "How do you want to get emails about notifications?"
DIGEST_FOR_MANAGERS = "Only team managers can choose a daily summary email"
# What the list says after a change, by the `done` its address carries.
DONE: dict[str, str] = {
    "read": "All your notifications are marked as read",
    "settings": "Your email settings are saved",
}


class Email(msgspec.Struct, frozen=True, kw_only=True):
    """One e-mail as the outbox keeps it: no child's name, case reference or detail in any part."""

    subject: str
    body_text: str
    body_html: str


class Told(msgspec.Struct, frozen=True, kw_only=True):
    """What one event says: the list's sentence (may name the child) and the e-mail."""

    message: str
    email: Email


def event_for(action: Action, new_state: State, *, receiver_named: bool) -> Event | None:
    """The event a workflow step causes, by the state it leads to (None: the handover waits on nobody new, as after
    approval, cancellation, a confirmation or an edit). A submission within one team goes straight to the receiver."""
    if action == Action.RETURN_TO_RECEIVER:
        return Event.RETURNED_TO_RECEIVER
    if action not in (Action.SUBMIT, Action.ENDORSE, Action.RETURN_TO_OUTGOING, Action.ACKNOWLEDGE):
        return None
    if new_state == State.ENDORSED and not receiver_named:
        return Event.SENT_TO_TEAM
    return {
        State.SUBMITTED: Event.SUBMITTED,
        State.ENDORSED: Event.ENDORSED,
        State.RETURNED: Event.RETURNED,
        State.ACKNOWLEDGED: Event.ACKNOWLEDGED,
    }.get(new_state)


def waiting_team(facts: Facts) -> int:
    """The team whose managers stand in when the person a handover waits on cannot act: the sending team while it
    is with the outgoing side (draft, returned, submitted), the receiving team after."""
    if facts.state in (State.DRAFT, State.RETURNED, State.SUBMITTED):
        return facts.sending_team_id
    return facts.receiving_team_id


def _team_managers(team_id: int, people: Sequence[Actor]) -> list[int]:
    return [person.user_id for person in people if team_id in person.manager_teams and not person.absent]


def waiting_on(facts: Facts, people: Sequence[Actor], *, one_step_up: int | None = None) -> list[int]:
    """Who the handover waits on in its state, among `people` (every enabled person on it or managing either team).

    Those who may take the next step (`workflow.eligible`); for a handover sent to a team with no worker named, the
    receiving team's managers; when nobody may (an absent worker, every manager excluded), the managers of the team
    it waits on (`waiting_team`), and failing them `one_step_up`. [] for a closed or cancelled handover."""
    step = WAITING_STEP.get(facts.state)
    if step is None:
        return []
    if step == Action.ACKNOWLEDGE and facts.receiver_id is None:
        found = [p.user_id for p in people if is_receiving_manager(facts, p) and not p.absent]
    else:
        found = [person.user_id for person in eligible(step, facts, list(people))]
    if not found:
        found = _team_managers(waiting_team(facts), people)
    if not found and one_step_up is not None:
        found = [one_step_up]
    return found


def deciders(facts: Facts, people: Sequence[Actor]) -> list[int]:
    """Who a professional disagreement waits on: every manager of either team (or named for a step) who may resolve
    or escalate it."""
    return [person.user_id for person in eligible(Action.RESOLVE_DISAGREEMENT, facts, list(people))]


def recipients(
    event: Event, facts: Facts, people: Sequence[Actor], *, actor_id: int | None, one_step_up: int | None = None
) -> list[int]:
    """Everyone told of `event` on this handover, each once, in order, never the person who caused it (`actor_id`).

    Step events and due-tomorrow reminders go to whoever the handover waits on (`waiting_on`); a disagreement to its
    deciders; an urgent transfer to the receiving and the outgoing worker and the receiving team's managers as well
    (the case moved between them, into that team); an
    overdue reminder and an escalation to the manager one step up as well: for a worker's wait, their own team's
    managers; for a manager's, `one_step_up` (the team's service manager, else the head of service)."""
    if event in (Event.DISAGREEMENT_RAISED, Event.DISAGREEMENT_ESCALATED, Event.DISAGREEMENT_OVERDUE):
        found = deciders(facts, people)
    elif event == Event.MANAGER_NAMED:
        raise ValueError("a named manager is told by name, not by role")
    else:
        found = waiting_on(facts, people, one_step_up=one_step_up)
    if event in (Event.URGENT_AUTHORISED, Event.URGENT_CLOSED):
        # the case is the receiver's now and no longer the outgoing worker's, and it has arrived in the receiving
        # team, whoever the handover waits on
        moved = {facts.receiver_id, facts.author_id}
        arrived = _team_managers(facts.receiving_team_id, people)
        found = [*(p.user_id for p in people if p.user_id in moved and not p.absent), *arrived, *found]
    if event == Event.OVERDUE and WAITING_STEP.get(facts.state) in (Action.SUBMIT, Action.ACKNOWLEDGE):
        # a worker's wait: one step up from them is their own team's managers
        found = [*found, *_team_managers(waiting_team(facts), people)]
    elif event in (Event.OVERDUE, Event.DISAGREEMENT_ESCALATED, Event.DISAGREEMENT_OVERDUE) and one_step_up is not None:
        found = [*found, one_step_up]
    return [user_id for user_id in dict.fromkeys(found) if user_id != actor_id]


def overdue_words(days: int) -> str:
    return f"{days} working day{'s'[: days != 1]}"


def sentence_for(event: Event, *, child: str | None, wait: str = "", overdue_by: int = 0, step: str = "") -> str:
    """The event's sentence: for the list, naming `child`; for an e-mail (`child` None), naming nobody."""
    listed, emailed = SENTENCES[event]
    template = emailed if child is None else listed
    wait_words = wait[:1].lower() + wait[1:]
    return template.format(child=child, wait=wait_words, days=overdue_words(overdue_by), step=step)


def handover_link(base_url: str, handover_id: int) -> str:
    """The address of the handover's page: `base_url` is the service's address as people reach it."""
    return f"{base_url.rstrip('/')}/handovers/{handover_id}/view"


def _html(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n{body}</body>\n</html>\n"
    )


def email_for(sentence: str, link: str) -> Email:
    """One event's e-mail: the sentence as subject and heading, a link with real text, the privacy note. Plain text
    and an HTML part with one heading, the language given, no images."""
    text = f"{sentence}.\n\n{LINK_TEXT}: {link}\n\n{PRIVACY_NOTE}\n"
    body = (
        f"<h1>{html.escape(sentence)}</h1>\n"
        f'<p><a href="{html.escape(link)}">{LINK_TEXT}</a></p>\n'
        f"<p>{html.escape(PRIVACY_NOTE)}</p>\n"
    )
    return Email(subject=sentence, body_text=text, body_html=_html(sentence, body))


def told(
    event: Event,
    *,
    child: str,
    handover_id: int,
    base_url: str,
    wait: str = "",
    overdue_by: int = 0,
    step: str = "",
) -> Told:
    """What `event` on this handover says in the list and by e-mail."""
    emailed = sentence_for(event, child=None, wait=wait, overdue_by=overdue_by, step=step)
    listed = sentence_for(event, child=child, wait=wait, overdue_by=overdue_by, step=step)
    return Told(message=listed, email=email_for(emailed, handover_link(base_url, handover_id)))


def digest_email(items: Sequence[tuple[str, str]]) -> Email:
    """One daily summary of several events: `items` are (e-mail sentence, link) pairs, oldest first; each link's
    text is its sentence."""
    lines = "\n".join(f"- {sentence}: {link}" for sentence, link in items)
    text = f"{DIGEST_INTRO}\n\n{lines}\n\n{PRIVACY_NOTE}\n"
    entries = "".join(
        f'<li><a href="{html.escape(link)}">{html.escape(sentence)}</a></li>\n' for sentence, link in items
    )
    body = (
        f"<h1>{DIGEST_SUBJECT}</h1>\n<p>{DIGEST_INTRO}</p>\n<ul>\n{entries}</ul>\n<p>{html.escape(PRIVACY_NOTE)}</p>\n"
    )
    return Email(subject=DIGEST_SUBJECT, body_text=text, body_html=_html(DIGEST_SUBJECT, body))


def reminder_key(event: Event, handover_id: int, wait: str, due_on: date) -> str:
    """A reminder's once-only key, before the person's id is added to it: one reminder of each kind per wait and
    due date, per person, however often reminders are worked out."""
    return f"{event.value}:{handover_id}:{wait}:{due_on.isoformat()}"


def digest_from(now: datetime) -> datetime | None:
    """When today's daily summary may go out (07:00 in England, as a UTC time), or None before then. `now` is aware."""
    local = now.astimezone(ENGLAND)
    start = datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=ENGLAND)
    return start.astimezone(UTC) if local >= start else None


def delivery_errors(choice: str, *, is_manager: bool) -> dict[str, str]:
    """The settings page's choice: one of `DELIVERY_CHOICES`; the digest only for a team manager."""
    if choice not in DELIVERY_CHOICES:
        return {"delivery": CHOOSE_DELIVERY}
    if choice == "digest" and not is_manager:
        return {"delivery": DIGEST_FOR_MANAGERS}
    return {}
