"""An overdue handover, marked in red on the sending manager's queue and found by the auditor with the report's
"Overdue only" filter and "Most overdue first" sort: each page scanned by axe, with and without JavaScript."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from service import db
from service.actions.demo import CASE_M_LIKE
from tests.browser.conftest import Server
from tests.browser.support import Client, Person
from tests.helpers import LATEST, complete, on_record_of

pytestmark = pytest.mark.browser


def _write(server: Server, sql: str, params: tuple[object, ...]) -> int | None:
    """A change to the running service's database through the store (another process, as an operator's would be),
    on a thread of its own: Playwright keeps this thread's event loop running."""

    async def change() -> int | None:
        database = db.SqliteDatabase(server.data_dir / "handover.db")
        async with database.opened(), database.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.lastrowid

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, change()).result()


@pytest.fixture(scope="module")
def overdue_handover(server: Server) -> Iterator[int]:
    """A submitted handover of a child of its own (C-40), started and submitted ninety days ago: past every limit.
    Cancelled afterwards, so that the other tests' queues and reports are as they expect."""
    world = server.world
    case_id = _write(
        server,
        "INSERT INTO cases (reference, child_name, date_of_birth, allocated_worker_id, allocated_team_id,"
        " allocated_since) VALUES ('C-40', 'Child 40', '2016-05-05', ?, ?, '2024-01-01T09:00:00+00:00')",
        (world.users["out"], world.teams["north"]),
    )
    assert case_id is not None
    client = Client(server.url, "out")
    handover_id = client.start(case_id, world.teams["cp"], world.users["rec"])
    for section_id, answers in complete(
        checklist=LATEST, **CASE_M_LIKE, **{"case-summary": on_record_of("c40")}
    ).items():
        client.save(handover_id, section_id, answers)
    client.submit(handover_id)
    client.close()
    long_ago = (datetime.now(UTC) - timedelta(days=90)).isoformat(timespec="seconds")
    _write(
        server, "UPDATE handovers SET started_at = ?, state_since = ? WHERE id = ?", (long_ago, long_ago, handover_id)
    )
    yield handover_id
    _write(server, "UPDATE handovers SET state = 'cancelled' WHERE id = ?", (handover_id,))


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_an_overdue_handover_is_marked_on_the_queue_and_found_by_the_report(
    person: Callable[..., Person], overdue_handover: int, javascript: bool
) -> None:
    smgr = person("smgr", javascript=javascript)
    smgr.goto("/queue")  # scanned by axe
    row = smgr.page.get_by_role("row").filter(has=smgr.page.get_by_role("link", name="Child 40"))
    expect(row.locator(".govuk-tag--red")).to_have_text(re.compile(r"^Overdue by \d+ working days \(due .+\)$"))

    aud = person("aud", javascript=javascript)
    aud.goto("/audit/incomplete")
    aud.page.get_by_label("Due", exact=True).select_option(label="Overdue only")
    aud.page.get_by_label("Sort by").select_option(label="Most overdue first")
    aud.press("Apply filters")  # scanned by axe
    report = aud.page.get_by_role("table", name=re.compile("^Page 1 of"))
    listed = report.get_by_role("row").filter(has_text="C-40")
    expect(listed.locator(".govuk-tag--red")).to_contain_text("Overdue by")
    expect(report.locator(".app-due")).to_have_count(0)  # none that is not overdue
