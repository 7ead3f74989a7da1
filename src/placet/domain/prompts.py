"""Building the messages sent to a model, including revision feedback."""

from __future__ import annotations

import functools
import re

from placet.domain.models import JsonObject, TaskKind
from placet.errors import InvalidInputError

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")

Message = dict[str, str]


def template_inputs(template: str) -> list[str]:
    """The input names a template uses, in order of first use."""
    return list(_template_inputs(template))


@functools.lru_cache(maxsize=256)
def _template_inputs(template: str) -> tuple[str, ...]:
    # A kind's template is parsed for every submit and every draft: parse it once.
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name and name not in names:
            names.append(name)
    return tuple(names)


def render_template(template: str, values: JsonObject) -> str:
    """Fill ``{name}`` placeholders; ``{{`` and ``}}`` are literal braces."""
    missing = [name for name in _template_inputs(template) if name not in values]
    if missing:
        raise InvalidInputError(f"missing input: {', '.join(missing)}")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        value = values[name]
        return value if isinstance(value, str) else str(value)

    return _PLACEHOLDER.sub(fill, template)


def build_messages(
    kind: TaskKind,
    values: JsonObject,
    previous_draft: str | None = None,
    feedback: str | None = None,
) -> list[Message]:
    """The chat messages for a first draft, or for a revision of one."""
    messages: list[Message] = []
    if kind.system:
        messages.append({"role": "system", "content": kind.system})
    messages.append({"role": "user", "content": render_template(kind.template, values)})
    if previous_draft is not None:
        # The model sees its own earlier attempt and the reviewer's words, so the
        # next draft answers the feedback instead of starting over blind.
        messages.append({"role": "assistant", "content": previous_draft})
        messages.append({"role": "user", "content": revision_request(feedback)})
    return messages


def revision_request(feedback: str | None) -> str:
    """The user turn asking for a revision."""
    note = (feedback or "").strip() or "Please improve the draft."
    return (
        "A human reviewer read your draft and asked for a revision.\n"
        f"Reviewer feedback: {note}\n"
        "Write the full revised version now, and nothing else."
    )
