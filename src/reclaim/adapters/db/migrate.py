"""Create or upgrade the schema with Alembic (``reclaim init``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

_HERE = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    return cfg


@contextmanager
def _quiet() -> Iterator[None]:
    """Alembic logs "Context impl SQLiteImpl.", "Will assume non-transactional DDL." and a
    line per revision at INFO: noise in every start. Reclaim says what changed in one line
    of its own (``reclaim init``, and ``serve``/``worker`` when they upgrade), so Alembic is
    only heard when it warns."""
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade to ``revision``; returns the revision the database was at (None: empty).

    A database already there is left alone, in one transaction with the check (two workers
    starting at once: the second finds the first one's upgrade done).
    """
    cfg = _config()
    target = head_revision() if revision == "head" else revision
    with engine.begin() as conn:
        with _quiet():
            before = MigrationContext.configure(conn).get_current_revision()
        if before != target:
            cfg.attributes["connection"] = conn
            with _quiet():
                command.upgrade(cfg, revision)
    return before


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn, _quiet():
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def autogenerate(engine: Engine, message: str) -> None:
    """Developer aid: write a new revision from the difference to ``tables.metadata``."""
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
