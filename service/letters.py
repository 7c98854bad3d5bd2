"""The letters telling the child and the family of their new social worker, read from versioned data files in
`checklists/letters/`.

A council changes the wording without touching code: it copies the newest file to the next version and edits the copy
(the newest version applies to every letter written from then on). Each file gives the council's name, the age up to
which a child gets the letter in plain, short words, how far ahead (calendar days) the date the new worker is
responsible from may be, where the checklist records a joint visit, and three letters (`LETTERS`), whose text uses
`string.Template` placeholders (`PLACEHOLDERS`). A file that cannot be read, or a letter with an unknown placeholder,
without one every letter must use (`REQUIRED`), with a `$` that starts no placeholder, or with empty text, or an age
outside 1 to 17, or two files of one version, stops start-up with `LettersError`, whose message names the file, the
letter and the field, as the checklist loader does.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from string import Template
from typing import Any

import msgspec

FOLDER = "letters"  # inside the checklists folder
LETTERS = ("family", "child_younger", "child_older")
OLDEST_CHILD = 17  # a young person is a child until 18 (Children Act 1989, s.105)
LONGEST_AHEAD = 366  # calendar days: beyond a year, a "date from which" is no longer a handover's

# Every placeholder a letter may use, with what it is: the messages list them.
PLACEHOLDERS: dict[str, str] = {
    "addressee": "who the letter is to",
    "child_first_name": "the child's first name",
    "new_worker": "the new social worker's name",
    "new_team": "the new social worker's team",
    "responsible_from": "the date from which the new worker is responsible",
    "contact": "how to contact the new worker",
    "outgoing_worker": "the social worker writing the letter",
    "council": "the council's name",
    "joint_visit_date": "the date of the joint visit",
}
# What every letter must say: who the new worker is, in which team, from when, and how to reach them.
REQUIRED = ("new_worker", "new_team", "responsible_from", "contact")
JOINT_VISIT_DATE = "joint_visit_date"  # only in the paragraph given when there is a joint visit


class LettersError(Exception):
    """A letters file the service must not start with."""


class LetterText(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One letter's text, each piece a `string.Template`: the title, the greeting line, the paragraphs in order, the
    paragraph given after them only when a joint visit is still to come ("" for none), and the closing lines."""

    title: str
    greeting: str
    paragraphs: list[str]
    closing: list[str]
    joint_visit: str = ""

    def pieces(self) -> list[tuple[str, str]]:
        """Every piece of text with where it is, as the messages name it: ("title", ...), ("paragraphs 2", ...)."""
        found = [("title", self.title), ("greeting", self.greeting)]
        found += [(f"paragraphs {n}", text) for n, text in enumerate(self.paragraphs, 1)]
        found += [(f"closing {n}", text) for n, text in enumerate(self.closing, 1)]
        return found + ([("joint_visit", self.joint_visit)] if self.joint_visit else [])


class LetterSet(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    family: LetterText  # to a parent or carer
    child_younger: LetterText  # to a child up to `younger_child_up_to_age`, in plain, short words
    child_older: LetterText  # to an older child


class JointVisit(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Where a checklist records a joint visit: the choice `field` in `section` answered `value`, on the date field
    `date` of the same section."""

    section: str
    field: str
    value: str
    date: str


class Letters(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One version of the letters."""

    version: int
    council: str  # "": the council the service runs under (settings)
    younger_child_up_to_age: int  # whole years, on the letter's date
    responsible_from_within_days: int  # calendar days after the letter's date
    joint_visit: JointVisit
    letters: LetterSet

    def letter(self, kind: str) -> LetterText:
        """The letter called `kind` (one of `LETTERS`)."""
        text: LetterText = getattr(self.letters, kind)
        return text


def placeholders_in(text: str) -> tuple[list[str], str | None]:
    """The placeholders a piece of text uses, in order, and a sentence about a `$` that starts none (None when every
    `$` is a placeholder or `$$`)."""
    used: list[str] = []
    for match in Template.pattern.finditer(text):
        name = match.group("named") or match.group("braced")
        if name:
            used.append(name)
        elif match.group("invalid") is not None:
            at = match.start()  # the "$" itself (the "invalid" group is the empty text after it)
            return used, (
                f"the '$' at character {at + 1} starts no placeholder: write a placeholder such as $new_worker, "
                "or $$ for a dollar sign"
            )
    return used, None


def _letter_problems(kind: str, letter: LetterText) -> list[str]:
    where = f"[letters.{kind}]"
    problems: list[str] = []
    if not letter.paragraphs:
        problems.append(f"{where}: field 'paragraphs': give at least one paragraph")
    if not letter.closing:
        problems.append(f"{where}: field 'closing': give at least one closing line")
    used_anywhere: set[str] = set()
    for place, text in letter.pieces():
        field = f"{where}: field {place.split()[0]!r}" + (f" ({place})" if " " in place else "")
        if not text.strip():
            problems.append(f"{field}: must not be empty")
            continue
        used, bad_dollar = placeholders_in(text)
        if bad_dollar:
            problems.append(f"{field}: {bad_dollar}")
        for name in used:
            if name not in PLACEHOLDERS:
                problems.append(
                    f"{field}: unknown placeholder ${name} (the placeholders: "
                    + ", ".join(f"${known}" for known in PLACEHOLDERS)
                    + ")"
                )
            elif name == JOINT_VISIT_DATE and place != "joint_visit":
                problems.append(
                    f"{field}: ${JOINT_VISIT_DATE} can be used only in 'joint_visit', the paragraph given when there "
                    "is a joint visit"
                )
        used_anywhere.update(used)
    if letter.joint_visit and JOINT_VISIT_DATE not in placeholders_in(letter.joint_visit)[0]:
        problems.append(f"{where}: field 'joint_visit': must use ${JOINT_VISIT_DATE}, the date of the joint visit")
    for name in REQUIRED:
        if name not in used_anywhere:
            problems.append(f"{where}: no field uses ${name} ({PLACEHOLDERS[name]}): every letter must say it")
    return problems


def _problems(letters: Letters) -> list[str]:
    problems: list[str] = []
    if letters.version < 1:
        problems.append("version must be 1 or more")
    if not 1 <= letters.younger_child_up_to_age <= OLDEST_CHILD:
        problems.append(
            f"field 'younger_child_up_to_age': must be from 1 to {OLDEST_CHILD} years, not "
            f"{letters.younger_child_up_to_age}"
        )
    if not 1 <= letters.responsible_from_within_days <= LONGEST_AHEAD:
        problems.append(
            f"field 'responsible_from_within_days': must be from 1 to {LONGEST_AHEAD} calendar days, not "
            f"{letters.responsible_from_within_days}"
        )
    if letters.council != letters.council.strip() or "\n" in letters.council:
        problems.append("field 'council': must be one line, without spaces at either end")
    if "$" in letters.council:
        problems.append("field 'council': is the council's name, not text with placeholders")
    for name in ("section", "field", "value", "date"):
        if not getattr(letters.joint_visit, name).strip():
            problems.append(f"[joint_visit]: field {name!r}: must not be empty")
    for kind in LETTERS:
        problems += _letter_problems(kind, letters.letter(kind))
    return problems


def _located(raw: dict[str, Any], message: str) -> str:
    """msgspec's "... - at `$.letters.family.title`" as "[letters.family]: field 'title': ...", a table's own problem
    (a letter missing from [letters]) as "[letters]: ...", and a paragraph's as "field 'paragraphs' (paragraphs 2)"."""
    text, _, where = message.partition(" - at `$")
    path = where.rstrip("`").replace("[", ".[").split(".")
    names = [part for part in path if part and not part.startswith("[")]
    index = next((int(part[1:-1]) for part in path if part.startswith("[")), None)
    if not names:
        return text
    target: Any = raw
    for name in names:
        target = target.get(name) if isinstance(target, dict) else None
    if isinstance(target, dict):
        return f"[{'.'.join(names)}]: {text}"
    field = f"field {names[-1]!r}" + (f" ({names[-1]} {index + 1})" if index is not None else "")
    return f"[{'.'.join(names[:-1])}]: {field}: {text}" if len(names) > 1 else f"{field}: {text}"


def load_file(path: Path) -> Letters:
    """Read and check one letters file; `LettersError` naming the file, the letter and the field otherwise."""
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LettersError(f"{path.name}: cannot be read: {exc}") from exc
    try:
        letters = msgspec.convert(raw, Letters)
    except msgspec.ValidationError as exc:
        raise LettersError(f"{path.name}: {_located(raw, str(exc))}") from exc
    problems = _problems(letters)
    if problems:
        raise LettersError(f"{path.name}: " + "; ".join(problems))
    return letters


def load_latest(checklists_dir: Path) -> tuple[Path, Letters] | None:
    """The newest version in `<checklists_dir>/letters/`, with its file; every file there is checked, so a broken
    older version is found too. None when the folder holds no letters; `LettersError` when two files give one
    version."""
    loaded: dict[int, tuple[Path, Letters]] = {}
    for path in sorted((checklists_dir / FOLDER).glob("*.toml")):
        letters = load_file(path)
        if letters.version in loaded:
            raise LettersError(
                f"{path.name}: version {letters.version} is defined twice (also in {loaded[letters.version][0].name})"
            )
        loaded[letters.version] = (path, letters)
    return loaded[max(loaded)] if loaded else None
