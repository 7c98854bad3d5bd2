"""Joiners, movers and leavers: the rules for people's accounts as an administrator changes them, and every message a
person meets doing so. Pure: nothing here reads the store or knows the web."""

from __future__ import annotations

import re

from service.core import validation

EMAIL_MAX = 254  # the longest address SMTP carries (RFC 5321's path limit, less its angle brackets)
SERVICE_NAME_MAX = 200

# One @, something before it, and a domain with a dot after it, without spaces: the check GOV.UK Notify makes before
# it sends, which is all a form can usefully know (whether the address reaches its owner is another question).
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")

# What the pages and the command line say about a case its worker left, and about a handover continued for them.
HELD_PENDING_TRANSFER = "Held by the team manager pending transfer"
ROLES = ("worker", "manager")


def email_errors(email: str, *, key: str = "email") -> dict[str, str]:
    """A person's work e-mail address: given, one line, at most `EMAIL_MAX` characters, and shaped like an address."""
    errors = validation.text_errors(
        key, email, missing="Enter the person's work email address", limit=EMAIL_MAX, what="The email address",
        one_line=True,
    )  # fmt: skip
    if errors:
        return errors
    if not _EMAIL.fullmatch(email.strip()):
        return {key: "Enter an email address in the correct format, like name@example.gov.uk"}
    return {}


def new_account_errors(username: str, full_name: str, email: str, password: str) -> dict[str, str]:
    """A new person's account: username, name and password as `validation.new_person_errors`, and an e-mail address."""
    return validation.new_person_errors(username, full_name, password) | email_errors(email)


def password_errors(password: str) -> dict[str, str]:
    """A password an administrator sets: the same length rules as for a new account."""
    return {key: message for key, message in validation.new_person_errors("x", "x", password).items()
            if key == "password"}  # fmt: skip


def service_name_errors(name: str) -> dict[str, str]:
    return validation.text_errors(
        "name", name, missing="Enter the service's name", limit=SERVICE_NAME_MAX, what="The name", one_line=True
    )


NO_SUCH_PERSON = "There is no person with this username"
NO_SUCH_SERVICE = "There is no service with this name"
NO_SUCH_TEAM = validation.NO_SUCH_TEAM
SERVICE_TAKEN = "There is already a service with this name"
ALREADY_DISABLED = "This account is already disabled"
NOT_YOURSELF = "You cannot disable your own account: ask another administrator"
OWN_ADMIN_ROLE = "You cannot remove your own administrator role: ask another administrator"
LAST_ADMINISTRATOR = "This is the only enabled administrator: make someone else an administrator first"
NOT_A_PERSON = "This is a service account: revoke its API tokens instead (handover token revoke)"
DISABLED_PERSON = "This person's account is disabled: choose someone whose account is enabled"
KEEPS_CASES = (
    "{name} still holds cases in {team}: keep them in {team} in the same role until the cases are transferred, or "
    "disable the account (their cases then move to the team manager)"
)
NO_ROLE_CHOSEN = "Select at least one team, or a role across the service"


def no_manager_message(name: str, team: str) -> str:
    """Why a leaver who holds cases cannot be disabled yet, and what to do about it."""
    return (
        f"{name} holds cases in {team}, which has no team manager with an enabled account to hold them pending "
        f"transfer. Add a manager to {team} first (change their teams and roles), then disable this account"
    )


def keeps_cases_message(name: str, team: str) -> str:
    return KEEPS_CASES.format(name=name, team=team)


def roles_chosen(worker: list[str], manager: list[str], auditor: bool, admin: bool) -> dict[str, str]:
    """A person has at least one team or a service-wide role (an account that may do nothing is a disabled one)."""
    if worker or manager or auditor or admin:
        return {}
    return {"teams": NO_ROLE_CHOSEN}
