"""A hand-built month of a store's history for the report tests (issue 15): cases, facts,
coupons, messages and reasons written straight through the repositories, so every figure of
the report can be worked out by hand (tests/integration/test_reports.py does).

The store sells in EUR from Paris with a rate for USD and none for GBP. November 2026 holds:

* abandoned checkouts, on the flow: c1 recovered by a message (100 EUR, 2 h), c2 recovered
  9 days after opening (its message's window had passed: organic, 50 EUR), c3 recovered by a
  message and refunded since (80 EUR: recovered, not revenue), c4 recovered by a message in
  USD (200 → 180 EUR, 1 h), c5–c10 not recovered; held out: h1 recovered on its own (60 EUR,
  24 h), h2–h5 not;
* pending orders on the flow: p1 recovered by a message in GBP (70, no rate: apart, 3 h), p2
  not;
* failed payments on the flow: f1 at 00:30 on 1 November in Paris (still 31 October in UTC)
  and f2 at 23:30 on 30 November in Paris, neither recovered; f3 at 00:30 on 1 December in
  Paris (still 30 November in UTC) belongs to December;
* a shipment exception (not a sales case), and another store's case: never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from reclaim.bootstrap import Runtime
from reclaim.domain.cases import Case, CaseReason
from reclaim.domain.events import Contact
from reclaim.domain.facts import Checkout, Order, WatchState
from reclaim.domain.shipments import Shipment
from reclaim.domain.steps import Coupon, MessageRecord
from reclaim.domain.stores import StoreSettings
from reclaim.services.stores import add_store

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOV = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)  # most cases open here
FLOW = 7


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str = "abandoned_checkout"
    holdout: bool = False
    recovered_after: timedelta | None = None
    value: str = "0"
    currency: str = "EUR"
    attribution: str = "message"
    order: str | None = None
    at: datetime = NOV


H = timedelta(hours=1)
SPECS = [
    Spec("c1", recovered_after=2 * H, value="100", order="o1"),
    Spec("c2", recovered_after=9 * 24 * H, value="50", attribution="organic"),
    Spec("c3", recovered_after=5 * H, value="80", order="o3"),
    Spec("c4", recovered_after=1 * H, value="200", currency="USD"),
    *(Spec(f"c{i}") for i in range(5, 11)),
    Spec("h1", holdout=True, recovered_after=24 * H, value="60", attribution="organic"),
    *(Spec(f"h{i}", holdout=True) for i in range(2, 6)),
    Spec("p1", kind="pending_order", recovered_after=3 * H, value="70", currency="GBP"),
    Spec("p2", kind="pending_order"),
    Spec("f1", kind="failed_payment", at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC)),
    Spec("f2", kind="failed_payment", at=datetime(2026, 11, 30, 22, 30, tzinfo=UTC)),
    Spec("f3", kind="failed_payment", at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)),
    Spec("s1", kind="shipment_exception"),
]


def _case(store_id: str, s: Spec) -> Case:
    case = Case(
        store_id=store_id,
        kind=s.kind,
        subject_id=s.name,
        customer_key=f"{s.name}@example.com",
        email=f"{s.name}@example.com",
        phone=None,
        contact=Contact(email=f"{s.name}@example.com", country="FR"),
        value=Decimal(s.value),
        currency=s.currency,
        items=(),
        reason="test",
        occurred_at=s.at - timedelta(minutes=30),
        created_at=s.at,
        flow_id=FLOW,
        holdout=s.holdout,
        flow_state="holdout" if s.holdout else "running",
        country="FR",
        device="mobile" if s.name.startswith("c") else "desktop",
    )
    if s.recovered_after is not None:
        case.recover(
            at=s.at + s.recovered_after,
            order_external_id=s.order,
            value=Decimal(s.value),
            how="order_paid",
        )
        case.attribution = s.attribution
    return case


def _order(store_id: str, external_id: str, status: str, *, paid: bool) -> Order:
    return Order(
        store_id=store_id,
        external_id=external_id,
        customer_key="x@example.com",
        email="x@example.com",
        phone=None,
        contact=Contact(email="x@example.com"),
        currency="EUR",
        total=Decimal(100),
        items=(),
        created_at=NOV,
        updated_at=NOV,
        version_tag="0",
        financial_status=status,
        paid_at=NOV + H if paid else None,
        watch=WatchState.DONE,
    )


def _checkout(store_id: str, external_id: str, *, key: str | None, test: bool = False) -> Checkout:
    return Checkout(
        store_id=store_id,
        external_id=external_id,
        customer_key=key,
        email=key,
        phone=None,
        contact=Contact(email=key),
        currency="EUR",
        total=Decimal(10),
        items=(),
        created_at=NOV,
        updated_at=NOV,
        version_tag="0",
        is_test=test,
        state="completed",
    )


def _shipment(store_id: str, external_id: str, order: str, *, delivered: bool) -> Shipment:
    return Shipment(
        store_id=store_id,
        external_id=external_id,
        order_external_id=order,
        status="delivered" if delivered else "in_transit",
        first_event_at=NOV,
        last_event_at=NOV,
        version_tag="0",
        delivered_at=NOV + 48 * H if delivered else None,
    )


def make_store(rt: Runtime, name: str, **settings: Any) -> str:
    return add_store(
        uow=rt.uow(),
        name=name,
        platform="custom",
        currency="EUR",
        timezone="Europe/Paris",
        domain="shop.example",
        webhook_secret="",
        settings=StoreSettings(**settings),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    ).id


def build_history(rt: Runtime) -> str:
    store_id = make_store(rt, "Boutique", fx_rates={"USD": Decimal("0.9")})
    other = make_store(rt, "Elsewhere")
    uow = rt.uow()
    with uow:
        ids: dict[str, int] = {}
        for spec in SPECS:
            case = _case(store_id, spec)
            uow.cases.add(case)
            assert case.id is not None
            ids[spec.name] = case.id
        uow.cases.add(_case(other, Spec("c1", recovered_after=H, value="999")))
        for external_id, status, paid in (
            ("o1", "paid", True),
            ("o3", "refunded", True),
            ("o5", "pending", False),
        ):
            uow.facts.add(_order(store_id, external_id, status, paid=paid))
        for external_id, key, test in (
            ("k1", "a@example.com", False),
            ("k2", "b@example.com", False),
            ("k3", None, False),
            ("k4", "qa@example.com", True),
        ):
            uow.facts.add(_checkout(store_id, external_id, key=key, test=test))
        uow.facts.add(_shipment(store_id, "s-o1", "o1", delivered=True))
        uow.facts.add(_shipment(store_id, "s-o3", "o3", delivered=False))
        uow.facts.flush()
        for name, code, discount, redeemed in (
            ("c1", "AAAA-1111", Decimal(10), True),
            ("c4", "BBBB-2222", None, True),
            ("c5", "CCCC-3333", Decimal(5), False),
        ):
            uow.coupons.add(
                Coupon(
                    store_id=store_id,
                    case_id=ids[name],
                    code=code,
                    kind="fixed",
                    value=Decimal(10),
                    currency="EUR",
                    expires_at=NOW,
                    created_at=NOV,
                    discount=discount,
                )
            )
            if redeemed:  # as resolution.redeem_coupons marks it
                found = uow.coupons.by_code(store_id, code)
                assert found is not None
                found.redeemed_at = NOV + H
        for n, name in enumerate(("c1", "c2", "c3", "c4", "c5"), start=1):
            uow.messages.add(
                MessageRecord(
                    store_id=store_id,
                    case_id=ids[name],
                    step_id=1000 + n,
                    customer_key=None,
                    channel="email",
                    purpose="marketing",
                    template="t",
                    locale="en",
                    recipient=f"{name}@example.com",
                    created_at=NOV,
                    sent_at=None if name == "c5" else NOV + H,
                )
            )
        uow.cases.add_reasons(
            [
                CaseReason(ids[n], store_id, reason, source, NOV, None)
                for n, reason, source in (
                    ("c1", "extra_costs", "inferred"),
                    ("c1", "stock_unclear", "inferred"),
                    ("c2", "extra_costs", "inferred"),
                    ("c5", "extra_costs", "inferred"),
                    ("c1", "extra_costs", "customer"),
                    ("c6", "trust", "customer"),
                    ("f3", "payment_declined", "inferred"),  # December's
                )
            ]
        )
        uow.commit()
    return store_id
