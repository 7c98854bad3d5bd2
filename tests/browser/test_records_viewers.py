"""An administrator corrects a child's case record in the browser (a mistake first), with JavaScript and without it;
the sending team's manager then sees the corrected name on the handover and opens who has viewed it. Every page
reached is scanned by axe."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.support import Person

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_an_administrator_corrects_a_case_record_and_a_manager_sees_who_viewed_the_handover(
    person: Callable[..., Person], javascript: bool
) -> None:
    name = "Robyn Vale" if javascript else "Robin Vaile"

    admin = person("adm", javascript=javascript)
    admin.goto("/admin/people")
    admin.follow("Case records")
    expect(admin.heading("Case records")).to_be_visible()
    admin.page.get_by_label("Child's name or case reference").fill("RV-20")
    admin.press("Search")
    admin.follow(re.compile(r"^Rob(in|yn) Vai?le$"))
    expect(admin.heading(re.compile("^Correct .*'s case record$"))).to_be_visible()

    # A mistake first: the message is in the summary and by the field, and nothing is saved
    admin.page.get_by_label("Child's name").fill("")
    admin.press("Correct the case record")
    expect(admin.page).to_have_title(re.compile("^Error: "))
    summary = admin.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name="Enter the child's name")).to_be_visible()

    admin.page.get_by_label("Child's name").fill(name)
    admin.press("Correct the case record")
    expect(admin.flash()).to_contain_text("The case record has been corrected")
    expect(admin.page.get_by_label("Child's name")).to_have_value(name)

    # The sending team's manager finds the handover by the corrected name and sees who has viewed it
    smgr = person("smgr", javascript=javascript)
    smgr.goto("/search?q=RV-20")
    smgr.follow(re.compile(f"^{name}"))
    expect(smgr.page.get_by_text(name).first).to_be_visible()
    smgr.follow("Who has viewed this handover")
    expect(smgr.heading("Who has viewed this handover")).to_be_visible()
    first = smgr.page.get_by_role("row").nth(1)
    expect(first).to_contain_text("Smgr")
    expect(first).to_contain_text("Sending team manager")
    expect(smgr.page.get_by_role("cell", name="Started the handover")).to_be_visible()
