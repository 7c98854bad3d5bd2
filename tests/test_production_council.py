"""Production never publishes the demo's made-up council: the legal pages name a real data controller, contacts and
date, and the accessibility statement claims only what was checked, and when."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from service.settings import DEMO_CONTACT, DEMO_COUNCIL, DEMO_DPO, SettingsError, settings_from_env
from tests.conftest import Site

REAL = {
    "HANDOVER_MODE": "production",
    "HANDOVER_SECRET_KEY": "0" * 64,
    "HANDOVER_COUNCIL_NAME": "Riverford City Council",
    "HANDOVER_CONTACT_EMAIL": "handover-help@riverford.example",
    "HANDOVER_DPO_EMAIL": "dpo@riverford.example",
    "HANDOVER_STATEMENT_DATE": "2026-11-20",
}


def test_production_starts_with_the_councils_own_details(tmp_path: Path) -> None:
    settings = settings_from_env({**REAL, "HANDOVER_DATA_DIR": str(tmp_path)})
    assert settings.council_name == "Riverford City Council"
    assert settings.dpo_email == "dpo@riverford.example"


@pytest.mark.parametrize(
    ("name", "demo"),
    [
        ("HANDOVER_COUNCIL_NAME", DEMO_COUNCIL),
        ("HANDOVER_CONTACT_EMAIL", DEMO_CONTACT),
        ("HANDOVER_DPO_EMAIL", DEMO_DPO),
    ],
)
def test_production_refuses_the_demo_council_by_name(tmp_path: Path, name: str, demo: str) -> None:
    missing = {key: value for key, value in REAL.items() if key != name}
    for env in (missing, {**REAL, name: demo}, {**REAL, name: f" {demo.upper()} "}, {**REAL, name: ""}):
        with pytest.raises(SettingsError, match=name):
            settings_from_env({**env, "HANDOVER_DATA_DIR": str(tmp_path)})


def test_production_needs_the_statements_date(tmp_path: Path) -> None:
    missing = {key: value for key, value in REAL.items() if key != "HANDOVER_STATEMENT_DATE"}
    with pytest.raises(SettingsError, match="HANDOVER_STATEMENT_DATE"):
        settings_from_env({**missing, "HANDOVER_DATA_DIR": str(tmp_path)})


def test_the_demo_still_starts_with_its_made_up_council(tmp_path: Path) -> None:
    settings = settings_from_env({"HANDOVER_DATA_DIR": str(tmp_path)})
    assert (settings.council_name, settings.contact_email, settings.dpo_email) == (DEMO_COUNCIL, DEMO_CONTACT, DEMO_DPO)


@pytest.mark.anyio
async def test_the_statement_says_what_was_checked_and_when(site: Site) -> None:
    page = " ".join(html.unescape((await (await site.as_user(None)).get("/accessibility")).text).split())
    assert "of every page" not in page
    assert "(axe-core, against WCAG 2.2 level A and AA) of the pages the service’s browser tests reach" in page
    assert "A manual accessibility audit has not been done yet" in page
    assert "On 1 December 2026, automated checks" in page
