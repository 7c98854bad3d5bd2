"""The rules for signing in with the council's directory: groups to teams and roles, what a sign-in changes, who may
be created or matched by e-mail, and the group map's own checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core import directory
from service.core.directory import GroupMapError, ProviderIdentity, parse_group_map

TEAMS = st.sampled_from(["North Team", "Cp Team", "South Team"])
PAIRS = st.frozensets(st.tuples(TEAMS, st.sampled_from(["worker", "manager"])), max_size=6)
MAP = parse_group_map(
    """
[groups."g-north"]
team = "North Team"
role = "worker"

[groups."g-north-managers"]
team = "North Team"
role = "manager"

[groups."g-audit"]
role = "auditor"

[groups."g-admin"]
role = "admin"
""",
    "groups.toml",
)


@given(PAIRS, PAIRS)
def test_a_sign_in_leaves_exactly_the_memberships_the_groups_give(had: frozenset, wanted: frozenset) -> None:
    changes = directory.membership_changes(had, wanted)
    after = (set(had) - set(changes.remove)) | set(changes.add)
    assert after == set(wanted)
    assert not set(changes.add) & set(had) and set(changes.remove) <= set(had)


@given(st.lists(st.sampled_from(["g-north", "g-north-managers", "g-audit", "g-admin", "g-other", ""]), max_size=6))
def test_groups_give_what_the_map_says_and_unknown_groups_give_nothing(groups: list[str]) -> None:
    granted = directory.granted(MAP, groups)
    assert granted.auditor == ("g-audit" in groups) and granted.admin == ("g-admin" in groups)
    expected = {("North Team", "worker")} if "g-north" in groups else set()
    expected |= {("North Team", "manager")} if "g-north-managers" in groups else set()
    assert granted.memberships == expected
    assert granted.anything == bool(set(groups) & set(MAP.groups))
    person = ProviderIdentity(issuer="https://idp", subject="s", groups=groups)
    assert directory.may_create(person, MAP) == granted.anything


def test_the_groups_claim_may_be_a_list_or_one_value_and_nothing_else_counts() -> None:
    assert directory.claimed_groups({"groups": ["a", 3, "b"]}, "groups") == ["a", "b"]
    assert directory.claimed_groups({"roles": "Handover.Worker"}, "roles") == ["Handover.Worker"]
    assert directory.claimed_groups({"groups": {"a": 1}}, "groups") == []
    assert directory.claimed_groups({}, "groups") == []


def test_an_existing_account_is_matched_only_by_an_address_the_provider_verified() -> None:
    verified = ProviderIdentity(issuer="i", subject="s", email="a@example.gov.uk", email_verified=True)
    assert directory.may_match_by_email(verified)
    assert not directory.may_match_by_email(ProviderIdentity(issuer="i", subject="s", email="a@example.gov.uk"))
    assert not directory.may_match_by_email(ProviderIdentity(issuer="i", subject="s", email_verified=True))


def test_usernames_for_a_new_person_come_from_their_address_and_are_valid() -> None:
    person = ProviderIdentity(issuer="i", subject="s", email="Ann.O'Neil@Example.gov.uk", preferred_username="aon")
    candidates = directory.username_candidates(person)
    assert candidates[:2] == ["ann.o-neil", "aon"] and "ann.o-neil-2" in candidates
    assert directory.username_candidates(ProviderIdentity(issuer="i", subject="s")) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[groups."g1"]\nrole = "boss"', "entry 'g1': field 'role' must be worker, manager, auditor or admin"),
        ('[groups."g1"]\nrole = "worker"', "entry 'g1': field 'team' is missing"),
        ('[groups."g1"]\nrole = "admin"\nteam = "North Team"', "entry 'g1': field 'team' must not be given"),
        ('[groups."g1"]\nrole = "worker"\nteam = "N"\ncolour = "red"', "entry 'g1': field 'colour' is not one"),
        ('[groups."g1"]\nrole = "worker"\nteam = 3', "entry 'g1': field 'team' must be a team's name"),
        ("[groups]", "maps no groups"),
        ("groups = [", "is not valid TOML"),
        ('[teams."x"]\nrole = "worker"', "has 'teams'"),
    ],
)
def test_a_group_map_with_a_mistake_is_refused_naming_file_entry_and_field(text: str, message: str) -> None:
    with pytest.raises(GroupMapError) as refused:
        parse_group_map(text, "/etc/handover/groups.toml")
    assert str(refused.value).startswith("/etc/handover/groups.toml: ") and message in str(refused.value)


def test_what_a_sign_in_changed_is_said_in_words_for_the_audit_trail() -> None:
    changes = directory.MembershipChanges(add=[("Cp Team", "worker")], remove=[("North Team", "worker"),
                                                                             ("North Team", "manager")])  # fmt: skip
    words = directory.change_summary(changes, {("North Team", "manager")})
    assert words == ["now a worker in Cp Team", "no longer a worker in North Team",
                     "kept as a team manager in North Team while they hold cases there"]  # fmt: skip
