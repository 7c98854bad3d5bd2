"""The child, the family and the other agencies are told of the new worker: the rules, and every message a person
meets about it.

Councils' transfer procedures ask that the child and family are told in advance, in a way the child understands, with a
letter naming the new worker (Bexley, Guernsey, Rochdale), and that every professional on the plan is told (Guernsey,
Rochdale and Teeswide list each agency). A checklist version with a `[telling]` table (`checklist.Telling`) makes both
records of the handover, not answers in it: someone in the family was told (when and how), or the reason why not is
recorded; and each professional its multi-agency network lists becomes an agency contact when the handover is
submitted (`contacts_from_answers`), told by the service's e-mail or another way, or with the reason why not. The
transfer cannot close until both hold (`closure_refusals`, read by `workflow.what_is_missing`). Earlier versions keep
their own answers about telling, and these rules do not apply to them.

Pure: no web, no SQL. Dates are dates in England.
"""

from __future__ import annotations

import re
from datetime import date
from html import escape

import msgspec

from service.checklist import Checklist
from service.core import validation
from service.core.answers import SectionAnswers
from service.core.dates import date_problem
from service.core.text import EMAIL_FORMAT_MESSAGE, is_blank, is_email_address
from service.core.workflow import (
    OPEN_STATES,
    SERVICE_ACCOUNT_REFUSAL,
    Actor,
    Facts,
    absent_refusals,
    is_party,
    may_view,
)

# How the family was told: the ways the procedures name.
FAMILY_METHODS: dict[str, str] = {"letter": "Letter", "visit": "Visit", "phone": "Phone call"}
NOT_TOLD = "not_told"  # a family notice that records why they are not (yet) told, in place of a method

# How a professional was told another way than the service's own e-mail ("email").
AGENCY_METHODS: dict[str, str] = {
    "phone": "Phone call",
    "meeting": "At a meeting",
    "letter": "Letter",
    "own_email": "Their own secure e-mail",
}
BY_THE_SERVICE = "email"  # told by the service's e-mail, with a link to acknowledge it
AGENCY_METHOD_LABELS: dict[str, str] = {BY_THE_SERVICE: "E-mail from this service", **AGENCY_METHODS}

TOLD_MAX = 200  # who in the family was told: a name and relationship, one line
NOTE_MAX = 2000  # a reason not told, or what was said

# What stops the transfer closing: the messages the state machine, the pages, the API and the report all use.
FAMILY_NOT_TOLD = "Record that the child and family have been told of their new worker, or why not"


def agency_not_told(name: str, agency: str) -> str:
    """What stops closure for one professional on the plan, named with their agency."""
    return f"Record that {name} ({agency}) has been told of the new worker, or why not"


# What a person meets on the pages and the API when they may not record telling.
NOT_A_PARTY = "Only the workers and team managers on this handover can record who has been told"
NOT_OPEN = "This handover is closed or cancelled: who was told can no longer be changed"
NO_TELLING = "This handover's checklist version records who was told in its own answers"
CONTACT_NOT_FOUND = "There is no such professional on this handover"
ALREADY_SETTLED = "This professional's telling is already recorded"
NO_EMAIL_ADDRESS = "This professional has no e-mail address on the handover: record how they were told instead"
NOT_SUBMITTED = "The professionals are taken from the multi-agency network when the handover is submitted"

# The acknowledgement link in an agency's e-mail, as its page says when it cannot be used.
LINK_NOT_VALID = "This link is not valid. Check you copied the whole link from the e-mail."
LINK_USED = "This link has already been used: the change of worker is already acknowledged."
LINK_EXPIRED = "This link has expired. Contact the social worker named in the e-mail to confirm you were told."
LINK_CLOSED = "This handover is no longer open, so there is nothing to acknowledge."


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """A professional on the child's plan as a row of the multi-agency network states them. `key` tells the same
    row apart on a later submission (agency and name, in any case and spacing)."""

    agency: str  # the agency's label (or, for "Other", the agency the worker named)
    name: str
    role: str
    email: str  # "" when they have none: they are told another way
    key: str


def contact_key(agency: str, name: str) -> str:
    return " ".join(agency.split()).casefold() + "\x1f" + " ".join(name.split()).casefold()


def contacts_from_answers(checklist: Checklist, answers: dict[str, SectionAnswers]) -> list[Contact]:
    """Each professional the checklist's multi-agency network lists, in order; [] where the checklist has no
    `[telling.agencies]` or the answers list none."""
    rows_at = checklist.telling.agencies if checklist.telling else None
    agency_field = checklist.agency_field("agency")
    if rows_at is None or agency_field is None or rows_at.section not in answers:
        return []
    found: list[Contact] = []
    seen: set[str] = set()
    for row in answers[rows_at.section].groups.get(rows_at.group, []):

        def text(field_id: str, row: dict[str, str | list[str]] = row) -> str:
            value = row.get(field_id, "")
            return " ".join(value.split()) if isinstance(value, str) else ""

        name = text(rows_at.name)
        if not name:
            continue
        chosen = text(rows_at.agency)
        agency = agency_field.option_label(chosen)
        other = text("agency_name")
        if chosen == "other" and other:
            agency = other
        key = contact_key(agency, name)
        if key in seen:
            continue
        seen.add(key)
        email = text(rows_at.email)
        found.append(
            Contact(
                agency=agency,
                name=name,
                role=text(rows_at.role),
                email=email if is_email_address(email) else "",
                key=key,
            )
        )
    return found


class Status(msgspec.Struct, frozen=True, kw_only=True):
    """Who has been told, as far as closure is concerned. `required`: the checklist version has `[telling]`;
    `family_done`: someone in the family was told, or the reason why not is recorded; `agencies_waiting`: each
    professional neither told nor with a reason, as "name (agency)" in the order they were listed."""

    required: bool = False
    family_done: bool = True
    agencies_waiting: tuple[tuple[str, str], ...] = ()  # (name, agency)


def closure_refusals(status: Status) -> list[str]:
    """What stops the transfer closing until the family and every agency are told (or why not is recorded)."""
    if not status.required:
        return []
    found = [] if status.family_done else [FAMILY_NOT_TOLD]
    return found + [agency_not_told(name, agency) for name, agency in status.agencies_waiting]


def status_of(checklist: Checklist, family_told: bool, agencies_waiting: str) -> Status:
    """The status from what the store keeps: whether any family notice is recorded, and each agency contact
    neither told nor with a reason as "name<US>agency" joined by <RS> (`db.Handover.agencies_waiting`)."""
    if checklist.telling is None:
        return Status()
    waiting = tuple(
        (name, agency)
        for name, _, agency in (item.partition("\x1f") for item in agencies_waiting.split("\x1e") if item)
    )
    return Status(required=True, family_done=family_told or not checklist.telling.family, agencies_waiting=waiting)


def missing(checklist: Checklist, family_told: bool, agencies_waiting: str) -> tuple[str, ...]:
    """`closure_refusals` from what the store keeps (`status_of`): the state machine's `Facts.telling_missing`."""
    return tuple(closure_refusals(status_of(checklist, family_told, agencies_waiting)))


def family_told_errors(
    told: str, method: str, told_on: str, today: date, *, earliest: date | None = None
) -> dict[str, str]:
    """A record that someone in the family was told: who (one line, at most `TOLD_MAX`), how (`FAMILY_METHODS`) and
    when (a real date, today or earlier, in England, and not before `earliest`: the whole transfer's time limit before
    the handover was started). Messages keyed by field: told, method, told_on."""
    errors = validation.text_errors(
        "told", told, missing="Enter who was told, for example ‘Ms Ashford (mother)’ or ‘Jamie (the child)’",
        limit=TOLD_MAX, what="Who was told", one_line=True,
    ) or _names_someone(told)  # fmt: skip
    if method not in FAMILY_METHODS:
        errors["method"] = "Select how they were told"
    errors |= _told_on_errors(told_on, today, earliest)
    return errors


def family_not_told_errors(reason: str) -> dict[str, str]:
    """A reason the family is not told (for example, telling them would put the child at risk): given, at most
    `NOTE_MAX` characters. Keyed "reason"."""
    return validation.text_errors(
        "reason", reason, missing="Enter why the child and family have not been told", limit=NOTE_MAX,
        what="The reason",
    ) or _reason_says_why(reason)  # fmt: skip


def agency_told_errors(
    method: str, told_on: str, note: str, today: date, *, earliest: date | None = None
) -> dict[str, str]:
    """A record that a professional was told another way: how (`AGENCY_METHODS`), when (today or earlier, in
    England, not before `earliest` as `family_told_errors`), and an optional note (at most `NOTE_MAX`). Keyed method,
    told_on, note."""
    errors: dict[str, str] = {}
    if method not in AGENCY_METHODS:
        errors["method"] = "Select how they were told"
    errors |= _told_on_errors(told_on, today, earliest)
    if not is_blank(note):  # optional: a note that shows nothing is no note
        errors |= validation.text_errors("note", note, missing="", limit=NOTE_MAX, what="The note")
    return errors


def agency_not_told_errors(reason: str) -> dict[str, str]:
    """A reason a professional is not told (for example, they are no longer involved). Keyed "reason"."""
    return validation.text_errors(
        "reason", reason, missing="Enter why this professional has not been told", limit=NOTE_MAX, what="The reason"
    ) or _reason_says_why(reason)


# A reason stands in for telling someone at closure, so it must say why: marks, letters repeated or one word are not
# a reason. It needs this many different words of two or more letters each.
REASON_MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]{2,}")


def _reason_says_why(reason: str) -> dict[str, str]:
    words = {word.casefold() for word in _WORD.findall(reason) if len(set(word.casefold())) > 1}
    if len(words) < REASON_MIN_WORDS:
        return {"reason": f"The reason must say why, in at least {REASON_MIN_WORDS} different words"}
    return {}


def _names_someone(told: str) -> dict[str, str]:
    """Who was told must name someone: letters, not only marks."""
    if not _WORD.search(told):
        return {"told": "Enter who was told, by name or by who they are, for example ‘Ms Ashford (mother)’"}
    return {}


def optional_note(note: str) -> str:
    """An optional note as kept: trimmed, and empty when it shows nothing (`text.is_blank`)."""
    return "" if is_blank(note) else note.strip()


def email_errors(email: str) -> dict[str, str]:
    """An address to tell a professional at: shaped like an e-mail address. Keyed "email"."""
    if is_blank(email):
        return {"email": NO_EMAIL_ADDRESS}
    return {} if is_email_address(email) else {"email": EMAIL_FORMAT_MESSAGE}


def _told_on_errors(told_on: str, today: date, earliest: date | None) -> dict[str, str]:
    if is_blank(told_on.replace("/", "")):
        return {"told_on": "Enter the date they were told"}
    not_before = (earliest, "a transfer's time limit before the handover was started") if earliest else None
    problem = date_problem("The date they were told", told_on, today, not_in_future=True, not_before=not_before)
    return {"told_on": problem[0]} if problem else {}


# Nobody is told of a new worker the handover does not yet name: the letter and the e-mail name them.
NO_NEW_WORKER = (
    "The new worker is not named yet: record who was told once the receiving team's manager names them, or the "
    "receiving worker takes the handover on"
)
TOLD_OF_PREVIOUS_WORKER = "Told of a worker the handover no longer names: tell them of the new one"


def new_worker_refusals(facts: Facts) -> list[str]:
    """Why nobody can be recorded as told of the new worker yet: the handover names none (it is addressed to a team).
    A reason not to tell someone needs no worker."""
    return [NO_NEW_WORKER] if facts.receiver_id is None else []


class AgencyEmail(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    body_text: str
    body_html: str


def agency_email(
    *, reference: str, new_worker: str, new_team: str, new_worker_email: str, outgoing_worker: str, link: str,
    expires_on: date,
) -> AgencyEmail:  # fmt: skip
    """The e-mail that tells a professional of the change of worker. It names no child: the agency knows the child by
    the council's reference they already hold, and an e-mail may be read by anyone it reaches."""
    lines = [
        "Children's social care is changing the social worker for a child you work with.",
        "",
        f"The child's reference: {reference}",
        f"New social worker: {new_worker}, {new_team}" + (f" ({new_worker_email})" if new_worker_email else ""),
        f"Until the transfer is completed, {outgoing_worker} remains the allocated worker.",
        "",
        "Please confirm you have received this by opening the link below and pressing the button on that page:",
        link,
        f"The link works once, until {expires_on.day} {expires_on:%B %Y}.",
    ]
    html = "".join(f"<p>{escape(line)}</p>" for line in lines[:7] if line)
    html += f'<p><a href="{escape(link, quote=True)}">Confirm you have been told</a></p><p>{escape(lines[-1])}</p>'
    return AgencyEmail(
        subject=f"Change of social worker for the child with reference {reference}",
        body_text="\n".join(lines) + "\n",
        body_html=html,
    )


def recording_refusals(facts: Facts, actor: Actor, *, required: bool) -> list[str]:
    """Why this person may not record who was told on this handover now: only its workers and team managers, who
    may read it, while it is open, for a checklist version that asks (`required`); never a service account."""
    if not required:
        return [NO_TELLING]
    if actor.is_service:
        return [SERVICE_ACCOUNT_REFUSAL]
    absent = absent_refusals(actor)
    if absent:
        return absent
    if not (is_party(facts, actor) and may_view(facts, actor)):
        return [NOT_A_PARTY]
    if facts.state not in OPEN_STATES:
        return [NOT_OPEN]
    return []


# ---------------------------------------------------------------- what the pages and the API say of each record

# How a professional was told another way, as a sentence goes on: "Told by phone on 3 March 2026".
AGENCY_TOLD_WORDS: dict[str, str] = {
    "phone": "by phone",
    "meeting": "at a meeting",
    "letter": "by letter",
    "own_email": "by their own secure e-mail",
}
FAMILY_TOLD_WORDS: dict[str, str] = {"letter": "by letter", "visit": "on a visit", "phone": "by phone"}

# A professional's status, as the API names it (`contact_status`).
CONTACT_STATUSES = (
    "not_yet_told",
    "email_queued",
    "emailed",
    "told",
    "acknowledged",
    "not_told",
    "told_of_previous_worker",
)


def _on(day: date | None) -> str:
    return f" on {day.day} {day:%B %Y}" if day else ""


def contact_status(
    *, told_method: str | None, told_on: date | None, email_sent_on: date | None, acknowledged_on: date | None,
    not_told_reason: str | None, told_of_previous_worker: bool = False,
) -> tuple[str, str]:  # fmt: skip
    """A professional's status as (the API's name from `CONTACT_STATUSES`, the words a page shows). Dates are dates
    in England: `told_on` as recorded, `email_sent_on` the day the outbox delivered the service's e-mail (None while
    it waits to be sent), `acknowledged_on` the day they pressed the button in their e-mail's link."""
    if not_told_reason is not None:
        return "not_told", f"Not told: {not_told_reason}"
    if told_method is None:
        return "not_yet_told", "Not yet told"
    if told_of_previous_worker:
        return "told_of_previous_worker", TOLD_OF_PREVIOUS_WORKER
    if acknowledged_on is not None:
        return "acknowledged", "Acknowledged" + _on(acknowledged_on)
    if told_method == BY_THE_SERVICE:
        if email_sent_on is None:
            queued = f" (queued{_on(told_on)})" if told_on else ""
            return "email_queued", f"E-mail waiting to be sent{queued}: they count as told once it is delivered"
        return "emailed", "E-mailed" + _on(email_sent_on)
    return "told", "Told " + AGENCY_TOLD_WORDS.get(told_method, told_method) + _on(told_on)


def family_notice_words(
    *, told: str, method: str, told_on: date | None, note: str, worker: str | None = None, current: bool = True
) -> str:
    """One family notice as a page shows it: who was told, how and when, and of which new worker (`worker`), saying
    so when the handover names another worker now (`current` False); or the reason they were not told."""
    if method == NOT_TOLD:
        return f"Not told: {note}"
    words = (
        f"{told}, told {FAMILY_TOLD_WORDS.get(method, method)}" + _on(told_on) + (f", of {worker}" if worker else "")
    )
    return words if current else f"{words}. {TOLD_OF_PREVIOUS_WORKER}"


def telling_line(missing: tuple[str, ...]) -> str:
    """One line for the handover's page from what still stops closure (`Facts.telling_missing`): who is still to
    be told, or that nobody is."""
    family = FAMILY_NOT_TOLD in missing
    agencies = len(missing) - family
    if not missing:
        return "everyone has been told, or why not is recorded"
    still = (["the child and family"] if family else []) + (
        [f"{agencies} professional{'s'[: agencies != 1]} on the plan"] if agencies else []
    )
    return "still to tell (or record why not): " + " and ".join(still)


# After a record is made, the banner on the "Who has been told" page (`?done=`, post/redirect/get).
RECORDED: dict[str, str] = {
    "family-told": "Recorded: the child and family have been told",
    "family-not-told": "Recorded: why the child and family have not been told",
    "emailed": "Recorded: the e-mail to the professional is on its way, with a link to confirm they have been told",
    "agency-told": "Recorded: how the professional was told",
    "agency-not-told": "Recorded: why the professional has not been told",
}

# The signed link's own page (no account: the person holds the link).
LINK_HEADING = "Confirm you have been told of the new social worker"
LINK_THANKS = "Thank you: you have confirmed you were told of the new social worker"


_SIGNED_LINK = re.compile(r"(/agency-acknowledgements/)[A-Za-z0-9_.-]+")
LINK_WITHHELD = "[the professional's own link, not shown]"


def signed_links_withheld(text: str) -> str:
    """An e-mail's text as the administrator's outbox shows it: each agency's acknowledgement link withheld, since
    whoever holds the link can acknowledge in the professional's name (the outbox keeps it only to send it)."""
    return _SIGNED_LINK.sub(lambda found: found.group(1) + LINK_WITHHELD, text)
