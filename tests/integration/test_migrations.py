"""Migrating an empty database gives exactly the schema the models describe.

On SQLite and on PostgreSQL (a fresh schema on PLACET_TEST_DATABASE_URL):
the comparison is Alembic's own autogenerate diff, so a column, index or
constraint that the models have and the migrations lack (or the other way
round) is found, not assumed away.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from placet.store.engines import make_engine
from placet.store.migrate import HEAD_REVISION, current_revision, status, upgrade
from placet.store.schema import metadata
from tests.conformance import postgres


def differences(engine: sa.engine.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """An engine on an empty database of each kind."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    with postgres.fresh_schema() as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_upgrading_an_empty_database_matches_the_models(empty_engine: sa.engine.Engine) -> None:
    upgrade(empty_engine)
    assert differences(empty_engine) == []
    with empty_engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION


def test_a_missing_table_would_be_noticed(empty_engine: sa.engine.Engine) -> None:
    upgrade(empty_engine, "0001")
    assert differences(empty_engine)  # the accounts tables of 0002 are missing
    upgrade(empty_engine)
    assert differences(empty_engine) == []


def test_status_names_the_pending_revisions(empty_engine: sa.engine.Engine) -> None:
    before = status(empty_engine)
    expected = (None, HEAD_REVISION, ("0001", "0002", "0003", "0004"))
    assert (before.current, before.head, before.pending) == expected
    upgrade(empty_engine, "0001")
    assert status(empty_engine).pending == ("0002", "0003", "0004")
    upgrade(empty_engine)
    assert status(empty_engine).up_to_date
