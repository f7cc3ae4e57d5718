"""Alembic environment: the engine is handed in by ``reclaim.adapters.db.migrate``."""

from __future__ import annotations

from alembic import context

from reclaim.adapters.db.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand without Reclaim
    raise SystemExit("run migrations through `reclaim init`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
