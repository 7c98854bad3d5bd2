"""The words and layout of the section forms, generated from every checklist version: "Add an incident", the
caption that names the child, and each conditional question revealed under the answer that calls for it."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.checklist import Checklist, Field, Group, Section
from service.core.text import indefinite_article, with_indefinite_article
from service.settings import PROJECT_ROOT
from tests.conftest import Browser, Site, seed
from tests.helpers import CHECKLISTS, settings_for_tests, start, version_in

pytestmark = pytest.mark.anyio

VERSIONS = sorted(CHECKLISTS)


class Element(msgspec.Struct, kw_only=True):
    tag: str
    attrs: dict[str, str]
    ancestors: list[dict[str, str]]  # the attributes of every enclosing element, outermost first
    text: str = ""


class Page(HTMLParser):
    """The elements of a page, each with its enclosing elements' attributes (enough to ask what is inside what)."""

    VOID: ClassVar[set[str]] = {"input", "br", "img", "meta", "link", "hr", "source", "area", "base", "col", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self._open: list[tuple[str, dict[str, str], Element]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        element = Element(tag=tag, attrs=values, ancestors=[a for _, a, _ in self._open])
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append((tag, values, element))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for _, _, element in self._open:
            element.text += data

    def named(self, name: str) -> list[Element]:
        return [e for e in self.elements if e.attrs.get("name") == name and e.tag in ("input", "textarea", "select")]

    def by_id(self, element_id: str) -> Element | None:
        return next((e for e in self.elements if e.attrs.get("id") == element_id), None)


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.fixture(params=[f"v{version}" for _, version in VERSIONS])
async def versioned(request: Any, tmp_path: Path) -> AsyncIterator[tuple[Site, Checklist]]:
    """A site whose newest checklist is the version asked for, so new handovers are made on it."""
    version = int(request.param[1:])
    folder = tmp_path / "checklists"
    folder.mkdir()
    for path in sorted((PROJECT_ROOT / "checklists").glob("*.toml")):
        if int(re.sub(r"\D", "", path.stem.rsplit("-v", 1)[1])) <= version:
            shutil.copy(path, folder / path.name)
    shutil.copytree(PROJECT_ROOT / "checklists" / "time-limits", folder / "time-limits")
    app = create_app(settings_for_tests(tmp_path, checklists_dir=folder))
    async with AsyncTestClient(app=app) as client:
        world = await seed(app.state.db)
        yield Site(app=app, client=client, world=world), CHECKLISTS[("case-transfer", version)]


async def new_handover(site: Site) -> tuple[Browser, int]:
    out = await site.as_user("out")
    return out, await start(out, site.world.cases["mia"], site.world.teams["cp"])


# "Add an incident" ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("noun", "article"),
    [
        ("incident", "an"),
        ("action", "an"),
        ("risk", "a"),
        ("written agreement", "a"),
        ("user", "a"),
        ("unit", "a"),
        ("one-off payment", "a"),
        ("european contact", "a"),
        ("hour", "an"),
        ("honest broker", "an"),
        ("umbrella", "an"),
        ("MP", "an"),
        ("SLT meeting", "an"),
        ("GP", "a"),
        ("CAMHS worker", "a"),
        ("", "a"),
    ],
)
def test_the_article_follows_how_the_word_is_said(noun: str, article: str) -> None:
    assert indefinite_article(noun) == article


async def test_every_add_row_button_of_every_checklist_version_uses_the_right_article(
    versioned: tuple[Site, Checklist],
) -> None:
    site, checklist = versioned
    out, handover_id = await new_handover(site)
    for section in checklist.sections:
        for group in section.groups:
            url = f"/handovers/{handover_id}/sections/{section.id}"
            page = await out.get(url)
            # from no rows: drop the row the form starts with, if it starts with one
            if f"remove:{group.id}:0" in page.text:
                version = version_in(page.text, "version")
                remove = {"button": f"remove:{group.id}:0", "version": version, f"{group.id}-rows": "1"}
                page = await out.post(url, remove)
            row = group.row_label.lower()
            # the data's labels are said as they are spelt: a vowel letter is a vowel sound
            expected = f"Add {'an' if row[0] in 'aeiou' else 'a'} {row}"
            assert expected == f"Add {with_indefinite_article(row)}"
            assert expected in words(page.text), (section.id, group.id)
            assert re.search(rf"Add an? {re.escape(row)}", words(page.text)).group(0) == expected  # type: ignore[union-attr]


# The caption names the child --------------------------------------------------------------------------------------


async def test_every_page_with_the_section_caption_names_the_child(versioned: tuple[Site, Checklist]) -> None:
    site, checklist = versioned
    out, handover_id = await new_handover(site)
    urls = [f"/handovers/{handover_id}", f"/handovers/{handover_id}/check"]
    urls += [f"/handovers/{handover_id}/sections/{section.id}" for section in checklist.sections]
    for url in urls:
        page = await out.get(url)
        assert page.status_code == 200, url
        captions = [e.text for e in Page(page.text).elements if "govuk-caption-l" in e.attrs.get("class", "")]
        assert captions and all("Mia Test (T-1)" in words(caption) for caption in captions), (url, captions)


# Conditional questions are revealed under the answer that calls for them -----------------------------------------


def conditionals(section: Section) -> Iterator[tuple[Field | Group, Field, Group | None]]:
    """Every conditional field and group of a section: (it, the question it depends on, its group for a row field)."""
    fields = {f.id: f for f in section.fields}
    for item in [*section.fields, *section.groups]:
        if item.when is not None:
            yield item, fields[item.when.field], None
    for group in section.groups:
        row_fields = {f.id: f for f in group.fields}
        for field in group.fields:
            if field.when is not None:
                yield field, row_fields[field.when.field], group


def names_of(item: Field | Group, prefix: str) -> list[str]:
    """The names (or, for a group, the id) to look for: a date by its day box."""
    if isinstance(item, Group):
        return [item.id]
    return [prefix + item.id + ("-day" if item.type == "date" else "")]


def revealed_by(page: Page, parent_name: str, option: str) -> str:
    """The id of the conditional area that answer `option` to question `parent_name` reveals ('' if none)."""
    choice = next((e for e in page.named(parent_name) if e.attrs.get("value") == option), None)
    assert choice is not None, (parent_name, option)
    return choice.attrs.get("data-aria-controls", "")


def inside(page: Page, name_or_id: str, area: str, option: str) -> bool:
    """Whether the question (by name, or by its copy's name for this answer) or the group is inside `area`."""
    candidates = [*page.named(name_or_id)]
    if name_or_id.endswith("-day"):
        candidates += page.named(name_or_id[: -len("-day")] + f"--{option}-day")
    else:
        candidates += page.named(f"{name_or_id}--{option}")
    element = page.by_id(name_or_id)
    if element is not None:
        candidates.append(element)
    return any(any(a.get("id") == area for a in e.ancestors) for e in candidates)


async def test_every_conditional_question_of_every_version_is_revealed_under_its_answer(
    versioned: tuple[Site, Checklist],
) -> None:
    site, checklist = versioned
    out, handover_id = await new_handover(site)
    checked = 0
    for section in checklist.sections:
        url = f"/handovers/{handover_id}/sections/{section.id}"
        html = (await out.get(url)).text
        drawn: dict[str, str] = {}  # each group's rows sent back with the next "add", as the browser's form would
        for group in section.groups:  # draw a row of every group, so its row questions are on the page
            if f'id="{group.id}-0"' not in html:
                form = {"button": f"add:{group.id}", "version": version_in(html, "version"), **drawn}
                html = (await out.post(url, form)).text
            drawn[f"{group.id}-rows"] = "1"
        page = Page(html)
        for item, parent, group in conditionals(section):
            assert item.when is not None
            prefix = f"{group.id}-0-" if group else ""
            for option in item.when.any_of:
                area = revealed_by(page, prefix + parent.id, option)
                assert area, f"{section.id}: ‘{parent.label}’ answer {option} reveals nothing"
                for name in names_of(item, prefix):
                    assert inside(page, name, area, option), f"{section.id}: {name} is not revealed by {option}"
            checked += 1
        assert "Answer this only if" not in html, section.id
        # a question drawn under several answers is still sent once under each name
        in_form = [e for e in page.elements if any(a.get("id") == "section-form" for a in e.ancestors)]
        names = [e.attrs["name"] for e in in_form if e.tag in ("input", "textarea") and e.attrs.get("name")]
        singles = [n for n in names if not any(e.attrs.get("type") in ("radio", "checkbox") for e in page.named(n))]
        assert len(singles) == len(set(singles)), section.id
    assert checked >= 20


async def test_a_question_revealed_under_several_answers_keeps_the_answer_typed_under_the_chosen_one(
    site: Site,
) -> None:
    out, handover_id = await new_handover(site)
    url = f"/handovers/{handover_id}/sections/arrangements"
    page = Page((await out.get(url)).text)
    # nothing chosen yet: the copy under the first answer has the question's own name, the other is named for its answer
    assert any(
        any(a.get("id") == revealed_by(page, "transfer_meeting", "meeting") for a in e.ancestors)
        for e in page.named("meeting_on-day")
    )
    assert page.named("meeting_on--joint_visit-day")
    version = version_in((await out.get(url)).text, "version")
    form = {
        "transfer_meeting": "joint_visit",
        "meeting_on-day": "",
        "meeting_on-month": "",
        "meeting_on-year": "",
        "meeting_on--joint_visit-day": "3",
        "meeting_on--joint_visit-month": "2",
        "meeting_on--joint_visit-year": "2026",
        "family_told": "no",
        "family_not_told_reason": "Mother in hospital; the new worker will meet them on her return.",
        "button": "draft",
        "version": version,
    }
    assert (await out.post(url, form)).status_code == 303
    again = Page((await out.get(url)).text)
    # now the copy under the answer chosen has the question's own name, and holds the date typed
    kept = again.named("meeting_on-day")
    assert kept and kept[0].attrs.get("value") == "3"
    assert any(a.get("id") == revealed_by(again, "transfer_meeting", "joint_visit") for a in kept[0].ancestors)
    # and a form that sends the question under its own name only (without JavaScript's copies, or another client)
    # is read as before
    plain = {**form, "meeting_on-day": "4", "version": version_in((await out.get(url)).text, "version")}
    del plain["meeting_on--joint_visit-day"], plain["meeting_on--joint_visit-month"]
    del plain["meeting_on--joint_visit-year"]
    assert (await out.post(url, plain)).status_code == 303
    assert Page((await out.get(url)).text).named("meeting_on-day")[0].attrs.get("value") == "4"


async def test_without_javascript_an_answer_typed_under_another_answer_is_kept(site: Site) -> None:
    """Every copy is shown without JavaScript: what was typed in any of them is kept, the chosen one's first."""
    out, handover_id = await new_handover(site)
    url = f"/handovers/{handover_id}/sections/parenting-capacity"
    page = (await out.get(url)).text
    copies = ["not_completed_reason", *(f"not_completed_reason--{v}" for v in ("commissioned", "in_progress"))]
    copies.append("not_completed_reason--not_required")
    assert all(Page(page).named(name) for name in copies)
    form = {name: "" for name in copies} | {"pca_status": "in_progress", "button": "draft"}
    form["not_completed_reason--commissioned"] = "Typed under ‘Commissioned’ before choosing ‘In progress’."
    form["version"] = version_in(page, "version")
    assert (await out.post(url, form)).status_code == 303
    again = (await out.get(url)).text
    assert Page(again).named("not_completed_reason")[0].text.strip() == form["not_completed_reason--commissioned"]
    # what was typed under the answer chosen wins over the others
    form |= {"not_completed_reason--commissioned": "Old words", "version": version_in(again, "version")}
    form["not_completed_reason"] = "Typed under ‘In progress’."
    assert (await out.post(url, form)).status_code == 303
    assert Page((await out.get(url)).text).named("not_completed_reason")[0].text.strip() == "Typed under ‘In progress’."
