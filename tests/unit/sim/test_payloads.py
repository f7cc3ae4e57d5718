"""Every payload the simulator sends is one Reclaim's connectors accept and read as meant.

Each delivery of a plan is verified (signature made as the platform makes it) and parsed by
Reclaim's own connector for its platform; the facts it yields must say what the simulator's
snapshots say: same ids, contact, money, times, status, links and test markers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from reclaim.adapters.platforms import connector_for
from reclaim.adapters.platforms.generic import split_batch
from reclaim.domain.events import (
    CheckoutObserved,
    FinancialStatus,
    OrderObserved,
    PaymentObserved,
)
from reclaim.errors import SignatureError
from reclaim.sim import SimConfig, build_plan
from reclaim.sim.consent import country_told
from reclaim.sim.driver import webhook_secret
from reclaim.sim.model import CheckoutSnap, Delivery, OrderSnap, PaymentSnap
from reclaim.sim.payloads import sign
from reclaim.sim.world import STORE

SEED = 5
STATUS = {
    "pending": FinancialStatus.PENDING,
    "failed": FinancialStatus.FAILED,
    "paid": FinancialStatus.PAID,
    "cancelled": FinancialStatus.PENDING,
}


@pytest.fixture(scope="module")
def plan() -> object:
    return build_plan(SimConfig(customers=250, seed=SEED))


def parse(d: Delivery) -> tuple[object, ...]:
    platform = STORE[d.store].platform
    source = "generic" if platform == "custom" else platform
    connector = connector_for(source)
    if platform == "custom":
        bodies = split_batch(d.body)
        assert len(bodies) == d.events
        return tuple(
            f for b in bodies for f in connector.parse(topic="", headers=d.headers, body=b).facts
        )
    headers = sign(platform, d.headers, d.body, webhook_secret(SEED, d.store), d.at)
    connector.verify(headers=headers, body=d.body, secret=webhook_secret(SEED, d.store), now=d.at)
    return connector.parse(topic=connector.topic(headers), headers=headers, body=d.body).facts


def check_checkout(snap: CheckoutSnap, fact: object) -> None:
    assert isinstance(fact, CheckoutObserved)
    assert fact.external_id == snap.checkout_id
    assert fact.contact.email == (snap.actor.email if snap.contact else None)
    assert fact.currency == snap.cart.currency
    assert fact.updated_at == snap.updated_at
    assert fact.created_at == snap.created_at
    assert (fact.completed_at is not None or fact.order_external_id is not None) == (
        snap.completed_at is not None and snap.store != "woocommerce"
    )
    assert fact.expired_at == snap.expired_at
    if snap.contact:  # the simulator's consent model knows when Reclaim is told the country
        told = country_told(STORE[snap.store].platform, snap.stage)
        assert (fact.contact.country is not None) == told, (snap.store, snap.stage)
    if snap.store != "stripe":
        assert {i.sku for i in fact.items} == snap.cart.skus
        assert fact.user_agent == snap.actor.user_agent
        assert fact.total == snap.total
    assert fact.is_test == snap.test_flag


def check_order(snap: OrderSnap, fact: object) -> None:
    assert isinstance(fact, OrderObserved)
    assert fact.external_id == snap.order_id
    assert fact.financial_status == STATUS[snap.status]
    assert fact.contact.email == snap.actor.email
    assert (fact.currency, fact.total) == (snap.cart.currency, snap.cart.total)
    assert fact.checkout_external_id == snap.checkout_id
    assert fact.created_at == snap.created_at
    assert fact.updated_at == snap.updated_at
    if snap.status == "paid":
        assert fact.paid_at is not None and fact.paid_at - snap.paid_at <= timedelta(seconds=3)  # type: ignore[operator]
    assert fact.cancelled_at == snap.cancelled_at
    assert fact.user_agent == snap.actor.user_agent
    assert {i.sku for i in fact.items} == snap.cart.skus
    assert fact.is_test == snap.test_flag


def check_payment(snap: PaymentSnap, fact: object) -> None:
    assert isinstance(fact, PaymentObserved)
    assert fact.intent_id == snap.intent_id
    if snap.store == "custom":  # the connector may qualify the site's own payment id
        assert fact.external_id.split(":")[0] == snap.attempt_id
    else:
        assert fact.external_id == snap.attempt_id
    assert fact.succeeded == snap.succeeded
    assert fact.occurred_at == snap.occurred_at
    assert fact.order_external_id == snap.order_id
    assert fact.checkout_external_id == snap.checkout_id
    assert (fact.amount, fact.currency) == (snap.amount, snap.currency)
    assert fact.contact.email == snap.actor.email
    if snap.store != "woocommerce":
        assert fact.decline_code == snap.decline_code
        assert fact.failure_code == snap.error_code
    assert fact.is_test == snap.test_flag


def test_every_delivery_parses_into_the_facts_it_was_made_from(plan: object) -> None:
    checked = {CheckoutSnap: 0, OrderSnap: 0, PaymentSnap: 0}
    for d in plan.deliveries:  # type: ignore[attr-defined]
        if d.role in ("rejected", "ping"):
            continue
        facts = parse(d)
        assert len(facts) == len(d.facts), (d.store, d.topic)
        for snap, fact in zip(d.facts, facts, strict=True):
            {CheckoutSnap: check_checkout, OrderSnap: check_order, PaymentSnap: check_payment}[
                type(snap)
            ](snap, fact)  # type: ignore[operator]
            checked[type(snap)] += 1
    assert all(n > 20 for n in checked.values()), checked


def test_deliberately_bad_deliveries_are_refused(plan: object) -> None:
    bad = [d for d in plan.deliveries if d.role == "rejected"]  # type: ignore[attr-defined]
    assert sorted(d.store for d in bad) == ["custom", "shopify", "stripe", "woocommerce"]
    for d in bad:
        platform = STORE[d.store].platform
        if platform == "custom":
            [raw] = split_batch(d.body)
            with pytest.raises(Exception, match="currency"):
                connector_for("generic").parse(topic="", headers=d.headers, body=raw)
            continue
        assert d.wrong_secret
        headers = sign(platform, d.headers, d.body, "whsec_rotated_out_0000", d.at)
        with pytest.raises(SignatureError):
            connector_for(platform).verify(
                headers=headers, body=d.body, secret=webhook_secret(SEED, d.store), now=d.at
            )


def test_stripe_signatures_are_made_at_send_time(plan: object) -> None:
    d = next(d for d in plan.deliveries if d.store == "stripe" and d.facts)  # type: ignore[attr-defined]
    secret = webhook_secret(SEED, "stripe")
    connector = connector_for("stripe")
    late = d.at + timedelta(minutes=10)
    connector.verify(
        headers=sign("stripe", d.headers, d.body, secret, late),
        body=d.body,
        secret=secret,
        now=late,
    )
    with pytest.raises(SignatureError, match="tolerance"):
        connector.verify(
            headers=sign("stripe", d.headers, d.body, secret, d.at),
            body=d.body,
            secret=secret,
            now=late,
        )
