"""The run the PostgreSQL fault test (tests/e2e/test_faults.py) drives: a stream of signed
webhooks posted as a platform posts them (again after a 503), the faults injected at points
of the run, probes of the API while the database is down, and the rows counted after."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from fault_support import Cluster, shopify_checkout
from helpers import SECRET
from reclaim.adapters.db.tables import inbox, messages, steps
from reclaim.bootstrap import bootstrap
from reclaim.config import Settings
from reclaim.sim.mailbox import Mailbox


@dataclass
class Stream:
    """Signed webhooks posted one after another, each until it is accepted (as a platform
    retries), with every answer counted."""

    base: str
    store_id: str
    n: int
    country: tuple[str, str | None]
    accepted: dict[str, int] = field(default_factory=dict)  # webhook id -> delivery id
    answers: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base, timeout=30) as client:
                for i in range(self.n):
                    self._post(client, i)
                    time.sleep(0.05)
        except Exception as exc:
            self.problems.append(f"the stream stopped: {exc!r}")
        finally:
            self.done.set()

    def _post(self, client: httpx.Client, i: int) -> None:
        at = datetime.now(UTC) - timedelta(hours=2)  # abandoned: its first reminder is due
        body, headers = shopify_checkout(
            i, at=at, country=self.country[0], region=self.country[1], secret=SECRET
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                r = client.post(f"/webhooks/shopify/{self.store_id}", content=body, headers=headers)
            except httpx.TransportError as exc:
                self.problems.append(f"webhook {i}: {type(exc).__name__} (a hang or a crash)")
                return
            took = time.monotonic() - started
            self.answers[str(r.status_code)] += 1
            if took > 10:
                self.problems.append(f"webhook {i}: answered {r.status_code} after {took:.0f} s")
            if r.status_code in (200, 202):
                self.accepted[headers["X-Shopify-Webhook-Id"]] = r.json()["delivery_id"]
                return
            if r.status_code != 503:
                self.problems.append(f"webhook {i}: {r.status_code} {r.text[:200]}")
                return
            time.sleep(0.2)  # the platform tries again later
        self.problems.append(f"webhook {i}: never accepted")


def probe_down(base: str, api_key: str) -> list[int]:
    """While the database is down: an authenticated read and a webhook both answer 503
    (within seconds: neither a 500 nor a hang)."""
    statuses = []
    with httpx.Client(base_url=base, timeout=15) as client:
        r = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {api_key}"})
        statuses.append(r.status_code)
        assert r.status_code == 503, r.text
        assert "database" in r.json()["detail"], r.text
        assert r.headers.get("Retry-After"), r.headers
        r = client.get("/readyz")
        statuses.append(r.status_code)
        assert r.status_code == 503, r.text
    return statuses


def wait_for(
    what: str,
    check: Callable[[], bool],
    within: float,
    state: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {within} s; {state()}")
        time.sleep(0.1)


@dataclass
class Injected:
    downs: int = 0
    probes: list[int] = field(default_factory=list)


def inject(cluster: Cluster, stream: Stream, box: Mailbox, base: str, api_key: str) -> Injected:
    """The faults, at points of the run: while webhooks arrive, while messages go out."""
    done = Injected()

    def after(accepted: int) -> None:
        wait_for(f"{accepted} webhooks accepted", lambda: len(stream.accepted) >= accepted, 120)

    after(8)
    cluster.restart("fast")  # a quick restart while webhooks arrive
    done.downs += 1
    wait_for("messages going out", lambda: len(box.received) >= 3, 120)
    cluster.stop("fast")  # down for seconds, mid-send
    done.downs += 1
    done.probes += probe_down(base, api_key)
    time.sleep(2)
    cluster.start()
    after(35)
    cluster.stop("immediate")  # a crash: recovery replays the WAL on start
    done.downs += 1
    done.probes += probe_down(base, api_key)
    time.sleep(1)
    cluster.start()
    seen = len(box.received)
    wait_for("more messages going out", lambda: len(box.received) > seen, 120)
    cluster.restart("fast")
    done.downs += 1
    return done


def tally(url: str) -> dict[str, Counter[str]]:
    """Rows by status: the inbox's, the steps', the messages'."""
    rt = bootstrap(Settings(database_url=url))
    try:
        with rt.engine.connect() as conn:
            return {
                table.name: Counter(
                    {
                        str(status): int(k)
                        for status, k in conn.execute(
                            select(table.c.status, func.count()).group_by(table.c.status)
                        )
                    }
                )
                for table in (inbox, steps, messages)
            }
    finally:
        rt.close()


def settled(url: str) -> int:
    """Messages settled: sent, or possibly sent (a crash between hand-over and answer)."""
    try:
        done = tally(url)["messages"]
    except Exception:
        return 0
    return done["sent"] + done["possibly_sent"]
