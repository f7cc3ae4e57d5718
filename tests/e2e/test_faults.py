"""Faults injected and survived (issue 16): the database restarting mid-run, SQLite locked by
another process or out of room, the SMTP server away for an hour.

Each test names the protection it proves and says how it was checked to fail without it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, event, select

from fault_run import Stream, inject, settled, tally, wait_for
from fault_support import (
    FULL_DISK_CLI,
    Cluster,
    daytime_country,
    free_port,
    page_cap,
    private_cluster,
    reclaim_process,
    shopify_checkout,
    wait_healthy,
    write_lock_held,
)
from helpers import SECRET, checkout_event, client, make_store, post_events
from reclaim.adapters.db.tables import cases, inbox, messages
from reclaim.adapters.flows import default_source
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_forever, run_once
from reclaim.sim.mailbox import Faults, Mailbox

pytestmark = pytest.mark.slow

STORE_ADDRESS = "Boutique, 1 rue de Rivoli, 75001 Paris"
PUBLIC = "http://testserver"


# -- 1. PostgreSQL restarted under a running server and worker --------------------------------


@pytest.mark.postgres
def test_postgresql_restarting_mid_run_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    """A real server and a real worker on a private PostgreSQL cluster, a stream of signed
    webhooks, and PostgreSQL stopped and started four times mid-run (``restart -m fast``,
    ``stop -m fast`` for seconds, once ``stop -m immediate``: a crash and its recovery).

    Checked to fail without its protections: with the API's database-error handler taken
    out, the probes get 500; with the worker's retry of a group's writes taken out, steps
    caught mid-send stay ``sending`` for their 5-minute lease and the wait for them fails.
    """
    n = 60
    with private_cluster() as cluster, Mailbox(faults=Faults(delay=0.05)) as box:
        rt = bootstrap(Settings(database_url=cluster.url))
        init_database(rt)
        store = make_store(
            rt, postal_address=STORE_ADDRESS, sender_email="shop@shop.example", sender_name="Shop"
        )
        rt.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
        env |= {
            "RECLAIM_DATABASE_URL": cluster.url,
            "RECLAIM_SMTP_URL": box.url,
            "RECLAIM_PUBLIC_URL": base,
            "RECLAIM_CONFIG": str(tmp_path / "absent.toml"),
            "RECLAIM_WORKER_POLL_SECONDS": "0.2",
            "RECLAIM_RATE_LIMIT_ENABLED": "false",
            "RECLAIM_DATABASE_POOL_SIZE": "4",
            "PYTHONUNBUFFERED": "1",
        }
        serve = ["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
        with (
            reclaim_process("server", serve, env, tmp_path) as server,
            reclaim_process("worker", ["worker"], env, tmp_path) as worker,
        ):
            wait_healthy(base, server)
            pids = (server.proc.pid, worker.proc.pid)
            stream = Stream(base, store.id, n, daytime_country(datetime.now(UTC)))
            poster = threading.Thread(target=stream.run, daemon=True)
            poster.start()
            faults = inject(cluster, stream, box, base, store.api_key)
            poster.join(timeout=300)
            assert stream.done.is_set(), "the webhook stream never finished"
            wait_for(
                "every accepted webhook's reminder sent",
                lambda: settled(cluster.url) >= len(stream.accepted),
                within=40,
                state=lambda: f"{tally(cluster.url)}\n{worker.text()[-4000:]}",
            )
            bearer = {"Authorization": f"Bearer {store.api_key}"}
            recovered = (
                httpx.get(f"{base}/readyz", timeout=10).status_code,
                httpx.get(f"{base}/api/v1/cases", headers=bearer, timeout=10).status_code,
            )
            logs = {"server": server.text(), "worker": worker.text()}
            alive = (server.alive(), worker.alive())
            assert (server.proc.pid, worker.proc.pid) == pids
        assert alive == (True, True), logs
        assert recovered == (200, 200), recovered  # by itself: nothing was restarted
        assert stream.problems == [], (stream.problems, logs)
        assert faults.downs >= 3 and stream.answers["503"] >= 1, (faults, stream.answers)
        assert "500" not in stream.answers, stream.answers
        sent = check_exactly_once(cluster, stream, box)
        print(
            f"\n[faults: postgresql] {faults.downs} restarts/stops, {len(stream.accepted)} "
            f"webhooks accepted of {sum(stream.answers.values())} requests "
            f"({stream.answers['503']} answered 503, 0 500), {sent['sent']} messages sent, "
            f"{sent['possibly_sent']} possibly sent, 0 lost, 0 doubled"
        )


def check_exactly_once(cluster: Cluster, stream: Stream, box: Mailbox) -> Counter[str]:
    rt = bootstrap(Settings(database_url=cluster.url))
    try:
        with rt.engine.connect() as conn:
            kept = Counter(
                str(e).split(":", 1)[1]  # "checkouts/create:<X-Shopify-Webhook-Id>"
                for e in conn.execute(
                    select(inbox.c.event_id).where(inbox.c.source == "shopify")
                ).scalars()
            )
            status_of = {
                r.recipient: r.status
                for r in conn.execute(select(messages.c.recipient, messages.c.status))
            }
    finally:
        rt.close()
    # Every webhook accepted is in the inbox exactly once …
    assert set(kept) == set(stream.accepted) and set(kept.values()) == {1}, kept
    # … and every customer got the one reminder due, once (twice only where "possibly sent").
    received = Counter(r for m in box.received for r in m.recipients)
    due = {f"buyer{int(w.removeprefix('wh-'))}@example.org" for w in stream.accepted}
    assert set(status_of) == due, set(status_of) ^ due
    assert set(received) == due, set(received) ^ due
    doubled = {r: k for r, k in received.items() if k > 1}
    assert all(status_of[r] == "possibly_sent" for r in doubled), doubled
    assert set(status_of.values()) <= {"sent", "possibly_sent"}, Counter(status_of.values())
    return Counter(status_of.values())


# -- 2. SQLite: locked by another process, out of room ---------------------------------------


def sqlite_runtime(
    tmp_path: Path, template: Path, clock: Any, smtp_url: str | None = None
) -> tuple[Runtime, Path]:
    """A runtime on a SQLite copy of the migrated template, its busy timeout cut from 30 s
    to 0.3 s (the test's lock outlasts it without waiting half a minute)."""
    path = tmp_path / "reclaim.sqlite3"
    shutil.copy(template, path)
    settings = Settings(
        database_url=f"sqlite:///{path}", smtp_url=smtp_url, public_url="http://testserver"
    )
    rt = bootstrap(settings, clock=clock)
    init_database(rt)
    event.listen(rt.engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout=300"))
    rt.engine.dispose()
    return rt, path


def post_checkout(c: TestClient, store_id: str, n: int, at: datetime) -> Any:
    body, headers = shopify_checkout(n, at=at, country="DE", region=None, secret=SECRET)
    return c.post(f"/webhooks/shopify/{store_id}", content=body, headers=headers)


def worker_thread(rt: Runtime) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_forever, args=(rt, stop), kwargs={"poll_seconds": 0.05}, daemon=True
    )
    thread.start()
    return thread, stop


def test_sqlite_locked_by_another_process_answers_503_and_the_worker_waits(
    tmp_path: Path, sqlite_template: Path, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds SQLite's write lock past the busy timeout, twice: once while
    webhooks arrive (the API answers 503 in words, with Retry-After, and the platform's
    retry is accepted once the lock is gone), once while the worker is sending (its
    hand-overs wait and go on). Nothing is lost, nothing is sent twice.

    Checked to fail without its protections: without the API's database-error handler the
    webhook's answer is a 500 (an exception out of the test client); with the worker's
    retry off (``retry = None`` in ``run_once``) the steps caught mid-send stay ``sending``.
    """
    with Mailbox(faults=Faults(delay=0.15)) as box:
        rt, path = sqlite_runtime(tmp_path, sqlite_template, clock, box.url)
        store = make_store(rt, postal_address=STORE_ADDRESS)
        c = client(rt)
        at = clock.now - timedelta(hours=2)
        assert post_checkout(c, store.id, 0, at).status_code == 200
        with write_lock_held(path):
            started = time.monotonic()
            r = post_checkout(c, store.id, 1, at)
            assert time.monotonic() - started < 5  # the busy timeout, not a hang
            assert r.status_code == 503, r.text
            assert "locked by another process" in r.json()["detail"]
            assert r.headers["Retry-After"] == "5"
        assert post_checkout(c, store.id, 1, at).status_code == 200  # the platform's retry
        for n in range(2, 8):
            assert post_checkout(c, store.id, n, at).status_code == 200
        caplog.set_level(logging.WARNING)
        thread, stop = worker_thread(rt)
        try:
            wait_for("a message sent", lambda: len(box.received) >= 1, 30)
            with write_lock_held(path):  # mid-send: the next hand-over finds the lock
                time.sleep(1.5)
                assert thread.is_alive()
            wait_for("every message sent", lambda: len(box.received) >= 8, 30)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert not thread.is_alive()
        counts = tally(rt.settings.database_url)
        rt.close()
    assert counts["steps"]["sent"] == 8 and "sending" not in counts["steps"], counts
    assert counts["inbox"] == Counter({"processed": 8}), counts
    received = Counter(r for m in box.received for r in m.recipients)
    assert received == Counter({f"buyer{n}@example.org": 1 for n in range(8)})
    waited = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert waited, "the lock never met a write: the test tested nothing"
    print(
        f"\n[faults: sqlite locked] 2 locks past the busy timeout: a webhook answered 503, then "
        f"accepted; {len(waited)} writes waited for the lock; 8 messages sent once"
    )


def rows(rt: Runtime, table: Table) -> list[tuple[Any, ...]]:
    with rt.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.id))]


def test_sqlite_full_disk_is_refused_in_words_and_corrupts_nothing(
    tmp_path: Path, sqlite_template: Path, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk fills (each connection capped at the database's size, ``PRAGMA
    max_page_count``): webhooks get 507 in words, the CLI one line and exit 2, the worker
    logs one line a round and goes on, and no delivery is blamed for it (none kept as a
    dead letter). Once there is room, what was accepted is processed and sent once; what
    was written before is intact and ``PRAGMA integrity_check`` says ok.

    Checked to fail without its protections: without the words for SQLITE_FULL
    (adapters/db/problems.py) the API answers 500 and the CLI prints a traceback; without
    the worker's ``database_failed`` check (services/ingest.py) the deliveries it met are
    kept as dead letters ("internal error: OperationalError").
    """
    with Mailbox() as box:
        rt, path = sqlite_runtime(tmp_path, sqlite_template, clock, box.url)
        store = make_store(rt, postal_address=STORE_ADDRESS)
        c = client(rt)
        at = clock.now - timedelta(hours=2)
        for n in range(3):
            assert post_checkout(c, store.id, n, at).status_code == 200
        assert run_once(rt, clock.now).steps.sent == 3
        before = {t.name: rows(rt, t) for t in (cases, messages, inbox)}
        with rt.engine.connect() as conn:
            pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar_one())
        full = page_cap(pages + 8)  # room for a few webhooks, then full
        event.listen(rt.engine, "connect", full)
        rt.engine.dispose()
        accepted, n = [], 3
        while (r := post_checkout(c, store.id, n, at)).status_code == 200:
            accepted.append(n)
            n += 1
            assert n < 500, "the cap never filled the database"
        assert r.status_code == 507, r.text
        assert "disk is full" in r.json()["detail"], r.text
        assert accepted, "the database was full before the first webhook: nothing was tested"
        caplog.set_level(logging.WARNING)
        thread, stop = worker_thread(rt)
        time.sleep(1.5)
        stop.set()
        thread.join(timeout=30)
        said = [r.getMessage() for r in caplog.records if "worker round failed" in r.getMessage()]
        assert said and all("is full" in line for line in said), said
        assert tally(rt.settings.database_url)["inbox"]["failed"] == 0  # nothing blamed
        cli = full_disk_cli(tmp_path, path, store.id)
        assert cli.returncode == 2, cli.stdout + cli.stderr
        assert "Traceback" not in cli.stderr, cli.stderr
        said_cli = " ".join(cli.stderr.split())
        assert said_cli.startswith("error: the disk holding the SQLite database"), said_cli
        event.remove(rt.engine, "connect", full)  # room again
        rt.engine.dispose()
        stats = run_once(rt, clock.now + timedelta(minutes=6))  # past the claims' lease
        with rt.engine.connect() as conn:
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar_one()
        after = {t.name: rows(rt, t) for t in (cases, messages)}
        counts = tally(rt.settings.database_url)
        rt.close()
    assert check == "ok"
    assert stats.inbox.processed == len(accepted) and stats.steps.sent == len(accepted)
    for name, kept in before.items():  # what was written before, intact
        if name != "inbox":
            assert after[name][: len(kept)] == kept
    assert counts["inbox"] == Counter({"processed": 3 + len(accepted)}), counts
    received = Counter(r for m in box.received for r in m.recipients)
    assert received == Counter({f"buyer{i}@example.org": 1 for i in range(3 + len(accepted))})
    print(
        f"\n[faults: sqlite full] {len(accepted)} webhooks accepted until the disk filled, "
        f"then 507; all {3 + len(accepted)} processed and sent once after, integrity ok"
    )


def full_disk_cli(tmp_path: Path, path: Path, store_id: str) -> subprocess.CompletedProcess[str]:
    """``reclaim flows set`` with a 40 KB flow file, every connection capped at its size."""
    flow = tmp_path / "flow.yaml"
    flow.write_text(default_source("abandoned_checkout") + ("# padding\n" * 4000))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env |= {
        "RECLAIM_DATABASE_URL": f"sqlite:///{path}",
        "RECLAIM_CONFIG": str(tmp_path / "absent.toml"),
        "COLUMNS": "300",
    }
    tests = str(Path(__file__).resolve().parents[1])
    args = ["flows", "set", "--store", store_id, str(flow)]
    return subprocess.run(
        [sys.executable, "-c", FULL_DISK_CLI, tests, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- 3. The SMTP server away for an hour of simulated time -----------------------------------

MONDAY = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 10:00 in Berlin, 20:00 in Auckland
QUIET = (time_of_day(22), time_of_day(7))  # email's quiet hours, on the customer's clock


def in_quiet_hours(at: datetime, zone: str) -> bool:
    local = at.astimezone(ZoneInfo(zone)).time()
    return local >= QUIET[0] or local < QUIET[1]


def test_smtp_away_for_an_hour_messages_wait_and_go_once_within_policy(db_url: str) -> None:
    """The relay is down from the first due send (T0 + 1 h) for an hour. Messages are
    deferred with the policy's backoff (30 min, then 1 h: never tried every round), go once
    the relay is back, and those whose retry falls in the customer's quiet hours (Auckland,
    22:00 there) wait for the morning. None lost, none doubled.

    Checked to fail without its protections: with a transient failure recorded as given up
    (``_failed`` in services/steps/record.py treating it as permanent) nothing is sent after
    the relay returns; with a retry exempt from quiet hours (``decide`` before issue 16) the
    Auckland messages went at 22:50 there.
    """
    zones = {i: "Europe/Berlin" if i % 2 else "Pacific/Auckland" for i in range(10)}
    port = free_port()
    rt = bootstrap(
        Settings(database_url=db_url, smtp_url=f"smtp://127.0.0.1:{port}", public_url=PUBLIC),
        clock=lambda: MONDAY,
    )
    init_database(rt)
    store = make_store(rt, postal_address=STORE_ADDRESS)
    events = [
        checkout_event(
            MONDAY,
            checkout_id=f"c{i}",
            email=f"buyer{i}@example.org",
            timezone=zone,
            accepts_marketing=True,
        )
        for i, zone in zones.items()
    ]
    assert post_events(client(rt), store.api_key, events).status_code == 202
    assert run_once(rt, MONDAY + timedelta(minutes=31)).detected.opened == len(zones)
    box = Mailbox(port=port)  # made, not started: the relay is down
    back = MONDAY + timedelta(hours=2)
    tries: Counter[str] = Counter()  # failed sends by outcome, while the relay is down
    at = MONDAY + timedelta(hours=1)
    try:
        while at <= MONDAY + timedelta(hours=20):  # before the flow's second step
            if at >= back and box._controller is None:
                box.start()
            stats = run_once(rt, at)
            if at < back:
                tries.update(stats.steps.outcomes)
            at += timedelta(minutes=10)
        received = list(box.received)
    finally:
        box.stop()
    with rt.engine.connect() as conn:
        sent = {
            r.recipient: (r.status, r.sent_at, r.attempts)
            for r in conn.execute(
                select(
                    messages.c.recipient, messages.c.status, messages.c.sent_at, messages.c.attempts
                )
            )
        }
    rt.close()
    # Down for an hour: each message tried at its first due time and 30 min later, no more.
    assert tries == Counter({"deferred_network": 2 * len(zones)}), tries
    by_recipient = Counter(r for m in received for r in m.recipients)
    assert by_recipient == Counter({f"buyer{i}@example.org": 1 for i in zones})
    for i, zone in zones.items():
        status, sent_at, attempts = sent[f"buyer{i}@example.org"]
        assert status == "sent" and sent_at is not None and sent_at >= back
        assert not in_quiet_hours(sent_at, zone), (zone, sent_at)
        assert attempts == 3, (zone, attempts)  # two failed tries, then the one that went
    late = [sent[f"buyer{i}@example.org"][1] for i, z in zones.items() if z == "Pacific/Auckland"]
    assert all(s.astimezone(ZoneInfo("Pacific/Auckland")).hour == 7 for s in late), late
    print(
        f"\n[faults: smtp down 1 h] {len(zones)} messages, {sum(tries.values())} failed tries "
        f"while down, {len(received)} sent after (5 at 07:00 in Auckland), 0 lost, 0 doubled"
    )
