"""Checklist definitions checked at start-up: every kind of bad definition is refused with the exact sentence naming
the file, the section, the group and the field, and every boundary a definition may reach is accepted.

Each test changes one thing in a small valid definition (BASE) and loads it inside the test, as start-up does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from service.checklist import ChecklistError, load_all, load_file
from service.settings import PROJECT_ROOT

BASE = """
id = "t"
version = 1
title = "Test"

[disagreements]
section = "dis"
group = "rows"
about = "about"
with_whom = "with_whom"
stage = "stage"
next_step = "next_step"
next_step_by = "next_step_by"

[[currency]]
section = "rec"
field = "visit"
within = 1
unit = "working_days"
when = { section = "sum", field = "status", any_of = ["cp"] }
what = "The last visit was"
source = "procedures"

[[currency]]
section = "risks"
group = "risks"
field = "review"
not_past = true
what = "The review date"
source = "this checklist"

[[sections]]
id = "sum"
title = "Summary"
[[sections.fields]]
id = "status"
type = "radios"
label = "Status"
options = [{ value = "cp", label = "CP" }, { value = "cin", label = "CIN" }]
[[sections.fields]]
id = "needs"
type = "checkboxes"
label = "Needs"
options = [{ value = "health", label = "Health" }, { value = "school", label = "School" }]
[[sections.fields]]
id = "note"
type = "text"
label = "Note"
required = false

[[sections]]
id = "rec"
title = "Records"
[[sections.fields]]
id = "visit"
type = "date"
label = "Last visit"
not_before_birth = true
[[sections.fields]]
id = "seen"
type = "date"
label = "Last seen alone"

[[sections]]
id = "risks"
title = "Risks"
[[sections.groups]]
id = "risks"
title = "Risks"
row_label = "Risk"
[[sections.groups.fields]]
id = "what"
type = "textarea"
label = "What"
[[sections.groups.fields]]
id = "review"
type = "date"
label = "Review"

[[sections]]
id = "dis"
title = "Disagreements"
[[sections.groups]]
id = "rows"
title = "Disagreements"
row_label = "Disagreement"
[[sections.groups.fields]]
id = "about"
type = "textarea"
label = "About"
[[sections.groups.fields]]
id = "with_whom"
type = "text"
label = "With whom"
[[sections.groups.fields]]
id = "stage"
type = "radios"
label = "Stage"
options = [
    { value = "informal", label = "Informal" },
    { value = "manager", label = "Manager" },
]
[[sections.groups.fields]]
id = "next_step"
type = "text"
label = "Next step"
[[sections.groups.fields]]
id = "next_step_by"
type = "date"
label = "By"
[[sections.groups.fields]]
id = "since"
type = "date"
label = "Since"
"""

# Places in BASE to add to: the end of the top-level keys, of each section's own keys, and of its first field.
TOP = 'title = "Test"\n'
SUMMARY = 'id = "sum"\ntitle = "Summary"\n'
RECORDS = 'id = "rec"\ntitle = "Records"\n'
RISK_GROUP = 'row_label = "Risk"\n'
NOTE = 'id = "note"\ntype = "text"\nlabel = "Note"\n'
STATUS = 'id = "status"\ntype = "radios"\nlabel = "Status"\n'
# A time limit in a checklist is refused wherever it is: every limit lives in the time-limits file.
MOVED = "working_days: time limits live in checklists/time-limits/, not in a checklist"
STAGE_OPTIONS = '    { value = "informal", label = "Informal" },\n    { value = "manager", label = "Manager" },\n'
VISIT_RULE = 'when = { section = "sum", field = "status", any_of = ["cp"] }\n'
END = 'id = "since"\ntype = "date"\nlabel = "Since"\n'
RISK_RULE = 'section = "risks"\ngroup = "risks"\nfield = "review"\nnot_past = true\n'


def changed(*changes: tuple[str, str]) -> str:
    """BASE with each (old, new) replacement made; each `old` must occur exactly once."""
    text = BASE
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def after(place: str, lines: str) -> tuple[str, str]:
    """A change that adds `lines` after `place`."""
    return (place, place + lines)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, *changes: tuple[str, str]) -> str:
    with pytest.raises(ChecklistError) as raised:
        load_file(write(tmp_path, changed(*changes)))
    return str(raised.value)


# The definition every test starts from, and the limits a definition may reach -------------------------------------


def test_the_base_definition_loads_with_its_defaults(tmp_path: Path) -> None:
    checklist = load_file(write(tmp_path, BASE))
    assert checklist.key == ("t", 1)
    assert checklist.readback_min_characters == 20
    group = checklist.sections[2].groups[0]
    assert (group.min_rows, group.max_rows) == (0, 20), "a group with no rows keys may have none, up to 20"
    assert [rule.key for rule in checklist.currency] == ["rec.visit.cp", "risks.risks.review"]


@pytest.mark.parametrize(
    "changes",
    [
        [after(TOP, "readback_min_characters = 1\n")],
        [after(TOP, "readback_min_characters = 1000\n")],
        [after(RISK_GROUP, "min_rows = 20\nmax_rows = 20\n")],
        [after(RISK_GROUP, "min_rows = 0\nmax_rows = 1\n")],
        [after(NOTE, "max_length = 1\n")],
        [("id = \"note\"", 'id = "a_note_2"')],
        [('type = "date"\nlabel = "Last visit"\nnot_before_birth = true', 'type = "date"\nlabel = "V"')],
        [(SUMMARY, SUMMARY + 'critical_when = { field = "needs", any_of = ["health", "school"] }\n')],
        [("[[sections]]\nid = \"rec\"", '[[sections]]\nid = "rec"\ncritical = true')],
        [(VISIT_RULE, 'when = { section = "sum", field = "needs", any_of = ["school"] }\n')],
        [(RISK_RULE, 'section = "risks"\ngroup = "risks"\nfield = "review"\nwithin = 1\nunit = "months"\n')],
        [after(END, '[[sections]]\nid = "only_rows"\ntitle = "Rows"\n[[sections.groups]]\nid = "g"\ntitle = "G"\n'
                    'row_label = "R"\n[[sections.groups.fields]]\nid = "a"\ntype = "text"\nlabel = "A"\n')],
        [(NOTE, 'id = "note"\ntype = "text"\nlabel = "Note"\nfrom_case_record = "child_name"\n')],
        [(NOTE, 'id = "note"\ntype = "text"\nlabel = "Note"\nfrom_case_record = "reference"\n')],
        [(NOTE, 'id = "note"\ntype = "text"\nlabel = "Note"\nfrom_case_record = "siblings"\n')],
        [(NOTE, 'id = "note"\ntype = "textarea"\nlabel = "Note"\nfrom_case_record = "siblings"\n')],
        [('id = "seen"\ntype = "date"\nlabel = "Last seen alone"\n',
          'id = "seen"\ntype = "date"\nlabel = "Born"\nfrom_case_record = "date_of_birth"\n')],
        [('next_step_by = "next_step_by"\n', 'next_step_by = "next_step_by"\nstage_since = "since"\n')],
        [('id = "about"\ntype = "textarea"', 'id = "about"\ntype = "text"'),
         ('id = "next_step"\ntype = "text"', 'id = "next_step"\ntype = "textarea"')],
        [(NOTE, NOTE + 'when = { field = "status", any_of = ["cp", "cin"] }\n')],
        [(NOTE, NOTE + 'when = { field = "needs", any_of = ["health"] }\n')],
    ],
)  # fmt: skip
def test_a_definition_at_each_limit_is_accepted(tmp_path: Path, changes: list[tuple[str, str]]) -> None:
    assert load_file(write(tmp_path, changed(*changes))).id == "t"


# Each kind of bad definition, with the sentence start-up stops with -------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # The checklist as a whole
        ([("version = 1", "version = 0")], "version must be 1 or more"),
        ([after(TOP, "readback_min_characters = 0\n")], "readback_min_characters must be from 1 to 1000"),
        ([after(TOP, "readback_min_characters = 1001\n")], "readback_min_characters must be from 1 to 1000"),
        ([('id = "rec"\ntitle = "Records"', 'id = "sum"\ntitle = "Records"'), ('section = "rec"', 'section = "sum"')],
         "section id 'sum' is used twice; currency: section 'sum': field 'visit' is not in the checklist"),
        # Sections
        ([after(SUMMARY, 'critical_when = { field = "nope", any_of = ["cp"] }\n')],
         "section 'sum': critical_when refers to unknown field 'nope'"),
        ([after(SUMMARY, 'critical_when = { field = "note", any_of = ["cp"] }\n')],
         "section 'sum': critical_when must refer to a radios or checkboxes field, not text 'note'"),
        ([after(SUMMARY, 'critical_when = { field = "status", any_of = ["cp", "lac", "x"] }\n')],
         "section 'sum': critical_when names values that 'status' does not offer: ['lac', 'x']"),
        ([after(SUMMARY, 'critical_when = { field = "status", any_of = [] }\n')],
         "section 'sum': critical_when names values that 'status' does not offer: []"),
        ([('id = "seen"\ntype = "date"', 'id = "visit"\ntype = "date"')],
         "section 'rec': field or group id 'visit' is used twice"),
        ([('id = "what"\ntype = "textarea"', 'id = "risks"\ntype = "textarea"'),
          after(RECORDS, '[[sections.groups]]\nid = "visit"\ntitle = "G"\nrow_label = "R"\n'
                         '[[sections.groups.fields]]\nid = "a"\ntype = "text"\nlabel = "A"\n')],
         "section 'rec': field or group id 'visit' is used twice"),
        # Groups
        ([after(RECORDS, '[[sections.groups]]\nid = "g"\ntitle = "G"\nrow_label = "R"\nfields = []\n')],
         "section 'rec': group 'g': has no fields"),
        ([after(RISK_GROUP, "min_rows = 21\n")],
         "section 'risks': group 'risks': min_rows must be between 0 and max_rows, and max_rows at least 1"),
        ([after(RISK_GROUP, "min_rows = -1\n")],
         "section 'risks': group 'risks': min_rows must be between 0 and max_rows, and max_rows at least 1"),
        ([after(RISK_GROUP, "max_rows = 0\n")],
         "section 'risks': group 'risks': min_rows must be between 0 and max_rows, and max_rows at least 1"),
        ([after(RISK_GROUP, 'when = { field = "what", any_of = ["x"] }\n')],
         "section 'risks': group 'risks': when refers to unknown field 'what'"),
        ([after('label = "Review"\n', '[[sections.groups.fields]]\nid = "what"\ntype = "text"\nlabel = "Again"\n')],
         "section 'risks': group 'risks' field id 'what' is used twice"),
        ([('id = "what"\ntype = "textarea"', 'id = "what"\ntype = "checkboxes"')],
         "section 'risks': group 'risks': field 'what': a checkboxes field needs options"),
        ([('label = "Review"\n', 'label = "Review"\nwhen = { field = "status", any_of = ["cp"] }\n')],
         "section 'risks': group 'risks': field 'review': when refers to unknown field 'status'"),
        # Fields
        ([("id = \"note\"", 'id = "bad id"')], "section 'sum': field 'bad id': ids may hold only letters, digits "
         "and underscores"),
        ([("id = \"note\"", 'id = "_"')],
         "section 'sum': field '_': ids may hold only letters, digits and underscores"),
        ([("id = \"note\"", 'id = "café"')],
         "section 'sum': field 'café': ids may hold only letters, digits and underscores"),
        ([(NOTE, 'id = "note"\ntype = "radios"\nlabel = "Note"\n')], "section 'sum': field 'note': a radios field "
         "needs options"),
        ([(NOTE, NOTE + 'options = [{ value = "a", label = "A" }]\n')],
         "section 'sum': field 'note': only radios and checkboxes take options"),
        ([(NOTE, 'id = "note"\ntype = "date"\nlabel = "Note"\noptions = [{ value = "a", label = "A" }]\n')],
         "section 'sum': field 'note': only radios and checkboxes take options"),
        ([(NOTE, NOTE + "max_length = 0\n")], "section 'sum': field 'note': max_length must be at least 1"),
        ([('{ value = "cin", label = "CIN" }]', '{ value = "cp", label = "CIN" }]')],
         "section 'sum': field 'status' option id 'cp' is used twice"),
        ([(NOTE, NOTE + "not_before_birth = true\n")],
         "section 'sum': field 'note': only a date field can be not_before_birth"),
        ([(NOTE, NOTE + 'from_case_record = "date_of_birth"\n')],
         "section 'sum': field 'note': from_case_record 'date_of_birth' does not fit a text field"),
        ([(NOTE, 'id = "note"\ntype = "textarea"\nlabel = "Note"\nfrom_case_record = "child_name"\n')],
         "section 'sum': field 'note': from_case_record 'child_name' does not fit a textarea field"),
        ([(NOTE, 'id = "note"\ntype = "textarea"\nlabel = "Note"\nfrom_case_record = "reference"\n')],
         "section 'sum': field 'note': from_case_record 'reference' does not fit a textarea field"),
        ([(NOTE, 'id = "note"\ntype = "date"\nlabel = "Note"\nfrom_case_record = "siblings"\n')],
         "section 'sum': field 'note': from_case_record 'siblings' does not fit a date field"),
        ([(NOTE, NOTE + 'when = { field = "note", any_of = ["x"] }\n')],
         "section 'sum': field 'note': a field cannot depend on itself; "
         "section 'sum': field 'note': when must refer to a radios or checkboxes field, not text 'note'"),
        ([(STATUS + "options", STATUS + 'when = { field = "status", any_of = ["cp"] }\noptions')],
         "section 'sum': field 'status': a field cannot depend on itself"),
        ([(NOTE, NOTE + 'when = { field = "status", any_of = [] }\n')],
         "section 'sum': field 'note': when names values that 'status' does not offer: []"),
        ([(NOTE, NOTE + 'when = { field = "needs", any_of = ["health", "sport"] }\n')],
         "section 'sum': field 'note': when names values that 'needs' does not offer: ['sport']"),
        ([(NOTE, NOTE + 'when = { field = "visit", any_of = ["x"] }\n')],
         "section 'sum': field 'note': when refers to unknown field 'visit'"),
        # Time limits on options
        ([('{ value = "cp", label = "CP" }', '{ value = "cp", label = "CP", working_days = 3 }')],
         f"section 'sum': field 'status': option 'cp': {MOVED}"),
        ([('{ value = "school", label = "School" }', '{ value = "school", label = "School", working_days = 3 }'),
          ('{ value = "health", label = "Health" }', '{ value = "health", label = "Health", working_days = 3 }')],
         f"section 'sum': field 'needs': option 'health': {MOVED}"),
        ([('type = "textarea"\nlabel = "What"', 'type = "radios"\nlabel = "What"\n'
           'options = [{ value = "a", label = "A" }, { value = "b", label = "B", working_days = 0 }]')],
         f"section 'risks': group 'risks': field 'what': option 'b': {MOVED}"),
    ],
)  # fmt: skip
def test_a_bad_definition_is_refused_with_its_sentence(
    tmp_path: Path, changes: list[tuple[str, str]], message: str
) -> None:
    assert refusal(tmp_path, *changes) == f"bad.toml: {message}"


# Where disagreements are recorded ------------------------------------------------------------------------------------

WHERE = "disagreements: section 'dis'"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([('section = "dis"', 'section = "nowhere"')],
         "disagreements: section 'nowhere' is not in the checklist"),
        ([('group = "rows"', 'group = "risks"')], f"{WHERE}: group 'risks' is not in that section"),
        ([('about = "about"', 'about = "topic"')], f"{WHERE}: group 'rows': about field 'topic' is not in that group"),
        ([('with_whom = "with_whom"', 'with_whom = "who"'), ('next_step = "next_step"', 'next_step = "then"')],
         f"{WHERE}: group 'rows': with_whom field 'who' is not in that group; "
         f"{WHERE}: group 'rows': next_step field 'then' is not in that group"),
        ([('about = "about"', 'about = ""'), ('with_whom = "with_whom"', 'with_whom = "who"')],
         f"{WHERE}: group 'rows': about field '' is not in that group; "
         f"{WHERE}: group 'rows': with_whom field 'who' is not in that group"),
        ([('stage = "stage"', 'stage = ""')], f"{WHERE}: group 'rows': stage field '' is not in that group"),
        ([('next_step_by = "next_step_by"\n', 'next_step_by = "next_step_by"\nstage_since = "when"\n')],
         f"{WHERE}: group 'rows': stage_since field 'when' is not in that group"),
        ([('id = "about"\ntype = "textarea"', 'id = "about"\ntype = "date"')],
         f"{WHERE}: field 'about': about must be a text or textarea field"),
        ([('id = "with_whom"\ntype = "text"', 'id = "with_whom"\ntype = "textarea"')],
         f"{WHERE}: field 'with_whom': with_whom must be a text field"),
        ([('id = "stage"\ntype = "radios"', 'id = "stage"\ntype = "checkboxes"')],
         f"{WHERE}: field 'stage': stage must be a radios field"),
        ([('id = "next_step"\ntype = "text"', 'id = "next_step"\ntype = "date"')],
         f"{WHERE}: field 'next_step': next_step must be a text or textarea field"),
        ([('id = "next_step_by"\ntype = "date"', 'id = "next_step_by"\ntype = "text"')],
         f"{WHERE}: field 'next_step_by': next_step_by must be a date field"),
        ([('next_step_by = "next_step_by"\n', 'next_step_by = "next_step_by"\nstage_since = "about"\n')],
         f"{WHERE}: field 'about': stage_since must be a date field"),
        ([(STAGE_OPTIONS, STAGE_OPTIONS.replace('label = "Manager"', 'label = "Manager", working_days = 5'))],
         f"section 'dis': group 'rows': field 'stage': option 'manager': {MOVED}"),
        ([(STAGE_OPTIONS, STAGE_OPTIONS.replace('label = "Informal"', 'label = "Informal", working_days = 0'))],
         f"section 'dis': group 'rows': field 'stage': option 'informal': {MOVED}"),
    ],
)  # fmt: skip
def test_disagreement_rows_that_do_not_fit_are_refused(
    tmp_path: Path, changes: list[tuple[str, str]], message: str
) -> None:
    assert refusal(tmp_path, *changes) == f"bad.toml: {message}"


# Currency rules ------------------------------------------------------------------------------------------------------

VISIT = "currency: section 'rec': field 'visit'"
REVIEW = "currency: section 'risks': group 'risks': field 'review'"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([('section = "rec"\nfield = "visit"', 'section = "nowhere"\nfield = "visit"')],
         "currency: section 'nowhere': field 'visit' is not in the checklist"),
        ([('section = "rec"\nfield = "visit"', 'section = "rec"\nfield = "gone"')],
         "currency: section 'rec': field 'gone' is not in the checklist"),
        ([('section = "rec"\nfield = "visit"', 'section = "rec"\ngroup = "risks"\nfield = "visit"')],
         "currency: section 'rec': group 'risks': field 'visit' is not in the checklist"),
        ([(RISK_RULE, 'section = "risks"\nfield = "review"\nnot_past = true\n')],
         "currency: section 'risks': field 'review' is not in the checklist"),
        ([(RISK_RULE, 'section = "rec"\ngroup = "risks"\nfield = "visit"\nnot_past = true\n')],
         "currency: section 'rec': group 'risks': field 'visit' is not in the checklist"),
        ([(RISK_RULE, 'section = "nowhere"\ngroup = "risks"\nfield = "review"\nnot_past = true\n')],
         "currency: section 'nowhere': group 'risks': field 'review' is not in the checklist"),
        ([(RISK_RULE, 'section = "risks"\ngroup = "what"\nfield = "review"\nnot_past = true\n')],
         "currency: section 'risks': group 'what': field 'review' is not in the checklist"),
        ([(RISK_RULE, 'section = "risks"\ngroup = "risks"\nfield = "what"\nnot_past = true\n')],
         "currency: section 'risks': group 'risks': field 'what': only a date field can have a currency rule"),
        ([('section = "rec"\nfield = "visit"', 'section = "sum"\nfield = "note"')],
         "currency: section 'sum': field 'note': only a date field can have a currency rule"),
        ([("within = 1\n", "")], f"{VISIT}: give either within (with its unit) or not_past = true"),
        ([("within = 1\n", "within = 1\nnot_past = true\n")],
         f"{VISIT}: give either within (with its unit) or not_past = true"),
        ([("within = 1\n", "within = 1\nnot_past = false\n")], None),
        ([(RISK_RULE, RISK_RULE.replace("not_past = true", "not_past = false"))],
         f"{REVIEW}: give either within (with its unit) or not_past = true"),
        ([("within = 1\n", "within = 0\n")], f"{VISIT}: within must be 1 or more"),
        ([("within = 1\n", "within = -3\n")], f"{VISIT}: within must be 1 or more"),
        ([('what = "The last visit was"', 'what = "  "')], f"{VISIT}: what and source must be given"),
        ([('source = "procedures"', 'source = ""')], f"{VISIT}: what and source must be given"),
        ([(VISIT_RULE, 'when = { section = "nowhere", field = "status", any_of = ["cp"] }\n')],
         f"{VISIT}: when must name a radios or checkboxes field of a section"),
        ([(VISIT_RULE, 'when = { section = "rec", field = "status", any_of = ["cp"] }\n')],
         f"{VISIT}: when must name a radios or checkboxes field of a section"),
        ([(VISIT_RULE, 'when = { section = "sum", field = "note", any_of = ["cp"] }\n')],
         f"{VISIT}: when must name a radios or checkboxes field of a section"),
        ([(VISIT_RULE, 'when = { section = "risks", field = "what", any_of = ["cp"] }\n')],
         f"{VISIT}: when must name a radios or checkboxes field of a section"),
        ([(VISIT_RULE, 'when = { section = "sum", field = "status", any_of = ["cp", "lac"] }\n')],
         f"{VISIT}: when names values that 'status' does not offer"),
        ([(VISIT_RULE, 'when = { section = "sum", field = "status", any_of = [] }\n')],
         f"{VISIT}: when names values that 'status' does not offer"),
        ([(RISK_RULE, 'section = "rec"\nfield = "visit"\nwithin = 2\nwhen = { section = "sum", field = "status", '
                      'any_of = ["cp"] }\n')],
         "currency rule id 'rec.visit.cp' is used twice"),
    ],
)  # fmt: skip
def test_currency_rules_that_cannot_be_judged_are_refused(
    tmp_path: Path, changes: list[tuple[str, str]], message: str | None
) -> None:
    if message is None:
        assert load_file(write(tmp_path, changed(*changes))).currency[0].within == 1
    else:
        assert refusal(tmp_path, *changes) == f"bad.toml: {message}"


def test_every_problem_is_listed_in_one_message(tmp_path: Path) -> None:
    assert refusal(
        tmp_path,
        ("version = 1", "version = 0"),
        after(TOP, "readback_min_characters = 0\n"),
        ("within = 1\n", "within = 0\n"),
        (NOTE, NOTE + "max_length = 0\n"),
    ) == (
        "bad.toml: version must be 1 or more; readback_min_characters must be from 1 to 1000; "
        "section 'sum': field 'note': max_length must be at least 1; "
        "currency: section 'rec': field 'visit': within must be 1 or more"
    )


def test_a_checklist_without_sections_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'id = "t"\nversion = 2\ntitle = "T"\nsections = []\n')
    with pytest.raises(ChecklistError) as raised:
        load_file(path)
    assert str(raised.value) == "bad.toml: there are no sections"


def test_a_section_without_fields_or_groups_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'id = "t"\nversion = 2\ntitle = "T"\n[[sections]]\nid = "s"\ntitle = "S"\n')
    with pytest.raises(ChecklistError) as raised:
        load_file(path)
    assert str(raised.value) == "bad.toml: section 's': has no fields"


# What the definition's types refuse, located in the file -------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ([('title = "Test"\n', "")], "Object missing required field `title`"),
        ([after(TOP, "colour = 1\n")], "Object contains unknown field `colour`"),
        ([("version = 1", 'version = "1"')], "Expected `int`, got `str` (in 'version')"),
        ([('section = "dis"', "section = 1")], "Expected `str`, got `int` (in 'section')"),
        ([('id = "what"\ntype = "textarea"', 'id = "what"\ntype = "colour"')],
         "section 'risks': group 'risks': field 'what': Invalid enum value 'colour' (in 'type')"),
        ([('id = "what"\ntype = "textarea"\nlabel = "What"', 'id = "what"\ntype = "textarea"\nlable = "What"')],
         "section 'risks': group 'risks': field 'what': Object contains unknown field `lable`"),
        ([('label = "Manager" }', 'label = "Manager", working_days = "1" }')],
         "section 'dis': group 'rows': field 'stage': option 'manager': Expected `int | null`, got `str` "
         "(in 'working_days')"),
        ([('value = "manager", label = "Manager"', 'value = "manager"')],
         "section 'dis': group 'rows': field 'stage': option 'manager': Object missing required field `label`"),
        ([('unit = "working_days"', 'unit = "weeks"')], "currency '0': Invalid enum value 'weeks' (in 'unit')"),
        ([(NOTE, NOTE + 'when = { field = "status", any_of = [1] }\n')],
         "section 'sum': field 'note': any_of '0': Expected `str`, got `int`"),
        ([("[[sections]]\nid = \"rec\"\ntitle = \"Records\"", '[[sections]]\ntitle = "Records"')],
         "section '1': Object missing required field `id`"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_kind_is_refused_naming_where_it_is(
    tmp_path: Path, changes: list[tuple[str, str]], message: str
) -> None:
    assert refusal(tmp_path, *changes) == f"bad.toml: {message}"


def test_sections_of_the_wrong_kind_are_refused(tmp_path: Path) -> None:
    for text, message in [
        ('id = "t"\nversion = 1\ntitle = "T"\nsections = "none"\n', "Expected `array`, got `str`"),
        ('id = "t"\nversion = 1\ntitle = "T"\nsections = ["s"]\n', "section '0': Expected `object`, got `str`"),
        (
            'id = "t"\nversion = 1\ntitle = "T"\n[[sections]]\nid = "s"\ntitle = "S"\nfields = "f"\n',
            "section 's': Expected `array`, got `str`",
        ),
        (
            'id = "t"\nversion = 1\ntitle = "T"\n[[sections]]\nid = "s"\ntitle = "S"\ngroups = "g"\n',
            "section 's': Expected `array`, got `str`",
        ),
        (
            'id = "t"\nversion = 1\ntitle = "T"\n[[sections]]\nid = "s"\ntitle = "S"\n[[sections.fields]]\n'
            'id = "f"\ntype = "radios"\nlabel = "F"\noptions = "o"\n',
            "section 's': field 'f': Expected `array`, got `str`",
        ),
    ]:
        with pytest.raises(ChecklistError) as raised:
            load_file(write(tmp_path, text))
        assert str(raised.value) == f"bad.toml: {message}"


# Reading files and folders -------------------------------------------------------------------------------------------


def test_a_file_that_is_not_toml_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError) as raised:
        load_file(write(tmp_path, "id = = 1"))
    assert str(raised.value) == "bad.toml: cannot be read: Invalid value (at line 1, column 6)"


def test_a_file_that_is_not_utf8_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('title = "café"\n'.encode("latin-1"))
    with pytest.raises(ChecklistError) as raised:
        load_file(path)
    assert str(raised.value).startswith("latin.toml: cannot be read: 'utf-8' codec can't decode byte 0xe9")


def test_a_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError) as raised:
        load_file(tmp_path / "gone.toml")
    assert str(raised.value).startswith("gone.toml: cannot be read: [Errno 2] No such file or directory")


def test_a_folder_without_definitions_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a checklist", encoding="utf-8")
    with pytest.raises(ChecklistError) as raised:
        load_all(tmp_path)
    assert str(raised.value) == f"{tmp_path}: no checklist definitions (*.toml) found"


TIME_LIMITS = """
version = 1
[waits]
endorsement = 5
acknowledgement = 10
approval = 10
reply = 5
transfer = 28
urgent_completion = 2
[escalation]
informal = 3
manager = 1
"""


def with_time_limits(folder: Path, text: str = TIME_LIMITS) -> Path:
    """The folder with a time-limits file beside its checklists, as the shipped folder has."""
    (folder / "time-limits").mkdir(exist_ok=True)
    (folder / "time-limits" / "time-limits-v1.toml").write_text(text, encoding="utf-8")
    return folder


def test_each_stages_limit_comes_from_the_time_limits_file(tmp_path: Path) -> None:
    (with_time_limits(tmp_path) / "a.toml").write_text(BASE, encoding="utf-8")
    loaded = load_all(tmp_path)[("t", 1)]
    assert [(option.value, option.working_days) for option in loaded.escalation_ladder] == [
        ("informal", 3),
        ("manager", 1),
    ]
    assert loaded.time_limits is not None and loaded.time_limits.waits.transfer == 28


def test_a_stage_without_a_limit_stops_start_up_naming_both_files(tmp_path: Path) -> None:
    (with_time_limits(tmp_path, TIME_LIMITS.replace("manager = 1\n", "")) / "a.toml").write_text(BASE, encoding="utf-8")
    with pytest.raises(ChecklistError) as raised:
        load_all(tmp_path)
    assert str(raised.value) == (
        "time-limits-v1.toml: [escalation]: no limit for stage 'manager', which t version 1 offers "
        "(section 'dis', field 'stage')"
    )


def test_a_folder_without_time_limits_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(BASE, encoding="utf-8")
    with pytest.raises(ChecklistError) as raised:
        load_all(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'time-limits'}: no time limits (*.toml) found"


def test_a_checklist_cannot_carry_time_limits_of_its_own(tmp_path: Path) -> None:
    assert refusal(tmp_path, (TOP, TOP + "[time_limits]\nversion = 1\n")) == (
        "bad.toml: time_limits: time limits live in checklists/time-limits/, not here"
    )


def test_the_same_version_in_two_files_is_refused_naming_the_second(tmp_path: Path) -> None:
    with_time_limits(tmp_path)
    (tmp_path / "a.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(BASE, encoding="utf-8")
    with pytest.raises(ChecklistError) as raised:
        load_all(tmp_path)
    assert str(raised.value) == "b.toml: t version 1 is defined twice"


def test_every_version_in_the_folder_is_loaded_by_id_and_version(tmp_path: Path) -> None:
    with_time_limits(tmp_path)
    (tmp_path / "a.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "b.toml").write_text(BASE.replace("version = 1", "version = 3"), encoding="utf-8")
    (tmp_path / "c.toml").write_text(BASE.replace('id = "t"\n', 'id = "u"\n', 1), encoding="utf-8")
    loaded = load_all(tmp_path)
    assert sorted(loaded) == [("t", 1), ("t", 3), ("u", 1)]
    assert loaded[("t", 3)].version == 3


def test_the_shipped_checklists_load(tmp_path: Path) -> None:
    loaded = load_all(PROJECT_ROOT / "checklists")
    assert sorted(loaded) == [("case-transfer", 1), ("case-transfer", 2), ("case-transfer", 3), ("case-transfer", 4)]
    first, second = loaded[("case-transfer", 1)], loaded[("case-transfer", 2)]
    assert (first.readback_min_characters, second.readback_min_characters) == (20, 30)
    assert [section.id for section in second.sections] == [
        "case-summary",
        "record-currency",
        "open-risks",
        "sibling-harm",
        "parenting-capacity",
        "cp-category",
        "childs-views",
        "network",
        "actions",
        "disagreements",
        "arrangements",
    ]
    assert first.currency == []
    assert [rule.key for rule in second.currency] == [
        "record-currency.chronology_updated",
        "record-currency.last_visit.cp_plan",
        "record-currency.last_visit.looked_after.section_20",
        "record-currency.last_visit.cin",
        "record-currency.assessment_date",
        "record-currency.plan_date",
        "open-risks.risks.review_date",
    ]
    assert [(option.value, option.working_days) for option in second.escalation_ladder] == [
        ("informal", 5),
        ("manager", 5),
        ("head_of_service", 5),
        ("safeguarding_partnership", 14),
    ]
