"""The machine table every report starts with: the box, the code measured, the libraries."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import sqlite3
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg

REPO_ROOT = Path(__file__).resolve().parents[2]


def git_revision() -> str:
    """The commit measured, and whether the working tree differed from it."""
    root = REPO_ROOT
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in src/" if dirty else "")


def machine(pg_admin: str, dbs: Sequence[str]) -> dict[str, str]:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": git_revision(),
        "cpu": f"{os.cpu_count()} cores, {cpu}",
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "libraries": ", ".join(
            f"{p} {importlib.metadata.version(p)}"
            for p in ("sqlalchemy", "psycopg", "fastapi", "starlette", "uvicorn", "httpx")
        ),
        "uvicorn loop/http": (
            ("uvloop" if importlib.util.find_spec("uvloop") else "asyncio")
            + " / "
            + ("httptools" if importlib.util.find_spec("httptools") else "h11")
        ),
    }
    if "postgresql" in dbs:
        with psycopg.connect(pg_admin) as conn:
            settings = dict(
                conn.execute(
                    "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                    "('server_version', 'synchronous_commit', 'fsync', 'shared_buffers')"
                ).fetchall()
            )
        info["postgresql"] = (
            f"{settings['server_version']} (local; fsync={settings['fsync']}, "
            f"synchronous_commit={settings['synchronous_commit']}, "
            f"shared_buffers={settings['shared_buffers']})"
        )
    return info
