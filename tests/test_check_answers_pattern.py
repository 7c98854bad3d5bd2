"""Check your answers, as GOV.UK's pattern has it: what stops the submission is shown under each section from the
start, linked to the question; each answer has its own "Change" link; and a change comes back here once saved."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from service import actions
from service.actions.demo import CASE_M_LIKE, complete_answers, naming_children
from service.checklist import Checklist, Field
from service.core.answers import SectionAnswers, input_id, row_prefix, shown_fields, shown_groups, submission_problems
from service.core.clock import today
from service.core.workflow import Action
from tests.conftest import Browser, Site
from tests.helpers import (
    CHECKLISTS,
    LATEST,
    MIA_ON_RECORD,
    actor,
    complete,
    form_for,
    handover_in,
    latest_form,
    on_record,
    section,
    start,
    submit,
    version_in,
)
from tests.test_form_copy import Page, versioned, words

pytestmark = pytest.mark.anyio

__all__ = ["versioned"]  # the fixture, shared with the form tests


async def fill(person: Browser, handover_id: int, checklist: Checklist, answers: dict[str, SectionAnswers]) -> None:
    for section_id, section_answers in answers.items():
        url = f"/handovers/{handover_id}/sections/{section_id}"
        version = int(version_in((await person.get(url)).text, "version"))
        form_section = checklist.section(section_id)
        assert form_section is not None
        response = await person.post(url, form_for(form_section, section_answers, version=version))
        assert response.status_code in (200, 303), section_id


def links(page_html: str) -> list[tuple[str, str]]:
    """Every link on the page: (address, its words, the visually hidden ones included)."""
    found = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', page_html, flags=re.S)
    return [(html.unescape(href), words(html.unescape(text))) for href, text in found]


def change_links(
    checklist: Checklist, answers: dict[str, SectionAnswers], handover_id: int
) -> list[tuple[str, str, str, str]]:
    """For every answer shown: (section, the link's address, its words, the id it lands on), from the checklist."""
    expected = []

    def each(section_id: str, fields: list[Field], values: dict[str, object], prefix: str, row: str) -> None:
        for field in shown_fields(fields, values):  # type: ignore[arg-type]
            anchor = prefix + field.id + ("-day" if field.type == "date" else "")
            url = f"/handovers/{handover_id}/sections/{section_id}?return=check#{anchor}"
            expected.append((section_id, url, f"Change {field.label}{f' ({row})' if row else ''}", anchor))

    for item in checklist.sections:
        given = answers[item.id]
        each(item.id, item.fields, given.values, "", "")  # type: ignore[arg-type]
        for group in shown_groups(item, given):
            for index, row in enumerate(given.groups.get(group.id, [])):
                label = f"{group.row_label} {index + 1}".lower()
                each(item.id, group.fields, row, row_prefix(group, index), label)
    return expected


async def test_every_answer_of_every_version_has_its_own_change_link_to_its_question(
    versioned: tuple[Site, Checklist],
) -> None:
    site, checklist = versioned
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete_answers(checklist, today(), **{**CASE_M_LIKE, "case-summary": MIA_ON_RECORD})
    answers = await on_record(site.app.state.db, handover_id, answers)
    started = await actions.load(site.app.state.db.reader, site.app.state.checklists, handover_id)
    assert started is not None  # its sibling harm rows choose the children of the group: a child not offered is refused
    answers = naming_children(started.checklist, answers)
    await fill(out, handover_id, checklist, answers)
    check = await out.get(f"/handovers/{handover_id}/check")
    assert check.status_code == 200
    on_page = links(check.text)
    expected = change_links(checklist, answers, handover_id)
    assert len(expected) > 60
    forms: dict[str, Page] = {}
    for section_id, url, text, anchor in expected:
        assert (url, text) in on_page, (url, text)
        if section_id not in forms:
            forms[section_id] = Page((await out.get(url.split("#")[0])).text)
        assert forms[section_id].by_id(anchor) is not None, f"{url}: nothing on the form has the id {anchor}"
    # no section-wide "Change" link is left beside them
    assert not [href for href, text in on_page if re.fullmatch(r"/handovers/\d+/sections/[\w-]+", href)]


async def test_the_problems_are_shown_under_each_section_on_first_load(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete(checklist=LATEST, **CASE_M_LIKE)
    answers["cp-category"].groups["changes"][0]["risk_outcome"] = ""
    answers["arrangements"] = SectionAnswers(values={"transfer_meeting": "meeting"})
    del answers["network"]
    answers = await on_record(site.app.state.db, handover_id, answers)
    started = await actions.load(site.app.state.db.reader, site.app.state.checklists, handover_id)
    assert started is not None  # its sibling harm rows choose the children of the group
    for section_id, section_answers in naming_children(started.checklist, answers).items():
        url = f"/handovers/{handover_id}/sections/{section_id}"
        version = int(version_in((await out.get(url)).text, "version"))
        asked = started.checklist.section(section_id) or section(section_id)
        await out.post(url, form_for(asked, section_answers, version=version))
    check = await out.get(f"/handovers/{handover_id}/check")
    assert check.status_code == 200
    assert "govuk-error-summary" not in check.text and "<title>Error" not in check.text
    loaded = await actions.load(site.app.state.db.reader, site.app.state.checklists, handover_id)
    assert loaded is not None
    problems = submission_problems(loaded.checklist, loaded.all_answers(), today(), loaded.child)
    assert {p.section_id for p in problems} == {"cp-category", "arrangements", "network"}
    assert f"You need to complete or correct {len(problems)} things before you can submit" in words(check.text)
    page = Page(check.text)
    for problem in problems:
        if not problem.input_id:  # a section not started says so, with a link to start it
            href = f"/handovers/{handover_id}/sections/{problem.section_id}?return=check"
            assert (href, f"Complete ‘{problem.section_title}’") in links(check.text)
            continue
        href = f"/handovers/{handover_id}/sections/{problem.section_id}?return=check#{problem.input_id}"
        link = next((e for e in page.elements if e.tag == "a" and html.unescape(e.attrs.get("href", "")) == href), None)
        assert link is not None and words(link.text) == problem.message, href
        assert any(a.get("id") == f"problems-{problem.section_id}" for a in link.ancestors), "under its own section"
    assert f'href="/handovers/{handover_id}/sections/cp-category?return=check#changes-0-risk_outcome"' in check.text
    assert f"#{input_id(section('arrangements').fields[1])}" in check.text  # the meeting date's day box


async def test_a_refused_submission_still_lists_everything_in_an_error_summary(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    response = await submit(out, handover_id)
    assert response.status_code == 409
    assert "govuk-error-summary" in response.text and "You cannot submit the handover yet" in response.text
    assert "<title>Error: " in response.text


async def change_and_save(out: Browser, handover_id: int, return_value: str, button: str = "continue") -> str:
    url = f"/handovers/{handover_id}/sections/childs-views"
    form = latest_form("childs-views", button=button)
    form["version"] = version_in((await out.get(url)).text, "version")
    response = await out.post(url, {**form, "return": return_value})
    assert response.status_code == 303
    return str(response.headers["location"])


async def test_a_change_made_from_check_answers_comes_back_to_it(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    form_page = await out.get(f"/handovers/{handover_id}/sections/childs-views?return=check")
    assert '<input type="hidden" name="return" value="check">' in form_page.text
    assert (f"/handovers/{handover_id}/check", "Back to check your answers") in links(form_page.text)
    assert await change_and_save(out, handover_id, "check") == f"/handovers/{handover_id}/check"
    # the task list's own links do not carry it, and go back to the task list
    plain = await out.get(f"/handovers/{handover_id}/sections/childs-views")
    assert 'name="return"' not in plain.text
    assert await change_and_save(out, handover_id, "") == f"/handovers/{handover_id}"
    # "Save and come back later" leaves, as it says
    assert await change_and_save(out, handover_id, "check", button="draft") == f"/handovers/{handover_id}"


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example", "/queue", "check/../../queue"])
async def test_the_return_field_names_no_address(site: Site, elsewhere: str) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    assert await change_and_save(out, handover_id, elsewhere) == f"/handovers/{handover_id}"
    page = await out.get(f"/handovers/{handover_id}/sections/childs-views?return={elsewhere}")
    assert 'name="return"' not in page.text and "evil" not in page.text


async def test_adding_a_row_keeps_the_way_back_to_check_answers(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/actions"
    version = version_in((await out.get(url)).text, "version")
    added = await out.post(url, {"button": "add:actions", "version": version, "actions-rows": "0", "return": "check"})
    assert added.status_code == 200
    assert '<input type="hidden" name="return" value="check">' in added.text


async def test_each_section_is_validated_once_a_page_and_not_once_submitted(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What stops the submission is worked out once, on load, and the check page lists those same problems; once
    submitted the answers cannot change, so a handover past submission is not validated at all. Validating every
    answer was most of the time of the pages that show a handover's answers."""
    from service.core import answers as answer_rules

    validated: list[str] = []
    validate_section = answer_rules.validate_section

    def counted(section: Any, *args: Any, **kwargs: Any) -> Any:
        validated.append(section.id)
        return validate_section(section, *args, **kwargs)

    monkeypatch.setattr(answer_rules, "validate_section", counted)
    database = site.app.state.db
    draft = await handover_in(database, site.world, "draft", "mia", complete_it=False)
    loaded = await actions.load(database.reader, site.app.state.checklists, draft)
    assert loaded is not None
    started_sections = sorted(loaded.sections)
    out = await site.as_user("out")
    validated.clear()
    check = await out.get(f"/handovers/{draft}/check")
    assert check.status_code == 200
    assert sorted(validated) == started_sections, "every started section once"
    assert "Complete ‘" in check.text  # the section left out is still listed as stopping the submission
    # one handover of the child in progress at a time: each is cancelled before the next starts
    out_actor = await actor(database, site.world, "out")
    await actions.act(database, CHECKLISTS, out_actor, draft, Action.CANCEL, loaded.handover.version, "Restarted")
    for state, pages in (("submitted", [("smgr", "view")]), ("endorsed", [("rec", "review"), ("rec", "view")])):
        handover_id = await handover_in(database, site.world, state, "mia")
        for person, page in pages:
            browser = await site.as_user(person)
            validated.clear()
            response = await browser.get(f"/handovers/{handover_id}/{page}")
            assert response.status_code == 200, (state, page)
            assert validated == [], (state, page)
        if state == "submitted":
            submitted = await actions.load(database.reader, CHECKLISTS, handover_id)
            assert submitted is not None
            await actions.act(
                database, CHECKLISTS, out_actor, handover_id, Action.CANCEL, submitted.handover.version, "Restarted"
            )
