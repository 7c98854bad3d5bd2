"""Dates typed into three boxes follow the GOV.UK date-input pattern on every date the service asks for, and the
case summary restates the child's case record: a different name, date of birth, reference or a missing sibling is
refused naming the record's value, and no visit to the child can be dated before their birth."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

import pytest

from service.actions.demo import CASE_M_DISAGREEMENT
from service.checklist import Field
from service.core.answers import SectionAnswers
from service.core.dates import date_parts, date_problem, join_date, month_number, typed_date_words
from tests.conftest import Site
from tests.helpers import CHECKLIST, MIA_ON_RECORD, complete, fill_all, form_for, section, start, submit, version_in

pytestmark = pytest.mark.anyio
TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("typed", "number"),
    [("11", 11), ("01", 1), ("Nov", 11), ("November", 11), ("nov.", 11), ("sept", 9), ("Sept.", 9), ("SEP", 9),
     ("may", 5), ("jun", 6), ("Ma", None), ("13", None), ("0", None), ("²", None), ("１１", None), ("Novembre", None)],
)  # fmt: skip
def test_a_month_may_be_a_number_a_name_or_a_common_abbreviation(typed: str, number: int | None) -> None:
    assert month_number(typed) == number


def test_real_dates_are_kept_as_iso_and_anything_else_as_typed() -> None:
    assert join_date("3", "Nov", "2025") == "2025-11-03"
    assert join_date(" 03 ", "11", "2025") == "2025-11-03"
    assert join_date("31", "2", "2025") == "31/2/2025"
    assert join_date("1", "Nov", "25") == "1/Nov/25"
    assert join_date("", "", "") == ""
    assert join_date("²", "1", "2025") == "²/1/2025"


@pytest.mark.parametrize("boxes", list(itertools.product(["", "3"], ["", "Sept"], ["", "26"])))
def test_boxes_that_make_no_date_are_shown_each_named_with_what_was_typed(boxes: tuple[str, str, str]) -> None:
    stored = join_date(*boxes)
    shown = typed_date_words(stored)
    if not any(boxes):
        assert stored == shown == ""
        return
    kind = "real" if all(boxes) else "complete"  # a year of 2 numbers makes no date either
    assert "/" not in shown and shown.startswith(f"Not a {kind} date: "), shown
    for box, typed in zip(("day", "month", "year"), boxes, strict=True):
        assert (f"{box} {typed}" if typed else f"{box} missing") in shown, (box, shown)


def test_a_day_that_does_not_exist_and_text_sent_by_the_api_are_shown_as_such() -> None:
    assert typed_date_words(join_date("31", "2", "2026")) == "Not a real date: day 31, month 2, year 2026"
    for sent in ("next week", "n/a", "1/2/3/4", " / / ", "3/12/2026"):  # text the API was sent, shown as it is
        assert typed_date_words(sent) == sent


def test_a_year_comes_back_as_it_was_typed() -> None:
    assert date_parts(join_date("1", "3", "0099")) == ("1", "3", "0099")
    assert date_parts(join_date("1", "3", "99")) == ("1", "3", "99")


@pytest.mark.parametrize(
    ("day", "month", "year", "message", "boxes"),
    [
        ("3", "", "2025", "Date of the visit must include a month", ("month",)),
        ("", "", "2025", "Date of the visit must include a day and month", ("day", "month")),
        ("3", "11", "", "Date of the visit must include a year", ("year",)),
        ("", "11", "", "Date of the visit must include a day and year", ("day", "year")),
        ("3", "11", "25", "Date of the visit must include a year with 4 numbers, for example 2025", ("year",)),
        ("32", "11", "2025", "Date of the visit must be a real date", ("day",)),
        ("3", "Smarch", "2025", "Date of the visit must be a real date", ("month",)),
        ("3", "11", "２０２５", "Date of the visit must be a real date", ("year",)),
        ("31", "2", "2025", "Date of the visit must be a real date", ("day", "month", "year")),
        ("1", "1", "0099", "Date of the visit must be after 1900", ("year",)),
        ("1", "12", "2026", "Date of the visit must be today or in the past", ("day", "month", "year")),
    ],
)
def test_each_kind_of_wrong_date_names_what_is_wrong_and_marks_only_those_boxes(
    day: str, month: str, year: str, message: str, boxes: tuple[str, ...]
) -> None:
    assert date_problem("Date of the visit", join_date(day, month, year), TODAY, not_in_future=True) == (
        message,
        boxes,
    )


def every_date_shown() -> dict[str, SectionAnswers]:
    """Complete answers that also record a professional disagreement, so its dates are asked too."""
    return complete(**CASE_M_DISAGREEMENT)


def _date_fields() -> list[tuple[str, str, Field]]:
    """Every date the checklist asks for: (section, the input's name in the form, field), for a complete handover."""
    found = []
    answers = every_date_shown()
    for definition in CHECKLIST.sections:
        for field in definition.fields:
            if field.type == "date" and field.id in answers[definition.id].values:
                found.append((definition.id, field.id, field))
        for group in definition.groups:
            if answers[definition.id].groups.get(group.id):
                found.extend((definition.id, f"{group.id}-0-{f.id}", f) for f in group.fields if f.type == "date")
    return found


DATE_FIELDS = _date_fields()


def test_every_date_in_the_checklist_is_walked() -> None:
    every = [f for s in CHECKLIST.sections for f in [*s.fields, *(f for g in s.groups for f in g.fields)]]
    hidden = {"find_out_by", "completed_on"}  # asked only after answers that complete() does not give
    assert {f.id for _, _, f in DATE_FIELDS} == {f.id for f in every if f.type == "date"} - hidden


def _boxes_marked(page: str, name: str) -> set[str]:
    marked = set()
    for box in ("day", "month", "year"):
        tag = re.search(rf'<input[^>]*id="{re.escape(name)}-{box}"[^>]*>', page)
        assert tag, (name, box)
        if "govuk-input--error" in tag.group(0):
            marked.add(box)
    return marked


@pytest.mark.parametrize(("section_id", "name", "field"), DATE_FIELDS, ids=[n for _, n, _ in DATE_FIELDS])
async def test_a_date_missing_its_month_says_so_and_links_to_the_month_box(
    site: Site, section_id: str, name: str, field: Field
) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    form = form_for(section(section_id), every_date_shown()[section_id]) | {f"{name}-month": "", f"{name}-year": "25"}
    page = await out.post(f"/handovers/{handover_id}/sections/{section_id}", form)
    assert page.status_code == 200
    assert f"{field.label} must include a month" in page.text, name
    form["version"] = version_in(page.text, "version")
    assert f'href="#{name}-month"' in page.text
    assert _boxes_marked(page.text, name) == {"month"}
    assert f'id="{name}-year" name="{name}-year" type="text" value="25"' in page.text
    # kept as typed, and shown as typed on check your answers: each box named, the empty one said to be missing
    day = form[f"{name}-day"]
    check = (await out.get(f"/handovers/{handover_id}/check")).text
    assert f"Not a complete date: day {day}, month missing, year 25" in check, name
    assert f"{day}//25" not in check, name

    form |= {f"{name}-month": "Nov", f"{name}-year": "25"}
    page = await out.post(f"/handovers/{handover_id}/sections/{section_id}", form)
    assert f"{field.label} must include a year with 4 numbers, for example 2025" in page.text
    assert f'href="#{name}-year"' in page.text and _boxes_marked(page.text, name) == {"year"}
    assert f'id="{name}-month" name="{name}-month" type="text" value="Nov"' in page.text


async def test_month_names_are_accepted_on_the_form(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    form = form_for(section("record-currency"), complete()["record-currency"])
    form |= {"last_visit-day": "3", "last_visit-month": "sept", "last_visit-year": "2026"}
    saved = await out.post(f"/handovers/{handover_id}/sections/record-currency", form)
    assert saved.status_code == 303, saved.text
    view = await out.get(f"/handovers/{handover_id}/check")
    assert "3 September 2026" in view.text


async def test_the_case_summary_starts_as_the_case_record_says(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    page = (await out.get(f"/handovers/{handover_id}/sections/case-summary")).text
    assert re.search(r'name="child_name"[^>]*value="Mia Test"', page)
    assert re.search(r'name="local_reference"[^>]*value="T-1"', page)
    assert re.search(r'name="date_of_birth-day"[^>]*value="14"', page)
    assert re.search(r'name="date_of_birth-year"[^>]*value="2015"', page)
    assert "Liam Test (T-2)</textarea>" in page


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"child_name": "Mia Tess"}, "Child&#39;s full name must be as on the case record: Mia Test"),
        ({"date_of_birth": "2015-03-15"}, "Date of birth must be as on the case record: 14 March 2015"),
        ({"local_reference": "T-11"}, "Local reference number must be as on the case record: T-1"),
        ({"siblings": "None"}, "must include Liam Test (T-2), in the same sibling group on the case record"),
        ({"siblings": ""}, "must include Liam Test (T-2), in the same sibling group on the case record"),
    ],
)
async def test_a_case_summary_that_differs_from_the_record_is_refused_naming_the_record(
    site: Site, changed: dict[str, str], message: str
) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete(**{"case-summary": {**MIA_ON_RECORD, **changed}})
    page = await out.post(
        f"/handovers/{handover_id}/sections/case-summary", form_for(section("case-summary"), answers["case-summary"])
    )
    assert page.status_code == 200 and message in page.text


async def test_the_same_words_as_the_record_in_other_spacing_and_case_are_accepted(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    summary = {**MIA_ON_RECORD, "child_name": "  mia   TEST ", "siblings": "Liam (t-2) and a half-sister abroad"}
    answers = complete(**{"case-summary": summary})
    saved = await out.post(
        f"/handovers/{handover_id}/sections/case-summary", form_for(section("case-summary"), answers["case-summary"])
    )
    assert saved.status_code == 303, saved.text


@pytest.mark.parametrize("field_id", [f.id for s in CHECKLIST.sections for f in s.fields if f.not_before_birth])
async def test_no_visit_to_the_child_is_dated_before_their_birth(site: Site, field_id: str) -> None:
    section_id = next(s.id for s in CHECKLIST.sections if s.field(field_id))
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = every_date_shown()[section_id]
    answers.values[field_id] = "2015-03-13"  # the day before Mia was born
    page = await out.post(f"/handovers/{handover_id}/sections/{section_id}", form_for(section(section_id), answers))
    label = next(f.label for f in section(section_id).fields if f.id == field_id)
    assert f"{label} must be on or after the child&#39;s date of birth, 14 March 2015" in page.text
    answers.values[field_id] = "2015-03-14"
    form = form_for(section(section_id), answers, version=int(version_in(page.text, "version")))
    saved = await out.post(f"/handovers/{handover_id}/sections/{section_id}", form)
    assert saved.status_code == 303


async def test_assessments_and_plans_may_predate_the_birth(site: Site) -> None:
    """Pre-birth assessments and plans are ordinary practice: only visits are bounded by the birth."""
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    answers = complete()["record-currency"]
    answers.values |= {"assessment_date": "2015-01-10", "plan_date": "2015-02-01"}
    saved = await out.post(
        f"/handovers/{handover_id}/sections/record-currency", form_for(section("record-currency"), answers)
    )
    assert saved.status_code == 303, saved.text


async def test_the_api_applies_the_record_too(site: Site) -> None:
    from tests.test_api import call, tokens

    t = await tokens(site)
    handover_id = await start(await site.as_user("out"), site.world.cases["mia"], site.world.teams["cp"])
    summary = complete(**{"case-summary": {**MIA_ON_RECORD, "date_of_birth": "2016-01-01"}})["case-summary"]
    saved = await call(
        site, t["api_out"], "PUT", f"/handovers/{handover_id}/sections/case-summary",
        {"answers": {"values": summary.values, "groups": summary.groups}, "base_version": 0},
    )  # fmt: skip
    assert saved.status_code in (200, 403, 404), saved.text
    if saved.status_code == 200:
        body: dict[str, Any] = saved.json()
        assert body["status"] == "has_errors"
        expected = "Date of birth must be as on the case record: 14 March 2015"
        assert {"field": "date_of_birth-day", "message": expected} in body["errors"]


async def test_a_handover_whose_summary_differs_from_the_record_cannot_be_submitted(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    await fill_all(out, handover_id)
    answers = complete(**{"case-summary": {**MIA_ON_RECORD, "date_of_birth": "2015-03-15"}})
    draft = form_for(section("case-summary"), answers["case-summary"], button="draft", version=1)
    assert (await out.post(f"/handovers/{handover_id}/sections/case-summary", draft)).status_code == 303
    refused = await submit(out, handover_id)
    assert refused.status_code == 409
    assert "Date of birth must be as on the case record: 14 March 2015" in refused.text


async def test_an_escalation_date_follows_the_same_rules(site: Site) -> None:
    from tests.helpers import handover_in

    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    rmgr = await site.as_user("rmgr")
    raised = await rmgr.post(
        f"/handovers/{handover_id}/disagreements", {"about": "Contact", "with_whom": "GP", "view": "Not yet safe"}
    )
    assert raised.status_code == 303, raised.text
    view = (await rmgr.get(f"/handovers/{handover_id}/view")).text
    found = re.search(rf"/handovers/{handover_id}/disagreements/(\d+)", view)
    assert found
    disagreement = found.group(1)
    async with site.db.transaction() as conn:  # raised in October: an escalation in November follows it
        await conn.execute("UPDATE disagreements SET stage_since = '2026-10-01' WHERE id = ?", (int(disagreement),))
    url = f"/handovers/{handover_id}/disagreements/{disagreement}"
    escalation = {"decision": "escalated", "outcome": "To the head of service", "stage": "head_of_service",
                  "stage_date-day": "3", "stage_date-year": "2026"}  # fmt: skip
    # nothing but "escalated": every message, listed in the form's order (decision, stage, date, then the outcome)
    bare = await rmgr.post(url, {"decision": "escalated"})
    assert bare.status_code == 400
    summary = bare.text[bare.text.index("govuk-error-summary__list") :]
    links = [f'href="#decide-{disagreement}-{name}"' for name in ("stage", "stage_date-day", "outcome")]
    assert 0 < summary.index(links[0]) < summary.index(links[1]) < summary.index(links[2]), summary[:1500]
    refused = await rmgr.post(url, escalation | {"stage_date-month": ""})
    assert refused.status_code == 400
    assert "The date of the escalation must include a month" in refused.text
    assert f'href="#decide-{disagreement}-stage_date-month"' in refused.text
    assert 'value="To the head of service"' not in refused.text  # a character count shows it as text, not value
    assert "To the head of service</textarea>" in refused.text
    assert re.search(r'value="head_of_service" checked', refused.text), "the stage chosen is kept"
    decided = await rmgr.post(url, escalation | {"stage_date-month": "Nov"})
    assert decided.status_code == 303
    assert "3 November 2026" in (await rmgr.get(f"/handovers/{handover_id}/view")).text


@pytest.mark.parametrize("sent", ["2026-02-30", "2026-1-1", "20260101", "--", "99999-01-01"])
def test_a_date_sent_as_text_is_asked_for_as_yyyy_mm_dd(sent: str) -> None:
    assert date_problem("Review date", sent, TODAY) == (
        "Review date must be a real date written YYYY-MM-DD, for example 2025-03-27",
        ("day", "month", "year"),
    )


def test_an_escalation_cannot_be_dated_in_the_future() -> None:
    from service.core import validation

    errors = validation.decision_errors("escalated", "To the head of service", "9999-12-31", TODAY)
    assert errors == {"stage_date-day": "The date of the escalation must be today or in the past"}
