"""Alembic environment: migrations run on a connection Placet hands over."""

from __future__ import annotations

from alembic import context

from placet.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Placet runs its migrations through placet.store.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
context.run_migrations()
