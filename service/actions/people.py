"""People and their access: creating people and their team memberships, issuing and revoking service accounts' API
tokens, signing in and out, and the audit entry of every API request.

Each action is one transaction with its audit entry. Sign-in throttling's counters are bookkeeping kept in the store
(`db.record_failure`, `db.clear_failures`), written inside the sign-in's own transaction.

Errors raised: `Invalid` (messages by field).
"""

from __future__ import annotations

import asyncio
import logging
import secrets

import msgspec

from service import db, throttle
from service.actions.handovers import actor_for
from service.core import identity, validation
from service.core.errors import Invalid
from service.core.tokens import token_hash
from service.core.workflow import Actor
from service.passwords import needs_rehash, rehash, verify_password

log = logging.getLogger("handover")

TOKEN_PREFIX = "hov_"  # lets secret scanners recognise a leaked token


class TeamRoles(msgspec.Struct, frozen=True, kw_only=True):
    """The teams someone works in and manages, by team name, and their service-wide roles."""

    worker: list[str] = []
    manager: list[str] = []
    auditor: bool = False
    admin: bool = False


async def _add_memberships(
    conn: db.Conn,
    user_id: int,
    roles: TeamRoles,
    *,
    make_missing_teams: bool,
    by: int | None = None,
    via: str | None = None,
) -> None:
    """Add the memberships, each with its audit entry (who may see and do what is itself on the record); `via` is the
    operating-system account when the command line adds them."""
    teams = {team.name: team.id for team in await db.teams(conn)}
    for role, names in (("worker", roles.worker), ("manager", roles.manager)):
        for name in names:
            if name not in teams:
                if not make_missing_teams:
                    raise Invalid({role: f"There is no team called {name!r}"})
                teams[name] = await db.create_team(conn, name)
                await db.append_audit(conn, by, "create_team", "team", teams[name], {"name": name} | _os(via))
            if await db.add_membership(conn, user_id, teams[name], role):
                details = {"team": name, "role": role} | _os(via)
                await db.append_audit(conn, by, "add_membership", "user", user_id, details)


def _os(os_user: str | None) -> dict[str, str]:
    """The operating-system account that ran a command, for an audit entry's details."""
    return {"os_user": os_user} if os_user else {}


async def create_person(
    database: db.Database,
    *,
    username: str,
    full_name: str,
    password: str,
    roles: TeamRoles,
    by: int | None = None,
    os_user: str | None = None,
) -> int:
    """Create a person's account with their teams (a team named for the first time is created); returns their id.

    `by` is the administrator's user id, or None for the command line run by operations; `os_user` the
    operating-system account that ran the command. `Invalid` keyed username, name or password.
    """
    errors = validation.new_person_errors(username, full_name, password)
    if errors:
        raise Invalid(errors)
    password_hash = await rehash(password)  # off the event loop, one hash at a time
    async with database.transaction() as conn:
        user_id = await create_person_in(
            conn, username.strip(), full_name.strip(), password_hash, roles, by, os_user=os_user
        )
        return user_id


async def create_person_in(
    conn: db.Conn,
    username: str,
    full_name: str,
    password_hash: str,
    roles: TeamRoles,
    by: int | None,
    *,
    os_user: str | None = None,
) -> int:
    """The writes of `create_person`, inside a transaction the caller holds (the demo loader makes many at once).
    A username that is, or looks like, an existing one (`identity.username_clash_errors`) is refused."""
    clash = identity.username_clash_errors(username, await db.usernames(conn))
    if clash:
        raise Invalid(clash)
    user_id = await db.create_user(
        conn, username, full_name, password_hash, is_auditor=roles.auditor, is_admin=roles.admin
    )
    await _add_memberships(conn, user_id, roles, make_missing_teams=True, by=by, via=os_user)
    details = {"username": username, "auditor": roles.auditor, "admin": roles.admin} | _os(os_user)
    await db.append_audit(conn, by, "create_user", "user", user_id, details)
    return user_id


async def issue_api_token(
    database: db.Database, *, account: str, system_name: str, scope: str, roles: TeamRoles
) -> tuple[int, str]:
    """A new API token for a service account (made if new, with these teams and roles; teams must exist).

    Returns (token id, the token): the token is shown once and only its SHA-256 is stored. `Invalid` keyed account,
    scope, worker or manager.
    """
    if scope not in ("read", "write"):
        raise Invalid({"scope": "The scope must be read or write"})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    account = account.strip()
    async with database.transaction() as conn:
        existing = await db.user_by_username(conn, account)
        if existing is not None and not existing.is_service:
            raise Invalid({"account": f"{account!r} is a person, not a service account"})
        if existing is not None and (roles.auditor, roles.admin) != (existing.is_auditor, existing.is_admin):
            raise Invalid({"account": f"{account!r} exists with other roles; an existing account's roles are kept"})
        if existing is not None:
            account_id = existing.id
        else:
            errors = validation.text_errors(
                "account", account, missing="Enter the account's name", limit=validation.USERNAME_MAX, what="The name"
            )
            if system_name.strip():  # shown as the author or sender of what the system does, in pages and exports
                errors |= validation.text_errors(
                    "name", system_name, missing="", limit=validation.FULL_NAME_MAX, what="The system's name"
                )
            # a service account's name is shown as a username too: it may not pass for a person's
            errors = errors or identity.username_clash_errors(account, await db.usernames(conn), key="account")
            if errors:
                raise Invalid(errors)
            account_id = await db.create_user(
                conn, account, system_name or account, "!", is_auditor=roles.auditor, is_admin=roles.admin,
                is_service=True,
            )  # fmt: skip
            details = {"username": account, "service": True, "auditor": roles.auditor, "admin": roles.admin}
            await db.append_audit(conn, None, "create_user", "user", account_id, details)
        await _add_memberships(conn, account_id, roles, make_missing_teams=False)
        token_id = await db.create_api_token(conn, account_id, token_hash(token), scope)
        await db.append_audit(
            conn, None, "create_api_token", "api_token", token_id, {"account": account, "scope": scope}
        )
    return token_id, token


async def issue_personal_api_token(database: db.Database, *, username: str, scope: str) -> tuple[int, str]:
    """A new API token for an enabled person: the token acts as that person (their teams and roles, under the same
    state machine), for a case management system working on their behalf; disabling the person stops it. Returns
    (token id, the token), shown once; only its SHA-256 is stored. `Invalid` keyed person or scope."""
    if scope not in ("read", "write"):
        raise Invalid({"scope": "The scope must be read or write"})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with database.transaction() as conn:
        person = await db.user_by_username(conn, username.strip())
        if person is None or person.disabled or person.is_service:
            raise Invalid({"person": f"There is no enabled person with the username {username.strip()!r}"})
        token_id = await db.create_api_token(conn, person.id, token_hash(token), scope)
        await db.append_audit(
            conn, None, "create_api_token", "api_token", token_id, {"person": person.username, "scope": scope}
        )
    return token_id, token


async def revoke_api_token(database: db.Database, token_id: int) -> bool:
    """Revoke a token at once; False if there is no such active token (nothing is written then)."""
    async with database.transaction() as conn:
        revoked = await db.revoke_api_token(conn, token_id)
        if revoked:
            await db.append_audit(conn, None, "revoke_api_token", "api_token", token_id, {})
    return revoked


async def record_api_request(database: db.Database, token: db.ApiToken, method: str, path: str) -> None:
    """Every use of an API token is in the audit trail (the path, never the query string or the body)."""
    async with database.transaction() as conn:
        details = {"token": token.id, "method": method, "path": path}
        await db.append_audit(conn, token.user_id, "api_request", "api_token", token.id, details)


class SignedIn(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a sign-in: the person (None unless it succeeded), and why not when it did not."""

    user: db.User | None = None
    actor: Actor | None = None
    locked: bool = False  # too many recent failures for this username or address


async def sign_in(database: db.Database, username: str, password: str, address: str) -> SignedIn:
    """Check a username and password (argon2id, off the event loop), throttled by username and by address.

    Every attempt is audited (sign_in, sign_in_failed; sign_in_locked once a window for a locked username and
    address, so that hammering a lock does not grow the log a request at a time). Failures are slowed, then locked for a
    window (`service.throttle`, after NCSC and OWASP guidance on online guessing). A hash made with older settings
    is remade with today's at a successful sign-in.
    """
    # Nothing is cut short: a username or password longer than any account's is simply wrong (cut, a 1,000-character
    # password would also sign in with anything typed after it). The throttle keys on the first characters only.
    username = username[: validation.USERNAME_MAX + 1]
    user = await db.user_by_username(database.reader, username) if len(username) <= validation.USERNAME_MAX else None
    async with database.transaction() as conn:
        locked, delay, counted_at = await throttle.attempt(conn, username, address)
        if locked and await throttle.first_refusal(conn, username, address):
            await _audit_in(conn, user, "sign_in_locked", username)
    if locked:
        return SignedIn(locked=True)
    await asyncio.sleep(delay)  # repeated failures are slowed down
    fits = len(password) <= validation.PASSWORD_MAX
    password_ok = await verify_password(
        user.password_hash if user and fits else None, password[: validation.PASSWORD_MAX]
    )
    password_ok = password_ok and fits
    if user is None or not password_ok or user.disabled or user.is_service:
        async with database.transaction() as conn:  # counted already (`throttle.attempt`)
            await _audit_in(conn, user, "sign_in_failed", username)
        return SignedIn()
    new_hash = await _rehashed(user, password)
    async with database.transaction() as conn:
        await throttle.succeeded(conn, username, address, counted_at)
        if new_hash:  # unless the password was changed meanwhile
            await db.replace_password_hash(conn, user.id, user.password_hash, new_hash)
        await _audit_in(conn, user, "sign_in", username)
        memberships = await db.memberships(conn, user.id)
    return SignedIn(user=user, actor=actor_for(user, memberships))


async def _rehashed(user: db.User, password: str) -> str | None:
    """A hash of the password with today's settings, if the stored one was made with others (and the hashing
    worked: a failure here must not stop a correct password signing in)."""
    if not needs_rehash(user.password_hash):
        return None
    try:
        return await rehash(password)
    except Exception:
        log.exception("could not rehash the password of user %s; it keeps its stored hash", user.id)
        return None


async def _audit_in(conn: db.Conn, user: db.User | None, action: str, username: str) -> None:
    """The entry names the account; what was typed is kept only when it names one (a password typed into the
    username box by mistake is not kept for ever in an append-only log)."""
    user_id = user.id if user else None
    typed = {"username": user.username} if user else {"account": "none with the username typed"}
    await db.append_audit(conn, user_id, action, "user", user_id, typed)


async def sign_out(database: db.Database, user_id: int) -> None:
    async with database.transaction() as conn:
        await db.append_audit(conn, user_id, "sign_out", "user", user_id)


__all__ = [
    "SignedIn",
    "TeamRoles",
    "create_person",
    "create_person_in",
    "issue_api_token",
    "record_api_request",
    "revoke_api_token",
    "sign_in",
    "sign_out",
]
