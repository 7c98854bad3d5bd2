"""Signing in with the council's OpenID Connect provider, end to end against a real provider (oidc-provider under
Node, tests/oidc/provider.mjs): the code flow with PKCE, state and nonce, ID-token checks, key rotation, teams and
roles from groups, leavers, RP-initiated logout, and passwords switched off."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service import actions, db, throttle
from service.app import create_app
from service.core import directory
from service.settings import settings_from_env
from tests.conftest import Browser, Site, seed
from tests.oidc_support import (
    JWT_CLIENT_ID,
    KEY_ID,
    TEST_BASE,
    OpenIdProvider,
    log_in_at_provider,
    running_provider,
)
from tests.test_hostile_input import BAD_UTF8, HOSTILE, JUST_OVER, page_verdict
from tests.test_security import ROLES, USERNAMES

pytestmark = pytest.mark.anyio

ANN = {"name": "Ann Example", "email": "ann@example.gov.uk", "email_verified": True, "groups": ["g-north-workers"]}
NOBODY = {"name": "Nat Nobody", "email": "nat@example.gov.uk", "email_verified": True, "groups": ["g-unmapped"]}


def _env(council: OpenIdProvider, tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {
        "HANDOVER_DATA_DIR": str(tmp_path),
        "HANDOVER_SECRET_KEY": "test-secret-" + "x" * 32,
        "HANDOVER_BASE_URL": TEST_BASE,
        **council.settings(),
        **overrides,
    }


async def _site(env: dict[str, str]) -> AsyncIterator[Site]:
    app = create_app(settings_from_env(env))
    async with AsyncTestClient(app=app) as client:
        world = await seed(app.state.db)
        yield Site(app=app, client=client, world=world)


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenIdProvider]:
    """The council's provider: one process for this module, each test setting the people it knows."""
    yield from running_provider(tmp_path_factory.mktemp("oidc"), [TEST_BASE])


@pytest.fixture
async def site(council: OpenIdProvider, tmp_path: Path) -> AsyncIterator[Site]:
    council.set_accounts({"ann": dict(ANN), "nat": dict(NOBODY)})
    async for running in _site(_env(council, tmp_path)):
        yield running


async def provider_sign_in(person: Browser, subject: str) -> httpx.Response:
    """Press "Sign in with ...", sign in at the provider, and come back to the service."""
    started = await person.get("/sign-in/oidc")
    assert started.status_code == 303, started.text
    back = await log_in_at_provider(started.headers["location"], subject)
    assert back.startswith(f"{TEST_BASE}/sign-in/oidc/callback?"), back
    return await person.get(back.removeprefix(TEST_BASE))


async def _stored(site: Site) -> tuple[int, int, int]:
    """How much is stored about people: people, audit entries, identities. A failed attempt that names nobody (audited
    and throttled like a password's: `test_failed_attempts_are_audited_and_throttled_by_address`) is not counted."""
    reader = site.db.reader
    [people] = await reader.execute_fetchall("SELECT COUNT(*) FROM users")
    [entries] = await reader.execute_fetchall(
        "SELECT COUNT(*) FROM audit_log WHERE NOT (action = 'sign_in_failed' AND object_id IS NULL)"
    )
    [identities] = await reader.execute_fetchall("SELECT COUNT(*) FROM oidc_identities")
    return people[0], entries[0], identities[0]


async def _user(site: Site, subject: str) -> tuple[db.User, list[db.Membership]]:
    user = await db.identity_user(site.db.reader, site.app.state.settings.oidc_issuer, subject)
    assert user is not None
    return user, await db.memberships(site.db.reader, user.id)


async def _actions_for(site: Site, user_id: int) -> list[str]:
    rows = await site.db.reader.execute_fetchall(
        "SELECT action FROM audit_log WHERE object_type = 'user' AND object_id = ? ORDER BY seq", (user_id,)
    )
    return [row[0] for row in rows]


async def test_a_worker_signs_in_with_the_council_account_and_is_created_in_their_team(site: Site) -> None:
    ann = Browser(site.client)
    response = await provider_sign_in(ann, "ann")
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = await ann.get("/")
    assert home.status_code == 200 and "Ann Example" in home.text
    user, teams = await _user(site, "ann")
    assert (user.username, user.name) == ("ann", "Ann Example")
    assert [(m.team_name, m.role) for m in teams] == [("North Team", "worker")]
    assert await _actions_for(site, user.id) == ["create_user", "link_identity", "update_from_directory", "sign_in"]


async def test_the_session_id_changes_at_sign_in(site: Site) -> None:
    ann = Browser(site.client)
    await ann.get("/sign-in")
    planted = "a" * 64
    ann.jar.set("session", planted, domain="testserver.local")
    await provider_sign_in(ann, "ann")
    assert ann.jar.get("session") not in (None, planted)
    assert (await ann.get("/")).status_code == 200


async def test_an_unknown_person_with_no_mapped_group_is_told_whom_to_ask_and_nothing_is_stored(site: Site) -> None:
    before = await _stored(site)
    nat = Browser(site.client)
    response = await provider_sign_in(nat, "nat")
    assert response.status_code == 403
    assert directory.no_mapped_group_message("Example Council", site.app.state.settings.contact_email) in response.text
    assert await _stored(site) == before
    assert "session" not in nat.jar and (await nat.get("/")).status_code in (302, 303, 401)


async def test_teams_follow_the_groups_at_each_sign_in_with_the_change_audited(
    site: Site,
    council: OpenIdProvider,
) -> None:
    await provider_sign_in(Browser(site.client), "ann")
    council.set_groups("ann", ["g-cp-workers", "g-auditors"])
    response = await provider_sign_in(Browser(site.client), "ann")
    assert response.status_code == 303
    user, teams = await _user(site, "ann")
    assert [(m.team_name, m.role) for m in teams] == [("Cp Team", "worker")] and user.is_auditor
    rows = await site.db.reader.execute_fetchall(
        "SELECT details FROM audit_log WHERE action = 'update_from_directory' AND object_id = ? ORDER BY seq DESC",
        (user.id,),
    )
    assert "now a worker in Cp Team" in rows[0][0] and "no longer a worker in North Team" in rows[0][0]


async def test_a_person_removed_from_their_group_loses_access_at_the_next_sign_in(
    site: Site,
    council: OpenIdProvider,
) -> None:
    ann = Browser(site.client)
    await provider_sign_in(ann, "ann")
    assert (await ann.get("/")).status_code == 200
    council.set_groups("ann", [])
    response = await provider_sign_in(Browser(site.client), "ann")
    assert response.status_code == 403 and "not in any group that gives access" in response.text
    user, teams = await _user(site, "ann")
    assert teams == []
    assert (await _actions_for(site, user.id))[-1] == "sign_in_failed"
    assert (await ann.get("/")).status_code in (302, 303, 401), "the session she already had ends too"


async def test_a_leaver_who_holds_cases_keeps_the_team_and_is_flagged_to_the_manager(
    site: Site,
    council: OpenIdProvider,
) -> None:
    await provider_sign_in(Browser(site.client), "ann")
    user, _ = await _user(site, "ann")
    async with site.db.transaction() as conn:
        await db.create_case(conn, "A-1", "Alex Held", "2015-01-01", user.id, site.world.teams["north"])
    council.set_groups("ann", [])
    response = await provider_sign_in(Browser(site.client), "ann")
    assert response.status_code == 403
    _, teams = await _user(site, "ann")
    assert [(m.team_name, m.role) for m in teams] == [("North Team", "worker")]  # kept: she holds Alex's case
    manager = await site.as_user("smgr")
    caseloads = await manager.get("/caseloads")
    assert "Ann Example" in caseloads.text and "Not in a Handover group" in caseloads.text
    caseload = await manager.get(f"/caseloads/{user.id}")
    assert directory.left_directory_note("Example Council") in caseload.text


async def test_a_disabled_account_cannot_sign_in_with_the_provider(site: Site) -> None:
    await provider_sign_in(Browser(site.client), "ann")
    user, _ = await _user(site, "ann")
    await actions.disable_person(site.db, user_id=user.id, by=site.world.users["adm"])
    response = await provider_sign_in(Browser(site.client), "ann")
    assert response.status_code == 403
    assert directory.disabled_message(site.app.state.settings.contact_email) in response.text


async def test_sign_in_with_the_provider_is_throttled_as_password_sign_in_is(site: Site) -> None:
    async with site.db.transaction() as conn:  # twenty failed password sign-ins from this address just now
        for attempt in range(throttle.ADDRESS_LIMIT):
            await throttle.failed(conn, f"guess{attempt}", "testclient")
    before = await _stored(site)
    response = await provider_sign_in(Browser(site.client), "ann")
    assert response.status_code == 429 and throttle.LOCKED_MESSAGE in response.text
    assert await _stored(site) == before


async def test_nothing_typed_into_the_password_form_locks_a_providers_person_out(site: Site) -> None:
    for spelling in ("oidc:ann", "OIDC:ann", "provider:ann", "ann"):
        for _ in range(throttle.USER_LIMIT):
            await Browser(site.client).sign_in(spelling, "not the password")
    response = await provider_sign_in(Browser(site.client), "ann")
    assert response.status_code == 303, response.text


async def test_a_person_is_matched_by_e_mail_only_if_chosen_verified_and_their_groups_give_access(
    council: OpenIdProvider, tmp_path: Path
) -> None:
    for match in ("on", "off"):
        (tmp_path / match).mkdir()
        async for site in _site(_env(council, tmp_path / match, HANDOVER_OIDC_MATCH_EMAIL=match)):
            async with site.db.transaction() as conn:
                for name in ("out", "rec", "rec2"):
                    await db.set_email(conn, site.world.users[name], f"{name}@example.gov.uk")
            council.set_accounts({
                "out-sub": {"name": "Out", "email": "OUT@example.gov.uk", "email_verified": True,
                            "groups": ["g-north-workers"]},
                "rec-sub": {"name": "Rec", "email": "rec@example.gov.uk", "email_verified": False,
                            "groups": ["g-cp-workers"]},
                "rec2-sub": {"name": "Rec2", "email": "rec2@example.gov.uk", "email_verified": True, "groups": []},
            })  # fmt: skip
            before = await _stored(site)
            await provider_sign_in(Browser(site.client), "rec2-sub")
            assert await _stored(site) == before, "no groups: neither linked nor created, whatever the e-mail says"
            await provider_sign_in(Browser(site.client), "out-sub")
            await provider_sign_in(Browser(site.client), "rec-sub")
            out, _ = await _user(site, "out-sub")
            rec, _ = await _user(site, "rec-sub")
            assert (out.id == site.world.users["out"]) == (match == "on")
            assert rec.id != site.world.users["rec"] and rec.username != "rec"
            # once the provider vouches for them, their old password stops working: a leaver cannot fall back on it
            by_password = await Browser(site.client).sign_in("out")
            assert (by_password.status_code == 303) == (match == "off")
            if match == "on":  # a disabled account is never matched, so a returning worker is not stuck on it
                await actions.disable_person(site.db, user_id=site.world.users["rec2"], by=site.world.users["adm"])
                council.set_accounts({"rec2-new": {"name": "Rec2", "email": "rec2@example.gov.uk",
                                                   "email_verified": True, "groups": ["g-cp-workers"]}})  # fmt: skip
                assert (await provider_sign_in(Browser(site.client), "rec2-new")).status_code == 303
                rec2, _ = await _user(site, "rec2-new")
                assert rec2.id != site.world.users["rec2"]


async def test_a_token_without_the_groups_claim_is_refused_and_changes_nothing(
    site: Site, council: OpenIdProvider
) -> None:
    council.set_accounts({"ann": dict(ANN), "new": {**ANN, "email": "new@example.gov.uk"}})
    ann = Browser(site.client)
    await provider_sign_in(ann, "ann")
    before = await _stored(site)
    council.set_accounts({sub: {key: value for key, value in ANN.items() if key != "groups"} for sub in ("ann", "new")})
    response = await provider_sign_in(Browser(site.client), "ann")
    assert response.status_code == 403 and "did not send its groups" in response.text
    user, teams = await _user(site, "ann")
    assert teams, "Ann keeps her team: a missing claim is not an empty list"
    assert (await _actions_for(site, user.id))[-1] == "sign_in_failed", "her refusal is audited"
    assert (await ann.get("/")).status_code in (302, 303, 401), "what she may do cannot be told: her session ends"
    people, entries, identities = before
    assert await _stored(site) == (people, entries + 1, identities)
    response = await provider_sign_in(Browser(site.client), "new")
    assert response.status_code == 403 and await _stored(site) == (people, entries + 1, identities)


async def test_a_group_map_naming_a_team_not_set_up_here_is_refused_and_changes_nothing(
    council: OpenIdProvider, tmp_path: Path
) -> None:
    groups = tmp_path / "groups.toml"
    groups.write_text('[groups."g-north-workers"]\nteam = "north  team"\nrole = "worker"\n'
                      '[groups."g-typo"]\nteam = "Nort Team"\nrole = "worker"\n', encoding="utf-8")  # fmt: skip
    async for site in _site(_env(council, tmp_path, HANDOVER_OIDC_GROUP_MAP=str(groups))):
        council.set_accounts({"ann": dict(ANN)})
        await provider_sign_in(Browser(site.client), "ann")  # "north  team" is North Team, however it is spelt
        _, teams = await _user(site, "ann")
        assert [membership.team_name for membership in teams] == ["North Team"]
        people, entries, identities = await _stored(site)
        council.set_accounts({"ann": {**ANN, "groups": ["g-north-workers", "g-typo"]}})
        response = await provider_sign_in(Browser(site.client), "ann")
        assert response.status_code == 403 and "‘Nort Team’" in response.text
        assert await _stored(site) == (people, entries + 1, identities), "only her refusal, audited"
        _, teams = await _user(site, "ann")
        assert [membership.team_name for membership in teams] == ["North Team"]
        names = await site.app.state.db.reader.execute_fetchall("SELECT name FROM teams ORDER BY name")
        assert [row[0] for row in names] == ["Cp Team", "North Team", "South Team"], "no team made by a sign-in"


async def test_a_wrong_state_is_refused_and_nothing_is_stored(site: Site) -> None:
    before = await _stored(site)
    ann = Browser(site.client)
    started = await ann.get("/sign-in/oidc")
    back = await log_in_at_provider(started.headers["location"], "ann")
    query = parse_qs(urlsplit(back).query)
    response = await ann.get("/sign-in/oidc/callback", params={"code": query["code"][0], "state": "not-the-state"})
    assert response.status_code == 400 and "did not complete" in response.text
    assert await _stored(site) == before
    without_cookie = Browser(site.client)
    response = await without_cookie.get(back.removeprefix(TEST_BASE))
    assert response.status_code == 400
    assert await _stored(site) == before


async def test_an_error_from_the_provider_is_refused(site: Site) -> None:
    ann = Browser(site.client)
    started = await ann.get("/sign-in/oidc")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    response = await ann.get("/sign-in/oidc/callback", params={"error": "access_denied", "state": state})
    assert response.status_code == 403 and "did not sign you in" in response.text


async def test_a_replayed_code_is_refused(site: Site) -> None:
    ann = Browser(site.client)
    started = await ann.get("/sign-in/oidc")
    pending = ann.jar.get("handover-oidc")
    back = await log_in_at_provider(started.headers["location"], "ann")
    assert (await ann.get(back.removeprefix(TEST_BASE))).status_code == 303
    before = await _stored(site)
    thief = Browser(site.client)
    thief.jar.set("handover-oidc", pending or "", domain="testserver.local", path="/sign-in/oidc")
    response = await thief.get(back.removeprefix(TEST_BASE))
    assert response.status_code == 400
    assert await _stored(site) == before


@pytest.mark.parametrize(
    "change",
    [
        {"tamper": True},  # the payload changed, the signature not
        {"claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}},  # expired an hour ago
        # signed by the provider for another service (naming this one as the party it was issued to)
        {"claims": {"aud": "another-service", "azp": "handover"}},
        {"claims": {"iss": "https://elsewhere.example"}},
        {"claims": {"nonce": "another-sign-in"}},
    ],
    ids=["tampered", "expired", "wrong-audience", "wrong-issuer", "wrong-nonce"],
)
async def test_an_id_token_that_does_not_check_out_is_refused(
    site: Site,
    council: OpenIdProvider,
    change: dict[str, Any],
) -> None:
    before = await _stored(site)
    ann = Browser(site.client)
    started = await ann.get("/sign-in/oidc")
    back = await log_in_at_provider(started.headers["location"], "ann")
    council.next_id_token(change)
    response = await ann.get(back.removeprefix(TEST_BASE))
    assert response.status_code == 400 and "did not complete" in response.text
    assert await _stored(site) == before and "session" not in ann.jar


async def test_the_providers_new_key_is_followed_after_rotation(
    site: Site,
    council: OpenIdProvider,
) -> None:
    assert (await provider_sign_in(Browser(site.client), "ann")).status_code == 303  # the old key is now kept
    council.set_accounts(council.accounts)
    new_kid = council.rotate_keys()
    council.set_accounts(council.accounts)
    ann = Browser(site.client)
    response = await provider_sign_in(ann, "ann")
    assert response.status_code == 303, response.text
    kept = site.app.state.oidc._client.server_metadata["jwks"]
    assert [key["kid"] for key in kept["keys"]] == [new_kid]


async def test_signing_out_signs_out_at_the_provider_too(site: Site) -> None:
    ann = Browser(site.client)
    await provider_sign_in(ann, "ann")
    response = await ann.post("/sign-out")
    assert response.status_code == 303
    # a browser holds the sign-out form's redirect to `form-action`: the provider is the one other place allowed
    issuer_origin = site.app.state.settings.oidc_issuer
    assert f"form-action 'self' {issuer_origin};" in response.headers["content-security-policy"]
    going = urlsplit(response.headers["location"])
    issuer = site.app.state.settings.oidc_issuer
    assert f"{going.scheme}://{going.netloc}{going.path}" == f"{issuer}/session/end"
    query = parse_qs(going.query)
    assert query["post_logout_redirect_uri"] == [f"{TEST_BASE}/sign-in"] and query["id_token_hint"]
    assert (await ann.get("/")).status_code in (302, 303, 401)
    at_provider = httpx.get(response.headers["location"], timeout=10)
    assert at_provider.status_code == 200  # the provider's own "sign out?" page: the hint and address were accepted


async def test_password_sign_in_can_be_switched_off(council: OpenIdProvider, tmp_path: Path) -> None:
    async for site in _site(_env(council, tmp_path, HANDOVER_PASSWORDS="off")):
        person = Browser(site.client)
        page = await person.get("/sign-in")
        assert "Sign in with Example Council" in page.text and 'name="password"' not in page.text
        response = await person.post("/sign-in", {"username": "out", "password": "correct horse battery staple"})
        assert response.status_code == 403 and directory.PASSWORDS_OFF in response.text
        assert "session" not in person.jar


async def test_an_administrator_is_not_offered_a_password_reset_while_passwords_are_off(
    council: OpenIdProvider, tmp_path: Path
) -> None:
    council.set_accounts({"ada": {"name": "Ada Admin", "email": "ada@example.gov.uk", "email_verified": True,
                                  "groups": ["g-admins"]}})  # fmt: skip
    async for site in _site(_env(council, tmp_path, HANDOVER_PASSWORDS="off")):
        ada = Browser(site.client)
        await provider_sign_in(ada, "ada")
        person = f"/admin/people/{site.world.users['out']}"
        page = await ada.get(person)
        assert page.status_code == 200 and "Not used: passwords are switched off" in page.text
        assert f'href="{person}/password"' not in page.text
        assert (await ada.get(f"{person}/password")).status_code == 403
        refused = await ada.post(f"{person}/password", {"password": "a new password that is long enough"})
        assert refused.status_code == 403 and directory.PASSWORD_RESETS_OFF in refused.text
        resets = await site.app.state.db.reader.execute_fetchall(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'reset_password'"
        )
        assert resets[0][0] == 0


async def test_the_password_form_stays_beside_the_button_while_passwords_are_on(site: Site) -> None:
    page = await Browser(site.client).get("/sign-in")
    assert 'href="/sign-in/oidc"' in page.text and "Sign in with Example Council" in page.text
    assert 'name="password"' in page.text
    assert (await site.as_user("out")).jar.get("session")


async def test_a_private_key_jwt_client_signs_in(council: OpenIdProvider, tmp_path: Path) -> None:
    key = tmp_path / "client-key.pem"
    key.write_text(council.private_key_pem, encoding="ascii")
    council.set_accounts({"ann": dict(ANN)})
    env = _env(council, tmp_path, HANDOVER_OIDC_CLIENT_ID=JWT_CLIENT_ID, HANDOVER_OIDC_PRIVATE_KEY=str(key),
               HANDOVER_OIDC_KEY_ID=KEY_ID)  # fmt: skip
    del env["HANDOVER_OIDC_CLIENT_SECRET"]
    async for site in _site(env):
        response = await provider_sign_in(Browser(site.client), "ann")
        assert response.status_code == 303, response.text


@pytest.mark.parametrize("role", ROLES)
async def test_every_role_may_start_a_provider_sign_in_and_a_callback_without_one_is_refused(
    site: Site, council: OpenIdProvider, role: str
) -> None:
    person = await site.as_user(USERNAMES.get(role))
    stranger = await site.as_user(USERNAMES.get(role))
    before = await _stored(site)
    started = await person.get("/sign-in/oidc")
    assert started.status_code == 303 and started.headers["location"].startswith(f"{council.issuer}/auth?")
    refused = await stranger.get("/sign-in/oidc/callback?code=a-code&state=a-state")
    assert refused.status_code == 400, (role, refused.status_code)
    assert await _stored(site) == before


async def test_hostile_values_in_the_callback_are_refused_with_a_page_and_store_nothing(site: Site) -> None:
    before = await _stored(site)
    person = Browser(site.client)
    for kind, values in HOSTILE.items():
        for value in values:
            if value is BAD_UTF8 or value is JUST_OVER:
                value = "%FF%FE" if value is BAD_UTF8 else "x" * 5000
            value = value[:5000]  # an address has a length limit of its own, which the huge values pass
            for name in ("code", "state", "error"):
                started = await person.get("/sign-in/oidc")  # each value meets a sign-in under way in this browser
                assert person.jar.get("handover-oidc")
                state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
                query = {"code": "a-code", "state": state, name: value}
                url = "/sign-in/oidc/callback?" + "&".join(
                    f"{key}={raw if raw == '%FF%FE' else quote(raw)}" for key, raw in query.items()
                )
                response = await person.get(url)
                assert page_verdict(response, {400, 403, 429}) is None, (kind, name, value[:20], response.status_code)
    assert await _stored(site) == before


async def test_a_provider_that_cannot_be_reached_or_is_not_the_issuer_gives_a_page_and_stores_nothing(
    council: OpenIdProvider, tmp_path: Path
) -> None:
    elsewhere = council.issuer.replace("127.0.0.1", "localhost")  # its discovery document names 127.0.0.1
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{unused.getsockname()[1]}"
    for issuer in (elsewhere, closed):
        async for site in _site(_env(council, tmp_path / issuer.rsplit(":", 1)[1], HANDOVER_OIDC_ISSUER=issuer)):
            before = await _stored(site)
            response = await Browser(site.client).get("/sign-in/oidc")
            assert response.status_code == 503 and "did not complete" in response.text, issuer
            assert "handover-oidc" not in response.cookies and await _stored(site) == before


async def test_failed_attempts_are_audited_and_throttled_by_address(site: Site) -> None:
    """A sign-in begun here that fails before anyone is known is audited, naming nobody, and counted against the
    address like a password's failures; a callback with no sign-in begun here records nothing."""

    async def failures() -> int:
        rows = await site.db.reader.execute_fetchall(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'sign_in_failed' AND object_id IS NULL"
        )
        return int(rows[0][0])

    stray = Browser(site.client)
    assert (await stray.get("/sign-in/oidc/callback?state=x&code=y")).status_code == 400
    assert await failures() == 0, "no sign-in begun here: not an attempt, nothing stored"
    ann = Browser(site.client)
    for attempt in range(1, throttle.ADDRESS_LIMIT + 1):
        assert (await ann.get("/sign-in/oidc")).status_code == 303
        response = await ann.get("/sign-in/oidc/callback?state=not-the-state&code=y")
        assert response.status_code == 400
        assert await failures() == attempt
    entries = await db.audit_entries(site.db.reader, limit=100_000)
    [last] = [e.entry for e in entries if e.entry.action == "sign_in_failed"][-1:]
    assert last.actor_id is None and last.details["via"] == "oidc" and "state" in last.details["reason"]
    assert (await ann.get("/sign-in/oidc")).status_code == 303
    council_login = await ann.get("/sign-in/oidc/callback?state=not-the-state&code=y")
    assert council_login.status_code == 429 and throttle.LOCKED_MESSAGE in council_login.text
    assert await failures() == throttle.ADDRESS_LIMIT, "a locked address adds nothing more"
