"""The handover's PDF copy says who was told of the new worker: the family's notice and each professional on the plan,
with how they were told (for a checklist version that records it)."""

from __future__ import annotations

import pytest

from service.actions.demo import DEMO_NETWORK
from tests.conftest import Site
from tests.helpers import handover_in
from tests.test_document_pdf import pdf_text, squeezed

pytestmark = pytest.mark.anyio


async def test_the_copy_of_a_closed_version_4_handover_says_who_was_told(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "closed", "mia", version=4, answers={"network": DEMO_NETWORK})
    receiver = await site.as_user("rec")
    response = await receiver.get(f"/handovers/{handover_id}/document.pdf")
    assert response.status_code == 200, response.text[:300]
    _, pages = pdf_text(response.content)
    whole = squeezed("\n".join(pages))
    for text in ("Who was told", "Ms Test (mother), told on a visit", "Dr A. Khan", "GP, Riverside Surgery",
                 "Ms R. Dale", "Told by phone", "What does the child want their new worker to know?"):  # fmt: skip
        assert squeezed(text) in whole, text


async def test_the_copy_of_an_earlier_version_has_no_such_part(site: Site) -> None:
    handover_id = await handover_in(site.db, site.world, "closed", "mia", version=3)
    receiver = await site.as_user("rec")
    _, pages = pdf_text((await receiver.get(f"/handovers/{handover_id}/document.pdf")).content)
    assert "Who was told" not in "\n".join(pages)
