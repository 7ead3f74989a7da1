"""Shared fixtures: an engine on a real SQLite file with the fake provider."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from placet.config import Settings, load_settings
from placet.engine import Engine
from placet.testing import FakeProvider, temp_store


class Clock:
    """A clock tests move by hand, to expire leases without sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


def plain_kinds(settings: Settings) -> Settings:
    """The starter kinds without their worked examples, revised from the draft: the engine's
    tests read prompts and FakeProvider's "Draft N" (its N counts assistant turns), so they
    test the engine's mechanics, not the starter's tuning for the embedded model."""
    kinds = {
        name: replace(kind, examples=(), revise_from="draft", stop=())
        for name, kind in settings.kinds.items()
    }
    return replace(settings, kinds=kinds)


@pytest.fixture
def engine(tmp_path: Path, fake: FakeProvider, clock: Clock) -> Iterator[Engine]:
    settings = plain_kinds(replace(load_settings(tmp_path), review_dir=tmp_path / "human_feedback"))
    store = temp_store(tmp_path)
    yield Engine(store, settings, provider_for=lambda _model: fake, clock=clock)
    store.close()


def run_together(target: Callable[..., object], arguments: list[tuple[object, ...]]) -> None:
    """Run ``target`` once per argument tuple, each in its own thread, and wait for all."""
    threads = [threading.Thread(target=target, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
