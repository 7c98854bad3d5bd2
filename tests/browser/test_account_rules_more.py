"""An administrator meets more account rules in the browser, with JavaScript and without it: a handover no manager
may endorse waits for them with the command that unblocks it; the disable page says before confirming what stops
it, that a team will be left without its only manager, and which post will become vacant; and a password cannot be
reset to the one the account already has. Every page reached is scanned by axe.

Seeded in tests/browser/conftest.py (`_seed_account_rules_more`): Lone Team and Quiet Team, and case c27."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from service.core import accounts, identity
from tests.browser.conftest import Server
from tests.browser.support import Person

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_administrator_is_warned_before_it_is_too_late(
    person: Callable[..., Person], server: Server, javascript: bool
) -> None:
    users = server.world.users
    admin = person("adm", javascript=javascript)

    # Disabling Pair Team's other manager would leave its handover with nobody who may endorse it: said beforehand
    admin.goto(f"/admin/people/{users['pairmgr']}/disable")
    stranded = admin.page.locator("#stranded")
    expect(admin.heading("Handovers that will wait for you to name a manager", level=2)).to_be_visible()
    expect(stranded).to_contain_text("for Pip Tern")
    expect(stranded.locator("code")).to_contain_text("--step endorse")

    # Waiting for you: the on-behalf handover nobody may endorse, linked to what to do about it
    admin.goto("/admin/people")
    waiting = admin.page.get_by_role("list").filter(has_text="has no manager who can endorse it in Lone Team")
    link = waiting.get_by_role("link", name=re.compile(r"for Ash Rowe, written on behalf of Loner, .* Lone Team"))
    expect(link).to_be_visible()
    link.click()
    item = admin.page.locator("li[id^=step-]").filter(has_text="Ash Rowe")
    expect(item.locator("code")).to_contain_text("handover name-manager")
    expect(item.locator("code")).to_contain_text("--step endorse --manager USERNAME")
    admin.check("the list of handovers no manager can take forward")

    # The only manager of a team with work waiting: the page says so before any button, and offers none
    admin.goto(f"/admin/people/{users['lonemgr']}/disable")
    expect(admin.page.get_by_text("You cannot disable this account yet")).to_be_visible()
    only = "Lonemgr is the only team manager of Lone Team with an enabled account"
    expect(admin.page.get_by_text(only)).to_be_visible()
    expect(admin.page.get_by_role("button", name="Disable account")).to_have_count(0)

    # The only manager of a quiet team, who manages a service: the team and the post are named before confirming
    service = f"Quiet service {'js' if javascript else 'nojs'}"
    admin.goto("/admin/teams")
    admin.type_in("Service name", service)
    admin.page.get_by_label("Service manager", exact=True).select_option("quietmgr")
    admin.press("Add service")
    admin.goto(f"/admin/people/{users['quietmgr']}/disable")
    expect(admin.page.get_by_text(accounts.sole_manager_message("Quietmgr", "Quiet Team"))).to_be_visible()
    expect(admin.page.get_by_text(accounts.post_vacated_message(f"service manager of {service}"))).to_be_visible()
    expect(admin.page.get_by_role("button", name="Disable account")).to_be_visible()
    admin.follow("Cancel")

    # A password reset to the one just set is refused by its field
    password = f"tall ferns grow quietly {'with' if javascript else 'without'} script"
    for attempt in range(2):
        admin.goto(f"/admin/people/{users['quietmgr']}/password")
        admin.type_in("New password", password)
        admin.press("Reset password")
        if attempt == 0:
            expect(admin.flash()).to_be_visible()
    summary = admin.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name=identity.PASSWORD_IS_CURRENT)).to_be_visible()
    expect(admin.page.locator("#password-error")).to_contain_text(identity.PASSWORD_IS_CURRENT)
