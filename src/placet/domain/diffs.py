"""Text diffs between drafts and between a draft and its edit."""

from __future__ import annotations

import difflib


def unified_diff(
    before: str, after: str, before_name: str = "draft", after_name: str = "edited"
) -> str:
    """A unified diff of two texts, line by line; empty when they are equal."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=before_name,
        tofile=after_name,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)
