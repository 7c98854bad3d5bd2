"""An administrator looks after joiners, movers and leavers in the browser, with JavaScript and without it: adds a
person (a mistake first), changes their teams, resets their password, disables their account when they leave, and
puts a team in a service. Every page they reach is scanned by axe."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.support import Person

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a long enough password for a joiner"


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_an_administrator_adds_moves_and_disables_a_person(person: Callable[..., Person], javascript: bool) -> None:
    username = "joinerjs" if javascript else "joinernojs"
    name = username.title()  # what the page's "Signed in as" shows

    admin = person("adm", javascript=javascript)
    admin.goto("/admin/people")
    expect(admin.heading("People")).to_be_visible()
    expect(admin.page.get_by_role("cell", name="Out", exact=True)).to_be_visible()

    # A joiner, with a mistake first: the messages are in the summary and by each field
    admin.press("Add a person")  # a link drawn as a button
    admin.type_in("Full name", name)
    admin.type_in("Username", username)
    admin.type_in("Work email address", "not an address")
    admin.press("Add person")
    summary = admin.page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(admin.page).to_have_title(re.compile("^Error: "))
    expect(summary.get_by_role("link", name=re.compile("Enter an email address in the correct format"))).to_be_visible()
    expect(summary.get_by_role("link", name="Select at least one team, or a role across the service")).to_be_visible()
    admin.type_in("Work email address", f"{username}@example.gov.uk")
    admin.type_in("Password", NEW_PASSWORD)
    admin.tick("Social worker in", ["South Team"])
    admin.press("Add person")
    expect(admin.flash()).to_contain_text(f"{name} has been added")
    expect(admin.page.get_by_text(f"{username}@example.gov.uk")).to_be_visible()

    # The joiner signs in
    joiner = person(None, javascript=javascript)
    joiner.sign_in(username, NEW_PASSWORD)

    # A mover: now a worker in the receiving team as well
    admin.follow("Change teams and roles")
    admin.tick("Social worker in", ["Cp Team"])
    admin.press("Save changes")
    expect(admin.flash()).to_contain_text("teams and roles have been changed")
    expect(admin.page.get_by_text("Cp Team (worker); South Team (worker)")).to_be_visible()

    # A password reset
    admin.follow("Reset password")
    admin.type_in("New password", "short")
    admin.press("Reset password")
    expect(admin.page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    admin.type_in("New password", NEW_PASSWORD + " again")
    admin.press("Reset password")
    expect(admin.flash()).to_contain_text("password has been reset")

    # A leaver: check, disable, confirmation; their open session ends at once
    admin.press("Disable account")  # a link drawn as a button
    expect(admin.heading("Check before you disable this account")).to_be_visible()
    admin.press("Disable account")
    expect(admin.heading("Account disabled")).to_be_visible()
    admin.follow("Back to people")
    row = admin.page.get_by_role("row").filter(has=admin.page.get_by_role("link", name=name, exact=True))
    expect(row).to_contain_text("Disabled")
    joiner.page.goto("/")  # signed out at once, and told why
    expect(joiner.page).to_have_url(re.compile(r"/sign-in\?ended=disabled$"))
    expect(joiner.page.get_by_text("your account is no longer enabled")).to_be_visible()
    joiner.check()

    # Teams and services
    admin.follow("Teams and services")
    service = "Early help" if javascript else "Family support"
    admin.type_in("Service name", service)
    admin.page.get_by_label("Service manager", exact=True).select_option(label="Smgr (smgr)")
    admin.press("Add service")
    expect(admin.flash()).to_contain_text("The service has been added")
    expect(admin.page.get_by_role("cell", name=service, exact=True)).to_be_visible()
