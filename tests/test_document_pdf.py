"""The handover as a document for the case record: the whole handover in a tagged PDF, made in the document worker,
recorded in the audit trail and naming its own entry; its printable page; and who may have either."""

from __future__ import annotations

import io
import re
import sys
from typing import Any

import pypdf
import pytest

from service import actions, db, documents
from service.core.answers import shown_fields, shown_groups
from service.core.tokens import token_hash
from service.web.layout import display_value
from tests.conftest import Site
from tests.helpers import CHECKLISTS, handover_in

pytestmark = pytest.mark.anyio

READBACK = "I take on these risks and the plan to manage them."  # what tests.helpers.handover_in confirms with


def squeezed(text: str) -> str:
    """Text without its white space: a PDF's text breaks lines wherever the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def pdf_text(pdf: bytes) -> tuple[pypdf.PdfReader, list[str]]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return reader, [page.extract_text() for page in reader.pages]


async def expected_answers(site: Site, handover_id: int) -> list[str]:
    """Every answer the handover holds, as a reader sees it, from its own checklist version and its stored answers:
    each shown field of each section, and each shown field of every row of every shown group."""
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    expected = []
    for section in view.checklist.sections:
        answers = view.answers(section.id)
        expected.append(section.title)
        for field in shown_fields(section.fields, answers.values):
            expected += [field.label, display_value(field, answers.values.get(field.id, "")) or "Not answered"]
        for group in shown_groups(section, answers):
            expected.append(group.title)
            for row in answers.groups.get(group.id, []):
                for field in shown_fields(group.fields, row):
                    expected += [field.label, display_value(field, row.get(field.id, "")) or "Not answered"]
    return expected


async def copies_recorded(site: Site, handover_id: int) -> list[Any]:
    return [
        stored
        for stored in await db.audit_entries(site.db.reader)
        if stored.entry.action == "produce_document" and stored.entry.object_id == handover_id
    ]


async def api_token(site: Site, username: str) -> str:
    token = "hov_document_" + username
    async with site.db.transaction() as conn:
        await db.create_api_token(conn, site.world.users[username], token_hash(token), "read")
    return token


async def test_a_reader_downloads_the_whole_handover_with_its_audit_entry_on_every_page(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "closed", "mia")
    receiver = await site.as_user("rec")
    response = await receiver.get(f"/handovers/{handover_id}/document.pdf")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="handover-{handover_id}.pdf"'
    reader, pages = pdf_text(response.content)
    whole = squeezed("\n".join(pages))

    missing = [text for text in await expected_answers(site, handover_id) if squeezed(text) not in whole]
    assert not missing, missing[:10]
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None and view.confirmations
    for confirmation in view.confirmations.values():
        assert squeezed(f"in their own words: {confirmation.readback}") in whole
    assert squeezed(READBACK) in whole
    assert squeezed(f"({view.handover.checklist_id}), version {view.handover.checklist_version}") in whole
    for who in (
        "Started by (outgoing worker)Out, North Team",
        "Endorsed bySmgr",
        "Acknowledged byRec",
        "Approved byRmgr",
        "Receiving teamCp Team",
    ):
        assert squeezed(who) in whole, who

    [copy] = await copies_recorded(site, handover_id)
    assert copy.entry.actor_id == site.world.users["rec"]
    assert copy.entry.details == {"format": "pdf", "checklist_id": "case-transfer", "checklist_version": 1}
    footer = f"Audit entry {copy.entry.seq}, SHA-256 {copy.hash}"
    assert all(footer in page for page in pages), "every page names the entry and its hash"
    assert len(pages) > 1
    assert squeezed("Rec: produced a PDF copy for the case record") in whole, "the copy is in its own history"

    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"]), "a tagged PDF"
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-GB"
    assert reader.metadata is not None and reader.metadata.title == "Handover for Mia Test (T-1)"
    assert "weasyprint" not in sys.modules, "the service's process never loads the converter"

    page = await receiver.get(f"/handovers/{handover_id}/view")
    assert "Rec: produced a PDF copy for the case record" in page.text, "the handover's history shows the copy"
    viewers = await (await site.as_user("smgr")).get(f"/handovers/{handover_id}/viewers")
    assert "Produced a PDF copy for the case record" in viewers.text, "who has viewed it lists the copy"


async def test_disagreements_and_queries_are_in_the_copy(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "returned", "mia")
    out = await site.as_user("out")
    raised = await out.post(
        f"/handovers/{handover_id}/disagreements",
        {"about": "Contact with the father", "with_whom": "The sending manager", "view": "Contact is unsafe"},
    )
    assert raised.status_code == 303, raised.text[:300]
    response = await out.get(f"/handovers/{handover_id}/document.pdf")
    assert response.status_code == 200
    whole = squeezed("\n".join(pdf_text(response.content)[1]))
    for text in ("Contact with the father", "The sending manager", "Contact is unsafe", "Stage reached", "open"):
        assert squeezed(text) in whole, text
    for query in await db.queries_of(site.db.reader, handover_id):
        assert squeezed(f"Returned by {query.returned_by_name}") in whole
        assert squeezed(query.query) in whole


async def test_the_api_serves_the_copy_to_a_token_that_may_read_the_handover(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    allowed = await api_token(site, "smgr")
    response = await site.client.get(
        f"/api/v1/handovers/{handover_id}/document.pdf", headers={"Authorization": f"Bearer {allowed}"}
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    [copy] = await copies_recorded(site, handover_id)
    assert copy.entry.actor_id == site.world.users["smgr"]
    assert f"SHA-256 {copy.hash}" in pdf_text(response.content)[1][0]

    refused = await site.client.get(
        f"/api/v1/handovers/{handover_id}/document.pdf",
        headers={"Authorization": f"Bearer {await api_token(site, 'other')}"},
    )
    assert refused.status_code == 404
    assert set(refused.json()) == {"code", "message", "details"}
    anonymous = await site.client.get(f"/api/v1/handovers/{handover_id}/document.pdf")
    assert anonymous.status_code == 401 and set(anonymous.json()) == {"code", "message", "details"}
    assert len(await copies_recorded(site, handover_id)) == 1, "a refused request records no copy"

    schema = (await site.client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/api/v1/handovers/{handover_id}/document.pdf"]["get"]
    assert "application/pdf" in operation["responses"]["200"]["content"]
    assert {"401", "404", "503"} <= set(operation["responses"])


async def test_someone_who_may_not_read_the_handover_gets_no_copy_and_learns_nothing(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    for username in ("other", "omgr", "rec2"):
        person = await site.as_user(username)
        assert (await person.get(f"/handovers/{handover_id}/document.pdf")).status_code == 404
        assert (await person.get(f"/handovers/{handover_id}/print")).status_code == 404
    assert (await (await site.as_user(None)).get(f"/handovers/{handover_id}/document.pdf")).status_code == 303
    assert await copies_recorded(site, handover_id) == []


async def test_a_conversion_that_takes_too_long_answers_503_and_no_part_of_a_pdf(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    monkeypatch.setattr(documents, "RENDER_SECONDS", 0.0)
    person = await site.as_user("rec")
    page = await person.get(f"/handovers/{handover_id}/document.pdf")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "Sorry, the document could not be made" in page.text
    assert documents.UNAVAILABLE in page.text
    token = await api_token(site, "rec")
    api = await site.client.get(
        f"/api/v1/handovers/{handover_id}/document.pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 503
    assert api.json() == {"code": "unavailable", "message": documents.UNAVAILABLE, "details": []}
    copies = await copies_recorded(site, handover_id)
    failures = [
        stored.entry
        for stored in await db.audit_entries(site.db.reader)
        if stored.entry.action == "produce_document_failed" and stored.entry.object_id == handover_id
    ]
    assert [failure.details["copy"] for failure in failures] == [copy.entry.seq for copy in copies]
    assert all("longer than" in str(failure.details["reason"]) for failure in failures)
    history = (await person.get(f"/handovers/{handover_id}/view")).text
    assert "Rec: was not given the PDF copy: it could not be made" in history

    monkeypatch.setattr(documents, "RENDER_SECONDS", 60.0)
    again = await person.get(f"/handovers/{handover_id}/document.pdf")
    assert again.status_code == 200 and again.content.startswith(b"%PDF-"), "a new worker takes the next one"


async def test_render_pdf_reads_nothing_from_the_network_and_keeps_title_and_language() -> None:
    html = (
        '<!DOCTYPE html><html lang="cy"><head><title>ignored</title>'
        '<link rel="stylesheet" href="http://127.0.0.1:9/never.css"></head>'
        '<body><p>Llythyr</p><img src="http://127.0.0.1:9/never.png" alt="Logo"></body></html>'
    )
    try:
        pdf = await documents.render_pdf(html, title="Llythyr i’r teulu", language="cy")
    finally:
        documents.shutdown()
    reader, pages = pdf_text(pdf)
    assert "Llythyr" in pages[0]
    assert reader.metadata is not None and reader.metadata.title == "Llythyr i’r teulu"
    assert reader.trailer["/Root"]["/Lang"] == "cy"
    with pytest.raises(ValueError):
        await documents.render_pdf(html, title="x", stylesheets=("../documents.py",))


async def test_the_handover_page_links_to_its_pdf_and_its_printable_version(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "acknowledged", "mia")
    person = await site.as_user("rmgr")
    page = (await person.get(f"/handovers/{handover_id}/view")).text
    assert f'href="/handovers/{handover_id}/document.pdf"' in page
    assert f'href="/handovers/{handover_id}/print"' in page
    printable = await person.get(f"/handovers/{handover_id}/print")
    assert printable.status_code == 200
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    for section in view.checklist.sections:
        assert f'id="section-{section.id}"' in printable.text
    assert READBACK in printable.text
    assert "govuk-grid-column-full" in printable.text
    assert await copies_recorded(site, handover_id) == [], "a printable page is a view, not a copy"


async def test_an_urgent_transfer_and_the_siblings_left_behind_are_in_the_copy(site: Site) -> None:
    from tests.test_urgent_transfer import REASON, authorise, make_head

    await make_head(site)
    handover_id = await handover_in(site.db, site.world, "draft", "mia", complete_it=False)
    await authorise(await site.as_user("omgr"), handover_id, site.world.users["rec2"])
    response = await (await site.as_user("out")).get(f"/handovers/{handover_id}/document.pdf")
    assert response.status_code == 200
    whole = squeezed("\n".join(pdf_text(response.content)[1]))
    assert squeezed("Urgent transfer authorised by Omgr") in whole
    assert squeezed(REASON) in whole
    assert squeezed("Mia Test is handed over without the other children of the Test family sibling group") in whole
    assert squeezed("Liam Test (T-2)") in whole, "the sibling staying behind, with why"
    assert squeezed("Not started.") in whole, "a section never saved says so"
