"""Where the pages, the API, the import and the command line used to disagree, they now ask the same rule and give
the same answer: the stricter rule won, and nothing refused is stored."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from service import actions, db
from service.core import validation
from service.core.clock import today
from service.core.errors import Invalid
from tests.conftest import Site
from tests.helpers import act, fill_all, start, submit
from tests.test_api import call, error_shape, tokens

pytestmark = pytest.mark.anyio

GOOD_CASE = {"reference": "NEW-1", "child_name": "Ava New", "date_of_birth": "2016-02-03"}


# Tomorrow's date, worked out when a test runs rather than when it is collected: a run may cross midnight, and a
# date collected as tomorrow is today by then
TOMORROW = "tomorrow"


def at_run_time(change: dict[str, str]) -> dict[str, str]:
    """`change` with `TOMORROW` made tomorrow's date in England."""
    return {
        key: (today() + timedelta(days=1)).isoformat() if value == TOMORROW else value for key, value in change.items()
    }


def bad_cases() -> list[tuple[str, dict[str, str]]]:
    """One bad value of each kind for each of the case's own fields, made from the limits themselves."""
    too_long = {"reference": validation.CASE_REFERENCE_MAX + 1, "child_name": validation.CHILD_NAME_MAX + 1}
    cases = []
    for field, length in too_long.items():
        cases.append((f"{field} blank", {field: "   "}))
        cases.append((f"{field} too long", {field: "x" * length}))
    earliest = validation.EARLIEST_DATE_OF_BIRTH
    for label, value in (
        ("born tomorrow", TOMORROW),
        ("born the day before the earliest", (earliest - timedelta(days=1)).isoformat()),
        ("born on a day that does not exist", "2016-02-30"),
        ("written without dashes", "20150101"),
        ("written as a week date", "2015-W01-1"),
        ("written the British way", "14/03/2015"),
    ):
        cases.append((label, {"date_of_birth": value}))
    cases.append(("reference already used", {"reference": "T-1"}))
    # lookalikes: a reference that reads the same as another must be the same case, or be refused
    cases.append(("reference already used, in other letter case", {"reference": "t-1"}))
    for label, value in (
        ("with a Unicode hyphen", "T\u20109"),
        ("in full-width letters", "\uff2e\uff25\uff37-2"),
        ("with a zero-width space", "NEW-\u200b3"),
        ("after a byte-order mark", "\ufeffNEW-4"),
        ("with a soft hyphen", "NEW\u00ad5"),
        ("starting with a hyphen", "-NEW6"),
    ):
        cases.append((f"reference {label}", {"reference": value}))
    for label, value in (("on two lines", "Ava\nNew"), ("with a tab", "Ava\tNew"), ("with CR LF", "Ava\r\nNew")):
        cases.append((f"child's name {label}", {"child_name": value}))
    return cases


async def import_messages(site: Site, tmp_path: Path, case: dict[str, str], worker: str, team: str) -> dict[str, str]:
    """What `handover import cases` says about one row, by field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(actions.cases.IMPORT_COLUMNS)
    writer.writerow([case["reference"], case["child_name"], case["date_of_birth"], worker, team, ""])
    path = tmp_path / "cases.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    imported, problems = await actions.import_cases(site.db, path)
    assert imported == 0
    messages = {}
    for problem in problems:
        where, column, message = problem.split(": ", 2)
        assert where == "line 2", problem
        messages[{"worker_username": "allocated_worker_id"}.get(column, column)] = message
    return messages


@pytest.mark.parametrize(("kind", "change"), bad_cases())
async def test_the_api_and_the_import_refuse_a_bad_case_with_the_same_message(
    site: Site, tmp_path: Path, kind: str, change: dict[str, str]
) -> None:
    issued = await tokens(site)
    cases_before = await case_count(site)
    case = GOOD_CASE | at_run_time(change)
    body = case | {"allocated_worker_id": site.world.users["out"], "allocated_team_id": site.world.teams["north"]}
    response = await call(site, issued["svc_admin"], "POST", "/cases", body)
    api = {d["field"]: d["message"] for d in error_shape(response, 422, "invalid")["details"]}
    imported = await import_messages(site, tmp_path, case, "out", "North Team")
    assert api == imported, kind
    assert await case_count(site) == cases_before, "nothing refused is stored"


async def case_count(site: Site) -> int:
    rows = await site.db.reader.execute_fetchall("SELECT COUNT(*) FROM cases")
    return int(rows[0][0])


async def test_a_worker_outside_the_team_is_refused_alike(site: Site, tmp_path: Path) -> None:
    issued = await tokens(site)
    body = GOOD_CASE | {"allocated_worker_id": site.world.users["rec"], "allocated_team_id": site.world.teams["north"]}
    api = error_shape(await call(site, issued["svc_admin"], "POST", "/cases", body), 422)["details"]
    imported = await import_messages(site, tmp_path, GOOD_CASE, "rec", "North Team")
    assert {d["field"]: d["message"] for d in api} == imported == {"allocated_worker_id": validation.WORKER_NOT_IN_TEAM}


async def test_a_date_of_birth_before_1990_is_not_called_a_future_date(site: Site, tmp_path: Path) -> None:
    imported = await import_messages(site, tmp_path, GOOD_CASE | {"date_of_birth": "1985-06-01"}, "out", "North Team")
    assert "future" not in imported["date_of_birth"] and "1 January 1990" in imported["date_of_birth"]


async def submitted(site: Site) -> int:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    await fill_all(out, handover_id)
    assert (await submit(out, handover_id)).status_code == 303
    return handover_id


async def test_a_return_reason_over_the_limit_is_refused_by_the_page_and_the_api_alike(site: Site) -> None:
    handover_id = await submitted(site)
    reason = "x" * (validation.WORKFLOW_REASON_MAX + 1)
    manager = await site.as_user("smgr")
    page = await act(manager, handover_id, "return", reason=reason)
    assert page.status_code == 400
    message = f"The reason must be {validation.WORKFLOW_REASON_MAX:,} characters or fewer"
    assert message in page.text
    issued = await tokens(site)
    version = (await db.handover_by_id(site.db.reader, handover_id) or _missing()).version
    body = {"handover_version": version, "reason": reason}
    api = error_shape(
        await call(site, issued["api_smgr"], "POST", f"/handovers/{handover_id}/actions/return", body), 422
    )
    assert api["details"] == [{"field": "reason", "message": message}]
    stored = await db.handover_by_id(site.db.reader, handover_id)
    assert stored is not None and stored.state == "submitted" and stored.returned_reason is None


def _missing() -> Any:
    raise AssertionError("expected a record")


@pytest.mark.parametrize("audit_reads", [True, False])
async def test_the_api_audits_views_exactly_when_the_pages_do(tmp_path: Path, audit_reads: bool) -> None:
    from litestar.testing import AsyncTestClient

    from service.app import create_app
    from tests.conftest import seed
    from tests.helpers import settings_for_tests

    app = create_app(settings_for_tests(tmp_path, audit_reads=audit_reads))
    async with AsyncTestClient(app=app) as client:
        world = await seed(app.state.db)
        site = Site(app=app, client=client, world=world)
        handover_id = await submitted(site)
        issued = await tokens(site)
        manager = await site.as_user("smgr")

        async def views() -> int:
            entries = await db.audit_entries(site.db.reader, limit=100_000)
            return sum(1 for stored in entries if stored.entry.action == "view")

        before = await views()
        assert (await manager.get(f"/handovers/{handover_id}/view")).status_code == 200
        after_page = await views()
        assert (await call(site, issued["api_smgr"], "GET", f"/handovers/{handover_id}")).status_code == 200
        after_api = await views()
    assert after_page - before == after_api - after_page == (1 if audit_reads else 0)


async def test_each_read_back_stays_in_the_audit_trail_word_for_word(site: Site) -> None:
    from tests.helpers import CHECKLISTS, actor, handover_in

    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    receiver = await actor(site.db, site.world, "rec")
    words = ["I take on the risk from Liam to Mia, first reading.", "Having read it again: the risk from Liam to Mia."]
    for readback in words:
        view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert view is not None
        await actions.confirm_item(
            site.db, CHECKLISTS, receiver, handover_id, "open-risks", view.handover.version,
            understood=True, readback=readback,
        )  # fmt: skip
    entries = await db.audit_entries(site.db.reader, limit=100_000)
    said = [
        e.entry.details["readback"] for e in entries if e.entry.action == "confirm" and e.entry.object_id == handover_id
    ]
    assert said[-2:] == words


@pytest.mark.parametrize("name", ["HANDOVER_AUDIT_READS", "HANDOVER_SECURE_COOKIES", "HANDOVER_LOG_JSON"])
@pytest.mark.parametrize("value", ["flase", "ture", "2", "enabled"])
def test_a_yes_or_no_setting_that_cannot_be_read_stops_start_up(tmp_path: Path, name: str, value: str) -> None:
    from service.settings import SettingsError, settings_from_env

    env = {"HANDOVER_DATA_DIR": str(tmp_path), "HANDOVER_SECRET_KEY": "k" * 40, name: value}
    with pytest.raises(SettingsError, match=name):
        settings_from_env(env)


@pytest.mark.parametrize(
    "name",
    ["HANDOVER_PORT", "HANDOVER_SESSION_IDLE_MINUTES", "HANDOVER_CHECKPOINT_MINUTES", "HANDOVER_BUSY_TIMEOUT_MS"],
)
@pytest.mark.parametrize("value", ["abc", "-5", "nan", "1e999", ""])
def test_a_number_setting_that_cannot_be_read_stops_start_up(tmp_path: Path, name: str, value: str) -> None:
    from service.settings import SettingsError, settings_from_env

    env = {"HANDOVER_DATA_DIR": str(tmp_path), "HANDOVER_SECRET_KEY": "k" * 40, name: value}
    with pytest.raises(SettingsError, match=name):
        settings_from_env(env)


async def test_memberships_and_roles_given_with_a_token_are_audited_and_kept(site: Site) -> None:
    roles = actions.TeamRoles(worker=["North Team"])
    await actions.issue_api_token(site.db, account="cms", system_name="CMS", scope="write", roles=roles)
    entries = [e.entry for e in await db.audit_entries(site.db.reader, limit=100_000)]
    assert any(e.action == "add_membership" and e.details == {"team": "North Team", "role": "worker"} for e in entries)
    with pytest.raises(Invalid, match="other roles"):
        await actions.issue_api_token(
            site.db, account="cms", system_name="CMS", scope="write", roles=actions.TeamRoles(admin=True)
        )


@pytest.mark.parametrize(
    ("url", "method", "body"),
    [
        ("/cases", "POST", "[" * 100_000 + "]" * 100_000),
        (
            "/handovers/1/sections/open-risks",
            "PUT",
            '{"answers": {"groups": {"risks": ' + "[" * 5000 + "]" * 5000 + "}}}",
        ),
        (
            "/handovers/1/actions/return",
            "POST",
            '{"handover_version": 1, "reason": ' + "{" * 0 + "[" * 50_000 + "]" * 50_000 + "}",
        ),
    ],
)
async def test_a_body_nested_too_deeply_gets_the_api_error_shape_not_a_server_error(
    site: Site, url: str, method: str, body: str
) -> None:
    issued = await tokens(site)
    headers = {"Authorization": f"Bearer {issued['svc_admin']}", "Content-Type": "application/json"}
    response = await site.client.request(method, f"/api/v1{url}", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text[:200]
    error_shape(response, response.status_code)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_each_export_is_labelled_as_what_it_is_on_the_page_and_the_api(site: Site, fmt: str) -> None:
    issued = await tokens(site)
    auditor = await site.as_user("aud")
    page = await auditor.get(f"/audit/incomplete/{fmt}")
    api = await call(site, issued["svc_aud"], "GET", f"/exports/incomplete?format={fmt}")
    expected = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}[fmt]
    assert page.status_code == api.status_code == 200
    assert page.headers["content-type"] == api.headers["content-type"] == expected


@pytest.mark.parametrize(
    "referer",
    ["http://testserver.evil.example/x", "http://testserver@evil.example/x", "https://testserver/x", "javascript:x"],
)
async def test_back_on_an_error_page_never_leads_off_the_service(site: Site, referer: str) -> None:
    out = await site.as_user("out")
    response = await out.post("/handovers/999/endorse", {"handover_version": "1"}, headers={"Referer": referer})
    assert response.status_code in (404, 409)
    assert referer not in response.text


async def test_a_form_from_another_site_is_refused_whatever_x_forwarded_host_says(site: Site) -> None:
    out = await site.as_user("out")
    headers = {"Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"}
    response = await out.post("/sign-out", {}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["/sign-in", "/sign-out", "/handovers/1/sections/record-currency", "/cases/1/handover"])
async def test_a_multipart_form_that_is_not_utf8_gets_400_not_a_server_error(site: Site, url: str) -> None:
    out = await site.as_user("out")
    response = await out.request(
        "POST", url, files={"username": (None, b"\xff\xfe"), "_csrf_token": (None, out.csrf.encode())}
    )
    assert response.status_code == 400, response.text[:200]


async def test_the_import_names_one_group_one_way_and_never_makes_a_second_group_of_an_existing_name(
    site: Site, tmp_path: Path
) -> None:
    """Rows naming "Grp", "grp" and " Grp " share one group; a name an existing group has is refused, because a
    new group of that name would look linked and not be."""
    path = tmp_path / "cases.csv"
    header = ",".join(actions.cases.IMPORT_COLUMNS)
    path.write_text(
        f"{header}\nG-1,Ann Grp,2016-01-01,out,North Team,Grp\nG-2,Ben Grp,2015-01-01,out,North Team,grp\n"
        "G-3,Cal Grp,2014-01-01,out,North Team, Grp \n",
        encoding="utf-8",
    )
    imported, problems = await actions.import_cases(site.db, path)
    assert (imported, problems) == (3, [])
    groups = {(await db.case_by_reference_key(site.db.reader, f"g-{n}")).sibling_group_id for n in (1, 2, 3)}  # type: ignore[union-attr]
    assert len(groups) == 1 and None not in groups

    path.write_text(f"{header}\nH-1,Dee Test,2016-01-01,out,North Team,test FAMILY\n", encoding="utf-8")
    imported, problems = await actions.import_cases(site.db, path)
    assert imported == 0 and len(problems) == 1
    assert problems[0].startswith("line 2: sibling_group: A sibling group of this name already exists (id ")
