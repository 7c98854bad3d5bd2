"""Joiners, movers and leavers, as an administrator (on the pages or the command line) records them: adding a person,
changing their teams and roles, resetting their password, disabling the account of someone who has left, and the
services teams belong to.

Each action is one transaction with its audit entries, naming the administrator who made the change (`by`: their
user id; on the command line the administrator named with --by, or None) and, for a change made on the command line,
the operating-system account that ran it (`os_user`, kept in each entry's details), so every change says who made it.
Disabling a leaver who still holds cases moves each case, in the same transaction, to the team's manager as interim
holder, and any handover they started continues with that manager acting on their behalf: a child's case is never
allocated to a disabled account.

Errors raised: `Invalid` (messages by field), `NotFound` (no such person).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

import msgspec

from service import db
from service.actions import notifications
from service.actions.handovers import parties_and_state
from service.actions.people import TeamRoles
from service.core import accounts, identity
from service.core import caseload as caseload_rules
from service.core.errors import Invalid, NotFound
from service.core.workflow import MANAGER_STEPS, Actor, eligible
from service.db import caseload as caseload_store
from service.db import handovers as db_handovers
from service.passwords import is_current_password, rehash


class Disabled(msgspec.Struct, frozen=True, kw_only=True):
    """What disabling a leaver changed: each case moved to a manager, each open handover passed on, and each post
    they held left vacant."""

    name: str
    cases_moved: list[tuple[str, str]]  # (child's name, the manager who now holds the case)
    # (handover id, the manager who continues it, whom it is written for: the leaver, or the person the leaver was
    # already continuing it for)
    handovers_continued: list[tuple[int, str, str]]
    handovers_released: list[int]  # handovers the leaver was to receive, now addressed to the receiving team
    posts_vacated: list[str] = []  # "service manager of <service>", "head of service"


async def _audit(
    conn: db.Conn, by: int | None, os_user: str | None, action: str, kind: str, target: int, details: dict[str, Any]
) -> None:
    """An audit entry naming the administrator, and the operating-system account when the command line made it."""
    await db.append_audit(conn, by, action, kind, target, details | ({"os_user": os_user} if os_user else {}))


async def _check_new_identity(conn: db.Conn, username: str, email: str) -> None:
    """A new username that no existing one looks like, and a work e-mail address nobody else has."""
    clash = identity.username_clash_errors(username, await db.usernames(conn))
    if clash:
        raise Invalid(clash)
    if email and identity.same_email(email, await db.emails_of_others(conn, None)):
        raise Invalid({"email": identity.EMAIL_TAKEN})


async def _person(conn: db.Conn, user_id: int) -> db.User:
    user = await db.user_by_id(conn, user_id)
    if user is None or user.is_service:
        raise NotFound(f"person {user_id}")
    return user


async def _team_ids(conn: db.Conn, roles: TeamRoles) -> list[tuple[int, str, str]]:
    """(team id, team name, role) for each team named in `roles`; `Invalid` keyed by the role for a name unknown."""
    teams = {team.name: team.id for team in await db.teams(conn)}
    chosen = []
    for role, names in (("worker", roles.worker), ("manager", roles.manager)):
        for name in names:
            if name not in teams:
                raise Invalid({role: accounts.NO_SUCH_TEAM})
            chosen.append((teams[name], name, role))
    return chosen


async def add_person(
    database: db.Database,
    *,
    username: str,
    full_name: str,
    email: str,
    password: str,
    roles: TeamRoles,
    by: int | None,
    os_user: str | None = None,
) -> int:
    """A joiner: their account, work e-mail address, teams (which must exist) and roles; returns their id.

    The username may not look like an existing one, nor the e-mail address be another person's (both compared
    whatever their case). `Invalid` keyed username, name, email, password, teams, worker or manager.
    """
    errors = accounts.new_account_errors(username, full_name, email, password)
    errors |= accounts.roles_chosen(roles.worker, roles.manager, roles.auditor, roles.admin)
    if errors:
        raise Invalid(errors)
    password_hash = await rehash(password)  # off the event loop
    username, full_name, email = username.strip(), full_name.strip(), email.strip()
    async with database.transaction() as conn:
        await _check_new_identity(conn, username, email)
        chosen = await _team_ids(conn, roles)
        user_id = await db.create_user(
            conn, username, full_name, password_hash, is_auditor=roles.auditor, is_admin=roles.admin
        )
        await db.set_email(conn, user_id, email)
        details = {"username": username, "auditor": roles.auditor, "admin": roles.admin}
        await _audit(conn, by, os_user, "create_user", "user", user_id, details)
        for team_id, name, role in chosen:
            if await db.add_membership(conn, user_id, team_id, role):
                await _audit(conn, by, os_user, "add_membership", "user", user_id, {"team": name, "role": role})
    return user_id


async def change_roles(
    database: db.Database, *, user_id: int, roles: TeamRoles, by: int | None, os_user: str | None = None
) -> list[str]:
    """A mover: their teams and roles become exactly `roles`. Returns what changed, in words (empty: nothing did).

    A person keeps being a worker in a team where they still hold cases (a case is held by a worker of its team); the
    only enabled manager of a team that handovers or held cases wait on stays its manager until another is in post;
    a service manager or the head of service keeps a team manager role while in that post. `Invalid` keyed teams,
    worker, manager or service-roles; `NotFound`.
    """
    errors = accounts.roles_chosen(roles.worker, roles.manager, roles.auditor, roles.admin)
    if errors:
        raise Invalid(errors)
    changed = []
    async with database.transaction() as conn:
        person = await _person(conn, user_id)
        if person.disabled:
            raise Invalid({"teams": accounts.DISABLED_PERSON})
        wanted = {(team_id, role): name for team_id, name, role in await _team_ids(conn, roles)}
        had = {(m.team_id, m.role): m.team_name for m in await db.memberships(conn, user_id)}
        held = await db.held_cases(conn, user_id)
        as_worker = {case.team_id for case in held if not case.held_pending_transfer}
        pending = {case.team_id for case in held if case.held_pending_transfer}
        for (team_id, role), name in had.items():
            if (team_id, role) in wanted:
                continue
            # a case is held by a worker of its team, or by its manager pending transfer: neither leaves the team
            # while holding it
            if (role == "worker" and team_id in as_worker) or (role == "manager" and team_id in pending):
                raise Invalid({role: accounts.keeps_cases_message(person.name, name)})
            if role == "manager":
                await _keep_a_manager(conn, person, team_id, name, "manager")
            await db.remove_membership(conn, user_id, team_id, role)
            await _audit(conn, by, os_user, "remove_membership", "user", user_id, {"team": name, "role": role})
            changed.append(f"no longer a {role} in {name}")
        if not roles.manager:
            await _keep_posts(conn, person)
        for (team_id, role), name in wanted.items():
            if (team_id, role) not in had:
                await db.add_membership(conn, user_id, team_id, role)
                await _audit(conn, by, os_user, "add_membership", "user", user_id, {"team": name, "role": role})
                changed.append(f"now a {role} in {name}")
        if person.is_admin and not roles.admin:
            # nobody may be left unable to administer the service (only the command line could then mend it)
            if by == user_id:
                raise Invalid({"service-roles": accounts.OWN_ADMIN_ROLE})
            if [person.name] == await db.administrators(conn):
                raise Invalid({"service-roles": accounts.LAST_ADMINISTRATOR})
        if (person.is_auditor, person.is_admin) != (roles.auditor, roles.admin):
            await db.set_service_roles(conn, user_id, is_auditor=roles.auditor, is_admin=roles.admin)
            details = {"auditor": roles.auditor, "admin": roles.admin}
            await _audit(conn, by, os_user, "change_service_roles", "user", user_id, details)
            changed.append("service-wide roles changed")
    return changed


async def _keep_a_manager(conn: db.Conn, person: db.User, team_id: int, team: str, key: str) -> None:
    """`Invalid` (keyed `key`) if `person` is the team's only enabled manager and work waits on the team: handovers it
    sends or receives need a manager to endorse or approve them, and its held cases a manager to hold them."""
    if [m for m in await db.team_managers(conn, team_id) if m[0] != person.id]:
        return
    handovers, cases = await db.waiting_on_team(conn, team_id)
    if handovers or cases:
        waiting = accounts.waiting_on_team(handovers, cases)
        raise Invalid({key: accounts.last_manager_message(person.name, team, waiting)})


async def _keep_posts(conn: db.Conn, person: db.User) -> None:
    """`Invalid` keyed manager if someone who stops being any team's manager is a service manager or the head of
    service: only a team manager may hold those posts."""
    managed = await db.services_managed_by(conn, person.id)
    if managed:
        raise Invalid({"manager": accounts.manages_service_message(person.name, managed[0][1])})
    head = await db.head_of_service(conn)
    if head is not None and head[0] == person.id:
        raise Invalid({"manager": accounts.heads_service_message(person.name)})


async def reset_password(
    database: db.Database, *, user_id: int, password: str, by: int | None, os_user: str | None = None
) -> None:
    """A new password for an enabled person: the old one stops working, and so do the sessions begun before the
    reset. The password follows the same rules as a new account's (it may not hold their username or name), and may
    not be the one the account already has.
    `Invalid` keyed password; `NotFound`."""
    person = await _person(database.reader, user_id)
    errors = accounts.password_errors(password, username=person.username, full_name=person.name)
    if not errors and await is_current_password(person.password_hash, password):
        errors = {"password": identity.PASSWORD_IS_CURRENT}
    if errors:
        raise Invalid(errors)
    password_hash = await rehash(password)
    async with database.transaction() as conn:
        person = await _person(conn, user_id)
        if person.disabled:
            raise Invalid({"password": accounts.DISABLED_PERSON})
        await db.set_password_hash(conn, user_id, password_hash)
        # whoever held the old password (or a session begun with it) must sign in again with the new one
        await db.end_sessions_before(conn, user_id, time.time())
        await _audit(conn, by, os_user, "reset_password", "user", user_id, {"username": person.username})


async def _interim_holder(conn: db.Conn, team_id: int, leaver: db.User) -> tuple[int, str]:
    """The team's manager who takes on what the leaver held: the first enabled one by name, never the leaver."""
    managers = [m for m in await db.team_managers(conn, team_id) if m[0] != leaver.id]
    if not managers:
        team = await db.team_name(conn, team_id) or "their team"
        raise Invalid({"disable": accounts.no_manager_message(leaver.name, team)})
    return managers[0]


async def _continuing_manager(conn: db.Conn, leaver: db.User, handover: Any) -> tuple[int, str]:
    """The manager of the sending team who continues one handover the leaver wrote, on their behalf: the first by
    name who is on no other side of it, so nobody becomes the author of a handover they are to receive, endorse or
    approve. `Invalid` keyed disable, naming the child, when no manager can."""
    managers = [m for m in await db.team_managers(conn, handover.sending_team_id) if m[0] != leaver.id]
    if not managers:
        raise Invalid({"disable": accounts.no_manager_message(leaver.name, handover.sending_team)})
    chosen = caseload_rules.interim_author(handover.sides, managers)
    if chosen is None:
        message = caseload_rules.no_interim_author_message(
            leaver.name, handover.child_name, handover.id, handover.sending_team
        )
        raise Invalid({"disable": message})
    return chosen


async def _continue_handovers(
    conn: db.Conn, leaver: db.User, by: int | None, os_user: str | None
) -> list[tuple[int, str, str]]:
    """Each open handover the leaver wrote continues with `_continuing_manager`, on the leaver's behalf (or on behalf
    of whoever it was already continued for). `Invalid` keyed disable, naming the child, when no manager can."""
    continued = []
    for handover in await caseload_store.authored_open_handovers(conn, leaver.id):
        manager_id, manager = await _continuing_manager(conn, leaver, handover)
        await db.continue_on_behalf(conn, handover.id, manager_id, leaver.id)
        details = {"on_behalf_of": handover.on_behalf_username or leaver.username, "author_user_id": manager_id}
        await _audit(conn, by, os_user, "continue_on_behalf", "handover", handover.id, details)
        continued.append((handover.id, manager, handover.written_for(leaver.name)))
    return continued


async def disable_person(
    database: db.Database, *, user_id: int, by: int | None, os_user: str | None = None
) -> Disabled:
    """A leaver: their account is disabled, and in the same transaction each case they hold moves to their team's
    manager (held pending transfer), each handover they started continues with that manager acting for them, each
    handover they were to receive goes back to the receiving team, and a service manager's or head of service's post
    is left vacant (for the administrator to fill). Sessions and API tokens stop at once (both are checked against
    the account on every request). The only enabled manager of a team that work waits on is not disabled until
    another manager is in post. `Invalid` keyed disable; `NotFound`.
    """
    async with database.transaction() as conn:
        return await _disable(conn, user_id, by, os_user)


async def _disable(conn: db.Conn, user_id: int, by: int | None, os_user: str | None) -> Disabled:
    """`disable_person`'s steps, inside the caller's transaction."""
    leaver = await _person(conn, user_id)
    if leaver.disabled:
        raise Invalid({"disable": accounts.ALREADY_DISABLED})
    if by == user_id:
        raise Invalid({"disable": accounts.NOT_YOURSELF})
    for membership in await db.memberships(conn, user_id):
        if membership.role == "manager":
            await _keep_a_manager(conn, leaver, membership.team_id, membership.team_name, "disable")
    moved = []
    for case in await db.held_cases(conn, user_id):
        manager_id, manager = await _interim_holder(conn, case.team_id, leaver)
        await caseload_store.hold_pending_transfer(conn, case.id, manager_id)
        details = {"from": leaver.username, "to_user_id": manager_id, "held_pending_transfer": True}
        await _audit(conn, by, os_user, "hold_pending_transfer", "case", case.id, details)
        moved.append((case.child_name, manager))
    continued = await _continue_handovers(conn, leaver, by, os_user)
    released = []
    for handover in await db.open_handovers_of(conn, user_id):
        if handover.author_id != user_id:
            await db.release_receiver(conn, handover.id, handover.state)
            details = {"receiver_left": leaver.username, "state_was": handover.state}
            await _audit(conn, by, os_user, "release_receiver", "handover", handover.id, details)
            await notifications.notify_released(conn, by, handover.id)
            released.append(handover.id)
    for handover_id, step in await db.unname_manager(conn, user_id):
        details = {"step": step, "manager_left": leaver.username}
        await _audit(conn, by, os_user, "unname_manager", "handover", handover_id, details)
    vacated = await _vacate_posts(conn, leaver, by, os_user)
    await db.disable_user(conn, user_id)
    details = {"username": leaver.username, "cases_moved": len(moved), "handovers_continued": len(continued)}
    await _audit(conn, by, os_user, "disable_user", "user", user_id, details)
    return Disabled(
        name=leaver.name, cases_moved=moved, handovers_continued=continued, handovers_released=released,
        posts_vacated=vacated,
    )  # fmt: skip


class DisableCheck(msgspec.Struct, frozen=True, kw_only=True):
    """What disabling an account would do now, and what stops it, for the confirmation page to say before the
    administrator confirms. Worked out by the same steps `disable_person` takes, without writing."""

    blockers: list[str]  # why disabling would be refused (empty: it may go ahead)
    cases_moved: list[tuple[str, str, str, str]]  # (child's name, case reference, team, the manager who would hold it)
    handovers_continued: list[tuple[int, str, str]]  # (handover id, the manager who would continue it, for whom)
    handovers_released: list[int]  # handovers they were to receive, which would go back to the receiving team
    teams_left_without_manager: list[str]  # teams they alone manage, left with no manager once they go
    posts_vacated: list[str]  # "service manager of <service>", "head of service"


async def disable_check(conn: db.Conn, *, user_id: int, by: int | None) -> DisableCheck:
    """What disabling this person would do, and each reason it would be refused, asking the same rules (and their
    messages) as `disable_person` without changing anything. `NotFound` for no such person."""
    leaver = await _person(conn, user_id)
    blockers: list[str] = []

    async def refused(check: Awaitable[Any]) -> Any:
        try:
            return await check
        except Invalid as exc:
            blockers.extend(message for message in exc.errors.values() if message not in blockers)
            return None

    if leaver.disabled:
        blockers.append(accounts.ALREADY_DISABLED)
    if by == user_id:
        blockers.append(accounts.NOT_YOURSELF)
    alone = []
    for membership in await db.memberships(conn, user_id):
        if membership.role == "manager":
            await refused(_keep_a_manager(conn, leaver, membership.team_id, membership.team_name, "disable"))
            if not [m for m in await db.team_managers(conn, membership.team_id) if m[0] != user_id]:
                alone.append(membership.team_name)
    moved = []
    for case in await db.held_cases(conn, user_id):
        holder = await refused(_interim_holder(conn, case.team_id, leaver))
        if holder is not None:
            moved.append((case.child_name, case.reference, case.team, holder[1]))
    continued = []
    for authored in await caseload_store.authored_open_handovers(conn, user_id):
        holder = await refused(_continuing_manager(conn, leaver, authored))
        if holder is not None:
            continued.append((authored.id, holder[1], authored.written_for(leaver.name)))
    released = [h.id for h in await db.open_handovers_of(conn, user_id) if h.author_id != user_id]
    posts = [label for _, label in await _posts_held(conn, leaver)]
    return DisableCheck(
        blockers=blockers, cases_moved=moved, handovers_continued=continued, handovers_released=released,
        teams_left_without_manager=alone, posts_vacated=posts,
    )  # fmt: skip


class _DryRun(Exception):
    """Ends a transaction that only looks at what a change would do: everything in it is rolled back."""


async def steps_left_by_disabling(database: db.Database, *, user_id: int, by: int | None) -> list[StepWithoutManager]:
    """The handovers that disabling this person would leave waiting for a manager step no manager may take (each then
    needs an administrator to name a manager), worked out by taking `disable_person`'s own steps in a transaction
    that is rolled back. Empty when disabling would be refused (the page says why). `NotFound` for no such person."""
    found: list[StepWithoutManager] = []
    try:
        async with database.transaction() as conn:
            before = {(step.handover_id, step.step) for step in await steps_without_manager(conn)}
            try:
                await _disable(conn, user_id, by, None)
            except Invalid:
                raise _DryRun from None
            after = await steps_without_manager(conn)
            found = [step for step in after if (step.handover_id, step.step) not in before]
            raise _DryRun
    except _DryRun:
        pass
    return found


class StepWithoutManager(msgspec.Struct, frozen=True, kw_only=True):
    """A handover waiting for a manager step (endorse or approve) that no manager may take: the separation of
    duties rules out every manager of the team (a manager wrote it on a leaver's behalf and is the only one), or the
    team has none. Only an administrator can unblock it, by naming another manager."""

    handover_id: int
    step: str
    message: str
    command: str


async def steps_without_manager(conn: db.Conn) -> list[StepWithoutManager]:
    """Every open handover waiting for a manager step nobody may take, asked of the state machine (`eligible`) with
    the team's enabled managers and any manager already named for the step, as `name_step_manager` asks it."""
    found = []
    managers: dict[int, list[int]] = {}  # by team: many handovers share a few teams
    for step, (action, state) in MANAGER_STEPS.items():
        for handover in await db_handovers.handovers_in_state(conn, state):
            team_id, team = (
                (handover.sending_team_id, handover.sending_team)
                if step == "endorse"
                else (handover.receiving_team_id, handover.receiving_team)
            )
            if team_id not in managers:
                managers[team_id] = [user_id for user_id, _ in await db.team_managers(conn, team_id)]
            candidates = list(managers[team_id])
            named = handover.named_endorser if step == "endorse" else handover.named_approver
            if named is not None:
                person = await db.user_by_id(conn, named)
                if person is not None and not person.disabled:
                    candidates.append(named)
            actors = [Actor(user_id=user_id, manager_teams=frozenset({team_id})) for user_id in candidates]
            if eligible(action, parties_and_state(handover), actors):
                continue
            message = accounts.no_manager_for_step(
                handover.id, handover.child_name, team, step, handover.on_behalf_of_name
            )
            found.append(StepWithoutManager(
                handover_id=handover.id, step=step, message=message,
                command=accounts.name_manager_command(handover.id, step),
            ))  # fmt: skip
    return found


async def _posts_held(conn: db.Conn, leaver: db.User) -> list[tuple[int | None, str]]:
    """The posts a person holds, each as (service id, or None for head of service; how the post is named)."""
    posts: list[tuple[int | None, str]] = [
        (service_id, accounts.service_manager_post(service))
        for service_id, service in await db.services_managed_by(conn, leaver.id)
    ]
    head = await db.head_of_service(conn)
    if head is not None and head[0] == leaver.id:
        posts.append((None, accounts.HEAD_OF_SERVICE_POST))
    return posts


async def _vacate_posts(conn: db.Conn, leaver: db.User, by: int | None, os_user: str | None) -> list[str]:
    """A leaver's posts are left vacant, each with its audit entry (a disabled account holds no post)."""
    vacated = []
    for service_id, post in await _posts_held(conn, leaver):
        if service_id is None:
            await db.vacate_head_of_service(conn)
            details = {"username": leaver.username}
            await _audit(conn, by, os_user, "vacate_head_of_service", "user", leaver.id, details)
        else:
            await db.set_service_manager(conn, service_id, None)
            details = {"service_manager_left": leaver.username}
            await _audit(conn, by, os_user, "vacate_service_manager", "service", service_id, details)
        vacated.append(post)
    return vacated


async def _team_manager_id(conn: db.Conn, username: str, key: str, not_a_manager: str) -> int:
    """The id of the person named for a post only a team manager may hold: `Invalid` keyed `key` for nobody with
    this username, a disabled account, or someone who manages no team."""
    person = await db.user_by_username(conn, username.strip())
    if person is None or person.is_service:
        raise Invalid({key: accounts.NO_SUCH_PERSON})
    if person.disabled or not any(m.role == "manager" for m in await db.memberships(conn, person.id)):
        raise Invalid({key: not_a_manager})
    return person.id


async def create_service(
    database: db.Database, *, name: str, service_manager: str, by: int | None, os_user: str | None = None
) -> int:
    """A service that teams belong to, with its service manager (the username of an enabled team manager; may be
    left empty). `Invalid` keyed name or service_manager."""
    errors = accounts.service_name_errors(name)
    if errors:
        raise Invalid(errors)
    name = name.strip()
    async with database.transaction() as conn:
        if await db.service_by_name(conn, name) is not None:
            raise Invalid({"name": accounts.SERVICE_TAKEN})
        manager_id = None
        if service_manager.strip():
            manager_id = await _team_manager_id(
                conn, service_manager, "service_manager", accounts.NOT_A_MANAGER_SERVICE
            )
        service_id = await db.create_service(conn, name, manager_id)
        details = {"name": name, "service_manager_user_id": manager_id}
        await _audit(conn, by, os_user, "create_service", "service", service_id, details)
    return service_id


async def set_service_manager(
    database: db.Database, *, service: str, service_manager: str, by: int | None, os_user: str | None = None
) -> None:
    """Who manages a service: an enabled team manager. `Invalid` keyed service or service_manager."""
    async with database.transaction() as conn:
        service_id = await db.service_by_name(conn, service.strip())
        if service_id is None:
            raise Invalid({"service": accounts.NO_SUCH_SERVICE})
        manager_id = await _team_manager_id(conn, service_manager, "service_manager", accounts.NOT_A_MANAGER_SERVICE)
        await db.set_service_manager(conn, service_id, manager_id)
        details = {"service_manager_user_id": manager_id}
        await _audit(conn, by, os_user, "set_service_manager", "service", service_id, details)


async def set_team_service(
    database: db.Database, *, team: str, service: str, by: int | None, os_user: str | None = None
) -> None:
    """The service a team belongs to. `Invalid` keyed team or service."""
    async with database.transaction() as conn:
        team_id = await db.team_by_name(conn, team.strip())
        if team_id is None:
            raise Invalid({"team": accounts.NO_SUCH_TEAM})
        service_id = await db.service_by_name(conn, service.strip())
        if service_id is None:
            raise Invalid({"service": accounts.NO_SUCH_SERVICE})
        await db.set_team_service(conn, team_id, service_id)
        await _audit(conn, by, os_user, "set_team_service", "team", team_id, {"service": service.strip()})


async def set_head_of_service(
    database: db.Database, *, username: str, by: int | None, os_user: str | None = None
) -> None:
    """The head of service, who oversees every service: an enabled team manager. `Invalid` keyed head_of_service."""
    async with database.transaction() as conn:
        user_id = await _team_manager_id(conn, username, "head_of_service", accounts.NOT_A_MANAGER_HEAD)
        await db.set_head_of_service(conn, user_id)
        await _audit(conn, by, os_user, "set_head_of_service", "user", user_id, {"username": username.strip()})


async def operator_id(database: db.Database, username: str) -> int:
    """The id of the administrator named as running a command (--by): an enabled person who administers the
    service. `Invalid` keyed by."""
    person = await db.user_by_username(database.reader, username.strip())
    if person is None or person.is_service or person.disabled or not person.is_admin:
        raise Invalid({"by": accounts.NOT_AN_ADMINISTRATOR})
    return person.id


async def vacant_posts(conn: db.Conn) -> list[str]:
    """The posts an administrator is to fill, in words: each service without a service manager, and the head of
    service once there are services for them to oversee."""
    vacant = [accounts.vacant_service_manager(name) for name in await db.services_without_manager(conn)]
    if await db.head_of_service(conn) is None and await db.has_services(conn):
        vacant.append(accounts.VACANT_HEAD_OF_SERVICE)
    return vacant


__all__ = [
    "Disabled",
    "add_person",
    "change_roles",
    "create_service",
    "disable_check",
    "disable_person",
    "operator_id",
    "reset_password",
    "set_head_of_service",
    "set_service_manager",
    "set_team_service",
    "steps_left_by_disabling",
    "steps_without_manager",
    "vacant_posts",
]
