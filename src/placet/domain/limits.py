"""How much a field may hold, from every door: the REST API's models and the dashboard's forms.

One definition of each limit, so a form cannot store what the API would refuse.
Pure: numbers and the words that say a value is over one.
"""

from __future__ import annotations

MAX_INPUT_DEPTH = 32  # nesting of a task's input
MAX_TEXT = 200_000  # an edited draft; the body limit (1 MiB) bounds it too
MAX_NOTE = 20_000  # feedback, reasons and cancel notes
MAX_NAME = 200  # kinds, labels, handler and user names, as the database columns allow
MAX_VERSION = 2**31  # a task version a decision names


def too_long(what: str, value: str, limit: int) -> str | None:
    """Why the value is over the limit, in words for the person who typed it; None if it fits."""
    if len(value) <= limit:
        return None
    return f"The {what} is too long: {len(value):,} characters, at most {limit:,}."
