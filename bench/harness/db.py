"""The benchmarks' databases: a fresh one per part, bulk loading, and upkeep between runs.

A database is created for a part of a benchmark and dropped (or deleted) afterwards. Seeded
rows go in one transaction per chunk (``executemany`` on SQLite, ``COPY`` on PostgreSQL);
what autovacuum and the checkpointer would have done by the time a measurement starts is
done here, untimed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from reclaim.bootstrap import Runtime

PG_DEFAULT = os.environ.get("RECLAIM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def database(db: str, name: str, pg_admin: str, workdir: Path) -> Iterator[str]:
    """A fresh, empty database; dropped (or deleted) afterwards."""
    if db == "sqlite":
        path = workdir / f"{name}.sqlite3"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_sessions(url: str) -> int:
    """Sessions opened so far on the database of ``url`` (PostgreSQL 14+)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def sqlite_time(at: datetime) -> str:
    """How SQLAlchemy's SQLite dialect stores ``UTCDateTime``: naive UTC with microseconds."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def insert_rows(rt: Runtime, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> None:
    """One transaction: executemany on SQLite, COPY on PostgreSQL."""
    if rt.engine.dialect.name == "sqlite":
        with rt.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            for table, (cols, batch) in rows.items():
                sql = (
                    f"INSERT INTO {table} ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})"
                )
                conn.exec_driver_sql(sql, batch)
        return
    raw = rt.engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert isinstance(pg, psycopg.Connection)
        with pg.cursor() as cur:
            for table, (cols, batch) in rows.items():
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
        pg.commit()
    finally:
        raw.close()


def secondary_indexes(rt: Runtime, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes on ``tables``."""
    listed = ", ".join(f"'{t}'" for t in tables)
    with rt.engine.connect() as conn:
        if rt.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({listed}) AND sql NOT LIKE 'CREATE UNIQUE%%'"
            )
        else:
            rows = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                f"AND tablename IN ({listed}) AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
            )
        return [(str(n), str(s)) for n, s in rows]


def settle(rt: Runtime, tables: Sequence[str] = ("cases", "steps")) -> None:
    """What autovacuum and the checkpointer would have done by then (PostgreSQL: statistics,
    visibility map, checkpoint); on SQLite a WAL checkpoint and no ANALYZE, since Reclaim
    never runs ANALYZE there."""
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")
            conn.exec_driver_sql("CHECKPOINT")
        return
    raw = rt.engine.raw_connection()  # autocommit: outside the engine's BEGIN IMMEDIATE
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()


def autocommit(rt: Runtime, *sql: str) -> None:
    """Statements outside a transaction (VACUUM, checkpoints)."""
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in sql:
                conn.exec_driver_sql(statement)
        return
    raw = rt.engine.raw_connection()  # pysqlite in autocommit mode: outside BEGIN IMMEDIATE
    try:
        for statement in sql:
            raw.driver_connection.execute(statement)  # type: ignore[union-attr]
    finally:
        raw.close()
