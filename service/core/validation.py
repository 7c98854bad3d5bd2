"""Every limit and message a person can meet outside the checklist's own questions, defined once.

The pages, the API, the case import and the command line all ask these functions, so the same input gets the same
message wherever it is typed. Each function returns messages keyed by the field they are about (the name the form
and the API body use); an empty dict means the input is acceptable. The checklist's questions are validated by
`service.core.answers` against their definitions in `checklists/`.

Lengths are in characters. Dates are calendar dates in England.
"""

from __future__ import annotations

import re
from datetime import date

from service.checklist import Section
from service.core import dates, identity
from service.core.dates import date_problem
from service.core.readback import (
    COPIED_SHARE_MAX,
    MIN_WORDS,
    copied_message,
    copied_share,
    too_few_words_message,
    words,
)
from service.core.text import (
    HIDDEN_CHARACTER_MESSAGE,
    NOT_ONE_LINE_MESSAGE,
    breaks_one_line,
    has_hidden_characters,
    is_blank,
)

# Free text on the workflow's forms.
TRANSFER_REASON_MAX = 1000
WORKFLOW_REASON_MAX = 2000  # returning a handover with a query, or cancelling it
REPLY_MAX = 4000  # the outgoing worker's reply to a query, sent when they resubmit: what changed, and why
READBACK_MAX = 4000
DISAGREEMENT_ABOUT_MAX = 2000
DISAGREEMENT_WITH_WHOM_MAX = 200
DISAGREEMENT_VIEW_MAX = 4000
DISAGREEMENT_OUTCOME_MAX = 2000

# The case record, however it arrives (the API or a CSV import).
CASE_REFERENCE_MAX = 50
CHILD_NAME_MAX = 200
SIBLING_GROUP_NAME_MAX = 200
# Children's social care works with children and with care leavers up to 25: a date of birth before this cannot be
# a child's or a care leaver's, and is a typing mistake.
EARLIEST_DATE_OF_BIRTH = date(1990, 1, 1)

# People and their accounts.
FULL_NAME_MAX = 200
# The username and password rules are `service.core.identity`'s; their limits are read from here too.
USERNAME_MAX, PASSWORD_MIN, PASSWORD_MAX = identity.USERNAME_MAX, identity.PASSWORD_MIN, identity.PASSWORD_MAX


def text_errors(key: str, value: str, *, missing: str, limit: int, what: str, one_line: bool = False) -> dict[str, str]:
    """The message for free text that must be given and may be at most `limit` characters; {} when it is fine.

    `what` starts the length message, for example "The reason" gives "The reason must be 2,000 characters or fewer".
    `one_line`: a name, a reference or a label, refused with a line break, a tab or an invisible character in it
    (`text.breaks_one_line`). A value that shows nothing (`text.is_blank`: spaces, zero-width and other invisible
    characters) is missing.
    """
    if is_blank(value):
        return {key: missing}
    if len(value) > limit:
        return {key: f"{what} must be {limit:,} characters or fewer"}
    if has_hidden_characters(value):
        return {key: f"{what} {HIDDEN_CHARACTER_MESSAGE}"}
    if one_line and breaks_one_line(value.strip()):
        return {key: f"{what} {NOT_ONE_LINE_MESSAGE}"}
    return {}


def transfer_reason_errors(reason: str) -> dict[str, str]:
    return text_errors(
        "transfer_reason",
        reason,
        missing="Enter the reason for the transfer",
        limit=TRANSFER_REASON_MAX,
        what="The reason for the transfer",
    )


def workflow_reason_errors(reason: str, *, required: bool, cancelling: bool = False) -> dict[str, str]:
    """The reason given when a handover is returned with a query or cancelled (required), or with another action
    (optional, but never longer than the same limit)."""
    if not required and is_blank(reason):
        return {}
    missing = (
        "Enter the reason for cancelling the handover"
        if cancelling
        else "Enter the reason, so the person it goes back to knows what to do"
    )
    return text_errors("reason", reason, missing=missing, limit=WORKFLOW_REASON_MAX, what="The reason")


NOTHING_TO_REPLY_TO = "Send a reply only when resubmitting a handover that was returned with a query"


def reply_errors(reply: str, *, answering: bool) -> dict[str, str]:
    """The reply sent with a submission, keyed "reply". `answering`: the handover is being resubmitted after it was
    returned with a query, and the reply is required; otherwise (a first submission, or any other action) there is
    no query to answer, and a reply is refused rather than kept where nobody would read it."""
    if not answering:
        return {} if is_blank(reply) else {"reply": NOTHING_TO_REPLY_TO}
    return text_errors("reply", reply, missing="Enter your reply to the query", limit=REPLY_MAX, what="Your reply")


def confirmation_errors(
    section: Section, understood: bool, readback: str, *, handed_over: list[str], minimum: int
) -> dict[str, str]:
    """The receiving worker's confirmation of one critical item: they must say they have read and understood it,
    and say in their own words what they are taking on (the I-PASS "synthesis by receiver"): at least `minimum`
    characters (the checklist's `readback_min_characters`) and `readback.MIN_WORDS` words, not mostly copied from
    `handed_over`, every text the handover and its page show (`readback.copied_share`). Keys are
    `readback-<section>` and `understood-<section>`, the form's field names, in the form's order (the error summary
    lists them so)."""
    errors: dict[str, str] = {}
    key = f"readback-{section.id}"
    too_short = (
        f"Write, in your own words, what you are taking on from ‘{section.title}’ (at least {minimum} characters)"
    )
    if is_blank(readback):  # nothing written, whatever invisible characters were sent (`text.is_blank`)
        errors[key] = too_short
    elif len(readback) > READBACK_MAX:
        errors[key] = f"Your summary must be {READBACK_MAX:,} characters or fewer"
    elif has_hidden_characters(readback):
        errors[key] = f"Your summary {HIDDEN_CHARACTER_MESSAGE}"
    elif len(readback.strip()) < minimum:
        errors[key] = too_short
    elif len(words(readback)) < MIN_WORDS:
        errors[key] = too_few_words_message(section.title)
    else:
        share = copied_share(readback, handed_over)
        if share > COPIED_SHARE_MAX:
            errors[key] = copied_message(section.title, share)
    if not understood:
        errors[f"understood-{section.id}"] = f"Confirm you have read and understood ‘{section.title}’"
    return errors


def disagreement_errors(about: str, with_whom: str, view: str) -> dict[str, str]:
    """A professional disagreement as it is first recorded (Working Together: disagreements are recorded and
    resolved or escalated under the safeguarding partnership's escalation policy)."""
    return (
        text_errors(
            "about",
            about,
            missing="Enter what the disagreement is about",
            limit=DISAGREEMENT_ABOUT_MAX,
            what="What the disagreement is about",
        )
        | text_errors(
            "with_whom",
            with_whom,
            missing="Enter who you disagree with",
            limit=DISAGREEMENT_WITH_WHOM_MAX,
            what="Who you disagree with",
            one_line=True,
        )
        | text_errors("view", view, missing="Enter your view", limit=DISAGREEMENT_VIEW_MAX, what="Your view")
    )


# A decision on a disagreement as its form asks it: resolved or escalated, the stage and date of an escalation (shown
# under "escalated"), then the outcome; messages are listed in this order (GOV.UK error summary: as on the page)
DECISION_FORM_ORDER = ("decision", "stage", "stage_date", "outcome")


def in_form_order(errors: dict[str, str], order: tuple[str, ...]) -> dict[str, str]:
    """`errors` in the order of the form's fields (`order`: each field's name; a key `name-<part>`, a date's box, is
    the field `name`'s); keys of no field listed come last, in the order they were found."""

    def place(key: str) -> int:
        field = key if key in order else key.split("-", 1)[0]
        return order.index(field) if field in order else len(order)

    return dict(sorted(errors.items(), key=lambda item: place(item[0])))


def decision_errors(decision: str, outcome: str, stage_date: str, today: date) -> dict[str, str]:
    """A manager's decision on a disagreement: resolved, or escalated on a date, today or earlier (`stage_date` as
    `dates.join_date` keeps three typed boxes, or ISO text from the API; a message about it is keyed
    `stage_date-<box>`, the first box in error). The stage escalated to is checked against the escalation ladder
    (`disagreements.escalation_stage_errors`)."""
    errors: dict[str, str] = {}
    if decision not in ("resolved", "escalated"):
        errors["decision"] = "Select whether the disagreement is resolved or escalated"
    errors |= text_errors(
        "outcome",
        outcome,
        missing="Enter the resolution, or what was decided at escalation",
        limit=DISAGREEMENT_OUTCOME_MAX,
        what="The resolution",
    )
    if decision == "escalated":
        problem = (
            date_problem("The date of the escalation", stage_date, today, not_in_future=True)
            if stage_date
            else ("Enter the date of the escalation", dates.BOXES)
        )
        if problem:
            errors[f"stage_date-{problem[1][0]}"] = problem[0]
    return errors


# Case management systems number cases in ASCII; allowing only these characters means no two references can look
# the same while differing (a Unicode hyphen, full-width letters, a zero-width space), and references are compared
# without regard to case (`reference_key`).
_REFERENCE = re.compile(r"[A-Za-z0-9]+(?:[ ./_-]+[A-Za-z0-9]+)*")
REFERENCE_CHARACTERS = (
    "The local reference can contain only the letters A to Z, numbers, and spaces, hyphens (-), slashes (/), "
    "full stops and underscores between them"
)


def reference_key(reference: str) -> str:
    """What makes two references the same case: the same letters and numbers, in any case."""
    return reference.strip().lower()


def case_errors(reference: str, child_name: str, date_of_birth: str, today: date) -> dict[str, str]:
    """A case record's own fields (who holds it is checked against the people and teams by the action).

    `date_of_birth` is ISO text (YYYY-MM-DD) as the API and the import both carry it; `today` is the date in England.
    """
    errors = text_errors(
        "reference",
        reference,
        missing="Enter the local reference",
        limit=CASE_REFERENCE_MAX,
        what="The local reference",
        one_line=True,
    ) | text_errors(
        "child_name",
        child_name,
        missing="Enter the child's name",
        limit=CHILD_NAME_MAX,
        what="The child's name",
        one_line=True,
    )
    if "reference" not in errors and not _REFERENCE.fullmatch(reference.strip()):
        errors["reference"] = REFERENCE_CHARACTERS
    born = iso_date(date_of_birth)
    if born is None:
        errors["date_of_birth"] = "Enter the date of birth as a real date written YYYY-MM-DD, for example 2015-03-14"
        return errors
    if born > today:
        errors["date_of_birth"] = "The date of birth must be today or in the past"
    elif born < EARLIEST_DATE_OF_BIRTH:
        errors["date_of_birth"] = (
            f"The date of birth must be on or after {EARLIEST_DATE_OF_BIRTH.day} {EARLIEST_DATE_OF_BIRTH:%B %Y}"
        )
    return errors


def iso_date(text: str) -> date | None:
    """A date written exactly YYYY-MM-DD (surrounding spaces aside), or None (`dates.parse_date`)."""
    return dates.parse_date(text.strip())


def sibling_group_name_errors(name: str) -> dict[str, str]:
    return text_errors(
        "name", name, missing="Enter the sibling group's name", limit=SIBLING_GROUP_NAME_MAX, what="The name",
        one_line=True,
    )  # fmt: skip


def new_person_errors(username: str, full_name: str, password: str) -> dict[str, str]:
    """A person's account as an administrator creates it."""
    errors = text_errors(
        "username", username, missing="Enter a username", limit=USERNAME_MAX, what="The username", one_line=True
    )
    errors |= text_errors(
        "name", full_name, missing="Enter the person's full name", limit=FULL_NAME_MAX, what="The name", one_line=True
    )
    if "username" not in errors:
        errors |= identity.username_errors(username)
    return errors | identity.password_errors(password, username=username, full_name=full_name)


# Messages about who holds a case, shared by every way a case arrives.
WORKER_NOT_IN_TEAM = "The allocated worker must be a social worker in the allocated team"
REFERENCE_TAKEN = "A case with this reference already exists"
REFERENCE_REPEATED = "This reference is used by an earlier row of the file"
NO_SUCH_TEAM = "There is no team with this name"
NO_SUCH_SIBLING_GROUP = "There is no sibling group with this id"


def sibling_group_exists(group_id: int) -> str:
    return (
        f"A sibling group of this name already exists (id {group_id}): a new group would not link these children "
        "to it. Give the new group another name, or add the children to that group through the API's "
        "sibling_group_id"
    )


def group_name_key(name: str) -> str:
    """Sibling group names in one file that differ only in case or spacing name the same group."""
    return " ".join(name.split()).lower()


def several_answers(label: str) -> str:
    """A question that takes one answer was sent more than once (no page sends that): which was meant cannot be
    known, so nothing is saved."""
    return f"{label}: send one answer, not several"
