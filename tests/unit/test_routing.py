"""Routing rules: a small expression language, read and judged without eval."""

from __future__ import annotations

import pytest

from placet.config import parse_kind
from placet.domain.routing import Facts, RouteSyntaxError, Rule, described, first_match, parse_when
from placet.errors import ConfigError

CARD = Facts.of(80, ["card"])
CLEAN = Facts.of(0, [])
KEY = Facts.of(90, ["api_key"])


@pytest.mark.parametrize(
    ("when", "card", "clean", "key"),
    [
        ("risk >= 70", True, False, True),
        ("risk < 20 and no flags", False, True, False),
        ("flag == 'secrets'", False, False, True),
        ("flag == 'secret'", False, False, True),  # the singular reads the same
        ("flag == 'card' or flag == \"api_key\"", True, False, True),
        ("any flags and not (flag == 'pii')", False, False, True),
        ("flag != 'pii'", False, True, True),
        ("risk == 80", True, False, False),
    ],
)
def test_conditions_read_as_written(when: str, card: bool, clean: bool, key: bool) -> None:
    test = parse_when(when)
    assert (test(CARD), test(CLEAN), test(KEY)) == (card, clean, key)


@pytest.mark.parametrize(
    ("when", "said"),
    [
        ("", "empty"),
        ("risk >= high", "compared with a number"),
        ("flag == 'dna'", "'dna' is no flag"),
        ("flag == card", "quoted name"),
        ("__import__('os').system('id')", "cannot read"),
        ("risk >= 70 or", "expected more"),
        ("(risk >= 70", "expected ')'"),
        ("risk >= 70 risk", "unexpected 'risk'"),
        ("open('x')", "unexpected 'open'"),
    ],
)
def test_what_cannot_be_read_is_refused_saying_why(when: str, said: str) -> None:
    with pytest.raises(RouteSyntaxError, match=said.replace("(", r"\(").replace(")", r"\)")):
        parse_when(when)


def test_the_first_matching_rule_wins() -> None:
    high = Rule("risk >= 70", parse_when("risk >= 70"), ("group:security",), 2)
    low = Rule("no flags", parse_when("no flags"), priority="low")
    assert first_match([high, low], KEY) is high
    assert first_match([high, low], CLEAN) is low
    assert first_match([high, low], Facts.of(25, ["email"])) is None
    assert described(high) == "to group:security, 2 approvals (when risk >= 70)"


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ({"reviewers": ["ana"]}, "route[0]: when is required"),
        ({"when": "risk >>= 1", "priority": "low"}, "route[0]: when: "),
        ({"when": "risk > 1"}, "route[0]: a rule sets reviewers, approvals or priority"),
        ({"when": "risk > 1", "priority": "urgent"}, 'priority must be "high" or "low"'),
        ({"when": "risk > 1", "approvals": 0}, "route[0]: approvals must be a whole number"),
        ({"when": "risk > 1", "whom": "ana"}, "route[0]: unknown setting whom"),
    ],
)
def test_a_bad_rule_names_the_kind_and_the_rule(rule: dict[str, object], said: str) -> None:
    table = {"template": "Hi {name}", "supervisor": {"route": [rule]}}
    with pytest.raises(ConfigError, match=r"kinds\.reply\] supervisor route\[0\]") as caught:
        parse_kind("reply", table, "placet.toml [kinds.reply]")
    assert said in str(caught.value)
