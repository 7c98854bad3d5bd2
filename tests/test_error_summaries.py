"""Every page a test is given has its error summary checked (tests/error_summary_check.py, from the test browser in
tests/conftest.py): its links go to something on the page, in the page's order. These check the checker, and the
forms whose summaries broke it."""

from __future__ import annotations

import pytest

from service import db
from tests.conftest import Site
from tests.error_summary_check import error_summary_problems
from tests.helpers import handover_in, version_in

pytestmark = pytest.mark.anyio

SUMMARY = '<div class="govuk-error-summary"><ul class="govuk-list govuk-error-summary__list">{}</ul></div>'


def _page(links: list[str], ids: list[str]) -> str:
    listed = "".join(f'<li><a href="{link}">Message</a></li>' for link in links)
    return SUMMARY.format(listed) + "".join(f'<input id="{name}">' for name in ids)


def test_the_checker_finds_links_to_nothing_and_links_out_of_order() -> None:
    assert error_summary_problems(_page(["#a", "#b"], ["a", "b"])) == []
    assert error_summary_problems(_page(["#b", "#a"], ["a", "b"])) == [
        "lists ['b', 'a'], but the page has them in the order ['a', 'b']"
    ]
    assert error_summary_problems(_page(["#a", "#c"], ["a", "b"])) == ["links to #c, which is not on the page"]
    assert error_summary_problems(_page(["/handovers/1/sections/x#a"], [])) == [], "another page's link is its own"
    assert error_summary_problems("<p>No summary</p>") == []


async def test_a_step_without_a_reason_box_takes_no_reason_and_a_refused_person_is_told_the_refusal(
    site: Site,
) -> None:
    """Endorsing has no reason on its page: a reason sent with it is not the manager's, so it is neither kept nor
    refused. Someone who may not take a step is told that, whatever reason they sent."""
    handover_id = await handover_in(site.db, site.world, "submitted", "mia")
    smgr = await site.as_user("smgr")
    view = await smgr.get(f"/handovers/{handover_id}/view")
    endorsed = await smgr.post(
        f"/handovers/{handover_id}/endorse", {"handover_version": version_in(view.text), "reason": "x" * 100_000}
    )
    assert endorsed.status_code == 303, endorsed.text[:300]
    out = await site.as_user("out")
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None and handover.state == "endorsed"
    refused = await out.post(  # returning to the outgoing worker is the managers' step
        f"/handovers/{handover_id}/return", {"handover_version": str(handover.version), "reason": "x" * 100_000}
    )
    assert refused.status_code in {403, 409}, refused.status_code
    assert "characters or fewer" not in refused.text


@pytest.mark.parametrize("reason", ["", "x" * 100_000])
async def test_a_step_that_cannot_be_taken_now_says_so_whatever_its_reason(site: Site, reason: str) -> None:
    """Cancelling a closed handover is refused for what it is, not for its reason: the page it was sent from has no
    box for one."""
    handover_id = await handover_in(site.db, site.world, "closed", "mia")
    handover = await db.handover_by_id(site.db.reader, handover_id)
    assert handover is not None
    for who, step in (("out", "cancel"), ("rmgr", "return-to-receiver")):
        refused = await (await site.as_user(who)).post(
            f"/handovers/{handover_id}/{step}", {"handover_version": str(handover.version), "reason": reason}
        )
        assert refused.status_code in {403, 409}, (who, step, refused.status_code)
        assert "Enter the reason" not in refused.text and "characters or fewer" not in refused.text, (who, step)


async def test_someone_who_may_not_take_a_step_is_told_so_whatever_was_sent_twice(site: Site) -> None:
    """A field sent twice is found before the step is asked for; someone who may not take it is still told that, not
    about boxes their page does not have, and is not given the author's check page."""
    submitted = await handover_in(site.db, site.world, "submitted", "mia")
    draft = await handover_in(site.db, site.world, "draft", "liam")
    out, smgr = await site.as_user("out"), await site.as_user("smgr")
    for who, handover_id, step, fields in (
        (out, submitted, "return", {"reason": ["Why", "Why not"]}),
        (smgr, draft, "return", {"reason": ["Why", "Why not"]}),  # a draft is not with the manager to return
        (smgr, draft, "submit", {"reply": ["One", "Two"]}),
        (out, submitted, "submit", {"handover_version": ["1", "2"]}),
    ):
        handover = await db.handover_by_id(site.db.reader, handover_id)
        assert handover is not None
        sent = {"handover_version": str(handover.version)} | fields
        refused = await who.post(f"/handovers/{handover_id}/{step}", sent)
        assert refused.status_code in {403, 409}, (step, fields, refused.status_code)
        assert "send one answer, not several" not in refused.text, (step, fields)
        assert "Check your answers before submitting" not in refused.text, (step, fields)
