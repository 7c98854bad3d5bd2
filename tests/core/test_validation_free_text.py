"""Free text on the workflow's forms: the exact sentence for text left out, text exactly at its limit and one past,
a hidden control character, and a line break where the text must be one line; optional text left empty is fine."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.core.validation import (
    NOTHING_TO_REPLY_TO,
    disagreement_errors,
    reply_errors,
    sibling_group_name_errors,
    text_errors,
    transfer_reason_errors,
    workflow_reason_errors,
)

HIDDEN = "contains a hidden control character: type it again rather than pasting it"
NOT_ONE_LINE = "must be on one line, without tabs or invisible characters"


def test_a_transfer_reason_must_be_given() -> None:
    assert transfer_reason_errors("") == {"transfer_reason": "Enter the reason for the transfer"}
    assert transfer_reason_errors(" \n\t ") == {"transfer_reason": "Enter the reason for the transfer"}


def test_a_transfer_reason_may_be_exactly_1000_characters_but_not_1001() -> None:
    assert transfer_reason_errors("a" * 1000) == {}
    assert transfer_reason_errors("a" * 1001) == {
        "transfer_reason": "The reason for the transfer must be 1,000 characters or fewer"
    }


def test_a_transfer_reason_may_run_over_several_lines_but_not_hide_a_control_character() -> None:
    assert transfer_reason_errors("Moving to the looked-after team.\nCourt order made\ttoday.") == {}
    assert transfer_reason_errors("Moving\x07 team") == {"transfer_reason": f"The reason for the transfer {HIDDEN}"}
    assert transfer_reason_errors("Moving\u202e team") == {"transfer_reason": f"The reason for the transfer {HIDDEN}"}


def test_returning_with_a_query_needs_a_reason_that_says_what_to_do() -> None:
    assert workflow_reason_errors("", required=True) == {
        "reason": "Enter the reason, so the person it goes back to knows what to do"
    }
    assert workflow_reason_errors("   ", required=True) == {
        "reason": "Enter the reason, so the person it goes back to knows what to do"
    }
    assert workflow_reason_errors("Please add the school's details", required=True) == {}


def test_cancelling_needs_a_reason_for_cancelling() -> None:
    assert workflow_reason_errors("", required=True, cancelling=True) == {
        "reason": "Enter the reason for cancelling the handover"
    }
    assert workflow_reason_errors("Opened in error", required=True, cancelling=True) == {}


def test_a_reason_that_is_optional_may_be_left_out_but_never_be_longer_than_2000_characters() -> None:
    assert workflow_reason_errors("", required=False) == {}
    assert workflow_reason_errors("  \n ", required=False) == {}
    assert workflow_reason_errors("Looks good", required=False) == {}
    assert workflow_reason_errors("a" * 2000, required=False) == {}
    assert workflow_reason_errors("a" * 2001, required=False) == {
        "reason": "The reason must be 2,000 characters or fewer"
    }
    assert workflow_reason_errors("Fine\x00", required=False) == {"reason": f"The reason {HIDDEN}"}


def test_a_required_reason_may_be_exactly_2000_characters_on_several_lines_but_not_2001() -> None:
    assert workflow_reason_errors("a\n" * 1000, required=True) == {}
    assert workflow_reason_errors("a" * 2001, required=True, cancelling=True) == {
        "reason": "The reason must be 2,000 characters or fewer"
    }
    assert workflow_reason_errors("Stop\x1b now", required=True) == {"reason": f"The reason {HIDDEN}"}


def test_a_reply_is_required_when_answering_a_query() -> None:
    assert reply_errors("", answering=True) == {"reply": "Enter your reply to the query"}
    assert reply_errors(" ", answering=True) == {"reply": "Enter your reply to the query"}
    assert reply_errors("Added the school's details.\nSee section 3.", answering=True) == {}


def test_a_reply_may_be_exactly_4000_characters_but_not_4001() -> None:
    assert reply_errors("a" * 4000, answering=True) == {}
    assert reply_errors("a" * 4001, answering=True) == {"reply": "Your reply must be 4,000 characters or fewer"}
    assert reply_errors("Done\x7f", answering=True) == {"reply": f"Your reply {HIDDEN}"}


def test_a_reply_with_no_query_to_answer_is_refused_and_none_is_fine() -> None:
    assert NOTHING_TO_REPLY_TO == "Send a reply only when resubmitting a handover that was returned with a query"
    assert reply_errors("Here is my reply", answering=False) == {
        "reply": "Send a reply only when resubmitting a handover that was returned with a query"
    }
    assert reply_errors("", answering=False) == {}
    assert reply_errors(" \n", answering=False) == {}


def test_a_disagreement_left_empty_asks_for_each_of_its_three_parts() -> None:
    assert disagreement_errors("", " ", "\n") == {
        "about": "Enter what the disagreement is about",
        "with_whom": "Enter who you disagree with",
        "view": "Enter your view",
    }


def test_a_disagreement_filled_in_is_fine_and_only_who_must_be_on_one_line() -> None:
    assert disagreement_errors("Threshold for\na child protection plan", "  Police, Jo Bloggs  ", "We think\tso") == {}
    assert disagreement_errors("About", "Police\nJo Bloggs", "View") == {
        "with_whom": f"Who you disagree with {NOT_ONE_LINE}"
    }
    assert disagreement_errors("About", "Police\u200bJo", "View") == {
        "with_whom": f"Who you disagree with {NOT_ONE_LINE}"
    }


def test_each_part_of_a_disagreement_has_its_own_limit_exactly_and_one_past() -> None:
    assert disagreement_errors("a" * 2000, "b" * 200, "c" * 4000) == {}
    assert disagreement_errors("a" * 2001, "b" * 201, "c" * 4001) == {
        "about": "What the disagreement is about must be 2,000 characters or fewer",
        "with_whom": "Who you disagree with must be 200 characters or fewer",
        "view": "Your view must be 4,000 characters or fewer",
    }


def test_each_part_of_a_disagreement_refuses_a_hidden_character() -> None:
    assert disagreement_errors("a\x01", "b\x02", "c\x03") == {
        "about": f"What the disagreement is about {HIDDEN}",
        "with_whom": f"Who you disagree with {HIDDEN}",
        "view": f"Your view {HIDDEN}",
    }


def test_a_sibling_group_name_is_one_line_of_at_most_200_characters() -> None:
    assert sibling_group_name_errors("") == {"name": "Enter the sibling group's name"}
    assert sibling_group_name_errors(" The Smith family\n") == {}
    assert sibling_group_name_errors("a" * 200) == {}
    assert sibling_group_name_errors("a" * 201) == {"name": "The name must be 200 characters or fewer"}
    assert sibling_group_name_errors("The Smith\tfamily") == {"name": f"The name {NOT_ONE_LINE}"}
    assert sibling_group_name_errors("The Smith\u00adfamily") == {"name": f"The name {NOT_ONE_LINE}"}
    assert sibling_group_name_errors("The Smith\x0bfamily") == {"name": f"The name {HIDDEN}"}


def test_text_that_is_too_long_is_told_its_length_before_any_hidden_character() -> None:
    assert text_errors("note", "\x00" + "a" * 10, missing="Enter a note", limit=10, what="The note") == {
        "note": "The note must be 10 characters or fewer"
    }


def test_text_with_a_hidden_character_is_told_so_before_it_is_told_to_be_one_line() -> None:
    assert text_errors("label", "a\n\x00b", missing="Enter a label", limit=10, what="The label", one_line=True) == {
        "label": f"The label {HIDDEN}"
    }


def test_text_is_one_line_only_when_asked() -> None:
    assert text_errors("note", "a\nb", missing="Enter a note", limit=10, what="The note") == {}
    assert text_errors("note", "a\nb", missing="Enter a note", limit=10, what="The note", one_line=True) == {
        "note": f"The note {NOT_ONE_LINE}"
    }


@given(st.text(alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=60))
def test_printable_one_line_text_within_its_limit_is_fine_unless_blank(typed: str) -> None:
    errors = text_errors("note", typed, missing="Enter a note", limit=60, what="The note", one_line=True)
    assert errors == ({"note": "Enter a note"} if not typed.strip() else {})
