"""Loading a developer's app (``--app module:client``) the way uvicorn loads one."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from placet.errors import UsageError

if TYPE_CHECKING:
    from placet.sdk.client import Client


def load_client(spec: str) -> Client:
    """The ``placet.Client`` named by ``module:attribute`` (the current folder importable)."""
    from placet.sdk.client import Client

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"--app needs MODULE:ATTRIBUTE, such as myapp:client, not {spec!r}")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)  # as `python -m` and uvicorn do: the app sits here
    try:
        found: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name.split(".")[0] and exc.name != module_name:
            raise  # the app itself imports something missing: show that
        raise UsageError(f"cannot import {module_name!r} (from {cwd})") from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise UsageError(f"{module_name!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    if not isinstance(found, Client):
        raise UsageError(
            f"{spec} is a {type(found).__name__}, not a placet.Client (from placet.connect())"
        )
    return found
