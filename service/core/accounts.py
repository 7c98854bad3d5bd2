"""Joiners, movers and leavers: the rules for people's accounts as an administrator changes them, and every message a
person meets doing so. Pure: nothing here reads the store or knows the web."""

from __future__ import annotations

from service.core import identity, validation
from service.core.text import EMAIL_FORMAT_MESSAGE, is_email_address

EMAIL_MAX = 254  # the longest address SMTP carries (RFC 5321's path limit, less its angle brackets)
SERVICE_NAME_MAX = 200


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
    if not is_email_address(email):
        return {key: EMAIL_FORMAT_MESSAGE}
    return {}


def new_account_errors(username: str, full_name: str, email: str, password: str) -> dict[str, str]:
    """A new person's account: username, name and password as `validation.new_person_errors`, and an e-mail address."""
    return validation.new_person_errors(username, full_name, password) | email_errors(email)


def account_details_errors(username: str, full_name: str, email: str) -> dict[str, str]:
    """A new account's username, name and e-mail address, without its password (the command line says a slip in
    these before asking for one)."""
    errors = validation.text_errors(
        "username", username, missing="Enter a username", limit=validation.USERNAME_MAX, what="The username",
        one_line=True,
    )  # fmt: skip
    errors = errors or identity.username_errors(username)
    errors |= validation.text_errors(
        "name", full_name, missing="Enter the person's full name", limit=validation.FULL_NAME_MAX, what="The name",
        one_line=True,
    )  # fmt: skip
    return errors | email_errors(email)


def password_errors(password: str, *, username: str, full_name: str) -> dict[str, str]:
    """A password an administrator sets for this person: the same rules as for a new account."""
    return identity.password_errors(password, username=username, full_name=full_name)


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


# A team manager's post: a team with work waiting on it keeps an enabled manager.
def last_manager_message(name: str, team: str, waiting: str) -> str:
    """Why the last enabled manager of a team with work waiting cannot stop managing it, or leave, yet."""
    return (
        f"{name} is the only team manager of {team} with an enabled account, and {waiting}. Make someone else a "
        f"manager of {team} first (change their teams and roles)"
    )


def waiting_on_team(handovers: int, cases: int) -> str:
    """What waits on a team's manager, in words ("" when nothing does)."""
    parts = []
    if handovers:
        parts.append(f"{handovers} open handover{'s' if handovers != 1 else ''} {'wait' if handovers != 1 else 'waits'}"
                     " on the team")  # fmt: skip
    if cases:
        parts.append(f"{cases} case{'s are' if cases != 1 else ' is'} held pending transfer")
    return " and ".join(parts)


# Service managers and the head of service.
NOT_A_MANAGER_SERVICE = "Choose a service manager who is a team manager with an enabled account"
NOT_A_MANAGER_HEAD = "Choose a head of service who is a team manager with an enabled account"


def manages_service_message(name: str, service: str) -> str:
    """Why the service manager cannot stop being a team manager while they manage a service."""
    return (
        f"{name} is the service manager of {service}: choose another service manager first (teams and services), or "
        "keep a team manager role"
    )


def heads_service_message(name: str) -> str:
    return (
        f"{name} is the head of service: choose another head of service first (teams and services), or keep a team "
        "manager role"
    )


def vacant_service_manager(service: str) -> str:
    """A post the administrator is to fill, as the landing page's "Waiting for you" says it."""
    return f"The {service} service has no service manager: choose one"


VACANT_HEAD_OF_SERVICE = "There is no head of service: choose one"

# Who ran a command: an administrator named with --by, and always the operating-system account.
NOT_AN_ADMINISTRATOR = "Give the username of an administrator whose account is enabled"


# What the confirmation page says disabling an account will do, before the administrator confirms.
def sole_manager_message(name: str, team: str) -> str:
    """A leaver who is the only enabled manager of a team nothing waits on may go; the team is then left without one."""
    return (
        f"{name} is the only team manager of {team}. Once the account is disabled, {team} has no team manager: "
        f"make someone else a manager of {team} (change their teams and roles) before its next handover"
    )


HEAD_OF_SERVICE_POST = "head of service"


def service_manager_post(service: str) -> str:
    """How a service manager's post is named, on the disable page and in what disabling reports it left vacant."""
    return f"service manager of {service}"


def post_vacated_message(post: str) -> str:
    """A post the leaver holds, which disabling leaves vacant ("service manager of <service>", "head of service")."""
    return f"The {post} post will become vacant: choose someone for it on the teams and services page"


def no_manager_for_step(handover_id: int, child: str, team: str, step: str, on_behalf_of: str | None) -> str:
    """A handover that waits for a manager step no manager may take, as the administrator's "Waiting for you" says it
    (the list shows only what the administrator may see: the child's name, the team and the handover's number)."""
    written = f", written on behalf of {on_behalf_of}," if on_behalf_of else ""
    return f"Handover {handover_id} for {child}{written} has no manager who can {step} it in {team}: name one"


def name_manager_command(handover_id: int, step: str) -> str:
    """The command that names another manager for a step (there is no page for it)."""
    return f"handover name-manager {handover_id} --step {step} --manager USERNAME"
