"""The outgoing worker's journey through HTTP: sign in, start, fill in, check answers, submit."""

from __future__ import annotations

import html
import re

import pytest

from service import actions, db
from service.actions.demo import CASE_M_LIKE, naming_children
from tests.conftest import Site
from tests.helpers import LATEST, complete, fill_all, form_for, latest_form, section, start, submit, version_in

pytestmark = pytest.mark.anyio


async def test_anonymous_people_are_sent_to_sign_in(site: Site) -> None:
    anonymous = await site.as_user(None)
    for url in ("/", "/handovers/1", "/cases/1/handover", "/queue", "/inbox"):
        response = await anonymous.get(url)
        assert response.status_code == 303 and response.headers["location"] == "/sign-in", url


async def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(site: Site) -> None:
    person = await site.as_user(None)
    wrong = await person.sign_in("out", "not the password")
    unknown = await person.sign_in("nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert "Enter a correct username and password" in wrong.text
    assert (await person.get("/")).status_code == 303


async def test_dashboard_shows_my_cases_and_my_handovers(site: Site) -> None:
    out = await site.as_user("out")
    page = await out.get("/")
    assert "My cases" in page.text and "Mia Test" in page.text and "Liam Test" in page.text
    assert "Zoe Other" not in page.text, "only cases allocated to me"
    await start(out, site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    assert "Open handover" in (await out.get("/")).text


async def test_start_handover_validates_its_form_and_keeps_what_was_typed(site: Site) -> None:
    out = await site.as_user("out")
    typed = {"receiving_team": "", "receiver": "", "transfer_reason": "Moving <b>up</b>"}
    response = await out.post(f"/cases/{site.world.cases['mia']}/handover", typed)
    assert response.status_code == 400
    assert "Select the team the case is moving to" in response.text
    assert "Moving &lt;b&gt;up&lt;/b&gt;" in response.text
    wrong_team_worker = await out.post(
        f"/cases/{site.world.cases['mia']}/handover",
        {
            "receiving_team": str(site.world.teams["cp"]),
            "receiver": str(site.world.users["other"]),
            "transfer_reason": "Step-up",
        },
    )
    assert "Select a worker in the receiving team" in wrong_team_worker.text


async def test_only_the_allocated_worker_can_start_a_handover_for_a_case(site: Site) -> None:
    other = await site.as_user("out2")
    assert (await other.get(f"/cases/{site.world.cases['mia']}/handover")).status_code == 404
    response = await other.post(
        f"/cases/{site.world.cases['mia']}/handover", {"receiving_team": "2", "transfer_reason": "x"}
    )
    assert response.status_code == 404


async def test_saving_a_section_with_errors_shows_each_message_and_keeps_what_was_typed(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    cp = section("cp-category")
    answers = complete(**CASE_M_LIKE)["cp-category"]
    change = dict(answers.groups["changes"][0])
    change["risk_outcome"] = ""
    change["reason"] = "Liam moved out <script>alert(1)</script>"
    typed = form_for(cp, type(answers)(values=answers.values, groups={"changes": [change]}))
    typed["category_set_on-day"], typed["category_set_on-month"], typed["category_set_on-year"] = "31", "2", "2026"
    url = f"/handovers/{handover_id}/sections/cp-category"
    response = await out.post(url, typed)
    assert response.status_code == 200
    page = response.text
    assert "There is a problem" in page and "Error: " in page.split("</title>")[0]
    assert 'href="#changes-0-risk_outcome"' in page, "the summary links to the field"
    assert 'id="changes-0-risk_outcome-error"' in page, "the message sits next to the field"
    assert 'href="#category_set_on-day"' in page
    assert 'value="31"' in page, "the impossible date comes back as typed"
    assert "Liam moved out &lt;script&gt;alert(1)&lt;/script&gt;" in page, "typed text comes back, escaped"
    # and it was saved as a draft with errors, so it survives leaving the page
    task_list = await out.get(f"/handovers/{handover_id}")
    assert 'govuk-tag--red">There is a problem' in task_list.text
    again = await out.get(url)
    assert "Liam moved out" in html.unescape(again.text) and 'href="#changes-0-risk_outcome"' in again.text


async def test_task_list_shows_each_sections_status(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete()
    await out.post(
        f"/handovers/{handover_id}/sections/case-summary", form_for(section("case-summary"), answers["case-summary"])
    )
    partial = form_for(section("childs-views", LATEST), answers["childs-views"], button="draft")
    partial["how_gathered"] = ""
    await out.post(f"/handovers/{handover_id}/sections/childs-views", partial)
    response = await out.get(f"/handovers/{handover_id}")
    page = response.text
    assert page.count("Not started") == 9
    assert page.count("In progress") == 1
    assert "Completed" in page
    assert response.content.isascii()  # quicker to join and encode (see templates/base.html)


async def test_rows_can_be_added_and_removed_without_javascript_and_with_htmx(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/network"
    form = latest_form("network")
    form["contacts-0-name"] = "Dr Typed Before Adding"
    added = await out.post(url, form | {"button": "add:contacts"})
    assert added.status_code == 200 and "<html" in added.text
    assert 'name="contacts-1-agency"' in added.text and "Dr Typed Before Adding" in added.text
    via_htmx = await out.post(url, form | {"button": "add:contacts"}, headers={"HX-Request": "true"})
    assert via_htmx.status_code == 200 and "<html" not in via_htmx.text, "htmx gets only the form"
    assert via_htmx.text.lstrip().startswith("<form") and 'name="contacts-1-agency"' in via_htmx.text
    removed = await out.post(
        url, form | {"contacts-rows": "2", "contacts-1-name": "Second", "button": "remove:contacts:0"}
    )
    assert "Dr Typed Before Adding" not in removed.text and 'value="Second"' in removed.text
    assert 'name="contacts-1-agency"' not in removed.text


async def test_submission_is_refused_listing_everything_missing_with_links(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete(**CASE_M_LIKE)
    answers["cp-category"].groups["changes"][0]["risk_outcome"] = ""
    del answers["arrangements"]
    started = await actions.load(site.db.reader, site.app.state.checklists, handover_id)
    assert started is not None  # sibling harm names the children of the group as offered (another is refused)
    answers = naming_children(started.checklist, answers)
    await fill_all_allowing_errors(out, handover_id, answers)
    response = await submit(out, handover_id)
    assert response.status_code == 409
    assert "You cannot submit the handover yet" in response.text
    # each link goes to the question, and the form comes back to check your answers once saved
    assert f'href="/handovers/{handover_id}/sections/cp-category?return=check#changes-0-risk_outcome"' in response.text
    assert f'href="/handovers/{handover_id}/sections/arrangements?return=check"' in response.text
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.state == "draft"


async def fill_all_allowing_errors(person: object, handover_id: int, answers: dict[str, object]) -> None:
    for section_id, section_answers in answers.items():
        url = f"/handovers/{handover_id}/sections/{section_id}"
        page = await person.get(url)  # type: ignore[attr-defined]
        form = form_for(section(section_id), section_answers, version=int(version_in(page.text, "version")))  # type: ignore[arg-type]
        assert (await person.post(url, form)).status_code in (200, 303)  # type: ignore[attr-defined]


async def test_the_whole_outgoing_journey_ends_read_only(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    await fill_all(out, handover_id)
    check = await out.get(f"/handovers/{handover_id}/check")
    assert "Check your answers before submitting" in check.text and "Sexual abuse" in check.text
    response = await submit(out, handover_id)
    assert response.status_code == 303
    assert response.headers["location"] == f"/handovers/{handover_id}/done/submit"
    view = await out.get(f"/handovers/{handover_id}/view")
    assert "Waiting for sending manager" in view.text
    # read-only now: the task list and sections send the worker to the read-only view, and saves are refused
    assert (await out.get(f"/handovers/{handover_id}")).headers["location"].endswith("/view")
    save = await out.post(
        f"/handovers/{handover_id}/sections/childs-views",
        latest_form("childs-views", version=1),
    )
    assert save.status_code == 409
    case = await db.case_by_id(site.db.reader, site.world.cases["mia"])
    assert case is not None and case.allocated_worker_id == site.world.users["out"], "still with the outgoing worker"


async def test_another_worker_cannot_see_or_change_the_handover(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    for name in ("out2", "other", "rec"):
        intruder = await site.as_user(name)
        for url in (
            f"/handovers/{handover_id}",
            f"/handovers/{handover_id}/view",
            f"/handovers/{handover_id}/sections/open-risks",
            f"/handovers/{handover_id}/check",
        ):
            assert (await intruder.get(url)).status_code == 404, (name, url)
        save = await intruder.post(
            f"/handovers/{handover_id}/sections/childs-views",
            latest_form("childs-views"),
        )
        assert save.status_code == 404
        assert (await submit_blind(intruder, handover_id)).status_code == 404
    sections = await db.sections_of(site.db.reader, handover_id)
    assert sections == {}


async def submit_blind(person: object, handover_id: int) -> object:
    return await person.post(f"/handovers/{handover_id}/submit", {"handover_version": "1"})  # type: ignore[attr-defined]


async def test_a_stale_section_form_is_not_silently_overwritten(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/childs-views"
    first = latest_form("childs-views", version=0) | {"views": "First tab"}
    second = first | {"views": "Second tab, typed on an old page"}
    assert (await out.post(url, first)).status_code == 303
    conflict = await out.post(url, second)
    assert conflict.status_code == 409
    assert "Someone else saved this section" in conflict.text
    assert "Second tab, typed on an old page" in conflict.text and "First tab" in conflict.text
    saved = await db.sections_of(site.db.reader, handover_id)
    assert saved["childs-views"].answers.values["views"] == "First tab"
    # saving again from the conflict page (which carries the new version) keeps the second version
    assert (await out.post(url, second | {"version": version_in(conflict.text, "version")})).status_code == 303


async def test_signing_in_with_an_empty_form_says_what_to_enter(site: Site) -> None:
    person = await site.as_user(None)
    response = await person.post("/sign-in", {"username": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your username" in response.text and "Enter your password" in response.text
    assert 'href="#password"' in response.text


@pytest.mark.sqlite_only
async def test_a_section_save_reads_the_handover_once_before_writing(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    statements: list[str] = []
    site.db.reader.raw.set_trace_callback(statements.append)
    try:
        url = f"/handovers/{handover_id}/sections/childs-views"
        response = await out.post(url, latest_form("childs-views"))
    finally:
        site.db.reader.raw.set_trace_callback(None)
    assert response.status_code == 303
    whole_rows = [s for s in statements if "FROM handovers h" in s and "WHERE h.id = " in s]
    assert len(whole_rows) == 1, "the page's check and the save's check share one read"
    assert (await db.sections_of(site.db.reader, handover_id))["childs-views"].status == "completed"


@pytest.mark.parametrize(
    ("username", "home", "menu"),
    [
        ("out", "/", ["/", "/inbox", "/search", "/notifications"]),
        ("both", "/queue", ["/queue", "/caseloads", "/oversight", "/audit/incomplete", "/search", "/notifications"]),
        ("aud", "/audit/incomplete", ["/oversight", "/audit/incomplete", "/search", "/notifications"]),
    ],
)
async def test_the_menu_lists_what_each_person_does_and_marks_where_they_are(
    site: Site, username: str, home: str, menu: list[str]
) -> None:
    person = await site.as_user(username)
    page = (await person.get(home)).text
    nav = page[page.index('<ul class="govuk-service-navigation__list"') : page.index("</ul>")]
    assert re.findall(r'class="govuk-service-navigation__link" href="([^"]+)"', nav) == menu
    assert re.findall(r'href="([^"]+)" aria-current="page"', nav) == [home]
    assert ("govuk-service-navigation__toggle" in page) == (len(menu) > 1), "a Menu button only for more than one"
    # a page within an item (the home page's finished handovers, a person's caseload) marks the item it is in
    within = {"/": "/finished", "/queue": f"/caseloads/{site.world.users['out']}"}.get(home)
    if within:
        inside = (await person.get(within)).text
        nav = inside[inside.index('<ul class="govuk-service-navigation__list"') : inside.index("</ul>")]
        assert re.findall(r'href="([^"]+)" aria-current="true"', nav) == [home if home == "/" else "/caseloads"]
        assert 'aria-current="page"' not in nav


@pytest.mark.parametrize("receiver", ["²", "abc", "-1", "0", "9" * 50])
async def test_a_receiver_that_names_nobody_is_refused_not_taken_as_not_known(site: Site, receiver: str) -> None:
    out = await site.as_user("out")
    response = await out.post(
        f"/cases/{site.world.cases['mia']}/handover",
        {"receiving_team": str(site.world.teams["cp"]), "receiver": receiver, "transfer_reason": "Step-up"},
    )
    assert response.status_code == 400
    assert "Select a worker in the receiving team, or leave it for the team to allocate" in response.text
    assert (await db.case_by_id(site.db.reader, site.world.cases["mia"])).open_handover_id is None  # type: ignore[union-attr]
