"""Constrained generation on the local model: valid structured drafts with and without
the grammar, and what the grammar costs in tokens per second (issue 20).

A structured kind (an invoice: vendor, total, currency one of three, paid yes/no) drafts
each of 50 fixed inputs twice through Placet's real local provider (SmolLM2-135M in
llama.cpp), with the prompt Placet builds for a typed kind (the kind's system prompt
plus the answer's shape, ``domain.typed.with_instruction``):

* grammar: the request carries the kind's JSON Schema, which llama.cpp turns into a
  grammar (``CompletionRequest.json_schema``, as ``Engine.draft`` asks for it);
* no grammar: the same request without the schema (the baseline, in the same run).

Each answer is checked as Placet checks a draft (``domain.typed.read_object``): one
try, no retries, so the share is what a first try gives. Greedy sampling (temperature
0) makes both runs repeatable; the two contenders alternate input by input, so a noisy
neighbour hits both alike. Tokens per second is completion tokens over the wall time of
the call (the grammar is built from the schema inside each call, so its cost counts), and
"gen tokens/s" is the tokens after the first over the time after it: generation alone,
without reading the prompt, which weighs more on a short answer.

    .venv/bin/python bench/typed_drafts.py [--limit N] [--max-tokens N]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from common import machine_info, median, print_table

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "vendor": {"type": "string", "maxLength": 60},
        "total": {"type": "number"},
        "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
        "paid": {"type": "boolean"},
    },
    "required": ["vendor", "total", "currency", "paid"],
    "additionalProperties": False,
}
VENDORS = ("ACME", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wonka", "Soylent")
CURRENCIES = (("EUR", "€"), ("USD", "$"), ("GBP", "£"))
TASKS = 50


def inputs(count: int = TASKS) -> list[str]:
    """The fixed invoice texts: vendors, amounts, currencies and paid or not, in rotation."""
    texts = []
    for n in range(count):
        vendor = VENDORS[n % len(VENDORS)]
        code, sign = CURRENCIES[n % len(CURRENCIES)]
        amount = f"{(n * 37) % 900 + 12}.{n * 7 % 100:02d}"
        paid = "Paid in full, thank you." if n % 2 else "Payment due within 30 days."
        shown = f"{sign}{amount}" if n % 4 else f"{amount} {code}"
        texts.append(f"Invoice from {vendor}. Total: {shown}. {paid}")
    return texts


def benchmark(limit: int, max_tokens: int) -> dict[str, Any]:
    """Per contender: how many answers were valid, their tokens, and tokens/s per call."""
    from placet.domain import typed
    from placet.domain.models import TaskKind
    from placet.domain.prompts import build_messages
    from placet.providers.base import CompletionRequest
    from placet.providers.local import LocalProvider

    kind = TaskKind(
        name="invoice",
        system="You extract the fields of an invoice.",
        template="Extract the invoice's fields from this text: {text}",
        output_schema=SCHEMA,
        temperature=0.0,
        max_tokens=max_tokens,
    )
    provider = LocalProvider("smollm2")
    contenders = {"grammar": SCHEMA, "no grammar": None}
    results: dict[str, dict[str, list[Any]]] = {
        name: {"valid": [], "rates": [], "tokens": [], "errors": [], "seconds": [], "gen": []}
        for name in contenders
    }
    texts = inputs()[:limit]
    warm = build_messages(kind, {"text": texts[0]})
    list(provider.stream(CompletionRequest(warm, 8, 0.0, 1)))  # load the model, once
    for n, text in enumerate(texts):
        messages = typed.with_instruction(kind, build_messages(kind, {"text": text}))
        names = list(contenders) if n % 2 == 0 else list(reversed(contenders))
        for name in names:
            request = CompletionRequest(messages, max_tokens, 0.0, 42 + n, (), contenders[name])
            answer, tokens, seconds, first = _timed(provider, request)
            record = results[name]
            record["tokens"].append(tokens)
            record["seconds"].append(seconds)
            record["rates"].append(tokens / seconds if seconds > 0 else 0.0)
            # After the first token: generation alone, without reading the prompt.
            record["gen"].append((tokens - 1) / (seconds - first) if seconds > first else 0.0)
            try:
                typed.read_object(answer, SCHEMA)
            except typed.InvalidObjectError as exc:
                record["valid"].append(False)
                record["errors"].append(exc.message[:80])
            else:
                record["valid"].append(True)
    return results


def _timed(provider: Any, request: Any) -> tuple[str, int, float, float]:
    """The answer, its tokens, the call's seconds, and the seconds to its first token."""
    parts, tokens, first = [], 0, 0.0
    started = time.perf_counter()
    for chunk in provider.stream(request):
        if chunk.text and not parts:
            first = time.perf_counter() - started
        parts.append(chunk.text)
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    return "".join(parts), tokens, time.perf_counter() - started, first


def report(results: dict[str, dict[str, list[Any]]]) -> None:
    """The table, the ratios against the baseline, and the first errors of each."""
    rows = []
    for name, record in results.items():
        valid = sum(record["valid"])
        rows.append(
            [
                name,
                f"{valid}/{len(record['valid'])}",
                f"{valid / len(record['valid']):.0%}",
                f"{median(record['tokens']):.0f}",
                f"{median(record['seconds']):.1f}",
                f"{median(record['rates']):.1f}",
                f"{median(record['gen']):.1f}",
            ]
        )
    print_table(
        "Structured drafts on local:smollm2, one try each (medians)",
        ["contender", "valid", "share", "tokens", "s/call", "tokens/s", "gen tokens/s"],
        rows,
    )
    grammar, plain = results["grammar"], results["no grammar"]
    for label, key in (("call", "rates"), ("generation after the first token", "gen")):
        ratio = median(grammar[key]) / median(plain[key])
        print(f"tokens/s with the grammar / without ({label}): {ratio:.2f}")
    for name, record in results.items():
        for error in record["errors"][:3]:
            print(f"  {name} invalid: {error}")


def main() -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=TASKS, help="inputs to draft (1-50)")
    parser.add_argument("--max-tokens", type=int, default=96)
    options = parser.parse_args()
    print(machine_info())
    started = time.monotonic()
    report(benchmark(max(1, min(options.limit, TASKS)), options.max_tokens))
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
