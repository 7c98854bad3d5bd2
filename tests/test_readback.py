"""Every critical item is confirmed in the receiving worker's own words: a read-back of at least the checklist's
minimum length, refused when it copies the handover back (core.readback)."""

from __future__ import annotations

import pytest

from service import actions
from service.actions.demo import CASE_M_DISAGREEMENT
from service.core.errors import Invalid
from service.core.readback import COPIED_SHARE_MAX, QUOTE_WORDS, copied_share, handed_over_texts
from tests.conftest import Site
from tests.helpers import CHECKLIST, CHECKLISTS, actor, handover_in, version_in

pytestmark = pytest.mark.anyio

OWN_WORDS = "I will see Mia alone at school this week and check the safety plan with her carers by Friday."


async def endorsed_with_every_critical_item(site: Site) -> tuple[int, actions.HandoverView]:
    handover_id = await handover_in(site.db, site.world, "endorsed", "mia", answers=CASE_M_DISAGREEMENT)
    view = await actions.load(site.db.reader, CHECKLISTS, handover_id)
    assert view is not None
    return handover_id, view


def longest_text(view: actions.HandoverView, section_id: str) -> str:
    return max(handed_over_texts(view.answers(section_id)), key=len)


async def test_every_critical_item_needs_a_read_back_and_refuses_a_pasted_answer(site: Site) -> None:
    handover_id, view = await endorsed_with_every_critical_item(site)
    critical = [s.id for s in view.critical_sections()]
    assert set(critical) == {"open-risks", "sibling-harm", "parenting-capacity", "cp-category", "disagreements"}
    rec = await site.as_user("rec")
    for section_id in critical:
        page = await rec.get(f"/handovers/{handover_id}/review")
        assert 'name="readback"' in page.text and f'id="readback-{section_id}"' in page.text, section_id
        url = f"/handovers/{handover_id}/confirm/{section_id}"
        ticked = {"handover_version": version_in(page.text), "understood": "yes"}
        missing = await rec.post(url, ticked)
        assert missing.status_code == 400 and "Write, in your own words, what you are taking on" in missing.text
        box = f'id="understood-{section_id}" name="understood" type="checkbox" value="yes"'
        assert f"{box} checked" in missing.text, "the tick sent is kept while the read-back is put right"
        neither = await rec.post(url, {"handover_version": ticked["handover_version"], "readback": "Mia"})
        assert neither.status_code == 400 and f"{box}>" in neither.text, "nor is a tick added that was not sent"
        summary = neither.text[neither.text.index("govuk-error-summary__list") :]
        assert 0 < summary.index(f'href="#readback-{section_id}"') < summary.index(f'href="#understood-{section_id}"')
        assert 'name="readback" rows="4"' in neither.text and ">Mia</textarea>" in neither.text
        pasted = longest_text(view, section_id)
        assert len(pasted.split()) >= QUOTE_WORDS, (section_id, pasted)
        copied = await rec.post(url, ticked | {"readback": pasted})
        assert copied.status_code == 400, section_id
        assert "repeats the handover word for word (100% of it is copied)" in copied.text, section_id
        assert (await rec.post(url, ticked | {"readback": OWN_WORDS})).status_code == 303, section_id
    assert not (await actions.load(site.db.reader, CHECKLISTS, handover_id)).facts.unconfirmed_items  # type: ignore[union-attr]


async def test_a_short_quotation_with_the_receivers_own_plan_is_accepted(site: Site) -> None:
    handover_id, view = await endorsed_with_every_critical_item(site)
    rec = await actor(site.db, site.world, "rec")
    quoted = " ".join(longest_text(view, "open-risks").split()[:QUOTE_WORDS])
    readback = f"The handover says ‘{quoted}’. {OWN_WORDS}"
    assert 0 < copied_share(readback, handed_over_texts(view.answers("open-risks"))) <= COPIED_SHARE_MAX
    await actions.confirm_item(site.db, CHECKLISTS, rec, handover_id, "open-risks", view.handover.version,
                               understood=True, readback=readback)  # fmt: skip


async def test_a_pasted_answer_with_a_few_words_added_is_still_refused(site: Site) -> None:
    handover_id, view = await endorsed_with_every_critical_item(site)
    rec = await actor(site.db, site.world, "rec")
    readback = "I understand that " + longest_text(view, "sibling-harm") + " Noted."
    with pytest.raises(Invalid) as refused:
        await actions.confirm_item(site.db, CHECKLISTS, rec, handover_id, "sibling-harm", view.handover.version,
                                   understood=True, readback=readback)  # fmt: skip
    assert "repeats the handover word for word" in refused.value.errors["readback-sibling-harm"]


def test_the_minimum_length_comes_from_the_checklist() -> None:
    risks = CHECKLIST.section("open-risks")
    assert risks is not None
    from service.core import validation

    minimum = CHECKLIST.readback_min_characters
    enough = "I will see Mia " + "x" * minimum  # five words, cut at the minimum or one short of it
    assert validation.confirmation_errors(risks, True, enough[: minimum - 1], handed_over=[], minimum=minimum)
    assert not validation.confirmation_errors(risks, True, enough[:minimum], handed_over=[], minimum=minimum)
    assert validation.confirmation_errors(risks, True, "a" * 40, handed_over=[], minimum=minimum), "one word"


@pytest.mark.parametrize(
    ("readback", "share"),
    [
        ("one two three four five six", 1.0),
        ("ONE, two; three four five six!", 1.0),  # case and punctuation do not hide a copy
        ("one two three seven eight nine", 0.0),  # three words in a row are a phrase, not a copy
        ("one two three four then my own words here", 4 / 9),
        ("one two three four indeed five six", 0.0 + 4 / 7),  # a word sprinkled in leaves runs that are copied
        ("", 0.0),
    ],
)
def test_copied_share_counts_words_in_runs_of_four(readback: str, share: float) -> None:
    assert copied_share(readback, ["one two three four five six"]) == share


async def test_copying_from_anywhere_the_page_shows_or_padding_is_refused(site: Site) -> None:
    handover_id, view = await endorsed_with_every_critical_item(site)
    rec = await actor(site.db, site.world, "rec")
    risks = view.checklist.section("open-risks")
    assert risks is not None
    sprinkled = " ".join(
        word + (" indeed" if index % 5 == 4 else "")
        for index, word in enumerate(longest_text(view, "open-risks").split())
    )
    for readback in (longest_text(view, "sibling-harm"), risks.why, sprinkled, "a" * 40):
        with pytest.raises(Invalid) as refused:
            await actions.confirm_item(site.db, CHECKLISTS, rec, handover_id, "open-risks", view.handover.version,
                                       understood=True, readback=readback)  # fmt: skip
        assert "readback-open-risks" in refused.value.errors, readback


@pytest.mark.parametrize("field", ["readback", "understood", "handover_version"])
async def test_a_confirmation_with_an_answer_sent_twice_confirms_nothing(site: Site, field: str) -> None:
    """Which of two read-backs (or tick boxes, or versions) was meant cannot be known: the receiver is told by that
    box and nothing is confirmed. Someone who may not confirm at all is told that instead."""
    import re

    from service import db

    handover_id = await handover_in(site.db, site.world, "endorsed", "mia")
    receiver = await site.as_user("rec")
    review = await receiver.get(f"/handovers/{handover_id}/review")
    section_id = re.findall(r'action="/handovers/\d+/confirm/([\w-]+)"', review.text)[0]
    version = version_in(review.text)
    readback = "I will visit Mia this week and review the safety plan with her mother by Friday."
    form: dict[str, object] = {"handover_version": version, "understood": "yes", "readback": readback}
    form[field] = [form[field], form[field]]
    url = f"/handovers/{handover_id}/confirm/{section_id}"
    refused = await receiver.post(url, form)
    assert refused.status_code == 400, refused.text[:300]
    assert "send one answer, not several" in refused.text
    if field != "handover_version":
        assert f'href="#{field}-{section_id}"' in refused.text and f'id="{field}-{section_id}-error"' in refused.text
    assert await db.confirmations_of(site.db.reader, handover_id) == {}
    other = await (await site.as_user("smgr")).post(url, form)
    assert other.status_code in {403, 404, 409} and "send one answer, not several" not in other.text
