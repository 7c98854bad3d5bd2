"""After each step a person lands on a confirmation page: a panel saying what happened, whom the handover waits on now
by name, and the way back to their own work. An address that claims a step that did not happen shows no panel; the
receiver told "This cannot be done yet" is linked to each item still to confirm; and where a step's button is not
there for a person who holds its role, the page says why, in the state machine's words."""

from __future__ import annotations

import re

import pytest

from service import actions
from service.actions.demo import CASE_M_DISAGREEMENT
from service.core.next_steps import PANEL_TITLES, explains_absence
from service.core.workflow import ACTION_NAMES, OPEN_DISAGREEMENT_REFUSAL, Action, refusals
from service.web.handover import STEP_BUTTONS
from tests.conftest import PEOPLE, Site
from tests.helpers import CHECKLISTS, act, actor, confirm_all, fill_all, handover_in, start, submit, version_in

pytestmark = pytest.mark.anyio

# step button -> (the state the handover is brought to first, who presses it, the panel, what happens next, link back)
STEPS = {
    "submit": (None, "out", "Handover submitted",
               "It now waits for Both, Smgr or Smgr2 (managers of North Team) to endorse it.", "/"),
    "endorse": ("submitted", "smgr", "Handover endorsed", "It now waits for Rec to take the case on.", "/queue"),
    "acknowledge": ("endorsed", "rec", "Handover acknowledged",
                    "It now waits for Both, Rmgr or Rmgr2 (managers of Cp Team) to approve the transfer.", "/inbox"),
    "approve": ("acknowledged", "rmgr", "Transfer approved", "The case is now allocated to Rec in Cp Team.", "/queue"),
    "return": ("endorsed", "rec", "Handover returned to the outgoing worker",
               "It now waits for Out to answer the query and submit the handover again.", "/inbox"),
    "return-to-receiver": ("acknowledged", "rmgr", "Handover returned to the receiving worker",
                           "It now waits for Rec to consider the query and acknowledge the handover again.", "/queue"),
    "cancel": ("draft", "out", "Handover cancelled", "The case stays with Out in North Team.", "/"),
}  # fmt: skip


def test_every_step_with_a_button_is_checked_here() -> None:
    assert set(STEPS) == set(ACTION_NAMES)


async def taken(site: Site, button: str) -> tuple[int, object, object]:
    """A handover brought to the state before the step, and the step taken by its person on the page."""
    state, who, *_ = STEPS[button]
    person = await site.as_user(who)
    if state is None:
        handover_id = await start(person, site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
        await fill_all(person, handover_id)
        response = await submit(person, handover_id)
    else:
        handover_id = await handover_in(site.db, site.world, state, "mia")
        if button == "acknowledge":
            await confirm_all(person, handover_id)
            review = await person.get(f"/handovers/{handover_id}/review")
            form = {"handover_version": version_in(review.text)}
            response = await person.post(f"/handovers/{handover_id}/acknowledge", form)
        else:
            response = await act(person, handover_id, button, reason="Please add the date of the meeting.")
    return handover_id, person, response


def panel(html: str) -> str:
    found = re.search(r'<div class="govuk-panel govuk-panel--confirmation">(.*?)</div>\s*</div>', html, re.S)
    return found.group(1) if found else ""


@pytest.mark.parametrize("button", list(STEPS))
async def test_each_step_ends_on_its_confirmation_page(site: Site, button: str) -> None:
    _, _, title, next_step, work = STEPS[button]
    handover_id, person, response = await taken(site, button)
    assert response.status_code == 303, response.text[:500]  # type: ignore[attr-defined]
    location = response.headers["location"]  # type: ignore[attr-defined]
    assert location == f"/handovers/{handover_id}/done/{button}", "only ids in the address, never a child's name"
    page = await person.get(location)  # type: ignore[attr-defined]
    assert page.status_code == 200
    shown = panel(page.text)
    assert title in shown and "Mia Test" in shown and "T-1" in shown
    assert title == PANEL_TITLES[ACTION_NAMES[button]]
    assert "What happens next</h2>" in page.text and next_step in page.text
    assert f'href="{work}"' in page.text.split("What happens next")[1]
    assert f'href="/handovers/{handover_id}/view"' in page.text


async def test_a_confirmation_for_a_step_that_did_not_happen_shows_no_panel(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    smgr, smgr2, rec = [await site.as_user(name) for name in ("smgr", "smgr2", "rec")]
    view = f"/handovers/{handover_id}/view"
    assert panel((await smgr.get(f"/handovers/{handover_id}/done/endorse")).text), "her endorsement is the latest step"
    for person, button in ((smgr, "approve"), (smgr, "submit"), (smgr2, "endorse"), (rec, "acknowledge")):
        response = await person.get(f"/handovers/{handover_id}/done/{button}")
        assert (response.status_code, response.headers.get("location")) == (303, view), button
    await act(rec, handover_id, "return", reason="Please add the date of the meeting.")
    stale = await smgr.get(f"/handovers/{handover_id}/done/endorse")
    assert (stale.status_code, stale.headers.get("location")) == (303, view), "a later step was taken since"


@pytest.mark.parametrize("button", ["endorse", "nonsense", "edit", "confirm"])
async def test_a_confirmation_of_a_handover_the_person_may_not_see_is_not_found(site: Site, button: str) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    other = await site.as_user("other")
    response = await other.get(f"/handovers/{handover_id}/done/{button}")
    assert response.status_code == 404 and "Mia Test" not in response.text
    smgr = await site.as_user("smgr")
    if button != "endorse":
        assert (await smgr.get(f"/handovers/{handover_id}/done/{button}")).status_code == 404


async def test_the_old_success_banners_are_gone(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    smgr = await site.as_user("smgr")
    page = (await smgr.get(f"/handovers/{handover_id}/view?done=endorse")).text
    assert "govuk-notification-banner" not in page


async def test_acknowledging_too_soon_links_each_item_to_its_place_on_the_review_page(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    rec = await site.as_user("rec")
    review = (await rec.get(f"/handovers/{handover_id}/review")).text
    refused = await rec.post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(review)})
    assert refused.status_code == 409 and "This cannot be done yet" in refused.text
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    reasons = refusals(Action.ACKNOWLEDGE, view.facts, await actor(site.db, site.world, "rec"))
    links = re.findall(r'<li><a class="govuk-link" href="([^"]+)">([^<]+)</a></li>', refused.text)
    assert [text for _, text in links] == reasons, "the state machine's own sentences, each linked"
    critical = view.critical_sections()
    assert len(links) == len(critical) > 1
    for (href, _), section in zip(links, critical, strict=True):
        assert href == f"/handovers/{handover_id}/review#item-{section.id}"
        assert f'id="item-{section.id}"' in review, "the link's place exists on the review page"
        assert f'href="#item-{section.id}"' in review, "the review page's own list of items to confirm links too"
    assert f'href="/handovers/{handover_id}/review"' in refused.text


async def test_other_refusals_still_get_the_ordinary_refusal_page(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    rec, rmgr = await site.as_user("rec"), await site.as_user("rmgr")
    view = await rmgr.get(f"/handovers/{handover_id}/view")
    refused = await rec.post(f"/handovers/{handover_id}/approve", {"handover_version": version_in(view.text)})
    # a worker never approves: told so, not that it cannot be done yet
    assert refused.status_code == 409 and "You cannot do this" in refused.text
    assert "This cannot be done yet" not in refused.text
    endorsed = await handover_in(site.db, site.world, "endorsed", "liam")
    loaded = await actions.load(site.db.reader, CHECKLISTS, endorsed)
    assert loaded is not None
    refused = await rmgr.post(f"/handovers/{endorsed}/approve", {"handover_version": str(loaded.handover.version)})
    assert refused.status_code == 409 and "This cannot be done yet" in refused.text


def why_not(html: str, name: str) -> str:
    found = re.search(rf'<div class="govuk-inset-text app-why-not" id="why-not-{name}">(.*?)</div>', html, re.S)
    return found.group(1) if found else ""


async def endorsed_by_both(site: Site) -> int:
    """Acknowledged, after "both" (a manager of both teams) endorsed it: they may not approve it too."""
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    for who, step in (("both", Action.ENDORSE), ("rec", Action.ACKNOWLEDGE)):
        view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
        assert view is not None
        person = await actor(site.db, site.world, who)
        if step == Action.ACKNOWLEDGE:
            for item in view.critical_sections():
                current = await actions.load(site.db.reader, CHECKLISTS, handover_id)
                assert current is not None
                await actions.confirm_item(
                    site.db, CHECKLISTS, person, handover_id, item.id, current.handover.version,
                    understood=True, readback="I take on these risks and the plan to manage them.",
                )  # fmt: skip
            view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
            assert view is not None
        await actions.act(site.db, CHECKLISTS, person, handover_id, step, view.handover.version)
    return handover_id


@pytest.mark.parametrize(
    ("state", "someone_refused"),
    [("submitted", False), ("endorsed", False), ("acknowledged", False), ("disagreement", True), ("both", True)],
)
async def test_where_a_button_is_absent_for_someone_in_its_role_the_page_says_why(
    site: Site, state: str, someone_refused: bool
) -> None:
    """Every seeded person, every step button: generated from the state machine's refusals and roles."""
    if state == "disagreement":  # Case M: a disagreement written in the checklist stops the approval
        handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    elif state == "both":
        handover_id = await endorsed_by_both(site)
    else:
        handover_id = await handover_in(site.db, site.world, state, "mia")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    explained = 0
    for name in PEOPLE:
        who = await actor(site.db, site.world, name)
        page = await (await site.as_user(name)).get(f"/handovers/{handover_id}/view")
        if page.status_code == 404:
            continue
        for button, (step, asked) in STEP_BUTTONS.items():
            reasons = refusals(asked, view.facts, who, "-")
            block = why_not(page.text, button)
            if reasons and explains_absence(step, view.facts, who):
                explained += 1
                said = re.sub(r"<[^>]+>", "", block).replace("&#39;", "'")
                for reason in reasons:
                    assert reason[1:] in said, (name, button, reason)
            else:
                assert not block, (name, button)
    assert bool(explained) == someone_refused


async def test_the_receiving_manager_is_told_an_open_disagreement_stops_approval_and_a_worker_is_not(
    site: Site,
) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia", answers=CASE_M_DISAGREEMENT)
    rmgr, rec = await site.as_user("rmgr"), await site.as_user("rec")
    page = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    assert "Approve transfer" not in page
    assert OPEN_DISAGREEMENT_REFUSAL[1:] in why_not(page, "approve").replace("&#39;", "'")
    assert not why_not((await rec.get(f"/handovers/{handover_id}/view")).text, "approve")


# --- after review ----------------------------------------------------------------------------------------------------

# each step a person takes with a button, and the state it is taken from
STEP_STATES = {
    Action.ENDORSE: "submitted",
    Action.ACKNOWLEDGE: "endorsed",
    Action.APPROVE: "acknowledged",
    Action.RETURN_TO_RECEIVER: "acknowledged",
    Action.RETURN_TO_OUTGOING: "acknowledged",
}


@pytest.mark.parametrize("step", list(STEP_STATES))
async def test_who_may_never_take_a_step_is_told_so_before_any_version_check(site: Site, step: Action) -> None:
    """Over every (person, step) pair: someone the state machine refuses by who they are hears that reason, even
    with an out-of-date page; someone who holds the role hears that the handover has changed."""
    from service.core.errors import Conflict, Refused
    from service.core.workflow import person_refusals

    handover_id = await handover_in(site.db, site.world, STEP_STATES[step], "mia")
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    for name in PEOPLE:
        person = await actor(site.db, site.world, name)
        mine = person_refusals(step, view.facts, person)
        stale = view.handover.version - 1
        with pytest.raises(Refused if mine else Conflict) as raised:
            await actions.act(site.db, CHECKLISTS, person, handover_id, step, stale, "Because")
        if mine:
            assert isinstance(raised.value, Refused) and raised.value.reasons == mine, name


async def test_a_worker_posting_approve_with_an_old_page_is_told_only_managers_approve(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    rec = await site.as_user("rec")
    refused = await rec.post(f"/handovers/{handover_id}/approve", {"handover_version": "1"})
    assert refused.status_code == 409
    assert "You cannot do this" in refused.text
    assert "Only a manager of the receiving team can approve it" in refused.text
    assert "has changed since you opened this page" not in refused.text
    assert "This cannot be done yet" not in refused.text


async def test_the_receiver_sees_the_managers_query_after_a_return_to_them(site: Site) -> None:
    from service import db

    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    rmgr, rec = await site.as_user("rmgr"), await site.as_user("rec")
    returned = await act(rmgr, handover_id, "return-to-receiver", reason="Check the date of the next core group")
    assert returned.status_code == 303
    done = await rmgr.get(returned.headers["location"])
    assert "consider the query and acknowledge the handover again" in done.text
    assert "confirm each critical item in their own words" not in done.text
    review = await rec.get(f"/handovers/{handover_id}/review")
    assert review.status_code == 200
    manager = await db.user_by_id(site.db.reader, site.world.users["rmgr"])
    assert manager is not None
    assert "Returned to you with a query" in review.text
    assert "Check the date of the next core group" in review.text and f"{manager.name} returned" in review.text
    assert "You have confirmed every critical item." in review.text  # their confirmations were kept


async def test_the_contents_list_names_the_disagreements_list_apart_from_the_checklist_section(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    smgr = await site.as_user("smgr")
    page = await smgr.get(f"/handovers/{handover_id}/view")
    contents = re.search(r"<nav class=\"app-contents.*?</nav>", page.text, re.S)
    assert contents is not None
    assert re.search(r'href="#disagreements">Disagreements raised</a>', contents.group(0))
    assert contents.group(0).count(">Professional disagreements</a>") <= 1
