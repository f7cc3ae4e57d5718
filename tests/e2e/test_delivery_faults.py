"""Faults: a worker killed with SIGKILL at random points, an SMTP server that answers 421/451
at random and drops connections, and one that bounces with 550. Nothing is lost, nothing is
sent twice except what is marked "possibly sent", and a bounce suppresses the address."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpers import checkout_event, client, make_store, order_event, post_events
from reclaim.adapters.db.tables import messages, steps, suppressions
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_once
from reclaim.services.steps.model import _Prepared
from reclaim.services.stores import NewStore
from reclaim.sim.mailbox import Faults, Mailbox

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday 10:00 in Berlin: no quiet hours
PUBLIC = "http://testserver"


def runtime(db_url: str, smtp_url: str) -> Runtime:
    rt = bootstrap(
        Settings(database_url=db_url, smtp_url=smtp_url, public_url=PUBLIC), clock=lambda: T0
    )
    init_database(rt)
    return rt


def open_cases(rt: Runtime, n: int) -> NewStore:
    """``n`` German customers abandon a checkout at T0; their cases open at T0 + 31 min."""
    store = make_store(rt, postal_address="Boutique, 1 rue de Rivoli, Paris")
    c = client(rt)
    batch = [
        checkout_event(
            T0,
            checkout_id=f"c{i}",
            email=f"buyer{i}@example.de",
            timezone="Europe/Berlin",
            accepts_marketing=True,
        )
        for i in range(n)
    ]
    assert post_events(c, store.api_key, batch).status_code == 202
    stats = run_once(rt, T0 + timedelta(minutes=31))
    assert stats.detected.opened == n
    return store


def claim(rt: Runtime, due: datetime, lease: timedelta, token: str) -> list[int]:
    """What a worker ``token`` claims at ``due`` (up to 10 steps), committed."""
    with rt.uow() as uow:
        ids = list(uow.steps.claim(now=due, lease_until=due + lease, limit=10, token=token))
        uow.commit()
    return ids


def sent_ids(box: Mailbox) -> Counter[int]:
    return Counter(int(m.parsed()["X-Reclaim-Message"]) for m in box.received)


def step_statuses(rt: Runtime) -> Counter[str]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(steps.c.status, func.count())
            .where(steps.c.position == 0)
            .group_by(steps.c.status)
        )
        return Counter({s: int(n) for s, n in rows})


def message_status(rt: Runtime) -> dict[int, str]:
    with rt.engine.connect() as conn:
        return {r.id: r.status for r in conn.execute(select(messages.c.id, messages.c.status))}


@pytest.fixture
def box() -> Iterator[Mailbox]:
    # A relay taking 50 ms per message: a run's 60 sends take seconds, so kills land mid-batch.
    with Mailbox(faults=Faults(delay=0.05)) as b:
        yield b


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_and_repeats_nothing(
    db_url: str, box: Mailbox
) -> None:
    n = 60
    rt = runtime(db_url, box.url)
    open_cases(rt, n)
    rt.close()
    env = {
        **os.environ,
        "RECLAIM_DATABASE_URL": db_url,
        "RECLAIM_SMTP_URL": box.url,
        "RECLAIM_PUBLIC_URL": PUBLIC,
    }
    rnd = random.Random(20261201)
    at = T0 + timedelta(hours=1)
    kills = 0
    for run in range(30):
        proc = subprocess.Popen(
            [sys.executable, "-m", "reclaim", "worker", "--once", "--now", at.isoformat()],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if run < 8:
            # Kill it mid-batch: right after the relay took the k-th message of this run, or
            # (every other run) at a random instant that may fall in start-up or a commit.
            if run % 2 == 0:
                target = len(box.received) + rnd.randint(1, 6)
                while proc.poll() is None and len(box.received) < target:
                    time.sleep(0.002)
            else:
                time.sleep(rnd.uniform(1.2, 2.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        proc.wait(timeout=120)
        at += timedelta(minutes=6)  # past the 5-minute lease: a dead worker's steps come back
        rt = runtime(db_url, box.url)
        done = step_statuses(rt)
        rt.close()
        if run >= 8 and done.get("sent", 0) + done.get("possibly_sent", 0) == n:
            break
    assert kills >= 4, "the worker finished before it could be killed: the test tested nothing"
    rt = runtime(db_url, box.url)
    statuses = step_statuses(rt)
    status_of = message_status(rt)
    rt.close()
    assert statuses["possibly_sent"] >= 1  # some kills did land between send and record
    # …and each left at most the one message on the wire in doubt: the rest of its group was
    # either recorded as handed over (sent) or never handed over (queued, sent again).
    assert statuses["possibly_sent"] <= kills, (statuses, kills)
    assert statuses["sent"] + statuses["possibly_sent"] == n, statuses  # 0 steps lost
    received = sent_ids(box)
    twice = {m: k for m, k in received.items() if k > 1}
    assert twice == {}  # no step sent twice…
    for mid, status in status_of.items():
        if status == "sent":
            assert received[mid] == 1  # …and every step marked sent really arrived, once
        else:
            assert status == "possibly_sent" and received[mid] <= 1


def test_smtp_answering_421_451_and_dropping_connections_delivers_each_once(
    db_url: str,
) -> None:
    n = 30
    with Mailbox(faults=Faults(transient=0.15, disconnect=0.08, seed=7)) as flaky:
        rt = runtime(db_url, flaky.url)
        open_cases(rt, n)
        at = T0 + timedelta(hours=1)
        while at < T0 + timedelta(hours=20) and step_statuses(rt).get("sent", 0) < n:
            run_once(rt, at)
            at += timedelta(minutes=20)  # retries come at least 30 minutes apart
        statuses = step_statuses(rt)
        status_of = message_status(rt)
        counts = flaky.counts
        received = sent_ids(flaky)
        rt.close()
    assert counts["transient"] > 5 and counts["disconnect"] > 2  # the faults did happen
    assert statuses == {"sent": n}
    sent = {m for m, status in status_of.items() if status == "sent"}
    assert set(received) == sent and set(received.values()) == {1}


def test_550_bounces_suppress_the_address_and_stop_its_flow(db_url: str) -> None:
    with Mailbox(faults=Faults(bounce=frozenset({"buyer1@example.de"}))) as box:
        rt = runtime(db_url, box.url)
        open_cases(rt, 3)
        stats = run_once(rt, T0 + timedelta(hours=1))
        assert (stats.steps.sent, stats.steps.failed) == (2, 1)
        assert stats.steps.outcomes["bounced_550"] == 1
        with rt.engine.connect() as conn:
            [reason] = conn.execute(select(suppressions.c.reason)).scalars()
            bounced = conn.execute(
                select(messages.c.status).where(messages.c.recipient == "buyer1@example.de")
            ).scalar_one()
        assert (reason, bounced) == ("bounced", "bounced")
        # The other two get their second step; the bounced address never gets anything again.
        run_once(rt, T0 + timedelta(hours=24))
        assert sorted(r for m in box.received for r in m.recipients) == [
            "buyer0@example.de",
            "buyer0@example.de",
            "buyer2@example.de",
            "buyer2@example.de",
        ]
        rt.close()


def test_a_worker_whose_claim_expired_backs_off(db_url: str, box: Mailbox) -> None:
    from reclaim.services import steps as delivery
    from reclaim.services.steps.send import _send

    rt = runtime(db_url, box.url)
    open_cases(rt, 1)
    due = T0 + timedelta(hours=1)
    lease = timedelta(minutes=5)
    with rt.uow() as uow:  # worker A claims the step, then hangs past its lease
        [step_id] = uow.steps.claim(now=due, lease_until=due + lease, limit=10, token="A")
        uow.commit()
    later = due + timedelta(minutes=6)
    stats = delivery.DeliveryStats()
    delivery.release_expired(uow=rt.uow(), now=later, stats=stats)
    assert stats.released == 1
    with rt.uow() as uow:  # worker B claims it in turn
        assert list(uow.steps.claim(now=later, lease_until=later + lease, limit=10, token="B")) == [
            step_id
        ]
        uow.commit()
    senders = rt.senders()
    try:
        # Worker A wakes up: the step is B's claim now, so A does nothing with it …
        a = delivery._prepare(
            rt.uow(), senders, rt.renderer, rt.links(), [step_id], "A", later, later + lease, stats
        )
        assert a == []
        # … and B prepares and sends it, once.
        [b] = delivery._prepare(
            rt.uow(), senders, rt.renderer, rt.links(), [step_id], "B", later, later + lease, stats
        )
        delivery._record(rt.uow(), [(b, _send(senders, b, later))], {}, later, stats)
    finally:
        senders.close()
    assert stats.sent == 1 and len(box.received) == 1
    rt.close()


def test_a_payment_while_its_message_is_queued_calls_the_message_back(
    db_url: str, box: Mailbox
) -> None:
    """Two customers' messages are queued (rendered, not yet handed to the channel); one
    customer pays before the sender reaches hers: her message is called back, never sent,
    and her step is cancelled; the other goes out."""
    from reclaim.services import ingest
    from reclaim.services import steps as delivery

    rt = runtime(db_url, box.url)
    store = open_cases(rt, 2)
    c = client(rt)
    due = T0 + timedelta(hours=1)
    lease = timedelta(minutes=5)
    ids = claim(rt, due, lease, "A")
    stats = delivery.DeliveryStats()
    senders = rt.senders()
    try:
        queued = delivery._prepare(
            rt.uow(), senders, rt.renderer, rt.links(), ids, "A", due, due + lease, stats
        )
        assert set(message_status(rt).values()) == {"queued"}
        with rt.uow() as uow:
            payer = uow.cases.get(
                uow.steps.get_many([queued[1].step_id])[queued[1].step_id].case_id
            )
            assert payer is not None
            checkout = payer.checkout_external_id
        paid = order_event(
            "order.paid", due, order_id="o-1", email=payer.email, checkout_id=checkout
        )
        assert post_events(c, store.api_key, paid).status_code == 202
        done = ingest.process_inbox(uow=rt.uow(), connectors=rt.connectors, now=due, batch=10)
        assert done.processed == 1
        assert message_status(rt)[queued[1].message_id] == "cancelled"
        outcomes = delivery._send_group(rt.uow(), senders, None, queued, {}, due, budget=60)
        delivery._record(rt.uow(), outcomes, {}, due, stats)
    finally:
        senders.close()
    assert [o for _, o in outcomes][1] is None
    assert sent_ids(box) == Counter({queued[0].message_id: 1})
    with rt.uow() as uow:
        got = uow.steps.get_many([p.step_id for p in queued])
        assert [(got[p.step_id].status, got[p.step_id].outcome) for p in queued] == [
            ("sent", "sent"),
            ("cancelled", "called_back"),
        ]
        case = uow.cases.get(got[queued[1].step_id].case_id)
        assert case is not None and case.status == "recovered"
    assert stats.sent == 1 and stats.cancelled == 1
    rt.close()


def test_a_group_cut_short_resends_only_what_was_never_handed_over(
    db_url: str, box: Mailbox
) -> None:
    """A worker dies while sending a group of three: the first message went out and its
    hand-over says so, the second was on the wire, the third was never handed over. The
    sweep settles the first as sent, the second as possibly sent, and puts the third back:
    the next run sends the third, and only the third."""
    from reclaim.services import steps as delivery
    from reclaim.services.ports import SentMark
    from reclaim.services.steps.send import _send

    rt = runtime(db_url, box.url)
    open_cases(rt, 3)
    due = T0 + timedelta(hours=1)
    lease = timedelta(minutes=5)
    ids = claim(rt, due, lease, "A")
    stats = delivery.DeliveryStats()
    senders = rt.senders()
    try:
        first, second, third = delivery._prepare(
            rt.uow(), senders, rt.renderer, rt.links(), ids, "A", due, due + lease, stats
        )
        with rt.uow() as uow:
            assert {
                m.status for m in uow.messages.get_many(ids_of(first, second, third)).values()
            } == {"queued"}
            assert uow.messages.hand_over(first.message_id)
            uow.commit()
        result = _send(senders, first, due)
        with rt.uow() as uow:
            mark = SentMark(first.message_id, due, "q-first", None)
            assert uow.messages.hand_over(second.message_id, sent=mark, subject=second.subject)
            uow.commit()
        _send(senders, second, due)  # … and the worker dies here
    finally:
        senders.close()
    assert result is not None
    with rt.uow() as uow:
        got = uow.messages.get_many(ids_of(first, second, third))
        assert got[first.message_id].status == "sent"
        assert got[first.message_id].sent_at == due  # written as the ORM writes it
        assert got[first.message_id].provider_id == "q-first"
        assert [got[p.message_id].status for p in (second, third)] == ["sending", "queued"]
        assert second.subject and got[second.message_id].subject == second.subject
        assert got[third.message_id].subject is None  # never handed over
    later = due + lease + timedelta(minutes=1)
    swept = delivery.DeliveryStats()
    delivery.release_expired(uow=rt.uow(), now=later, stats=swept)
    assert (swept.sent, swept.possibly_sent, swept.released) == (1, 1, 1)
    assert dict(step_statuses(rt)) == {"sent": 1, "possibly_sent": 1, "scheduled": 1}
    run_once(rt, later)
    assert dict(step_statuses(rt)) == {"sent": 2, "possibly_sent": 1}
    assert sent_ids(box) == Counter(
        {first.message_id: 1, second.message_id: 1, third.message_id: 1}
    )
    rt.close()


def ids_of(*prepared: _Prepared) -> list[int]:
    return [p.message_id for p in prepared]


def test_a_long_run_leases_from_the_time_it_has_been_running(
    db_url: str, box: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's ``now`` is its start; a run that goes on for minutes (a burst) must lease its
    later claims from the time it has reached, or another worker's sweep would find them
    expired while they are being sent."""
    from reclaim.adapters.db.repos.steps import SqlSteps
    from reclaim.services import steps as delivery

    rt = runtime(db_url, box.url)
    open_cases(rt, 3)
    ticks = iter(range(0, 10_000, 7))  # each look at the clock: 7 s later
    monkeypatch.setattr(delivery, "monotonic", lambda: float(next(ticks)))
    leases: list[datetime] = []
    claim = SqlSteps.claim

    def spy(self: SqlSteps, **kw: object) -> object:
        leases.append(kw["lease_until"])  # type: ignore[arg-type]
        got = claim(self, **kw)  # type: ignore[arg-type]
        return got

    monkeypatch.setattr(SqlSteps, "claim", spy)
    due = T0 + timedelta(hours=1)
    senders = rt.senders()
    try:
        stats = delivery.run_due_steps(
            uow=rt.uow(), senders=senders, renderer=rt.renderer, links=rt.links(), now=due, batch=1
        )
    finally:
        senders.close()
    assert stats.sent == 3
    assert len(leases) == 4  # three batches of one, then the empty claim
    assert leases[0] >= due + delivery.LEASE
    assert all(b - a >= timedelta(seconds=7) for a, b in itertools.pairwise(leases))
    rt.close()
