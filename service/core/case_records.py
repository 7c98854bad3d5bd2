"""Correcting a child's case record, who has viewed a handover, and the markers every list shows on a case its
worker left. The rules and every message a person meets about them; pure: nothing here reads the store or knows the
web."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from service.core import validation
from service.core.accounts import HELD_PENDING_TRANSFER
from service.core.caseload import capitalize_first, on_behalf_words
from service.core.clock import ENGLAND, today
from service.core.dates import date_problem
from service.core.workflow import URGENT_LABEL, Actor, Facts, is_receiving_manager, is_sending_manager, may_view

# ---------------------------------------------------------------- correcting a case record

STALE_CORRECTION = (
    "Someone else changed this case record while you were correcting it. Check the record as it is now and make "
    "your correction again"
)
NOTHING_CHANGED = "Change at least one detail of the case record, or go back without correcting it"
NO_SUCH_CASE = "There is no case with this reference"
NO_SUCH_GROUP_NAMED = "There is no sibling group with this name"
GROUP_WHILE_OPEN = (
    "This child is in a handover that is not finished: change their sibling group once the handover is approved or "
    "cancelled"
)


def group_handover_open(child_name: str, group_name: str, *, joining: bool) -> str:
    """Why a child cannot join or leave a sibling group now: the group's handover is not finished, and a child who
    joined or left it part way would be in it, or out of it, with no reason recorded."""
    change = f"{child_name} cannot join {group_name}" if joining else f"{child_name} cannot leave {group_name}"
    return (
        f"{change} while the group's handover is not finished: change the sibling group once that handover is "
        "approved or cancelled"
    )


CASES_SHOWN_MAX = 50  # a search for a case to correct that finds more asks for a closer search


class Correction(msgspec.Struct, frozen=True, kw_only=True):
    """A case record as an administrator corrects it: `date_of_birth` is ISO text (YYYY-MM-DD), as a new case's is;
    `sibling_group_id` None takes the child out of any group. `version` is the record's version the correction was
    made from: a record changed since then is not overwritten."""

    reference: str
    child_name: str
    date_of_birth: str
    sibling_group_id: int | None
    version: int


def correction_errors(correction: Correction, *, boxes: bool = False) -> dict[str, str]:
    """The case record's own fields, by the rules a new case is checked with (whether the reference is another
    case's, and whether the group exists, the action asks the store).

    `boxes`: the date of birth was typed into a form's three boxes (`dates.join_date`): its message says which box
    is wrong, keyed by that box (`date_of_birth-day`, `-month` or `-year`), as the GOV.UK date input pattern asks.
    """
    born = correction.date_of_birth.strip()
    errors = validation.case_errors(correction.reference, correction.child_name, born, today())
    if not boxes or "date_of_birth" not in errors:
        return errors
    message = errors.pop("date_of_birth")
    problem = date_problem(DATE_OF_BIRTH, born, today(), not_in_future=True) if born else None
    if not born:
        errors["date_of_birth-day"] = "Enter the child's date of birth"
    elif problem and "/" in born:
        errors[f"date_of_birth-{problem[1][0]}"] = problem[0]
    else:  # a real date outside the rule's range: the first box carries the rule's own message
        errors["date_of_birth-day"] = message
    return errors


DATE_OF_BIRTH = "Date of birth"


# ---------------------------------------------------------------- who has viewed a handover


def may_see_viewers(facts: Facts, actor: Actor) -> bool:
    """Who has looked at a handover is for auditors and the managers of both teams (once they may see the handover
    itself); not for workers, who are parties but do not oversee who reads a child's record."""
    if actor.is_auditor:
        return True
    return (is_sending_manager(facts, actor) or is_receiving_manager(facts, actor)) and may_view(facts, actor)


VIEWERS_PAGE_SIZE = 100

# The pages a "view" entry names (`actions.record_view`), as this page says them; a section's page names its section.
PAGE_NAMES = {
    "handover": "The handover",
    "review": "Review and confirm critical items",
    "task list": "Task list",
    "check answers": "Check answers",
    "api": "The handover, through the API",
    "viewers": "Who has viewed this handover",
}


def page_name(page: str, section_titles: dict[str, str]) -> str:
    """The page a "view" entry names, as a person reads it."""
    if page.startswith("section "):
        section = page.removeprefix("section ")
        return f"Section: {section_titles.get(section, section)}"
    return PAGE_NAMES.get(page, page.capitalize())


def viewer_role(
    *,
    known: bool,
    is_service: bool,
    is_auditor: bool,
    is_admin: bool,
    sending_manager: bool,
    receiving_manager: bool,
    sending_worker: bool,
    receiving_worker: bool,
) -> str:
    """What a person who viewed a handover is to it, by their roles now."""
    if not known:
        return "Operations (the command line)"
    if is_service:
        return "Case management system"
    roles = [
        name
        for held, name in (
            (sending_manager, "Sending team manager"),
            (receiving_manager, "Receiving team manager"),
            (sending_worker, "Sending team social worker"),
            (receiving_worker, "Receiving team social worker"),
            (is_auditor, "Auditor"),
            (is_admin, "Administrator"),
        )
        if held
    ]
    return ", ".join(roles) if roles else "No role in either team now"


def time_in_england(stamp: str) -> str:
    """A stored timestamp (UTC, ISO 8601) as the clock in England read: '1 December 2026 at 7:05am'."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ENGLAND)
    hour = local.hour % 12 or 12
    return f"{local.day} {local:%B %Y} at {hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


# ---------------------------------------------------------------- markers on every list


# The export's column heading; the sentence itself is core.caseload's, so that every page says it the same way
ON_BEHALF_OF = capitalize_first(on_behalf_words("")).rstrip()


def on_behalf_of_text(name: str) -> str:
    return capitalize_first(on_behalf_words(name))


def markers(held_pending_transfer: bool, on_behalf_of: str | None, urgent: object = None) -> list[str]:
    """What a list, an export or the API says about a case its worker left: held by the team manager pending
    transfer, and a handover the manager completes on behalf of the worker who started it; and, first, an urgent
    transfer not yet complete (`urgent`: anything set, such as when it was authorised), as every list names it."""
    found = [URGENT_LABEL] if urgent else []
    if held_pending_transfer:
        found.append(HELD_PENDING_TRANSFER)
    if on_behalf_of:
        found.append(on_behalf_of_text(on_behalf_of))
    return found
