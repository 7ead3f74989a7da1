"""The Agents SDK and Pydantic AI examples as a user runs them: stopped while waiting, resumed.

Each example starts in a scratch folder on the embedded defaults (placet.db
there), prints its run id and waits; it is killed, a person decides both
refunds (one approved, one rejected with a reason), and ``--resume RUN_ID``
in a new process goes on: the approved refund runs once, the model hears the
reason for the other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from placet.domain.models import DecisionKind, TaskStatus
from placet.domain.queries import TaskFilter
from placet.testing import person
from tests.integration.mcp_world import World

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SECONDS = 120.0


@pytest.mark.parametrize("example", ["openai_agents_agent.py", "pydantic_ai_agent.py"])
def test_the_example_waits_is_resumed_after_a_restart_and_refunds_once(
    tmp_path: Path, example: str
) -> None:
    world = World(tmp_path, f"sqlite:///{tmp_path / 'placet.db'}")
    env = {**world.env, "PYTHONPATH": str(ROOT / "src"), "PLACET_QUIET": "1"}
    command = [sys.executable, str(ROOT / "examples" / example)]
    first = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert first.stdout is not None
        run_id = first.stdout.readline().split()[1].rstrip(":")
        small, large = _two_waiting(world)
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
        rita = person("rita")
        world.decide(rita, small, DecisionKind.APPROVE)
        world.decide(rita, large, DecisionKind.REJECT, reason="over the refund limit")
        resumed = subprocess.run(
            [*command, "--resume", run_id], cwd=tmp_path, env=env, capture_output=True,
            text=True, timeout=SECONDS,
        )  # fmt: skip
    finally:
        world.close()
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count("REFUNDED") == 1
    assert "REFUNDED 30.00 to C-17" in resumed.stdout
    assert "over the refund limit" in resumed.stdout and "refunded 30.00 to C-17" in resumed.stdout


def _two_waiting(world: World) -> tuple[str, str]:
    """The two refunds once both wait: (30 to C-17, 500 to C-42)."""
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        found = world.engine.list_tasks(
            TaskFilter(statuses=(TaskStatus.AWAITING_REVIEW,), limit=10)
        )
        if len(found) == 2:
            by_amount = {t.input["call"]["arguments"]["amount"]: t.id for t in found}
            return by_amount[30.0], by_amount[500.0]
        time.sleep(0.05)
    raise AssertionError("the example did not ask for its two refunds")
