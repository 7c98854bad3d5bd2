"""Version 3 of the checklist declares which sections are answered once for a sibling group, and lets the sibling
harm rows choose the children of the group; the definition is checked like every other."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.checklist import ChecklistError, load_all, load_file
from service.settings import PROJECT_ROOT
from tests.helpers import checklist_changed

FAMILY = ["sibling-harm", "parenting-capacity", "network", "disagreements", "arrangements"]


def test_version_3_declares_the_family_sections_and_the_older_versions_have_none() -> None:
    loaded = load_all(PROJECT_ROOT / "checklists")
    assert [s.id for s in loaded[("case-transfer", 3)].family_sections()] == FAMILY
    assert loaded[("case-transfer", 1)].family_sections() == []
    assert loaded[("case-transfer", 2)].family_sections() == []
    # apart from the levels and the sibling harm rows, version 3 asks what version 2 asked
    second, third = loaded[("case-transfer", 2)], loaded[("case-transfer", 3)]
    assert [s.id for s in second.sections] == [s.id for s in third.sections]


def test_the_harm_rows_offer_the_children_of_the_group_and_someone_outside() -> None:
    third = load_all(PROJECT_ROOT / "checklists")[("case-transfer", 3)]
    expanded = third.for_children((("Mia Ashford", "CS-1"), ("Liam Ashford", "CS-2")))
    incidents = expanded.section("sibling-harm").group("incidents")  # type: ignore[union-attr]
    assert incidents is not None
    for field_id in ("child_harmed", "child_who_harmed"):
        field = incidents.field(field_id)
        assert field is not None
        assert field.option_values == ["CS-2", "CS-1", "outside"]
        assert field.option_label("CS-2") == "Liam Ashford (CS-2)"
    # without children the definition is as written: only someone outside the group
    plain = third.section("sibling-harm").group("incidents").field("child_harmed")  # type: ignore[union-attr]
    assert plain is not None and plain.option_values == ["outside"]


def test_a_section_level_other_than_child_or_family_names_the_file_and_section(tmp_path: Path) -> None:
    path = checklist_changed(tmp_path, 3, 'id = "network"\ntitle = "Multi-agency network"\nlevel = "family"',
                               'id = "network"\ntitle = "Multi-agency network"\nlevel = "household"')  # fmt: skip
    with pytest.raises(ChecklistError) as error:
        load_file(path)
    assert "section 'network'" in str(error.value) and "level" in str(error.value)


def test_options_from_on_a_text_field_is_refused(tmp_path: Path) -> None:
    path = checklist_changed(
        tmp_path, 3, 'id = "ages"\ntype = "text"', 'id = "ages"\ntype = "text"\noptions_from = "sibling_group"'
    )
    with pytest.raises(ChecklistError) as error:
        load_file(path)
    assert "section 'sibling-harm'" in str(error.value) and "field 'ages'" in str(error.value)
    assert "options_from" in str(error.value)


def test_a_family_section_cannot_restate_the_childs_record(tmp_path: Path) -> None:
    path = checklist_changed(tmp_path, 3, 'id = "case-summary"\ntitle = "Case summary"',
                               'id = "case-summary"\ntitle = "Case summary"\nlevel = "family"')  # fmt: skip
    with pytest.raises(ChecklistError) as error:
        load_file(path)
    assert "section 'case-summary'" in str(error.value) and "from_case_record" in str(error.value)
