"""What the fault tests (tests/e2e/test_faults.py) run against: a private PostgreSQL cluster
the test may stop and start (never the shared server other test workers use), the real
server and worker as subprocesses, and signed Shopify checkout webhooks."""

from __future__ import annotations

import base64
import contextlib
import glob
import hashlib
import hmac
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from reclaim.adapters.geo import timezone_for

RECLAIM = [sys.executable, "-m", "reclaim"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a private PostgreSQL cluster ----------------------------------------------------------


def _pg_bin() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: ``RECLAIM_TEST_PG_BIN``, else Debian's
    /usr/lib/postgresql/<version>/bin (the newest), else the PATH."""
    if given := os.environ.get("RECLAIM_TEST_PG_BIN"):
        return Path(given)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster in a folder of its own, on a port of its own.

    PostgreSQL refuses to run as root: as root, its commands run as the ``postgres`` user
    (``runuser``), in a folder that user owns."""

    bin: Path
    folder: Path
    port: int
    run_as: list[str]
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/reclaim"

    def pg_ctl(self, *args: str, timeout: float = 60) -> None:
        cmd = [*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), *args]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if p.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} exited {p.returncode}: {p.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("start", "-w", "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-w", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def running(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False


def _run_as() -> list[str] | str:
    """The command prefix that runs PostgreSQL's tools as a user they accept, or why none."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "running as root and there is no `postgres` user to run PostgreSQL as"
    runuser = shutil.which("runuser")
    if runuser is None:
        return "running as root and `runuser` is missing (PostgreSQL refuses to run as root)"
    return [runuser, "-u", "postgres", "--"]


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A fresh cluster with a database ``reclaim``, stopped and removed afterwards. Skips
    with the reason where one cannot be made here (fails under CI, like the shared one)."""

    def unavailable(why: str) -> None:
        if os.environ.get("CI"):
            pytest.fail(f"a private PostgreSQL cluster cannot be made: {why}")
        pytest.skip(f"a private PostgreSQL cluster cannot be made: {why}")

    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        unavailable("no initdb/pg_ctl (set RECLAIM_TEST_PG_BIN to PostgreSQL's bin folder)")
    assert bin_dir is not None
    run_as = _run_as()
    if isinstance(run_as, str):
        unavailable(run_as)
    assert isinstance(run_as, list)
    folder = Path(tempfile.mkdtemp(prefix="reclaim-pg-"))
    if run_as:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Cluster(bin_dir, folder, free_port(), run_as, folder / "server.log")
    init = subprocess.run(
        [*run_as, str(bin_dir / "initdb"), "-D", str(folder / "data"), "--username=postgres",
         "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    try:
        if init.returncode != 0:
            unavailable(f"initdb exited {init.returncode}: {init.stderr.strip()[-500:]}")
        cluster.start()
        subprocess.run(
            [*run_as, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port),
             "-U", "postgres", "reclaim"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


# -- the server and the worker, as an operator runs them -------------------------------------


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_bytes().decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.proc.poll() is None


@contextlib.contextmanager
def reclaim_process(
    name: str, args: list[str], env: dict[str, str], folder: Path
) -> Iterator[Process]:
    log_path = folder / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*RECLAIM, *args], env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT
        )
    running = Process(name, proc, log_path)
    try:
        yield running
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_healthy(base: str, server: Process, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        if not server.alive():
            pytest.fail(f"the server exited {server.proc.returncode}: {server.text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"the server is not healthy after {within} s: {server.text()[-3000:]}")
        time.sleep(0.1)


# -- webhooks --------------------------------------------------------------------------------

# Customers' countries for which some zone reads daytime at every hour of the UTC day: the
# worker runs on the wall clock, so the test picks one outside the quiet hours (SPEC S5).
_COUNTRIES = [("US", "HI"), ("US", "CA"), ("US", "NY"), ("BR", None), ("GB", None),
              ("DE", None), ("IN", None), ("SG", None), ("JP", None), ("NZ", None)]  # fmt: skip


def daytime_country(now: datetime) -> tuple[str, str | None]:
    """A (country, region) whose customers' local time is between 10:00 and 17:00 now."""
    for country, region in _COUNTRIES:
        zone = timezone_for(country, region)
        if zone is not None and 10 <= now.astimezone(ZoneInfo(zone)).hour < 17:
            return country, region
    raise AssertionError(f"no daytime country at {now}")


def shopify_checkout(
    n: int, *, at: datetime, country: str, region: str | None, secret: str
) -> tuple[bytes, dict[str, str]]:
    """The ``n``-th customer's abandoned checkout, last touched ``at``, as Shopify signs it."""
    stamp = at.isoformat(timespec="seconds")
    body = {
        "id": 900_000 + n,
        "token": f"tok{n:05d}",
        "email": f"buyer{n}@example.org",
        "buyer_accepts_marketing": True,
        "created_at": (at - timedelta(minutes=5)).isoformat(timespec="seconds"),
        "updated_at": stamp,
        "completed_at": None,
        "currency": "EUR",
        "customer_locale": "en",
        "abandoned_checkout_url": f"https://shop.example/checkouts/{n}/recover",
        "line_items": [
            {
                "sku": "MUG-1",
                "title": "Mug",
                "quantity": 1,
                "price": "25.00",
                "variant_id": 1,
                "product_id": 1,
            }
        ],
        "billing_address": {"country_code": country, "province_code": region, "first_name": "Kim"},
        "customer": {
            "id": 700_000 + n,
            "email": f"buyer{n}@example.org",
            "first_name": "Kim",
            "email_marketing_consent": {"state": "subscribed", "opt_in_level": "single_opt_in"},
        },
        "total_price": "25.00",
        "subtotal_price": "25.00",
    }
    raw = json.dumps(body).encode()
    mac = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    headers = {
        "X-Shopify-Topic": "checkouts/create",
        "X-Shopify-Hmac-Sha256": mac,
        "X-Shopify-Webhook-Id": f"wh-{n:05d}",
        "X-Shopify-Shop-Domain": "shop.example",
        "Content-Type": "application/json",
    }
    return raw, headers


# -- SQLite locked by another process, or out of room -----------------------------------------

_HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")  # SQLite's one write lock, until told to let go
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@contextlib.contextmanager
def write_lock_held(path: Path) -> Iterator[None]:
    """Another process holds ``path``'s write lock (``BEGIN IMMEDIATE``) until the block
    ends: the database browser or the long import an operator leaves open."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            assert proc.stdout.readline().strip() == "locked"
            yield
        finally:
            proc.communicate("\n", timeout=30)


def page_cap(pages: int | None = None) -> Callable[[Any, Any], None]:
    """A ``connect`` listener that caps a SQLite connection's database at ``pages`` pages
    (``PRAGMA max_page_count``; default: the size it has when it connects): past it, a
    write fails with SQLITE_FULL, "database or disk is full", as on a full disk."""

    def cap(dbapi_conn: Any, _record: Any) -> None:
        size = pages or dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {int(size)}")

    return cap


# ``reclaim ARGS`` on a disk that is full: every SQLite connection capped at its size.
FULL_DISK_CLI = """
import sys
from sqlalchemy import Engine, event
sys.path.insert(0, sys.argv.pop(1))
from fault_support import page_cap
event.listen(Engine, "connect", page_cap())
from reclaim.entrypoints.cli import main
sys.argv[0] = "reclaim"
main()
"""
