"""Checklist definitions: the data in `checklists/*.toml`, decoded into typed records.

A definition says which sections a handover has, which fields each holds, which are mandatory, which sections are
critical (the receiving worker must confirm them), and the conditional rules that tie fields together. Definitions
are checked when the service starts; a bad file stops start-up with a message naming the file, section and field.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from service.letters import Letters, LettersError
from service.letters import load_latest as load_letters
from service.time_limits import TimeLimits, TimeLimitsError, load_latest

FieldType = Literal["text", "textarea", "date", "radios", "checkboxes", "email"]  # email: one work address
# What a field restates from the child's case record; the answer must agree with the record (see core.answers).
CaseRecordItem = Literal["child_name", "date_of_birth", "reference", "siblings"]
_RECORD_ITEM_TYPES: dict[str, tuple[str, ...]] = {
    "child_name": ("text",),
    "date_of_birth": ("date",),
    "reference": ("text",),
    "siblings": ("text", "textarea"),
}
CHOICE_TYPES = ("radios", "checkboxes")
# Where a choice field's options come from besides its own: "sibling_group", the children of the child's sibling group
# on the case record (the child too), each offered by name and chosen by reference (`Checklist.for_children`).
OptionsFrom = Literal["sibling_group"]
# Whether a section is answered once for each child, or once for a sibling group's handover (the same answers stored
# for every child in it).
Level = Literal["child", "family"]


class ChecklistError(Exception):
    """A checklist definition that cannot be used."""


class Condition(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Holds when the named field's answer is (or, for checkboxes, includes) one of `any_of`."""

    field: str
    any_of: list[str]

    def holds(self, values: dict[str, str | list[str]]) -> bool:
        answer = values.get(self.field, "")
        chosen = answer if isinstance(answer, list) else [answer]
        return any(value in self.any_of for value in chosen)


class Option(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    value: str
    label: str
    hint: str = ""
    # On the escalation stage of a professional disagreement only: how long a disagreement may stay at this stage,
    # in working days, before it shows as overdue. Filled by `load_all` from the time-limits file, which holds every
    # limit; a checklist file that sets it is refused.
    working_days: int | None = None


class Field(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    id: str
    type: FieldType
    label: str
    hint: str = ""
    required: bool = True
    max_length: int = 2000
    options: list[Option] = []
    when: Condition | None = None
    not_in_future: bool = False
    not_before_birth: bool = False  # a visit to or contact with the child: not before their date of birth
    from_case_record: CaseRecordItem | None = None  # filled from the case record, and must agree with it
    options_from: OptionsFrom | None = None  # options added from the case record, before the field's own
    message: str = ""  # shown when a mandatory answer is missing; a default is derived from the label

    @property
    def option_values(self) -> list[str]:
        return [option.value for option in self.options]

    def option_label(self, value: str) -> str:
        return next((option.label for option in self.options if option.value == value), value)


class Group(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A repeatable part of a section: one row per risk, incident, contact..."""

    id: str
    title: str
    row_label: str
    hint: str = ""
    fields: list[Field]
    min_rows: int = 0
    max_rows: int = 20
    when: Condition | None = None
    message: str = ""  # shown when fewer than `min_rows` rows are given

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


class Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    id: str
    title: str
    summary: str = ""
    critical: bool = False
    critical_when: Condition | None = None
    level: Level = "child"  # "family": answered once for a sibling group, the same for every child in it
    why: str = ""  # "why this matters": the learning from reviews, shown on critical sections
    fields: list[Field] = []
    groups: list[Group] = []

    def field(self, field_id: str) -> Field | None:
        return next((f for f in self.fields if f.id == field_id), None)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)


class DisagreementRows(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Where the checklist records professional disagreements, and which field of each row says what: each row
    becomes a tracked disagreement when the handover is submitted, and the `stage` field's options, in order, are the
    escalation ladder, each with its time limit in working days from the time-limits file (`Option.working_days`)."""

    section: str
    group: str
    about: str
    with_whom: str
    stage: str
    next_step: str
    next_step_by: str
    stage_since: str = ""  # a date field: when it reached its stage (else its time counts from the submission)


class AgencyRows(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Where the checklist lists the professionals on the child's plan, and which field of each row says what: each
    row becomes an agency contact when the handover is submitted, who must be told of the change of worker (by the
    service's e-mail, or another way the worker records) or have the reason why not recorded before it closes."""

    section: str
    group: str
    agency: str  # a radios field: which agency
    name: str  # a text field: the professional's name
    role: str  # a text field: their role
    email: str  # an email field: where the service tells them (may be optional: then they are told another way)


class Telling(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Who must be told of the change of worker before the transfer closes (Bexley, Guernsey and Rochdale
    procedures: the child and family are told in advance, with a letter naming the new worker; every professional on
    the plan is told). `family`: someone in the family (or the child) has been told, or the reason why not is
    recorded; `agencies`: every professional the checklist lists. `acknowledgement_link_days`: how long, in calendar
    days, the link in an agency's e-mail lets them acknowledge it."""

    family: bool = True
    agencies: AgencyRows | None = None
    acknowledgement_link_days: int = 28


class AnswerCondition(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Holds when a choice answered in another section is (or includes) one of `any_of`: for example, the child's
    legal status in the case summary."""

    section: str
    field: str
    any_of: list[str]


CurrencyUnit = Literal["calendar_days", "working_days", "months"]


class CurrencyRule(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """How recent a record must be when the case moves (`within` units before the day it is judged), or a date that
    must not have passed (`not_past`, a review date); for a date field of a section or of a repeatable group's rows,
    only while `when` holds (procedures differ by legal status). `what` names the record in a flag; `source` is the
    procedure or guidance the limit follows."""

    section: str
    field: str
    group: str = ""
    within: int | None = None
    unit: CurrencyUnit = "calendar_days"
    not_past: bool = False
    when: AnswerCondition | None = None
    what: str
    source: str

    @property
    def key(self) -> str:
        """Names the rule in forms and stored flags: section, group (if any), field and, for a conditional rule, the
        values it applies to."""
        parts = [self.section, self.group, self.field, *(self.when.any_of if self.when else [])]
        return ".".join(part for part in parts if part)


class Checklist(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    id: str
    version: int
    title: str
    sections: list[Section]
    disagreements: DisagreementRows | None = None
    # Who must be told before the transfer closes; None (versions 1 to 3): the checklist's own answers say it
    telling: Telling | None = None
    # The receiving worker confirms every critical section in their own words: a read-back shorter than this cannot
    # say what was taken on.
    readback_min_characters: int = 20
    currency: list[CurrencyRule] = []  # how up to date records must be: judged at submission and at approval
    # Every wait's time limit, from the time-limits file (`load_all` sets it; a checklist file may not)
    time_limits: TimeLimits | None = None
    # The newest letters to the child and family (`service.letters`, from the folder's `letters/`): `load_all` sets it
    # for a version that records they were told (`telling.family`); a checklist file may not
    letters: Letters | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def family_sections(self) -> list[Section]:
        """The sections answered once for a sibling group (none in a version without levels)."""
        return [s for s in self.sections if s.level == "family"]

    def for_children(self, children: tuple[tuple[str, str], ...]) -> Checklist:
        """This definition as one child's handover uses it: each `options_from = "sibling_group"` field offers
        `children` (name, reference: the child and the rest of their sibling group on the case record) before its
        own options, so that only a child of the group, or one of the field's own options, can be chosen."""
        if not children or not any(f.options_from for s in self.sections for g in s.groups for f in g.fields):
            return self
        return _with_children(self, tuple(sorted(children, key=lambda child: (child[0], child[1]))))

    def disagreement_field(self, name: str) -> Field | None:
        """The field of a disagreement row that says `name` (about, with_whom, stage, next_step, next_step_by)."""
        rows = self.disagreements
        section = self.section(rows.section) if rows else None
        group = section.group(rows.group) if rows and section else None
        if rows is None or group is None:
            return None
        return next((f for f in group.fields if f.id == getattr(rows, name)), None)

    def agency_field(self, name: str) -> Field | None:
        """The field of an agency contact row that says `name` (agency, name, role, email)."""
        rows = self.telling.agencies if self.telling else None
        section = self.section(rows.section) if rows else None
        group = section.group(rows.group) if rows and section else None
        if rows is None or group is None:
            return None
        return next((f for f in group.fields if f.id == getattr(rows, name)), None)

    @property
    def escalation_ladder(self) -> list[Option]:
        """The escalation stages in order, lowest first, each with its time limit; [] without a disagreements
        section."""
        stage = self.disagreement_field("stage")
        return list(stage.options) if stage else []


# Each definition as expanded for a sibling group, kept (with the definition, so its id stays its own) because every
# load of a handover in the group asks again.
_EXPANDED: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[Checklist, Checklist]] = {}


def _with_children(checklist: Checklist, children: tuple[tuple[str, str], ...]) -> Checklist:
    kept = _EXPANDED.get((id(checklist), children))
    if kept is not None and kept[0] is checklist:
        return kept[1]
    if len(_EXPANDED) > 1024:
        _EXPANDED.clear()
    offered = [Option(value=reference, label=f"{name} ({reference})") for name, reference in children]

    def expand(field: Field) -> Field:
        if field.options_from != "sibling_group":
            return field
        own = [option for option in field.options if option.value not in {o.value for o in offered}]
        return msgspec.structs.replace(field, options=[*offered, *own])

    sections = [
        msgspec.structs.replace(
            section,
            fields=[expand(f) for f in section.fields],
            groups=[msgspec.structs.replace(g, fields=[expand(f) for f in g.fields]) for g in section.groups],
        )
        for section in checklist.sections
    ]
    expanded = msgspec.structs.replace(checklist, sections=sections)
    _EXPANDED[(id(checklist), children)] = (checklist, expanded)
    return expanded


def load_file(path: Path) -> Checklist:
    """Read and check one definition file; every problem names the file and where in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecklistError(f"{path.name}: cannot be read: {exc}") from exc
    return _checked(path.name, text)


# A definition is parsed and checked once per process for the same name and text: every app the process makes (the
# test suite makes thousands, each reading the same files) shares the result. Checklists are never changed in place
# (`msgspec.structs.replace` makes each variant), and a failed check is raised again, never kept.
@functools.lru_cache(maxsize=64)
def _checked(name: str, text: str) -> Checklist:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChecklistError(f"{name}: cannot be read: {exc}") from exc
    if "time_limits" in raw:
        raise ChecklistError(f"{name}: time_limits: time limits live in checklists/time-limits/, not here")
    if "letters" in raw:
        raise ChecklistError(f"{name}: letters: the letters' texts live in checklists/letters/, not here")
    try:
        checklist = msgspec.convert(raw, Checklist)
    except msgspec.ValidationError as exc:
        raise ChecklistError(f"{name}: {_locate(raw, str(exc))}") from exc
    problems = check_definition(checklist)
    if problems:
        raise ChecklistError(f"{name}: " + "; ".join(problems))
    return checklist


def load_all(directory: Path) -> dict[tuple[str, int], Checklist]:
    """Every definition in the folder, keyed by (id, version); all versions are kept for older handovers. Each carries
    the newest time limits (`service.time_limits`, from the folder's `time-limits/`), its escalation stages' limits
    filled in from them: `ChecklistError` when a stage of any version has no limit there, naming both files. A version
    that records the child and family were told also carries the newest letters to them (`_letters_for`, from the
    folder's `letters/`); a bad letters file, or none for such a version, is a `ChecklistError` too."""
    checklists: dict[tuple[str, int], Checklist] = {}
    for path in sorted(directory.glob("*.toml")):
        checklist = load_file(path)
        if checklist.key in checklists:
            raise ChecklistError(f"{path.name}: {checklist.id} version {checklist.version} is defined twice")
        checklists[checklist.key] = checklist
    if not checklists:
        raise ChecklistError(f"{directory}: no checklist definitions (*.toml) found")
    try:
        limits_file, limits = load_latest(directory)
    except TimeLimitsError as exc:
        raise ChecklistError(str(exc)) from exc
    offered = {option.value for checklist in checklists.values() for option in checklist.escalation_ladder}
    unknown = sorted(set(limits.escalation) - offered)
    if unknown:  # a misspelt stage would leave the real one without its limit, or limit nothing
        raise ChecklistError(
            f"{limits_file.name}: [escalation]: field {unknown[0]!r}: no checklist offers this stage "
            f"(the stages offered: {', '.join(sorted(offered))})"
        )
    letters = _letters_for(directory, checklists)
    return {
        key: msgspec.structs.replace(
            with_time_limits(checklist, limits, limits_file.name), letters=letters if _tells_family(checklist) else None
        )
        for key, checklist in checklists.items()
    }


def _tells_family(checklist: Checklist) -> bool:
    """Whether this version records that the child and family were told (`[telling]`), the versions with letters."""
    return checklist.telling is not None and checklist.telling.family


def _letters_for(directory: Path, checklists: dict[tuple[str, int], Checklist]) -> Letters | None:
    """The newest letters (`service.letters`), checked against every checklist version that has the family told
    (`[telling]`): such a version needs letters, and the letters' `[joint_visit]` must name a choice and a date it
    asks. `ChecklistError` naming the letters file otherwise; None when no version tells the family and there are
    none."""
    try:
        found = load_letters(directory)
    except LettersError as exc:
        raise ChecklistError(str(exc)) from exc
    telling = [c for c in checklists.values() if _tells_family(c)]
    if found is None:
        if telling:
            raise ChecklistError(
                f"{directory / 'letters'}: no letters (*.toml) found: {telling[0].id} version {telling[0].version} "
                "has the child and family told, with a letter"
            )
        return None
    path, letters = found
    where = letters.joint_visit
    for checklist in telling:
        section = checklist.section(where.section)
        choice = section.field(where.field) if section else None
        day = section.field(where.date) if section else None
        named = f"{checklist.id} version {checklist.version}"
        if section is None:
            problem = f"field 'section': {named} has no section {where.section!r}"
        elif choice is None:
            problem = f"field 'field': {named} has no field {where.field!r} in {where.section!r}"
        elif where.value not in {option.value for option in choice.options}:
            problem = f"field 'value': in {named}, {where.section!r} field {where.field!r} offers no {where.value!r}"
        elif day is None or day.type != "date":
            problem = f"field 'date': {named} has no date field {where.date!r} in {where.section!r}"
        else:
            continue
        raise ChecklistError(f"{path.name}: [joint_visit]: {problem}")
    return letters


def with_time_limits(checklist: Checklist, limits: TimeLimits, limits_file: str = "time limits") -> Checklist:
    """The checklist carrying `limits`, each escalation stage's limit filled in from `limits.escalation`;
    `ChecklistError` naming the checklist's section and field when a stage has none."""
    stage = checklist.disagreement_field("stage")
    if stage is None:
        return msgspec.structs.replace(checklist, time_limits=limits)
    missing = [option.value for option in stage.options if limits.stage_limit(option.value) is None]
    if missing:
        rows = checklist.disagreements
        assert rows is not None, "a checklist with a stage field has disagreement rows"
        raise ChecklistError(
            f"{limits_file}: [escalation]: no limit for stage {missing[0]!r}, which {checklist.id} version "
            f"{checklist.version} offers (section {rows.section!r}, field {rows.stage!r})"
        )
    timed = msgspec.structs.replace(
        stage, options=[msgspec.structs.replace(o, working_days=limits.stage_limit(o.value)) for o in stage.options]
    )

    def timed_field(field: Field) -> Field:
        return timed if field is stage else field

    sections = [
        msgspec.structs.replace(
            section,
            fields=[timed_field(f) for f in section.fields],
            groups=[msgspec.structs.replace(g, fields=[timed_field(f) for f in g.fields]) for g in section.groups],
        )
        for section in checklist.sections
    ]
    return msgspec.structs.replace(checklist, sections=sections, time_limits=limits)


def latest(checklists: dict[tuple[str, int], Checklist], checklist_id: str) -> Checklist:
    versions = [c for c in checklists.values() if c.id == checklist_id]
    if not versions:
        raise ChecklistError(f"no checklist called {checklist_id!r}")
    return max(versions, key=lambda c: c.version)


def _locate(raw: dict[str, Any], message: str) -> str:
    """Turn msgspec's '... - at `$.sections[2].fields[0].type`' into "section 'x': field 'y': ... (at type)"."""
    text, _, where = message.partition(" - at `$")
    steps = re.findall(r"\.(\w+)|\[(\d+)\]", where.rstrip("`"))
    names: list[str] = []
    node: Any = raw
    key = ""
    for name, index in steps:
        if name:
            key, node = name, node.get(name) if isinstance(node, dict) else None
        elif isinstance(node, list) and int(index) < len(node):
            node = node[int(index)]
            label = {"sections": "section", "fields": "field", "groups": "group", "options": "option"}.get(key, key)
            ident = node.get("id", node.get("value", index)) if isinstance(node, dict) else index
            names.append(f"{label} {ident!r}")
    last = steps[-1][0] if steps and steps[-1][0] not in ("sections", "fields", "groups", "options") else ""
    return ": ".join([*names, f"{text}" + (f" (in {last!r})" if last else "")])


def check_definition(checklist: Checklist) -> list[str]:
    problems: list[str] = []
    if checklist.version < 1:
        problems.append("version must be 1 or more")
    if not 1 <= checklist.readback_min_characters <= 1000:
        problems.append("readback_min_characters must be from 1 to 1000")
    if not checklist.sections:
        problems.append("there are no sections")
    _check_unique([s.id for s in checklist.sections], "section", problems)
    for section in checklist.sections:
        problems.extend(f"section {section.id!r}: {p}" for p in _check_section(section))
    if checklist.disagreements is not None:
        problems.extend(_check_disagreement_rows(checklist, checklist.disagreements))
    if checklist.telling is not None:
        problems.extend(_check_telling(checklist, checklist.telling))
    for rule in checklist.currency:
        problems.extend(_check_currency_rule(checklist, rule))
    _check_unique([rule.key for rule in checklist.currency], "currency rule", problems)
    for section in checklist.sections:
        for field, where in [(f, "") for f in section.fields] + [
            (f, f"group {g.id!r}: ") for g in section.groups for f in g.fields
        ]:
            timed = [o.value for o in field.options if o.working_days is not None]
            if timed:
                problems.append(
                    f"section {section.id!r}: {where}field {field.id!r}: option {timed[0]!r}: working_days: "
                    "time limits live in checklists/time-limits/, not in a checklist"
                )
    return problems


# What each part of a disagreement row may be: the text a tracked disagreement holds, a stage, a date.
_DISAGREEMENT_TYPES = {"about": ("text", "textarea"), "with_whom": ("text",), "stage": ("radios",),
                       "next_step": ("text", "textarea"), "next_step_by": ("date",),
                       "stage_since": ("date",)}  # fmt: skip


def _check_disagreement_rows(checklist: Checklist, rows: DisagreementRows) -> list[str]:
    section = checklist.section(rows.section)
    where = f"disagreements: section {rows.section!r}"
    if section is None:
        return [f"{where} is not in the checklist"]
    if section.group(rows.group) is None:
        return [f"{where}: group {rows.group!r} is not in that section"]
    problems: list[str] = []
    for name, types in _DISAGREEMENT_TYPES.items():
        if name == "stage_since" and not rows.stage_since:
            continue  # only stage_since may be left out
        field = checklist.disagreement_field(name)
        if field is None:
            problems.append(f"{where}: group {rows.group!r}: {name} field {getattr(rows, name)!r} is not in that group")
        elif field.type not in types:
            problems.append(f"{where}: field {field.id!r}: {name} must be a {' or '.join(types)} field")
    return problems


_AGENCY_TYPES = {"agency": ("radios",), "name": ("text",), "role": ("text",), "email": ("email",)}


def _check_telling(checklist: Checklist, telling: Telling) -> list[str]:
    problems: list[str] = []
    if not 1 <= telling.acknowledgement_link_days <= 90:
        problems.append("telling: acknowledgement_link_days must be from 1 to 90")
    rows = telling.agencies
    if rows is None:
        return problems
    section = checklist.section(rows.section)
    where = f"telling: agencies: section {rows.section!r}"
    if section is None:
        return [*problems, f"{where} is not in the checklist"]
    if section.group(rows.group) is None:
        return [*problems, f"{where}: group {rows.group!r} is not in that section"]
    for name, types in _AGENCY_TYPES.items():
        field = checklist.agency_field(name)
        if field is None:
            problems.append(f"{where}: group {rows.group!r}: {name} field {getattr(rows, name)!r} is not in that group")
        elif field.type not in types:
            problems.append(f"{where}: field {field.id!r}: {name} must be a {' or '.join(types)} field")
    return problems


def _check_currency_rule(checklist: Checklist, rule: CurrencyRule) -> list[str]:
    where = f"currency: section {rule.section!r}: " + (f"group {rule.group!r}: " if rule.group else "")
    where += f"field {rule.field!r}"
    section = checklist.section(rule.section)
    group = section.group(rule.group) if section and rule.group else None
    fields = (group.fields if group else []) if rule.group else (section.fields if section else [])
    field = next((f for f in fields if f.id == rule.field), None)
    problems: list[str] = []
    if field is None:
        problems.append(f"{where} is not in the checklist")
    elif field.type != "date":
        problems.append(f"{where}: only a date field can have a currency rule")
    if (rule.within is None) == (not rule.not_past):
        problems.append(f"{where}: give either within (with its unit) or not_past = true")
    if rule.within is not None and rule.within < 1:
        problems.append(f"{where}: within must be 1 or more")
    if not rule.what.strip() or not rule.source.strip():
        problems.append(f"{where}: what and source must be given")
    if rule.when is not None:
        asked = checklist.section(rule.when.section)
        target = asked.field(rule.when.field) if asked else None
        if target is None or target.type not in CHOICE_TYPES:
            problems.append(f"{where}: when must name a radios or checkboxes field of a section")
        elif [v for v in rule.when.any_of if v not in target.option_values] or not rule.when.any_of:
            problems.append(f"{where}: when names values that {rule.when.field!r} does not offer")
    return problems


def _check_section(section: Section) -> list[str]:
    problems: list[str] = []
    if not section.fields and not section.groups:
        problems.append("has no fields")
    if section.level == "family":
        # a family section's answers are the same for every child, so none of them can restate one child's record
        problems.extend(
            f"field {f.id!r}: a family-level section cannot restate the child's case record (from_case_record)"
            for f in section.fields
            if f.from_case_record
        )
    _check_unique([f.id for f in section.fields] + [g.id for g in section.groups], "field or group", problems)
    for field in section.fields:
        problems.extend(_check_field(field, section.fields))
    if section.critical_when is not None:
        problems.extend(_check_condition(section.critical_when, section.fields, "critical_when"))
    for group in section.groups:
        where = f"group {group.id!r}"
        if not group.fields:
            problems.append(f"{where}: has no fields")
        if not 0 <= group.min_rows <= group.max_rows or group.max_rows < 1:
            problems.append(f"{where}: min_rows must be between 0 and max_rows, and max_rows at least 1")
        if group.when is not None:
            problems.extend(f"{where}: {p}" for p in _check_condition(group.when, section.fields, "when"))
        _check_unique([f.id for f in group.fields], f"{where} field", problems)
        problems.extend(f"{where}: {p}" for f in group.fields for p in _check_field(f, group.fields))
    return problems


def _check_field(field: Field, siblings: list[Field]) -> list[str]:
    where = f"field {field.id!r}"
    problems: list[str] = []
    if not field.id.replace("_", "").isalnum() or not field.id.isascii():
        problems.append(f"{where}: ids may hold only letters, digits and underscores")
    if field.type in CHOICE_TYPES and not field.options:
        problems.append(f"{where}: a {field.type} field needs options")
    if field.type not in CHOICE_TYPES and field.options:
        problems.append(f"{where}: only radios and checkboxes take options")
    if field.max_length < 1:
        problems.append(f"{where}: max_length must be at least 1")
    _check_unique(field.option_values, f"{where} option", problems)
    if field.not_before_birth and field.type != "date":
        problems.append(f"{where}: only a date field can be not_before_birth")
    if field.options_from and field.type not in CHOICE_TYPES:
        problems.append(f"{where}: only radios and checkboxes take options_from")
    if field.from_case_record and field.type not in _RECORD_ITEM_TYPES[field.from_case_record]:
        problems.append(f"{where}: from_case_record {field.from_case_record!r} does not fit a {field.type} field")
    if field.when is not None:
        if field.when.field == field.id:
            problems.append(f"{where}: a field cannot depend on itself")
        problems.extend(f"{where}: {p}" for p in _check_condition(field.when, siblings, "when"))
    return problems


def _check_condition(condition: Condition, fields: list[Field], name: str) -> list[str]:
    target = next((f for f in fields if f.id == condition.field), None)
    if target is None:
        return [f"{name} refers to unknown field {condition.field!r}"]
    if target.type not in CHOICE_TYPES:
        return [f"{name} must refer to a radios or checkboxes field, not {target.type} {target.id!r}"]
    unknown = [value for value in condition.any_of if value not in target.option_values]
    if unknown or not condition.any_of:
        return [f"{name} names values that {condition.field!r} does not offer: {unknown}"]
    return []


def _check_unique(ids: list[str], kind: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            problems.append(f"{kind} id {item!r} is used twice")
        seen.add(item)
