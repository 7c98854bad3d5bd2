"""The outgoing worker prints the whole handover and downloads it as a PDF for the case record, with JavaScript and
without: the printable page is scanned by axe, on paper the handover's page uses the full width with no header,
links or buttons, and the download is a whole PDF."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from service import db
from service.actions.demo import CASE_M_LIKE
from tests.browser.conftest import Server
from tests.browser.support import Client, Person
from tests.helpers import LATEST, complete

pytestmark = pytest.mark.browser


async def _new_case(server: Server, reference: str) -> int:
    """A case of its own for this file, held by "out" in North Team (the shared server's cases are other files')."""
    database = db.SqliteDatabase(server.data_dir / "handover.db")
    await database.open()
    try:
        async with database.transaction() as conn:
            return await db.create_case(
                conn,
                reference,
                f"Paper {reference}",
                "2016-05-05",
                server.world.users["out"],
                server.world.teams["north"],
            )
    finally:
        await database.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_the_outgoing_worker_prints_the_handover_and_downloads_its_pdf(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    reference = "PDF-1" if javascript else "PDF-2"
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API holds this thread's event loop
        case_id = pool.submit(asyncio.run, _new_case(server, reference)).result()
    client = Client(server.url, "out")
    handover_id = client.start(case_id, server.world.teams["cp"], server.world.users["rec"])
    on_record = {"child_name": f"Paper {reference}", "date_of_birth": "2016-05-05", "local_reference": reference,
                 "siblings": ""}  # fmt: skip
    for section_id, answers in complete(checklist=LATEST, **CASE_M_LIKE, **{"case-summary": on_record}).items():
        client.save(handover_id, section_id, answers)
    client.close()

    out = person("out", javascript=javascript)
    out.goto(f"/handovers/{handover_id}/view")

    # On paper, the handover's page takes the whole width, with no header, navigation, links list or buttons
    out.page.emulate_media(media="print")
    column = out.page.locator(".govuk-grid-column-two-thirds").first
    container = out.page.locator(".govuk-width-container").filter(has=column)
    column_width = column.evaluate("element => element.getBoundingClientRect().width")
    container_width = container.evaluate("element => element.getBoundingClientRect().width")
    assert column_width >= container_width - 1, (column_width, container_width)
    expect(out.page.locator(".govuk-template__header")).to_be_hidden()
    expect(out.page.locator("#document-links")).to_be_hidden()
    out.page.emulate_media(media="screen")

    with out.page.expect_download() as download_info:
        out.page.get_by_role("link", name=re.compile("^Download as PDF")).click()
    download = download_info.value
    assert download.suggested_filename == f"handover-{handover_id}.pdf"
    path = download.path()
    assert path is not None
    content = path.read_bytes()
    assert content.startswith(b"%PDF-") and b"%%EOF" in content[-32:]

    out.follow(re.compile("^Print"))
    expect(out.heading(f"Handover for Paper {reference}")).to_be_visible()
    expect(out.heading("The handover", level=2)).to_be_visible()
    expect(out.page.get_by_text("use your browser’s Print command")).to_be_visible()
    out.page.emulate_media(media="print")
    expect(out.page.get_by_text("use your browser’s Print command")).to_be_hidden()
    expect(out.page.locator(".govuk-back-link")).to_be_hidden()
    out.page.emulate_media(media="screen")
