"""The receiving worker's confirmation of a critical item in their own words, and a manager's decision on a
professional disagreement: the exact sentence for each refusal, at each limit and one past."""

from __future__ import annotations

from datetime import date

from service.checklist import Section
from service.core.validation import confirmation_errors, decision_errors

RISKS = Section(id="risks", title="Risks and safety", critical=True)
HIDDEN = "contains a hidden control character: type it again rather than pasting it"
HANDED_OVER = ["The child is scared of the dog at home and hides upstairs when it barks"]
OWN_WORDS = "I will visit weekly and check how things are going with her dad"
TODAY = date(2025, 6, 18)


def confirm(readback: str, *, understood: bool = True, minimum: int = 20) -> dict[str, str]:
    return confirmation_errors(RISKS, understood, readback, handed_over=HANDED_OVER, minimum=minimum)


def test_a_confirmation_in_the_workers_own_words_is_acceptable() -> None:
    assert confirm(OWN_WORDS) == {}


def test_a_confirmation_must_say_the_item_was_read_and_understood() -> None:
    assert confirm(OWN_WORDS, understood=False) == {
        "understood-risks": "Confirm you have read and understood ‘Risks and safety’"
    }


def test_an_empty_confirmation_asks_for_both_the_tick_and_the_summary() -> None:
    assert confirm("", understood=False) == {
        "understood-risks": "Confirm you have read and understood ‘Risks and safety’",
        "readback-risks": (
            "Write, in your own words, what you are taking on from ‘Risks and safety’ (at least 20 characters)"
        ),
    }


def test_a_summary_may_be_exactly_the_minimum_length_but_not_one_less_spaces_aside() -> None:
    twenty = "I visit on each week"
    assert len(twenty) == 20
    assert confirm(twenty) == {}
    assert confirm("  I visit each week  ") == {
        "readback-risks": (
            "Write, in your own words, what you are taking on from ‘Risks and safety’ (at least 20 characters)"
        )
    }
    assert confirm(twenty, minimum=21) == {
        "readback-risks": (
            "Write, in your own words, what you are taking on from ‘Risks and safety’ (at least 21 characters)"
        )
    }


def test_a_summary_needs_five_words_four_are_too_few() -> None:
    assert confirm("Visit her every week", minimum=1) == {
        "readback-risks": "Write, in your own words, what you are taking on from ‘Risks and safety’ (at least 5 words)"
    }
    assert confirm("Visit her every single week", minimum=1) == {}


def test_a_summary_may_be_exactly_4000_characters_but_not_4001() -> None:
    summary = ("Weekly visit planned. " * 200)[:4000]
    assert len(summary) == 4000
    assert confirm(summary) == {}
    assert confirm(summary + "x") == {"readback-risks": "Your summary must be 4,000 characters or fewer"}


def test_a_summary_with_a_hidden_character_is_refused() -> None:
    assert confirm(OWN_WORDS + "\u202e") == {"readback-risks": f"Your summary {HIDDEN}"}


def test_a_summary_half_copied_is_accepted_but_more_than_half_is_refused() -> None:
    half = "the child is scared but I visit weekly"  # 4 of 8 words copied
    assert confirm(half) == {}
    more = "the child is scared of I will visit weekly"  # 5 of 9 words copied
    assert confirm(more) == {
        "readback-risks": (
            "Your summary of ‘Risks and safety’ repeats the handover word for word (56% of it is copied). Write what "
            "you are taking on in your own words: you can quote a few words"
        )
    }


def test_a_summary_copied_entirely_is_refused() -> None:
    assert confirm(HANDED_OVER[0]) == {
        "readback-risks": (
            "Your summary of ‘Risks and safety’ repeats the handover word for word (100% of it is copied). Write what "
            "you are taking on in your own words: you can quote a few words"
        )
    }


def test_a_resolved_disagreement_needs_its_resolution_and_no_date() -> None:
    assert decision_errors("resolved", "Agreed at the strategy meeting", "", TODAY) == {}
    assert decision_errors("resolved", "Agreed", "31/2/2025", TODAY) == {}
    assert decision_errors("resolved", " ", "", TODAY) == {
        "outcome": "Enter the resolution, or what was decided at escalation"
    }


def test_a_decision_must_be_resolved_or_escalated() -> None:
    assert decision_errors("", "Agreed", "", TODAY) == {
        "decision": "Select whether the disagreement is resolved or escalated"
    }
    assert decision_errors("Resolved", "Agreed", "", TODAY) == {
        "decision": "Select whether the disagreement is resolved or escalated"
    }


def test_a_resolution_may_be_exactly_2000_characters_but_not_2001() -> None:
    assert decision_errors("resolved", "a" * 2000, "", TODAY) == {}
    assert decision_errors("resolved", "a" * 2001, "", TODAY) == {
        "outcome": "The resolution must be 2,000 characters or fewer"
    }
    assert decision_errors("resolved", "Agreed\x00", "", TODAY) == {"outcome": f"The resolution {HIDDEN}"}


def test_an_escalation_needs_its_date() -> None:
    assert decision_errors("escalated", "To the head of service", "", TODAY) == {
        "stage_date-day": "Enter the date of the escalation"
    }


def test_an_escalation_may_be_dated_today_but_not_tomorrow() -> None:
    assert decision_errors("escalated", "To the head of service", "2025-06-18", TODAY) == {}
    assert decision_errors("escalated", "To the head of service", "2025-06-19", TODAY) == {
        "stage_date-day": "The date of the escalation must be today or in the past"
    }


def test_an_escalation_date_is_told_at_its_first_box_in_error() -> None:
    assert decision_errors("escalated", "Escalated", "/6/2025", TODAY) == {
        "stage_date-day": "The date of the escalation must include a day"
    }
    assert decision_errors("escalated", "Escalated", "3//2025", TODAY) == {
        "stage_date-month": "The date of the escalation must include a month"
    }
    assert decision_errors("escalated", "Escalated", "3/6/25", TODAY) == {
        "stage_date-year": "The date of the escalation must include a year with 4 numbers, for example 2025"
    }
    assert decision_errors("escalated", "Escalated", "2025-06-31", TODAY) == {
        "stage_date-day": "The date of the escalation must be a real date written YYYY-MM-DD, for example 2025-03-27"
    }


def test_every_problem_with_an_escalation_is_told_at_once() -> None:
    assert decision_errors("escalated", "", "", TODAY) == {
        "outcome": "Enter the resolution, or what was decided at escalation",
        "stage_date-day": "Enter the date of the escalation",
    }
