"""The only place that builds engines, connectors and clocks (DESIGN.md "wire at the edge")."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from reclaim.adapters.db import migrate
from reclaim.adapters.db.engine import make_engine, make_session_factory
from reclaim.adapters.db.tables import meta, start_mappers
from reclaim.adapters.db.uow import SqlUnitOfWork
from reclaim.adapters.platforms import SOURCES, connector_for
from reclaim.adapters.platforms.generic import split_batch
from reclaim.config import Settings
from reclaim.errors import ConfigError
from reclaim.services.ports import PlatformConnector


def system_clock() -> datetime:
    """The wall clock. Nothing else in Reclaim reads it."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    uow: Callable[[], SqlUnitOfWork]
    connectors: dict[str, PlatformConnector]
    split_batch: Callable[[bytes], list[bytes]]
    clock: Callable[[], datetime]

    def schema_ready(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision()

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Callable[[], datetime] = system_clock) -> Runtime:
    start_mappers()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    return Runtime(
        settings=settings,
        engine=engine,
        uow=lambda: SqlUnitOfWork(factory),
        connectors={s: connector_for(s) for s in SOURCES},
        split_batch=split_batch,
        clock=clock,
    )


def init_database(rt: Runtime) -> str | None:
    """Create or upgrade the schema; make sure a secret key exists. Returns the revision."""
    migrate.upgrade(rt.engine)
    with rt.engine.begin() as conn:
        if conn.execute(select(meta.c.value).where(meta.c.key == "secret_key")).first() is None:
            conn.execute(meta.insert().values(key="secret_key", value=secrets.token_hex(32)))
    return migrate.current_revision(rt.engine)


def secret_key(rt: Runtime) -> str:
    """``RECLAIM_SECRET_KEY``, else the key generated into the database by ``reclaim init``."""
    if rt.settings.secret_key:
        return rt.settings.secret_key
    with rt.engine.connect() as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == "secret_key")).scalar()
    if value is None:
        raise ConfigError(
            "RECLAIM_SECRET_KEY is not set and the database has none: run `reclaim init`"
        )
    return str(value)
