"""Shared fixtures for integration tests: real servers on loopback."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from placet.providers.local import smollm2_path
from tests.integration.fault_server import free_port

LLAMA_SERVER_START_SECONDS = 90.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + LLAMA_SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{_tail(log)}")
        if _answers(url):
            return
        time.sleep(0.2)
    pytest.fail(f"llama_cpp.server did not answer {url} in time:\n{_tail(log)}")


def _tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """A real OpenAI-compatible server (``llama_cpp.server`` + SmolLM2); yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(smollm2_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        # One thread: llama.cpp's spinning worker threads slow to a crawl when
        # the test run itself competes for the same two cores.
        "--n_threads",
        "1",
        "--seed",
        "42",
    ]
    with tempfile.TemporaryDirectory(prefix="placet-llama-") as folder:
        log = Path(folder) / "llama_server.log"
        with log.open("wb") as log_file:
            process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
            try:
                _wait_until_ready(process, f"{base_url}/models", log)
                yield base_url
            finally:
                _stop(process)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL: a fresh SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'placet.db'}"
    else:
        from tests.conformance import postgres as pg

        with pg.fresh_schema() as fresh:
            yield fresh
