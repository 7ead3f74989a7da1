"""Routing: rules that send a supervised draft to the right people, by what was found. Pure.

A kind's supervisor may route each draft by its reading, first matching rule wins::

    route = [
      { when = "risk >= 70 or flag == 'secrets'", reviewers = ["group:security"], approvals = 2 },
      { when = "risk < 20 and no flags", priority = "low" },
    ]

``when`` is a small expression language, parsed here (nothing is ever evaluated as
Python): ``risk`` (0-100) compared with a number by ``<``, ``<=``, ``>``, ``>=``,
``==`` or ``!=``; ``flag == 'NAME'`` (``!=``) where NAME is a finding type (``card``,
``api_key``...), a category (``pii``, ``secrets``, ``links``; ``secret`` and
``link`` too), ``failed_check`` (the model's checks found a failure) or
``unavailable`` (the supervisor could not read the draft); ``no flags`` and
``any flags``; combined with ``and``, ``or``, ``not`` and parentheses. A rule's
``reviewers`` and ``approvals`` take the place of the kind's for that draft;
``priority`` (``high`` or ``low``) is shown in the queue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from placet.domain.supervision import FINDING_TYPES, READING_FLAGS, SCANS

PRIORITIES = ("high", "low")
_TOKEN = re.compile(r"\s*(?:(\d+)|'([^']*)'|\"([^\"]*)\"|(<=|>=|==|!=|<|>|\(|\))|([a-z_]+))")
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_SINGULAR = {"secret": "secrets", "link": "links"}


@dataclass(frozen=True)
class Facts:
    """What a rule is judged on: the draft's risk and the types and categories flagged."""

    risk: int
    flags: frozenset[str]  # finding types and their categories

    @classmethod
    def of(cls, risk: int | None, types: Iterable[str]) -> Facts:
        """The facts of a reading: its risk, its types and the categories they belong to."""
        names = set(types)
        names |= {FINDING_TYPES[name] for name in names if name in FINDING_TYPES}
        return cls(risk or 0, frozenset(names))


Condition = Callable[[Facts], bool]


@dataclass(frozen=True)
class Rule:
    """One routing rule: when it applies, and what it sets for the draft."""

    when: str
    test: Condition = field(compare=False, repr=False)  # made from ``when``
    reviewers: tuple[str, ...] = ()
    approvals: int | None = None
    priority: str | None = None


def described(rule: Rule) -> str:
    """``to group:security, 2 approvals (when risk >= 70)``: a rule, said for a person."""
    parts = []
    if rule.reviewers:
        parts.append("to " + ", ".join(rule.reviewers))
    if rule.approvals is not None:
        parts.append(f"{rule.approvals} approval{'s' if rule.approvals != 1 else ''}")
    if rule.priority is not None:
        parts.append(f"{rule.priority} priority")
    return f"{', '.join(parts)} (when {rule.when})"


def first_match(rules: Iterable[Rule], facts: Facts) -> Rule | None:
    """The first rule whose ``when`` holds for these facts, or None."""
    return next((rule for rule in rules if rule.test(facts)), None)


class RouteSyntaxError(ValueError):
    """A ``when`` expression that cannot be read; the message says where and why."""


def parse_when(text: str) -> Condition:
    """The condition a ``when`` expression states, or RouteSyntaxError."""
    tokens = _tokens(text)
    parser = _Parser(tokens, text)
    condition = parser.either()
    if parser.at < len(tokens):
        raise RouteSyntaxError(f"unexpected {tokens[parser.at]!r} in {text!r}")
    return condition


def _tokens(text: str) -> list[str]:
    tokens, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise RouteSyntaxError(f"cannot read {text[at:]!r} in {text!r}")
        number, single, double, symbol, word = match.groups()
        if single is not None or double is not None:
            tokens.append("'" + (single if single is not None else double))
        else:
            tokens.append(number or symbol or word)
        at = match.end()
    if not tokens:
        raise RouteSyntaxError("an empty condition")
    return tokens


class _Parser:
    """either := both ('or' both)*; both := one ('and' one)*; one := 'not' one | '(' either ')'
    | 'no' 'flags' | 'any' 'flags' | 'risk' OP NUMBER | 'flag' ('=='|'!=') STRING."""

    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens, self.text, self.at = tokens, text, 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, *expected: str) -> str:
        token = self.peek()
        if token is None or (expected and token not in expected):
            wanted = " or ".join(repr(e) for e in expected) or "more"
            raise RouteSyntaxError(f"expected {wanted} in {self.text!r}, found {token!r}")
        self.at += 1
        return token

    def either(self) -> Condition:
        parts = [self.both()]
        while self.peek() == "or":
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else (lambda f: any(part(f) for part in parts))

    def both(self) -> Condition:
        parts = [self.one()]
        while self.peek() == "and":
            self.take()
            parts.append(self.one())
        return parts[0] if len(parts) == 1 else (lambda f: all(part(f) for part in parts))

    def one(self) -> Condition:
        token = self.take()
        if token == "not":
            inner = self.one()
            return lambda f: not inner(f)
        if token == "(":
            inner = self.either()
            self.take(")")
            return inner
        if token in ("no", "any"):
            self.take("flags")
            return (lambda f: not f.flags) if token == "no" else (lambda f: bool(f.flags))
        if token == "risk":
            return self._risk()
        if token == "flag":
            return self._flag()
        raise RouteSyntaxError(
            f"unexpected {token!r} in {self.text!r} (conditions start with risk, flag, "
            "no flags, any flags, not or a parenthesis)"
        )

    def _risk(self) -> Condition:
        compare = _COMPARE[self.take(*_COMPARE)]
        number = self.take()
        if not number.isdigit():
            raise RouteSyntaxError(f"risk is compared with a number, not {number!r}")
        bound = int(number)
        return lambda f: compare(f.risk, bound)

    def _flag(self) -> Condition:
        equal = self.take("==", "!=") == "=="
        quoted = self.take()
        if not quoted.startswith("'"):
            raise RouteSyntaxError(f"flag is compared with a quoted name, not {quoted!r}")
        name = _SINGULAR.get(quoted[1:], quoted[1:])
        if name not in FINDING_TYPES and name not in SCANS and name not in READING_FLAGS:
            known = ", ".join([*SCANS, *FINDING_TYPES, *READING_FLAGS])
            raise RouteSyntaxError(f"{quoted[1:]!r} is no flag ({known})")
        return lambda f: (name in f.flags) == equal
