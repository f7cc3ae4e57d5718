"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL, a movable clock."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from reclaim.adapters.db import migrate
from reclaim.adapters.db.engine import make_engine
from reclaim.adapters.db.tables import metadata
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings

# Tests send thousands of requests a second from one client: the HTTP rate limits are off in
# them unless a test turns them on (tests/integration/test_hostile_input.py does).
os.environ.setdefault("RECLAIM_RATE_LIMIT_ENABLED", "false")
PG_ADMIN = os.environ.get("RECLAIM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[2] / "shared"


# ``slow``: every test that needs a database server, a subprocess or a running server (they
# live in these folders), every fuzz and property test (named ``test_fuzz_*`` and
# ``test_property_*``), and the simulator's tests at scale (the ``big`` fixture).
# ``pytest -m "not slow"`` is the quick loop: the pure unit tests and the services through
# the in-memory fakes (tests/fakes/), under a minute on two cores.
_SLOW_FOLDERS = frozenset({"browser", "e2e", "integration"})
_SLOW_NAMES = ("test_fuzz_", "test_property_")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        parts = item.path.relative_to(here).parts
        slow = (
            (parts and parts[0] in _SLOW_FOLDERS)
            or item.name.startswith(_SLOW_NAMES)
            or "big" in getattr(item, "fixturenames", ())
        )
        if slow:
            item.add_marker(pytest.mark.slow)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_ADMIN} is not reachable ({type(exc).__name__})"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem + " — CI must test on the real PostgreSQL")
        pytest.skip(problem)
    name = f"reclaim_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "reclaim.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    engine = make_engine(url)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 5, 1, 10, 0, tzinfo=UTC))


@pytest.fixture
def rt(db_url: str, clock: Clock) -> Iterator[Runtime]:
    runtime = bootstrap(Settings(database_url=db_url), clock=clock)
    init_database(runtime)
    yield runtime
    runtime.close()


@pytest.fixture
def sqlite_rt(tmp_path: Path, sqlite_template: Path, clock: Clock) -> Iterator[Runtime]:
    """SQLite only, for tests whose subject is not the database."""
    path = tmp_path / "reclaim.sqlite3"
    shutil.copy(sqlite_template, path)
    runtime = bootstrap(Settings(database_url=f"sqlite:///{path}"), clock=clock)
    init_database(runtime)
    yield runtime
    runtime.close()
