"""Shared steps for tests: fill in forms as a person would, and walk a handover through its states."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from service.actions.demo import CASE_M_LIKE, complete_answers, naming_children
from service.checklist import Checklist, Section, latest, load_all
from service.core.answers import SectionAnswers, date_parts, row_prefix
from service.core.clock import today
from service.settings import PROJECT_ROOT, Settings

CHECKLISTS = load_all(PROJECT_ROOT / "checklists")
# Version 1: what most tests write, through the actions; the pages start the newest (`LATEST`), for which
# `complete(checklist=...)` writes answers
CHECKLIST: Checklist = CHECKLISTS[("case-transfer", 1)]
LATEST: Checklist = latest(CHECKLISTS, "case-transfer")

# Why a child of the test family is handed over without their sibling (asked of every such start).
APART = "Liam is settled in a placement and stays with his worker"


def section(section_id: str, checklist: Checklist | None = None) -> Section:
    """A section of `checklist` (default: `CHECKLIST`)."""
    found = (checklist or CHECKLIST).section(section_id)
    assert found is not None
    return found


# The case summary of the seeded case "mia" (tests/conftest.py), as her case record states it.
MIA_ON_RECORD = {
    "child_name": "Mia Test",
    "date_of_birth": "2015-03-14",
    "local_reference": "T-1",
    "siblings": "Liam Test (T-2)",
}


def on_record_of(case: str) -> dict[str, str]:
    """The case summary as the case record of a seeded case (tests/conftest.py `seed`) states it."""
    if case in ("mia", "liam"):
        sibling = {"mia": "Liam Test (T-2)", "liam": "Mia Test (T-1)"}[case]
        born = {"mia": "2015-03-14", "liam": "2008-06-02"}[case]
        reference = {"mia": "T-1", "liam": "T-2"}[case]
        return {"child_name": f"{case.title()} Test", "date_of_birth": born, "local_reference": reference,
                "siblings": sibling}  # fmt: skip
    number = case.removeprefix("c")
    return {"child_name": f"Child {number}", "date_of_birth": "2016-05-05", "local_reference": f"C-{number}",
            "siblings": ""}  # fmt: skip


def complete(
    *, on: date | None = None, checklist: Checklist | None = None, **overrides: dict[str, Any]
) -> dict[str, SectionAnswers]:
    """Complete, valid answers for every section of `checklist` (default: `CHECKLIST`) as of `on` (default: today in
    England); the case summary restates Mia's case record (see `on_record` for another child)."""
    overrides = {**overrides, "case-summary": {**MIA_ON_RECORD, **overrides.get("case-summary", {})}}
    return complete_answers(checklist or CHECKLIST, on or today(), **overrides)


def form_for(section: Section, answers: SectionAnswers, button: str = "continue", version: int = 0) -> dict[str, Any]:
    """The form fields a browser would post for these answers (the inverse of forms.parse_section)."""
    form: dict[str, Any] = {"button": button, "version": str(version)}

    def put(fields: list[Any], values: dict[str, Any], prefix: str) -> None:
        for field in fields:
            value = values.get(field.id, [] if field.type == "checkboxes" else "")
            name = prefix + field.id
            if field.type == "date":
                day, month, year = date_parts(value)
                form.update({f"{name}-day": day, f"{name}-month": month, f"{name}-year": year})
            else:
                form[name] = value

    put(section.fields, answers.values, "")
    for group in section.groups:
        rows = answers.groups.get(group.id, [])
        form[f"{group.id}-rows"] = str(len(rows))
        for index, row in enumerate(rows):
            put(group.fields, row, row_prefix(group, index))
    return form


def handover_id_from(location: str) -> int:
    match = re.search(r"/handovers/(\d+)", location)
    assert match, location
    return int(match.group(1))


def version_in(html: str, name: str = "handover_version") -> str:
    match = re.search(rf'name="{name}" value="(\d+)"', html)
    assert match, f"no {name} in page"
    return match.group(1)


async def start(person: Any, case_id: int, team_id: int, receiver_id: int | None = None) -> int:
    response = await person.post(
        f"/cases/{case_id}/handover",
        {
            "receiving_team": str(team_id),
            "receiver": str(receiver_id or ""),
            "transfer_reason": "Step-up to CP",
            "apart_reason": APART,
        },
    )
    assert response.status_code == 303, response.text
    return handover_id_from(response.headers["location"])


async def on_record(database: Any, handover_id: int, answers: dict[str, SectionAnswers]) -> dict[str, SectionAnswers]:
    """`answers` with the case summary restating the child's case record, as the form starts it."""
    from service import actions
    from service.core.answers import case_record_values

    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    if "case-summary" not in answers:
        return answers
    summary = answers["case-summary"]
    values = {**summary.values, **case_record_values(section("case-summary"), view.child)}
    return {**answers, "case-summary": SectionAnswers(values=values, groups=summary.groups)}


async def fill_all(person: Any, handover_id: int, answers: dict[str, SectionAnswers] | None = None) -> None:
    """Fill in every section through the form: `answers`, or complete ones restating the case record."""
    from service import actions

    # the handover's own checklist: a version whose rows choose the children of the group takes them by reference
    view = await actions.load(person.client.app.state.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    if answers is None:
        given = complete(checklist=view.checklist, **CASE_M_LIKE)
        answers = await on_record(person.client.app.state.db, handover_id, given)
    answers = naming_children(view.checklist, answers)
    for section_id, section_answers in answers.items():
        url = f"/handovers/{handover_id}/sections/{section_id}"
        page = await person.get(url)
        version = int(version_in(page.text, "version"))
        asked = view.checklist.section(section_id) or section(section_id)
        response = await person.post(url, form_for(asked, section_answers, version=version))
        assert response.status_code == 303, (section_id, response.text[:3000])


async def act(person: Any, handover_id: int, button: str, **data: str) -> Any:
    page = await person.get(f"/handovers/{handover_id}/view")
    assert page.status_code == 200, page.text
    return await person.post(f"/handovers/{handover_id}/{button}", {"handover_version": version_in(page.text), **data})


async def submit(person: Any, handover_id: int, reply: str | None = None) -> Any:
    """Submit from the check-answers page; `reply`: the reply to the query, for a returned handover."""
    page = await person.get(f"/handovers/{handover_id}/check")
    form = {"handover_version": version_in(page.text)} | ({"reply": reply} if reply is not None else {})
    return await person.post(f"/handovers/{handover_id}/submit", form)


async def confirm_all(person: Any, handover_id: int, readback: str = "I take on the risk from Liam to Mia.") -> None:
    page = await person.get(f"/handovers/{handover_id}/review")
    assert page.status_code == 200, page.text
    for section_id in re.findall(r'action="/handovers/\d+/confirm/([\w-]+)"', page.text):
        response = await person.post(
            f"/handovers/{handover_id}/confirm/{section_id}",
            {"handover_version": version_in(page.text), "understood": "yes", "readback": readback},
        )
        assert response.status_code == 303, response.text


def latest_form(section_id: str, button: str = "continue", version: int = 0) -> dict[str, Any]:
    """The form a browser posts for complete answers to a section of the newest checklist, which the pages start."""
    return form_for(section(section_id, LATEST), complete(checklist=LATEST)[section_id], button=button, version=version)


def checklist_dir_with(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    """A checklists folder holding one definition, beside a copy of the shipped time limits."""
    folder = tmp_path / "checklists"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    limits = folder / "time-limits"
    if not limits.exists():
        shutil.copytree(PROJECT_ROOT / "checklists" / "time-limits", limits)
    return folder


def checklist_changed(tmp_path: Path, version: int, old: str, new: str) -> Path:
    """A copy of a published checklist file with one change, to check what start-up says about it."""
    text = (PROJECT_ROOT / "checklists" / f"case-transfer-v{version}.toml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "changed.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


async def actor(database: Any, world: Any, name: str) -> Any:
    from service import actions, db

    user = await db.user_by_id(database.reader, world.users[name])
    assert user is not None
    return actions.actor_for(user, await db.memberships(database.reader, user.id))


STEPS_TO = {
    "draft": [],
    "submitted": ["submit"],
    "returned": ["submit", "return"],
    "endorsed": ["submit", "endorse"],
    "acknowledged": ["submit", "endorse", "acknowledge"],
    "closed": ["submit", "endorse", "acknowledge", "approve"],
    "cancelled": ["cancel"],
}


async def handover_in(
    database: Any, world: Any, state: str, case: str, *, complete_it: bool = True, answers: Any = None,
    version: int = 1,
) -> int:  # fmt: skip
    """A handover of checklist `version` brought to `state` through the real actions (out -> smgr -> rec -> rmgr);
    `answers` overrides sections of the Case M-like answers, as `complete` takes them."""
    from service import actions
    from service.core.workflow import Action

    people = {name: await actor(database, world, name) for name in ("out", "smgr", "rec", "rmgr")}
    checklist = CHECKLISTS[("case-transfer", version)]
    handover_id = await actions.start_handover(
        database, people["out"], checklist, case_id=world.cases[case], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], transfer_reason="Step-up", apart_reason=APART,
    )  # fmt: skip
    given = await on_record(database, handover_id, complete(checklist=checklist, **{**CASE_M_LIKE, **(answers or {})}))
    started = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert started is not None
    given = naming_children(started.checklist, given)  # a version whose rows choose the group's children by reference
    if not complete_it:
        del given["arrangements"]
    for section_id, section_answers in given.items():
        await actions.save_section(
            database, CHECKLISTS, people["out"], handover_id, section_id, section_answers, 0, finished=True
        )
    moves = {"submit": ("out", Action.SUBMIT), "return": ("smgr", Action.RETURN_TO_OUTGOING),
             "endorse": ("smgr", Action.ENDORSE), "acknowledge": ("rec", Action.ACKNOWLEDGE),
             "approve": ("rmgr", Action.APPROVE), "cancel": ("out", Action.CANCEL)}  # fmt: skip
    for step in STEPS_TO[state]:
        who, action = moves[step]
        view = await actions.load(database.reader, CHECKLISTS, handover_id)
        assert view is not None
        if action == Action.APPROVE:
            await tell_everyone(database, people["out"], handover_id)
        if action == Action.ACKNOWLEDGE:
            for item in view.critical_sections():
                await actions.confirm_item(
                    database, CHECKLISTS, people["rec"], handover_id, item.id, view.handover.version,
                    understood=True, readback="I take on these risks and the plan to manage them.",
                )  # fmt: skip
        await actions.act(database, CHECKLISTS, people[who], handover_id, action, view.handover.version, "Because")
    return handover_id


async def tell_everyone(database: Any, person: Any, handover_id: int) -> None:
    """Record, through the real actions, that the family and every professional on the plan were told (by phone),
    as a handover of a checklist version with `[telling]` needs before it closes; nothing for an earlier version."""
    from service import actions
    from service.core.clock import today as england_today
    from service.db import telling as telling_store

    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    if view.checklist.telling is None:
        return
    if not view.handover.family_told:
        await actions.record_family_told(
            database, CHECKLISTS, person, handover_id, told="Ms Test (mother)", method="visit",
            told_on=england_today().isoformat(),
        )  # fmt: skip
    for contact in await telling_store.agency_contacts_of(database.reader, handover_id):
        if not contact.settled:
            await actions.record_agency_told(
                database, CHECKLISTS, person, handover_id, contact.id, method="phone",
                told_on=england_today().isoformat(),
            )  # fmt: skip


def settings_for_tests(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test whose data lives in `data_dir`: SQLite there, or, in the suite's PostgreSQL pass
    (HANDOVER_TEST_DATABASE=postgresql), a database of its own on the throwaway server (the same one for the same
    folder)."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database": data_dir / "handover.db",
        "secret_key": "test-secret-" + "x" * 32,
    }
    if TEST_DATABASE == "postgresql":
        values["database_url"] = test_databases.url_for(data_dir)
    values.update(overrides)
    return msgspec.convert(values, Settings, strict=False)


# Which database the suite runs on: "sqlite" (the default), or "postgresql" for scripts/test.sh's second pass
TEST_DATABASE = os.environ.get("HANDOVER_TEST_DATABASE", "sqlite")
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise RuntimeError(f"HANDOVER_TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE!r}")


class TestDatabases:
    """The PostgreSQL pass's databases: one throwaway server for the whole run, a migrated template made once, and
    a copy of it for each test's data folder, dropped when the test ends."""

    TEMPLATE = "handover_template"

    def __init__(self) -> None:
        self.server: Any = None
        self.made: dict[Path, str] = {}  # data folder -> database name, for the test running now
        self.count = 0

    def start(self, root: Path) -> None:
        """Start the server and migrate the template (once, before any test runs)."""
        import asyncio

        from tests.postgres_support import start_postgres

        self.server = start_postgres(root)
        asyncio.run(_migrate(self.server.create_database(self.TEMPLATE)))

    def url_for(self, data_dir: Path) -> str:
        if self.server is None:
            raise RuntimeError("the PostgreSQL pass's server is not running (tests/conftest.py starts it)")
        data_dir = data_dir.resolve()
        name = self.made.get(data_dir)
        if name is None:
            self.count += 1
            name = self.made[data_dir] = f"t{self.count}"
            self.server.create_database(name, template=self.TEMPLATE)
        return str(self.server.url(name))

    def drop_made_since(self, before: set[Path]) -> None:
        """Drop the databases made for folders other than `before` (those a test made for itself; a fixture shared
        by a module made its own before the test began, and keeps it), ending any connection left open to them."""
        for folder in [folder for folder in self.made if folder not in before]:
            self.server.drop_database(self.made.pop(folder))


async def _migrate(url: str) -> None:
    from service.db.postgresql import PostgresDatabase

    async with PostgresDatabase(url).opened():
        pass


test_databases = TestDatabases()


class _PostgresRaw:
    """A psycopg connection that takes the queries the tests write for SQLite (`?` placeholders), as the service's
    engine does, with sqlite3's execute/commit/close."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=False)

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        """Run `sql`; its rows are read at once, so a connection used for one line is closed when dropped."""
        from service.db.postgresql import Result, to_postgresql

        cursor = self.conn.execute(to_postgresql(sql), tuple(parameters))  # type: ignore[arg-type]
        return Result(cursor.rowcount, cursor.fetchall() if cursor.description is not None else [])

    def __del__(self) -> None:
        self.conn.close()

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> _PostgresRaw:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.conn.commit()
        self.conn.close()


def raw_connection(where: Any) -> Any:
    """A plain connection to a test's database, for reading (or tampering with) it behind the service's back:
    `where` is its Settings or its Database. sqlite3's connection, or one that behaves like it on PostgreSQL."""
    url = getattr(where, "database_url", "") or getattr(where, "url", "")
    if url:
        return _PostgresRaw(url)
    import sqlite3

    return sqlite3.connect(getattr(where, "database", None) or where.file)
