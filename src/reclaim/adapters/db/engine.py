"""Engines for SQLite (embedded default) and PostgreSQL, tuned for Reclaim's workload."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from reclaim.adapters.db.types import dumps


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Build the engine for ``url``.

    On SQLite: WAL, a 30 s busy timeout and ``BEGIN IMMEDIATE`` for every transaction, so
    two writers queue instead of failing half-way with "database is locked" when one of them
    upgrades its read lock (SQLAlchemy's documented recipe for pysqlite). A connection with
    the ``reclaim_readonly`` execution option begins a plain (deferred) ``BEGIN`` instead.
    SQLite keeps SQLAlchemy's default pool: more connections only mean more writers waiting
    in SQLite's busy handler (docs/benchmarks.md, stock holds).

    On PostgreSQL: ``pool_size`` connections kept open, and a quarter more opened for a
    burst (closed again when returned: each costs the server a backend fork).

    On SQLite, ``secure_delete`` on every connection: what a deleted or rewritten row held is
    overwritten with zeros, not left in free pages (a customer's erasure, SPEC S13).

    Both hide bound parameters from SQLAlchemy's exception text (``hide_parameters``): a
    failed statement's values are customers' emails, names and raw webhook bodies, and the
    worker logs such exceptions.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            json_serializer=dumps,
            hide_parameters=True,
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if ":memory:" not in url and url not in ("sqlite://", "sqlite+pysqlite://"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # A connection marked read-only reads a WAL snapshot beside the writer instead
            # of queueing behind it (a lookup made while this thread holds the write lock).
            readonly = conn.get_execution_options().get("reclaim_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(
        url,
        json_serializer=dumps,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max(pool_size // 4, 1),
        pool_pre_ping=True,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
