"""Every channel is a Channel, and a channel's answer is checked by the engine like any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from placet.channels import Channel, FolderChannel
from placet.config import Settings
from placet.domain.models import DecisionKind, TaskKind, TaskStatus
from placet.engine import Engine
from placet.errors import PermissionDeniedError
from placet.testing import FakeProvider, MemoryChannel, person, temp_store


def test_the_review_folder_and_the_memory_twin_are_channels(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    try:
        engine = Engine(store, Settings())
        assert isinstance(FolderChannel(engine, tmp_path / "folder"), Channel)
        assert isinstance(MemoryChannel(engine), Channel)
    finally:
        store.close()


def test_a_channels_answer_goes_through_the_engines_policy(tmp_path: Path) -> None:
    store = temp_store(tmp_path)
    kind = TaskKind(name="note", template="Note on {topic}.", reviewers=("lena",))
    provider = FakeProvider()
    engine = Engine(store, Settings(kinds={"note": kind}), provider_for=lambda _: provider)
    try:
        channel = MemoryChannel(engine)
        task = engine.draft(engine.submit("note", {"topic": "tea"}, "rita", claim_as="w"), "w")
        channel.publish(task)
        with pytest.raises(PermissionDeniedError, match="rita asked for task"):
            channel.answer(task.id, DecisionKind.APPROVE, person("rita"))
        with pytest.raises(PermissionDeniedError, match="otto does not review note tasks"):
            channel.answer(task.id, DecisionKind.APPROVE, person("otto"))
        done = channel.answer(task.id, DecisionKind.REJECT, person("lena"), reason="No.")
        assert done.status is TaskStatus.REJECTED and channel.published == [task]
        event = engine.detail(task.id).events[-1]
        assert event.actor == "lena" and event.payload["channel"] == "memory"
    finally:
        store.close()
