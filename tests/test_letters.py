"""The letters to the child and family: the letters file is checked at start-up, every problem named by the file, the
letter and the field; which letter a child gets by their age; the letter form's rules; the letter filled in."""

from __future__ import annotations

import copy
import json
import shutil
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service import cli
from service.app import create_app
from service.checklist import ChecklistError, load_all
from service.core import letters as rules
from service.core.answers import SectionAnswers
from service.letters import (
    JOINT_VISIT_DATE,
    LETTERS,
    OLDEST_CHILD,
    PLACEHOLDERS,
    REQUIRED,
    Letters,
    LettersError,
    load_file,
    load_latest,
)
from service.settings import PROJECT_ROOT
from tests.helpers import settings_for_tests

SHIPPED = PROJECT_ROOT / "checklists" / "letters" / "letters-v1.toml"
RAW: dict[str, Any] = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
LOADED = load_file(SHIPPED)
TODAY = date(2026, 12, 1)


def toml_text(raw: dict[str, Any]) -> str:
    """A letters file's text from its tables (strings, whole numbers, lists of strings, tables of them): enough for
    the shape of a letters file. JSON's string escapes are TOML's."""

    def value(item: Any) -> str:
        if isinstance(item, list):
            return "[" + ", ".join(value(part) for part in item) + "]"
        return json.dumps(item, ensure_ascii=False) if isinstance(item, str) else json.dumps(item)

    def table(name: str, items: dict[str, Any]) -> list[str]:
        lines = [f"[{name}]"] if name else []
        lines += [f"{key} = {value(item)}" for key, item in items.items() if not isinstance(item, dict)]
        for key, item in items.items():
            if isinstance(item, dict):
                lines += table(f"{name}.{key}" if name else key, item)
        return lines

    return "\n".join(table("", raw)) + "\n"


def changed(change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


def refusal(tmp_path: Path, raw: dict[str, Any]) -> str:
    path = tmp_path / "letters-v9.toml"
    path.write_text(toml_text(raw), encoding="utf-8")
    with pytest.raises(LettersError) as raised:
        load_file(path)
    return str(raised.value)


# ---------------------------------------------------------------- the file


def test_the_shipped_letters_load_and_the_writer_here_writes_them_back(tmp_path: Path) -> None:
    path = tmp_path / "letters-v1.toml"
    path.write_text(toml_text(RAW), encoding="utf-8")
    assert load_file(path) == LOADED
    assert LOADED.younger_child_up_to_age == 11 and LOADED.responsible_from_within_days == 60


@pytest.mark.parametrize("kind", LETTERS)
@pytest.mark.parametrize("name", REQUIRED)
def test_a_letter_that_does_not_use_a_placeholder_it_must_is_refused(tmp_path: Path, kind: str, name: str) -> None:
    def drop(raw: dict[str, Any]) -> None:
        letter = raw["letters"][kind]
        for key, text in letter.items():
            if isinstance(text, str):
                letter[key] = text.replace(f"${name}", "someone")
            else:
                letter[key] = [part.replace(f"${name}", "someone") for part in text]

    assert refusal(tmp_path, changed(drop)) == (
        f"letters-v9.toml: [letters.{kind}]: no field uses ${name} ({PLACEHOLDERS[name]}): every letter must say it"
    )


PIECES = [
    ("title", None),
    ("greeting", None),
    ("paragraphs", 0),
    ("paragraphs", 2),
    ("closing", 0),
    ("joint_visit", None),
]


def put(raw: dict[str, Any], kind: str, field: str, index: int | None, text: str) -> None:
    if index is None:
        raw["letters"][kind][field] = text
    else:
        raw["letters"][kind][field][index] = text


def where(kind: str, field: str, index: int | None) -> str:
    return f"[letters.{kind}]: field {field!r}" + (f" ({field} {index + 1})" if index is not None else "")


@pytest.mark.parametrize("kind", LETTERS)
@pytest.mark.parametrize(("field", "index"), PIECES)
def test_an_unknown_placeholder_is_refused_naming_the_letter_and_field(
    tmp_path: Path, kind: str, field: str, index: int | None
) -> None:
    keep = " on $joint_visit_date" if field == "joint_visit" else ""
    message = refusal(tmp_path, changed(lambda raw: put(raw, kind, field, index, "Ask $social_worker" + keep)))
    assert message.startswith(f"letters-v9.toml: {where(kind, field, index)}: unknown placeholder $social_worker (")
    assert "$new_worker" in message, "the message lists the placeholders there are"


@pytest.mark.parametrize("kind", LETTERS)
@pytest.mark.parametrize(("field", "index"), PIECES)
@pytest.mark.parametrize(("text", "at"), [("It costs $5", 10), ("Call $ 0163", 6), ("Hello ${new_worker", 7)])
def test_a_dollar_that_starts_no_placeholder_is_refused(
    tmp_path: Path, kind: str, field: str, index: int | None, text: str, at: int
) -> None:
    keep = " on $joint_visit_date" if field == "joint_visit" else ""
    message = refusal(tmp_path, changed(lambda raw: put(raw, kind, field, index, text + keep)))
    assert message.startswith(
        f"letters-v9.toml: {where(kind, field, index)}: the '$' at character {at} starts no placeholder"
    )


# An empty joint visit paragraph is none at all (the letter has no such paragraph); one of spaces says nothing.
EMPTY = [
    (field, index, empty) for field, index in PIECES for empty in ("", "   ") if (field, empty) != ("joint_visit", "")
]


@pytest.mark.parametrize("kind", LETTERS)
@pytest.mark.parametrize(("field", "index", "empty"), EMPTY)
def test_empty_text_is_refused(tmp_path: Path, kind: str, field: str, index: int | None, empty: str) -> None:
    message = refusal(tmp_path, changed(lambda raw: put(raw, kind, field, index, empty)))
    assert f"{where(kind, field, index)}: must not be empty" in message


@pytest.mark.parametrize("kind", LETTERS)
@pytest.mark.parametrize("field", ["paragraphs", "closing"])
def test_a_letter_without_paragraphs_or_closing_is_refused(tmp_path: Path, kind: str, field: str) -> None:
    def empty(raw: dict[str, Any]) -> None:
        raw["letters"][kind][field] = []

    message = refusal(tmp_path, changed(empty))
    assert f"[letters.{kind}]: field {field!r}: give at least one" in message


@pytest.mark.parametrize("kind", LETTERS)
def test_the_joint_visit_date_belongs_only_in_the_joint_visit_paragraph(tmp_path: Path, kind: str) -> None:
    def misplace(raw: dict[str, Any]) -> None:
        raw["letters"][kind]["paragraphs"][0] += " See you on $joint_visit_date."

    assert f"{where(kind, 'paragraphs', 0)}: ${JOINT_VISIT_DATE} can be used only in 'joint_visit'" in refusal(
        tmp_path, changed(misplace)
    )

    def undated(raw: dict[str, Any]) -> None:
        raw["letters"][kind]["joint_visit"] = "We will visit you together."

    assert refusal(tmp_path, changed(undated)) == (
        f"letters-v9.toml: [letters.{kind}]: field 'joint_visit': must use ${JOINT_VISIT_DATE}, the date of the "
        "joint visit"
    )


@pytest.mark.parametrize("kind", LETTERS)
def test_a_letter_without_a_joint_visit_paragraph_is_accepted(tmp_path: Path, kind: str) -> None:
    raw = changed(lambda raw: raw["letters"][kind].pop("joint_visit"))
    path = tmp_path / "letters-v9.toml"
    path.write_text(toml_text(raw), encoding="utf-8")
    assert load_file(path).letter(kind).joint_visit == ""


@pytest.mark.parametrize("age", [-1, 0, OLDEST_CHILD + 1, 25])
def test_the_younger_childs_age_must_be_a_childs(tmp_path: Path, age: int) -> None:
    assert refusal(tmp_path, changed(lambda raw: raw.update(younger_child_up_to_age=age))) == (
        f"letters-v9.toml: field 'younger_child_up_to_age': must be from 1 to {OLDEST_CHILD} years, not {age}"
    )


@pytest.mark.parametrize("age", [1, OLDEST_CHILD])
def test_the_younger_childs_age_may_be_any_childs(tmp_path: Path, age: int) -> None:
    path = tmp_path / "letters-v9.toml"
    path.write_text(toml_text(changed(lambda raw: raw.update(younger_child_up_to_age=age))), encoding="utf-8")
    assert load_file(path).younger_child_up_to_age == age


@pytest.mark.parametrize("days", [0, -5, 367])
def test_how_far_ahead_the_new_worker_takes_over_is_bounded(tmp_path: Path, days: int) -> None:
    assert refusal(tmp_path, changed(lambda raw: raw.update(responsible_from_within_days=days))) == (
        f"letters-v9.toml: field 'responsible_from_within_days': must be from 1 to 366 calendar days, not {days}"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["letters"].pop("child_older"), "[letters]: Object missing required field `child_older`"),
        (lambda raw: raw["letters"].update(grandparent=raw["letters"]["family"]),
         "[letters]: Object contains unknown field `grandparent`"),
        (lambda raw: raw["letters"]["family"].pop("title"), "[letters.family]: Object missing required field `title`"),
        (lambda raw: raw["letters"]["family"].update(title=3),
         "[letters.family]: field 'title': Expected `str`, got `int`"),
        (lambda raw: raw["letters"]["child_younger"]["paragraphs"].append(7),
         "[letters.child_younger]: field 'paragraphs' (paragraphs 6): Expected `str`, got `int`"),
        (lambda raw: raw.pop("council"), "Object missing required field `council`"),
        (lambda raw: raw.update(council="Northtown\nCouncil"),
         "field 'council': must be one line, without spaces at either end"),
        (lambda raw: raw.update(council="$council"), "field 'council': is the council's name"),
        (lambda raw: raw["joint_visit"].update(date=""), "[joint_visit]: field 'date': must not be empty"),
    ],
)  # fmt: skip
def test_a_wrong_shape_is_refused_naming_where(tmp_path: Path, change: Any, message: str) -> None:
    assert message in refusal(tmp_path, changed(change))


def test_a_file_that_is_not_toml_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "letters-v9.toml"
    path.write_text("version = = 1", encoding="utf-8")
    with pytest.raises(LettersError, match=r"^letters-v9\.toml: cannot be read: "):
        load_file(path)


def a_checklists_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "checklists"
    shutil.copytree(PROJECT_ROOT / "checklists", folder)
    return folder


def test_two_files_of_one_version_are_refused(tmp_path: Path) -> None:
    folder = a_checklists_folder(tmp_path)
    shutil.copy(folder / "letters" / "letters-v1.toml", folder / "letters" / "letters-v1-copy.toml")
    with pytest.raises(ChecklistError, match=r"letters-v1\.toml: version 1 is defined twice \(also in letters-v1-copy"):
        load_all(folder)


def test_the_newest_version_applies_and_an_older_broken_one_still_stops_start_up(tmp_path: Path) -> None:
    folder = a_checklists_folder(tmp_path)
    newer = changed(lambda raw: raw.update(version=2, council="Northtown Council"))
    (folder / "letters" / "letters-v2.toml").write_text(toml_text(newer), encoding="utf-8")
    found = load_latest(folder)
    assert found is not None and found[0].name == "letters-v2.toml"
    letters = load_all(folder)[("case-transfer", 4)].letters
    assert letters is not None and (letters.version, letters.council) == (2, "Northtown Council")
    assert load_all(folder)[("case-transfer", 3)].letters is None, "an earlier version has no letters"
    (folder / "letters" / "letters-v1.toml").write_text("version = = 1", encoding="utf-8")
    with pytest.raises(ChecklistError, match=r"letters-v1\.toml: cannot be read"):
        load_all(folder)


def test_a_version_that_tells_the_family_needs_letters(tmp_path: Path) -> None:
    folder = a_checklists_folder(tmp_path)
    shutil.rmtree(folder / "letters")
    with pytest.raises(ChecklistError, match=r"no letters \(\*\.toml\) found: case-transfer version 4 has the child"):
        load_all(folder)
    (folder / "case-transfer-v4.toml").unlink()
    assert all(checklist.letters is None for checklist in load_all(folder).values())


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("section", "handover", "field 'section': case-transfer version 4 has no section 'handover'"),
        ("value", "home_visit", "field 'value': in case-transfer version 4, 'arrangements' field 'transfer_meeting' "
                                "offers no 'home_visit'"),
        ("field", "meeting", "field 'field': case-transfer version 4 has no field 'meeting' in 'arrangements'"),
        ("date", "no_meeting_reason", "field 'date': case-transfer version 4 has no date field 'no_meeting_reason'"),
    ],
)  # fmt: skip
def test_the_joint_visit_must_be_where_the_checklist_records_it(
    tmp_path: Path, field: str, bad: str, message: str
) -> None:
    folder = a_checklists_folder(tmp_path)
    raw = changed(lambda raw: raw["joint_visit"].update({field: bad}))
    (folder / "letters" / "letters-v1.toml").write_text(toml_text(raw), encoding="utf-8")
    with pytest.raises(ChecklistError) as raised:
        load_all(folder)
    assert str(raised.value).startswith(f"letters-v1.toml: [joint_visit]: {message}")


def test_a_bad_letters_file_stops_the_service_and_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = a_checklists_folder(tmp_path)
    raw = changed(lambda raw: put(raw, "family", "title", None, "Your $worker"))
    (folder / "letters" / "letters-v1.toml").write_text(toml_text(raw), encoding="utf-8")
    with pytest.raises(ChecklistError, match=r"\[letters\.family\]: field 'title': unknown placeholder \$worker"):
        create_app(settings_for_tests(tmp_path, checklists_dir=folder))
    monkeypatch.setenv("HANDOVER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HANDOVER_SECRET_KEY", "test-secret-" + "x" * 32)
    monkeypatch.setenv("HANDOVER_CHECKLISTS_DIR", str(folder))
    assert cli.main(["init-db"]) == 2
    assert "[letters.family]: field 'title': unknown placeholder $worker" in capsys.readouterr().err
    assert not (tmp_path / "data" / "handover.db").exists(), "the command did nothing"


# ---------------------------------------------------------------- the rules


def birthday_in(born: date, year: int) -> date:
    """A birthday in `year`; one on 29 February falls on 1 March in a year without it."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


@given(born=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)), days=st.integers(0, 366 * 30))
def test_age_is_the_birthdays_that_have_come(born: date, days: int) -> None:
    on = born + timedelta(days=days)
    birthdays = sum(1 for year in range(born.year + 1, on.year + 1) if birthday_in(born, year) <= on)
    assert rules.age_on(born, on) == birthdays


@given(
    born=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
    on=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    up_to=st.integers(1, OLDEST_CHILD),
)
def test_the_child_gets_the_plain_letter_up_to_the_files_age(born: date, on: date, up_to: int) -> None:
    import msgspec

    letters = msgspec.structs.replace(LOADED, younger_child_up_to_age=up_to)
    kind = rules.letter_kind(letters, rules.CHILD, born, on)
    assert kind == ("child_younger" if rules.age_on(born, on) <= up_to else "child_older")
    assert rules.letter_kind(letters, rules.FAMILY, born, on) == "family"


@pytest.mark.parametrize(
    ("born", "on", "kind"),
    [
        (date(2014, 12, 1), date(2026, 11, 30), "child_younger"),  # 11, the day before turning 12
        (date(2014, 12, 1), date(2026, 12, 1), "child_older"),  # 12 today
        (date(2014, 2, 28), date(2026, 2, 27), "child_younger"),
        (date(2012, 2, 29), date(2024, 2, 28), "child_younger"),  # a leap-day birthday: 12 on 29 February 2024
        (date(2012, 2, 29), date(2024, 2, 29), "child_older"),
        (date(2012, 2, 29), date(2023, 3, 1), "child_younger"),  # 11 on 1 March in a year without 29 February
        (None, date(2026, 12, 1), "child_older"),
    ],
)
def test_the_age_boundary(born: date | None, on: date, kind: str) -> None:
    assert rules.letter_kind(LOADED, rules.CHILD, born, on) == kind


def form(**changes: str) -> rules.LetterForm:
    values = {"letter": "family", "addressee": "Ms Ashford", "responsible_from": (TODAY + timedelta(7)).isoformat(),
              "contact": "on 01632 960 001"}  # fmt: skip
    return rules.LetterForm(**(values | changes))


def facts(joint_visit_on: date | None = None) -> rules.LetterFacts:
    return rules.LetterFacts(
        child_name="Mia Jane Test", date_of_birth=date(2015, 3, 14), new_worker="Jo Green",
        new_team="Children in Care Team", outgoing_worker="Sam Brown", council="Example Borough Council",
        joint_visit_on=joint_visit_on,
    )  # fmt: skip


def all_text(letter: rules.Letter) -> str:
    return "\n".join([letter.title, letter.greeting, *letter.paragraphs, *letter.closing])


@pytest.mark.parametrize("recipient", list(rules.RECIPIENTS))
@pytest.mark.parametrize("visit", [None, TODAY, TODAY + timedelta(days=20)])
def test_the_letter_names_the_new_worker_team_date_and_contact(recipient: str, visit: date | None) -> None:
    letter = rules.fill(LOADED, form(letter=recipient, addressee=""), facts(visit), TODAY)
    text = all_text(letter)
    for expected in ("Jo Green", "Children in Care Team", "8 December 2026", "on 01632 960 001", "Sam Brown"):
        assert expected in text, expected
    assert "$" not in text
    assert letter.dated == TODAY and letter.responsible_from == date(2026, 12, 8)
    if visit is None:
        assert "together" not in text
    else:
        assert f"{visit.day} {visit:%B %Y}" in text and "together" in text
    if recipient == rules.CHILD:
        assert letter.greeting == "Dear Mia," and letter.kind == "child_younger"
    else:
        assert letter.kind == "family"


@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60))
def test_what_a_worker_types_is_never_read_as_a_placeholder(text: str) -> None:
    one_line = " ".join(text.split()) or "x"
    letter = rules.fill(LOADED, form(addressee=one_line, contact=one_line), facts(), TODAY)
    assert letter.addressee == one_line
    assert f"You can contact Jo Green {one_line}." in letter.paragraphs


def test_the_files_council_is_used_and_otherwise_the_services() -> None:
    import msgspec

    assert rules.fill(LOADED, form(), facts(), TODAY).council == "Example Borough Council"
    named: Letters = msgspec.structs.replace(LOADED, council="Northtown Council")
    letter = rules.fill(named, form(), facts(), TODAY)
    assert letter.council == "Northtown Council" and "Social worker, Northtown Council" in letter.closing


def answers(choice: str, day: str) -> dict[str, SectionAnswers]:
    return {"arrangements": SectionAnswers(values={"transfer_meeting": choice, "meeting_on": day})}


@pytest.mark.parametrize(
    ("choice", "day", "expected"),
    [
        ("joint_visit", "2026-12-05", date(2026, 12, 5)),
        ("joint_visit", "2026-12-01", date(2026, 12, 1)),  # today: still to come
        ("joint_visit", "2026-11-30", None),  # over: the letter does not announce it
        ("meeting", "2026-12-05", None),  # a transfer meeting between professionals is not a visit to the family
        ("neither", "", None),
        ("joint_visit", "5/12/", None),  # boxes that make no date
    ],
)
def test_the_joint_visit_is_one_still_to_come(choice: str, day: str, expected: date | None) -> None:
    assert rules.joint_visit_on(LOADED, answers(choice, day), TODAY) == expected
    assert rules.joint_visit_on(LOADED, {}, TODAY) is None


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({}, {}),
        ({"letter": "grandparent"}, {"letter": "Select who the letter is to"}),
        ({"addressee": ""}, {"addressee": "Enter who the letter is to, for example ‘Ms Ashford’"}),
        ({"letter": "child", "addressee": ""}, {}),  # the child's first name
        ({"addressee": "x" * 201}, {"addressee": "Who the letter is to must be 200 characters or fewer"}),
        ({"addressee": "x" * 200}, {}),
        ({"contact": "x" * 301}, {"contact": "How to contact the new worker must be 300 characters or fewer"}),
        ({"contact": "x" * 300}, {}),
        ({"responsible_from": ""}, {"responsible_from-day": "Enter the date from which the new worker is responsible"}),
        ({"responsible_from": "2026-11-30"},
         {"responsible_from-day": "The date the new worker is responsible from must be today or in the future"}),
        ({"responsible_from": "2026-12-01"}, {}),
        ({"responsible_from": "2027-01-30"}, {}),  # 60 days
        ({"responsible_from": "2027-01-31"},
         {"responsible_from-day": "The date the new worker is responsible from must be no more than 60 days from "
                                  "today, 30 January 2027 at the latest"}),
        ({"responsible_from": "31/2/2027"},
         {"responsible_from-day": "The date the new worker is responsible from must be a real date"}),
        ({"responsible_from": "1//2027"},
         {"responsible_from-month": "The date the new worker is responsible from must include a month"}),
    ],
)  # fmt: skip
def test_the_letter_forms_rules(changes: dict[str, str], errors: dict[str, str]) -> None:
    assert rules.form_errors(form(**changes), LOADED, TODAY) == errors


@pytest.mark.parametrize("field", [rules.ADDRESSEE_FIELD, rules.CONTACT_FIELD])
def test_the_addressee_and_contact_are_one_line(field: str) -> None:
    errors = rules.form_errors(form(**{field: "Ms\nAshford"}), LOADED, TODAY)
    assert list(errors) == [field]


def test_the_form_starts_with_the_new_workers_e_mail_and_team() -> None:
    assert (
        rules.default_contact("CP Team", "jo@example.gov.uk") == "by e-mail at jo@example.gov.uk or through the CP Team"
    )
    assert rules.default_contact("CP Team", "") == "through the CP Team"
