"""One policy for the characters of any text a person or a system sends.

Refused everywhere: C0 and C1 control characters other than tab and line breaks (they break exports, terminals and
pages, and can hide text), the Unicode line and paragraph separators, and the bidirectional embedding, override and
isolate controls (U+202A-U+202E, U+2066-U+2069), which make text display in a different order from the one stored,
so that a name or a reason could read differently from what it is (Unicode Technical Report 36, "Bidirectional Text
Spoofing"). The plain left-to-right and right-to-left marks stay allowed: names in Arabic or Hebrew script use them.

Refused too in text that is one line (a name, a reference, who a disagreement is with): line breaks and tabs, and the
invisible characters that make two names look the same while differing (zero-width space U+200B, word joiner
U+2060, soft hyphen U+00AD, and the byte-order mark U+FEFF left by a spreadsheet).
"""

from __future__ import annotations

import re
import unicodedata

_HIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

HIDDEN_CHARACTER_MESSAGE = "contains a hidden control character: type it again rather than pasting it"


def has_hidden_characters(text: str) -> bool:
    """Whether `text` holds a character the policy above refuses."""
    return _HIDDEN.search(text) is not None


_NOT_ON_ONE_LINE = re.compile(r"[\t\n\r\u00ad\u200b\u2060\ufeff]")

NOT_ONE_LINE_MESSAGE = "must be on one line, without tabs or invisible characters"


def breaks_one_line(text: str) -> bool:
    """Whether `text`, which should be one line, holds a line break, a tab or an invisible character."""
    return _NOT_ON_ONE_LINE.search(text) is not None


# What a person cannot see: spaces of every width and line breaks (Zs, Zl, Zp), control and format characters (Cc,
# Cf: the zero-width space, word joiner, byte-order mark, bidirectional marks), combining marks with nothing to combine
# with (Mn, Me: variation selectors, the combining grapheme joiner), surrogates and unassigned code points (Cs, Cn),
# and the few letters and symbols Unicode draws as nothing (the Hangul fillers, the blank Braille pattern).
_BLANK_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Cn", "Mn", "Me"})
_DRAWN_AS_NOTHING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing a reader could see: empty, or made only of spaces, line breaks and invisible
    characters (see `_BLANK_CATEGORIES`). The one rule for a required text, wherever it is typed or sent: "\u200b",
    a no-break space or a word joiner is no more a reason than an empty box is."""
    return all(
        character.isspace() or character in _DRAWN_AS_NOTHING or unicodedata.category(character) in _BLANK_CATEGORIES
        for character in text
    )


# Words that begin with a vowel letter but a consonant sound ("a user", "a one-off"), and with a consonant letter but
# a vowel sound ("an hour"). Row labels are nouns a checklist author writes; these cover the English that social work
# forms meet, and a label that is an initialism ("an MP", "a GP") is read letter by letter.
_CONSONANT_SOUND = re.compile(r"^(eu|ewe|one|once|uni|usu|use|usa|uti|ura|ure|uk\b|ufo|u\b)", re.IGNORECASE)
_VOWEL_SOUND = re.compile(r"^(hour|honest|honou?r|heir)", re.IGNORECASE)
_LETTERS_SAID_WITH_A_VOWEL = "AEFHILMNORSX"  # letters whose names begin with a vowel sound: "an MP", "an SLT"


def indefinite_article(noun: str) -> str:
    """'a' or 'an' for `noun`, by how it is said rather than how it is spelt: "an incident", "an action", "a risk",
    "a user", "an hour", "an MP", "a GP"."""
    word = noun.strip().split(" ", 1)[0] if noun.strip() else ""
    if not word:
        return "a"
    if len(word) > 1 and word.isupper() and word.isalpha() and not _is_said_as_a_word(word):
        return "an" if word[0] in _LETTERS_SAID_WITH_A_VOWEL else "a"
    if _VOWEL_SOUND.match(word):
        return "an"
    if _CONSONANT_SOUND.match(word):
        return "a"
    return "an" if word[0].lower() in "aeiou" else "a"


def _is_said_as_a_word(initialism: str) -> bool:
    """Whether an all-capitals word is said as a word ("CAMHS", "NATO") rather than letter by letter ("GP", "MP"):
    taken as said as a word when it has a vowel after its first letter and is longer than three letters."""
    return len(initialism) > 3 and any(letter in "AEIOU" for letter in initialism[1:])


def with_indefinite_article(noun: str) -> str:
    """`noun` after its article: "an incident", "a risk"."""
    return f"{indefinite_article(noun)} {noun}"


# One address, and only one, in plain ASCII: a local part of the characters RFC 5322 allows unquoted ("dot-atom"),
# one @, and a domain of letters, digits and hyphens with at least one dot. Anything else ("Name <a@b>", "a,b@c", a
# quoted local part, look-alike letters) is refused: what the page shows must be exactly where the mail goes, and an
# SMTP server would read such text as another address than the one shown.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
EMAIL_FORMAT_MESSAGE = "Enter an email address in the correct format, like name@example.gov.uk"


def is_email_address(text: str) -> bool:
    """Whether `text` (trimmed) is shaped like an e-mail address."""
    return _EMAIL.fullmatch(text.strip()) is not None
