"""Drive a plan through a real Reclaim: real HTTP, the real worker, simulated time.

The simulator owns the clock. :func:`open_runtime` bootstraps Reclaim with it, so the API
stamps every delivery with simulated time and checks Stripe signatures against it;
:class:`LiveServer` serves ``create_app(rt)`` with uvicorn on a free loopback port in a
background thread; :func:`drive` sends each delivery over HTTP (httpx) at its simulated
instant and calls ``run_once(rt, now)`` every simulated ``config.tick`` — exactly what a
worker would do at that instant.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import uvicorn

from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import load_settings
from reclaim.domain.stores import StoreSettings
from reclaim.entrypoints.api import create_app
from reclaim.entrypoints.worker import run_once
from reclaim.services.stores import add_store
from reclaim.sim.model import Delivery
from reclaim.sim.payloads import sign
from reclaim.sim.traffic import Plan, SimConfig
from reclaim.sim.world import STORE, STORES

ProgressFn = Callable[[int, int, datetime, "DriveStats"], None]


class SimClock:
    """The simulated "now"; Reclaim reads it through ``rt.clock``."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True, slots=True)
class DemoStore:
    key: str
    id: str
    api_key: str
    webhook_secret: str


def webhook_secret(seed: int, key: str) -> str:
    return "whsec_" + hashlib.sha256(f"reclaim-sim/{seed}/{key}".encode()).hexdigest()[:32]


def open_runtime(database_url: str, clock: SimClock) -> Runtime:
    """A migrated Reclaim on ``database_url`` whose clock is the simulator's."""
    rt = bootstrap(load_settings(database_url=database_url), clock=clock)
    init_database(rt)
    return rt


def connect_stores(rt: Runtime, config: SimConfig) -> dict[str, DemoStore]:
    """One store per platform, activated at the simulation's start."""
    out = {}
    for spec in STORES:
        secret = webhook_secret(config.seed, spec.key) if spec.key != "custom" else ""
        created = add_store(
            uow=rt.uow(),
            name=spec.name,
            platform=spec.platform,
            currency=spec.currency,
            timezone=spec.timezone,
            domain=spec.domain,
            webhook_secret=secret,
            settings=StoreSettings(
                test_emails=(spec.test_email,), test_domains=(spec.test_domain,)
            ),
            now=config.start,
        )
        out[spec.key] = DemoStore(spec.key, created.id, created.api_key, secret)
    return out


class LiveServer:
    """uvicorn serving ``create_app(rt)`` on 127.0.0.1:<free port>, in a daemon thread."""

    def __init__(self, rt: Runtime) -> None:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP; without it every response waits ~40 ms for a delayed ACK.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(rt), log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            daemon=True,
            name="reclaim-sim-api",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator's API server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@dataclass(slots=True)
class DriveStats:
    """What happened on the wire and in the worker."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (store, status) events
    requests: Counter[str] = field(default_factory=Counter)  # store -> HTTP requests
    roles: Counter[tuple[str, str]] = field(default_factory=Counter)  # (store, role) requests
    unexpected: list[str] = field(default_factory=list)  # answers that contradict the plan
    processed: int = 0
    ignored: int = 0
    failed: int = 0
    opened: int = 0
    ticks: int = 0
    sent: int = 0


def _status_counts(response: httpx.Response) -> Counter[str]:
    if response.status_code in (401, 404, 413):
        return Counter({"rejected": 1})
    payload: Any = response.json()
    if "results" in payload:
        return Counter(r["status"] for r in payload["results"])
    return Counter({str(payload.get("status", "rejected")): 1})


def send(client: httpx.Client, clock: SimClock, d: Delivery, store: DemoStore) -> Counter[str]:
    clock.now = d.at
    platform = STORE[d.store].platform
    if platform == "custom":
        url = "/api/v1/events"
        headers = {**d.headers, "Authorization": f"Bearer {store.api_key}"}
    else:
        url = f"/webhooks/{platform}/{store.id}"
        secret = "whsec_rotated_out_0000" if d.wrong_secret else store.webhook_secret
        headers = d.headers if d.role == "ping" else sign(platform, d.headers, d.body, secret, d.at)
    return _status_counts(client.post(url, content=d.body, headers=headers))


def drive(
    rt: Runtime,
    clock: SimClock,
    plan: Plan,
    stores: dict[str, DemoStore],
    base_url: str,
    *,
    progress: ProgressFn | None = None,
) -> DriveStats:
    """Send every delivery at its instant; run the worker at every tick. Sequential on purpose:
    one request at a time keeps the run deterministic."""
    stats = DriveStats()
    ticks = plan.config.ticks()
    queue = plan.deliveries
    i = 0
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for n, tick in enumerate(ticks, start=1):
            while i < len(queue) and queue[i].at <= tick:
                d = queue[i]
                counts = send(client, clock, d, stores[d.store])
                stats.requests[d.store] += 1
                stats.roles[(d.store, d.role)] += 1
                stats.sent += 1
                for status, k in counts.items():
                    stats.answers[(d.store, status)] += k
                _check(d, counts, stats)
                i += 1
            clock.now = tick
            done = run_once(rt, tick)
            stats.processed += done.inbox.processed
            stats.ignored += done.inbox.ignored
            stats.failed += done.inbox.failed
            stats.opened += done.detected.opened
            stats.ticks += 1
            if progress is not None:
                progress(n, len(ticks), tick, stats)
    return stats


def _check(d: Delivery, counts: Counter[str], stats: DriveStats) -> None:
    """Note answers the plan did not expect (a bad delivery accepted, a good one refused)."""
    if d.role == "rejected" and counts.get("rejected", 0) != d.events:
        stats.unexpected.append(f"{d.store} {d.topic}: bad delivery answered {dict(counts)}")
    elif d.role != "rejected" and counts.get("rejected", 0):
        stats.unexpected.append(f"{d.store} {d.topic} ({d.role}): refused {dict(counts)}")


@contextmanager
def live(rt: Runtime) -> Iterator[LiveServer]:
    with LiveServer(rt) as server:
        yield server
