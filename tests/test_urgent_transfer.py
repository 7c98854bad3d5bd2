"""The head of service authorises an urgent transfer: who may, the case moving at once, the handover completed after
the transfer by its author and its receiver, and closing without a separate approval."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service import actions, db
from service.core import deadlines
from service.core.clock import date_in_england, today
from service.core.validation import WORKFLOW_REASON_MAX
from service.core.workflow import (
    SERVICE_ACCOUNT_REFUSAL,
    URGENT_ALREADY,
    URGENT_CANCEL_REFUSAL,
    URGENT_LABEL,
    URGENT_ONLY_HEAD_OF_SERVICE,
    URGENT_REASON_MISSING,
    URGENT_RECEIVER_MISSING,
    Action,
)
from tests.conftest import Site
from tests.group_support import confirm_everything, fill_group, member_ids, start_group, step
from tests.helpers import CHECKLISTS, act, actor, confirm_all, fill_all, handover_in, submit, version_in
from tests.test_api import call, error_shape, tokens

pytestmark = pytest.mark.anyio

REASON = "The child has been placed in an emergency foster home in the receiving team area tonight"


async def make_head(site: Site, name: str = "omgr") -> int:
    """`name` (a team manager) is recorded as the head of service."""
    async with site.db.transaction() as conn:
        await db.set_head_of_service(conn, site.world.users[name])
    return site.world.users[name]


async def urgent_page(person: Any, handover_id: int) -> Any:
    return await person.get(f"/handovers/{handover_id}/urgent")


async def authorise(person: Any, handover_id: int, receiver: int | str | None, reason: str = REASON) -> Any:
    page = await urgent_page(person, handover_id)
    assert page.status_code == 200, page.text
    version = version_in(page.text) if 'name="handover_version"' in page.text else "0"
    form = {"handover_version": version, "reason": reason, "receiver": "" if receiver is None else str(receiver)}
    return await person.post(f"/handovers/{handover_id}/urgent", form)


async def case_of(site: Site, handover_id: int) -> db.Case:
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    case = await db.case_by_id(site.db.reader, handover.case_id)
    assert case is not None
    return case


async def allocated_since(site: Site, case_id: int) -> str:
    rows = await site.db.reader.execute_fetchall("SELECT allocated_since FROM cases WHERE id = ?", (case_id,))
    return str(next(iter(rows))[0])


async def handover(site: Site, handover_id: int) -> db.Handover:
    found = await db.handover_by_id(site.db.reader, handover_id)
    assert found is not None
    return found


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        (None, "sign-in"),
        ("out", "refused"),  # the author, a worker
        ("smgr", "refused"),  # the sending team's manager
        ("rmgr", "not found"),  # the receiving team's manager: the draft has not reached them
        ("other", "not found"),  # a worker elsewhere
        ("aud", "refused"),  # an auditor reads every handover, and authorises nothing
        ("adm", "not found"),  # an administrator account reads no handover
        ("omgr", "form"),  # the head of service
    ],
)
async def test_only_the_head_of_service_is_offered_and_may_authorise_an_urgent_transfer(
    site: Site, who: str | None, sees: str
) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    person = await site.as_user(who)
    page = await urgent_page(person, handover_id)
    posted = await person.post(
        f"/handovers/{handover_id}/urgent",
        {"handover_version": "1", "receiver": str(site.world.users["rec2"]), "reason": REASON},
    )
    if sees == "sign-in":
        assert page.status_code == posted.status_code == 303
        assert "/sign-in" in page.headers["location"]
    elif sees == "not found":
        assert page.status_code == posted.status_code == 404
    elif sees == "refused":
        assert page.status_code == 200 and URGENT_ONLY_HEAD_OF_SERVICE[1:] in page.text  # said after a colon
        assert 'action="/handovers/' not in page.text.split("<main", 1)[1]  # no form to authorise with
        assert posted.status_code == 409 and URGENT_ONLY_HEAD_OF_SERVICE in posted.text
    else:
        assert page.status_code == 200 and f'action="/handovers/{handover_id}/urgent"' in page.text
    if sees != "form":
        assert (await handover(site, handover_id)).urgent_by is None
        assert (await case_of(site, handover_id)).allocated_worker_id == site.world.users["out"]


async def test_the_link_on_the_handover_page_is_for_the_head_of_service_only(site: Site) -> None:
    await make_head(site, "smgr")  # the head of service also manages the sending team, so sees the handover
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    link = f'href="/handovers/{handover_id}/urgent"'
    assert link in (await (await site.as_user("smgr")).get(f"/handovers/{handover_id}/view")).text
    for other in ("out", "smgr2", "aud"):
        page = await (await site.as_user(other)).get(f"/handovers/{handover_id}/view")
        assert page.status_code == 200 and link not in page.text, other


async def test_a_head_of_service_who_wrote_the_handover_is_refused(site: Site) -> None:
    async with site.db.transaction() as conn:
        await db.add_membership(conn, site.world.users["out"], site.world.teams["south"], "manager")
    await make_head(site, "out")
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    out = await site.as_user("out")
    page = await urgent_page(out, handover_id)
    assert "ou wrote this handover, so you cannot also authorise an urgent transfer of it" in page.text
    posted = await out.post(
        f"/handovers/{handover_id}/urgent",
        {"handover_version": version_in((await out.get(f"/handovers/{handover_id}/view")).text),
         "receiver": str(site.world.users["rec2"]), "reason": REASON},
    )  # fmt: skip
    assert posted.status_code == 409
    assert (await case_of(site, handover_id)).allocated_worker_id == site.world.users["out"]


async def test_a_head_of_service_named_as_the_receiver_is_refused(site: Site) -> None:
    async with site.db.transaction() as conn:
        await db.add_membership(conn, site.world.users["rec"], site.world.teams["south"], "manager")
    await make_head(site, "rec")
    handover_id = await handover_in(site.db, site.world, "draft", "c1")  # addressed to rec
    page = await urgent_page(await site.as_user("rec"), handover_id)
    assert "ou are named as the receiving worker, so you cannot also authorise an urgent transfer of it" in page.text


@pytest.mark.parametrize("state", ["closed", "cancelled"])
async def test_a_finished_handover_cannot_be_made_urgent(site: Site, state: str) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, state, "c1")
    head = await site.as_user("omgr")
    shown = await urgent_page(head, handover_id)  # the head of service oversees every team, so reads it
    assert shown.status_code == 200 and 'name="reason"' not in shown.text, "but is offered no form"
    before = await db.handover_by_id(site.db.reader, handover_id)
    assert before is not None
    posted = await head.post(
        f"/handovers/{handover_id}/urgent",
        {"handover_version": str(before.version), "receiver": str(site.world.users["rec2"]), "reason": REASON},
    )
    assert posted.status_code == 409
    after = await db.handover_by_id(site.db.reader, handover_id)
    assert after is not None and after.urgent_at is None and after.version == before.version


# ---------------------------------------------------------------- the case moves at once


@pytest.mark.parametrize(
    ("state", "after"),
    [("draft", "draft"), ("returned", "returned"), ("submitted", "endorsed"), ("endorsed", "endorsed")],
)
async def test_authorising_moves_the_case_at_once_and_keeps_the_handover_open(
    site: Site, state: str, after: str
) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, state, "c1")
    head = await site.as_user("omgr")
    response = await authorise(head, handover_id, site.world.users["rec2"])
    assert response.status_code == 303 and response.headers["location"] == f"/handovers/{handover_id}/urgent/done"
    case = await case_of(site, handover_id)
    assert (case.allocated_worker_id, case.allocated_team_id) == (site.world.users["rec2"], site.world.teams["cp"])
    assert case.open_handover_id == handover_id  # still open: it is completed after the transfer
    stored = await handover(site, handover_id)
    assert stored.state == after
    assert (stored.urgent_by, stored.urgent_reason, stored.receiver_id) == (
        site.world.users["omgr"], REASON, site.world.users["rec2"]
    )  # fmt: skip
    if state == "submitted":  # the authorisation stands in for the sending manager's endorsement
        assert stored.endorsed_by == site.world.users["omgr"]
    done = await head.get(f"/handovers/{handover_id}/urgent/done")
    assert done.status_code == 200 and "Urgent transfer authorised" in done.text and URGENT_LABEL in done.text
    assert "The case is now allocated to Rec2 in Cp Team." in done.text


async def test_the_audit_entry_keeps_the_reason_and_the_receiver(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "submitted", "c1")
    await authorise(await site.as_user("omgr"), handover_id, site.world.users["rec2"])
    events = [e for e in await db.timeline(site.db.reader, handover_id) if e.action == "authorise_urgent_transfer"]
    assert len(events) == 1
    assert events[0].actor == "Omgr"
    assert events[0].details.items() >= {
        "reason": REASON, "receiver_id": site.world.users["rec2"], "from": "submitted", "to": "endorsed"
    }.items()  # fmt: skip


async def test_the_handover_page_is_listed_as_urgent_with_who_when_why_and_its_due_date(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1", complete_it=False)
    await authorise(await site.as_user("omgr"), handover_id, site.world.users["rec2"])
    stored = await handover(site, handover_id)
    assert stored.urgent_at is not None
    limits = CHECKLISTS[(stored.checklist_id, stored.checklist_version)].time_limits
    assert limits is not None
    due = deadlines.due(
        stored.state, date_in_england(stored.state_since), date_in_england(stored.started_at), limits, today(),
        urgent_since=date_in_england(stored.urgent_at),
    )  # fmt: skip
    assert due is not None and due.wait == "urgent_completion"
    for who in ("out", "omgr"):  # the author, and the head of service who now follows it
        page = await (await site.as_user(who)).get(f"/handovers/{handover_id}/view")
        assert page.status_code == 200, who
        assert URGENT_LABEL in page.text and "Urgent transfer authorised by Omgr" in page.text and REASON in page.text
        assert due.words() in page.text
        blockers = re.search(r'<ul class="govuk-list govuk-list--bullet app-blockers">\s*<li>([^<]*)', page.text)
        assert blockers and blockers.group(1).startswith(URGENT_LABEL)


# ---------------------------------------------------------------- completing after the transfer


async def test_the_author_completes_and_submits_and_the_receiver_closes_it_without_an_approval(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1", complete_it=False)
    await authorise(await site.as_user("omgr"), handover_id, site.world.users["rec2"])
    case_id = (await case_of(site, handover_id)).id
    moved_at = "2026-01-05T09:00:00+00:00"  # a time no later step could write by chance
    async with site.db.transaction() as conn:
        await conn.execute("UPDATE cases SET allocated_since = ? WHERE id = ?", (moved_at, case_id))
    out = await site.as_user("out")
    await fill_all(out, handover_id)
    assert (await submit(out, handover_id)).status_code == 303
    submitted = await handover(site, handover_id)
    assert submitted.state == "endorsed" and submitted.endorsed_by == site.world.users["omgr"]
    rec2 = await site.as_user("rec2")
    assert f"/handovers/{handover_id}/" in (await rec2.get("/inbox")).text
    refused = await act(rec2, handover_id, "acknowledge")
    assert refused.status_code == 409  # every critical item is still to be confirmed in their own words
    await confirm_all(rec2, handover_id)
    assert (await act(rec2, handover_id, "acknowledge")).status_code == 303
    closed = await handover(site, handover_id)
    assert closed.state == "closed"
    assert (closed.acknowledged_by, closed.approved_by) == (site.world.users["rec2"], site.world.users["omgr"])
    case = await case_of(site, handover_id)
    assert case.allocated_worker_id == site.world.users["rec2"] and case.open_handover_id is None
    assert await allocated_since(site, case_id) == moved_at  # closing did not reallocate it again
    approvals = [e for e in await db.timeline(site.db.reader, handover_id) if e.action == "approve"]
    assert approvals == []  # no manager's approval was asked for


async def test_the_receiving_side_reads_an_urgent_draft_at_once(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1", complete_it=False)
    page = f"/handovers/{handover_id}/view"
    for who in ("rec2", "rmgr"):  # not before: a draft has not reached the receiving side
        assert (await (await site.as_user(who)).get(page)).status_code == 404, who
    await authorise(await site.as_user("omgr"), handover_id, site.world.users["rec2"])
    for who in ("rec2", "rmgr"):  # the case is theirs now, so is what has been written of it so far
        assert (await (await site.as_user(who)).get(page)).status_code == 200, who
    assert (await (await site.as_user("other")).get(page)).status_code == 404


async def test_an_urgent_transfer_cannot_be_cancelled_once_the_case_has_moved(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    await authorise(await site.as_user("omgr"), handover_id, site.world.users["rec2"])
    for who in ("out", "smgr"):
        version = str((await handover(site, handover_id)).version)  # the page offers no cancel button any more
        form = {"handover_version": version, "reason": "No longer needed"}
        response = await (await site.as_user(who)).post(f"/handovers/{handover_id}/cancel", form)
        assert response.status_code == 409, who
        assert URGENT_CANCEL_REFUSAL in response.text
    assert (await handover(site, handover_id)).state == "draft"


async def test_a_second_authorisation_is_refused(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    head = await site.as_user("omgr")
    await authorise(head, handover_id, site.world.users["rec2"])
    page = await urgent_page(head, handover_id)
    assert "Urgent transfer authorised by Omgr" in page.text and 'name="reason"' not in page.text


async def test_an_acknowledged_handover_closes_on_authorisation_with_its_own_receiver(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "acknowledged", "c1")
    head = await site.as_user("omgr")
    page = await urgent_page(head, handover_id)
    offered = set(re.findall(r'name="receiver" type="radio" value="(\d+)"', page.text))
    assert offered == {str(site.world.users["rec"])}  # only the worker who acknowledged it
    refused = await authorise(head, handover_id, site.world.users["rec2"])
    assert refused.status_code == 400 and "Select Rec: they acknowledged the handover" in refused.text
    assert (await authorise(head, handover_id, site.world.users["rec"])).status_code == 303
    closed = await handover(site, handover_id)
    assert closed.state == "closed" and closed.approved_by == site.world.users["omgr"]
    assert (await case_of(site, handover_id)).allocated_worker_id == site.world.users["rec"]


# ---------------------------------------------------------------- bad input, stale pages


@pytest.mark.parametrize(
    ("receiver", "reason", "expected"),
    [
        (None, REASON, {"receiver": URGENT_RECEIVER_MISSING}),
        ("rec2", "   ", {"reason": URGENT_REASON_MISSING}),
        (None, "", {"receiver": URGENT_RECEIVER_MISSING, "reason": URGENT_REASON_MISSING}),
        ("rec2", "x" * (WORKFLOW_REASON_MAX + 1), {"reason": f"must be {WORKFLOW_REASON_MAX:,} characters or fewer"}),
        ("other", REASON, {"receiver": "Select a worker in Cp Team"}),  # not a worker of the receiving team
        ("rmgr", REASON, {"receiver": "Select a worker in Cp Team"}),  # a manager, not a worker
        ("not a number", REASON, {"receiver": URGENT_RECEIVER_MISSING}),
        ("999999", REASON, {"receiver": "Select a worker in Cp Team"}),
        ("omgr_worker", REASON, {"receiver": "Select another worker: you authorise the transfer"}),
        ("absent", REASON, {"receiver": "Select another worker: Rec2’s long-term absence is recorded"}),
    ],
)  # fmt: skip
async def test_bad_input_gets_messages_by_the_field(
    site: Site, receiver: str | None, reason: str, expected: dict[str, str]
) -> None:
    await make_head(site)
    if receiver == "omgr_worker":  # the head of service also works in the receiving team
        async with site.db.transaction() as conn:
            await db.add_membership(conn, site.world.users["omgr"], site.world.teams["cp"], "worker")
        receiver = "omgr"
    if receiver == "absent":
        async with site.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO absences (user_id, recorded_by, recorded_at) VALUES (?, ?, ?)",
                (site.world.users["rec2"], site.world.users["rmgr"], db.now()),
            )
        receiver = "rec2"
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    given = site.world.users.get(receiver, receiver) if receiver else None
    response = await authorise(await site.as_user("omgr"), handover_id, given, reason)
    assert response.status_code == 400, response.text
    summary = response.text.split('class="govuk-error-summary', 1)[1].split("</ul>", 1)[0]
    for field, message in expected.items():
        assert f'href="#{field}"' in summary and message in summary, (field, summary)
        assert f'id="{field}-error"' in response.text  # the message by the field itself
    assert set(re.findall(r'href="#(\w+)"', summary)) == set(expected)
    assert (await handover(site, handover_id)).urgent_by is None
    assert (await case_of(site, handover_id)).allocated_worker_id == site.world.users["out"]


async def test_a_stale_page_gets_the_conflict_page_and_moves_nothing(site: Site) -> None:
    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "c1")
    head = await site.as_user("omgr")
    page = await urgent_page(head, handover_id)
    await submit(await site.as_user("out"), handover_id)  # the handover moves on while the form is open
    response = await head.post(
        f"/handovers/{handover_id}/urgent",
        {"handover_version": version_in(page.text), "receiver": str(site.world.users["rec2"]), "reason": REASON},
    )
    assert response.status_code == 409 and "The handover has changed since you opened this page" in response.text
    assert (await case_of(site, handover_id)).allocated_worker_id == site.world.users["out"]


# ---------------------------------------------------------------- a sibling group


async def test_a_sibling_groups_handover_moves_every_child_together(site: Site) -> None:
    await make_head(site)
    group_id = await start_group(site.db, site.world)
    await fill_group(site.db, site.world, group_id)
    ids = await member_ids(site.db, group_id)
    await step(site.db, site.world, "out", ids[0], Action.SUBMIT)
    head = await site.as_user("omgr")
    assert (await authorise(head, ids[0], site.world.users["rec2"])).status_code == 303
    for handover_id in ids:
        stored = await handover(site, handover_id)
        assert (stored.state, stored.urgent_by, stored.endorsed_by) == ("endorsed", site.world.users["omgr"],
                                                                         site.world.users["omgr"])  # fmt: skip
        assert (await case_of(site, handover_id)).allocated_worker_id == site.world.users["rec2"]
        entries = [e for e in await db.timeline(site.db.reader, handover_id) if e.action == "authorise_urgent_transfer"]
        assert len(entries) == 1 and entries[0].details.get("for_the_group") is True
    await confirm_everything(site.db, site.world, group_id, who="rec2")
    await step(site.db, site.world, "rec2", ids[0], Action.ACKNOWLEDGE)
    for handover_id in ids:
        closed = await handover(site, handover_id)
        assert (closed.state, closed.approved_by) == ("closed", site.world.users["omgr"])


# ---------------------------------------------------------------- the API


async def test_the_api_authorises_an_urgent_transfer_with_the_apis_error_shape(site: Site) -> None:
    issued = await tokens(site)
    async with site.db.transaction() as conn:
        head = await db.user_by_username(conn, "api_smgr")
        assert head is not None
        await db.set_head_of_service(conn, head.id)
    out = await actor(site.db, site.world, "out")
    handover_id = await actions.start_handover(
        site.db, out, CHECKLISTS[("case-transfer", 1)], case_id=site.world.cases["c1"],
        receiving_team_id=site.world.teams["cp"], receiver_id=None, transfer_reason="Step-up",
    )  # fmt: skip
    url = f"/handovers/{handover_id}/urgent"
    version = (await handover(site, handover_id)).version
    # api_smgr manages the sending team and may see the draft; anyone else is told it does not exist
    error_shape(await call(site, issued["api_other"], "POST", url, {"receiver_id": 1, "reason": REASON,
                                                                   "version": version}), 404)  # fmt: skip
    bad = {"receiver_id": site.world.users["other"], "reason": "", "version": version}
    body = error_shape(await call(site, issued["api_smgr"], "POST", url, bad), 422)
    assert {d["field"] for d in body["details"]} == {"receiver_id", "reason"}
    # a case management system's account reads every handover as an auditor, and never moves a case
    refused = await call(site, issued["svc_aud"], "POST", url,
                         {"receiver_id": site.world.users["rec2"], "reason": REASON, "version": version})  # fmt: skip
    assert SERVICE_ACCOUNT_REFUSAL in str(error_shape(refused, 409))
    stale = await call(site, issued["api_smgr"], "POST", url,
                       {"receiver_id": site.world.users["rec2"], "reason": REASON, "version": version + 1})  # fmt: skip
    error_shape(stale, 409)
    done = await call(site, issued["api_smgr"], "POST", url,
                      {"receiver_id": site.world.users["rec2"], "reason": REASON, "version": version})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json() == {"state": "draft", "receiver_id": site.world.users["rec2"]}
    assert (await case_of(site, handover_id)).allocated_worker_id == site.world.users["rec2"]
    again = await call(site, issued["api_smgr"], "POST", url,
                       {"receiver_id": site.world.users["rec2"], "reason": REASON, "version": version + 1})  # fmt: skip
    assert URGENT_ALREADY in str(error_shape(again, 409))
