"""Signing in with the council's own directory (an OpenID Connect provider such as Microsoft Entra ID): which teams
and roles a person's groups give them, what changes here at each sign-in, who may be created, and every message a
person meets on the way. Pure: nothing here reads the store, the network or the web.

The group map is the council's own configuration (`HANDOVER_OIDC_GROUP_MAP`, a TOML file): each group id the
provider sends (Entra ID: a security group's object id in the `groups` claim, or an app role's value in `roles`)
gives a role in a team (worker or manager) or a role across the service (auditor or administrator). A person's teams
and roles here are brought up to date from their groups at every sign-in.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import msgspec

Role = Literal["worker", "manager", "auditor", "admin"]
TEAM_ROLES = ("worker", "manager")
SERVICE_ROLES = ("auditor", "admin")
ROLE_NAMES = {"worker": "worker", "manager": "team manager", "auditor": "auditor", "admin": "administrator"}
GROUP_ID_MAX = 200  # Entra's object ids are 36 characters; app role values at most 120
TEAM_NAME_MAX = 200


class GroupGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What one group gives: a role in a team (worker, manager), or a role across the service (auditor, admin)."""

    role: Role
    team: str = ""


class GroupMap(msgspec.Struct, frozen=True, kw_only=True):
    """Group id (as the provider sends it) -> what membership of that group gives here."""

    groups: dict[str, GroupGrant] = {}


class Granted(msgspec.Struct, frozen=True, kw_only=True):
    """What a person's groups give them here: (team name, role) pairs and the service-wide roles."""

    memberships: frozenset[tuple[str, str]] = frozenset()
    auditor: bool = False
    admin: bool = False

    @property
    def anything(self) -> bool:
        """Whether the groups give any access at all (nothing: the person cannot act here)."""
        return bool(self.memberships) or self.auditor or self.admin


class ProviderIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """Who the provider says signed in, from an ID token whose signature, issuer, audience, expiry and nonce have
    been checked (`service.oidc`). `subject` is the provider's stable id for the person (the `sub` claim)."""

    issuer: str
    subject: str
    name: str = ""
    email: str = ""
    email_verified: bool = False
    preferred_username: str = ""
    groups: list[str] = []
    # whether the token carried the groups claim at all: without it (Microsoft Entra ID leaves it out past 200 groups,
    # the "groups overage"; or the claim's name is set wrongly) nothing is known about the person's groups
    groups_sent: bool = True


class GroupMapError(ValueError):
    """A group map the service must not start with; the message names the file, the entry and the field."""


def parse_group_map(text: str, source: str) -> GroupMap:
    """A group map from its TOML text (`source` names the file in messages). `GroupMapError` for TOML that does not
    parse, an entry without a role, a role other than worker/manager/auditor/admin, a team role without a team, a
    service-wide role with one, or a field the map does not have."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GroupMapError(f"{source}: is not valid TOML ({exc})") from exc
    unknown = sorted(set(raw) - {"groups"})
    if unknown:
        raise GroupMapError(f'{source}: has {unknown[0]!r}; the map has only [groups."<group id>"] entries')
    entries = raw.get("groups", {})
    if not isinstance(entries, dict) or not entries:
        raise GroupMapError(f'{source}: maps no groups; add entries such as [groups."<group id>"]')
    groups = {}
    for group_id, entry in entries.items():
        groups[group_id] = _grant(source, group_id, entry)
    return GroupMap(groups=groups)


def _grant(source: str, group_id: str, entry: Any) -> GroupGrant:
    where = f"{source}: entry {group_id!r}"
    if not group_id.strip() or len(group_id) > GROUP_ID_MAX or not group_id.isprintable():
        raise GroupMapError(f"{where}: the group id must be one line of at most {GROUP_ID_MAX} characters")
    if not isinstance(entry, dict):
        raise GroupMapError(f"{where}: must be a table with a role (and a team for a worker or manager)")
    extra = sorted(set(entry) - {"role", "team"})
    if extra:
        raise GroupMapError(f"{where}: field {extra[0]!r} is not one the map has (role, team)")
    role = entry.get("role")
    if role not in (*TEAM_ROLES, *SERVICE_ROLES):
        raise GroupMapError(f"{where}: field 'role' must be worker, manager, auditor or admin, not {role!r}")
    team = entry.get("team", "")
    if not isinstance(team, str):
        raise GroupMapError(f"{where}: field 'team' must be a team's name, not {team!r}")
    team = team.strip()
    if role in TEAM_ROLES and not team:
        raise GroupMapError(f"{where}: field 'team' is missing: a {role} belongs to a team")
    if role in SERVICE_ROLES and team:
        raise GroupMapError(f"{where}: field 'team' must not be given: {role} is a role across the service")
    if len(team) > TEAM_NAME_MAX or not team.isprintable():
        raise GroupMapError(f"{where}: field 'team' must be one line of at most {TEAM_NAME_MAX} characters")
    return GroupGrant(role=role, team=team)


def claimed_groups(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The group ids in the ID token's `claim` (a list of strings, or one string); anything else gives none."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def granted(group_map: GroupMap, groups: Iterable[str]) -> Granted:
    """What these groups give here; a group the map does not name gives nothing."""
    grants = [group_map.groups[group] for group in groups if group in group_map.groups]
    return Granted(
        memberships=frozenset((g.team, g.role) for g in grants if g.role in TEAM_ROLES),
        auditor=any(g.role == "auditor" for g in grants),
        admin=any(g.role == "admin" for g in grants),
    )


class MembershipChanges(msgspec.Struct, frozen=True, kw_only=True):
    """What a sign-in changes in a person's teams: (team name, role) pairs to add and to remove."""

    add: list[tuple[str, str]]
    remove: list[tuple[str, str]]


def membership_changes(had: Iterable[tuple[str, str]], wanted: Iterable[tuple[str, str]]) -> MembershipChanges:
    """Memberships to add (wanted, not had) and to remove (had, not wanted), each sorted by team then role."""
    had_set, wanted_set = set(had), set(wanted)
    return MembershipChanges(add=sorted(wanted_set - had_set), remove=sorted(had_set - wanted_set))


def may_create(identity: ProviderIdentity, group_map: GroupMap) -> bool:
    """A person unknown here is created at their first sign-in only when their groups give them something to do."""
    return granted(group_map, identity.groups).anything


def may_match_by_email(identity: ProviderIdentity) -> bool:
    """Whether a first sign-in may be matched to an existing account by e-mail address: only when the provider says
    it checked the address (`email_verified` true). Otherwise anyone able to set their own address at the provider
    could take over the account of whoever has that address here (the "nOAuth" weakness). Microsoft Entra ID's ID
    tokens carry no `email_verified`, so there an existing account is never matched this way."""
    return bool(identity.email) and identity.email_verified


def username_candidates(identity: ProviderIdentity) -> list[str]:
    """Usernames to try for a person created at sign-in, in order: the part of their e-mail address before the @,
    then of the provider's preferred username, in lower case with any character a username may not have made a
    hyphen, each also with -2 to -9 after it (the first that is free, and not like an existing one, is used)."""
    bases = []
    for value in (identity.email, identity.preferred_username):
        base = re.sub(r"[^a-z0-9._-]", "-", value.strip().lower().partition("@")[0]).strip("._-")
        if base and base not in bases:
            bases.append(base[:80])
    return [*bases, *(f"{base}-{n}" for base in bases for n in range(2, 10))]


def display_name(identity: ProviderIdentity) -> str:
    """The name pages show for a person created at sign-in: the provider's `name`, else their e-mail address."""
    return (identity.name or identity.email or identity.preferred_username).strip()


def sign_in_button(provider_name: str) -> str:
    return f"Sign in with {provider_name}"


# What a person meets when signing in with the council's directory. Each page says what happened and whom to ask.
NO_ACCESS_TITLE = "You do not have access to Handover"
SIGN_IN_FAILED_TITLE = "Sign-in did not work"
PASSWORDS_OFF = "Sign in with your council account instead: passwords are not used here"
# an administrator's password reset while passwords are off (HANDOVER_PASSWORDS=off): it would set a password no one
# can use, and suggest a way in that is closed
PASSWORD_RESETS_OFF = "Passwords are switched off here: people sign in with their council account"
NO_USERNAME = "No username could be made from the e-mail address your council account gives"


def no_mapped_group_message(provider_name: str, contact_email: str) -> str:
    """Why a person whose groups give them nothing here cannot act, and whom to ask."""
    return (
        f"Your {provider_name} account is not in any group that gives access to Handover. Ask your line manager to "
        f"ask your IT service desk to add you to your team’s group, or email {contact_email}."
    )


def groups_not_sent_message(provider_name: str, claim: str, contact_email: str) -> str:
    """Why a sign-in whose ID token carried no groups claim is refused, changing nothing: reading a missing claim as
    "no groups" would take every team away from everyone at once if the claim's name or the provider changed."""
    return (
        f"Your {provider_name} account did not send its groups (the ‘{claim}’ claim), so Handover cannot tell which "
        f"teams you work in. Nothing has been changed. Email {contact_email} and say this message was shown."
    )


def unknown_teams_message(teams: Iterable[str], contact_email: str) -> str:
    """Why a sign-in is refused when the group map gives a team Handover does not have: teams are made by an
    administrator, never by a sign-in, so a misspelt team in the map cannot move people out of their real team."""
    names = ", ".join(f"‘{team}’" for team in sorted(teams))
    return (
        f"Your groups give you a team Handover does not have ({names}). Nothing has been changed. Email "
        f"{contact_email}: the group map names a team that is not set up here."
    )


def known_team_names(
    wanted: frozenset[tuple[str, str]], teams: Iterable[str]
) -> tuple[frozenset[tuple[str, str]], set[str]]:
    """The group map's (team, role) pairs with each team as Handover spells it (names compared without regard to
    case, surrounding spaces or repeated spaces), and the map's team names Handover does not have."""
    spelt = {" ".join(team.split()).casefold(): team for team in teams}
    known = set()
    unknown = set()
    for team, role in wanted:
        found = spelt.get(" ".join(team.split()).casefold())
        if found is None:
            unknown.add(team)
        else:
            known.add((found, role))
    return frozenset(known), unknown


def disabled_message(contact_email: str) -> str:
    return (
        "Your Handover account has been disabled. If you have returned or moved team, ask your line manager to "
        f"contact the Handover administrator at {contact_email}."
    )


def failed_message(provider_name: str) -> str:
    """A sign-in that went wrong between the service and the provider: nothing was stored, trying again is safe."""
    return (
        f"Signing in with {provider_name} did not complete, so you have not been signed in. Go back to the sign-in "
        "page and try again. If it keeps happening, tell your IT service desk."
    )


def provider_refused_message(provider_name: str) -> str:
    """The provider itself said no (the person cancelled, or their account there is disabled)."""
    return (
        f"{provider_name} did not sign you in. If your council account has been disabled or you cancelled, you cannot "
        "use Handover until it works again: ask your IT service desk."
    )


def left_directory_note(provider_name: str) -> str:
    """What the manager's caseload page says of a person whose groups at the provider no longer give them access,
    but who is still kept in a team because they hold cases there."""
    return (
        f"No longer in a Handover group at {provider_name}: they cannot sign in. Transfer their children, then ask "
        "the administrator to disable the account."
    )


def change_summary(changes: MembershipChanges, kept: Iterable[tuple[str, str]]) -> list[str]:
    """A sign-in's changes in words, for the audit entry: 'now a worker in North Team', 'no longer ...', 'kept ...'."""
    kept_set = set(kept)
    words = [f"now a {ROLE_NAMES[role]} in {team}" for team, role in changes.add]
    words += [
        f"no longer a {ROLE_NAMES[role]} in {team}" for team, role in changes.remove if (team, role) not in kept_set
    ]
    words += [f"kept as a {ROLE_NAMES[role]} in {team} while they hold cases there" for team, role in sorted(kept_set)]
    return words
