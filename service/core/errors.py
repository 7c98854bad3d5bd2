"""Every error the rules can raise, in one place, so each adapter turns each one into its own answer once.

The pages show a page for each (409 for `Refused` and `Conflict`, 404 for `NotFound`, the form again with its
messages for `Invalid`); the API answers each in its error shape; the command line prints the message and exits
non-zero.
"""

from __future__ import annotations


class Invalid(Exception):
    """Input that cannot be accepted, with a message for each field it is about.

    `errors` maps a field's name (as the form or the API body names it) to a sentence a social worker understands.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class Refused(Exception):
    """The state machine's answer "no": every reason this person may not do this to this handover now."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class Conflict(Exception):
    """Someone else changed the record since the person loaded it (its version moved on)."""


class NotFound(Exception):
    """No such record, or none that this person may see (the two are answered alike, so nothing leaks)."""
