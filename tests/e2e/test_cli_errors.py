"""What an operator sees when the database is not there yet, not migrated, or not reachable:
one line that names the problem and the fix, exit code 2, never a traceback (issue 14)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from helpers import cli_env, run_cli
from reclaim.adapters.db import migrate
from reclaim.adapters.db.engine import make_engine

PG = os.environ.get("RECLAIM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def said(p: subprocess.CompletedProcess[str]) -> str:
    """Everything printed, as one line (the console wraps long messages)."""
    return " ".join((p.stdout + p.stderr).split())


def refused(p: subprocess.CompletedProcess[str], *phrases: str) -> str:
    text = said(p)
    assert p.returncode == 2, text
    assert "Traceback" not in p.stdout + p.stderr, p.stderr
    for phrase in phrases:
        assert phrase in text, text
    return text


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(args, env, ok=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "fresh.sqlite3", COLUMNS="200")


@pytest.mark.parametrize(
    "args",
    [
        ["store", "list"],
        ["store", "list", "--json"],
        ["store", "set", "st_x", "--pause"],
        ["store", "alerts", "st_x"],
        ["store", "key", "list", "st_x"],
        ["inbox", "stats"],
        ["inbox", "failed"],
        ["inbox", "replay"],
        ["flows", "list", "--store", "st_x"],
        ["coupons", "export", "--store", "st_x"],
        ["stock", "show", "--store", "st_x"],
        ["suppressions", "check", "--store", "st_x", "a@example.com"],
    ],
    ids=" ".join,
)
def test_a_database_never_initialised_says_run_reclaim_init(
    env: dict[str, str], args: list[str]
) -> None:
    refused(run(args, env), "not initialised", "reclaim init")


@pytest.mark.parametrize(
    "args",
    [["store", "list"], ["store", "add", "--name", "S", "--platform", "custom", "--currency", "EUR",
      "--timezone", "Europe/Paris", "--domain", "shop.example"], ["worker", "--once"], ["worker"],
     ["serve", "--port", "8765"], ["stock", "import", "--store", "st_x", "/dev/null"]],
    ids=" ".join,
)  # fmt: skip
def test_only_init_creates_a_database(env: dict[str, str], tmp_path: Path, args: list[str]) -> None:
    """No command but ``reclaim init`` makes a database: not even an empty file."""
    refused(run(args, env), "not initialised", "no such file yet", "reclaim init")
    assert list(tmp_path.iterdir()) == []


def test_worker_and_serve_upgrade_a_database_init_made(env: dict[str, str]) -> None:
    """After an upgrade of Reclaim, a long-running process brings the database it was
    pointed at up to date, and says so in one line."""
    engine = make_engine(env["RECLAIM_DATABASE_URL"])
    migrate.upgrade(engine, "0009")
    engine.dispose()
    p = run(["worker", "--once", "--json"], env)
    assert p.returncode == 0, said(p)
    assert p.stderr.strip() == f"database upgraded from revision 0009 to {migrate.head_revision()}"
    assert "alembic" not in p.stderr.lower()
    again = run(["worker", "--once", "--json"], env)
    assert again.returncode == 0 and again.stderr == ""


def test_a_database_at_an_older_revision_says_run_reclaim_init(
    env: dict[str, str], tmp_path: Path
) -> None:
    engine = make_engine(env["RECLAIM_DATABASE_URL"])
    migrate.upgrade(engine, "0001")
    engine.dispose()
    text = refused(run(["flows", "list", "--store", "st_x"], env), "reclaim init")
    assert "revision 0001" in text and f"{migrate.head_revision()}" in text


@pytest.mark.parametrize("args", [["init"], ["store", "list"], ["worker", "--once"]], ids=" ".join)
def test_a_sqlite_path_in_a_missing_folder_says_create_it(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    env["RECLAIM_DATABASE_URL"] = f"sqlite:///{missing / 'reclaim.sqlite3'}"
    refused(
        run(args, env),
        f"folder {missing} does not exist",
        f"mkdir -p {missing}",
        "RECLAIM_DATABASE_URL",
    )
    assert not missing.exists()


def test_a_file_that_is_no_sqlite_database_is_named(env: dict[str, str], tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"these are my notes, not a database\n" * 100)
    env["RECLAIM_DATABASE_URL"] = f"sqlite:///{junk}"
    refused(run(["store", "list"], env), f"{junk} is not a SQLite database", "RECLAIM_DATABASE_URL")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("args", [["init"], ["store", "list"], ["worker", "--once"]])
def test_postgresql_not_reachable_names_host_and_port_never_the_password(
    env: dict[str, str], args: list[str]
) -> None:
    port = _closed_port()
    env["RECLAIM_DATABASE_URL"] = f"postgresql://reclaim:Pa55-w0rd-XYZ@127.0.0.1:{port}/reclaim"
    text = refused(
        run(args, env), f"cannot reach the database at 127.0.0.1:{port}", "is it running?"
    )
    assert "Pa55-w0rd-XYZ" not in text


def _pg_up() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_says_create_it(env: dict[str, str]) -> None:
    if not _pg_up():
        pytest.skip(f"PostgreSQL at {PG} is not reachable")
    env["RECLAIM_DATABASE_URL"] = PG.rsplit("/", 1)[0] + "/reclaim_no_such_db_14"
    refused(
        run(["store", "list"], env),
        'database "reclaim_no_such_db_14" does not exist',
        "createdb",
        "RECLAIM_DATABASE_URL",
    )


def test_verbose_still_shows_the_traceback(env: dict[str, str]) -> None:
    p = run(["-v", "store", "list"], env)
    assert p.returncode != 0 and "Traceback" in p.stderr
