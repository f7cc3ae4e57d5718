"""The Alembic migrations build exactly the schema ``tables.metadata`` describes, on both
databases: a table, column or index added to one and not the other fails here."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from reclaim.adapters.db import migrate
from reclaim.adapters.db.engine import make_engine
from reclaim.adapters.db.tables import metadata


def test_migrated_schema_matches_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
    assert diff == []
