"""A plain Python program on the SDK, run as its author runs it, with no other Placet process.

Nothing but the script itself keeps the review folder: the pending file must
appear, the script must say what it waits for, and moving the file decides.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import Background, Cli

ID = r"([0-9A-Z]{26})"
GUARDED_CALL = """\
import placet

client = placet.connect(requester="agent")


@client.require_approval(kind="send_email")
def send_email(to: str) -> str:
    return f"sent to {to}"


print(send_email("ada@example.com"))
"""


def start(cli: Cli, script: str, **env: str) -> Background:
    path = cli.folder / "agent.py"
    path.write_text(script)
    process = subprocess.Popen(
        [sys.executable, str(path)],
        cwd=cli.folder,
        env={**cli.env, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Background(process)


def test_a_guarded_call_waits_in_the_review_folder_and_says_so(cli: Cli) -> None:
    agent = start(cli, GUARDED_CALL)
    try:
        task_id = agent.expect(rf"^placet: task {ID} \(send_email\) is waiting for a person").group(
            1
        )
        agent.expect(rf"decide with: placet review \| placet approve {task_id} ")
        pending = Path("human_feedback") / "pending" / f"{task_id}.json"
        agent.expect(rf"^  or move {pending} to approved/ or rejected/$")
        document = json.loads((cli.folder / pending).read_text())
        assert json.loads(document["draft"]) == {"to": "ada@example.com"}
        (cli.folder / pending).rename(cli.folder / "human_feedback" / "approved" / pending.name)
        code, stdout = agent.finish(timeout=60)
    finally:
        agent.kill()
    assert code == 0, "".join(agent.seen)
    assert stdout == "sent to ada@example.com\n"
    said = [line for line in agent.seen if line.startswith("placet: ")]
    assert len(said) == 1  # said once, not on every wake-up


def test_a_quiet_script_says_nothing_while_it_waits(cli: Cli) -> None:
    agent = start(cli, GUARDED_CALL, PLACET_QUIET="1")
    try:
        pending = cli.folder / "human_feedback" / "pending"
        listed = cli("ls", "--status", "awaiting_review")
        for _ in range(100):  # the script proposes its call as it starts
            if "send_email" in listed.stdout:
                break
            listed = cli("ls", "--status", "awaiting_review")
        task_id = listed.stdout.splitlines()[1].split()[0]
        assert cli("reject", task_id, "--reason", "Not today.").returncode == 0
        code, _ = agent.finish(timeout=60)
    finally:
        agent.kill()
    assert code == 1 and "Not today." in "".join(agent.seen)  # placet.Rejected, unhandled
    assert not any(line.startswith("placet: ") for line in agent.seen)
    assert pending.is_dir()  # quiet, but the folder was kept all the same
