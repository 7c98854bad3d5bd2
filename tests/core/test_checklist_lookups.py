"""What a loaded checklist answers: when a condition holds, an option's label, a section's fields and groups, where
disagreements are recorded, the escalation ladder, the newest version, and the names of currency rules."""

from __future__ import annotations

import tomllib

import msgspec
import pytest

from service.checklist import Checklist, ChecklistError, Condition, CurrencyRule, latest, with_time_limits
from service.time_limits import TimeLimits, Waits
from tests.core.test_checklist_definitions import BASE

LIMITS = TimeLimits(
    version=1,
    waits=Waits(endorsement=5, acknowledgement=10, approval=10, reply=5, transfer=28, urgent_completion=2),
    escalation={"informal": 5, "manager": 1},
)
CHECKLIST = with_time_limits(msgspec.convert(tomllib.loads(BASE), Checklist), LIMITS)


def test_a_condition_holds_for_an_answer_it_names() -> None:
    condition = Condition(field="status", any_of=["cp", "cin"])
    assert condition.holds({"status": "cin"})
    assert condition.holds({"status": ["lac", "cp"]}), "checkboxes: one chosen value is enough"
    assert not condition.holds({"status": "lac"})
    assert not condition.holds({"status": ["lac"]})
    assert not condition.holds({"status": []})
    assert not condition.holds({"other": "cp"})
    assert not condition.holds({})


def test_an_option_is_shown_by_its_label() -> None:
    status = CHECKLIST.sections[0].fields[0]
    assert status.option_values == ["cp", "cin"]
    assert status.option_label("cin") == "CIN"
    assert status.option_label("cp") == "CP"
    assert status.option_label("lac") == "lac", "a value no longer offered is shown as it was stored"


def test_sections_fields_and_groups_are_found_by_id() -> None:
    summary = CHECKLIST.section("sum")
    assert summary is not None and summary.title == "Summary"
    assert CHECKLIST.section("risks") is CHECKLIST.sections[2]
    assert CHECKLIST.section("nowhere") is None
    assert summary.field("note") is summary.fields[2]
    assert summary.field("nowhere") is None
    risks = CHECKLIST.sections[2]
    assert risks.group("risks") is risks.groups[0]
    assert risks.group("nowhere") is None
    assert risks.groups[0].field("review") is risks.groups[0].fields[1]
    assert risks.groups[0].field("nowhere") is None


def test_each_part_of_a_disagreement_row_names_its_field() -> None:
    rows = CHECKLIST.sections[3].groups[0]
    assert CHECKLIST.disagreement_field("about") is rows.fields[0]
    assert CHECKLIST.disagreement_field("with_whom") is rows.fields[1]
    assert CHECKLIST.disagreement_field("stage") is rows.fields[2]
    assert CHECKLIST.disagreement_field("next_step_by") is rows.fields[4]
    assert CHECKLIST.disagreement_field("stage_since") is None, "not declared"


def test_the_escalation_ladder_is_the_stage_options_in_order() -> None:
    assert [(option.value, option.label, option.working_days) for option in CHECKLIST.escalation_ladder] == [
        ("informal", "Informal", 5),
        ("manager", "Manager", 1),
    ]


def without_disagreements(**rows: str) -> Checklist:
    raw = tomllib.loads(BASE)
    if rows:
        raw["disagreements"] |= rows
    else:
        del raw["disagreements"]
    return msgspec.convert(raw, Checklist)


def test_without_a_disagreements_table_there_is_no_ladder() -> None:
    checklist = without_disagreements()
    assert checklist.disagreement_field("stage") is None
    assert checklist.escalation_ladder == []


def test_disagreements_pointing_nowhere_have_no_fields() -> None:
    assert without_disagreements(section="nowhere").disagreement_field("about") is None
    assert without_disagreements(group="nowhere").disagreement_field("about") is None
    assert without_disagreements(stage="nowhere").escalation_ladder == []


def test_the_newest_version_of_a_checklist_is_chosen() -> None:
    older = msgspec.structs.replace(CHECKLIST, version=2)
    newer = msgspec.structs.replace(CHECKLIST, version=10)
    other = msgspec.structs.replace(CHECKLIST, id="u", version=99)
    checklists = {("t", 2): older, ("t", 10): newer, ("u", 99): other, ("t", 1): CHECKLIST}
    assert latest(checklists, "t") is newer
    assert latest(checklists, "u") is other
    with pytest.raises(ChecklistError) as raised:
        latest(checklists, "v")
    assert str(raised.value) == "no checklist called 'v'"


def test_a_currency_rule_is_named_by_section_group_field_and_its_values() -> None:
    assert CurrencyRule(section="s", field="f", within=1, what="w", source="x").key == "s.f"
    assert CurrencyRule(section="s", group="g", field="f", not_past=True, what="w", source="x").key == "s.g.f"
    assert [rule.key for rule in CHECKLIST.currency] == ["rec.visit.cp", "risks.risks.review"]
