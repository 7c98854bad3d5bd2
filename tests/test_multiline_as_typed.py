"""Free text people type over several lines (the reason for a transfer, a query and its reply, a professional
disagreement) is shown as typed wherever a page shows it: on the handover's page and its printable copy, each line
break a <br>, the spaces at the start of a line kept, none added. The GOV.UK macros indent the lines of an HTML value
after the first, which showed as spaces nobody typed."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from service import actions
from service.core.workflow import Action
from tests.conftest import Site
from tests.helpers import CHECKLISTS, act, actor, handover_in, raw_connection

pytestmark = pytest.mark.anyio

REASON = "Moving to the CP team.\n  Second line, indented by two.\r\nThird & <last>"
QUERY = "Please add the GP's details.\n    Four spaces here.\n\nAfter a blank line"
ABOUT = "The plan for contact.\n  Two spaces."
VIEW = "Keep the current worker until the review.\n   Three spaces."


def as_typed(text: str) -> str:
    """The span `multiline` draws: the text escaped, each line break a <br>."""
    return '<span class="app-multiline">' + "<br>".join(str(escape(line)) for line in text.splitlines()) + "</span>"


async def test_text_over_several_lines_is_shown_as_typed_on_the_page_and_in_print(site: Site) -> None:
    database = site.app.state.db
    handover_id = await handover_in(database, site.world, "submitted", "mia")
    with raw_connection(database) as conn:
        conn.execute("UPDATE handovers SET transfer_reason = ? WHERE id = ?", (REASON, handover_id))
        conn.commit()
    manager = await actor(database, site.world, "smgr")
    view = await actions.load(database.reader, CHECKLISTS, handover_id)
    assert view is not None
    await actions.act(
        database, CHECKLISTS, manager, handover_id, Action.RETURN_TO_OUTGOING, view.handover.version, QUERY
    )
    await actions.raise_disagreement(
        database, CHECKLISTS, manager, handover_id, about=ABOUT, with_whom="The outgoing worker", view_text=VIEW
    )
    browser = await site.as_user("smgr")
    for page in ("view", "print"):
        response = await browser.get(f"/handovers/{handover_id}/{page}")
        assert response.status_code == 200, page
        for typed in (REASON, QUERY, ABOUT, VIEW):
            assert as_typed(typed) in response.text, (page, typed)


def _details_around(page: str, element_id: str) -> list[str]:
    """The opening tags of the <details> elements that hold the element with this id, innermost last."""
    position = page.index(f'id="{element_id}"')
    opened: list[str] = []
    for tag in re.finditer(r"<details\b[^>]*>|</details>", page[:position]):
        if tag.group().startswith("</"):
            opened.pop()
        else:
            opened.append(tag.group())
    return opened


async def test_a_refused_form_inside_a_details_is_shown_open_with_javascript_off(site: Site) -> None:
    """A step's reason or a disagreement refused is shown with its message; where the form sits in a collapsed
    <details>, that opens, or with JavaScript off the message and the field the error summary links to stay hidden."""
    database = site.app.state.db
    handover_id = await handover_in(database, site.world, "submitted", "mia")
    refused = {
        ("out", "cancel", "reason-cancel"): {"reason": " "},
        ("smgr", "return", "reason-return"): {"reason": ""},
        ("smgr", "disagreements", "disagreement-about"): {"about": "", "with_whom": "", "view": ""},
    }
    for (person, step, field_id), form in refused.items():
        response = await act(await site.as_user(person), handover_id, step, **form)
        assert response.status_code == 400, (step, response.status_code)
        assert f'href="#{field_id}"' in response.text, step  # the error summary links to it
        assert all(" open" in tag for tag in _details_around(response.text, field_id)), step
