"""Finding a child's handovers by name or case reference: what a search may be, and how it matches."""

from __future__ import annotations

from service.core.validation import text_errors

SEARCH_MAX = 100
SEARCH_MISSING = "Enter a child's name or case reference"


def search_errors(text: str) -> dict[str, str]:
    """The message for the search box, by its field name (`q`); {} when the search can be made."""
    return text_errors("q", text, missing=SEARCH_MISSING, limit=SEARCH_MAX, what="Your search", one_line=True)


def like_pattern(text: str) -> str:
    """A SQL LIKE pattern (escape character `\\`) matching the text anywhere: partial, and without regard to case
    (SQLite's LIKE folds ASCII letters). `%` and `_` typed in a search are matched as themselves."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
