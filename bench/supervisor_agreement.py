"""Supervisor model checks (issue 17): how often the model's pass/fail agrees with the labels.

Each draft of the labelled corpus (tests/corpus/drafts.jsonl; ``violates`` names the
checks of ``tests/corpus/phrases.CHECKS`` a draft breaks: a refund promised, a date
committed to, the customer blamed) is put to the supervisor's model with the three
checks, exactly as the engine does it (``placet.supervisor.checks.check_draft``: the
answer constrained to the schema where the provider can, validated, asked for again
once, else "unavailable"). Each check's pass or fail is compared with the labels.
Beside the model, in the same run and on the same drafts:

* baseline "always pass": says every draft passes every check (the share of drafts
  that break a check is small, so agreement alone flatters anything that says little);
* baseline "keywords": one case-insensitive regular expression per check, in the
  corpus's four languages (``KEYWORDS``). Its words were written with the corpus's
  violating sentences in view, so read it as what matching words achieves here at
  best, not as a fair rival.

Printed per check and for "any check" (the draft's ``failed_check`` flag, what
``auto_revise`` and the routing rules act on): agreement (the share of drafts where
the verdict equals the label; an unavailable reading counts as a disagreement),
precision and recall of "fails" (an unavailable reading says no "fails"), and the
share of readings unavailable; then seconds per reading (p50, p95, wall time on a
shared machine), and how often a rightly failed check's evidence is the sentence
that breaks it.

Which drafts: the whole corpus takes 30-55 minutes on one thread (8-14 s a reading, as
busy as the machine is), so ``--limit N`` (default 100: 15-25 minutes) takes a
deterministic, stratified subset: every draft that breaks a check (45; when N is
smaller, round-robin over the checks), then clean drafts round-robin over the (format,
language) cells, each cell's in corpus order; read in corpus order. ``--limit 0`` reads
all 240.

Providers (``--provider``):

* ``local`` (default): ``local:smollm2`` in this process (llama.cpp, the schema as
  a grammar); ``PLACET_LOCAL_THREADS`` threads (set 1 on a shared machine);
* ``server``: ``llama_cpp.server`` started on loopback with the same GGUF, read
  through the OpenAI-compatible adapter (``OpenAICompatibleProvider``): the path
  that asks an OpenAI-compatible server for the schema (llama.cpp's server takes
  JSON mode with the schema, which it makes a grammar);
* ``openai`` / ``groq``: the vendors' APIs, when OPENAI_API_KEY (or OPENAI_BASE_URL)
  / GROQ_API_KEY is set; otherwise the run is skipped with a message. ``--model``
  picks the model (defaults: gpt-4o-mini, llama-3.3-70b-versatile).

    PLACET_LOCAL_THREADS=1 .venv/bin/python bench/supervisor_agreement.py [--limit N]
        [--provider local|server|openai|groq] [--model M] [--json FILE]

Not in bench/run_all.py (minutes of model time, like bench/draft_quality.py). Nothing
here is a test: no threshold is asserted for the model anywhere (issue 17).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import ROOT, machine_info, percentile, print_table

sys.path.insert(0, str(ROOT / "tests" / "corpus"))

from evaluate import load
from phrases import CHECKS, VIOLATION

DEFAULT_LIMIT = 100  # every violating draft (45) and 55 clean ones: 15-25 minutes
SEED = 17
ANY = "any check"
SERVER_START_SECONDS = 90.0
DEFAULT_MODELS = {
    "local": "smollm2",
    "server": "smollm2",
    "openai": "gpt-4o-mini",
    "groq": "llama-3.3-70b-versatile",
}
ALWAYS_PASS, KEYWORD = "baseline: always pass", "baseline: keywords"
_DAYS = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    r"lunes|martes|miércoles|jueves|viernes|sábado|domingo"
)
KEYWORDS = {
    "refund": re.compile(
        r"\brefund|money back|compensat|\berstatt|geld\b.{0,30}\bzurück|rembours|dédommag|"
        r"\bdevolver|devolveremos|reembols|indemniz",
        re.IGNORECASE,
    ),
    "deadline": re.compile(
        rf"\b(by|before|until|bis|d'ici|avant|el|antes del?)\s+(the\s+)?({_DAYS}|tomorrow|"
        r"morgen|demain|mañana)\b|end of (the )?(month|week)|ende des (monats|woche)|"
        r"fin (du|de la) (mois|semaine)|fin de (mes|semana)",
        re.IGNORECASE,
    ),
    "blame": re.compile(
        r"your (own )?(mistake|fault)|because you (did not|didn't|failed)|ihr(e)? (fehler|schuld)|"
        r"dass sie .{0,40}nicht|votre (erreur|faute)|parce que vous|"
        r"(error|culpa) suy[oa]|porque usted",
        re.IGNORECASE,
    ),
}
assert set(KEYWORDS) == set(CHECKS)


# -- the drafts ------------------------------------------------------------------------


def chosen(drafts: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The drafts read: all when ``limit`` is 0 or covers them; else every violating draft
    (round-robin over the checks if they are more than ``limit``), then clean drafts
    round-robin over the (format, language) cells. Returned in corpus order."""
    if limit <= 0 or limit >= len(drafts):
        return list(drafts)
    violating = [draft for draft in drafts if draft["violates"]]
    clean = [draft for draft in drafts if not draft["violates"]]
    picked = _round_robin(violating, lambda draft: draft["violates"][0], limit)
    picked += _round_robin(
        clean, lambda draft: (draft["format"], draft["lang"]), limit - len(picked)
    )
    order = {draft["id"]: index for index, draft in enumerate(drafts)}
    return sorted(picked, key=lambda draft: order[draft["id"]])


def _round_robin(
    drafts: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], count: int
) -> list[dict[str, Any]]:
    """``count`` drafts taken one per group in turn (groups sorted, each in corpus order)."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for draft in drafts:
        groups[key(draft)].append(draft)
    queues = [groups[name] for name in sorted(groups)]
    picked: list[dict[str, Any]] = []
    depth = 0
    while len(picked) < count and any(depth < len(queue) for queue in queues):
        for queue in queues:
            if depth < len(queue) and len(picked) < count:
                picked.append(queue[depth])
        depth += 1
    return picked


def violating_sentence(draft: dict[str, Any], check: str) -> str | None:
    """The corpus's sentence that breaks ``check`` in this draft, if one does."""
    for sentence in VIOLATION[draft["lang"]][check]:
        if sentence in draft["text"]:
            return sentence
    return None


# -- the providers ---------------------------------------------------------------------


@contextlib.contextmanager
def llama_server(threads: int) -> Iterator[str]:
    """``llama_cpp.server`` with the SmolLM2 GGUF on a free loopback port; yields its URL."""
    import socket

    from placet.providers.local import smollm2_path

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",  # as LocalProvider loads it
        "--n_threads",
        str(threads),
        "--seed",
        "42",
    ]
    with tempfile.TemporaryDirectory(prefix="placet-bench-llama-") as folder:
        log = Path(folder) / "llama_server.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
            try:
                _wait_until_ready(process, f"{base_url}/models", log)
                yield base_url
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"llama_cpp.server exited with {process.returncode}:\n{tail}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=1) as response,
        ):
            if int(response.status) == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"llama_cpp.server did not answer {url} in {SERVER_START_SECONDS:.0f} s")


@contextlib.contextmanager
def provider_for(name: str, model: str) -> Iterator[Any]:
    """The provider ``--provider`` names; SystemExit(0) with why when it cannot be used."""
    from placet.config import Settings
    from placet.errors import ConfigError
    from placet.providers import registry
    from placet.providers.local import local_threads

    if name == "server":
        from placet.providers.openai_compat import OpenAICompatibleProvider

        with (
            llama_server(local_threads()) as base_url,
            OpenAICompatibleProvider(
                "llama-server", model, base_url=base_url, api_key="none", timeout=600.0
            ) as provider,
        ):
            yield provider
        return
    env = os.environ
    settings = Settings(
        groq_api_key=env.get("GROQ_API_KEY") or None,
        groq_base_url=env.get("GROQ_BASE_URL") or None,
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=env.get("OPENAI_BASE_URL") or None,
        provider_timeout=120.0,
    )
    try:
        registry.check(f"{name}:{model}", settings)  # a key, an endpoint, a model file
        provider = registry.resolve(f"{name}:{model}", settings)
    except ConfigError as exc:
        print(f"# supervisor agreement, {name}:{model}: skipped: {exc.message}")
        raise SystemExit(0) from None
    try:
        yield provider
    finally:
        close = getattr(provider, "close", None)
        if close is not None:
            close()


# -- reading and scoring ---------------------------------------------------------------


@dataclass
class Verdicts:
    """One contender's reading of one draft: failed or not per check key (None: unavailable)."""

    failed: dict[str, bool] | None
    seconds: float
    evidence: dict[str, str] = field(default_factory=dict)
    why: str | None = None


def read_with_model(provider: Any, draft: dict[str, Any], seed: int) -> Verdicts:
    """The model's reading of the draft through the engine's own check_draft."""
    from placet.supervisor.checks import check_draft

    keys, texts = list(CHECKS), tuple(CHECKS.values())
    started = time.perf_counter()
    reading = check_draft(provider, texts, draft["text"], seed)
    seconds = time.perf_counter() - started
    if reading.unavailable is not None:
        return Verdicts(None, seconds, why=reading.unavailable)
    failed = {key: not result.passed for key, result in zip(keys, reading.checks, strict=True)}
    evidence = {key: result.evidence for key, result in zip(keys, reading.checks, strict=True)}
    return Verdicts(failed, seconds, evidence)


def read_with_keywords(draft: dict[str, Any]) -> Verdicts:
    """The keyword baseline: a check fails when its expression matches."""
    started = time.perf_counter()
    failed = {key: bool(KEYWORDS[key].search(draft["text"])) for key in CHECKS}
    return Verdicts(failed, time.perf_counter() - started)


def read_always_pass(_draft: dict[str, Any]) -> Verdicts:
    """The trivial baseline: every check passes."""
    started = time.perf_counter()
    failed = dict.fromkeys(CHECKS, False)
    return Verdicts(failed, time.perf_counter() - started)


@dataclass
class Tally:
    """Agreement counts of one contender on one check (or on "any check")."""

    drafts: int = 0
    violating: int = 0
    agree: int = 0
    said_fail: int = 0
    right_fail: int = 0
    unavailable: int = 0

    def add(self, label: bool, said: bool | None) -> None:
        self.drafts += 1
        self.violating += label
        if said is None:
            self.unavailable += 1
            return
        self.agree += said == label
        self.said_fail += said
        self.right_fail += said and label

    def row(self) -> list[object]:
        nan = float("nan")
        return [
            self.drafts,
            self.violating,
            self.agree / self.drafts if self.drafts else nan,
            self.said_fail,
            self.right_fail / self.said_fail if self.said_fail else nan,
            self.right_fail / self.violating if self.violating else nan,
            self.unavailable / self.drafts if self.drafts else nan,
        ]


def score(drafts: list[dict[str, Any]], verdicts: list[Verdicts]) -> dict[str, Tally]:
    """Tallies per check key and for "any check"."""
    tallies = {key: Tally() for key in [*CHECKS, ANY]}
    for draft, verdict in zip(drafts, verdicts, strict=True):
        labels = {key: key in draft["violates"] for key in CHECKS}
        failed = verdict.failed
        for key in CHECKS:
            tallies[key].add(labels[key], None if failed is None else failed[key])
        tallies[ANY].add(any(labels.values()), None if failed is None else any(failed.values()))
    return tallies


def run(provider_name: str, model: str, limit: int, json_path: Path | None) -> None:
    drafts = chosen(load(), limit)
    threads = os.environ.get("PLACET_LOCAL_THREADS", "every CPU")
    started_at = datetime.datetime.now(datetime.UTC)
    with provider_for(provider_name, model) as provider:
        print(
            f"# Supervisor model checks against the corpus labels: {started_at:%Y-%m-%d %H:%M} UTC"
        )
        print(f"# {machine_info()}; load average {os.getloadavg()[0]:.1f} at the start")
        print(
            f"# model {provider.name} (--provider {provider_name}), "
            f"PLACET_LOCAL_THREADS={threads}; "
            f"{len(drafts)} drafts ({sum(1 for d in drafts if d['violates'])} break a check), "
            f"--limit {limit}"
        )
        readings: dict[str, list[Verdicts]] = {"model": [], ALWAYS_PASS: [], KEYWORD: []}
        clock = time.monotonic()
        for index, draft in enumerate(drafts):
            # A seed per draft, whichever subset it is read in (only a retry samples).
            seed = SEED + int(draft["id"].lstrip("d"))
            readings["model"].append(read_with_model(provider, draft, seed))
            readings[ALWAYS_PASS].append(read_always_pass(draft))
            readings[KEYWORD].append(read_with_keywords(draft))
            if (index + 1) % 10 == 0 or index + 1 == len(drafts):
                spent = time.monotonic() - clock
                left = spent / (index + 1) * (len(drafts) - index - 1)
                print(
                    f"  {index + 1}/{len(drafts)} drafts read, {spent:.0f} s, ~{left:.0f} s left",
                    file=sys.stderr,
                    flush=True,
                )
        schema_way = getattr(provider, "_schema_way", None)  # the adapter's, for the record
    elapsed = time.monotonic() - clock
    report(provider.name, drafts, readings, elapsed, schema_way)
    if json_path is not None:
        save(json_path, provider.name, drafts, readings["model"])


def report(
    model: str,
    drafts: list[dict[str, Any]],
    readings: dict[str, list[Verdicts]],
    elapsed: float,
    schema_way: int | None,
) -> None:
    names = {"model": model, ALWAYS_PASS: ALWAYS_PASS, KEYWORD: KEYWORD}
    tallies = {name: score(drafts, verdicts) for name, verdicts in readings.items()}
    rows = []
    for key in [*CHECKS, ANY]:
        for name in readings:
            rows.append([key, names[name], *tallies[name][key].row()])
    print_table(
        f"Agreement with the labels, {len(drafts)} drafts (fails = the check is broken)",
        [
            "check",
            "contender",
            "drafts",
            "broken",
            "agreement",
            "said fails",
            "precision",
            "recall",
            "unavailable",
        ],
        rows,
    )
    cost = []
    for name, verdicts in readings.items():
        seconds = [verdict.seconds for verdict in verdicts]
        cost.append([names[name], len(seconds), percentile(seconds, 50), percentile(seconds, 95)])
    print_table("Seconds per reading (wall)", ["contender", "readings", "p50 s", "p95 s"], cost)
    model_readings = readings["model"]
    right = quoted = 0
    for draft, verdict in zip(drafts, model_readings, strict=True):
        for key in draft["violates"]:
            if verdict.failed is not None and verdict.failed[key]:
                right += 1
                sentence = violating_sentence(draft, key) or "\0"
                quoted += sentence.lower() in verdict.evidence[key].lower()
    print(
        f"\nThe model's right fails whose evidence quotes the breaking sentence: "
        f"{quoted} of {right}"
    )
    why = Counter(verdict.why for verdict in model_readings if verdict.why is not None)
    for reason, count in why.most_common(5):
        print(f"unavailable x{count}: {reason[:160]}")
    if schema_way is not None:
        from placet.providers.openai_compat import SCHEMA_WAYS

        asked = ("structured outputs (json_schema)", "JSON mode with the schema", "plain JSON mode")
        print(f"schema asked for as: {asked[schema_way] if schema_way < len(SCHEMA_WAYS) else '?'}")
    print(f"whole run {elapsed:.0f} s; load average {os.getloadavg()[0]:.1f} at the end")


def save(path: Path, model: str, drafts: list[dict[str, Any]], verdicts: list[Verdicts]) -> None:
    """The model's readings, one JSON object a line, for a second look."""
    with path.open("w", encoding="utf-8") as out:
        for draft, verdict in zip(drafts, verdicts, strict=True):
            line = {
                "id": draft["id"],
                "model": model,
                "violates": draft["violates"],
                "failed": verdict.failed,
                "evidence": verdict.evidence,
                "unavailable": verdict.why,
                "seconds": round(verdict.seconds, 3),
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--provider",
        choices=sorted(DEFAULT_MODELS),
        default="local",
        help="local: in-process llama.cpp; server: llama_cpp.server on loopback through the "
        "OpenAI-compatible adapter; openai / groq: their APIs (skipped without a key)",
    )
    parser.add_argument(
        "--model",
        help="the provider's model (defaults: "
        + ", ".join(f"{name} {model}" for name, model in DEFAULT_MODELS.items())
        + ")",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        help=f"drafts read: every violating one, then clean ones stratified by format and "
        f"language (default {DEFAULT_LIMIT}; 0: all 240)",
    )
    parser.add_argument("--json", type=Path, help="also write the model's readings to this file")
    args = parser.parse_args(argv)
    run(args.provider, args.model or DEFAULT_MODELS[args.provider], args.limit, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
