"""The auditor filters the incomplete-handovers report and downloads it as CSV; and the accessibility check itself is
checked: it must catch a real problem, with and without JavaScript, and excuse nothing but the one known exception.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from service.actions.demo import CASE_M_LIKE
from tests.browser.conftest import Server
from tests.browser.support import Client, Person
from tests.helpers import LATEST, complete, on_record_of

pytestmark = pytest.mark.browser


def test_auditor_filters_the_report_and_downloads_csv(person: Callable[..., Person], server: Server) -> None:
    world = server.world
    client = Client(server.url, "out")
    client.start(world.cases["c2"], world.teams["cp"], world.users["rec"])  # a draft
    submitted = client.start(world.cases["c3"], world.teams["cp"])  # submitted, no receiver named
    for section_id, answers in complete(
        checklist=LATEST, **CASE_M_LIKE, **{"case-summary": on_record_of("c3")}
    ).items():
        client.save(submitted, section_id, answers)
    client.submit(submitted)
    client.close()

    aud = person("aud")
    expect(aud.heading("Incomplete handovers")).to_be_visible()
    aud.type_in("Open for at least (working days)", "a week")
    aud.press("Apply filters")
    expect(aud.page.get_by_role("link", name=re.compile("whole number of working days"))).to_be_visible()

    aud.page.get_by_label("Team", exact=True).select_option(label="North Team")
    aud.page.get_by_label("Team's side of the transfer").select_option(label="Sending")
    aud.page.get_by_label("State", exact=True).select_option(label="Draft")
    aud.type_in("Open for at least (working days)", "0")
    aud.press("Apply filters")
    report = aud.page.get_by_role("table", name=re.compile("^Page 1 of"))
    expect(report.get_by_role("row").filter(has_text="C-2")).to_have_count(1)
    expect(report.get_by_role("row").filter(has_text="C-3")).to_have_count(0)
    aud.screenshot("auditor-report")

    with aud.page.expect_download() as download_info:
        aud.page.get_by_role("link", name="CSV (opens in Excel)").click()
    download = download_info.value
    assert download.suggested_filename == f"incomplete-handovers-{date.today().isoformat()}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert {row["Child reference"] for row in rows} >= {"C-2"}
    assert "C-3" not in {row["Child reference"] for row in rows}
    assert {row["State"] for row in rows} == {"Draft"}
    assert {row["Sending team"] for row in rows} == {"North Team"}


BROKEN = """<!DOCTYPE html><html lang="en"><head><title>Broken</title></head><body><main>
<h1>A page with problems</h1>
<img src="/static/nothing.png">
<div class="govuk-radios"><input class="govuk-radios__input" type="radio" id="r" name="r" aria-expanded="false">
<label for="r">Known exception: GOV.UK's conditional-reveal radio</label></div>
<input type="radio" id="c" name="c" aria-expanded="false"><label for="c">Not excused: not a GOV.UK radio</label>
</main></body></html>"""


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_accessibility_check_catches_problems(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    someone = person(None, javascript=javascript)
    someone.context.route(
        f"{server.url}/axe-self-test", lambda route: route.fulfill(content_type="text/html", body=BROKEN)
    )
    someone.page.goto("/axe-self-test")
    with pytest.raises(AssertionError) as failure:
        someone.check("the self-test page")
    someone.axe.scans = [scan for scan in someone.axe.scans if not scan.url.endswith("/axe-self-test")]
    message = str(failure.value)
    assert "image-alt" in message
    assert "aria-allowed-attr" in message and "#c" in message
    assert "#r" not in message
