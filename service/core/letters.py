"""The letter telling the family, or the child, of their new social worker: which letter, the letter form's rules, and
the letter filled in from the handover. Every message a person meets about letters is here.

Councils' transfer procedures ask that the child and family are told in advance, in a way the child understands, with
a letter naming the new worker (Bexley, Guernsey, Rochdale). The texts are the council's (`service.letters`, the
newest file in `checklists/letters/`); a child up to the file's `younger_child_up_to_age` on the letter's date gets the
letter in plain, short words. Only a checklist version that records who was told (`[telling]`) has letters, and only
those who may record who was told (`core.telling.recording_refusals`) write one.

Pure: no web, no SQL. Dates are dates in England.
"""

from __future__ import annotations

from datetime import date, timedelta
from string import Template

import msgspec

from service.core import validation
from service.core.answers import SectionAnswers
from service.core.dates import date_problem, parse_date
from service.core.telling import recording_refusals
from service.core.workflow import Actor, Facts
from service.letters import Letters

# Who the letter is to, as the form offers it; the child's letter is chosen by their age (`letter_kind`).
RECIPIENTS: dict[str, str] = {"family": "A parent or carer", "child": "The child"}
FAMILY, CHILD = "family", "child"

# The form's fields, as posted (the date as three boxes, `<name>-day`, `<name>-month`, `<name>-year`).
LETTER_FIELD = "letter"
ADDRESSEE_FIELD = "addressee"
RESPONSIBLE_FROM_FIELD = "responsible_from"
CONTACT_FIELD = "contact"
FIELD_LABELS: dict[str, str] = {
    LETTER_FIELD: "Who is the letter to?",
    ADDRESSEE_FIELD: "Who should the letter be addressed to?",
    RESPONSIBLE_FROM_FIELD: "From what date is the new worker responsible?",
    CONTACT_FIELD: "How can they contact the new worker?",
}

# Each single answer of the form, as the message about one sent twice names it (`validation.several_answers`)
SINGLE_ANSWERS: dict[str, str] = {
    LETTER_FIELD: "Who the letter is to",
    ADDRESSEE_FIELD: "Who the letter is addressed to",
    **{f"{RESPONSIBLE_FROM_FIELD}-{box}": f"The {box}" for box in ("day", "month", "year")},
    CONTACT_FIELD: "How to contact the new worker",
}

ADDRESSEE_MAX = 200  # a name, one line
CONTACT_MAX = 300  # a phone number, an e-mail address and a team, one line

# What stops a letter being written: the page says it instead of the form.
NO_NEW_WORKER = (
    "The letter names the new worker, and no worker in the receiving team has been named yet: ask the receiving "
    "team's manager to name one"
)

# The formats a letter is produced in, as the audit trail records them.
FORMATS = ("page", "pdf")


class LetterForm(msgspec.Struct, frozen=True, kw_only=True):
    """The letter form as posted: who it is to (`RECIPIENTS`), the addressee ("" for the child's letter: their first
    name), the date the new worker is responsible from (as `core.dates.join_date` stores three boxes, or ISO from a
    caller that sends text), and how to contact the new worker."""

    letter: str = ""
    addressee: str = ""
    responsible_from: str = ""
    contact: str = ""


class LetterFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a letter says that comes from the handover, not the form."""

    child_name: str  # in full, from the case record: the letter uses the first name
    date_of_birth: date | None  # from the case record: which child's letter
    new_worker: str
    new_team: str
    outgoing_worker: str
    council: str
    joint_visit_on: date | None  # a joint visit still to come, or None


class Letter(msgspec.Struct, frozen=True, kw_only=True):
    """A letter filled in: which one (`service.letters.LETTERS`), its date, and its text with every placeholder
    replaced."""

    kind: str
    dated: date
    title: str
    greeting: str
    paragraphs: tuple[str, ...]
    closing: tuple[str, ...]
    addressee: str
    responsible_from: date
    council: str  # who the letter is from: the letters file's council, or the service's


def refusals(facts: Facts, actor: Actor, *, required: bool) -> list[str]:
    """Why this person may not write a letter for this handover now: those of recording who was told
    (`core.telling.recording_refusals`: its workers and team managers, while it is open, for a checklist version that
    records who was told), and a handover whose new worker is not named yet (`NO_NEW_WORKER`)."""
    found = recording_refusals(facts, actor, required=required)
    if not found and facts.receiver_id is None:
        found = [NO_NEW_WORKER]
    return found


def first_name(child_name: str) -> str:
    """The child's first name: the first word of their name on the case record."""
    words = child_name.split()
    return words[0] if words else child_name


def age_on(born: date, on: date) -> int:
    """Whole years of age on `on` (negative before birth). A child born on 29 February is a year older on 1 March in
    a year that has no 29 February."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def letter_kind(letters: Letters, recipient: str, born: date | None, on: date) -> str:
    """Which letter (`service.letters.LETTERS`) to write to `recipient` (`RECIPIENTS`) on `on`: the family's, or the
    child's in plain, short words up to the file's `younger_child_up_to_age` (whole years on the letter's date), or
    the older child's after it. A child with no date of birth on record gets the older child's letter, which does not
    talk down to a young person."""
    if recipient != CHILD:
        return FAMILY
    if born is not None and age_on(born, on) <= letters.younger_child_up_to_age:
        return "child_younger"
    return "child_older"


def joint_visit_on(letters: Letters, answers: dict[str, SectionAnswers], on: date) -> date | None:
    """The date of a joint visit with the family still to come (`on` or later), as the checklist records it where the
    letters' `[joint_visit]` says; None when there is none, or it has taken place (a letter does not announce a visit
    that is over)."""
    where = letters.joint_visit
    section = answers.get(where.section)
    if section is None or section.values.get(where.field) != where.value:
        return None
    day = parse_date(section.values.get(where.date, ""))
    return day if day is not None and day >= on else None


def default_contact(new_team: str, email: str) -> str:
    """How to reach the new worker, as the form starts it: by their work e-mail (when the service keeps one) or
    through their team. It follows "You can contact <new worker>" in the letters."""
    return f"by e-mail at {email} or through the {new_team}" if email else f"through the {new_team}"


def addressee_of(form: LetterForm, child_name: str) -> str:
    """Who the letter is addressed to: as written, or for the child's letter left empty, the child's first name."""
    given = " ".join(form.addressee.split())
    return given or (first_name(child_name) if form.letter == CHILD else "")


def form_errors(form: LetterForm, letters: Letters, today: date) -> dict[str, str]:
    """What is wrong with the letter form, keyed by field (a date by its first box in error): who it is to, one of
    `RECIPIENTS`; the addressee, one line of at most `ADDRESSEE_MAX` characters (the child's letter may leave it
    empty); the date from which the new worker is responsible, a real date from `today` to the letters file's
    `responsible_from_within_days` calendar days after it; how to contact them, one line of at most `CONTACT_MAX`."""
    errors: dict[str, str] = {}
    if form.letter not in RECIPIENTS:
        errors[LETTER_FIELD] = "Select who the letter is to"
    if form.addressee.strip() or form.letter != CHILD:
        errors |= validation.text_errors(
            ADDRESSEE_FIELD, form.addressee, missing="Enter who the letter is to, for example ‘Ms Ashford’",
            limit=ADDRESSEE_MAX, what="Who the letter is to", one_line=True,
        )  # fmt: skip
    errors |= _responsible_from_errors(form.responsible_from, letters, today)
    errors |= validation.text_errors(
        CONTACT_FIELD, form.contact, missing="Enter how the family can contact the new worker",
        limit=CONTACT_MAX, what="How to contact the new worker", one_line=True,
    )  # fmt: skip
    return errors


def _responsible_from_errors(value: str, letters: Letters, today: date) -> dict[str, str]:
    name = RESPONSIBLE_FROM_FIELD
    label = "The date the new worker is responsible from"
    if not value.strip() or value.replace("/", "").strip() == "":
        return {f"{name}-day": "Enter the date from which the new worker is responsible"}
    problem = date_problem(label, value, today)
    if problem:
        return {f"{name}-{problem[1][0]}": problem[0]}
    day = parse_date(value)
    assert day is not None, "date_problem found none"
    latest = today + timedelta(days=letters.responsible_from_within_days)
    if day < today:
        return {f"{name}-day": f"{label} must be today or in the future"}
    if day > latest:
        return {
            f"{name}-day": f"{label} must be no more than {letters.responsible_from_within_days} days from today, "
            f"{_words(latest)} at the latest"
        }
    return {}


def fill(letters: Letters, form: LetterForm, facts: LetterFacts, on: date) -> Letter:
    """The letter, dated `on`, for a form `form_errors` found nothing wrong with: its text from the letters file with
    each placeholder replaced (`service.letters.PLACEHOLDERS`), and the joint visit's paragraph only when
    `facts.joint_visit_on` is a date. The council is the file's, or `facts.council` (the service's) when the file
    gives none."""
    kind = letter_kind(letters, form.letter, facts.date_of_birth, on)
    text = letters.letter(kind)
    responsible_from = parse_date(form.responsible_from)
    assert responsible_from is not None, "validated before"
    addressee = addressee_of(form, facts.child_name)
    council = letters.council or facts.council
    values = {
        "addressee": addressee,
        "child_first_name": first_name(facts.child_name),
        "new_worker": facts.new_worker,
        "new_team": facts.new_team,
        "responsible_from": _words(responsible_from),
        "contact": " ".join(form.contact.split()),
        "outgoing_worker": facts.outgoing_worker,
        "council": council,
        "joint_visit_date": _words(facts.joint_visit_on) if facts.joint_visit_on else "",
    }

    def filled(piece: str) -> str:
        return Template(piece).substitute(values)

    paragraphs = [filled(p) for p in text.paragraphs]
    if facts.joint_visit_on is not None and text.joint_visit:
        paragraphs.append(filled(text.joint_visit))
    return Letter(
        kind=kind,
        dated=on,
        title=filled(text.title),
        greeting=filled(text.greeting),
        paragraphs=tuple(paragraphs),
        closing=tuple(filled(line) for line in text.closing),
        addressee=addressee,
        responsible_from=responsible_from,
        council=council,
    )


def _words(day: date) -> str:
    """A date as a letter writes it: 5 January 2027."""
    return f"{day.day} {day:%B %Y}"
