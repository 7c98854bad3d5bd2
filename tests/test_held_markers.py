"""A leaver's cases and handovers are marked everywhere they are listed: "Held by the team manager pending transfer"
on a case its team's manager holds after its worker left, and "Completed by the team manager on behalf of <name>"
on a handover the manager continues for them. The pages, exports and API shapes are read from the app itself (its
route table, its export formats, its OpenAPI document), so a new list is checked the day it is added."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from service import actions, db, reporting
from service.core import case_records
from service.core.accounts import HELD_PENDING_TRANSFER
from service.core.workflow import Action
from tests.conftest import Site
from tests.helpers import CHECKLISTS, actor, handover_in
from tests.test_api import call, tokens

pytestmark = pytest.mark.anyio

ON_BEHALF = case_records.on_behalf_of_text("Out")
# The pages no list of cases or handovers is on, or that are not pages (the API and the schema are read below).
# not lists of cases or handovers: a person's notifications are sentences about events, each opening its handover
NOT_LISTS = ("/api", "/schema", "/metrics", "/healthz", "/readyz", "/ping", "/sign-in", "/static", "/notifications")
PEOPLE = ("both", "smgr", "smgr2", "rec", "rmgr", "aud", "adm")


class Leaver:
    """What the world looks like after Out left: which handovers are continued on Out's behalf, which cases are
    held, and the children's names by handover."""

    def __init__(self, site: Site, handovers: dict[str, int]) -> None:
        self.site = site
        self.handovers = handovers  # case short name -> handover id

    async def expected(self) -> tuple[dict[int, set[str]], dict[str, set[str]]]:
        """Markers by handover id, and by child's name (the held marker only, for the rows of cases)."""
        by_handover: dict[int, set[str]] = {}
        by_child: dict[str, set[str]] = {}
        for handover_id in self.handovers.values():
            handover = await db.handover_by_id(self.site.db.reader, handover_id)
            assert handover is not None
            by_handover[handover_id] = set(case_records.markers(bool(handover.held_pending_transfer),
                                                                handover.on_behalf_of_name))  # fmt: skip
        for case_id in self.site.world.cases.values():
            case = await db.case_by_id(self.site.db.reader, case_id)
            assert case is not None
            by_child[case.child_name] = {HELD_PENDING_TRANSFER} if case.held_pending_transfer else set()
        return by_handover, by_child


@pytest.fixture
async def leaver(site: Site) -> Leaver:
    """Out started handovers in every state, then left: the team's manager holds Out's cases and continues Out's
    open handovers; one continued handover is then approved, so its child is with the receiver, not held."""
    handovers = {case: await handover_in(site.db, site.world, state, case)
                 for case, state in (("c1", "draft"), ("c2", "submitted"), ("c3", "endorsed"),
                                     ("c4", "acknowledged"), ("c5", "closed"), ("c6", "acknowledged"))}  # fmt: skip
    await actions.disable_person(site.db, user_id=site.world.users["out"], by=site.world.users["adm"])
    view = await actions.load(site.db.reader, CHECKLISTS, handovers["c6"])
    assert view is not None
    rmgr = await actor(site.db, site.world, "rmgr")
    await actions.act(site.db, CHECKLISTS, rmgr, handovers["c6"], Action.APPROVE, view.handover.version, "")
    return Leaver(site, handovers)


def list_routes(app: Any) -> list[str]:
    """Every page reached by GET without a path parameter: where lists of cases and handovers are."""
    found = []
    for route in app.routes:
        plain = isinstance(route, HTTPRoute) and "GET" in route.methods and "{" not in route.path
        if plain and not route.path.startswith(NOT_LISTS):
            found.append(route.path)
    return found


def table_rows(text: str) -> list[str]:
    return re.findall(r"<tr[^>]*>(.*?)</tr>", text, re.S)


def row_handover(row: str, names: dict[int, str]) -> int | None:
    """The handover a row is about: its link to the handover named by the child's name or its number."""
    for handover_id, label in re.findall(r'href="/handovers/(\d+)(?:/view|/review)?">(.*?)</a>', row, re.S):
        text = html.unescape(re.sub(r"<[^>]+>", "", label)).strip()
        if text.startswith((names.get(int(handover_id), "\0"), f"#{handover_id}")):
            return int(handover_id)
    return None


async def test_every_list_page_marks_every_row_of_a_leavers_case_or_handover(site: Site, leaver: Leaver) -> None:
    by_handover, by_child = await leaver.expected()
    assert {HELD_PENDING_TRANSFER, ON_BEHALF} <= set().union(*by_handover.values()), "both markers are at stake"
    names = {}
    for handover_id in by_handover:
        handover = await db.handover_by_id(site.db.reader, handover_id)
        assert handover is not None
        names[handover_id] = handover.child_name
    checked: dict[str, set[str]] = {}
    holder = next(iter({h.author for h in [await db.handover_by_id(site.db.reader, i) for i in by_handover] if h}
                       - {"Out", "Rmgr"}), "")  # fmt: skip
    assert holder, "a manager continues Out's handovers"
    for path in list_routes(site.app):
        for query in ("", "?q=Child"):
            for username in PEOPLE:
                person = await site.as_user(username)
                response = await person.get(path + query)
                if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
                    continue
                for row in table_rows(response.text):
                    text = html.unescape(row)
                    handover_id = row_handover(row, names)
                    wanted = set(by_handover.get(handover_id, set())) if handover_id else set()
                    if handover_id is None:  # a row of a case: the held marker, by the child's name
                        wanted = set().union(*(m for name, m in by_child.items() if re.search(
                            rf"{re.escape(name)}(?!\d)", text)))  # fmt: skip
                    for marker in wanted:
                        assert marker in text, (path + query, username, marker, text[:300])
                    if wanted:
                        checked.setdefault(path, set()).update(wanted)
    for path in ("/", "/queue", "/inbox", "/search", "/audit/incomplete"):
        assert path in checked, f"{path} lists a marked row"
    assert ON_BEHALF in checked["/inbox"] and HELD_PENDING_TRANSFER in checked["/"]
    assert {HELD_PENDING_TRANSFER, ON_BEHALF} <= checked["/audit/incomplete"]


async def test_the_receivers_list_of_what_they_received_keeps_the_on_behalf_marker(site: Site, leaver: Leaver) -> None:
    rec = await site.as_user("rec")
    text = html.unescape((await rec.get("/finished")).text)  # closed: off her landing page, with her finished ones
    received = text.split('id="finished-received"', 1)[1]
    row = next(r for r in table_rows(received) if f"/handovers/{leaver.handovers['c6']}/view" in r)
    assert ON_BEHALF in row and HELD_PENDING_TRANSFER not in row, "approved: with the receiver, no longer held"


async def test_every_export_format_carries_both_markers(site: Site, leaver: Leaver) -> None:
    by_handover, _ = await leaver.expected()
    aud = await site.as_user("aud")
    for fmt in reporting.FORMATS:
        for response in (
            await aud.get(f"/audit/incomplete/{fmt}"),
            await call(site, (await tokens(site))["svc_aud"], "GET", f"/exports/incomplete?format={fmt}"),
        ):
            text = response.content.decode("utf-8-sig")
            if fmt == "csv":
                rows = list(csv.DictReader(io.StringIO(text, newline="")))
                found = {int(r["Handover"]): (r[HELD_PENDING_TRANSFER], r[case_records.ON_BEHALF_OF]) for r in rows}
            else:
                lines = [json.loads(line) for line in text.splitlines()]
                found = {r["handover_id"]: (r["held_pending_transfer"], r["completed_on_behalf_of"]) for r in lines}
            assert found, fmt
            for handover_id, (held, on_behalf) in found.items():
                markers = by_handover[handover_id]
                assert (
                    held
                    == ({True: "Yes", False: "No"} if fmt == "csv" else {True: True, False: False})[
                        HELD_PENDING_TRANSFER in markers
                    ]
                ), (fmt, handover_id)
                assert on_behalf == ("Out" if ON_BEHALF in markers else ""), (fmt, handover_id)


def api_paths_with_markers(schema: dict[str, Any]) -> list[str]:
    """The API's GET paths whose answer (or the items of its list) has a marker field, from its OpenAPI document."""
    components = schema["components"]["schemas"]

    def has_marker(ref: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
        name = ref.get("$ref", "").rsplit("/", 1)[-1]
        if not name or name in seen:
            return False
        properties = components[name].get("properties", {})
        if "held_pending_transfer" in properties:
            return True
        nested = [p.get("items", p) for p in properties.values()]
        return any(has_marker(p, seen | {name}) for p in nested)

    paths = []
    for path, operations in schema["paths"].items():
        ok = operations.get("get", {}).get("responses", {}).get("200", {})
        body = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if has_marker(body):
            paths.append(path)
    return paths


async def test_every_api_answer_with_a_case_or_handover_carries_the_markers(site: Site, leaver: Leaver) -> None:
    by_handover, by_child = await leaver.expected()
    schema = (await site.client.get("/schema/openapi.json")).json()
    paths = api_paths_with_markers(schema)
    assert {"/api/v1/handovers", "/api/v1/handovers/{handover_id}", "/api/v1/cases/{case_id}"} <= set(paths)
    documented = schema["components"]["schemas"]
    assert {"held_pending_transfer", "completed_on_behalf_of"} <= set(documented["HandoverOut"]["properties"])
    assert "held_pending_transfer" in documented["CaseOut"]["properties"]
    token = (await tokens(site))["svc_aud"]
    cases = {}
    for case_id in site.world.cases.values():
        case = await db.case_by_id(site.db.reader, case_id)
        assert case is not None
        cases[case_id] = case.child_name
    for path in paths:
        urls = [path.removeprefix("/api/v1")]
        if "{handover_id}" in path:
            urls = [path.removeprefix("/api/v1").replace("{handover_id}", str(h)) for h in by_handover]
        if "{case_id}" in path:
            urls = [path.removeprefix("/api/v1").replace("{case_id}", str(c)) for c in cases]
        for url in urls:
            response = await call(site, token, "GET", url)
            assert response.status_code == 200, (url, response.text)
            body = response.json()
            for item in body.get("items", [body]):
                if "case_id" in path:
                    assert item["held_pending_transfer"] == (HELD_PENDING_TRANSFER in by_child[item["child_name"]])
                    continue
                handover_id = item.get("handover_id", item.get("id"))
                markers = by_handover[handover_id]
                assert item["held_pending_transfer"] == (HELD_PENDING_TRANSFER in markers), url
                on_behalf = item.get("completed_on_behalf_of")
                assert (on_behalf or "") == ("Out" if ON_BEHALF in markers else ""), url
