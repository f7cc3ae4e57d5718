"""Retention of the facts (issue 16) on SQLite and PostgreSQL: checkouts, orders (with their
shipments and scans) and payment attempts go once past their window, unless an open case
names them or something still waits on them (a checkout or order still watched, an active
hold, a pending call to the platform, a shipment scanned inside the window); the fakes
delete what SQL deletes; ``reclaim prune`` shows them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import select

from fakes import FakeUnitOfWork
from helpers import make_store
from reclaim.adapters.db.tables import (
    checkouts,
    orders,
    payment_attempts,
    shipment_scans,
    shipments,
)
from reclaim.bootstrap import Runtime
from reclaim.domain.cases import Case, CaseStatus
from reclaim.domain.events import Contact
from reclaim.domain.facts import Checkout, Order, PaymentAttempt
from reclaim.domain.holds import Hold
from reclaim.domain.shipments import Shipment
from reclaim.entrypoints.cli import main
from reclaim.services.ports import UnitOfWork
from reclaim.services.retention import prune
from reclaim.services.stores import update_settings
from service_builders import open_store

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
WINDOW = 730 * DAY  # the default of all three kinds
FACTS = ("checkouts", "orders", "payments")

# What becomes of each fact, by its external id: "gone" or "kept".
CHECKOUTS = {"co_old": "gone", "co_new": "kept", "co_active": "kept", "co_open": "kept"}
ORDERS = {
    "o_old": "gone",
    "o_new": "kept",
    "o_watched": "kept",
    "o_open": "kept",
    "o_held": "kept",
    "o_calling": "kept",
    "o_moving": "kept",
}
PAYMENTS = {"pay_old": "gone", "pay_new": "kept", "pay_watched": "kept", "pay_open": "kept"}


def _checkout(store_id: str, ext: str, at: datetime, state: str) -> Checkout:
    return Checkout(
        store_id=store_id,
        external_id=ext,
        customer_key="ana@example.com",
        email="ana@example.com",
        phone=None,
        contact=Contact(email="ana@example.com"),
        currency="EUR",
        total=Decimal("40.00"),
        items=(),
        created_at=at - DAY,
        updated_at=at,
        version_tag="v1",
        state=state,
    )


def _order(store_id: str, ext: str, at: datetime, watch: str) -> Order:
    return Order(
        store_id=store_id,
        external_id=ext,
        customer_key="ana@example.com",
        email="ana@example.com",
        phone=None,
        contact=Contact(email="ana@example.com"),
        currency="EUR",
        total=Decimal("40.00"),
        items=(),
        created_at=at - DAY,
        updated_at=at,
        version_tag="v1",
        financial_status="paid",
        watch=watch,
    )


def _payment(store_id: str, ext: str, at: datetime, watch: str) -> PaymentAttempt:
    return PaymentAttempt(
        store_id=store_id,
        external_id=ext,
        intent_id=f"pi_{ext}",
        customer_key="ana@example.com",
        email="ana@example.com",
        contact=Contact(email="ana@example.com"),
        amount=Decimal("40.00"),
        currency="EUR",
        succeeded=False,
        occurred_at=at,
        decline_code="insufficient_funds",
        watch=watch,
    )


def _case(store_id: str, now: datetime, *, status: CaseStatus, **names: str) -> Case:
    return Case(
        store_id=store_id,
        kind="failed_payment",
        subject_id=names.pop("subject_id"),
        customer_key="ana@example.com",
        email="ana@example.com",
        phone=None,
        contact=Contact(email="ana@example.com"),
        value=Decimal("40.00"),
        currency="EUR",
        items=(),
        reason="payment_failed",
        occurred_at=now - 800 * DAY,
        created_at=now - 800 * DAY,
        status=status,
        closed_at=None if status == CaseStatus.OPEN else now - 10 * DAY,
        **names,  # type: ignore[arg-type]
    )


def seed(
    new_uow: Callable[[], UnitOfWork], store_id: str, now: datetime, margin: timedelta = SECOND
) -> None:
    """Each fact of CHECKOUTS, ORDERS and PAYMENTS, ``margin`` either side of the window."""
    old, new = now - WINDOW - margin, now - WINDOW + margin
    with new_uow() as uow:
        for ext, at, state in (
            ("co_old", old, "abandoned"),
            ("co_new", new, "abandoned"),
            ("co_active", old, "active"),  # still watched: becomes a case when due
            ("co_open", old, "abandoned"),
        ):
            uow.facts.add(_checkout(store_id, ext, at, state))
        for ext, at, watch in (
            ("o_old", old, "done"),
            ("o_new", new, "done"),
            ("o_watched", old, "watching"),  # a pending order not yet judged
            ("o_open", old, "detected"),
            ("o_held", old, "done"),
            ("o_calling", old, "done"),
            ("o_moving", old, "done"),
        ):
            uow.facts.add(_order(store_id, ext, at, watch))
        for ext, at, watch in (
            ("pay_old", old, "done"),
            ("pay_new", new, "done"),
            ("pay_watched", old, "watching"),
            ("pay_open", old, "detected"),
        ):
            uow.facts.add(_payment(store_id, ext, at, watch))
        # an old parcel of o_old (goes with it) and a parcel of o_moving scanned lately
        for ext, order, at in (("sh_old", "o_old", old), ("sh_moving", "o_moving", new)):
            uow.facts.add(
                Shipment(store_id, ext, order, "in_transit", old, at, "v1", tracking_number=ext)
            )
            uow.logistics.add_scan(
                store_id, ext, status="in_transit", location="Lyon", occurred_at=at
            )
        uow.stock.add_hold(Hold(store_id, "o_held", "active", created_at=old, expires_at=now + DAY))
        uow.platform_actions.add(
            store_id=store_id, action="cancel_order", order_external_id="o_calling", now=old
        )
        # an open case names co_open (its checkout), o_open (its order), pay_open (its
        # subject); a closed one names the old ones, which does not keep them
        uow.cases.add(
            _case(
                store_id,
                now,
                status=CaseStatus.OPEN,
                subject_id="pi_pay_open",
                checkout_external_id="co_open",
                order_external_id="o_open",
            )
        )
        uow.cases.add(
            _case(
                store_id,
                now,
                status=CaseStatus.LOST,
                subject_id="pi_pay_old",
                checkout_external_id="co_old",
                order_external_id="o_old",
            )
        )
        uow.commit()


def external_ids(rt: Runtime, table: object, store_id: str) -> set[str]:
    with rt.uow() as uow:
        q = select(table.c.external_id).where(table.c.store_id == store_id)  # type: ignore[attr-defined]
        return set(uow.execute(q).scalars())  # type: ignore[attr-defined]


def kept(fates: dict[str, str]) -> set[str]:
    return {ext for ext, fate in fates.items() if fate == "kept"}


def test_facts_past_their_window_go_unless_something_open_needs_them(rt: Runtime) -> None:
    now = rt.clock()
    a, b = make_store(rt, "A").id, make_store(rt, "B").id
    seed(rt.uow, a, now)
    seed(rt.uow, b, now)

    dry = prune(uow=rt.uow(), now=now, store_id=a, dry_run=True)[0]
    assert {k: dry.counts[k] for k in FACTS} == {"checkouts": 1, "orders": 1, "payments": 1}
    assert external_ids(rt, orders, a) == set(ORDERS)  # a dry run deletes nothing

    done = prune(uow=rt.uow(), now=now, store_id=a, batch=1)[0]

    assert {k: done.counts[k] for k in FACTS} == {"checkouts": 1, "orders": 1, "payments": 1}
    assert external_ids(rt, checkouts, a) == kept(CHECKOUTS)
    assert external_ids(rt, orders, a) == kept(ORDERS)
    assert external_ids(rt, payment_attempts, a) == kept(PAYMENTS)
    # the old order's parcel and its scan went with it; the moving one stays
    assert external_ids(rt, shipments, a) == {"sh_moving"}
    with rt.uow() as uow:
        scans = uow.execute(  # type: ignore[attr-defined]
            select(shipment_scans.c.shipment_external_id).where(shipment_scans.c.store_id == a)
        )
        assert set(scans.scalars()) == {"sh_moving"}
    # the other store keeps everything
    assert external_ids(rt, orders, b) == set(ORDERS)
    assert external_ids(rt, shipments, b) == {"sh_old", "sh_moving"}


def test_a_stores_own_fact_windows(rt: Runtime) -> None:
    now = rt.clock()
    a = make_store(rt, "A").id
    seed(rt.uow, a, now)
    update_settings(
        uow=rt.uow(),
        store_id=a,
        changes={"keep_orders": 1000 * DAY, "keep_checkouts": 30 * DAY},
    )
    dry = prune(uow=rt.uow(), now=now, store_id=a, dry_run=True)[0]
    # a 30-day window takes co_new too; a 1,000-day one keeps o_old
    assert {k: dry.counts[k] for k in FACTS} == {"checkouts": 2, "orders": 0, "payments": 1}
    assert dry.cutoffs["orders"] == now - 1000 * DAY


def test_the_fakes_prune_facts_as_sql_does(rt: Runtime) -> None:
    now = rt.clock()
    fake = FakeUnitOfWork()
    fake_store = open_store(fake, store_id="st_fake00000001")
    seed(lambda: fake, fake_store, now)
    real_store = make_store(rt, "A").id
    seed(rt.uow, real_store, now)
    for dry_run in (True, False):
        on_fake = prune(uow=fake, now=now, store_id=fake_store, dry_run=dry_run)
        on_sql = prune(uow=rt.uow(), now=now, store_id=real_store, dry_run=dry_run)
        assert [p.counts for p in on_fake] == [p.counts for p in on_sql]
    with fake:
        t = fake.tables
        left = {
            "checkouts": {c.external_id for c in t.checkouts.values()},
            "orders": {o.external_id for o in t.orders.values()},
            "payments": {p.external_id for p in t.payments.values()},
            "shipments": {s.external_id for s in t.shipments.values()},
            "scans": {s.shipment_external_id for s in t.scans.values()},
        }
    assert left == {
        "checkouts": kept(CHECKOUTS),
        "orders": kept(ORDERS),
        "payments": kept(PAYMENTS),
        "shipments": {"sh_moving"},
        "scans": {"sh_moving"},
    }


def test_reclaim_prune_shows_the_facts(rt: Runtime) -> None:
    now = datetime.now(UTC)  # the command runs on the wall clock, some time after this
    a = make_store(rt, "A").id
    seed(rt.uow, a, now, margin=timedelta(minutes=30))
    env = {"RECLAIM_DATABASE_URL": rt.settings.database_url}
    dry = CliRunner().invoke(main, ["prune", "--store", a, "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    [row] = json.loads(dry.output)
    assert {k: row["would_delete"][k] for k in FACTS} == dict.fromkeys(FACTS, 1)
    assert set(row["before"]) >= set(FACTS)
    table = CliRunner().invoke(main, ["prune", "--store", a], env=env)
    assert table.exit_code == 0, table.output
    assert all(name in table.output for name in FACTS), table.output
    assert external_ids(rt, payment_attempts, a) == kept(PAYMENTS)
    setting = CliRunner().invoke(main, ["store", "set", a, "--keep-orders", "10"], env=env)
    assert setting.exit_code == 2 and "30" in setting.output  # below the window's minimum


def test_deliveries_rewritten_by_an_erasure_go_with_the_other_raw_deliveries(rt: Runtime) -> None:
    """An ``erased`` inbox row (its body rewritten without the person) is a raw delivery
    like any other: kept its window (a replay may still need what is left of it), then
    deleted. The fake agrees."""
    now = rt.clock()
    fake = FakeUnitOfWork()
    stores = [(rt.uow, make_store(rt, "A").id), (lambda: fake, open_store(fake))]
    for new_uow, store_id in stores:
        with new_uow() as uow:
            for n, (at, status) in enumerate(
                [(now - 30 * DAY - SECOND, "erased"), (now - 30 * DAY + SECOND, "erased")]
            ):
                uow.inbox.add(
                    store_id=store_id,
                    source="custom",
                    topic="checkout.updated",
                    event_id=f"ev-{n}",
                    digest=f"erased-{n}".ljust(64, "0"),
                    headers={},
                    body=b'{"email": "erased"}',
                    received_at=at,
                    status=status,
                    error=None,
                )
            uow.commit()
        [done] = prune(uow=new_uow(), now=now, store_id=store_id)
        assert done.counts["deliveries"] == 1
        with new_uow() as uow:
            left = uow.inbox.list(store_id=store_id, statuses=["erased"], limit=10)
            assert [d.received_at for d in left] == [now - 30 * DAY + SECOND]


def test_a_fact_is_aged_from_when_reclaim_stored_it_not_from_the_platforms_times(
    rt: Runtime,
) -> None:
    """An order whose platform times are years old (a deleted order's mark has none at all)
    is kept for the whole window after Reclaim received it; the platform's times count only
    for rows written before Reclaim kept the time (``stored_at`` NULL)."""
    now = rt.clock()
    a = make_store(rt, "A").id
    fake = FakeUnitOfWork()
    open_store(fake, "A", store_id=a)

    def orders_() -> list[Order]:
        ancient = now - 5 * WINDOW
        received_today = _order(a, "o_received_today", ancient, "done")
        received_today.stored_at = now - DAY
        received_long_ago = _order(a, "o_received_long_ago", now, "done")
        received_long_ago.stored_at = now - WINDOW - DAY
        no_stored_time = _order(a, "o_no_stored_time", ancient, "done")  # updated_at counts
        return [received_today, received_long_ago, no_stored_time]

    for uow_of in (rt.uow, fake.db.uow):
        with uow_of() as uow:
            for o in orders_():
                uow.facts.add(o)
            uow.commit()
        done = prune(uow=uow_of(), now=now, store_id=a)[0]
        assert done.counts["orders"] == 2, uow_of
    assert external_ids(rt, orders, a) == {"o_received_today"}
    with fake.db.uow() as uow:
        assert uow.facts.order(a, "o_received_today", lock=False) is not None
        assert uow.facts.order(a, "o_received_long_ago", lock=False) is None
