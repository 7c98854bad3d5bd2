"""The time-limits file is checked at start-up like the checklists: every bad value of every field is refused with a
message naming the file, the table and the field; the shipped file loads; a council's new version replaces it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.checklist import ChecklistError, load_all
from service.settings import PROJECT_ROOT
from service.time_limits import LONGEST, WAITS, TimeLimitsError, load_file, load_latest

SHIPPED = PROJECT_ROOT / "checklists" / "time-limits" / "time-limits-v1.toml"
STAGES = ("informal", "manager", "head_of_service", "safeguarding_partnership")


def text_with(table: str, field: str, value: str | None) -> str:
    """The shipped file with one field of one table set to `value` (None: the field removed)."""
    lines, inside = [], ""
    for line in SHIPPED.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            inside = line.strip("[] ")
        name = line.split("=")[0].strip()
        if inside == table and name == field:
            if value is not None:
                lines.append(f"{field} = {value}")
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def refusal(tmp_path: Path, text: str) -> str:
    path = tmp_path / "time-limits-v9.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TimeLimitsError) as raised:
        load_file(path)
    return str(raised.value)


PLACES = [("waits", name) for name in WAITS] + [("escalation", stage) for stage in STAGES]


@pytest.mark.parametrize(("table", "field"), PLACES)
@pytest.mark.parametrize("bad", ["0", "-1", str(LONGEST + 1)])
def test_a_limit_out_of_range_is_refused_naming_file_table_and_field(
    tmp_path: Path, table: str, field: str, bad: str
) -> None:
    assert refusal(tmp_path, text_with(table, field, bad)) == (
        f"time-limits-v9.toml: [{table}]: field {field!r}: must be from 1 to {LONGEST} working days, not {bad}"
    )


@pytest.mark.parametrize(("table", "field"), PLACES)
@pytest.mark.parametrize(("bad", "kind"), [('"5"', "str"), ("5.5", "float"), ("true", "bool"), ("[5]", "array")])
def test_a_limit_that_is_not_a_whole_number_is_refused_naming_file_table_and_field(
    tmp_path: Path, table: str, field: str, bad: str, kind: str
) -> None:
    assert refusal(tmp_path, text_with(table, field, bad)) == (
        f"time-limits-v9.toml: [{table}]: field {field!r}: Expected `int`, got `{kind}`"
    )


@pytest.mark.parametrize("field", WAITS)
def test_a_missing_wait_is_refused_naming_it(tmp_path: Path, field: str) -> None:
    assert refusal(tmp_path, text_with("waits", field, None)) == (
        f"time-limits-v9.toml: [waits]: Object missing required field `{field}`"
    )


def test_an_unknown_wait_is_refused(tmp_path: Path) -> None:
    text = text_with("waits", "reply", "5\nallocation = 3")
    assert refusal(tmp_path, text) == "time-limits-v9.toml: [waits]: Object contains unknown field `allocation`"


def test_a_file_that_is_not_toml_cannot_be_read(tmp_path: Path) -> None:
    assert refusal(tmp_path, "version = = 1").startswith("time-limits-v9.toml: cannot be read: Invalid value")


def test_the_shipped_limits_load_and_apply_to_every_checklist() -> None:
    path, limits = load_latest(PROJECT_ROOT / "checklists")
    assert path == SHIPPED
    assert (limits.waits.transfer, limits.waits.endorsement, limits.escalation["safeguarding_partnership"]) == (
        28,
        5,
        14,
    )
    for checklist in load_all(PROJECT_ROOT / "checklists").values():
        assert checklist.time_limits == limits
        assert {option.value: option.working_days for option in checklist.escalation_ladder} == limits.escalation


def a_copy_of_the_checklists(tmp_path: Path) -> Path:
    folder = tmp_path / "checklists"
    shutil.copytree(PROJECT_ROOT / "checklists", folder)
    return folder


def test_a_councils_newer_version_applies_without_touching_code(tmp_path: Path) -> None:
    folder = a_copy_of_the_checklists(tmp_path)
    newer = (
        SHIPPED.read_text(encoding="utf-8")
        .replace("version = 1", "version = 2")
        .replace("transfer = 28", "transfer = 20")
    )
    (folder / "time-limits" / "time-limits-v2.toml").write_text(newer, encoding="utf-8")
    assert {
        checklist.time_limits.waits.transfer for checklist in load_all(folder).values() if checklist.time_limits
    } == {20}


def test_a_broken_older_version_still_stops_start_up(tmp_path: Path) -> None:
    folder = a_copy_of_the_checklists(tmp_path)
    newer = SHIPPED.read_text(encoding="utf-8").replace("version = 1", "version = 2")
    (folder / "time-limits" / "time-limits-v2.toml").write_text(newer, encoding="utf-8")
    (folder / "time-limits" / "time-limits-v1.toml").write_text(text_with("waits", "reply", "0"), encoding="utf-8")
    with pytest.raises(ChecklistError, match=r"time-limits-v1\.toml: \[waits\]: field 'reply': must be from 1"):
        load_all(folder)


def test_two_files_of_one_version_are_refused(tmp_path: Path) -> None:
    folder = a_copy_of_the_checklists(tmp_path)
    shutil.copy(SHIPPED, folder / "time-limits" / "time-limits-copy.toml")
    with pytest.raises(ChecklistError, match=r"version 1 is defined twice"):
        load_all(folder)


def test_a_stage_no_checklist_offers_is_refused_naming_it(tmp_path: Path) -> None:
    folder = a_copy_of_the_checklists(tmp_path)
    limits = folder / "time-limits" / "time-limits-v1.toml"
    limits.write_text(limits.read_text(encoding="utf-8").replace("informal = 5", "informal = 5\ninfromal = 5"))
    with pytest.raises(ChecklistError) as raised:
        load_all(folder)
    assert str(raised.value) == (
        "time-limits-v1.toml: [escalation]: field 'infromal': no checklist offers this stage (the stages offered: "
        "head_of_service, informal, manager, safeguarding_partnership)"
    )
