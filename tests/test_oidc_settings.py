"""The settings for signing in with the council's provider are checked at start-up, each mistake named."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import SettingsError, settings_from_env

GROUPS = '[groups."g1"]\nteam = "North Team"\nrole = "worker"\n'


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    groups = tmp_path / "groups.toml"
    groups.write_text(GROUPS, encoding="utf-8")
    return {
        "HANDOVER_DATA_DIR": str(tmp_path),
        "HANDOVER_SECRET_KEY": "s" * 40,
        "HANDOVER_OIDC_ISSUER": "https://login.example.gov.uk/tenant/v2.0",
        "HANDOVER_OIDC_CLIENT_ID": "handover",
        "HANDOVER_OIDC_CLIENT_SECRET": "a-secret",
        "HANDOVER_OIDC_GROUP_MAP": str(groups),
        **values,
    }


def _production(tmp_path: Path, **values: str) -> dict[str, str]:
    return _env(
        tmp_path, HANDOVER_MODE="production", HANDOVER_STATEMENT_DATE="2026-11-01",
        HANDOVER_COUNCIL_NAME="Northshire County Council", HANDOVER_CONTACT_EMAIL="handover@northshire.gov.uk",
        HANDOVER_DPO_EMAIL="dpo@northshire.gov.uk", HANDOVER_BASE_URL="https://handover.northshire.gov.uk", **values,
    )  # fmt: skip


def test_a_complete_configuration_is_read(tmp_path: Path) -> None:
    settings = settings_from_env(_env(tmp_path, HANDOVER_OIDC_GROUPS_CLAIM="roles", HANDOVER_OIDC_NAME="Northshire"))
    assert settings.oidc_configured and settings.oidc_groups_claim == "roles"
    assert settings.oidc_provider_name == "Northshire" and settings.oidc_scopes == "openid profile email"
    assert settings.oidc_group_map.groups["g1"].team == "North Team" and settings.passwords
    assert settings_from_env(_production(tmp_path)).oidc_redirect_uri == (
        "https://handover.northshire.gov.uk/sign-in/oidc/callback"
    )


def test_without_an_issuer_there_is_no_provider_and_passwords_cannot_be_switched_off(tmp_path: Path) -> None:
    plain = {"HANDOVER_DATA_DIR": str(tmp_path), "HANDOVER_SECRET_KEY": "s" * 40}
    assert not settings_from_env(plain).oidc_configured
    with pytest.raises(SettingsError, match="HANDOVER_PASSWORDS may be off only when HANDOVER_OIDC_ISSUER is set"):
        settings_from_env({**plain, "HANDOVER_PASSWORDS": "off"})
    with pytest.raises(SettingsError, match="HANDOVER_OIDC_CLIENT_ID is set but HANDOVER_OIDC_ISSUER is not"):
        settings_from_env({**plain, "HANDOVER_OIDC_CLIENT_ID": "x"})
    with pytest.raises(SettingsError, match="HANDOVER_PASSWORDS must be true or false"):
        settings_from_env(_env(tmp_path, HANDOVER_PASSWORDS="of"))
    with pytest.raises(SettingsError, match="HANDOVER_OIDC_MATCH_EMAIL must be true or false"):
        settings_from_env(_env(tmp_path, HANDOVER_OIDC_MATCH_EMAIL="sometimes"))
    with pytest.raises(SettingsError, match="HANDOVER_OIDC_MATCH_EMAIL is set but HANDOVER_OIDC_ISSUER is not"):
        settings_from_env({**plain, "HANDOVER_OIDC_MATCH_EMAIL": "on"})
    assert not settings_from_env(_env(tmp_path)).oidc_match_email, "off unless the council chooses it"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"HANDOVER_OIDC_CLIENT_ID": ""}, "HANDOVER_OIDC_CLIENT_ID must be set"),
        ({"HANDOVER_OIDC_PRIVATE_KEY": "/nowhere.pem"}, "not both or neither"),
        ({"HANDOVER_OIDC_CLIENT_SECRET": ""}, "not both or neither"),
        ({"HANDOVER_OIDC_ISSUER": "login.example.gov.uk"}, "HANDOVER_OIDC_ISSUER must be the provider's issuer"),
        ({"HANDOVER_OIDC_SCOPES": "profile email"}, "HANDOVER_OIDC_SCOPES must include openid"),
        ({"HANDOVER_OIDC_GROUPS_CLAIM": "my groups"}, "HANDOVER_OIDC_GROUPS_CLAIM must be a claim's name"),
        ({"HANDOVER_OIDC_GROUP_MAP": ""}, "HANDOVER_OIDC_GROUP_MAP must be set"),
        ({"HANDOVER_OIDC_GROUP_MAP": "/no/such/groups.toml"}, "HANDOVER_OIDC_GROUP_MAP: cannot read"),
    ],
)
def test_a_half_configured_provider_stops_start_up_naming_the_setting(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from_env(_env(tmp_path, **values))


def test_a_private_key_file_must_hold_a_key(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key", encoding="ascii")
    with pytest.raises(SettingsError, match="holds no PEM private key"):
        settings_from_env(_env(tmp_path, HANDOVER_OIDC_CLIENT_SECRET="", HANDOVER_OIDC_PRIVATE_KEY=str(key)))


def test_a_mistake_in_the_group_map_names_the_file_the_entry_and_the_field(tmp_path: Path) -> None:
    env = _env(tmp_path)
    Path(env["HANDOVER_OIDC_GROUP_MAP"]).write_text('[groups."g1"]\nrole = "manager"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        settings_from_env(env)
    assert str(refused.value) == (
        f"HANDOVER_OIDC_GROUP_MAP {env['HANDOVER_OIDC_GROUP_MAP']}: entry 'g1': field 'team' is missing: a manager "
        "belongs to a team"
    )


def test_production_needs_https_for_the_issuer_and_an_address_for_the_redirect(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HANDOVER_OIDC_ISSUER must start with https:// in production"):
        settings_from_env(_production(tmp_path, HANDOVER_OIDC_ISSUER="http://login.example.gov.uk"))
    production = _production(tmp_path)
    del production["HANDOVER_BASE_URL"]
    with pytest.raises(SettingsError, match="HANDOVER_BASE_URL must be set in production when HANDOVER_OIDC_ISSUER"):
        settings_from_env(production)
