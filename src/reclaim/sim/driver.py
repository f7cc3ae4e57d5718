"""Drive a plan through a real Reclaim: real HTTP, the real worker, simulated time.

The simulator owns the clock. :func:`open_runtime` bootstraps Reclaim with it (and with the
simulator's SMTP server and the live server's URL for tracked links), so the API stamps every
delivery with simulated time and checks Stripe signatures against it; :class:`LiveServer`
serves ``create_app(rt)`` with uvicorn on a loopback port in a background thread;
:class:`Drive` sends each delivery over HTTP (httpx) at its simulated instant, plays the
customers' actions (opening, clicking, buying) at theirs, and calls ``run_once(rt, now)``
every simulated ``config.tick`` — exactly what a worker would do at that instant — then hands
the emails that arrived to the customers.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn

from reclaim.adapters.flows import default_source, load_flow
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import load_settings
from reclaim.domain.stores import StoreSettings
from reclaim.entrypoints.api import create_app
from reclaim.entrypoints.worker import run_once
from reclaim.services.flows import set_flow
from reclaim.services.ports import Senders
from reclaim.services.stores import add_store
from reclaim.sim.delivery import deliveries_for
from reclaim.sim.emails import read
from reclaim.sim.mailbox import Mailbox
from reclaim.sim.model import CheckoutSnap, Delivery, OrderSnap
from reclaim.sim.payloads import sign
from reclaim.sim.storefronts import Emitted
from reclaim.sim.traffic import Plan, SimConfig
from reclaim.sim.truth import GroundTruth
from reclaim.sim.world import STORE, STORES, store_rates

if TYPE_CHECKING:
    from reclaim.sim.customers import Audience

ProgressFn = Callable[[int, int, datetime, "DriveStats"], None]
SUBJECT_FIELD = {
    "abandoned_checkout": "checkout_id",
    "pending_order": "order_id",
    "failed_payment": "payment_intent_id",
}


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


def open_runtime(
    database_url: str,
    clock: SimClock,
    *,
    smtp_url: str | None = None,
    public_url: str | None = None,
) -> Runtime:
    """A migrated Reclaim on ``database_url`` whose clock is the simulator's; with
    ``smtp_url`` its worker sends email there, with links to ``public_url``."""
    # Thousands of simulated shoppers reach it from one address at simulated speed: the
    # rate limits, made for real clients, would refuse most of them.
    overrides: dict[str, object] = {"database_url": database_url, "rate_limit_enabled": False}
    if smtp_url is not None:
        overrides["smtp_url"] = smtp_url
    if public_url is not None:
        overrides["public_url"] = public_url
    rt = bootstrap(load_settings(**overrides), clock=clock)
    init_database(rt)
    return rt


# The demo stores' platform API keys (reclaim.sim.platform_api checks them as each platform does).
PLATFORM_API_KEYS = {
    "shopify": "shpat_reclaim_demo",
    "woocommerce": "ck_reclaim_demo:cs_reclaim_demo",
    "stripe": "rk_test_reclaim_demo_coupons",
}


def connect_stores(
    rt: Runtime, config: SimConfig, *, platform_api: str | None = None
) -> dict[str, DemoStore]:
    """One store per platform, activated at the simulation's start, each with the default
    flows at the simulation's holdout share. ``platform_api``: the URL of the simulated
    platform APIs (:mod:`reclaim.sim.platform_api`) the Shopify, WooCommerce and Stripe stores
    create their coupons on and cancel expired orders through (the custom site has none: its
    coupons are exported, and it imports them, ``coupons_imported``)."""
    out = {}
    for spec in STORES:
        secret = webhook_secret(config.seed, spec.key) if spec.key != "custom" else ""
        connected = spec.platform in PLATFORM_API_KEYS and platform_api is not None
        created = add_store(
            uow=rt.uow(),
            name=spec.name,
            platform=spec.platform,
            currency=spec.currency,
            timezone=spec.timezone,
            domain=spec.domain,
            webhook_secret=secret,
            settings=StoreSettings(
                test_emails=(spec.test_email,),
                test_domains=(spec.test_domain,),
                postal_address=spec.postal_address,
                support_email=spec.support_email,
                platform_api_url=platform_api if connected else None,
                platform_api_token=PLATFORM_API_KEYS.get(spec.platform) if connected else None,
                # The custom site imports Reclaim's codes itself (its simulated checkout takes
                # every exported code): without that, its emails would carry none.
                coupons_imported=not connected,
                # Customers pay in their own currencies: the report converts them at the
                # demo's fixed rates (sim/world.py, ECB 2024 averages) and names each.
                fx_rates=store_rates(spec.currency),
            ),
            now=config.start,
            # Fixed by the seed: the holdout is a hash of the store and the case, so the same
            # seed must hold out the same cases.
            store_id=store_id(config.seed, spec.key),
        )
        for kind in ("abandoned_checkout", "pending_order", "failed_payment"):
            source = re.sub(
                r"^holdout: *[0-9.]+",
                f"holdout: {config.holdout:g}",
                default_source(kind),
                count=1,
                flags=re.MULTILINE,
            )
            set_flow(
                uow=rt.uow(),
                store_id=created.id,
                source=source,
                flow=load_flow(source, kind=kind),
                now=config.start,
            )
        out[spec.key] = DemoStore(spec.key, created.id, created.api_key, secret)
    return out


def store_id(seed: int, key: str) -> str:
    """The demo store's id, fixed by the seed (Reclaim's own ids are random)."""
    return "st_" + hashlib.sha256(f"reclaim-sim/{seed}/{key}/store".encode()).hexdigest()[:12]


def loopback_socket(port: int = 0) -> socket.socket:
    """A TCP socket bound to 127.0.0.1:``port`` (0: a free one), for :class:`LiveServer`."""
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto says TCP; without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class LiveServer:
    """uvicorn serving ``create_app(rt)`` on 127.0.0.1:<free port>, in a daemon thread."""

    def __init__(self, rt: Runtime, sock: socket.socket | None = None) -> None:
        self.sock = sock or loopback_socket()
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
    steps: Counter[str] = field(default_factory=Counter)  # the worker's step outcomes
    emails_by_day: Counter[int] = field(default_factory=Counter)  # day index -> emails
    customer_requests: int = 0  # pixel, clicks, unsubscribes
    dropped: int = 0  # planned deliveries that a purchase made moot (a cancellation)


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


PaceFn = Callable[[datetime], None]


class Drive:
    """One run: the plan's deliveries and the customers' actions in simulated-time order, the
    worker at every tick, the emails read right after each worker run (the SMTP server has
    them by then: the worker's sends are synchronous). Sequential on purpose: one request at a
    time keeps the run deterministic. Implements :class:`reclaim.sim.customers.Host`."""

    def __init__(
        self,
        rt: Runtime,
        clock: SimClock,
        plan: Plan,
        stores: dict[str, DemoStore],
        client: httpx.Client,
        *,
        mailbox: Mailbox | None = None,
        truth: GroundTruth | None = None,
        pace: PaceFn | None = None,
    ) -> None:
        self.rt, self.clock, self.plan, self.stores, self.client = rt, clock, plan, stores, client
        self.mailbox, self.truth, self.pace = mailbox, truth, pace
        self.audience: Audience | None = None
        self.stats = DriveStats()
        self.sent: list[Delivery] = []  # in the order they were sent
        self._queue: list[tuple[datetime, int, Delivery | Callable[[], None]]] = [
            (d.at, d.seq, d) for d in plan.deliveries
        ]
        heapq.heapify(self._queue)
        self._seq = max((d.seq for d in plan.deliveries), default=0)
        self._rng = random.Random(f"reclaim-sim/{plan.config.seed}/responses")
        self._dropped: set[int] = set()
        self._case_ids: dict[tuple[str, str, str], int] = {}
        self._cases_since: dict[str, str] = {}
        self._moot: dict[tuple[str, str], list[Delivery]] = {}
        for d in plan.deliveries:
            for key in _closing_subjects(d):
                self._moot.setdefault(key, []).append(d)

    # -- Host ---------------------------------------------------------------------------------

    def later(self, at: datetime, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, action))

    def emitted(self, items: list[Emitted]) -> None:
        for d in deliveries_for(
            items, self.plan.config, self._rng, self.plan.stats, first_seq=self._seq + 1
        ):
            self._seq = max(self._seq, d.seq)
            if d.at <= self.plan.config.end:
                heapq.heappush(self._queue, (d.at, d.seq, d))

    def drop_planned(self, store: str, subject: str, after: datetime) -> None:
        for d in self._moot.get((store, subject), ()):
            if d.at >= after and d.seq not in self._dropped:
                self._dropped.add(d.seq)
                self.stats.dropped += 1

    def message_case(
        self, store: str, message_id: int, candidates: list[tuple[str, str]]
    ) -> tuple[str, str] | None:
        """Which of the ``(kind, subject)`` cases lists Reclaim's message ``message_id``,
        through the cases API (``GET /api/v1/cases`` for new ids, then each candidate)."""
        headers = {"Authorization": f"Bearer {self.stores[store].api_key}"}
        self._refresh_case_ids(store, headers)
        for kind, subject in candidates:
            case_id = self._case_ids.get((store, kind, subject))
            if case_id is None:
                continue
            r = self.client.get(f"/api/v1/cases/{case_id}", headers=headers)
            self.stats.customer_requests += 1
            if r.status_code == 200 and any(m["id"] == message_id for m in r.json()["messages"]):
                return kind, subject
        return None

    def _refresh_case_ids(self, store: str, headers: dict[str, str]) -> None:
        params: dict[str, Any] = {"limit": 500}
        if store in self._cases_since:
            params["since"] = self._cases_since[store]
        while True:
            r = self.client.get("/api/v1/cases", params=params, headers=headers)
            self.stats.customer_requests += 1
            r.raise_for_status()
            page = r.json()
            for c in page["cases"]:
                subject = c[SUBJECT_FIELD[c["kind"]]] or ""
                self._case_ids[(store, c["kind"], subject)] = c["id"]
                if c["created_at"] > self._cases_since.get(store, ""):
                    self._cases_since[store] = c["created_at"]
            if page["next_cursor"] is None:
                return
            params["cursor"] = page["next_cursor"]

    # -- the run ------------------------------------------------------------------------------

    def run(self, *, progress: ProgressFn | None = None) -> DriveStats:
        stats, cfg = self.stats, self.plan.config
        ticks = cfg.ticks()
        senders = self.rt.senders()  # one SMTP connection for the whole run
        try:
            for n, tick in enumerate(ticks, start=1):
                while self._queue and self._queue[0][0] <= tick:
                    at, _, item = heapq.heappop(self._queue)
                    if self.pace is not None:
                        self.pace(at)
                    self.clock.now = at
                    if isinstance(item, Delivery):
                        self._deliver(item)
                    else:
                        stats.customer_requests += 1
                        item()
                if self.pace is not None:
                    self.pace(tick)
                self.clock.now = tick
                self._work(tick, senders)
                if progress is not None:
                    progress(n, len(ticks), tick, stats)
        finally:
            senders.close()
        return stats

    def _deliver(self, d: Delivery) -> None:
        if d.seq in self._dropped:
            return
        self.sent.append(d)
        stats = self.stats
        counts = send(self.client, self.clock, d, self.stores[d.store])
        stats.requests[d.store] += 1
        stats.roles[(d.store, d.role)] += 1
        stats.sent += 1
        for status, k in counts.items():
            stats.answers[(d.store, status)] += k
        _check(d, counts, stats)
        if self.truth is not None and d.facts:
            self.truth.advance(d.facts)

    def _work(self, tick: datetime, senders: Senders) -> None:
        stats = self.stats
        done = run_once(self.rt, tick, senders=senders)
        stats.processed += done.inbox.processed
        stats.ignored += done.inbox.ignored
        stats.failed += done.inbox.failed
        stats.opened += done.detected.opened
        stats.ticks += 1
        stats.steps.update(done.steps.outcomes)
        if self.truth is not None:
            self.truth.detect(tick)
        if self.mailbox is None:
            return
        letters = sorted(
            (read(m) for m in self.mailbox.take()), key=lambda x: (x.message_id, x.recipient)
        )
        day = (tick - timedelta(seconds=1) - self.plan.config.start).days
        stats.emails_by_day[day] += len(letters)
        if self.audience is not None:
            for letter in letters:
                self.audience.arrive(letter, tick)


def _closing_subjects(d: Delivery) -> list[tuple[str, str]]:
    """What a planned delivery closes without a purchase: an order's cancellation, a
    checkout session's expiry (a customer who pays first makes it moot)."""
    keys = []
    for f in d.facts:
        if isinstance(f, OrderSnap) and f.status == "cancelled":
            keys.append((f.store, f.order_id))
        elif isinstance(f, CheckoutSnap) and f.expired_at is not None:
            keys.append((f.store, f.checkout_id))
    return keys


def drive(
    rt: Runtime,
    clock: SimClock,
    plan: Plan,
    stores: dict[str, DemoStore],
    base_url: str,
    *,
    progress: ProgressFn | None = None,
) -> DriveStats:
    """The plan alone through Reclaim (no mailbox, no customers reading email)."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        return Drive(rt, clock, plan, stores, client).run(progress=progress)


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
