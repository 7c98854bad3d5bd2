"""An administrator meets the account rules in the browser, with JavaScript and without it: a common password is
refused by its field, a leaver who was a service manager and the head of service leaves both posts vacant, and the
administrator's "Waiting for you" lists them until they are filled. Every page reached is scanned by axe."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from service.core import accounts, identity
from tests.browser.support import Person

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_leavers_posts_wait_for_the_administrator_until_filled(
    person: Callable[..., Person], javascript: bool
) -> None:
    username = "postholderjs" if javascript else "postholdernojs"
    name = username.title()
    service = f"Early help {'js' if javascript else 'nojs'}"
    admin = person("adm", javascript=javascript)

    # A joiner who will manage a team, with a common password first: refused by its field
    admin.goto("/admin/people/new")
    admin.type_in("Full name", name)
    admin.type_in("Username", username)
    admin.type_in("Work email address", f"{username}@example.gov.uk")
    admin.type_in("Password", "Password123456")
    admin.tick("Team manager of", ["South Team"])
    admin.press("Add person")
    summary = admin.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary.get_by_role("link", name=identity.PASSWORD_COMMON)).to_be_visible()
    admin.type_in("Password", "tall ferns grow quietly")
    admin.press("Add person")
    expect(admin.flash()).to_contain_text(f"{name} has been added")

    # They become a service manager and the head of service (only team managers are offered)
    admin.goto("/admin/teams")
    admin.type_in("Service name", service)
    admin.page.get_by_label("Service manager", exact=True).select_option(username)
    admin.press("Add service")
    admin.page.get_by_label("Head of service", exact=True).select_option(username)
    admin.press("Save head of service")
    expect(admin.flash()).to_contain_text("The head of service has been changed")

    # They leave: both posts are vacated with the account, and the confirmation says so
    admin.goto("/admin/people")
    admin.follow(name)
    admin.press("Disable account")  # a link drawn as a button
    admin.press("Disable account")
    expect(admin.heading("Account disabled")).to_be_visible()
    expect(admin.page.get_by_text(f"No one is service manager of {service} now")).to_be_visible()
    expect(admin.page.get_by_text("No one is head of service now")).to_be_visible()

    # The administrator's landing page lists the vacant posts, each linked to where it is filled
    admin.follow("Back to people")
    waiting = admin.page.get_by_role("list").filter(has_text=re.compile("no service manager|no head of service"))
    expect(waiting.get_by_role("link", name=accounts.vacant_service_manager(service))).to_be_visible()
    admin.follow(accounts.VACANT_HEAD_OF_SERVICE, scope=waiting)
    admin.page.get_by_label("Head of service", exact=True).select_option("smgr")
    admin.press("Save head of service")
    admin.page.locator("#managed_service").select_option(service)  # two selects are labelled "Service"
    admin.page.get_by_label("New service manager", exact=True).select_option("smgr")
    admin.press("Change service manager")
    expect(admin.flash()).to_contain_text("The service manager has been changed")
    admin.goto("/admin/people")
    expect(admin.page.get_by_role("link", name=accounts.vacant_service_manager(service))).to_have_count(0)
    expect(admin.page.get_by_role("link", name=accounts.VACANT_HEAD_OF_SERVICE)).to_have_count(0)
