"""A live draft that starts again says why, when the engine knows (a new candidate)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from placet.providers.base import Chunk
from placet.web.broker import Broker, Message


def test_a_restart_is_published_with_its_note_and_a_broken_stream_without() -> None:
    async def watch() -> list[Message | None]:
        broker = Broker(state=None)  # type: ignore[arg-type]  # only started brokers read it
        with broker.subscription("t1") as subscription:
            sink = broker.sink_for(SimpleNamespace(id="t1"))  # type: ignore[arg-type]
            sink(Chunk("", restart=True, note="writing candidate 2 of 3"))
            sink(Chunk("", restart=True))
            await asyncio.sleep(0)
            return [subscription.get_nowait(), subscription.get_nowait()]

    assert asyncio.run(watch()) == [
        Message("t1", "restart", "writing candidate 2 of 3"),
        Message("t1", "restart", ""),
    ]
