"""Whether a read-back is in the receiver's own words (core.readback): the words compared, the texts of a section it
is compared with, the share copied in runs of four words or more at each boundary, and the exact sentences shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.checklist import Checklist, load_file
from service.core.answers import SectionAnswers
from service.core.readback import copied_message, copied_share, handed_over_texts, too_few_words_message, words

DEFINITION = """
id = "readback-under-test"
version = 1
title = "Read-back under test"

[[sections]]
id = "open-risks"
title = "Open risks"
critical = true
why = "The risk got lost when the case changed hands"
fields = [{ id = "summary", type = "textarea", label = "Summary" }]
"""


@pytest.fixture(scope="module")
def checklist(tmp_path_factory: pytest.TempPathFactory) -> Checklist:
    path: Path = tmp_path_factory.mktemp("checklists") / "readback.toml"
    path.write_text(DEFINITION, encoding="utf-8")
    return load_file(path)


def test_words_are_compared_without_case_or_punctuation() -> None:
    assert words("Mia's Dad, (ÉMILE) said: 'no!'  3 times") == ["mia", "s", "dad", "émile", "said", "no", "3", "times"]
    assert words("STRASSE Straße") == ["strasse", "strasse"]
    assert words(" -- ") == []


def test_every_text_typed_into_a_section_is_compared_but_not_the_choices_ticked() -> None:
    answers = SectionAnswers(
        values={"summary": "Father poses a risk", "legal": ["s20", "cp"], "date": "2025-01-02"},
        groups={
            "risks": [{"what": "Uncle visits", "roles": ["police"]}, {"what": "Neighbour"}],
            "contacts": [{"name": "Ann"}],
        },
    )
    assert handed_over_texts(answers) == ["Father poses a risk", "2025-01-02", "Uncle visits", "Neighbour", "Ann"]
    assert handed_over_texts(SectionAnswers()) == []


def test_a_read_back_of_fewer_than_four_words_counts_as_not_copied() -> None:
    assert copied_share("Father poses risk", ["Father poses risk"]) == 0.0
    assert copied_share("", ["Father poses a risk"]) == 0.0


def test_four_words_in_order_from_the_handover_are_copied() -> None:
    assert copied_share("Father poses a risk", ["Father poses a risk"]) == 1.0
    assert copied_share("father, POSES a risk!", ["Father poses a risk"]) == 1.0
    assert copied_share("Father poses a risk", ["Father poses a"]) == 0.0
    assert copied_share("Father a poses risk", ["Father poses a risk"]) == 0.0


def test_the_copied_share_counts_each_copied_word_once() -> None:
    source = ["the father poses a risk to mia at home"]
    assert copied_share("the father poses a risk and I will visit", source) == 5 / 9
    assert copied_share("I will visit because father poses a risk", source) == 4 / 8
    assert copied_share("father poses a risk to mia", source) == 1.0
    assert copied_share("I will visit mia weekly at school", source) == 0.0


def test_a_run_at_the_very_end_of_the_read_back_or_of_the_handover_is_found() -> None:
    assert copied_share("I will check that mia at home is safe", ["risk to mia at home is safe"]) == 5 / 9
    assert copied_share("one two three four five", ["a b c two three four five"]) == 4 / 5
    assert copied_share("one two three four five", ["one two three four x"]) == 4 / 5


def test_runs_are_found_in_any_of_the_texts_but_not_across_them() -> None:
    sources = ["uncle visits on sundays", "father poses a risk"]
    assert copied_share("father poses a risk uncle visits on sundays", sources) == 1.0
    assert copied_share("sundays father poses a", sources) == 0.0


def test_the_why_this_matters_text_is_compared_too(checklist: Checklist) -> None:
    section = checklist.section("open-risks")
    assert section is not None
    sources = [*handed_over_texts(SectionAnswers(values={"summary": "Father"})), section.why]
    assert copied_share("the risk got lost when the case moved", sources) == 7 / 8


@given(st.lists(st.sampled_from(["mia", "father", "risk", "school", "visit", "safe"]), min_size=4, max_size=12))
def test_a_read_back_pasted_from_the_handover_is_wholly_copied(said: list[str]) -> None:
    text = " ".join(said)
    assert copied_share(text, [f"intro {text} outro"]) == 1.0
    assert copied_share(text, []) == 0.0


def test_too_few_words_asks_for_five_words_about_the_section() -> None:
    assert too_few_words_message("Open risks") == (
        "Write, in your own words, what you are taking on from ‘Open risks’ (at least 5 words)"
    )


def test_copied_says_how_much_was_copied_as_a_whole_percentage() -> None:
    assert copied_message("Open risks", 2 / 3) == (
        "Your summary of ‘Open risks’ repeats the handover word for word (67% of it is copied). Write what you are "
        "taking on in your own words: you can quote a few words"
    )
    assert copied_message("Siblings", 1.0) == (
        "Your summary of ‘Siblings’ repeats the handover word for word (100% of it is copied). Write what you are "
        "taking on in your own words: you can quote a few words"
    )
