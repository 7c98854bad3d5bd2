"""Telling people: each time a handover starts waiting on someone, and when a wait is due tomorrow or overdue.

`notify_step`, `notify_disagreement` and `notify_named` are called inside the transaction of the change that causes
them (`actions.handovers`), so a notification and its e-mail in the outbox are written if and only if the change is:
a refused step writes neither. Who is told and what they are told is `core.notifications`; a person with a work e-mail
address who has not chosen the daily summary gets an e-mail too, queued in the outbox for the sender (`service.mail`),
and one who has gets their notifications in one e-mail a day (`send_digests`). A sibling group's step tells each person
once for each child's handover, since each child's handover has its own page and link.

`remind` works out the reminders for waits due tomorrow and overdue (`core.deadlines.due`, in working days, on the
date in England), each written once however often it runs (`notifications.once_key` is unique); the service runs it
every hour (`keep_reminding`) and operators who prefer cron run `handover remind --now`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from itertools import groupby

from service import db
from service.checklist import Checklist
from service.core import disagreements as disagreement_rules
from service.core import notifications as rules
from service.core.clock import date_in_england, today
from service.core.deadlines import due
from service.core.errors import Invalid, NotFound, Refused
from service.core.workflow import Action, Actor, State, facts_for
from service.db import notifications as store
from service.db import outbox as outbox_store
from service.settings import Settings

log = logging.getLogger("handover")

Checklists = dict[tuple[str, int], Checklist]
REMIND_EVERY_SECONDS = 3600  # reminders are idempotent, so hourly costs nothing twice; digests go once a day
FIRST_RUN_SECONDS = 300  # after a restart, the first run waits until start-up's own work is done
PER_PAGE = 25


class Links:
    """Where the links in e-mails point (the service's address as people reach it) and the sender's address (which
    gives each Message-ID its domain), set once at start-up from the settings (`use_settings`)."""

    base_url = "http://127.0.0.1:8000"
    sender = ""
    # HANDOVER_NOTIFICATIONS=false: steps tell nobody (the load benchmark's server that measures the steps without
    # notifications); reminders and digests still run over what there is
    enabled = True
    # signs the links in e-mails that work without an account (an agency's acknowledgement): the settings' secret;
    # until it is set, a secret of this process's own, so that no link is ever signed with a known key
    secret = secrets.token_hex(32)


def use_settings(settings: Settings) -> Callable[[], None]:
    """Take the links, the sender and the switch from `settings`; returns what puts back the ones before (a process
    that runs one service after another, as the tests do, must not carry one's settings into the next)."""
    before = (Links.base_url, Links.sender, Links.enabled, Links.secret)
    Links.base_url = settings.link_base.rstrip("/")
    Links.sender = settings.mail_from
    Links.enabled = settings.notifications
    Links.secret = settings.secret_key

    def restore() -> None:
        Links.base_url, Links.sender, Links.enabled, Links.secret = before

    return restore


def _actor(contact: store.Contact) -> Actor:
    return Actor(
        user_id=contact.user_id,
        name=contact.name,
        worker_teams=frozenset(contact.worker_teams),
        manager_teams=frozenset(contact.manager_teams),
        absent=contact.absent,
    )


async def _people(conn: db.Conn, handover: db.Handover, extra: Sequence[int | None] = ()) -> list[store.Contact]:
    """Everyone who may be told about this handover: its author, receiver and named managers, every manager of
    either team, and `extra` (the manager one step up); enabled people only."""
    ids = [handover.author_id, handover.receiver_id, handover.named_endorser, handover.named_approver, *extra]
    return await store.contacts(
        conn, [i for i in ids if i is not None], (handover.sending_team_id, handover.receiving_team_id)
    )


async def _tell(
    conn: db.Conn,
    people: Sequence[store.Contact],
    user_ids: Sequence[int],
    event: rules.Event,
    handover: db.Handover,
    told: rules.Told,
    once_key: str | None = None,
) -> int:
    """A notification for each of `user_ids` and, for those who take one e-mail for each, its e-mail; returns how
    many were written (a reminder already written, by its once-only key, is not written again)."""
    if not Links.enabled:
        return 0
    by_id = {person.user_id: person for person in people}
    stamp = db.now()
    written = 0
    for user_id in user_ids:
        person = by_id.get(user_id)
        if person is None:  # disabled since, or a service account: never told
            continue
        key = None if once_key is None else f"{once_key}:{user_id}"
        notification_id = await store.add_notification(
            conn, user_id=user_id, handover_id=handover.id, kind=event.value, message=told.message, now=stamp,
            once_key=key,
        )  # fmt: skip
        if notification_id is None:
            continue
        written += 1
        # the daily summary is a manager's choice: someone who no longer manages a team gets each e-mail again
        if person.email and not (person.digest and person.manager_teams):
            email = told.email
            outbox_id = await outbox_store.queue_email(
                conn, user_id=user_id, recipient=person.email, subject=email.subject, body_text=email.body_text,
                body_html=email.body_html, now=stamp, sender=Links.sender,
            )  # fmt: skip
            await store.link_email(conn, [notification_id], outbox_id)
    return written


async def notify_step(conn: db.Conn, actor: Actor, handover_id: int, action: Action) -> int:
    """Inside the step's own transaction, after the handover is changed: tell whoever it now waits on (none for a
    step after which it waits on nobody new); returns how many were told."""
    handover = await db.handover_by_id(conn, handover_id)
    assert handover is not None, "called after changing the handover"
    event = rules.event_for(action, State(handover.state), receiver_named=handover.receiver_id is not None)
    if event is None:
        return 0
    facts = facts_for(handover, today())
    up = await store.one_step_up(conn, rules.waiting_team(facts))
    people = await _people(conn, handover, [up])
    told_ids = rules.recipients(event, facts, [_actor(p) for p in people], actor_id=actor.user_id, one_step_up=up)
    told = rules.told(event, child=handover.child_name, handover_id=handover.id, base_url=Links.base_url)
    return await _tell(conn, people, told_ids, event, handover, told)


async def notify_urgent(conn: db.Conn, actor: Actor, handover_id: int) -> int:
    """Inside the transaction in which the head of service authorises an urgent transfer: tell the receiving worker,
    who holds the case now, and whoever the handover waits on to be completed."""
    handover = await db.handover_by_id(conn, handover_id)
    assert handover is not None, "called after authorising the transfer"
    facts = facts_for(handover, today())
    up = await store.one_step_up(conn, rules.waiting_team(facts))
    people = await _people(conn, handover, [up])
    event = rules.Event.URGENT_CLOSED if handover.state == State.CLOSED else rules.Event.URGENT_AUTHORISED
    told_ids = rules.recipients(event, facts, [_actor(p) for p in people], actor_id=actor.user_id, one_step_up=up)
    told = rules.told(event, child=handover.child_name, handover_id=handover.id, base_url=Links.base_url)
    return await _tell(conn, people, told_ids, event, handover, told)


async def notify_released(conn: db.Conn, by: int | None, handover_id: int) -> int:
    """Inside the transaction that disables the worker named to receive this handover (`accounts.disable_person`):
    once it is back with the receiving team for another worker to take on, tell that team's managers."""
    handover = await db.handover_by_id(conn, handover_id)
    assert handover is not None, "called after releasing the receiver"
    if handover.state != State.ENDORSED or handover.receiver_id is not None:
        return 0  # still waiting on whoever it waited on before
    event = rules.Event.SENT_TO_TEAM
    facts = facts_for(handover, today())
    people = await _people(conn, handover)
    told_ids = rules.recipients(event, facts, [_actor(p) for p in people], actor_id=by)
    told = rules.told(event, child=handover.child_name, handover_id=handover.id, base_url=Links.base_url)
    return await _tell(conn, people, told_ids, event, handover, told)


async def notify_disagreement(conn: db.Conn, actor: Actor, handover_id: int, *, escalated: bool) -> int:
    """Inside the transaction that records or escalates a professional disagreement: tell every manager who may
    resolve it (and, for an escalation, the manager one step up from the sending team's managers)."""
    handover = await db.handover_by_id(conn, handover_id)
    assert handover is not None, "called after changing the handover"
    event = rules.Event.DISAGREEMENT_ESCALATED if escalated else rules.Event.DISAGREEMENT_RAISED
    facts = facts_for(handover, today())
    up = await store.one_step_up(conn, handover.sending_team_id) if escalated else None
    people = await _people(conn, handover, [up])
    told_ids = rules.recipients(event, facts, [_actor(p) for p in people], actor_id=actor.user_id, one_step_up=up)
    told = rules.told(event, child=handover.child_name, handover_id=handover.id, base_url=Links.base_url)
    return await _tell(conn, people, told_ids, event, handover, told)


async def notify_named(conn: db.Conn, by: Actor | None, handover_id: int, step: str, manager_id: int) -> int:
    """Inside the transaction in which an administrator names a manager for a step: tell that manager."""
    handover = await db.handover_by_id(conn, handover_id)
    assert handover is not None, "called after naming the manager"
    people = await store.contacts(conn, [manager_id])
    told_ids = [] if by is not None and by.user_id == manager_id else [manager_id]
    event = rules.Event.MANAGER_NAMED
    told = rules.told(event, child=handover.child_name, handover_id=handover.id, base_url=Links.base_url, step=step)
    return await _tell(conn, people, told_ids, event, handover, told)


# ---------------------------------------------------------------- reminders and daily summaries


async def remind(database: db.Database, checklists: Checklists, on: date) -> int:
    """Reminders for every wait due tomorrow or overdue on `on` (a date in England): to whoever the handover waits
    on and, when overdue, to the manager one step up; and for every professional disagreement overdue at its
    escalation stage, to the managers who may resolve it and the manager one step up. Each is written once, by its
    once-only key (`core.notifications.reminder_key`): running this twice writes nothing the second time. Returns
    how many were written; a run that wrote any has an audit entry."""
    written = 0
    async with database.transaction() as conn:
        for handover in await store.open_handovers(conn):
            written += await _remind_disagreements(conn, checklists, handover, on)
            limits = checklists[(handover.checklist_id, handover.checklist_version)].time_limits
            if limits is None:
                continue
            urgent_at = handover.urgent_at  # an urgent transfer runs on its own short clock
            wait = due(
                handover.state, date_in_england(handover.state_since), date_in_england(handover.started_at), limits,
                on, urgent_since=date_in_england(urgent_at) if urgent_at else None,
            )  # fmt: skip
            if wait is None or not (wait.overdue or wait.due_tomorrow):
                continue
            event = rules.Event.OVERDUE if wait.overdue else rules.Event.DUE_TOMORROW
            facts = facts_for(handover, on)
            up = await store.one_step_up(conn, rules.waiting_team(facts)) if wait.overdue else None
            people = await _people(conn, handover, [up])
            told_ids = rules.recipients(event, facts, [_actor(p) for p in people], actor_id=None, one_step_up=up)
            told = rules.told(
                event, child=handover.child_name, handover_id=handover.id, base_url=Links.base_url, wait=wait.label,
                overdue_by=wait.overdue_by,
            )  # fmt: skip
            key = rules.reminder_key(event, handover.id, wait.wait, wait.due_on)
            written += await _tell(conn, people, told_ids, event, handover, told, once_key=key)
        if written:
            await db.append_audit(
                conn, None, "remind", "notifications", None, {"on": on.isoformat(), "written": written}
            )
    return written


async def _remind_disagreements(conn: db.Conn, checklists: Checklists, handover: db.Handover, on: date) -> int:
    """A reminder for each open professional disagreement past its escalation stage's time limit on `on`: to every
    manager who may resolve or escalate it and to the manager one step up from the sending team, once per stage
    and date it reached it."""
    late = disagreement_rules.overdue(
        checklists[(handover.checklist_id, handover.checklist_version)], handover.open_disagreement_stages, on
    )
    if not late:
        return 0
    event = rules.Event.DISAGREEMENT_OVERDUE
    facts = facts_for(handover, on)
    up = await store.one_step_up(conn, handover.sending_team_id)
    people = await _people(conn, handover, [up])
    told_ids = rules.recipients(event, facts, [_actor(p) for p in people], actor_id=None, one_step_up=up)
    written = 0
    for item in late:
        told = rules.told(
            event, child=handover.child_name, handover_id=handover.id, base_url=Links.base_url, wait=item.stage
        )
        key = rules.reminder_key(event, handover.id, item.stage, item.since)
        written += await _tell(conn, people, told_ids, event, handover, told, once_key=key)
    return written


async def send_digests(database: db.Database, now: datetime) -> int:
    """One e-mail a day for each person who takes the daily summary (from 07:00 in England, `now` being aware): every
    notification of theirs not yet e-mailed, each a line and a link, none naming the child. A person already sent
    today's is sent nothing more until tomorrow. Returns how many e-mails were queued; a run that queued any has an
    audit entry."""
    since = rules.digest_from(now)
    if since is None:
        return 0
    sent = 0
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    async with database.transaction() as conn:
        pending = await store.pending_digests(conn, stamp)
        for user_id, group in groupby(pending, key=lambda item: item.user_id):
            items = list(group)
            if await store.had_digest_since(conn, user_id, rules.DIGEST_SUBJECT, since.isoformat(timespec="seconds")):
                continue
            lines = [
                (rules.DIGEST_LINES[rules.Event(item.kind)], rules.handover_link(Links.base_url, item.handover_id or 0))
                for item in items
            ]
            email = rules.digest_email(lines)
            outbox_id = await outbox_store.queue_email(
                conn, user_id=user_id, recipient=items[0].recipient, subject=email.subject, body_text=email.body_text,
                body_html=email.body_html, now=stamp, sender=Links.sender,
            )  # fmt: skip
            await store.link_email(conn, [item.id for item in items], outbox_id)
            sent += 1
        if sent:
            await db.append_audit(conn, None, "send_digests", "notifications", None, {"emails": sent})
    return sent


async def keep_reminding(
    database: db.Database, checklists: Checklists, every: float = REMIND_EVERY_SECONDS, first: float = FIRST_RUN_SECONDS
) -> None:
    """The service's own reminder run: reminders and the daily summaries `first` seconds after start-up (the
    service's start is not held up by them), then every `every` seconds, until cancelled. A failed run (the disk
    full, the file locked by another process) is logged and tried again at the next."""
    await asyncio.sleep(first)
    while True:
        try:
            await remind(database, checklists, today())
            await send_digests(database, datetime.now(UTC))
        except db.database_errors(OSError):
            log.exception("could not work out reminders; will try again")
        await asyncio.sleep(every)


# ---------------------------------------------------------------- a person's own list and choices


async def open_notification(database: db.Database, actor: Actor, notification_id: int) -> int | None:
    """The person opens one of their notifications: it is marked read; returns its handover's id. `NotFound` for a
    notification that is not theirs (nobody learns another person's exists)."""
    async with database.transaction() as conn:
        found = await store.notification_by_id(conn, notification_id)
        if found is None or found.user_id != actor.user_id:
            raise NotFound(f"notification {notification_id}")
        if found.read_at is None:
            await store.mark_read(conn, actor.user_id, [notification_id], db.now())
            await db.append_audit(conn, actor.user_id, "read_notification", "notification", notification_id, {})
        return found.handover_id


async def mark_all_read(database: db.Database, actor: Actor) -> int:
    """Every unread notification of this person marked read; returns how many."""
    async with database.transaction() as conn:
        changed = await store.mark_read(conn, actor.user_id, None, db.now())
        if changed:
            await db.append_audit(conn, actor.user_id, "read_notifications", "user", actor.user_id, {"read": changed})
        return changed


async def choose_delivery(database: db.Database, actor: Actor, choice: str) -> None:
    """The person chooses one e-mail for each notification ("each") or a daily summary ("digest", for team managers
    only: `Refused` for anyone else). `Invalid` keyed delivery for no choice."""
    if choice == "digest" and not actor.manager_teams:
        raise Refused([rules.DIGEST_FOR_MANAGERS])
    errors = rules.delivery_errors(choice, is_manager=bool(actor.manager_teams))
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        await store.set_email_digest(conn, actor.user_id, choice == "digest")
        await db.append_audit(conn, actor.user_id, "choose_email_delivery", "user", actor.user_id, {"choice": choice})
