"""Building the messages sent to a model, including revision feedback."""

from __future__ import annotations

import functools
import re

from placet.domain.learning import MAX_EXAMPLE_CHARS, NOTHING, Learned, lessons_block
from placet.domain.models import JsonObject, TaskKind
from placet.domain.revisions import asked_opening
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


def template_problem(template: str) -> str | None:
    """What is wrong with a template's braces, in words, or None when nothing is.

    ``{name}`` is an input and ``{{`` and ``}}`` are literal braces; any other
    brace is a mistake (``Hi {name``), which would otherwise reach the model as
    it stands while the input it meant is never asked for.
    """
    start = 0
    for match in _PLACEHOLDER.finditer(template):
        problem = _stray_brace(template, start, match.start())
        if problem is not None:
            return problem
        start = match.end()
    return _stray_brace(template, start, len(template))


def _stray_brace(template: str, start: int, end: int) -> str | None:
    """The first brace between two placeholders, said with where it is, or None."""
    gap = template[start:end]
    opening, closing = gap.find("{"), gap.find("}")
    if opening == -1 and closing == -1:
        return None
    if opening == -1 or -1 < closing < opening:
        where = _where(template, start + closing)
        return f"a '}}' {where} closes nothing (write }}}} for a literal brace)"
    if closing == -1:
        shown = gap[opening:][:20]
        return (
            f"the '{{' {_where(template, start + opening)} is never closed ({shown!r}): "
            "write {name} for an input, {{ for a literal brace"
        )
    shown = gap[opening : closing + 1][:40]
    return (
        f"{shown!r} {_where(template, start + opening)} is not an input: an input's name is "
        "letters, digits and _, such as {name}; write {{ and }} for literal braces"
    )


def _where(template: str, index: int) -> str:
    """Where a character is, for messages: "at character N" or "on line L, character N"."""
    line = template.count("\n", 0, index) + 1
    column = index - (template.rfind("\n", 0, index) + 1) + 1
    return f"at character {column}" if line == 1 else f"on line {line}, character {column}"


def unused_inputs(template: str, values: JsonObject) -> list[str]:
    """The input names a template does not use: kept with the task, never sent to the model."""
    used = set(_template_inputs(template))
    return [name for name in values if name not in used]


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
    learned: Learned = NOTHING,
) -> list[Message]:
    """The chat messages for a first draft, or for a revision of one.

    The system prompt comes first, then the kind's active lessons (delimited, in
    the same system turn), then the kind's worked examples and the approved work
    most like this task, each as the request it answers and the answer. A
    revision (``previous_draft`` given) is built as the kind's ``revise_from``
    says: from the draft, or from the request and the feedback. The answer's
    opening, when there is one, is last: an assistant turn the model writes on
    from (``answer_opening``).
    """
    messages: list[Message] = []
    system = "\n\n".join(
        part
        for part in (kind.system, lessons_block(learned.lessons) if learned.lessons else "")
        if part
    )
    if system:
        messages.append({"role": "system", "content": system})
    for example in kind.examples:
        messages.append({"role": "user", "content": render_template(kind.template, example.input)})
        messages.append({"role": "assistant", "content": example.output})
    for earlier in learned.examples:
        try:
            asked = render_template(kind.template, earlier.input)
        except InvalidInputError:
            continue  # made under another template: it no longer shows the kind's request
        messages.append({"role": "user", "content": asked})
        messages.append({"role": "assistant", "content": earlier.output[:MAX_EXAMPLE_CHARS]})
    request = render_template(kind.template, values)
    if previous_draft is None:
        messages.append({"role": "user", "content": request})
    elif kind.revise_from == "request":
        # A small model follows a fresh instruction far better than it edits a
        # text: the request again, with the reviewer's words as part of it.
        messages.append({"role": "user", "content": request_with_feedback(request, feedback)})
    else:
        # The model sees its own earlier attempt and the reviewer's words, so the
        # next draft answers the feedback instead of starting over blind.
        messages.append({"role": "user", "content": request})
        messages.append({"role": "assistant", "content": previous_draft})
        messages.append({"role": "user", "content": revision_request(feedback)})
    opening = answer_opening(kind, values, feedback if previous_draft is not None else None)
    if opening:
        messages.append({"role": "assistant", "content": opening})
    return messages


def answer_opening(kind: TaskKind, values: JsonObject, feedback: str | None = None) -> str:
    """The words the answer starts with: those a reviewer quoted ("start with 'Hi
    Ana,'") for a revision, else the kind's ``opening`` with the inputs filled in.

    A small model asked to change how its answer opens rarely does (0 of 12 in
    BENCHMARKS §15); written as the start of its answer, the opening is there, and
    the model writes on from it.
    """
    if kind.choices or kind.output_schema is not None:
        return ""  # a typed kind's answer is a JSON object: no words may start it
    asked = asked_opening(feedback) if feedback else ""
    if asked:
        return asked
    return render_template(kind.opening, values) if kind.opening else ""


def revision_request(feedback: str | None) -> str:
    """The user turn asking for a revision of the draft before it."""
    note = (feedback or "").strip() or "Please improve the draft."
    return (
        "A human reviewer read your draft and asked for a revision.\n"
        f"Reviewer feedback: {note}\n"
        "Write the full revised version now, and nothing else."
    )


def request_with_feedback(request: str, feedback: str | None) -> str:
    """The request again, with the reviewer's feedback as a requirement of it."""
    note = (feedback or "").strip()
    if not note:
        return request
    return f"{request}\n\nRequirement: {note}"
