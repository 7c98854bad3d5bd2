"""Signing in with the council's OpenID Connect provider: one transaction per sign-in that links or creates the
person, brings their teams and roles up to date from their groups (`core.directory`), and records the sign-in.

The ID token has been checked before this is called (`service.oidc`); this decides what the person may do here.
Nothing is written for a person unknown here whose groups give them nothing.

Errors raised: none; a refusal is returned (`ProviderSignIn.refused`), with the message the person is to read.
"""

from __future__ import annotations

import logging
import time

import msgspec

from service import db, throttle
from service.actions.handovers import actor_for
from service.core import directory, identity
from service.core.workflow import Actor

# A person created here by the provider has no password of their own: a stored hash that matches none (as service
# accounts have), so password sign-in cannot reach the account even while passwords are on.
NO_PASSWORD = "!"

log = logging.getLogger("handover")


class ProviderSignIn(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome: the person and what they may do, or why they may not (a message for them)."""

    user: db.User | None = None
    actor: Actor | None = None
    refused: str = ""
    locked: bool = False


async def sign_in_with_provider(
    database: db.Database,
    person: directory.ProviderIdentity,
    group_map: directory.GroupMap,
    *,
    provider_name: str,
    contact_email: str,
    address: str,
    groups_claim: str = "groups",
    match_email: bool = False,
) -> ProviderSignIn:
    """Sign in the person the provider vouched for, in one transaction with its audit entries.

    - Known here (their issuer and subject are linked): their account.
    - Unknown, with groups that give something, `match_email` on (HANDOVER_OIDC_MATCH_EMAIL), an e-mail address the
      provider has verified and exactly one unlinked person here with it: that person, linked
      (`directory.may_match_by_email`).
    - Unknown otherwise: created, if their groups give them something (`directory.may_create`); if not, refused with
      the page that says whom to ask, and nothing is stored.
    Their teams and roles then become what their groups give, except that a person keeps a team where they hold
    cases, or which they alone manage while work waits on it (the rule that refuses to disable such a leaver), and
    the only administrator keeps that role. A person whose groups give nothing any more is refused and flagged to
    their managers. A disabled account is refused. A locked address (the password sign-in's throttle, which failed
    provider sign-ins count against: `record_failed_provider_sign_in`) is refused before anything else; nothing
    typed into the password form can lock a provider's person out (their subject is not a throttle key).
    A token without the groups claim, or groups that name a team Handover does not have, is refused without
    changing anyone's teams; a known person's refusal is audited, and for the missing claim their other sessions end,
    since what they may do can no longer be told.
    """
    if await throttle.address_locked(database.reader, address):
        return ProviderSignIn(locked=True)
    wanted = directory.granted(group_map, person.groups)
    known, unknown = directory.known_team_names(
        wanted.memberships, [team.name for team in await db.teams(database.reader)]
    )
    if not person.groups_sent or unknown:
        if unknown:  # a misspelt team in the group map: refused, so that nobody is moved out of their real team
            log.error("the group map names teams Handover does not have: %s", ", ".join(sorted(unknown)))
            message = directory.unknown_teams_message(unknown, contact_email)
        else:
            message = directory.groups_not_sent_message(provider_name, groups_claim, contact_email)
        async with database.transaction() as conn:
            user = await db.identity_user(conn, person.issuer, person.subject)
            if user is not None:
                reason = "teams named that are not set up" if unknown else "the groups claim was not sent"
                if not person.groups_sent:
                    await db.end_sessions_before(conn, user.id, time.time())
                await _audit_sign_in(conn, user, "sign_in_failed", reason)
        return ProviderSignIn(refused=message)
    wanted = msgspec.structs.replace(wanted, memberships=known)
    async with database.transaction() as conn:
        user = await db.identity_user(conn, person.issuer, person.subject)
        if user is None:
            user = await _link_or_create(conn, person, wanted, match_email=match_email)
            if user is None:
                return ProviderSignIn(refused=directory.no_mapped_group_message(provider_name, contact_email))
        if user.disabled or user.is_service:
            await _audit_sign_in(conn, user, "sign_in_failed", "account disabled")
            return ProviderSignIn(refused=directory.disabled_message(contact_email))
        await _bring_up_to_date(conn, user, wanted)
        if not wanted.anything:  # their sessions elsewhere end too: they may no longer act here
            await db.end_sessions_before(conn, user.id, time.time())
            await db.set_groups_lost(conn, person.issuer, person.subject, True)
            await _audit_sign_in(conn, user, "sign_in_failed", "no group gives access")
            return ProviderSignIn(refused=directory.no_mapped_group_message(provider_name, contact_email))
        await db.set_groups_lost(conn, person.issuer, person.subject, False)
        await _audit_sign_in(conn, user, "sign_in", "")
        user = await db.user_by_id(conn, user.id) or user  # its service-wide roles may have changed
        memberships = await db.memberships(conn, user.id)
    return ProviderSignIn(user=user, actor=actor_for(user, memberships))


async def _link_or_create(
    conn: db.Conn, person: directory.ProviderIdentity, wanted: directory.Granted, *, match_email: bool
) -> db.User | None:
    """The existing person this identity is (by verified e-mail, where the council chose that), or a new one; linked.
    Someone whose groups give nothing is neither linked nor created: nothing is stored for them."""
    if not wanted.anything:
        return None
    user = None
    if match_email and directory.may_match_by_email(person):
        user = await db.unlinked_person_by_email(conn, person.issuer, person.email)
        if user is not None:  # the provider is their way in from now on: a leaver cannot fall back on a password
            await db.set_password_hash(conn, user.id, NO_PASSWORD)
    if user is None:
        user = await _create(conn, person)
        if user is None:
            return None
    await db.link_identity(conn, person.issuer, person.subject, user.id)
    details = {"username": user.username, "issuer": person.issuer, "subject": person.subject}
    await db.append_audit(conn, user.id, "link_identity", "user", user.id, details)
    return user


async def _create(conn: db.Conn, person: directory.ProviderIdentity) -> db.User | None:
    existing = await db.usernames(conn)
    username = next(
        (
            name
            for name in directory.username_candidates(person)
            if not identity.username_errors(name) and not identity.username_clash_errors(name, existing)
        ),
        None,
    )
    name = directory.display_name(person)
    if username is None or not name:
        return None
    user_id = await db.create_user(conn, username, name[:200], NO_PASSWORD)
    if person.email and person.email_verified:
        await db.set_email(conn, user_id, person.email)
    details = {"username": username, "via": "oidc", "issuer": person.issuer}
    await db.append_audit(conn, None, "create_user", "user", user_id, details)
    return await db.user_by_id(conn, user_id)


async def _bring_up_to_date(conn: db.Conn, user: db.User, wanted: directory.Granted) -> None:
    """Teams and roles become what the groups give, with one audit entry listing what changed (none if nothing)."""
    teams = {team.name: team.id for team in await db.teams(conn)}
    had = {(m.team_name, m.role): m.team_id for m in await db.memberships(conn, user.id)}
    changes = directory.membership_changes(had, wanted.memberships)
    kept = await _kept_memberships(conn, user, changes.remove, had)
    for team, role in changes.remove:
        if (team, role) not in kept:
            await db.remove_membership(conn, user.id, had[(team, role)], role)
    for team, role in changes.add:
        if team not in teams:  # every team was found before the transaction; teams are never removed
            continue
        await db.add_membership(conn, user.id, teams[team], role)
    admin = wanted.admin or (user.is_admin and [user.name] == await db.administrators(conn))
    roles_changed = (user.is_auditor, user.is_admin) != (wanted.auditor, admin)
    if roles_changed:
        await db.set_service_roles(conn, user.id, is_auditor=wanted.auditor, is_admin=admin)
    summary = directory.change_summary(changes, kept)
    if roles_changed:
        summary.append(f"auditor: {'yes' if wanted.auditor else 'no'}; administrator: {'yes' if admin else 'no'}")
    if changes.add or changes.remove or roles_changed:
        details = {"changes": summary, "via": "oidc"}
        await db.append_audit(conn, None, "update_from_directory", "user", user.id, details)


async def _kept_memberships(
    conn: db.Conn, user: db.User, removing: list[tuple[str, str]], had: dict[tuple[str, str], int]
) -> set[tuple[str, str]]:
    """The memberships the leaver rules keep (as for an administrator disabling the account, `actions.accounts`):
    a worker in a team where they hold cases, a manager holding cases there pending transfer, the only enabled
    manager of a team that work waits on, and a service manager's or head of service's manager role."""
    held = await db.held_cases(conn, user.id)
    as_worker = {case.team_id for case in held if not case.held_pending_transfer}
    pending = {case.team_id for case in held if case.held_pending_transfer}
    holds_post = bool(await db.services_managed_by(conn, user.id)) or (
        (head := await db.head_of_service(conn)) is not None and head[0] == user.id
    )
    kept = set()
    for team, role in removing:
        team_id = had[(team, role)]
        if (
            (role == "worker" and team_id in as_worker)
            or (role == "manager" and (team_id in pending or holds_post))
            or (role == "manager" and await _only_manager_with_work(conn, user, team_id))
        ):
            kept.add((team, role))
    return kept


async def _only_manager_with_work(conn: db.Conn, user: db.User, team_id: int) -> bool:
    others = [m for m in await db.team_managers(conn, team_id) if m[0] != user.id]
    return not others and any(await db.waiting_on_team(conn, team_id))


async def _audit_sign_in(conn: db.Conn, user: db.User, action: str, reason: str) -> None:
    details = {"username": user.username, "via": "oidc"} | ({"reason": reason} if reason else {})
    await db.append_audit(conn, user.id, action, "user", user.id, details)


__all__ = ["ProviderSignIn", "sign_in_with_provider"]


async def record_failed_provider_sign_in(database: db.Database, address: str, reason: str) -> None:
    """A sign-in with the provider that this browser began here (it holds the service's signed cookie) and that
    failed before anyone was known: a wrong state, a replayed code, an ID token that does not check out, the
    provider's own refusal. Audited (`sign_in_failed`, naming nobody, with the reason) and counted against the
    address by the same throttle as password sign-ins (`throttle.failed_from`), in one transaction. A callback with
    no sign-in begun here records nothing: it is not an attempt, and an anonymous request stores nothing."""
    async with database.transaction() as conn:
        await throttle.failed_from(conn, address)
        details = {"via": "oidc", "reason": reason[:200], "address": address}
        await db.append_audit(conn, None, "sign_in_failed", "user", None, details)
