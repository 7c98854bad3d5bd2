"""Who a person is to the service: the rules for a username and a password, and their messages, defined once for
every place one is set (the administrator's pages, the command line, any API). Pure: nothing here reads the store.

Usernames are short, typed and read by people: lower-case letters a to z, the digits 0 to 9, full stops,
underscores and hyphens, beginning with a letter or digit. Two usernames are the same when they are the same after
Unicode compatibility normalisation (NFKC) and case folding (``JSmith`` is ``jsmith``). A new username is also
refused when it only looks like an existing one: their *skeletons* are compared, which also map Unicode look-alike
characters to the letter they imitate (Cyrillic ``а`` is Latin ``a``; the Unicode confusables data, from the
``confusable_homoglyphs`` package), fold digits that look like letters (``0`` is ``o``; ``1``, ``l`` and ``i`` are one)
and drop punctuation and separators (``alex.``, ``ale-x`` and ``alex_`` are ``alex``). People pick someone from a list
by name and read usernames in the audit trail: two that a reader cannot tell apart would let one pass for the other.

Passwords follow the NCSC's guidance: a minimum length and no complexity rules, no upper limit a person would meet,
and a refusal of passwords that are common or close to one (the guess estimate of zxcvbn, whose lists come from
leaked password sets, English words and names) or that contain the person's username or name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

USERNAME_MAX = 200
PASSWORD_MIN = 12  # NCSC guidance: length over complexity
# Longer is refused before hashing, so a huge body cannot make hashing slow; far above any password a person types
# (argon2 itself takes up to 4 GiB).
PASSWORD_MAX = 1000

# zxcvbn's estimate takes time that grows quickly with length (seconds at 1,000 characters): it judges the first
# characters, its own default limit. A password whose first 72 characters are hard to guess is no easier in full.
ESTIMATE_LENGTH = 72
# zxcvbn's score 3 ("safely unguessable": about 10^8 guesses or more). Below it are the common passwords and their
# usual variations (a capital, digits or a symbol added, keyboard runs, repeats, dates).
LEAST_SCORE = 3
# A word of a username or name shorter than this is not looked for inside a password ("jo" is in "major").
SHORTEST_NAME_PART = 4

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]*")

USERNAME_CHARACTERS = (
    "A username can only contain lower-case letters a to z, numbers, full stops, underscores and hyphens, and must "
    "begin with a letter or a number"
)
USERNAME_HINT = "What they type to sign in: lower-case letters a to z, numbers, full stops, underscores and hyphens."
PASSWORD_HINT = (
    f"At least {PASSWORD_MIN} characters, not a common password, and without their username or name. Three random "
    "words make a good one."
)
PASSWORD_TOO_SHORT = f"The password must be at least {PASSWORD_MIN} characters"
PASSWORD_TOO_LONG = f"The password must be {PASSWORD_MAX:,} characters or fewer"
PASSWORD_HAS_NAME = "The password must not contain the person's username or name"
PASSWORD_IS_CURRENT = "This is the password the account already has: choose a new one"
PASSWORD_COMMON = "This password is too common or too easy to guess: choose another, for example three random words"


def username_key(username: str) -> str:
    """What two usernames are compared by: NFKC-normalised and case-folded, without surrounding spaces."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


# Characters that still look like another after the confusables data: the digits and ``i`` read as ``l`` or ``o``.
_LOOK_ALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l"})


@cache
def _confusables() -> dict[str, str]:
    """Each character the Unicode confusables data maps to exactly one other, and that other (its prototype).

    Loaded the first time a username is compared: the data takes a few megabytes that commands and workers that never
    add a person should not hold. A character listed with many look-alikes is itself a prototype, and stays.
    """
    from confusable_homoglyphs.confusables import confusables_data

    prototypes = {}
    for character, homoglyphs in confusables_data.items():
        if len(homoglyphs) == 1:
            prototypes[character] = str(homoglyphs[0]["c"]).strip("\u200e\u200f")
    return prototypes


def username_skeleton(username: str) -> str:
    """What a reader takes a username for: NFKC and case folding, each Unicode look-alike mapped to its prototype,
    digits that look like letters folded, and everything but letters and digits removed."""
    text = unicodedata.normalize("NFKC", username).casefold()
    prototypes = _confusables()
    text = "".join(prototypes.get(character, character) for character in text)
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LOOK_ALIKE)
    return "".join(character for character in text if character.isalnum())


def username_errors(username: str, key: str = "username") -> dict[str, str]:
    """The characters a new username may hold (its presence and length are `validation.text_errors`' to say)."""
    username = username.strip()
    if username and not _USERNAME.fullmatch(username):
        return {key: USERNAME_CHARACTERS}
    return {}


def same_username(username: str, existing: Iterable[str]) -> str | None:
    """The existing username that `username` would be taken for, if any."""
    wanted = username_key(username)
    return next((name for name in existing if username_key(name) == wanted), None)


def username_taken_message(existing: str) -> str:
    return f"There is already a user called {existing!r}"


USERNAME_TOO_SIMILAR = "This username is too similar to an existing username: choose one that looks different"


def similar_username(username: str, existing: Iterable[str]) -> bool:
    """Whether `username` looks like one of `existing` (the same skeleton), so a reader could take one for the other."""
    wanted = username_skeleton(username)
    return bool(wanted) and any(username_skeleton(name) == wanted for name in existing)


def username_clash_errors(username: str, existing: Iterable[str], key: str = "username") -> dict[str, str]:
    """The one rule for every place a username is set: not an existing one, nor one that looks like it. The message
    names the existing username only when it is the same one (compared as `username_key`), since the list of people
    shows it anyway; a look-alike is only said to be too similar."""
    names = list(existing)
    same = same_username(username, names)
    if same is not None:
        return {key: username_taken_message(same)}
    if similar_username(username, names):
        return {key: USERNAME_TOO_SIMILAR}
    return {}


def email_key(email: str) -> str:
    """What two e-mail addresses are compared by (mail systems treat addresses as one whatever their case)."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


def same_email(email: str, existing: Iterable[str]) -> bool:
    wanted = email_key(email)
    return any(email_key(address) == wanted for address in existing if address)


EMAIL_TAKEN = "Another person already has this email address: enter their own work email address"


def _letters(text: str) -> str:
    """Letters and digits only, normalised and case-folded, so "Jo-Joiner" is found in "jojoiner2026"."""
    return "".join(character for character in unicodedata.normalize("NFKC", text).casefold() if character.isalnum())


def _name_parts(username: str, full_name: str) -> set[str]:
    parts = {_letters(username), _letters(full_name)}
    for text in (username, full_name):
        parts.update(_letters(word) for word in re.split(r"[\W_]+", text))
    return {part for part in parts if len(part) >= SHORTEST_NAME_PART}


@cache
def _estimator() -> Callable[..., dict[str, Any]]:
    """zxcvbn, imported the first time a password is judged: its word lists take about 14 MB, which commands and
    workers that never set a password should not hold."""
    from zxcvbn import zxcvbn

    estimate: Callable[..., dict[str, Any]] = zxcvbn
    return estimate


def password_errors(password: str, *, username: str, full_name: str, key: str = "password") -> dict[str, str]:
    """A new password for the person with this username and name: long enough, not over the limit, without their
    username or name, and not common or close to a common one."""
    if len(password) < PASSWORD_MIN:
        return {key: PASSWORD_TOO_SHORT}
    if len(password) > PASSWORD_MAX:
        return {key: PASSWORD_TOO_LONG}
    letters = _letters(password)
    if any(part in letters for part in _name_parts(username, full_name)):
        return {key: PASSWORD_HAS_NAME}
    judged = password[:ESTIMATE_LENGTH]
    score = _estimator()(judged, user_inputs=[username, full_name], max_length=ESTIMATE_LENGTH)["score"]
    if int(score) < LEAST_SCORE:
        return {key: PASSWORD_COMMON}
    return {}
