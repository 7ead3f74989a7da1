"""Migrating an empty database gives exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from placet.store.migrate import HEAD_REVISION, current_revision, upgrade
from placet.store.schema import metadata
from placet.store.sqlite import make_engine


def differences(engine: sa.engine.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrading_an_empty_database_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        upgrade(engine)
        assert differences(engine) == []
        with engine.connect() as conn:
            assert current_revision(conn) == HEAD_REVISION
    finally:
        engine.dispose()


def test_a_missing_column_would_be_noticed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0001")
        assert differences(engine)  # the accounts tables of 0002 are missing
        upgrade(engine)
        assert differences(engine) == []
    finally:
        engine.dispose()
