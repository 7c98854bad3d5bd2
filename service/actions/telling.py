"""Telling the child, the family and the other agencies of the new worker: every write, one transaction each with its
audit entry. The rules and messages are `core.telling`.

A handover whose checklist version has `[telling]` records who in the family was told (or why not), and tracks each
professional its multi-agency network lists from the day it is submitted (`track_agency_contacts`, called in the
submission's own transaction). A professional is told by the service's e-mail (`email_agency`, queued in the outbox
in the same transaction, with a signed single-use link to acknowledge it) or another way the worker records, or the
reason why not is recorded. Their acknowledgement through the link (`acknowledge_by_link`) is the one write an
anonymous request may make: the signature, with the service's secret, is its proof, and the link works once and
expires.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from service import db
from service.actions.handovers import Checklists, HandoverView, visible
from service.actions.notifications import Links
from service.core import telling as rules
from service.core.clock import date_in_england, today
from service.core.dates import parse_date
from service.core.errors import Invalid, NotFound, Refused
from service.core.report import working_days_back
from service.core.tokens import token_hash
from service.core.workflow import Actor
from service.db import outbox as outbox_store
from service.db import telling as store

_LINK_SALT = "agency-acknowledgement"  # a link signed for this purpose is no good for any other


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(Links.secret, salt=_LINK_SALT)


def acknowledgement_link(nonce: str) -> str:
    """The address in an agency's e-mail: the service's own address and the signed nonce."""
    return f"{Links.base_url}/agency-acknowledgements/{_signer().dumps(nonce)}"


def _nonce_of(token: str) -> str:
    """The nonce a link carries; `Refused` (`LINK_NOT_VALID`) when its signature does not hold (altered, truncated,
    or signed with another key), or the link is not exactly as the service wrote it (base64 leaves spare bits and
    padding that decoding ignores: only the service's own spelling of a link is that link)."""
    try:
        nonce = _signer().loads(token)
    except BadSignature:
        raise Refused([rules.LINK_NOT_VALID]) from None
    if not isinstance(nonce, str) or _signer().dumps(nonce) != token:
        raise Refused([rules.LINK_NOT_VALID])
    return nonce


async def _for_recording(
    conn: db.Conn, checklists: Checklists, actor: Actor, handover_id: int, *, telling_someone: bool = True
) -> HandoverView:
    """The handover, if this person may record who was told on it now; `telling_someone`: recording that someone was
    told of the new worker (not a reason not to tell them), which needs the handover to name one."""
    view = await visible(conn, checklists, actor, handover_id)
    reasons = rules.recording_refusals(view.facts, actor, required=view.checklist.telling is not None)
    if not reasons and telling_someone:
        reasons = rules.new_worker_refusals(view.facts)
    if reasons:
        raise Refused(reasons)
    return view


def _earliest_told(view: HandoverView) -> date:
    """The earliest day in England anyone may be recorded as told of the new worker: the whole transfer's time limit
    (working days, `TimeLimits.waits.transfer`) before the handover was started. The family may hear of the new
    worker at a meeting before the handover is written, but not at any earlier date than a transfer takes."""
    started = date_in_england(view.handover.started_at)
    limits = view.checklist.time_limits
    return working_days_back(started, limits.waits.transfer) if limits else started


async def _contact(conn: db.Conn, handover_id: int, contact_id: int) -> store.AgencyContact:
    contact = await store.agency_contact(conn, handover_id, contact_id)
    if contact is None:
        raise NotFound(rules.CONTACT_NOT_FOUND)
    if contact.settled:
        raise Refused([rules.ALREADY_SETTLED])
    return contact


async def record_family_told(
    database: db.Database, checklists: Checklists, actor: Actor, handover_id: int, *, told: str, method: str,
    told_on: str,
) -> int:  # fmt: skip
    """Record that someone in the family (or the child) was told of the new worker: who, how
    (`core.telling.FAMILY_METHODS`) and when (`told_on`, a date as the form or the API sends it, today or earlier in
    England). Returns the notice's id. `Invalid` keyed told/method/told_on; `Refused` for someone who may not
    (`core.telling.recording_refusals`); `NotFound` for a handover they may not see."""
    errors = rules.family_told_errors(told, method, told_on, today())
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        view = await _for_recording(conn, checklists, actor, handover_id)
        errors = rules.family_told_errors(told, method, told_on, today(), earliest=_earliest_told(view))
        if errors:
            raise Invalid(errors)
        day = db_date(told_on)
        notice_id = await store.add_family_notice(
            conn, handover_id, told=told.strip(), method=method, told_on=day, note="", user_id=actor.user_id,
            now=db.now(), told_worker_id=view.handover.receiver_id,
        )  # fmt: skip
        details = {"notice": notice_id, "told": told.strip(), "method": method, "told_on": day}
        await db.append_audit(conn, actor.user_id, "record_family_told", "handover", handover_id, details)
        return notice_id


async def record_family_not_told(
    database: db.Database, checklists: Checklists, actor: Actor, handover_id: int, *, reason: str
) -> int:
    """Record why the child and family are not told of the new worker (for example, telling them would put the child
    at risk); it stands in for telling them at closure. `Invalid` keyed reason; otherwise as `record_family_told`."""
    errors = rules.family_not_told_errors(reason)
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        await _for_recording(conn, checklists, actor, handover_id, telling_someone=False)
        notice_id = await store.add_family_notice(
            conn, handover_id, told="", method=rules.NOT_TOLD, told_on=None, note=reason.strip(),
            user_id=actor.user_id, now=db.now(), told_worker_id=None,
        )  # fmt: skip
        details = {"notice": notice_id, "reason": reason.strip()}
        await db.append_audit(conn, actor.user_id, "record_family_not_told", "handover", handover_id, details)
        return notice_id


async def email_agency(
    database: db.Database, checklists: Checklists, actor: Actor, handover_id: int, contact_id: int
) -> None:
    """Tell a professional of the change of worker by the service's e-mail, queued in the outbox in this transaction,
    with a link to acknowledge it that works once and expires after the checklist's `acknowledgement_link_days`
    (calendar days). The e-mail names no child (`core.telling.agency_email`). `Refused` when they are already told or
    have a reason recorded, or have no e-mail address; `NotFound` for a contact not on this handover."""
    async with database.transaction() as conn:
        view = await _for_recording(conn, checklists, actor, handover_id)
        contact = await _contact(conn, handover_id, contact_id)
        if not contact.email:
            raise Refused([rules.NO_EMAIL_ADDRESS])
        telling = view.checklist.telling
        assert telling is not None, "_for_recording refuses a version without [telling]"
        nonce = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(days=telling.acknowledgement_link_days)
        handover = view.handover
        assert handover.receiver_id is not None, "_for_recording refuses a handover that names no new worker"
        receiver = await db.user_by_id(conn, handover.receiver_id)
        assert receiver is not None, "a named receiver is a person"
        email = rules.agency_email(
            reference=handover.case_reference,
            new_worker=receiver.name,
            new_team=handover.receiving_team,
            new_worker_email=await store.work_email(conn, receiver.id),
            outgoing_worker=handover.author,
            link=acknowledgement_link(nonce),
            expires_on=date_in_england(expires.isoformat()),
        )
        stamp = db.now()
        outbox_id = await outbox_store.queue_email(
            conn, user_id=None, recipient=contact.email, subject=email.subject, body_text=email.body_text,
            body_html=email.body_html, now=stamp, sender=Links.sender,
        )  # fmt: skip
        done = await store.mark_agency_emailed(
            conn, contact_id, told_on=today().isoformat(), user_id=actor.user_id, worker_id=receiver.id,
            outbox_id=outbox_id, link_hash=token_hash(nonce), expires_at=expires.isoformat(timespec="seconds"),
        )  # fmt: skip
        if not done:
            raise Refused([rules.ALREADY_SETTLED])
        details = {"contact": contact_id, "agency": contact.agency, "name": contact.name, "email": outbox_id}
        await db.append_audit(conn, actor.user_id, "email_agency", "handover", handover_id, details)


async def record_agency_told(
    database: db.Database, checklists: Checklists, actor: Actor, handover_id: int, contact_id: int, *, method: str,
    told_on: str, note: str = "",
) -> None:  # fmt: skip
    """Record that a professional was told another way (`core.telling.AGENCY_METHODS`), on `told_on` (today or
    earlier in England), with an optional note. `Invalid` keyed method/told_on/note; otherwise as `email_agency`."""
    errors = rules.agency_told_errors(method, told_on, note, today())
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        view = await _for_recording(conn, checklists, actor, handover_id)
        errors = rules.agency_told_errors(method, told_on, note, today(), earliest=_earliest_told(view))
        if errors:
            raise Invalid(errors)
        day = db_date(told_on)
        contact = await _contact(conn, handover_id, contact_id)
        assert view.handover.receiver_id is not None, "_for_recording refuses a handover that names no new worker"
        if not await store.mark_agency_told(
            conn, contact_id, method=method, told_on=day, note=rules.optional_note(note), user_id=actor.user_id,
            worker_id=view.handover.receiver_id,
        ):  # fmt: skip
            raise Refused([rules.ALREADY_SETTLED])
        details = {"contact": contact_id, "agency": contact.agency, "name": contact.name, "method": method}
        await db.append_audit(conn, actor.user_id, "record_agency_told", "handover", handover_id, details | {"on": day})


async def record_agency_not_told(
    database: db.Database, checklists: Checklists, actor: Actor, handover_id: int, contact_id: int, *, reason: str
) -> None:
    """Record why a professional is not told (for example, no longer involved). `Invalid` keyed reason; otherwise
    as `email_agency`."""
    errors = rules.agency_not_told_errors(reason)
    if errors:
        raise Invalid(errors)
    async with database.transaction() as conn:
        await _for_recording(conn, checklists, actor, handover_id, telling_someone=False)
        contact = await _contact(conn, handover_id, contact_id)
        if not await store.mark_agency_not_told(conn, contact_id, reason=reason.strip(), user_id=actor.user_id):
            raise Refused([rules.ALREADY_SETTLED])
        details = {"contact": contact_id, "agency": contact.agency, "name": contact.name, "reason": reason.strip()}
        await db.append_audit(conn, actor.user_id, "record_agency_not_told", "handover", handover_id, details)


async def contact_for_link(conn: db.Conn, token: str) -> store.AgencyContact:
    """The agency contact a link in an e-mail is for, if it can still be used: `Refused` with the message its page
    shows when the signature does not hold (`LINK_NOT_VALID`), it was used (`LINK_USED`), it has expired
    (`LINK_EXPIRED`), or the handover is no longer open (`LINK_CLOSED`). Reads only: opening the link stores nothing
    (mail scanners open links), pressing its button does (`acknowledge_by_link`)."""
    contact = await store.agency_contact_by_link(conn, token_hash(_nonce_of(token)))
    if contact is None:
        raise Refused([rules.LINK_NOT_VALID])
    if contact.acknowledged_at is not None:
        raise Refused([rules.LINK_USED])
    if contact.link_expires_at is None or contact.link_expires_at <= db.now():
        raise Refused([rules.LINK_EXPIRED])
    handover = await db.handover_by_id(conn, contact.handover_id)
    if handover is None or handover.state == "cancelled":
        raise Refused([rules.LINK_CLOSED])  # after closure an acknowledgement still says they were told
    return contact


async def acknowledge_by_link(database: db.Database, token: str) -> store.AgencyContact:
    """The professional acknowledges the change of worker through the signed link in their e-mail, with no account:
    once, before it expires (`contact_for_link`'s refusals), audited with no actor. Returns the contact as it was."""
    async with database.transaction() as conn:
        contact = await contact_for_link(conn, token)
        assert contact.link_hash is not None, "found by its link"
        if not await store.use_acknowledgement_link(conn, contact.link_hash, now=db.now()):
            raise Refused([rules.LINK_USED])  # another click got there first, or it expired in between
        details = {"contact": contact.id, "agency": contact.agency, "name": contact.name, "through": "signed link"}
        await db.append_audit(conn, None, "agency_acknowledged", "handover", contact.handover_id, details)
        return contact


def db_date(given: str) -> str:
    """A date as the form or the API sends it, validated already, as stored (ISO)."""
    day = parse_date(given)
    assert day is not None, "validated before"
    return day.isoformat()
