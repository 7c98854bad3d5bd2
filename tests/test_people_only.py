"""Only people hold children's cases: a service account (a case management system's API token) is never offered or
named as a receiver, never confirms, acknowledges or takes any step of the workflow, and is never allocated a case,
whatever the client; a person's own token acts as that person."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import actions, cli, db
from service.core.errors import Refused
from service.core.workflow import (
    SERVICE_ACCOUNT_REFUSAL,
    TRANSITIONS,
    Action,
    Actor,
    Facts,
    State,
    refusals,
)
from service.settings import Settings
from tests.conftest import Site
from tests.helpers import CHECKLISTS, actor, handover_in, raw_connection, settings_for_tests
from tests.test_api import call, error_shape, tokens
from tests.test_one_rulebook import GOOD_CASE, import_messages

pytestmark = pytest.mark.anyio

SERVICE = Actor(user_id=9, worker_teams=frozenset({1, 2}), manager_teams=frozenset({1, 2}), is_service=True)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("state", list(State))
def test_the_state_machine_refuses_a_service_account_every_step(action: Action, state: State) -> None:
    facts = Facts(state=state, author_id=9, sending_team_id=1, receiving_team_id=2, receiver_id=9)
    reasons = refusals(action, facts, SERVICE, "a reason")
    assert reasons, (action, state)
    if state in TRANSITIONS[action][0]:
        assert reasons == [SERVICE_ACCOUNT_REFUSAL]


async def service_worker_in_cp(site: Site) -> int:
    """A service account that has been given a worker role in the receiving team (as the issue found)."""
    issued = await tokens(site)
    user = await db.user_by_username(site.db.reader, "svc_aud")
    assert user is not None and user.is_service and issued
    async with site.db.transaction() as conn:
        await db.add_membership(conn, user.id, site.world.teams["cp"], "worker")
    return user.id


async def test_a_service_account_is_not_offered_or_accepted_as_the_receiver(site: Site) -> None:
    service_id = await service_worker_in_cp(site)
    out = await site.as_user("out")
    url = f"/cases/{site.world.cases['mia']}/handover"
    page = await out.get(url)
    assert f'value="{service_id}"' not in page.text and f'value="{site.world.users["rec"]}"' in page.text
    refused = await out.post(
        url,
        {"receiving_team": str(site.world.teams["cp"]), "receiver": str(service_id), "transfer_reason": "Step-up"},
    )
    assert refused.status_code == 400 and "Select a worker in the receiving team" in refused.text


async def test_a_service_account_with_a_worker_role_cannot_confirm_or_acknowledge(site: Site) -> None:
    await service_worker_in_cp(site)
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    async with site.db.transaction() as conn:  # addressed to the team, so any worker in it may take it on
        await conn.execute("UPDATE handovers SET receiver_id = NULL WHERE id = ?", (handover_id,))
    issued = await tokens(site)
    view = (await call(site, issued["svc_aud"], "GET", f"/handovers/{handover_id}")).json()
    confirm = await call(
        site, issued["svc_aud"], "POST", f"/handovers/{handover_id}/confirmations/open-risks",
        {"handover_version": view["version"], "understood": True, "readback": "Scripted text about the risks here."},
    )  # fmt: skip
    assert error_shape(confirm, 409, "refused")["details"][0]["message"] == SERVICE_ACCOUNT_REFUSAL
    ack = await call(site, issued["svc_aud"], "POST", f"/handovers/{handover_id}/actions/acknowledge",
                     {"handover_version": view["version"]})  # fmt: skip
    assert error_shape(ack, 409, "refused")["details"][0]["message"] == SERVICE_ACCOUNT_REFUSAL
    case = await db.case_by_id(site.db.reader, site.world.cases["mia"])
    assert case is not None and case.allocated_worker_id == site.world.users["out"]


async def test_a_case_is_never_allocated_to_a_service_account(site: Site, tmp_path: Path) -> None:
    service_id = await service_worker_in_cp(site)
    issued = await tokens(site)
    body = GOOD_CASE | {"allocated_worker_id": service_id, "allocated_team_id": site.world.teams["cp"]}
    api = error_shape(await call(site, issued["svc_admin"], "POST", "/cases", body), 422)["details"]
    imported = await import_messages(site, tmp_path, GOOD_CASE, "svc_aud", "Cp Team")
    assert {d["field"]: d["message"] for d in api} == imported
    assert "allocated_worker_id" in imported


async def test_a_persons_token_acts_as_that_person_until_they_are_disabled(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    _, token = await actions.issue_personal_api_token(site.db, username="rec", scope="write")
    view = await call(site, token, "GET", f"/handovers/{handover_id}")
    assert view.status_code == 200
    confirmed = await call(
        site, token, "POST", f"/handovers/{handover_id}/confirmations/open-risks",
        {"handover_version": view.json()["version"], "understood": True,
         "readback": "I will see Mia alone this week and check the safety plan with her carers."},
    )  # fmt: skip
    assert confirmed.status_code == 200, confirmed.text
    confirmation = (await db.confirmations_of(site.db.reader, handover_id))["open-risks"]
    assert confirmation.user_id == site.world.users["rec"]
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE users SET disabled = 1 WHERE username = 'rec'")
    error_shape(await call(site, token, "GET", f"/handovers/{handover_id}"), 401)


def test_a_token_for_a_person_is_issued_from_the_command_line_with_their_own_roles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings: Settings = settings_for_tests(tmp_path)
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", settings.secret_key)
    assert cli.main(["init-db"]) == 0
    password = "a long enough password"
    assert cli.main(["create-user", "jo", "--name", "Jo Bennett", "--password", password]) == 0
    capsys.readouterr()
    assert cli.main(["token", "create", "--person", "jo", "--scope", "read"]) == 0
    out = capsys.readouterr().out
    assert "Token 1 for jo (read)" in out
    with pytest.raises(SystemExit) as refused:
        cli.main(["token", "create", "--person", "jo", "--worker", "North Team"])
    assert "person's own teams and roles" in str(refused.value.code)
    with pytest.raises(SystemExit) as refused:
        cli.main(["token", "create", "--person", "nobody"])
    assert "no enabled person" in str(refused.value.code)
    holders = "SELECT u.username, u.is_service FROM api_tokens t JOIN users u ON u.id = t.user_id"
    assert raw_connection(settings).execute(holders).fetchall() == [("jo", 0)]


async def test_on_a_handover_sent_to_a_team_the_worker_who_confirms_is_the_one_who_takes_it_on(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    async with site.db.transaction() as conn:  # sent to the team: no worker named
        await conn.execute("UPDATE handovers SET receiver_id = NULL WHERE id = ?", (handover_id,))
    rec, rec2 = await actor(site.db, site.world, "rec"), await actor(site.db, site.world, "rec2")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    readback = "I will see Mia alone this week and keep the safety plan going with her carers."
    for section in view.critical_sections():
        current = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert current is not None
        await actions.confirm_item(site.db, CHECKLISTS, rec, handover_id, section.id, current.handover.version,
                                   understood=True, readback=readback)  # fmt: skip
    current = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert current is not None and current.handover.receiver_id == site.world.users["rec"]
    with pytest.raises(Refused):  # another worker of the team cannot acknowledge what Rec read back
        await actions.act(site.db, CHECKLISTS, rec2, handover_id, Action.ACKNOWLEDGE, current.handover.version)
    with pytest.raises(Refused):
        await actions.confirm_item(site.db, CHECKLISTS, rec2, handover_id, "open-risks", current.handover.version,
                                   understood=True, readback=readback)  # fmt: skip
    assert await actions.act(site.db, CHECKLISTS, rec, handover_id, Action.ACKNOWLEDGE, current.handover.version)
