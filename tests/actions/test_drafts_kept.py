"""Forms kept when a session had ended: only section forms, only so much per browser and per address, for an hour
at most; resumed only by someone who may still edit that handover, each step on the record."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import db
from service.actions import drafts, start_handover
from service.checklist import Section
from service.core.answers import SectionAnswers
from service.core.audit import Entry
from service.db.engine import _one, _rows
from tests.conftest import World
from tests.helpers import APART, CHECKLIST, CHECKLISTS, actor

pytestmark = pytest.mark.anyio

NOW = 1_750_000_000.0
BROWSER, ADDRESS = "browser-1", "203.0.113.9"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(drafts, "time", clock)
    return clock


async def audit_after(database: db.Database, seq: int) -> list[Entry]:
    return [stored.entry for stored in await db.audit_entries(database.reader, after_seq=seq)]


async def last_seq(database: db.Database) -> int:
    return (await db.last_audit_entry(database.reader))[0]


def shape(entry: Entry) -> tuple[Any, ...]:
    return (entry.actor_id, entry.action, entry.object_type, entry.object_id, entry.details)


async def kept_rows(database: db.Database) -> list[tuple[Any, ...]]:
    rows = await _rows(
        database.reader,
        "SELECT token, path, form, created_at, kept_for, address FROM pending_drafts ORDER BY created_at, token",
    )
    return [tuple(row) for row in rows]


async def kept_count(database: db.Database) -> int:
    row = await _one(database.reader, "SELECT COUNT(*) FROM pending_drafts")
    assert row is not None
    return int(row[0])


async def keep(database: db.Database, path: str = "/handovers/7/sections/childs-views", **given: Any) -> str | None:
    options = {"kept_for": BROWSER, "address": ADDRESS} | given
    items = options.pop("items", [("views", "What Mia said"), ("how_gathered", "Seen alone")])
    return await drafts.keep_pending_draft(database, path, items, **options)


async def plant(
    database: db.Database, token: str, created_at: float, *, kept_for: str = BROWSER, address: str = ADDRESS,
    path: str = "/handovers/7/sections/childs-views", form: str = "[]",
) -> None:  # fmt: skip
    async with database.transaction() as conn:
        await db.keep_pending_draft(conn, token, path, form, created_at, kept_for, address)


# ---------------------------------------------------------------- keeping a form


async def test_a_section_form_is_kept_for_its_browser_and_recorded_without_what_it_says(
    database: db.Database, clock: Clock
) -> None:
    seq = await last_seq(database)
    token = await keep(database)
    assert token is not None and len(token) == 43
    assert await kept_rows(database) == [
        (token, "/handovers/7/sections/childs-views", '[["views","What Mia said"],["how_gathered","Seen alone"]]', NOW,
         BROWSER, ADDRESS),
    ]  # fmt: skip
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (None, "keep_pending_draft", "handover", 7, {"path": "/handovers/7/sections/childs-views"}),
    ]
    assert await keep(database) != token, "each kept form has a token of its own"


@pytest.mark.parametrize(
    "path",
    [
        "/handovers/123456789/sections/childs-views",
        "/handovers/1/sections/" + "a" * 100,
        "/handovers/0/sections/risk-2",
        "/handovers/42/sections/x",
    ],
)
async def test_every_section_form_path_is_kept(database: db.Database, clock: Clock, path: str) -> None:
    seq = await last_seq(database)
    assert await keep(database, path) is not None
    [entry] = await audit_after(database, seq)
    assert (entry.object_id, entry.details) == (int(path.split("/")[2]), {"path": path})


@pytest.mark.parametrize(
    "path",
    [
        "/handovers/1234567890/sections/childs-views",
        "/handovers/1/sections/" + "a" * 101,
        "/handovers//sections/childs-views",
        "/handovers/1/sections/",
        "/handovers/x/sections/childs-views",
        "/handovers/1/sections/Childs-views",
        "/handovers/1/sections/childs_views",
        "/handovers/1/sections/childs-views/",
        "/handovers/1/sections/childs-views?x=1",
        "handovers/1/sections/childs-views",
        "/x/handovers/1/sections/childs-views",
        "/handovers/1/section/childs-views",
        "/handovers/1/submit",
        "",
    ],
)
async def test_a_form_posted_anywhere_else_is_not_kept(database: db.Database, clock: Clock, path: str) -> None:
    seq = await last_seq(database)
    assert await keep(database, path) is None
    assert await kept_count(database) == 0 and await audit_after(database, seq) == []


@given(
    number=st.integers(min_value=0, max_value=999_999_999),
    section=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=100),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
async def test_any_handover_number_and_section_id_is_kept(
    database: db.Database, clock: Clock, number: int, section: str
) -> None:
    path = f"/handovers/{number}/sections/{section}"
    seq = await last_seq(database)
    assert await keep(database, path, kept_for=f"browser-{seq}") is not None
    [entry] = await audit_after(database, seq)
    assert (entry.object_id, entry.details) == (number, {"path": path})
    async with database.transaction() as conn:
        await conn.execute("DELETE FROM pending_drafts")


async def test_a_form_of_the_largest_size_is_kept_and_one_byte_more_is_not(database: db.Database, clock: Clock) -> None:
    # '[["views","' and '"]]' are 14 bytes of the 500,000
    assert await keep(database, items=[("views", "x" * 499_987)]) is None
    assert await keep(database, items=[("views", "x" * 499_986)]) is not None
    assert await kept_count(database) == 1


async def test_the_size_of_a_form_is_counted_in_bytes_not_characters(database: db.Database, clock: Clock) -> None:
    assert await keep(database, items=[("views", "é" * 249_994)]) is None  # 499,988 characters, 499,002 bytes
    assert await keep(database, items=[("views", "é" * 249_993)]) is not None
    assert await kept_count(database) == 1


async def test_a_browser_keeps_three_forms_at_most(database: db.Database, clock: Clock) -> None:
    tokens = [await keep(database, address=f"198.51.100.{n}") for n in range(3)]
    assert None not in tokens
    seq = await last_seq(database)
    assert await keep(database, address="198.51.100.9") is None
    assert await kept_count(database) == 3 and await audit_after(database, seq) == []
    assert await keep(database, kept_for="browser-2") is not None, "another browser keeps its own"


async def test_an_address_keeps_twenty_forms_at_most(database: db.Database, clock: Clock) -> None:
    for n in range(19):
        await plant(database, f"token-{n}", NOW, kept_for=f"browser-{n}")
    assert await keep(database, kept_for="browser-19") is not None
    seq = await last_seq(database)
    assert await keep(database, kept_for="browser-20") is None
    assert await kept_count(database) == 20 and await audit_after(database, seq) == []
    assert await keep(database, kept_for="browser-20", address="203.0.113.10") is not None


async def test_forms_kept_more_than_an_hour_ago_are_cleared_and_no_longer_count(
    database: db.Database, clock: Clock
) -> None:
    await plant(database, "old-1", NOW - 3601)
    await plant(database, "old-2", NOW - 3601)
    await plant(database, "hour-old", NOW - 3600)
    await plant(database, "other-browser", NOW - 3601, kept_for="browser-9", address="198.51.100.1")
    token = await keep(database)
    assert token is not None
    assert [row[0] for row in await kept_rows(database)] == ["hour-old", token]
    assert await keep(database) is not None
    assert await keep(database) is None, "the form kept exactly an hour ago still counts"


# ---------------------------------------------------------------- resuming a kept form


def parse_as_typed(version: int = 0) -> Any:
    """What the page would make of a kept form: here, each item an answer, typed on section version `version`."""
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def parse(section: Section, items: list[tuple[str, str]]) -> tuple[SectionAnswers, int]:
        seen.append((section.id, items))
        return SectionAnswers(values=dict(items)), version

    parse.seen = seen  # type: ignore[attr-defined]
    return parse


async def draft_of(database: db.Database, world: World) -> int:
    out = await actor(database, world, "out")
    return await start_handover(
        database, out, CHECKLIST, case_id=world.cases["mia"], receiving_team_id=world.teams["cp"],
        receiver_id=world.users["rec"], apart_reason=APART, transfer_reason="Step-up",
    )  # fmt: skip


async def resume(database: db.Database, world: World, name: str, token: str, parse: Any = None) -> str | None:
    person = await actor(database, world, name)
    return await drafts.resume_pending_draft(database, CHECKLISTS, person, token, parse or parse_as_typed())


async def saved(database: db.Database, handover_id: int) -> dict[str, Any]:
    return {
        section: stored.answers.values
        for section, stored in (await db.sections_of(database.reader, handover_id)).items()
    }


async def test_a_kept_form_is_saved_as_a_draft_for_its_author_and_both_steps_are_recorded(
    database: db.Database, world: World, clock: Clock
) -> None:
    handover_id = await draft_of(database, world)
    path = f"/handovers/{handover_id}/sections/childs-views"
    token = await keep(database, path)
    assert token is not None
    clock.now = NOW + 3599
    seq = await last_seq(database)
    parse = parse_as_typed()
    assert await resume(database, world, "out", token, parse) == f"{path}?resumed=saved"
    assert parse.seen == [("childs-views", [("views", "What Mia said"), ("how_gathered", "Seen alone")])]
    assert await saved(database, handover_id) == {
        "childs-views": {"views": "What Mia said", "how_gathered": "Seen alone"}
    }
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["out"], "take_pending_draft", "handover", handover_id, {"path": path}),
        (world.users["out"], "save_section", "handover", handover_id,
         {"section": "childs-views", "old_version": 0, "new_version": 1, "status": "completed"}),
    ]  # fmt: skip
    assert await kept_count(database) == 0
    seq = await last_seq(database)
    assert await resume(database, world, "out", token) is None, "a kept form is saved once"
    assert await audit_after(database, seq) == []


async def test_a_kept_form_an_hour_old_is_not_saved(database: db.Database, world: World, clock: Clock) -> None:
    handover_id = await draft_of(database, world)
    token = await keep(database, f"/handovers/{handover_id}/sections/childs-views")
    assert token is not None
    clock.now = NOW + 3600
    seq = await last_seq(database)
    assert await resume(database, world, "out", token) is None
    assert await saved(database, handover_id) == {} and await audit_after(database, seq) == []
    assert await kept_count(database) == 0, "and it is gone"


async def test_a_kept_form_is_never_saved_for_someone_else_though_its_taking_is_recorded(
    database: db.Database, world: World, clock: Clock
) -> None:
    handover_id = await draft_of(database, world)
    path = f"/handovers/{handover_id}/sections/childs-views"
    token = await keep(database, path)
    assert token is not None
    seq = await last_seq(database)
    assert await resume(database, world, "out2", token) is None
    assert await saved(database, handover_id) == {}
    assert [shape(entry) for entry in await audit_after(database, seq)] == [
        (world.users["out2"], "take_pending_draft", "handover", handover_id, {"path": path}),
    ]
    assert await kept_count(database) == 0


async def test_a_kept_form_for_a_handover_or_section_that_does_not_exist_is_dropped(
    database: db.Database, world: World, clock: Clock
) -> None:
    handover_id = await draft_of(database, world)
    for path in ("/handovers/999/sections/childs-views", f"/handovers/{handover_id}/sections/no-such-section"):
        token = await keep(database, path)
        assert token is not None
        parse = parse_as_typed()
        assert await resume(database, world, "out", token, parse) is None
        assert parse.seen == []
    assert await saved(database, handover_id) == {}


async def test_a_kept_row_with_a_path_that_is_not_a_section_form_is_dropped_unrecorded(
    database: db.Database, world: World, clock: Clock
) -> None:
    await plant(database, "planted", NOW, path="/handovers/1/submit")
    seq = await last_seq(database)
    assert await resume(database, world, "out", "planted") is None
    assert await audit_after(database, seq) == [] and await kept_count(database) == 0


async def test_a_kept_form_typed_on_an_older_version_of_the_section_is_a_conflict(
    database: db.Database, world: World, clock: Clock
) -> None:
    handover_id = await draft_of(database, world)
    path = f"/handovers/{handover_id}/sections/childs-views"
    first = await keep(database, path)
    second = await keep(database, path, items=[("views", "Typed second")])
    assert first is not None and second is not None
    assert await resume(database, world, "out", first) == f"{path}?resumed=saved"
    assert await resume(database, world, "out", second) == f"{path}?resumed=conflict"
    assert await saved(database, handover_id) == {
        "childs-views": {"views": "What Mia said", "how_gathered": "Seen alone"}
    }


async def test_a_kept_form_with_answers_the_section_does_not_have_is_refused(
    database: db.Database, world: World, clock: Clock
) -> None:
    handover_id = await draft_of(database, world)
    path = f"/handovers/{handover_id}/sections/childs-views"
    token = await keep(database, path, items=[("views", "Said"), ("not_a_question", "x")])
    assert token is not None
    assert await resume(database, world, "out", token) == f"{path}?resumed=refused"
    assert await saved(database, handover_id) == {}


async def test_a_kept_form_with_an_answer_too_long_saves_the_rest(
    database: db.Database, world: World, clock: Clock
) -> None:
    handover_id = await draft_of(database, world)
    path = f"/handovers/{handover_id}/sections/childs-views"
    token = await keep(database, path, items=[("views", "x" * 100_001), ("how_gathered", "Seen alone")])
    assert token is not None
    assert await resume(database, world, "out", token) == f"{path}?resumed=partly"
    assert await saved(database, handover_id) == {"childs-views": {"how_gathered": "Seen alone"}}


async def test_a_kept_form_half_filled_in_is_saved_as_a_draft_in_progress_not_as_finished(
    database: db.Database, world: World, clock: Clock
) -> None:
    handover_id = await draft_of(database, world)
    path = f"/handovers/{handover_id}/sections/childs-views"
    token = await keep(database, path, items=[("views", "Said so far")])
    assert token is not None
    seq = await last_seq(database)
    assert await resume(database, world, "out", token) == f"{path}?resumed=saved"
    assert await saved(database, handover_id) == {"childs-views": {"views": "Said so far"}}
    assert (await db.sections_of(database.reader, handover_id))["childs-views"].status == "in_progress"
    assert [entry.details for entry in await audit_after(database, seq)][1] == {
        "section": "childs-views", "old_version": 0, "new_version": 1, "status": "in_progress",
    }  # fmt: skip
