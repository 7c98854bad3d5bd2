"""What the GOV.UK error summary promises, checked on every page a test is given (`tests.conftest.Browser`): each
link in "There is a problem" goes to something on the same page, and the links are in the order of what they go to
on the page, so that a person works down the list as they work down the form.

GOV.UK Design System, error summary: "link to each of the answers that have validation errors ... in the same order
as they appear on the page". A link to another page (a section of a sibling group's handover, say) is not checked
here: what it goes to is not on this page.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

# set to a file's path, the problems found are added to it instead of failing the test that met them
RECORD_TO = os.environ.get("HANDOVER_ERROR_SUMMARY_RECORD", "")


class _Page(HTMLParser):
    """The error summary's links (hrefs, in order) and the position of every id on the page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.positions: dict[str, int] = {}
        self._in_list = 0  # depth inside the summary's list of errors, 0 outside it
        self._seen = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._seen += 1
        element_id = values.get("id")
        if element_id and element_id not in self.positions:
            self.positions[element_id] = self._seen
        classes = (values.get("class") or "").split()
        if self._in_list:
            if tag == "ul":
                self._in_list += 1
            if tag == "a" and values.get("href"):
                self.links.append(str(values["href"]))
        elif tag == "ul" and "govuk-error-summary__list" in classes:
            self._in_list = 1

    def handle_endtag(self, tag: str) -> None:
        if self._in_list and tag == "ul":
            self._in_list -= 1


def error_summary_problems(html: str) -> list[str]:
    """What is wrong with the page's error summary: links to nothing on the page, and links out of the page's order
    ([] when there is no summary or nothing is wrong)."""
    if "govuk-error-summary__list" not in html:
        return []
    page = _Page()
    page.feed(html)
    here = [link[1:] for link in page.links if link.startswith("#")]
    problems = [f"links to #{target}, which is not on the page" for target in here if target not in page.positions]
    found = [target for target in here if target in page.positions]
    in_page_order = sorted(found, key=page.positions.__getitem__)
    if found != in_page_order:
        problems.append(f"lists {found}, but the page has them in the order {in_page_order}")
    return problems


def check_error_summary(request: str, html: str) -> None:
    """Fail (or, with HANDOVER_ERROR_SUMMARY_RECORD set, record) an HTML page whose error summary breaks the
    pattern; `request` says which page it is ("POST /path (400)")."""
    problems = error_summary_problems(html)
    if not problems:
        return
    said = f"{request}: the error summary " + "; ".join(problems)
    if RECORD_TO:
        with Path(RECORD_TO).open("a", encoding="utf-8") as record:
            record.write(said + "\n")
        return
    raise AssertionError(said)
