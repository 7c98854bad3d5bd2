"""The accessibility statement and the privacy notice: readable without signing in, linked from every page's footer,
following GOV.UK's model structure, and naming the council from settings (checked at start-up like every setting)."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import SettingsError, settings_from_env
from tests.conftest import Browser, Site, seed
from tests.helpers import settings_for_tests

pytestmark = pytest.mark.anyio

COUNCIL = {
    "council_name": "Riverford City Council",
    "contact_email": "handover-help@riverford.example",
    "dpo_email": "data.protection@riverford.example",
    "statement_date": date(2026, 11, 20),
}


@pytest.fixture
async def council_site(tmp_path: Path) -> AsyncIterator[Site]:
    app = create_app(settings_for_tests(tmp_path, **COUNCIL))
    async with AsyncTestClient(app=app) as client:
        yield Site(app=app, client=client, world=await seed(app.state.db))


def words(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


async def test_the_accessibility_statement_follows_the_model_and_names_the_council(council_site: Site) -> None:
    response = await Browser(council_site.client).get("/accessibility")
    assert response.status_code == 200, "readable without signing in"
    page = words(response)
    for heading in (
        "Accessibility statement for Handover",
        "How accessible this service is",
        "Feedback and contact information",
        "Reporting accessibility problems with this service",
        "Enforcement procedure",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
    ):
        assert f">{heading}</h" in page, heading
    assert "This service is run by Riverford City Council" in page
    assert 'href="mailto:handover-help@riverford.example"' in page
    assert "Equality and Human Rights Commission (EHRC)" in page and "Equality Advisory and Support Service" in page
    assert "partially compliant" in page and "axe-core" in page
    assert "This statement was prepared on 20 November 2026." in page


async def test_the_privacy_notice_names_the_controller_the_lawful_basis_and_where_to_complain(
    council_site: Site,
) -> None:
    response = await Browser(council_site.client).get("/privacy")
    assert response.status_code == 200, "readable without signing in"
    page = words(response)
    assert "Riverford City Council is the data controller" in page
    assert "Article 6(1)(e)" in page and "9(2)(g)" in page and "Schedule 1" in page
    assert "Data Protection Act 2018" in page and "Children Act 1989" in page
    assert 'href="mailto:data.protection@riverford.example"' in page
    assert "How long we keep it" in page and "retention schedule" in page
    assert "Information Commissioner" in page and "0303 123 1113" in page
    assert "after 30 minutes without activity, or after 12 hours" in page
    assert "last updated on 20 November 2026" in page


async def test_every_page_links_to_both_from_its_footer(site: Site) -> None:
    anonymous = await site.as_user(None)
    signed_in = await site.as_user("aud")
    for person, url in ((anonymous, "/sign-in"), (anonymous, "/privacy"), (signed_in, "/audit/incomplete")):
        page = (await person.get(url)).text
        footer = page[page.index('<footer class="govuk-template__footer">') :]
        assert 'href="/accessibility">Accessibility statement</a>' in footer, url
        assert 'href="/privacy">Privacy notice</a>' in footer, url
    assert (await anonymous.get("/no/such/page")).status_code == 404


async def test_the_demo_council_is_the_default(site: Site) -> None:
    page = words(await (await site.as_user(None)).get("/accessibility"))
    assert "Example Borough Council" in page and "handover-support@example.gov.uk" in page


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HANDOVER_COUNCIL_NAME", ""),
        ("HANDOVER_COUNCIL_NAME", "Riverford\nCity Council"),
        ("HANDOVER_COUNCIL_NAME", "R" * 201),
        ("HANDOVER_CONTACT_EMAIL", "not an address"),
        ("HANDOVER_CONTACT_EMAIL", "help@riverford"),
        ("HANDOVER_DPO_EMAIL", "dpo@@riverford.example"),
        ("HANDOVER_DPO_EMAIL", "dpø@riverford.example"),
        ("HANDOVER_STATEMENT_DATE", "20/11/2026"),
        ("HANDOVER_STATEMENT_DATE", "2026-02-30"),
    ],
)
def test_a_bad_council_setting_stops_start_up_by_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        settings_from_env({"HANDOVER_DATA_DIR": str(tmp_path), name: value})


def test_the_council_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    settings = settings_from_env(
        {
            "HANDOVER_DATA_DIR": str(tmp_path),
            "HANDOVER_COUNCIL_NAME": "  Riverford City Council ",
            "HANDOVER_CONTACT_EMAIL": "handover-help@riverford.example",
            "HANDOVER_DPO_EMAIL": "data.protection@riverford.example",
            "HANDOVER_STATEMENT_DATE": "2026-11-20",
        }
    )
    assert {key: getattr(settings, key) for key in COUNCIL} == COUNCIL
