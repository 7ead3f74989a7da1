"""Typed kinds from Python: a kind with a Pydantic model drafts its objects and
``wait()`` returns an instance of the model; a choice kind's outcome carries the choice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel

import placet
from placet.domain.models import DecisionKind, TaskKind
from placet.sdk.client import Client
from placet.testing import FakeTypedProvider
from tests.integration.test_sdk import reviewer


class Invoice(BaseModel):
    vendor: str
    total: float
    currency: Literal["EUR", "USD"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    fake = FakeTypedProvider()
    with placet.connect(
        f"sqlite:///{tmp_path / 'sdk.db'}",
        directory=str(tmp_path),
        requester="agent",
        provider_for=lambda _model: fake,
        review_folder=False,
        quiet=True,
    ) as opened:
        yield opened


def test_wait_returns_an_instance_of_the_kinds_model(client: Client) -> None:
    kind = client.define_kind(TaskKind("invoice", "Extract: {text}"), output=Invoice)
    assert kind.output_schema is not None and kind.output_schema["title"] == "Invoice"
    edited = json.dumps({"vendor": "ACME", "total": 12.5, "currency": "USD"})
    thread = reviewer(client, DecisionKind.EDIT, text=edited)
    outcome = client.submit("invoice", text="ACME 12.50 USD").wait(timeout=30)
    thread.join()
    assert outcome.value == Invoice(vendor="ACME", total=12.5, currency="USD")


def test_a_choice_kinds_outcome_carries_the_choice(client: Client) -> None:
    client.define_kind(TaskKind("moderate", "Moderate: {post}", choices=("allow", "remove")))
    thread = reviewer(client, DecisionKind.APPROVE, choice=("remove",), reason="spam")
    outcome = client.submit("moderate", post="buy pills").wait(timeout=30)
    thread.join()
    assert outcome.approved and outcome.choice == "remove"
    assert outcome.value == {"choice": "remove", "reason": "spam"}
