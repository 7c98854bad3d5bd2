"""What is stored is what a reader is shown: an answer to a question its own answers hide is dropped on every
conditional rule, and an answer to a question the checklist does not have is refused, by the page and the API alike."""

from __future__ import annotations

from typing import Any

import pytest

from service import actions, db
from service.checklist import Condition, Field, Section
from service.core.answers import SectionAnswers
from tests.conftest import Site
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete
from tests.test_api import call, error_shape, tokens

pytestmark = pytest.mark.anyio


def hiding_value(condition: Condition, controller: Field) -> str | list[str]:
    """An answer to the controlling question under which the condition does not hold."""
    other = next(option.value for option in controller.options if option.value not in condition.any_of)
    return [other] if controller.type == "checkboxes" else other


def conditional_rules() -> list[tuple[str, str, str]]:
    """(section, the dependent field or group, its controlling field) for every top-level condition."""
    rules = []
    for section in CHECKLIST.sections:
        for item in [*section.fields, *section.groups]:
            if item.when is not None:
                rules.append((section.id, item.id, item.when.field))
    return rules


def section_of(section_id: str) -> Section:
    found = CHECKLIST.section(section_id)
    assert found is not None
    return found


@pytest.mark.parametrize(("section_id", "dependent", "controller_id"), conditional_rules())
async def test_an_answer_its_own_answers_hide_is_not_stored(
    site: Site, section_id: str, dependent: str, controller_id: str
) -> None:
    section = section_of(section_id)
    controller = next(field for field in section.fields if field.id == controller_id)
    item: Any = next(x for x in [*section.fields, *section.groups] if x.id == dependent)
    answers = complete()[section_id]
    values = dict(answers.values) | {controller_id: hiding_value(item.when, controller)}
    groups = dict(answers.groups)
    if isinstance(item, Field):
        values[dependent] = ["x"] if item.type == "checkboxes" else "Left over from an earlier answer"
    else:
        groups[dependent] = [{field.id: "Left over" for field in item.fields if field.type == "text"}]
    out = await actor(site.db, site.world, "out")
    handover_id = await actions.start_handover(
        site.db, out, CHECKLIST, case_id=site.world.cases["mia"], receiving_team_id=site.world.teams["cp"],
        receiver_id=None, apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    await actions.save_section(
        site.db, CHECKLISTS, out, handover_id, section_id, SectionAnswers(values=values, groups=groups), 0,
        finished=False,
    )  # fmt: skip
    stored = (await db.sections_of(site.db.reader, handover_id))[section_id].answers
    assert dependent not in stored.values and dependent not in stored.groups
    assert stored.values[controller_id] == values[controller_id], "the answers that are asked are kept"


@pytest.mark.parametrize(
    ("answers", "where"),
    [
        ({"values": {"no_such_question": "x"}}, "no_such_question"),
        ({"groups": {"no_such_list": [{"what": "x"}]}}, "no_such_list"),
        (
            {"values": {"has_open_risks": "yes"}, "groups": {"risks": [{"what": "x", "invented": "y"}]}},
            "risks-0-invented",
        ),
    ],
)
async def test_the_api_refuses_answers_to_questions_the_checklist_does_not_have(
    site: Site, answers: dict[str, Any], where: str
) -> None:
    issued = await tokens(site)
    async with site.db.transaction() as conn:
        svc = await db.user_by_username(conn, "api_out")
        assert svc is not None
        case_id = await db.create_case(conn, "K-1", "Kept Child", "2015-01-01", svc.id, site.world.teams["north"])
    created = await call(
        site, issued["api_out"], "POST", f"/cases/{case_id}/handovers",
        {"receiving_team_id": site.world.teams["cp"], "transfer_reason": "Step-up"},
    )  # fmt: skip
    handover_id = created.json()["id"]
    response = await call(
        site, issued["api_out"], "PUT", f"/handovers/{handover_id}/sections/open-risks", {"answers": answers}
    )
    details = error_shape(response, 422, "invalid")["details"]
    assert [d["field"] for d in details] == [where]
    assert await db.sections_of(site.db.reader, handover_id) == {}, "nothing refused is stored"


@pytest.mark.parametrize("autosave", [False, True])
async def test_an_answer_too_long_to_keep_is_refused_by_its_field_and_the_rest_of_the_form_is_saved(
    site: Site, autosave: bool
) -> None:
    """An answer over what may be stored keeps its stored value (or none); everything else typed is saved, and the
    page (or the autosave status) says what was not."""
    from service.core.answers import ANSWER_STORED_MAX
    from tests.helpers import form_for, section, start, version_in

    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    url = f"/handovers/{handover_id}/sections/open-risks"
    answers = complete()["open-risks"]
    first = form_for(section("open-risks"), answers, button="draft")
    assert (await out.post(url, first)).status_code == 303
    version = version_in((await out.get(url)).text, "version")
    typed = first | {
        "version": version,
        "risks-0-mitigation": "m" * (ANSWER_STORED_MAX + 1),  # over the limit: keeps what was stored
        "risks-0-contingency": "A new contingency plan",  # within it: saved
    }
    if autosave:
        status = await out.post(url + "/autosave", typed)
        assert "Draft saved at" in status.text and "An answer too long to keep was not saved" in status.text
    else:
        page = await out.post(url, typed)
        assert page.status_code == 200
        message = f"was not saved: it must be {ANSWER_STORED_MAX:,} characters or fewer"
        assert f"Risk 1: What currently reduces the risk? {message}" in page.text
        assert "m" * 1000 in page.text, "what was typed is shown again to shorten"
    row = (await db.sections_of(site.db.reader, handover_id))["open-risks"].answers.groups["risks"][0]
    assert row["mitigation"] == answers.groups["risks"][0]["mitigation"]
    assert row["contingency"] == "A new contingency plan"
