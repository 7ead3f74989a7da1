"""Pipelines of kinds: an approved task submits the next kind. Pure.

``then = "translate_fr"`` on a kind names the kind submitted when one of its tasks
is approved; ``then = { remove = "notify_user", escalate = "legal_review" }`` names
one per choice (a choice with no entry ends the chain there). The next task's
input comes from the approved output through ``then_input``: each value a
template of ``{output}`` (the approved text, or a structured draft's JSON),
``{output.FIELD}`` (a field of a structured draft, or ``choice`` / ``reason``),
``{fields.NAME}`` (a value the approver gave for ``decision_fields``) and
``{input.NAME}`` (the step's own input). A value that is one placeholder alone
keeps its type (a number stays a number, for the next kind's ``input_schema``).

Everything a configuration can get wrong is found here before anything runs:
an unknown kind, a cycle, a field the output cannot have, an input the next
kind needs and is not given. A step is submitted with an idempotency key
derived from its parent's id, so it is made exactly once however often the
advancing is retried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from placet.domain import typed
from placet.domain.models import JsonObject, TaskKind
from placet.domain.prompts import template_inputs
from placet.errors import ConfigError, InvalidInputError

EVERY = ""  # the choice key of a ``then`` that follows every approval
KEY_PREFIX = "pipeline:"
SUBMITTED_KEY = "pipeline"  # in a step's ``submitted`` event: its parent and the approval
NEXT_EVENT = "pipeline_next"  # on the parent: the step it submitted
_PLACEHOLDER = re.compile(r"\{(output|fields|input)(?:\.([A-Za-z_][A-Za-z0-9_-]*))?\}")
_SOURCES = "{output}, {output.FIELD}, {fields.NAME} or {input.NAME}"


def step_key(parent_id: str) -> str:
    """The idempotency key of the step a parent submits: the same on every retry."""
    return f"{KEY_PREFIX}{parent_id}"


# -- reading placet.toml ------------------------------------------------------------


def parse_then(
    raw: Any, choices: tuple[str, ...], multiple: bool, where: str
) -> tuple[tuple[str, str], ...]:
    """``then`` of a kind's table: a kind name, or a table of choice = kind name."""
    if raw is None:
        return ()
    if isinstance(raw, str) and raw.strip():
        return ((EVERY, raw.strip()),)
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(
            f'{where}: then must be a kind name (then = "translate_fr") or a table of '
            'choice = kind (then = { remove = "notify_user" })'
        )
    if not choices or multiple:
        raise ConfigError(
            f"{where}: then by choice needs a kind with choices and without multiple = true; "
            'give one kind (then = "next_kind") instead'
        )
    pairs: list[tuple[str, str]] = []
    for choice, name in raw.items():
        if choice not in choices:
            raise ConfigError(
                f"{where}: then names choice {choice!r}, which is not one of {', '.join(choices)}"
            )
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{where}: then.{choice} must be the name of a kind")
        pairs.append((choice, name.strip()))
    return tuple(pairs)


def parse_then_input(raw: Any, has_then: bool, where: str) -> tuple[tuple[str, str], ...]:
    """``then_input`` of a kind's table: input name = template, each placeholder known."""
    if raw is None:
        return ()
    if not has_then:
        raise ConfigError(f"{where}: then_input needs then (the kind it is the input of)")
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(
            f'{where}: then_input must be a table, e.g. then_input = {{ text = "{{output}}" }}'
        )
    pairs: list[tuple[str, str]] = []
    for name, template in raw.items():
        if not isinstance(template, str):
            raise ConfigError(f'{where}: then_input.{name} must be text such as "{{output}}"')
        for brace in re.findall(r"\{[^{}]*\}", template):
            if not _PLACEHOLDER.fullmatch(brace):
                raise ConfigError(
                    f"{where}: then_input.{name} uses {brace}; a value may use {_SOURCES}"
                )
        pairs.append((str(name), template))
    return tuple(pairs)


# -- checking kinds together ----------------------------------------------------------


def pipeline_problems(kinds: Mapping[str, TaskKind]) -> list[str]:
    """What is wrong with the kinds' pipelines, each naming the kind; empty when nothing."""
    found: list[str] = []
    for kind in kinds.values():
        for choice, name in kind.then:
            after = f" (after {choice})" if choice else ""
            if name not in kinds:
                found.append(
                    f"[kinds.{kind.name}] then{after} names kind {name!r}, which is not defined"
                )
                continue
            found += [f"[kinds.{kind.name}] {p}" for p in _input_problems(kind, kinds[name])]
    found += _cycles(kinds)
    return found


def _input_problems(kind: TaskKind, following: TaskKind) -> list[str]:
    mapping = input_templates(kind, following)
    if mapping is None:
        return [
            f"then_input is needed: kind {following.name!r} takes inputs "
            f"{', '.join(_needed(following)) or '(none named)'}; "
            f'e.g. then_input = {{ {(_needed(following) or ["text"])[0]} = "{{output}}" }}'
        ]
    found: list[str] = []
    for name, template in mapping:
        for source, field_name in _PLACEHOLDER.findall(template):
            problem = _source_problem(kind, source, field_name)
            if problem:
                found.append(f"then_input.{name}: {problem}")
    missing = [name for name in _needed(following) if name not in dict(mapping)]
    if missing:
        found.append(
            f"then_input does not give {', '.join(missing)}, which kind {following.name!r} needs"
        )
    return found


def _needed(kind: TaskKind) -> list[str]:
    """The inputs a kind cannot be submitted without: its template's and its schema's required."""
    needed = template_inputs(kind.template)
    required = (kind.input_schema or {}).get("required", [])
    return needed + [name for name in required if isinstance(name, str) and name not in needed]


def _source_problem(kind: TaskKind, source: str, field_name: str) -> str | None:
    if source == "output":
        if not field_name:
            return None
        fields = _properties(typed.draft_schema(kind))
        if fields is None:
            return (
                f"{{output.{field_name}}} needs a structured output, and {kind.name!r} drafts text"
            )
        if field_name not in fields:
            known = ", ".join(fields)
            return f"the output of {kind.name!r} has no field {field_name!r} (it has {known})"
        return None
    if not field_name:
        return f"{{{source}}} needs a name: {{{source}.NAME}}"
    if source == "fields":
        fields = _properties(kind.decision_fields)
        if fields is None or field_name not in fields:
            return f"kind {kind.name!r} asks for no decision field {field_name!r}"
        return None
    inputs = set(template_inputs(kind.template)) | set(_properties(kind.input_schema) or ())
    if field_name not in inputs:
        return f"kind {kind.name!r} has no input {field_name!r}"
    return None


def _properties(schema: JsonObject | None) -> list[str] | None:
    if schema is None:
        return None
    properties = schema.get("properties")
    return list(properties) if isinstance(properties, Mapping) else []


def _cycles(kinds: Mapping[str, TaskKind]) -> list[str]:
    """One problem per cycle of ``then``, naming the kinds around it."""
    found: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = " -> ".join([*path[path.index(name) :], name])
            found.append(f"[kinds.{name}] then makes a cycle: {cycle}")
            return
        if name in done or name not in kinds:
            return
        for _, following in kinds[name].then:
            visit(following, [*path, name])
        done.add(name)

    for start in kinds:
        visit(start, [])
    return found


# -- advancing ---------------------------------------------------------------------------


def next_kind(kind: TaskKind, choice: Any) -> str | None:
    """The kind an approved task of ``kind`` leads to, given the choice made (None: the end)."""
    for when, name in kind.then:
        if when in (EVERY, choice):
            return name
    return None


def input_templates(kind: TaskKind, following: TaskKind) -> tuple[tuple[str, str], ...] | None:
    """How the next task's input is made: ``then_input``, or, when the next kind takes one
    input, the whole output as it (None: ``then_input`` is needed)."""
    if kind.then_input:
        return kind.then_input
    needed = _needed(following)
    if len(needed) == 1:
        return ((needed[0], "{output}"),)
    return None


def next_input(
    templates: tuple[tuple[str, str], ...],
    output: str,
    value: JsonObject | None,
    fields: JsonObject | None,
    values: JsonObject,
) -> JsonObject:
    """The next task's input from the approved output (and object, fields, input)."""
    sources: dict[str, Any] = {"output": value or {}, "fields": fields or {}, "input": values}

    def lookup(source: str, name: str) -> Any:
        if source == "output" and not name:
            return output
        found = sources[source]
        if name not in found:
            raise InvalidInputError(f"the approved task has no {source}.{name} to pass on")
        return found[name]

    made: JsonObject = {}
    for name, template in templates:
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            made[name] = lookup(whole.group(1), whole.group(2) or "")
            continue
        made[name] = _PLACEHOLDER.sub(
            lambda m: _as_text(lookup(m.group(1), m.group(2) or "")), template
        )
    return made


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def step_payload(kind: TaskKind, parent: JsonObject | None) -> JsonObject:
    """What a task's ``submitted`` event records of its pipeline: the parent step it follows
    (with the approving event's hash, so the audit proves the link), and whether the kind
    leads on (an approval made before ``then`` was set never starts a chain)."""
    step: JsonObject = dict(parent or {})
    if kind.then:
        step["then"] = True
    return step


def leads_on(submitted: JsonObject) -> bool:
    """True when a task's ``submitted`` payload says its kind had ``then`` when it was made."""
    step = submitted.get(SUBMITTED_KEY)
    return isinstance(step, Mapping) and step.get("then") is True


def parent_link(submitted: JsonObject) -> tuple[str, int, str] | None:
    """The parent's id, and the seq and hash of the event that approved it, as a step's
    ``submitted`` payload records them; None for a task that follows none."""
    step = submitted.get(SUBMITTED_KEY)
    if not isinstance(step, Mapping) or "parent" not in step:
        return None
    return str(step["parent"]), int(step.get("parent_event_seq", 0)), str(step["parent_event"])


def link_problem(link: tuple[str, int, str], parent_events: list[Any]) -> str | None:
    """What is wrong with a step's link to its parent's approval; None when it holds."""
    parent, seq, digest = link
    approving = {"approve", "edit"}
    for event in parent_events:
        if event.seq == seq:
            if event.hash != digest or event.type not in approving:
                return f"the step names approval {seq} of {parent}, which does not match it"
            return None
    return f"the step follows {parent}, which has no event {seq}"
