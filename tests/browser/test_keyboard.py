"""A person who uses only the keyboard (Tab, Shift+Tab, Enter and Space, and typing) signs in, completes a section
(after meeting its error messages) and submits the handover. The other sections were filled in beforehand over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from service.actions.demo import CASE_M_LIKE
from tests.browser.conftest import Server
from tests.browser.support import Client, Person
from tests.conftest import PASSWORD
from tests.helpers import CHECKLIST, LATEST, complete, on_record_of

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return '';
  const named = el.labels && el.labels.length ? el.labels[0].innerText : el.getAttribute('aria-label');
  const label = named || el.innerText;
  const kind = el.tagName === 'INPUT' ? el.type : el.tagName.toLowerCase();
  return kind + ': ' + (label || '').trim().replace(/\\s+/g, ' ');
}"""

# GOV.UK Frontend's focus state: a yellow (#ffdd00) outline, background or box-shadow. Radios and checkboxes draw theirs
# on the label's pseudo-elements, so only other controls are checked here.
FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (el.type === 'radio' || el.type === 'checkbox') return true;
  const style = getComputedStyle(el);
  const yellow = 'rgb(255, 221, 0)';
  return style.outlineColor === yellow || style.backgroundColor === yellow || style.boxShadow.includes(yellow);
}"""


class Keyboard:
    def __init__(self, someone: Person) -> None:
        self.someone = someone
        self.page = someone.page

    def focused(self) -> str:
        return str(self.page.evaluate(FOCUSED))

    def tab_to(self, wanted: str, *, backwards: bool = False, limit: int = 60) -> None:
        """Press Tab (or Shift+Tab) until `wanted` ("kind: accessible label") has the focus, which must show."""
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            if self.focused() == wanted:
                assert self.page.evaluate(FOCUS_VISIBLE), f"no visible focus on {wanted}"
                return
        raise AssertionError(f"never reached {wanted!r} with the keyboard; focus is on {self.focused()!r}")

    def activate(self, key: str = "Enter") -> None:
        """Enter (links, buttons) or Space (buttons) on what has the focus, which loads a new page."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.someone.check()

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def test_keyboard_only_section_and_submit(person: Callable[..., Person], server: Server) -> None:
    world = server.world
    client = Client(server.url, "out")
    handover_id = client.start(world.cases["c1"], world.teams["cp"], world.users["rec"])
    for section_id, answers in complete(
        checklist=LATEST, **CASE_M_LIKE, **{"case-summary": on_record_of("c1")}
    ).items():
        if section_id != "arrangements":
            client.save(handover_id, section_id, answers)
    client.close()

    someone = person(None)
    keys = Keyboard(someone)
    someone.goto("/sign-in")
    keys.tab_to("text: Username")
    keys.type("out")
    keys.tab_to("password: Password")
    keys.type(PASSWORD)
    keys.tab_to("button: Sign in")
    keys.activate()
    expect(someone.heading("My cases and handovers")).to_be_visible()

    keys.tab_to("a: Open handover for Child 1")
    keys.activate()
    expect(someone.heading("Handover for Child 1")).to_be_visible()
    keys.tab_to("a: Handover arrangements")
    keys.activate()

    # Saved with nothing answered: focus goes to the error summary; its link takes focus to the question.
    keys.tab_to("button: Save and continue")
    keys.activate()
    expect(someone.page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    keys.tab_to("a: Select whether there is a transfer meeting or joint visit")
    keys.page.keyboard.press("Enter")
    assert keys.focused() == "radio: Transfer meeting"

    keys.page.keyboard.press("Space")
    expect(someone.page.get_by_label("Transfer meeting", exact=True)).to_be_checked()
    meeting = date.today() + timedelta(days=5)
    keys.tab_to("text: Day")  # revealed by the answer
    keys.type(str(meeting.day))
    keys.tab_to("text: Month")
    keys.type(str(meeting.month))
    keys.tab_to("text: Year")
    keys.type("20")  # a slip, corrected below
    keys.tab_to("button: Save and continue")
    keys.tab_to("text: Year", backwards=True)  # back to the year: focus selects what is there, typing replaces it
    keys.type(str(meeting.year))
    expect(someone.question("Date of the meeting or visit").get_by_label("Year")).to_have_value(str(meeting.year))
    keys.tab_to("button: Save and continue")
    keys.page.keyboard.press("Space")
    someone.page.wait_for_url(f"**/handovers/{handover_id}")
    someone.check()
    done = len(CHECKLIST.sections)
    expect(someone.page.get_by_text(f"You have completed {done} of {done} sections.")).to_be_visible()

    keys.tab_to("a: Check answers and submit")
    keys.activate()
    expect(someone.page.get_by_text(f"{meeting.day} {meeting:%B %Y}").first).to_be_visible()
    keys.tab_to("button: Submit handover", limit=400)  # past every answer's own "Change" link
    keys.activate("Space")
    expect(someone.heading("Handover submitted")).to_be_visible()
