"""How long something lasts, in words a person reads: "12 hours", "30 minutes", "1 minute", "45 seconds"."""

from __future__ import annotations


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def duration_words(seconds: float) -> str:
    """The largest whole unit the time is a whole number of (hours, minutes), otherwise seconds."""
    whole = round(seconds)
    if whole >= 3600 and whole % 3600 == 0:
        return _plural(whole // 3600, "hour")
    if whole >= 60 and whole % 60 == 0:
        return _plural(whole // 60, "minute")
    return _plural(whole, "second")
