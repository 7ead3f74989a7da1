"""Run the real ``placet`` command line as a subprocess, in a scratch folder."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Short drafts keep the real local model quick; everything else is the default.
TEST_CONFIG = """\
[kinds.onboarding_email]
description = "A warm welcome email"
system = "You are a friendly customer success manager."
template = "Write a two-sentence onboarding email welcoming {name}."
max_attempts = 3
max_tokens = 40
temperature = 0.0
"""


class Cli:
    """Runs ``python -m placet`` in one working folder with a clean environment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PLACET_", "GROQ_", "OPENAI_"))
        }
        self.env.update(
            PLACET_USER="tester",
            PLACET_AUDIT_KEY="the e2e tests' audit key",  # as a deployment sets it
            PLACET_MODEL="local:smollm2",
            PLACET_LOCAL_THREADS="2",
            COLUMNS="200",
        )

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "placet", *args],
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str) -> Background:
        process = subprocess.Popen(
            [sys.executable, "-m", "placet", *args],
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Background(process)


class Background:
    """A long-running command whose stderr is read line by line as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)

    def _read_stdout(self) -> None:
        # Its own reader: communicate() would race the stderr reader for lines.
        assert self.process.stdout is not None
        self._stdout.extend(self.process.stdout)

    def expect(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """Wait for a stderr line matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"never saw {pattern!r}; stderr so far:\n{''.join(self.seen)}")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for exit; return the exit code and stdout."""
        self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        while not self.lines.empty():
            self.seen.append(self.lines.get_nowait())
        self._close_pipes()
        return self.process.returncode, "".join(self._stdout)

    def _close_pipes(self) -> None:
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
        self._close_pipes()


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    (tmp_path / "placet.toml").write_text(TEST_CONFIG)
    yield Cli(tmp_path)
