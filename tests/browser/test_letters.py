"""The outgoing worker writes a letter to the family in a real browser, with and without JavaScript: the form, the form
sent back with its errors, and the printable letter, each scanned by axe; printed, only the letter shows; downloaded,
it is a PDF of the same letter."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from service import db
from service.core import letters as rules
from service.core.clock import today
from tests.browser.conftest import Server
from tests.browser.support import Person
from tests.test_letter_pages import letter_handover

pytestmark = pytest.mark.browser


def _letter_ready(server: Server, reference: str, child: str) -> int:
    """A case of out's of its own, and out's draft handover of it on the newest checklist, Rec named to receive it,
    with a joint visit booked for ten days from now."""

    async def make() -> int:
        database = db.SqliteDatabase(server.data_dir / "handover.db")
        await database.open()
        try:
            async with database.transaction() as conn:
                case_id = await db.create_case(
                    conn, reference, child, "2016-05-05", server.world.users["out"], server.world.teams["north"]
                )
            server.world.cases[reference] = case_id
            visit = (today() + timedelta(days=10)).isoformat()
            return await letter_handover(
                database, server.world, case=reference,
                arrangements={"transfer_meeting": "joint_visit", "meeting_on": visit},
            )  # fmt: skip
        finally:
            await database.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return int(pool.submit(asyncio.run, make()).result())


@pytest.mark.parametrize("javascript", [False, True], ids=["without-js", "with-js"])
def test_the_outgoing_worker_writes_and_prints_a_letter_to_the_family(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    child = f"Letter {'Js' if javascript else 'Nojs'}"
    handover_id = _letter_ready(server, f"LT-{int(javascript)}", child)
    out = person("out", javascript=javascript)
    out.goto(f"/handovers/{handover_id}/letters")
    expect(out.heading("Write a letter about the new social worker")).to_be_visible()
    visit = today() + timedelta(days=10)
    expect(out.page.get_by_text(f"{visit.day} {visit:%B %Y}")).to_be_visible()

    # sent with nothing chosen and the contact cleared: each field says what is missing, and the summary links to it
    out.type_in(rules.FIELD_LABELS[rules.CONTACT_FIELD], "")
    out.press("Write the letter")
    summary = out.page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select who the letter is to")
    expect(summary).to_contain_text("Enter the date from which the new worker is responsible")
    expect(summary).to_contain_text("Enter how the family can contact the new worker")
    out.check("the letter form with its errors")

    out.choose(rules.FIELD_LABELS[rules.LETTER_FIELD], rules.RECIPIENTS[rules.FAMILY])
    out.type_in(rules.FIELD_LABELS[rules.ADDRESSEE_FIELD], "Ms Ashford")
    start = today() + timedelta(days=14)
    out.type_date(rules.FIELD_LABELS[rules.RESPONSIBLE_FROM_FIELD], start.isoformat())
    out.type_in(rules.FIELD_LABELS[rules.CONTACT_FIELD], "on 01632 960 001")
    out.press("Write the letter")

    letter = out.page.locator("article.app-letter")
    expect(out.heading("Your letter to Ms Ashford")).to_be_visible()
    expect(out.heading("A new social worker for Letter", level=2)).to_be_visible()
    expect(letter).to_contain_text("Dear Ms Ashford,")
    responsible = f"From {start.day} {start:%B %Y}, Letter's social worker will be Rec, in the Cp Team"
    expect(letter).to_contain_text(responsible)
    expect(letter).to_contain_text("You can contact Rec on 01632 960 001.")
    expect(letter).to_contain_text(f"Rec and I will visit you together on {visit.day} {visit:%B %Y}")
    print_button = out.page.get_by_role("button", name="Print this letter")
    if javascript:
        expect(print_button).to_be_visible()
    else:
        expect(print_button).to_have_count(0)  # no button that would do nothing: the page says how to print
    expect(out.page.get_by_text("Use your browser’s print command")).to_be_visible()
    expect(out.page.get_by_role("link", name="record it on who has been told")).to_have_attribute(
        "href", f"/handovers/{handover_id}/telling"
    )

    # the same letter as a PDF, its words real text
    with out.page.expect_download() as download_info:
        out.page.get_by_role("button", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"letter-family-LT-{int(javascript)}.pdf"
    pages = PdfReader(io.BytesIO(Path(download.path()).read_bytes())).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert "Dear Ms Ashford," in text and responsible in text and f"{visit.day} {visit:%B %Y}" in text

    # printed, the letter is all there is on the paper
    out.page.emulate_media(media="print")
    expect(letter).to_be_visible()
    for hidden in (".govuk-template__header", ".govuk-template__footer", ".app-print-hidden", ".govuk-back-link"):
        expect(out.page.locator(hidden).first).to_be_hidden()
    out.page.emulate_media(media="screen")
