"""PostgreSQL for tests: the server PLACET_TEST_DATABASE_URL names, a fresh schema per use.

Without the variable the PostgreSQL tests skip, unless CI=true: in CI they
must run, so a missing or unreachable server fails them instead. Each use
gets its own schema (through ``search_path`` in the URL), dropped afterwards,
so tests never see each other's rows and leave nothing behind.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
from collections.abc import Iterator
from typing import NoReturn

import pytest
import sqlalchemy as sa

ENV = "PLACET_TEST_DATABASE_URL"
_counter = itertools.count()


def in_ci() -> bool:
    """True when running in CI, where nothing may be skipped for want of a server."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it in CI."""
    if in_ci():
        pytest.fail(f"the PostgreSQL tests must run in CI, but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def server_url() -> str:
    """The test server's URL; skips (or fails in CI) when it is not set or not answering."""
    url = os.environ.get(ENV, "").strip()
    if not url:
        unavailable(f"{ENV} is not set (make test sets it and starts the server)")
    problem = _reachability(url)
    if problem:
        unavailable(f"{url} does not answer: {problem}")
    return url


@functools.cache
def _reachability(url: str) -> str:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(_libpq(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip()
    return ""


def _libpq(url: str) -> str:
    parsed = sa.engine.make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def url_for_schema(url: str, schema: str) -> str:
    """The URL with ``schema`` first on the search path."""
    parsed = sa.engine.make_url(url)
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def admin(sql: str) -> None:
    """Run one statement on the test server, in autocommit."""
    import psycopg

    with psycopg.connect(_libpq(server_url()), autocommit=True) as conn:
        conn.execute(sql)


def create_schema(name: str) -> str:
    """Create the schema (if missing); return a URL whose tables live there."""
    url = server_url()
    admin(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
    return url_for_schema(url, name)


def drop_schema(name: str) -> None:
    """Drop the schema and everything in it."""
    admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def new_schema_name(label: str = "") -> str:
    """A schema name unique to this process and call."""
    tag = hashlib.sha256(label.encode()).hexdigest()[:8] if label else str(next(_counter))
    return f"placet_test_{os.getpid()}_{tag}"


@contextlib.contextmanager
def fresh_schema(label: str = "") -> Iterator[str]:
    """A URL on a new, empty schema, dropped afterwards."""
    name = new_schema_name(label)
    url = create_schema(name)
    try:
        yield url
    finally:
        drop_schema(name)
