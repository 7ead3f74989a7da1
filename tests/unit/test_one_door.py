"""The engine is the only door to state: no interface holds the store.

import-linter (``make lint``) keeps interfaces from importing ``placet.store``;
this catches what an import check cannot see, reaching through an engine
object to its store.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "placet"
INTERFACES = ("cli", "web", "channels", "sdk", "integrations", "handlers")
REACH = re.compile(r"\bengine\.store\b")


def test_no_interface_reaches_through_the_engine_into_the_store() -> None:
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for package in INTERFACES
        for path in sorted((SRC / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if REACH.search(line)
    ]
    assert found == [], "use the engine's own methods (engine/reading.py):\n" + "\n".join(found)
