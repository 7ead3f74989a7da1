"""A command run on a pseudo-terminal, as a person at a keyboard runs it.

Keys go in as typed (``click.getchar`` reads them raw), everything the command
prints comes back on the one terminal, and the terminal has a size of its own,
so a pager and an editor are started as they would be for a person.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time

from tests.e2e.conftest import Cli

ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    """``placet ARGS`` on a terminal of ``rows`` by ``columns``."""

    def __init__(
        self, cli: Cli, *args: str, env: dict[str, str], rows: int = 24, columns: int = 100
    ) -> None:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        sized = {**env, "LINES": str(rows), "COLUMNS": str(columns), "TERM": "xterm"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "placet", *args],
            cwd=cli.folder,
            env=sized,
            stdin=follower,
            stdout=follower,
            stderr=follower,
            start_new_session=True,
        )
        os.close(follower)
        self._leader = leader
        self._received: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._leader, 4096)
            except OSError:  # the command ended and closed its side
                return
            if not chunk:
                return
            self._received.append(chunk)

    @property
    def screen(self) -> str:
        """Everything printed so far, without the terminal's control sequences."""
        return ESCAPES.sub("", b"".join(self._received).decode("utf-8", "replace"))

    def shows(self, text: str) -> bool:
        """True once ``text`` has been printed, wherever the terminal wrapped it."""
        return " ".join(text.split()) in " ".join(self.screen.split())

    def expect(self, text: str, timeout: float = 60) -> None:
        """Wait until ``text`` has been printed."""
        deadline = time.monotonic() + timeout
        while not self.shows(text):
            if time.monotonic() > deadline or self.process.poll() is not None:
                time.sleep(0.2)  # what the command printed as it ended
                if self.shows(text):
                    return
                raise AssertionError(f"never saw {text!r}; the terminal shows:\n{self.screen}")
            time.sleep(0.05)

    def type(self, keys: str) -> None:
        """Keys, as a person types them."""
        os.write(self._leader, keys.encode())

    def press(self, key: str, timeout: float = 60) -> None:
        """One key, once the command reads single keys (its terminal is out of line mode).

        Switching to single keys discards what was typed before, as it does for
        a person who types ahead: the key waits until the command is ready.
        """
        deadline = time.monotonic() + timeout
        while termios.tcgetattr(self._leader)[3] & termios.ICANON:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"never asked for a key; the terminal shows:\n{self.screen}")
            time.sleep(0.02)
        self.type(key)

    def finish(self, timeout: float = 60) -> int:
        """Wait for the command to end; its exit code."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        """End the command if it still runs, and let go of the terminal (again: no harm)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        if self._leader >= 0:
            os.close(self._leader)
            self._leader = -1
