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


def changed_lines(diff: str) -> int:
    """How many lines a unified diff changes: a line replaced, added or removed counts once.

    Within each run of removed and added lines, a removed line and an added one pair
    up as one changed line, as the dashboard's side-by-side rows show them.
    """
    changed, in_hunks = 0, False
    removed: list[str] = []
    added: list[str] = []
    for line in diff.splitlines():
        in_hunks = in_hunks or line.startswith("@@")  # file names come before the first hunk
        if in_hunks and line.startswith("-"):
            removed.append(line[1:])
        elif in_hunks and line.startswith("+"):
            added.append(line[1:])
        else:
            changed, removed, added = changed + _run_size(removed, added), [], []
    return changed + _run_size(removed, added)


def _run_size(removed: list[str], added: list[str]) -> int:
    # A line that differs only in its missing final newline shows as "-x" and "+x":
    # the same text on both sides, not a change a person made.
    matcher = difflib.SequenceMatcher(None, removed, added, autojunk=False)
    return sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )
