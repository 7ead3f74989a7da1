"""The server's key: what signs dashboard sessions and the links in e-mails.

``PLACET_SECRET_KEY`` from the environment (or ``.env``), or else a key made
once and kept in ``.placet_secret`` (mode 600) in the working folder. Every
process of one installation (``placet serve``, ``placet worker``) reads the
same one, so a link an e-mail worker signed opens on any web server.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

SECRET_FILE = ".placet_secret"
VARIABLE = "PLACET_SECRET_KEY"


def server_key(directory: Path, env: Mapping[str, str] | None = None) -> str:
    """The configured key, or the one kept in ``directory``'s ``.placet_secret`` (made once)."""
    configured = (os.environ if env is None else env).get(VARIABLE)
    if configured:
        return configured
    path = directory / SECRET_FILE
    if not path.exists():
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
