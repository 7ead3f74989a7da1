"""The worker tests/integration/test_concurrent_drafting.py SIGKILLs with many drafts in
flight: ``placet.engine.worker.Worker`` with ``concurrency`` drafts at once, through
the real OpenAI-compatible adapter, against a loopback server.

    python -m tests.integration.many_drafts_actor DATABASE_URL BASE_URL CONCURRENCY [NAME]

``bench/drafting_throughput.py`` runs two of them on PostgreSQL against one limit.
"""

from __future__ import annotations

import signal
import sys

from placet.config import Settings
from placet.domain.models import TaskKind
from placet.engine import Engine
from placet.engine.worker import Worker
from placet.providers.openai_compat import OpenAICompatibleProvider
from placet.store import open_store

KIND = TaskKind(name="reply", template="Write a short reply to {name}.", max_tokens=50)
MODEL = "hosted:hosted-model"
LEASE_SECONDS = 2.0


def engine_for(url: str, base_url: str, timeout: float = 60.0, attempts: int = 3) -> Engine:
    """An engine on the database, drafting through the adapter at ``base_url``."""
    settings = Settings(
        database_url=url, kinds={KIND.name: KIND}, model=MODEL, lease_seconds=LEASE_SECONDS
    )
    provider = OpenAICompatibleProvider(
        "hosted",
        "hosted-model",
        base_url=base_url,
        api_key="test-key-0123456789",
        timeout=timeout,
        max_attempts=attempts,
        base_delay=0.05,
    )
    return Engine(open_store(url), settings, provider_for=lambda _model: provider)


def main() -> None:
    """Draft until SIGTERM, printing a line per event on stdout."""
    url, base_url, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    name = sys.argv[4] if len(sys.argv) > 4 else "doomed-worker"
    engine = engine_for(url, base_url, attempts=5)
    report = lambda message: print(message, flush=True)  # noqa: E731
    worker = Worker(engine, name=name, report=report, concurrency=concurrency)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run()


if __name__ == "__main__":
    main()
