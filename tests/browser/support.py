"""People in real browsers: sign in, click by label and button name, and check every page they reach with axe-core.

Everything a person does goes through `Person`, and every page it lands on (and every htmx swap) is scanned for
WCAG 2.x A/AA problems before the test goes on, so a journey cannot reach a page that is not checked.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Response, Route, expect

from service.actions.demo import naming_children
from service.checklist import Field, Group, Section, latest
from service.core.answers import SectionAnswers, date_parts
from service.settings import PROJECT_ROOT
from tests.conftest import PASSWORD
from tests.helpers import CHECKLISTS, form_for, handover_id_from, section, version_in

NEWEST = latest(CHECKLISTS, "case-transfer")

AXE_JS = PROJECT_ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# The one known exception, and only for that rule on those elements: GOV.UK Frontend's radios put aria-expanded on
# radio inputs that conditionally reveal content, which axe reports under aria-allowed-attr. GOV.UK keep it on
# purpose so screen readers announce the reveal (alphagov/govuk-frontend#979).
KNOWN_EXCEPTION_RULE = "aria-allowed-attr"
KNOWN_EXCEPTION_SELECTOR = ".govuk-radios__input[aria-expanded]"

RUN_AXE = """
async ({tags, rule, selector}) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  const violations = [];
  let excused = 0;
  for (const v of result.violations) {
    const nodes = v.nodes.filter((node) => {
      if (v.id !== rule) return true;
      const el = node.target.length === 1 ? document.querySelector(node.target[0]) : null;
      const checks = [...node.any, ...node.all, ...node.none];
      const attrs = checks.flatMap((c) => (c.data && Array.isArray(c.data.values)) ? c.data.values : [String(c.data)]);
      const onlyExpanded = attrs.length > 0 && attrs.every((a) => String(a).startsWith('aria-expanded'));
      if (el && el.matches(selector) && onlyExpanded) { excused += 1; return false; }
      return true;
    });
    if (nodes.length) {
      violations.push({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: nodes.map((n) => ({target: n.target, html: n.html, summary: n.failureSummary}))});
    }
  }
  return {violations, excused, version: axe.version};
}
"""


@dataclass
class Scan:
    what: str
    url: str
    javascript: bool
    violations: list[dict[str, Any]]


@dataclass
class Axe:
    """Runs axe-core on pages; pages seen with JavaScript off are replayed, scripts blocked, in a scanning tab."""

    browser: Browser
    scans: list[Scan] = field(default_factory=list)
    version: str = ""
    seconds: float = 0.0
    _replay: Page | None = None
    _replay_html: str = ""
    _replay_url: str = ""

    def check(self, page: Page, what: str, *, javascript: bool) -> None:
        started = time.perf_counter()
        target = page if javascript else self._replayed(page)
        if not target.evaluate("() => typeof window.axe === 'object'"):  # already there after an htmx swap
            target.add_script_tag(path=str(AXE_JS))
        result = target.evaluate(
            RUN_AXE, {"tags": AXE_TAGS, "rule": KNOWN_EXCEPTION_RULE, "selector": KNOWN_EXCEPTION_SELECTOR}
        )
        self.version = result["version"]
        self.seconds += time.perf_counter() - started
        self.scans.append(Scan(what, page.url, javascript, result["violations"]))
        assert not result["violations"], f"axe found accessibility problems on {what} ({page.url}):\n" + describe(
            result["violations"]
        )

    def _replayed(self, page: Page) -> Page:
        """The page exactly as the no-JavaScript browser parsed it, in a tab where only axe may run.

        A context with JavaScript disabled runs no injected script either, so axe cannot run there. The served HTML
        is fulfilled at the same address in a scanning tab whose page scripts are all blocked: the DOM and styles are
        the ones a person without JavaScript gets, and axe is injected with add_script_tag as on every other page.
        """
        if self._replay is None:
            context = self.browser.new_context(bypass_csp=True)
            self._replay = context.new_page()
            self._replay.route("**/*", self._route)
        self._replay_html = page.content()
        self._replay_url = page.url.split("#")[0]
        self._replay.goto(self._replay_url)
        return self._replay

    def _route(self, route: Route) -> None:
        request = route.request
        if request.is_navigation_request() and request.url == self._replay_url:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self._replay_html)
        elif request.resource_type == "script":
            route.abort()
        else:
            route.continue_()

    def close(self) -> None:
        if self._replay is not None:
            self._replay.context.close()


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['html'][:300]}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
    return "\n".join(lines)


class Person:
    """One person in their own browser context (own cookies), with or without JavaScript."""

    def __init__(self, context: BrowserContext, axe: Axe, *, javascript: bool) -> None:
        self.context = context
        self.page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.axe = axe
        self.javascript = javascript
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("requestfailed", lambda request: self.errors.append(f"{request.url} failed: {request.failure}"))

    def _console(self, message: ConsoleMessage) -> None:
        # A page answered with 400 or 409 (a form with errors) is logged as a failed load: that is by design.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.errors.append(f"{response.url} answered {response.status}")

    # ------------------------------------------------------------------ seeing and checking

    def check(self, what: str = "") -> None:
        """Scan the page as it is now; also that nothing failed on it (scripts, or resources that did not load)."""
        self.axe.check(self.page, what or self.page.title(), javascript=self.javascript)
        assert not self.errors, f"errors in the browser console on {self.page.url}: {self.errors}"

    def screenshot(self, name: str, *, down_to: Locator | None = None) -> None:
        """The whole page into docs/screenshots/<name>.png, or only from its top down to the end of `down_to`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = str(SCREENSHOTS / f"{name}.png")
        box = down_to.bounding_box() if down_to is not None else None
        if box is None:
            self.page.screenshot(path=path, full_page=True)
        else:
            width = self.page.viewport_size["width"] if self.page.viewport_size else 1100
            bottom = box["y"] + box["height"] + self.page.evaluate("() => window.scrollY")  # box is viewport-relative
            clip = {"x": 0, "y": 0, "width": width, "height": bottom + 30}
            self.page.screenshot(path=path, full_page=True, clip=clip)  # type: ignore[arg-type]

    def heading(self, text: str | re.Pattern[str], level: int = 1) -> Locator:
        return self.page.get_by_role("heading", name=text, level=level)

    # ------------------------------------------------------------------ doing

    def goto(self, path: str) -> None:
        self.page.goto(path)
        self.check()

    def follow(self, name: str | re.Pattern[str], *, exact: bool = True, scope: Locator | None = None) -> None:
        """Follow a link (by its accessible name) to a new page, and check that page."""
        link = (scope or self.page).get_by_role("link", name=name, exact=exact if isinstance(name, str) else None)
        with self.page.expect_navigation():
            link.click()
        self.check()

    def press(self, name: str | re.Pattern[str], *, exact: bool = True, scope: Locator | None = None) -> None:
        """Press a button that submits a form to the server (a full page load), and check the page that comes back."""
        button = (scope or self.page).get_by_role("button", name=name, exact=exact if isinstance(name, str) else None)
        if self.javascript:  # let an autosave already on its way finish first, as a person's pause would
            self.page.wait_for_function("() => !document.querySelector('.htmx-request')")
        with self.page.expect_navigation():
            button.click()
        self.check()

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.goto("/sign-in")
        self.page.get_by_label("Username", exact=True).fill(username)
        self.page.get_by_label("Password", exact=True).fill(password)
        self.press("Sign in")
        expect(self.page.get_by_text(f"Signed in as {username.title()}")).to_be_visible()

    def flash(self) -> Locator:
        return self.page.get_by_role("alert").filter(has=self.page.get_by_role("heading", name="Success"))

    # ------------------------------------------------------------------ questions, by their labels

    def question(self, label: str, nth: int = 0) -> Locator:
        """A fieldset question (radios, checkboxes, a date) by its legend; `nth` for the same question in row n."""
        return self.page.get_by_role("group", name=label, exact=True).nth(nth)

    def choose(self, label: str, option: str, nth: int = 0, *, name: str = "") -> None:
        """Choose an answer of a radios question. A question that reveals others may hold nested options with the
        same words ("Yes"); `name` (the question's form name) then says which is this question's own."""
        options = self.question(label, nth).get_by_role("radio", name=option, exact=True)
        if options.count() > 1 and name:
            options = options.and_(self.page.locator(f'[name="{name}"]'))
        options.first.check()

    def tick(self, label: str, options: list[str], nth: int = 0) -> None:
        """Tick these options (by their words) of a checkboxes question."""
        group = self.question(label, nth)
        for option in options:
            group.get_by_role("checkbox", name=option, exact=True).check()

    def type_date(self, label: str, iso: str, nth: int = 0) -> None:
        day, month, year = date_parts(iso)
        group = self.question(label, nth)
        group.get_by_label("Day", exact=True).fill(day)
        group.get_by_label("Month", exact=True).fill(month)
        group.get_by_label("Year", exact=True).fill(year)

    def type_in(self, label: str, text: str, nth: int = 0) -> None:
        # only what is shown: a question revealed under several answers is on the page once under each
        self.page.get_by_label(label, exact=True).filter(visible=True).nth(nth).fill(text)

    def add_row(self, button: str, heading: str) -> None:
        """Press "Add a/another ..." and wait for the new row. With JavaScript, htmx swaps the form in place: the
        page must not reload (a marker set on window survives) and focus moves to the new row's heading."""
        if self.javascript:
            self.page.evaluate("() => { window.__marker = 1 }")
            url = self.page.url
            self.page.get_by_role("button", name=button, exact=True).click()
            new_row = self.heading(heading, level=3)
            expect(new_row).to_be_visible()
            expect(new_row).to_be_focused()
            assert self.page.evaluate("() => window.__marker") == 1, "adding a row reloaded the page"
            assert self.page.url == url
            self.check(f"{heading} added with htmx")
        else:
            self.press(button)
            expect(self.heading(heading, level=3)).to_be_visible()

    def remove_row(self, button: str, gone: str) -> None:
        if self.javascript:
            self.page.evaluate("() => { window.__marker = 1 }")
            self.page.get_by_role("button", name=button, exact=True).click()
            expect(self.heading(gone, level=3)).to_have_count(0)
            assert self.page.evaluate("() => window.__marker") == 1, "removing a row reloaded the page"
            self.check(f"{gone} removed with htmx")
        else:
            self.press(button)
            expect(self.heading(gone, level=3)).to_have_count(0)

    # ------------------------------------------------------------------ a whole section from its definition

    def fill_section(self, section: Section, answers: SectionAnswers) -> None:
        """Answer every question of a section form by its label, adding rows with its buttons as a person would."""
        for f in section.fields:
            if f.id in answers.values:
                self._answer(f, answers.values[f.id], f.id)
        for group in section.groups:
            rows = answers.groups.get(group.id)
            if rows is None:
                continue
            self._make_rows(group, len(rows))
            for index, row in enumerate(rows):
                for f in group.fields:
                    if f.id in row:
                        self._answer(f, row[f.id], f"{group.id}-{index}-{f.id}", index)

    def _make_rows(self, group: Group, count: int) -> None:
        row_name = group.row_label.lower()
        while (have := self.heading(re.compile(rf"^{re.escape(group.row_label)} \d+$"), level=3).count()) < count:
            article = "another" if have else ("an" if row_name[:1] in "aeiou" else "a")
            self.add_row(f"Add {article} {row_name}", f"{group.row_label} {have + 1}")

    def _answer(self, f: Field, value: Any, name: str, nth: int = 0) -> None:
        if f.type in ("text", "textarea", "email"):
            self.type_in(f.label, value, nth)
        elif f.type == "date":
            self.type_date(f.label, value, nth)
        elif f.type == "radios":
            self.choose(f.label, f.option_label(value), nth, name=name)
        elif f.type == "checkboxes":
            self.tick(f.label, [f.option_label(v) for v in value], nth)
        else:  # pragma: no cover - a new field type needs a way to answer it here
            raise AssertionError(f"no way to answer a {f.type} field")


def new_person(browser: Browser, base_url: str, axe: Axe, *, javascript: bool) -> Person:
    context = browser.new_context(
        base_url=base_url,
        java_script_enabled=javascript,
        bypass_csp=True,  # axe-core is injected as a script tag; the app's CSP (rightly) forbids that
        accept_downloads=True,
        viewport={"width": 1100, "height": 900},
    )
    return Person(context, axe, javascript=javascript)


# ---------------------------------------------------------------------------------------------------------------------
# Preparing data over plain HTTP (the same forms a browser posts), for journeys that start part-way through.


class Client:
    def __init__(self, base_url: str, username: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=15)
        self.http.get("/sign-in")
        response = self.post("/sign-in", {"username": username, "password": PASSWORD})
        assert response.status_code == 303, response.text

    def post(self, url: str, data: dict[str, Any]) -> httpx.Response:
        return self.http.post(url, data={"_csrf_token": self.http.cookies.get("csrftoken") or "", **data})

    def start(self, case_id: int, team_id: int, receiver_id: int | None = None) -> int:
        response = self.post(
            f"/cases/{case_id}/handover",
            {"receiving_team": str(team_id), "receiver": str(receiver_id or ""), "transfer_reason": "Step-up to CP"},
        )
        assert response.status_code == 303, response.text
        return handover_id_from(response.headers["location"])

    def save(self, handover_id: int, section_id: str, answers: SectionAnswers) -> None:
        """Save a section of a handover started on the newest checklist, of a child in no sibling group: a child
        named in a sibling harm row is then someone outside the group (`naming_children`)."""
        url = f"/handovers/{handover_id}/sections/{section_id}"
        version = int(version_in(self.http.get(url).text, "version"))
        answers = naming_children(NEWEST, {section_id: answers})[section_id]
        response = self.post(url, form_for(NEWEST.section(section_id) or section(section_id), answers, version=version))
        assert response.status_code == 303, (section_id, response.text[:2000])

    def submit(self, handover_id: int) -> None:
        page = self.http.get(f"/handovers/{handover_id}/check")
        response = self.post(f"/handovers/{handover_id}/submit", {"handover_version": version_in(page.text)})
        assert response.status_code == 303, response.text[:2000]

    def close(self) -> None:
        self.http.close()


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def tell_everyone(person: Person, handover_id: int, on: str) -> None:
    """On the handover's "Who has been told" page, as a worker on it: record the family told on a visit on `on` (ISO
    date), and each professional still to be told, told by phone that day, so that the transfer may close."""
    person.goto(f"/handovers/{handover_id}/telling")
    person.type_in("Who was told?", "Ms Browser (mother)")
    person.choose("How were they told?", "Visit")
    person.type_date("When were they told?", on)
    person.press("Record who was told")
    expect(person.page.get_by_text(re.compile(r"^Ms Browser \(mother\), told on a visit"))).to_be_visible()
    record = person.page.get_by_role("link", name=re.compile(r"^Record how they were told"))
    while record.count():
        person.follow(re.compile(r"^Record how they were told"), scope=record.first.locator(".."))
        person.choose("How were they told of the new worker?", "Phone call")
        person.type_date("When were they told?", on)
        person.press("Record how they were told")
