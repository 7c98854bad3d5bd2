"""The transfer across four people: endorse, acknowledge item by item, approve; and every refusal on the way."""

from __future__ import annotations

import re

import pytest

from service import actions, db
from service.actions.demo import CASE_M_LIKE, naming_children
from tests.conftest import Browser, Site
from tests.helpers import (
    CHECKLISTS,
    LATEST,
    act,
    actor,
    complete,
    confirm_all,
    fill_all,
    form_for,
    section,
    start,
    submit,
    tell_everyone,
    version_in,
)

pytestmark = pytest.mark.anyio


async def allocated_to(site: Site, case: str) -> int:
    found = await db.case_by_id(site.db.reader, site.world.cases[case])
    assert found is not None
    return found.allocated_worker_id


async def state_of(site: Site, handover_id: int) -> str:
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    return handover.state


async def current_version(site: Site, handover_id: int) -> str:
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    return str(handover.version)


async def submitted_handover(site: Site, receiver: str | None = "rec") -> tuple[int, dict[str, Browser]]:
    people = {name: await site.as_user(name) for name in ("out", "smgr", "rec", "rmgr")}
    receiver_id = site.world.users[receiver] if receiver else None
    handover_id = await start(people["out"], site.world.cases["mia"], site.world.teams["cp"], receiver_id)
    await fill_all(people["out"], handover_id)
    assert (await submit(people["out"], handover_id)).status_code == 303
    return handover_id, people


async def acknowledged_handover(site: Site) -> tuple[int, dict[str, Browser]]:
    handover_id, people = await submitted_handover(site)
    assert (await act(people["smgr"], handover_id, "endorse")).status_code == 303
    await confirm_all(people["rec"], handover_id)
    page = await people["rec"].get(f"/handovers/{handover_id}/review")
    ack = await people["rec"].post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(page.text)})
    assert ack.status_code == 303
    return handover_id, people


async def test_the_whole_journey_across_four_people(site: Site) -> None:
    out_id, rec_id = site.world.users["out"], site.world.users["rec"]
    handover_id, people = await submitted_handover(site)
    out, smgr, rec, rmgr = people["out"], people["smgr"], people["rec"], people["rmgr"]
    assert await allocated_to(site, "mia") == out_id

    queue = await smgr.get("/queue")
    assert "Mia Test" in queue.text and "waiting for your endorsement" in queue.text
    assert "Mia Test" not in (await rec.get("/inbox")).text, "only endorsed handovers reach the receiver"
    assert (await act(smgr, handover_id, "endorse")).status_code == 303
    assert await allocated_to(site, "mia") == out_id

    inbox = await rec.get("/inbox")
    assert "Mia Test" in inbox.text and "Working days waiting" in inbox.text
    returned = await act(rec, handover_id, "return", reason="Please add the date of the last core group.")
    assert returned.status_code == 303 and await state_of(site, handover_id) == "returned"
    task_list = await out.get(f"/handovers/{handover_id}")
    assert "Returned with a query" in task_list.text and "Please add the date of the last core group." in task_list.text
    assert await allocated_to(site, "mia") == out_id

    url = f"/handovers/{handover_id}/sections/network"
    page = await out.get(url)
    fixed = form_for(
        section("network", LATEST), complete(checklist=LATEST)["network"], version=int(version_in(page.text, "version"))
    )
    assert (await out.post(url, fixed)).status_code == 303
    reply = "Added: the last core group was on 3 March."
    assert (await submit(out, handover_id, reply)).status_code == 303
    assert (await act(smgr, handover_id, "endorse")).status_code == 303
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.receiver_id == rec_id, "resubmission goes back to the same receiver"

    await confirm_all(rec, handover_id)
    review = await rec.get(f"/handovers/{handover_id}/review")
    assert "You have confirmed every critical item" in review.text
    ack = await rec.post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(review.text)})
    assert ack.status_code == 303 and await allocated_to(site, "mia") == out_id

    assert "waiting for your approval" in (await rmgr.get("/queue")).text
    untold = await act(rmgr, handover_id, "approve")
    assert untold.status_code == 409 and "have been told of their new worker" in untold.text
    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)
    approved = await act(rmgr, handover_id, "approve")
    assert approved.status_code == 303 and await state_of(site, handover_id) == "closed"
    assert await allocated_to(site, "mia") == rec_id
    case = await db.case_by_id(site.db.reader, site.world.cases["mia"])
    assert case is not None and case.allocated_team_id == site.world.teams["cp"]

    history = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    for words in (
        "started the handover",
        "submitted the handover",
        "endorsed it",
        "returned it to the outgoing",
        "Please add the date of the last core group.",
        "Added: the last core group was on 3 March.",
        "confirmed a critical item",
        "acknowledged the handover",
        "approved the transfer",
    ):
        assert words in history, words


async def test_acknowledging_with_an_unconfirmed_item_is_refused_with_the_list(site: Site) -> None:
    handover_id, people = await submitted_handover(site)
    await act(people["smgr"], handover_id, "endorse")
    rec = people["rec"]
    page = await rec.get(f"/handovers/{handover_id}/review")
    version = version_in(page.text)
    await rec.post(
        f"/handovers/{handover_id}/confirm/open-risks",
        {"handover_version": version, "understood": "yes", "readback": "I take on the risk to Mia from her brother."},
    )
    refused = await rec.post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version})
    assert refused.status_code == 409
    assert "Confirm ‘Sibling abuse history’" in refused.text and "Confirm ‘Open risks’" not in refused.text
    assert await state_of(site, handover_id) == "endorsed"


async def test_a_readback_is_required_for_risks_and_sibling_history(site: Site) -> None:
    handover_id, people = await submitted_handover(site)
    await act(people["smgr"], handover_id, "endorse")
    page = await people["rec"].get(f"/handovers/{handover_id}/review")
    response = await people["rec"].post(
        f"/handovers/{handover_id}/confirm/sibling-harm",
        {"handover_version": version_in(page.text), "understood": "yes"},
    )
    assert response.status_code == 400
    assert "Write, in your own words, what you are taking on" in response.text
    assert 'href="#readback-sibling-harm"' in response.text


async def test_approving_before_acknowledgement_is_refused_saying_whom_it_waits_on(site: Site) -> None:
    handover_id, people = await submitted_handover(site)
    await act(people["smgr"], handover_id, "endorse")
    crafted = await people["rmgr"].post(
        f"/handovers/{handover_id}/approve", {"handover_version": await current_version(site, handover_id)}
    )
    assert crafted.status_code == 409
    assert "has not been acknowledged" in crafted.text
    assert "Awaiting acknowledgement by Rec since" in crafted.text and "working day" in crafted.text
    assert await state_of(site, handover_id) == "endorsed"
    assert await allocated_to(site, "mia") == site.world.users["out"]


async def test_one_manager_cannot_give_both_sign_offs(site: Site) -> None:
    both = await site.as_user("both")
    handover_id, people = await submitted_handover(site)
    assert (await act(both, handover_id, "endorse")).status_code == 303
    await confirm_all(people["rec"], handover_id)
    page = await people["rec"].get(f"/handovers/{handover_id}/review")
    await people["rec"].post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(page.text)})
    # the page does not offer the endorser the approval, and approving anyway is refused with the reason
    view = (await both.get(f"/handovers/{handover_id}/view")).text
    assert f'action="/handovers/{handover_id}/approve"' not in view
    version = version_in((await people["rmgr"].get(f"/handovers/{handover_id}/view")).text)
    refused = await both.post(f"/handovers/{handover_id}/approve", {"handover_version": version})
    assert refused.status_code == 409 and "another manager must approve it" in refused.text
    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)
    assert (await act(people["rmgr"], handover_id, "approve")).status_code == 303


async def test_an_open_disagreement_blocks_approval_until_a_manager_resolves_it(site: Site) -> None:
    handover_id, people = await acknowledged_handover(site)
    raised = await people["rec"].post(
        f"/handovers/{handover_id}/disagreements",
        {
            "about": "Whether the mother can protect Mia",
            "with_whom": "Out (outgoing worker)",
            "view": "A parenting-capacity assessment is needed before Liam has any contact.",
        },
    )
    assert raised.status_code == 303
    refused = await act(people["rmgr"], handover_id, "approve")
    assert refused.status_code == 409 and "professional disagreement is still open" in refused.text
    view = (await people["rmgr"].get(f"/handovers/{handover_id}/view")).text
    assert "Whether the mother can protect Mia" in view
    disagreement_id = re.search(rf"/handovers/{handover_id}/disagreements/(\d+)", view)
    assert disagreement_id
    incomplete = await people["rmgr"].post(
        f"/handovers/{handover_id}/disagreements/{disagreement_id.group(1)}",
        {"decision": "escalated", "outcome": "To head of service"},
    )
    assert (
        incomplete.status_code == 400 and "Select the stage the disagreement has been escalated to" in incomplete.text
    )
    decided = await people["rmgr"].post(
        f"/handovers/{handover_id}/disagreements/{disagreement_id.group(1)}",
        {"decision": "resolved", "outcome": "PAMS commissioned; no contact until then"},
    )
    assert decided.status_code == 303
    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)
    assert (await act(people["rmgr"], handover_id, "approve")).status_code == 303
    history = (await people["rmgr"].get(f"/handovers/{handover_id}/view")).text
    assert "recorded a professional disagreement" in history and "resolved a professional disagreement" in history


async def test_workers_from_other_teams_cannot_act_on_the_handover(site: Site) -> None:
    handover_id, _ = await acknowledged_handover(site)
    for name in ("other", "omgr", "out2", "rec2"):
        intruder = await site.as_user(name)
        for button in ("approve", "endorse", "acknowledge", "return", "cancel"):
            response = await intruder.post(
                f"/handovers/{handover_id}/{button}", {"handover_version": "3", "reason": "x"}
            )
            assert response.status_code == 404, (name, button)
        assert (await intruder.get(f"/handovers/{handover_id}/view")).status_code == 404
    assert await state_of(site, handover_id) == "acknowledged"


async def test_a_replayed_or_stale_form_changes_nothing(site: Site) -> None:
    handover_id, people = await submitted_handover(site)
    page = await people["smgr"].get(f"/handovers/{handover_id}/view")
    stale_version = version_in(page.text)
    assert (
        await people["smgr"].post(f"/handovers/{handover_id}/endorse", {"handover_version": stale_version})
    ).status_code == 303
    replay = await people["smgr"].post(f"/handovers/{handover_id}/endorse", {"handover_version": stale_version})
    assert replay.status_code == 409
    stale_return = await people["smgr"].post(
        f"/handovers/{handover_id}/return", {"handover_version": stale_version, "reason": "Late"}
    )
    assert stale_return.status_code == 409
    assert await state_of(site, handover_id) == "endorsed"
    audit = [e.entry.action for e in await db.audit_entries(site.db.reader)]
    assert audit.count("endorse") == 1 and "return_to_outgoing" not in audit


async def test_a_return_needs_a_reason(site: Site) -> None:
    handover_id, people = await submitted_handover(site)
    response = await act(people["smgr"], handover_id, "return", reason="  ")
    assert response.status_code == 400 and "Enter the reason" in response.text
    assert await state_of(site, handover_id) == "submitted"


async def test_a_handover_for_a_team_reaches_every_worker_in_it_and_whoever_acts_keeps_it(site: Site) -> None:
    handover_id, people = await submitted_handover(site, receiver=None)
    await act(people["smgr"], handover_id, "endorse")
    rec2 = await site.as_user("rec2")
    for person in (people["rec"], rec2):
        assert "no worker named" in (await person.get("/inbox")).text
    await act(rec2, handover_id, "return", reason="Chronology is out of date")
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.receiver_id == site.world.users["rec2"]


async def test_the_receiving_manager_can_send_it_back_to_the_receiver(site: Site) -> None:
    handover_id, people = await acknowledged_handover(site)
    response = await act(people["rmgr"], handover_id, "return-to-receiver", reason="Say more about contact")
    assert response.status_code == 303 and await state_of(site, handover_id) == "endorsed"
    assert "Mia Test" in (await people["rec"].get("/inbox")).text


async def test_case_m_scenario_cannot_be_submitted_without_the_category_change_rationale(site: Site) -> None:
    """Four siblings; the CP category changed from sexual abuse to neglect after the child who harmed left home."""
    async with site.db.transaction() as conn:
        group = await db.create_sibling_group(conn, "Ashdown family")
        for reference, name in (("M-2", "Noah Ashdown"), ("M-3", "Leo Ashdown"), ("M-4", "Mia Ashdown")):
            await db.create_case(
                conn, reference, name, "2014-01-01", site.world.users["out"], site.world.teams["north"], group
            )
    people = {name: await site.as_user(name) for name in ("out", "smgr", "rec", "rmgr")}
    handover_id = await start(people["out"], site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    answers = complete(checklist=LATEST, **CASE_M_LIKE)
    change = answers["cp-category"].groups["changes"][0]
    assert change["previous_category"] == "sexual_abuse" and answers["cp-category"].values["categories"] == ["neglect"]
    answers["cp-category"].groups["changes"][0] = {**change, "risk_outcome": ""}
    # the sibling harm rows choose the children of the group in the handover's checklist version
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    for section_id, section_answers in naming_children(view.checklist, answers).items():
        await people["out"].post(
            f"/handovers/{handover_id}/sections/{section_id}",
            form_for(view.checklist.section(section_id) or section(section_id), section_answers),
        )
    refused = await submit(people["out"], handover_id)
    assert refused.status_code == 409
    assert "Child protection plan and category" in refused.text and "#changes-0-risk_outcome" in refused.text
    assert await state_of(site, handover_id) == "draft"

    await fill_all(people["out"], handover_id, {"cp-category": complete(**CASE_M_LIKE)["cp-category"]})
    assert (await submit(people["out"], handover_id)).status_code == 303
    for button, who in (("approve", "rmgr"), ("acknowledge", "rec")):
        response = await people[who].post(
            f"/handovers/{handover_id}/{button}", {"handover_version": await current_version(site, handover_id)}
        )
        assert response.status_code == 404, "before endorsement the receiving side cannot even see it"
    await act(people["smgr"], handover_id, "endorse")
    early = await people["rmgr"].post(
        f"/handovers/{handover_id}/approve", {"handover_version": await current_version(site, handover_id)}
    )
    assert early.status_code == 409 and "has not been acknowledged" in early.text
    await confirm_all(people["rec"], handover_id)
    review = await people["rec"].get(f"/handovers/{handover_id}/review")
    assert "Child protection plan and category" in review.text and "Critical" in review.text
    await people["rec"].post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(review.text)})
    assert await allocated_to(site, "mia") == site.world.users["out"]
    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)
    assert (await act(people["rmgr"], handover_id, "approve")).status_code == 303
    assert await allocated_to(site, "mia") == site.world.users["rec"]


async def test_a_transfer_within_one_team_has_one_manager_step(site: Site) -> None:
    out, out2, smgr, smgr2 = [await site.as_user(name) for name in ("out", "out2", "smgr", "smgr2")]
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["north"], site.world.users["out2"])
    await fill_all(out, handover_id)
    submitted = await submit(out, handover_id)
    assert submitted.status_code == 303 and submitted.headers["location"] == f"/handovers/{handover_id}/done/submit"
    assert await state_of(site, handover_id) == "endorsed", "no separate endorsement within one team"
    page = (await out.get(submitted.headers["location"])).text
    assert "It now waits for Out2 to take the case on." in page
    assert "A manager of North Team then approves the transfer." in page
    version = await current_version(site, handover_id)
    endorsing = await smgr.post(f"/handovers/{handover_id}/endorse", {"handover_version": version})
    assert endorsing.status_code == 409
    await confirm_all(out2, handover_id)
    review = await out2.get(f"/handovers/{handover_id}/review")
    ack = await out2.post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(review.text)})
    assert ack.status_code == 303
    assert "waiting for your approval" in (await smgr.get("/queue")).text
    approving = await out.post(
        f"/handovers/{handover_id}/approve", {"handover_version": await current_version(site, handover_id)}
    )
    assert approving.status_code == 409, "the author never approves"
    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)
    assert (await act(smgr2, handover_id, "approve")).status_code == 303
    assert await state_of(site, handover_id) == "closed"
    assert await allocated_to(site, "mia") == site.world.users["out2"]
