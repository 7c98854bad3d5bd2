"""The JSON API: tokens, the same rules as the pages, one error shape, and every use audited."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from service import actions, db
from service.actions.demo import CASE_M_LIKE, naming_children
from service.core import telling
from service.core.tokens import token_hash
from tests.conftest import Site
from tests.helpers import CHECKLISTS, complete, on_record, start, tell_everyone

pytestmark = pytest.mark.anyio

# api_*: people with personal tokens (a token acts as its person); svc_*: case management systems' service accounts.
ACCOUNTS = {  # account: (team, role) pairs, auditor, admin
    "api_out": ([("north", "worker")], False, False),
    "api_smgr": ([("north", "manager")], False, False),
    "api_rec": ([("cp", "worker")], False, False),
    "api_rmgr": ([("cp", "manager")], False, False),
    "api_other": ([("south", "worker")], False, False),
    "svc_aud": ([], True, False),
    "svc_admin": ([], False, True),
}


async def tokens(site: Site, scope: str = "write") -> dict[str, str]:
    issued = {}
    async with site.db.transaction() as conn:
        for name, (roles, auditor, admin) in ACCOUNTS.items():
            user = await db.user_by_username(conn, name)
            user_id = (
                user.id
                if user
                else await db.create_user(
                    conn, name, name, "!", is_auditor=auditor, is_admin=admin, is_service=name.startswith("svc_")
                )
            )
            for team, role in roles:
                await db.add_membership(conn, user_id, site.world.teams[team], role)
            token = "hov_" + secrets.token_urlsafe(16)
            await db.create_api_token(conn, user_id, token_hash(token), scope)
            issued[name] = token
    return issued


async def call(site: Site, token: str | None, method: str, url: str, body: Any = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await site.client.request(method, f"/api/v1{url}", json=body, headers=headers, **kwargs)


def error_shape(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert all(set(d) == {"field", "message"} for d in body["details"])
    if code:
        assert body["code"] == code
    return body  # type: ignore[no-any-return]


async def new_case(site: Site, owner: str = "api_out") -> int:
    async with site.db.transaction() as conn:
        user = await db.user_by_username(conn, owner)
        assert user is not None
        return await db.create_case(conn, f"API-{secrets.token_hex(3)}", "Api Child", "2015-01-01", user.id,
                                    site.world.teams["north"])  # fmt: skip


async def test_requests_without_a_valid_token_get_401(site: Site) -> None:
    issued = await tokens(site)
    error_shape(await call(site, None, "GET", "/handovers"), 401, "unauthorised")
    error_shape(await call(site, "hov_wrong", "GET", "/handovers"), 401)
    async with site.db.transaction() as conn:
        token = await db.api_token(conn, token_hash(issued["svc_aud"]))
        assert token is not None
        await db.revoke_api_token(conn, token.id)
    error_shape(await call(site, issued["svc_aud"], "GET", "/handovers"), 401)


async def test_a_disabled_accounts_tokens_stop_working(site: Site) -> None:
    issued = await tokens(site)
    assert (await call(site, issued["svc_aud"], "GET", "/handovers")).status_code == 200
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE users SET disabled = 1 WHERE username = 'svc_aud'")
    error_shape(await call(site, issued["svc_aud"], "GET", "/handovers"), 401)


async def test_the_whole_transfer_through_the_api(site: Site) -> None:
    t = await tokens(site)
    case_id = await new_case(site)
    rec_id = (await db.user_by_username(site.db.reader, "api_rec")).id  # type: ignore[union-attr]
    created = await call(
        site,
        t["api_out"],
        "POST",
        f"/cases/{case_id}/handovers",
        {"receiving_team_id": site.world.teams["cp"], "receiver_id": rec_id, "transfer_reason": "Up"},
    )
    assert created.status_code == 201
    handover_id = created.json()["id"]
    started = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert started is not None  # a case in no sibling group: the harm rows name someone outside the group
    given = await on_record(site.db, handover_id, complete(checklist=started.checklist, **CASE_M_LIKE))
    for section_id, answers in naming_children(started.checklist, given).items():
        saved = await call(
            site,
            t["api_out"],
            "PUT",
            f"/handovers/{handover_id}/sections/{section_id}",
            {"answers": {"values": answers.values, "groups": answers.groups}, "base_version": 0},
        )
        assert saved.status_code == 200 and saved.json()["status"] == "completed", saved.text
    stale = await call(
        site,
        t["api_out"],
        "PUT",
        f"/handovers/{handover_id}/sections/childs-views",
        {"answers": {"values": {}, "groups": {}}, "base_version": 0},
    )
    error_shape(stale, 409, "conflict")

    async def act(who: str, name: str, **extra: Any) -> Any:
        current = (await call(site, t[who], "GET", f"/handovers/{handover_id}")).json()
        return await call(
            site,
            t[who],
            "POST",
            f"/handovers/{handover_id}/actions/{name}",
            {"handover_version": current["version"], **extra},
        )

    assert (await act("api_out", "submit")).json() == {"state": "submitted"}
    early = await act("api_smgr", "approve")
    # the sending manager never approves: who they are is said before the state
    told = error_shape(early, 409, "refused")["details"][0]["message"]
    assert told == "Only a manager of the receiving team can approve it"
    assert (await act("api_smgr", "endorse")).json() == {"state": "endorsed"}
    unconfirmed = error_shape(await act("api_rec", "acknowledge"), 409, "refused")
    assert any(d["message"] == "Confirm ‘Open risks’" for d in unconfirmed["details"])
    view = (await call(site, t["api_rec"], "GET", f"/handovers/{handover_id}")).json()
    for section_id in ("open-risks", "sibling-harm", "parenting-capacity", "cp-category", "childs-views"):
        confirmed = await call(
            site,
            t["api_rec"],
            "POST",
            f"/handovers/{handover_id}/confirmations/{section_id}",
            {
                "handover_version": view["version"],
                "understood": True,
                "readback": "I take on the risks described and the plan to keep Mia safe.",
            },
        )
        assert confirmed.status_code == 200, confirmed.text
    assert (await act("api_rec", "acknowledge")).json() == {"state": "acknowledged"}
    untold = error_shape(await act("api_rmgr", "approve"), 409, "refused")
    assert untold["details"][0]["message"] == telling.FAMILY_NOT_TOLD
    out = await db.user_by_username(site.db.reader, "api_out")
    assert out is not None
    await tell_everyone(site.db, actions.actor_for(out, await db.memberships(site.db.reader, out.id)), handover_id)
    assert (await act("api_rmgr", "approve")).json() == {"state": "closed"}
    final = (await call(site, t["api_rmgr"], "GET", f"/handovers/{handover_id}")).json()
    assert final["state"] == "closed" and final["checklist_version"] == 4
    assert [e["action"] for e in final["timeline"]][-1] == "approve"
    case = await db.case_by_id(site.db.reader, case_id)
    assert case is not None and case.allocated_worker_id == rec_id


async def test_same_object_rules_as_for_people(site: Site) -> None:
    t = await tokens(site)
    case_id = await new_case(site)
    created = await call(
        site,
        t["api_out"],
        "POST",
        f"/cases/{case_id}/handovers",
        {"receiving_team_id": site.world.teams["cp"], "transfer_reason": "Up"},
    )
    handover_id = created.json()["id"]
    error_shape(await call(site, t["api_other"], "GET", f"/handovers/{handover_id}"), 404, "not_found")
    error_shape(await call(site, t["api_rec"], "GET", f"/handovers/{handover_id}"), 404)
    error_shape(
        await call(
            site,
            t["api_other"],
            "POST",
            f"/cases/{case_id}/handovers",
            {"receiving_team_id": 1, "transfer_reason": "x"},
        ),
        404,
    )
    error_shape(await call(site, t["api_out"], "GET", "/handovers"), 403, "forbidden")
    assert (await call(site, t["svc_aud"], "GET", "/handovers")).json()["total"] >= 1


async def test_read_only_tokens_cannot_change_anything(site: Site) -> None:
    readonly = await tokens(site, scope="read")
    case_id = await new_case(site)
    error_shape(
        await call(
            site,
            readonly["api_out"],
            "POST",
            f"/cases/{case_id}/handovers",
            {"receiving_team_id": site.world.teams["cp"], "transfer_reason": "Up"},
        ),
        403,
    )


async def test_invalid_bodies_get_field_details(site: Site) -> None:
    t = await tokens(site)
    case_id = await new_case(site)
    missing = await call(site, t["api_out"], "POST", f"/cases/{case_id}/handovers", {"transfer_reason": "Up"})
    assert [d["field"] for d in error_shape(missing, 422, "invalid")["details"]] == ["receiving_team_id"]
    empty_reason = await call(
        site, t["api_out"], "POST", f"/cases/{case_id}/handovers", {"receiving_team_id": site.world.teams["cp"]}
    )
    assert error_shape(empty_reason, 422, "invalid")["details"] == [
        {"field": "transfer_reason", "message": "Enter the reason for the transfer"}
    ]
    not_json = await site.client.post(
        f"/api/v1/cases/{case_id}/handovers",
        content=b"{nope",
        headers={"Authorization": f"Bearer {t['api_out']}", "content-type": "application/json"},
    )
    error_shape(not_json, 400)
    too_big = await call(
        site,
        t["api_out"],
        "POST",
        f"/cases/{case_id}/handovers",
        {"receiving_team_id": 1, "transfer_reason": "x" * 2_000_000},
    )
    error_shape(too_big, 413, "too_large")


async def test_cases_and_sibling_groups_are_pushed_in_by_an_admin_account(site: Site) -> None:
    t = await tokens(site)
    group = await call(site, t["svc_admin"], "POST", "/sibling-groups", {"name": "Ashdown family"})
    assert group.status_code == 201
    out_id = (await db.user_by_username(site.db.reader, "api_out")).id  # type: ignore[union-attr]
    body = {"reference": "CMS-1", "child_name": "Noah Ashdown", "date_of_birth": "2013-04-05",
            "allocated_worker_id": out_id, "allocated_team_id": site.world.teams["north"],
            "sibling_group_id": group.json()["id"]}  # fmt: skip
    created = await call(site, t["svc_admin"], "POST", "/cases", body)
    assert created.status_code == 201 and created.json()["reference"] == "CMS-1"
    again = await call(site, t["svc_admin"], "POST", "/cases", body)
    assert error_shape(again, 422)["details"][0]["field"] == "reference"
    error_shape(await call(site, t["api_out"], "POST", "/cases", body | {"reference": "CMS-2"}), 403)
    read = await call(site, t["svc_admin"], "GET", f"/sibling-groups/{group.json()['id']}")
    assert read.json()["case_ids"] == [created.json()["id"]]
    assert (await call(site, t["api_out"], "GET", f"/cases/{created.json()['id']}")).status_code == 200


async def test_every_use_of_a_token_is_audited_and_the_export_streams(site: Site) -> None:
    t = await tokens(site)
    await call(site, t["svc_aud"], "GET", "/handovers")
    export = await call(site, t["svc_aud"], "GET", "/exports/incomplete", params={"format": "csv"})
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbf")
    actions = [e.entry for e in await db.audit_entries(site.db.reader)]
    uses = [e for e in actions if e.action == "api_request"]
    assert [u.details["path"] for u in uses] == ["/api/v1/handovers", "/api/v1/exports/incomplete"]
    assert any(e.action == "export" and e.details["via"] == "api" for e in actions)


async def test_the_openapi_document_describes_every_api_route(site: Site) -> None:
    schema = (await site.client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    assert all(path.startswith("/api/v1/") for path in paths), "the HTML pages are not part of the API"
    assert len(paths) == 19  # the urgent transfer is the twelfth, the PDF copy the thirteenth, then who was told
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"401", "404"} <= set(operation["responses"]), (method, path)
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


async def test_a_request_that_does_not_fit_the_schema_is_answered_briefly_by_field(site: Site) -> None:
    """The refusal names the field and the reason, and never repeats a long query string or value back."""
    t = await tokens(site)
    long_page = await call(site, t["svc_aud"], "GET", "/handovers?page=" + "x" * 5000)
    body = error_shape(long_page, 422, "invalid")
    assert len(long_page.text) < 1000 and "xxxxxxxxxx" * 30 not in long_page.text, body
    case_id = await new_case(site)
    huge_id = await call(
        site, t["api_out"], "POST", f"/cases/{case_id}/handovers",
        {"receiving_team_id": 2**63, "transfer_reason": "Up"},
    )  # fmt: skip
    details = error_shape(huge_id, 422, "invalid")["details"]
    assert [d["field"] for d in details] == ["receiving_team_id"] and "2147483647" in details[0]["message"]


@pytest.mark.parametrize(("body", "field"), [(b"", "body"), (b"null", "body"), (b"[]", "body")])
async def test_a_body_that_is_not_an_object_is_refused_by_name(site: Site, body: bytes, field: str) -> None:
    t = await tokens(site)
    case_id = await new_case(site)
    response = await site.client.post(
        f"/api/v1/cases/{case_id}/handovers", content=body,
        headers={"Authorization": f"Bearer {t['api_out']}", "content-type": "application/json"},
    )  # fmt: skip
    details = error_shape(response, 422, "invalid")["details"]
    assert [d["field"] for d in details] == [field] and "'data'" not in details[0]["message"]


async def test_a_negative_version_is_refused_not_called_a_conflict(site: Site) -> None:
    t = await tokens(site)
    handover_id = await start(await site.as_user("out"), site.world.cases["mia"], site.world.teams["cp"])
    response = await call(site, t["api_out"], "POST", f"/handovers/{handover_id}/actions/cancel",
                          {"handover_version": -1, "reason": "No longer needed"})  # fmt: skip
    assert [d["field"] for d in error_shape(response, 422, "invalid")["details"]] == ["handover_version"]
