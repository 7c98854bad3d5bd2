"""One writer: concurrent saves and sign-offs never interleave transactions, and races have one winner."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

import pytest

from service import actions, db
from service.actions.demo import naming_children
from service.core.errors import Refused
from tests.conftest import Site
from tests.helpers import (
    CHECKLISTS,
    LATEST,
    actor,
    complete,
    confirm_all,
    fill_all,
    form_for,
    handover_in,
    section,
    start,
    submit,
    tell_everyone,
    version_in,
)

pytestmark = [pytest.mark.anyio, pytest.mark.sqlite_only]


async def test_fifty_concurrent_form_posts_all_succeed(site: Site) -> None:
    out = await site.as_user("out")
    handover_ids = [await start(out, site.world.cases[name], site.world.teams["cp"]) for name in ("mia", "liam")]
    answers = complete()
    named = {}  # sibling harm names the children of the group, as offered to each (another child is refused)
    for handover_id in handover_ids:
        started = await actions.load(site.db.reader, site.app.state.checklists, handover_id)
        assert started is not None
        named[handover_id] = naming_children(started.checklist, answers)
    posts = [
        out.post(
            f"/handovers/{handover_id}/sections/{section_id}",
            form_for(section(section_id), named[handover_id][section_id], button="draft"),
        )
        for handover_id in handover_ids
        for section_id in answers
    ]
    extra = [
        out.post(
            f"/handovers/{handover_ids[0]}/sections/childs-views",
            form_for(section("childs-views", LATEST), answers["childs-views"], button="draft", version=0),
        )
        for _ in range(50 - len(posts))
    ]
    responses = await asyncio.gather(*posts, *extra)
    statuses = [r.status_code for r in responses]
    # every section saved once; of the saves of one section from the same version exactly one wins
    assert statuses.count(303) == len(posts)
    assert statuses.count(409) == len(extra), "the other duplicates saw a newer version and were refused"
    for handover_id in handover_ids:
        assert len(await db.sections_of(site.db.reader, handover_id)) == len(answers)
    entries = await db.audit_entries(site.db.reader)
    assert [e.entry.seq for e in entries] == list(range(1, len(entries) + 1)), "the audit chain has no gaps"


async def test_twenty_identical_approvals_make_one_transition_and_one_audit_entry(site: Site) -> None:
    out, smgr, rec, rmgr = [await site.as_user(n) for n in ("out", "smgr", "rec", "rmgr")]
    handover_id = await start(out, site.world.cases["mia"], site.world.teams["cp"], site.world.users["rec"])
    await fill_all(out, handover_id)
    await submit(out, handover_id)
    page = await smgr.get(f"/handovers/{handover_id}/view")
    await smgr.post(f"/handovers/{handover_id}/endorse", {"handover_version": version_in(page.text)})
    await confirm_all(rec, handover_id)
    page = await rec.get(f"/handovers/{handover_id}/review")
    await rec.post(f"/handovers/{handover_id}/acknowledge", {"handover_version": version_in(page.text)})
    await tell_everyone(site.db, await actor(site.db, site.world, "out"), handover_id)
    page = await rmgr.get(f"/handovers/{handover_id}/view")
    version = version_in(page.text)
    responses = await asyncio.gather(
        *[rmgr.post(f"/handovers/{handover_id}/approve", {"handover_version": version}) for _ in range(20)]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303] + [409] * 19
    approvals = [e for e in await db.audit_entries(site.db.reader) if e.entry.action == "approve"]
    assert len(approvals) == 1


async def test_group_commit_keeps_each_change_separate(database: db.Database) -> None:
    """Changes committed together still succeed or fail one by one, and each waits for its own commit."""

    async def change(n: int) -> None:
        async with database.transaction() as conn:
            await db.create_team(conn, f"Team {n}")
            await asyncio.sleep(0)
            if n == 5:
                raise ValueError("this one fails")

    results = await asyncio.gather(*(change(n) for n in range(10)), return_exceptions=True)
    assert [type(r).__name__ for r in results].count("ValueError") == 1
    names = {team.name for team in await db.teams(database.reader)}  # the reader sees only committed data
    assert names == {f"Team {n}" for n in range(10) if n != 5}


async def test_writers_arriving_together_share_one_commit(database: db.Database) -> None:
    async def change(n: int) -> None:
        async with database.transaction() as conn:
            await db.create_team(conn, f"Team {n}")

    before = database.commits
    await asyncio.gather(*(change(n) for n in range(30)))
    assert database.commits - before == 1
    assert len(await db.teams(database.reader)) == 30, "every change committed before its writer went on"
    await change(30)
    assert database.commits - before == 2, "a writer on its own commits at once"


async def test_a_save_checked_before_a_submission_committed_is_refused_after_it(database: Any, world: Any) -> None:
    """The save is checked before it waits for the write lock; a submission that lands in that wait must win."""
    handover_id = await handover_in(database, world, "draft", "mia")
    out = await actor(database, world, "out")
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    record = view.sections["childs-views"]
    async with database.transaction() as conn:
        save = asyncio.create_task(
            actions.save_section(
                database, CHECKLISTS, out, handover_id, "childs-views", record.answers, record.version, finished=True
            )
        )
        await asyncio.sleep(0.05)  # checked against the draft; now queued behind this transaction
        await db.update_handover(conn, handover_id, view.handover.version, state="submitted")
    with pytest.raises(Refused):
        await save
    saved = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert saved is not None and saved.sections["childs-views"].version == record.version


async def test_a_commit_waits_for_a_body_that_waits_and_then_happens(database: db.Database) -> None:
    async def quick() -> None:
        async with database.transaction() as conn:
            await db.create_team(conn, "Quick")

    async def slow() -> None:
        async with database.transaction() as conn:
            await db.create_team(conn, "Slow")
            await asyncio.sleep(0.01)  # holds the writer while the first change's COMMIT comes due

    await asyncio.wait_for(asyncio.gather(quick(), slow()), timeout=5)
    assert {team.name for team in await db.teams(database.reader)} == {"Quick", "Slow"}


async def test_a_writer_that_gives_up_while_another_process_writes_leaves_nothing_open(tmp_path: Any) -> None:
    database = db.SqliteDatabase(tmp_path / "h.db", busy_timeout_ms=2000)
    await database.open()
    other = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a `handover` command writing

    async def change(name: str) -> None:
        async with database.transaction() as conn:
            await db.create_team(conn, name)

    waiting = asyncio.create_task(change("Given up"))
    await asyncio.sleep(0.2)  # waiting for the write lock on a thread
    waiting.cancel()
    await asyncio.sleep(0.1)
    other.execute("COMMIT")  # the other process finishes; the abandoned BEGIN may now get through
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(change("Next"), timeout=5)
    assert [team.name for team in await db.teams(database.reader)] == ["Next"]
    await database.close()
    other.execute("BEGIN IMMEDIATE")  # nobody holds the write lock any more
    other.execute("ROLLBACK")


async def test_closing_commits_what_was_written(tmp_path: Any) -> None:
    database = db.SqliteDatabase(tmp_path / "h.db")
    await database.open()

    async def change() -> None:
        async with database.transaction() as conn:
            await db.create_team(conn, "Kept")

    writer = asyncio.create_task(change())
    await asyncio.sleep(0)  # the change is made; its COMMIT is due on the next turn
    await database.close()
    await writer
    assert sqlite3.connect(tmp_path / "h.db").execute("SELECT name FROM teams").fetchall() == [("Kept",)]
