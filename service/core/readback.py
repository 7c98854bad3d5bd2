"""Whether a receiving worker's read-back is in their own words, or the handover copied back.

The read-back is the receiver's synthesis (I-PASS's "synthesis by receiver", the closed loop of SBAR handovers): it
shows what they understood they are taking on. Pasting the outgoing worker's text back shows nothing, so a read-back
mostly copied from the section it confirms is refused.

The measure: the share of the read-back's words that lie in a run of at least `QUOTE_WORDS` consecutive words also
found, in the same order, in anything the handover or the page says (every answer of every section, and the
checklist's "why this matters"), compared without regard to case or punctuation. A read-back is refused when more
than `COPIED_SHARE_MAX` of it is copied. Half is the line: a summary that quotes a sentence of the handover and adds
the receiver's own plan passes, a pasted answer with a few words added or sprinkled through it does not. This is the
word n-gram overlap used to find copied text (Broder's shingling, 1997), kept simple enough to explain in one
message. It also needs `MIN_WORDS` words: a run of letters is not a summary.

Pure: no web, no SQL.
"""

from __future__ import annotations

import re

from service.core.answers import SectionAnswers, Value

QUOTE_WORDS = 4  # a run of fewer words in common is a phrase, not copying (a quotation counts, within the share)
MIN_WORDS = 5  # a read-back says what is taken on in at least this many words
COPIED_SHARE_MAX = 0.5  # more than half the read-back copied from the handover is refused

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]


def handed_over_texts(answers: SectionAnswers) -> list[str]:
    """Every text the outgoing worker typed into a section: its single answers and every row's."""

    def texts(value: Value) -> list[str]:
        return [value] if isinstance(value, str) else []

    found = [text for value in answers.values.values() for text in texts(value)]
    for rows in answers.groups.values():
        found.extend(text for row in rows for value in row.values() for text in texts(value))
    return found


def copied_share(readback: str, sources: list[str]) -> float:
    """The share (0 to 1) of the read-back's words that lie in a run of at least QUOTE_WORDS words found in order in
    one of `sources`; 0 for an empty read-back."""
    said = words(readback)
    if len(said) < QUOTE_WORDS:
        return 0.0
    shingles: set[tuple[str, ...]] = set()
    for source in sources:
        typed = words(source)
        shingles.update(tuple(typed[i : i + QUOTE_WORDS]) for i in range(len(typed) - QUOTE_WORDS + 1))
    copied = [False] * len(said)
    for start in range(len(said) - QUOTE_WORDS + 1):
        if tuple(said[start : start + QUOTE_WORDS]) in shingles:
            copied[start : start + QUOTE_WORDS] = [True] * QUOTE_WORDS
    return sum(copied) / len(said)


def too_few_words_message(title: str) -> str:
    return f"Write, in your own words, what you are taking on from ‘{title}’ (at least {MIN_WORDS} words)"


def copied_message(title: str, share: float) -> str:
    return (
        f"Your summary of ‘{title}’ repeats the handover word for word ({share:.0%} of it is copied). Write what you "
        "are taking on in your own words: you can quote a few words"
    )
