"""A worker's claim takes at most its batch, on both databases: steps, inbox deliveries and
platform actions. (On PostgreSQL ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
LOCKED)`` may take more than ``n`` rows: a claim of 1 took 3.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpers import make_store
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.steps import ScheduledStep

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def runtime(db_url: str) -> Runtime:
    rt = bootstrap(Settings(database_url=db_url), clock=lambda: NOW)
    init_database(rt)
    return rt


def test_each_claim_takes_at_most_its_batch(db_url: str) -> None:
    rt = runtime(db_url)
    store = make_store(rt).id
    with rt.uow() as uow:
        for i in range(12):
            uow.inbox.add(
                store_id=store,
                source="api",
                topic="checkout.updated",
                event_id=f"e{i}",
                digest=f"{i:064x}",
                headers={},
                body=b"{}",
                received_at=NOW,
                status="received",
                error=None,
            )
            uow.platform_actions.add(
                store_id=store, action="cancel_order", order_external_id=f"o{i}", now=NOW
            )
        uow.commit()
    lease = NOW + timedelta(minutes=5)
    with rt.uow() as uow:
        inbox = [uow.inbox.claim(now=NOW, lease_until=lease, limit=k) for k in (1, 5, 100)]
        actions = [
            uow.platform_actions.claim(now=NOW, lease_until=lease, limit=k) for k in (1, 5, 100)
        ]
        uow.commit()
    assert [len(c) for c in inbox] == [1, 5, 6]
    assert sorted(i for c in inbox for i in c) == list(range(1, 13))
    assert [len(c) for c in actions] == [1, 5, 6]
    rt.close()


def test_each_step_claim_takes_at_most_its_batch(db_url: str) -> None:
    from helpers import checkout_event, client, post_events
    from reclaim.entrypoints.worker import run_once

    rt = runtime(db_url)
    new = make_store(rt)
    events = [
        checkout_event(NOW, checkout_id=f"c{i}", email=f"b{i}@example.de", accepts_marketing=True)
        for i in range(12)
    ]
    assert post_events(client(rt), new.api_key, events).status_code == 202
    run_once(rt, NOW + timedelta(minutes=31))  # the cases open, their first steps scheduled
    due = NOW + timedelta(hours=2)
    with rt.uow() as uow:
        claims = [
            uow.steps.claim(now=due, lease_until=due + timedelta(minutes=5), limit=k, token="t")
            for k in (1, 5, 100)
        ]
        uow.commit()
        assert all(isinstance(s, ScheduledStep) for s in uow.steps.get_many(claims[1]).values())
    assert [len(c) for c in claims] == [1, 5, 6]
    rt.close()
