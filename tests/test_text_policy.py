"""One policy for hidden characters, applied by the one set of rules: control characters and bidirectional
overrides are refused in every text a person or a system sends, drafts included, with a message by the field."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from service import actions, db
from service.core import validation
from service.core.answers import SectionAnswers
from service.core.errors import Invalid
from service.core.text import HIDDEN_CHARACTER_MESSAGE
from tests.conftest import Site
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor, complete, latest_form, section, start

pytestmark = pytest.mark.anyio

HIDDEN = ["\x00", "\x1b[2J", "\x07", "\x85", "\u2028", "\u202e", "\u202a", "\u2066", "\u2069"]
ALLOWED = ["\t", "\n", "\r\n", "\u200f", "\u200e", "مرحبا", "Zoë O'Brien-Ñúñez"]


def rules() -> dict[str, Callable[[str], dict[str, str]]]:
    """Every rule that takes free text, with the text put in one of its fields."""
    risks = CHECKLIST.section("open-risks")
    assert risks is not None
    today = date(2026, 11, 30)
    return {
        "transfer reason": validation.transfer_reason_errors,
        "return reason": lambda text: validation.workflow_reason_errors(text, required=True),
        "read-back": lambda text: validation.confirmation_errors(
            risks, True, "I take on the risk " + text + " now", handed_over=[], minimum=20
        ),
        "disagreement about": lambda text: validation.disagreement_errors(text, "GP", "My view"),
        "disagreement with whom": lambda text: validation.disagreement_errors("About", text, "My view"),
        "disagreement view": lambda text: validation.disagreement_errors("About", "GP", text),
        "decision outcome": lambda text: validation.decision_errors("escalated", text, "2026-11-30", today),
        "case reference": lambda text: validation.case_errors(f"R{text}1", "Child", "2015-01-01", today),
        "child's name": lambda text: validation.case_errors("R1", f"Mia{text}Hart", "2015-01-01", today),
        "sibling group": lambda text: validation.sibling_group_name_errors(f"Hart{text}family"),
        "full name": lambda text: validation.new_person_errors("jsmith", f"J{text}Smith", "long enough password"),
    }


@pytest.mark.parametrize("rule", sorted(rules()))
@pytest.mark.parametrize("character", HIDDEN)
def test_every_free_text_rule_refuses_hidden_characters(rule: str, character: str) -> None:
    errors = rules()[rule]("a" + character + "b")
    assert any(HIDDEN_CHARACTER_MESSAGE in message for message in errors.values()), errors


@pytest.mark.parametrize("rule", sorted(rules()))
@pytest.mark.parametrize("text", ALLOWED)
def test_ordinary_text_in_any_script_is_accepted(rule: str, text: str) -> None:
    errors = rules()[rule]("a" + text + "b")
    assert not any(HIDDEN_CHARACTER_MESSAGE in message for message in errors.values()), errors


WITH_FREE_TEXT = [
    s.id for s in CHECKLIST.sections if any(f.type in ("text", "textarea") and f.when is None for f in s.fields)
]


@pytest.mark.parametrize("character", HIDDEN)
@pytest.mark.parametrize("section_id", WITH_FREE_TEXT)
async def test_a_draft_with_a_hidden_character_is_refused_and_nothing_is_stored(
    site: Site, section_id: str, character: str
) -> None:
    out = await actor(site.db, site.world, "out")
    handover_id = await actions.start_handover(
        site.db, out, CHECKLIST, case_id=site.world.cases["mia"], receiving_team_id=site.world.teams["cp"],
        receiver_id=None, apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip
    answers = complete()[section_id]
    text_field = next(f for f in section(section_id).fields if f.type in ("text", "textarea") and f.when is None)
    values = dict(answers.values) | {text_field.id: f"Typed{character}here"}
    with pytest.raises(Invalid) as refused:
        await actions.save_section(
            site.db, CHECKLISTS, out, handover_id, section_id, SectionAnswers(values=values, groups=answers.groups),
            0, finished=False,
        )  # fmt: skip
    assert HIDDEN_CHARACTER_MESSAGE in refused.value.errors[text_field.id]
    assert await db.sections_of(site.db.reader, handover_id) == {}


async def test_the_page_shows_the_message_by_the_field_and_keeps_what_was_typed(site: Site) -> None:
    out = await site.as_user("out")
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"])
    form = latest_form("childs-views", button="draft")
    form["views"] = "She said \u202eevil\u202c to me"
    response = await out.post(f"/handovers/{handover_id}/sections/childs-views", form)
    assert response.status_code == 200
    label = "What have the child and their siblings said?"
    assert f"{label} was not saved: it {HIDDEN_CHARACTER_MESSAGE}" in html.unescape(response.text)
    assert "She said \u202eevil\u202c to me</textarea>" in response.text, "what was typed is shown to correct"
    saved = (await db.sections_of(site.db.reader, handover_id))["childs-views"].answers.values
    assert "views" not in saved and saved["how_gathered"] == form["how_gathered"], "the rest of the form is saved"


async def test_the_import_refuses_a_hidden_character_by_line_and_column(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(
        "reference,child_name,date_of_birth,worker_username,team,sibling_group\n"
        "N-1,Evie\u202eHart,2016-02-03,out,North Team,\n",
        encoding="utf-8",
    )
    imported, problems = await actions.import_cases(site.db, path)
    assert imported == 0 and problems == [f"line 2: child_name: The child's name {HIDDEN_CHARACTER_MESSAGE}"]
