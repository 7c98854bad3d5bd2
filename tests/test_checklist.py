"""Checklist definitions: the shipped file is valid, and each kind of bad definition is refused precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.app import create_app
from service.checklist import ChecklistError, load_all, load_file
from service.settings import PROJECT_ROOT
from tests.helpers import CHECKLIST, checklist_dir_with, settings_for_tests

GOOD_SECTION = """
id = "t"
version = 1
title = "Test"
[[sections]]
id = "s"
title = "Section"
[[sections.fields]]
id = "answer"
type = "radios"
label = "Answer"
options = [{ value = "yes", label = "Yes" }, { value = "no", label = "No" }]
"""


def test_shipped_checklist_is_valid_and_has_the_domain_sections() -> None:
    checklist = load_file(PROJECT_ROOT / "checklists" / "case-transfer-v1.toml")
    ids = [s.id for s in checklist.sections]
    for required in ("open-risks", "sibling-harm", "parenting-capacity", "cp-category", "disagreements"):
        assert required in ids
    assert all(s.why for s in checklist.sections if s.critical or s.critical_when), "critical items explain why"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[[sections.fields]]\nid = "x"\ntype = "radios"\nlabel = "X"\n',
            "section 's': field 'x': a radios field needs options",
        ),
        (
            '[[sections.fields]]\nid = "answer"\ntype = "text"\nlabel = "Again"\n',
            "field or group id 'answer' is used twice",
        ),
        (
            '[[sections.fields]]\nid = "y"\ntype = "text"\nlabel = "Y"\nwhen = { field = "nope", any_of = ["yes"] }\n',
            "section 's': field 'y': when refers to unknown field 'nope'",
        ),
        (
            '[[sections.fields]]\nid = "y"\ntype = "text"\nlabel = "Y"\n'
            'when = { field = "answer", any_of = ["maybe"] }\n',
            "field 'y': when names values that 'answer' does not offer: ['maybe']",
        ),
        (
            '[[sections.fields]]\nid = "z"\ntype = "colour"\nlabel = "Z"\n',
            "section 's': field 'z': Invalid enum value 'colour' (in 'type')",
        ),
        (
            '[[sections.fields]]\nid = "z"\ntype = "text"\nlable = "Z"\n',
            "section 's': field 'z': Object contains unknown field `lable`",
        ),
        (
            '[[sections.groups]]\nid = "g"\ntitle = "G"\nrow_label = "Row"\nmin_rows = 3\nmax_rows = 2\n'
            '[[sections.groups.fields]]\nid = "a"\ntype = "text"\nlabel = "A"\n',
            "group 'g': min_rows must be between 0 and max_rows",
        ),
        ('[[sections.fields]]\nid = "bad id"\ntype = "text"\nlabel = "Z"\n', "field 'bad id': ids may hold only"),
        (
            '[[sections.fields]]\nid = "v"\ntype = "text"\nlabel = "V"\nnot_before_birth = true\n',
            "section 's': field 'v': only a date field can be not_before_birth",
        ),
        (
            '[[sections.fields]]\nid = "b"\ntype = "text"\nlabel = "B"\nfrom_case_record = "date_of_birth"\n',
            "section 's': field 'b': from_case_record 'date_of_birth' does not fit a text field",
        ),
        (
            '[[sections.fields]]\nid = "b"\ntype = "text"\nlabel = "B"\nfrom_case_record = "address"\n',
            "section 's': field 'b': Invalid enum value 'address' (in 'from_case_record')",
        ),
    ],
)
def test_bad_definitions_are_refused_naming_file_section_and_field(tmp_path: Path, extra: str, message: str) -> None:
    folder = checklist_dir_with(tmp_path, GOOD_SECTION + extra)
    with pytest.raises(ChecklistError) as raised:
        load_all(folder)
    assert str(raised.value).startswith("bad.toml: ")
    assert message in str(raised.value)


def test_unreadable_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError, match=r"bad\.toml: cannot be read"):
        load_all(checklist_dir_with(tmp_path, "id = = 1"))


def test_a_bad_definition_stops_the_service_starting(tmp_path: Path) -> None:
    folder = checklist_dir_with(tmp_path, GOOD_SECTION.replace('type = "radios"', 'type = "radios"\nmax_length = 0'))
    with pytest.raises(ChecklistError, match="max_length must be at least 1"):
        create_app(settings_for_tests(tmp_path, checklists_dir=folder))


def test_every_version_is_kept_so_older_handovers_still_render(tmp_path: Path) -> None:
    folder = checklist_dir_with(
        tmp_path, (PROJECT_ROOT / "checklists" / "case-transfer-v1.toml").read_text(), "v1.toml"
    )
    v2 = (folder / "v1.toml").read_text().replace("version = 1", "version = 2", 1)
    (folder / "v2.toml").write_text(v2)
    loaded = load_all(folder)
    assert set(loaded) == {("case-transfer", 1), ("case-transfer", 2)}
    assert loaded[("case-transfer", 1)] == CHECKLIST


def test_the_same_version_twice_is_refused(tmp_path: Path) -> None:
    folder = checklist_dir_with(tmp_path, GOOD_SECTION, "a.toml")
    (folder / "b.toml").write_text(GOOD_SECTION)
    with pytest.raises(ChecklistError, match=r"b\.toml: t version 1 is defined twice"):
        load_all(folder)
