"""The audit key: the secret that keys every hash chain, kept out of the database.

Read from ``PLACET_AUDIT_KEY``, else from a key file (``PLACET_AUDIT_KEY_FILE``,
or ``.placet_audit_key`` in the working folder). ``placet init`` and
``placet audit keygen`` make one. Whoever holds the key can recompute the
audit trail, so keep a copy apart from the database (and its backups): a
database copied without it still verifies structurally and says so.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from placet.errors import ConfigError

KEY_ENV = "PLACET_AUDIT_KEY"
KEY_FILE_ENV = "PLACET_AUDIT_KEY_FILE"
KEY_FILE = ".placet_audit_key"
MIN_KEY_CHARS = 16


def key_path(env: Mapping[str, str], base: Path) -> Path:
    """Where the key file is (or would be made)."""
    return Path(env.get(KEY_FILE_ENV) or base / KEY_FILE)


def read_key(env: Mapping[str, str], base: Path) -> bytes | None:
    """The audit key, or None when there is none (the chains are then unkeyed)."""
    text = env.get(KEY_ENV, "").strip()
    where = KEY_ENV
    if not text:
        path = key_path(env, base)
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            if KEY_FILE_ENV in env:
                raise ConfigError(f"{KEY_FILE_ENV} names {path}, which does not exist") from None
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the audit key file {path}: {exc}") from None
        where = str(path)
    if len(text) < MIN_KEY_CHARS:
        raise ConfigError(
            f"the audit key in {where} is too short (at least {MIN_KEY_CHARS} characters)"
        )
    return text.encode("utf-8")


def make_key_file(path: Path) -> bool:
    """Write a new random key to ``path`` (mode 600); False when one is already there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError(f"cannot write the audit key file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return True


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key: which key made a chain, never the key."""
    return hashlib.sha256(b"placet audit key id\x00" + key).hexdigest()[:16]
