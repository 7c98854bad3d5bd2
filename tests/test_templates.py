"""Markup written out in our templates is the markup the GOV.UK macros it replaces would give. (How the page
environment prints values and looks up `a.b` is checked against Jinja's own in tests/test_speedups.py.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service import db
from service.app import choice_items, create_app, template_environment
from service.settings import PROJECT_ROOT
from service.web import auditor as report_page
from tests.conftest import Site, seed
from tests.helpers import LATEST, checklist_dir_with, complete, form_for, section, settings_for_tests, start


def _markup(html: str) -> str:
    """HTML with the layout whitespace taken out, for comparing markup made by different templates."""
    return re.sub(r"\s+", " ", re.sub(r">\s+", ">", re.sub(r"\s+<", "<", html))).strip()


@pytest.mark.parametrize("error", ["", "Choose a team from the list"])
def test_written_out_filters_match_the_govuk_macros(error: str) -> None:
    env = template_environment(settings_for_tests(Path("unused")))
    items = choice_items({"1": "North & <South>", "2": 'The "Cp" team'}, "2", "All teams")
    ours = env.from_string(
        '{% from "components/filters.html" import select, number_input %}'
        '{{ select("team", "Team & side", items, error) }}'
        '{{ number_input("min_days", "Open for at least", value, "govuk-input--width-4", error) }}'
    )
    theirs = env.from_string(
        '{% from "govuk_frontend_jinja/components/select/macro.html" import govukSelect %}'
        '{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}'
        '{{ govukSelect({"id": "team", "name": "team", "label": {"text": "Team & side"}, "items": items,'
        ' "errorMessage": {"text": error} if error else none}) }}'
        '{{ govukInput({"id": "min_days", "name": "min_days", "label": {"text": "Open for at least"},'
        ' "classes": "govuk-input--width-4", "inputmode": "numeric", "value": value,'
        ' "errorMessage": {"text": error} if error else none}) }}'
    )
    values = {"items": items, "error": error, "value": '3 "days"'}
    assert _markup(ours.render(values)) == _markup(theirs.render(values))


# Where GOV.UK component markup is written out by hand; each is compared with its macro by a test below, the
# checklist's questions (components/fields.html) by tests/test_written_out_fields.py.
HAND_WRITTEN = {
    "govuk-task-list": ["outgoing/task_list.html"],
    "govuk-pagination": ["components/pagination.html"],
    "govuk-back-link": ["outgoing/task_list.html"],
    "govuk-select": ["components/filters.html"],
    "govuk-input": ["components/filters.html", "components/fields.html"],
    "govuk-textarea": ["components/fields.html", "components/answers.html"],
    "govuk-character-count": ["components/fields.html", "components/answers.html"],
    "govuk-date-input": ["components/fields.html"],
    "govuk-radios": ["components/fields.html"],
    "govuk-checkboxes": ["components/fields.html", "components/answers.html"],
    # audit/incomplete.html: the report's measures, a key and a value a row, written out before this check covered
    # summary lists and compared with the macro by no test yet
    "govuk-summary-list": ["components/answers.html", "audit/incomplete.html"],
}


def test_govuk_components_are_written_out_only_where_a_test_compares_them_with_the_macro() -> None:
    templates = Path(__file__).parent.parent / "templates"
    for component, allowed in HAND_WRITTEN.items():
        found = sorted(
            str(path.relative_to(templates))
            for path in templates.rglob("*.html")
            if re.search(rf'class="([^"]* )?{component}[ "{{]', path.read_text())  # `{`: a class added by a tag
        )
        assert found == sorted(allowed), f"{component} written out by hand: use the macro, or compare it here"


def _macro(component: str, name: str, params: dict[str, object]) -> str:
    env = template_environment(settings_for_tests(Path("unused")))
    source = f'{{% from "govuk_frontend_jinja/components/{component}/macro.html" import {name} %}}{{{{ {name}(p) }}}}'
    return env.from_string(source).render(p=params)


def _main(page: str) -> str:
    """The page's main content, where its components are (the layout's header and footer have lists of their own)."""
    return page.split('<main class="govuk-main-wrapper"', 1)[1].split("</main>", 1)[0]


def _before_content(page: str) -> str:
    """What the page puts above its main content: its back link."""
    found = re.search(r'<div class="govuk-width-container"[^>]*>(.*?)<main ', page, re.DOTALL)
    assert found
    return found.group(1)


def _pagination(page: str) -> list[str]:
    return re.findall(r"<nav\b.*?</nav>", _main(page), re.DOTALL)


def _pages(label: str, number: int, href: Callable[[int], str], last: int) -> dict[str, object]:
    """govukPagination's parameters for 'previous, this page, next'."""
    return {
        "landmarkLabel": label,
        "previous": {"href": href(number - 1)} if number > 1 else None,
        "items": [{"number": number, "href": href(number), "current": True}],
        "next": {"href": href(number + 1)} if number < last else None,
    }


async def _waiting_for_endorsement(site: Site, count: int) -> None:
    """`count` handovers from the north team to the cp team, submitted an hour apart."""
    world = site.world
    async with site.db.transaction() as conn:
        for number in range(count):
            case_id = await db.create_case(
                conn, f"P-{number}", f"Paged Child {number}", "2016-05-05", world.users["out"], world.teams["north"]
            )
            handover_id = await db.create_handover(
                conn, case_id=case_id, checklist_id="case-transfer", checklist_version=1,
                author_id=world.users["out"], sending_team_id=world.teams["north"],
                receiving_team_id=world.teams["cp"], receiver_id=None, transfer_reason="Step-up",
            )  # fmt: skip
            submitted = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(hours=number)
            await conn.execute(
                "UPDATE handovers SET state = 'submitted', state_since = ? WHERE id = ?",
                (submitted.isoformat(), handover_id),
            )


@pytest.mark.anyio
async def test_the_written_out_queue_pagination_matches_the_govuk_macro(site: Site) -> None:
    await _waiting_for_endorsement(site, 60)  # three pages of 25
    manager = await site.as_user("smgr")
    label = "Submitted by your teams: waiting for your endorsement: pages"

    def href(n: int) -> str:
        return f"/queue?endorse_page={n}&approve_page=1#to-endorse"

    for number in (1, 2, 3):
        page = (await manager.get(f"/queue?endorse_page={number}")).text
        assert [_markup(nav) for nav in _pagination(page)] == [
            _markup(_macro("pagination", "govukPagination", _pages(label, number, href, 3)))
        ]


@pytest.mark.anyio
async def test_the_written_out_report_pagination_matches_the_govuk_macro(site: Site) -> None:
    await _waiting_for_endorsement(site, 2 * report_page.PER_PAGE + 1)  # three pages
    auditor = await site.as_user("aud")
    label = "Pages of incomplete handovers"

    def href(n: int) -> str:
        return f"/audit/incomplete?state=submitted&sort=oldest&page={n}"

    for number in (1, 2, 3):
        page = (await auditor.get(href(number))).text
        assert [_markup(nav) for nav in _pagination(page)] == [
            _markup(_macro("pagination", "govukPagination", _pages(label, number, href, 3)))
        ]


@pytest.fixture
async def site_with_an_unsummarised_section(tmp_path: Path) -> AsyncIterator[Site]:
    """The app with the case summary section given no summary, so that the task list has rows with and without a
    hint."""
    text = (PROJECT_ROOT / "checklists" / "case-transfer-v1.toml").read_text(encoding="utf-8")
    summary = 'summary = "Who the child is, their legal status, why the case is moving, and a short pen picture"\n'
    assert summary in text
    folder = checklist_dir_with(tmp_path, text.replace(summary, ""), "case-transfer-v1.toml")
    app = create_app(settings_for_tests(tmp_path, checklists_dir=folder))
    async with AsyncTestClient(app=app) as client:
        yield Site(app=app, client=client, world=await seed(app.state.db))


STATUS_PARAMS = {
    None: {"tag": {"text": "Not started", "classes": "govuk-tag--blue"}},
    "in_progress": {"tag": {"text": "In progress", "classes": "govuk-tag--light-blue"}},
    "has_errors": {"tag": {"text": "There is a problem", "classes": "govuk-tag--red"}},
    "completed": {"text": "Completed"},
}


@pytest.mark.anyio
async def test_the_written_out_task_list_and_its_back_link_match_the_govuk_macros(
    site_with_an_unsummarised_section: Site,
) -> None:
    site = site_with_an_unsummarised_section
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/"
    answers = complete()
    await out.post(url + "case-summary", form_for(section("case-summary"), answers["case-summary"]))
    partial = form_for(section("childs-views", LATEST), answers["childs-views"], button="draft")
    partial["how_gathered"] = ""
    await out.post(url + "childs-views", partial)
    wrong = form_for(section("cp-category"), answers["cp-category"])
    wrong["category_set_on-day"], wrong["category_set_on-month"] = "31", "2"
    await out.post(url + "cp-category", wrong)
    saved = {"case-summary": "completed", "childs-views": "in_progress", "cp-category": "has_errors"}

    page = (await out.get(f"/handovers/{handover_id}")).text
    items = [
        {
            "title": {"text": s.title},
            "href": url + s.id,
            "hint": {"text": s.summary} if s.summary else None,
            "status": STATUS_PARAMS[saved.get(s.id)],
        }
        for s in site.app.state.checklists[("case-transfer", 1)].sections
    ]
    assert items[0]["hint"] is None and items[1]["hint"]
    task_lists = re.findall(r"<ul\b.*?</ul>", _main(page), re.DOTALL)
    assert len(task_lists) == 1
    macro = _macro("task-list", "govukTaskList", {"idPrefix": "section", "items": items})
    assert _markup(task_lists[0]) == _markup(macro)
    back = _macro("back-link", "govukBackLink", {"href": "/", "text": "Back to my handovers"})
    assert _markup(_before_content(page)) == _markup(back)
