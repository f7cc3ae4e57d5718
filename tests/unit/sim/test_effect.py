"""The causal model: potential outcomes fixed up front, and the interval the lift is shown with."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reclaim.adapters.platforms import connector_for
from reclaim.domain.messages import Channel, Purpose
from reclaim.domain.policy.consent import consent_decision
from reclaim.domain.stats import measure, newcombe, wilson
from reclaim.sim import behaviour as bh
from reclaim.sim.consent import country_told, may_market, stated_consent
from reclaim.sim.effect import (
    MARGIN,
    Potential,
    next_tick,
    out_of_quiet_hours,
    potential_outcomes,
    true_effect,
    unit,
    unsubscriber,
)
from reclaim.sim.model import Cart, Line
from reclaim.sim.payloads import dumps
from reclaim.sim.people import Actor, make_customer
from reclaim.sim.shopify import shopify_checkout
from reclaim.sim.storefronts import Checkout
from reclaim.sim.truth import ExpectedCase
from reclaim.sim.world import COUNTRY, STORE

T0 = datetime(2026, 5, 4, tzinfo=UTC)
TICK = timedelta(minutes=15)
END = T0 + timedelta(days=10)


# -- the interval -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
    ],
)
def test_newcombe_interval_reproduces_the_published_examples(
    k1: int, n1: int, k2: int, n2: int, low: float, high: float
) -> None:
    got = newcombe(k1, n1, k2, n2)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_and_its_edges() -> None:
    assert wilson(81, 263) == (pytest.approx(0.25529, abs=1e-5), pytest.approx(0.36621, abs=1e-5))
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.27753, abs=1e-5)
    low, high = wilson(10, 10)
    assert high == 1.0 and low == pytest.approx(1 - 0.27753, abs=1e-5)
    assert wilson(0, 0) == (0.0, 1.0)  # nothing observed: anything is possible


def test_measure_splits_the_arms_and_the_lift_is_their_difference() -> None:
    lift = measure(
        [(False, True)] * 30 + [(False, False)] * 70 + [(True, True)] * 2 + [(True, False)] * 18
    )
    assert (lift.messaged, lift.messaged_recovered, lift.holdout, lift.holdout_recovered) == (
        100,
        30,
        20,
        2,
    )
    assert lift.lift == pytest.approx(0.2)
    assert lift.interval == newcombe(30, 100, 2, 20)
    empty = measure([])
    assert (empty.lift, empty.messaged_rate, empty.holdout_rate) == (0.0, 0.0, 0.0)


# -- common random numbers ----------------------------------------------------------------------


def test_unit_is_a_fixed_uniform_number_of_its_parts() -> None:
    assert unit(7, "persuaded", "shopify", "c1") == unit(7, "persuaded", "shopify", "c1")
    assert unit(7, "persuaded", "shopify", "c1") != unit(8, "persuaded", "shopify", "c1")
    draws = [unit(1, i) for i in range(20_000)]
    assert all(0 <= d < 1 for d in draws)
    assert sum(d < 0.25 for d in draws) / len(draws) == pytest.approx(0.25, abs=0.015)


# -- when a message can go out ------------------------------------------------------------------


def test_quiet_hours_push_an_email_to_seven_in_the_morning_local_time() -> None:
    berlin = "Europe/Berlin"  # UTC+2 in May
    assert out_of_quiet_hours(datetime(2026, 5, 4, 21, 30, tzinfo=UTC), berlin) == datetime(
        2026, 5, 5, 5, 0, tzinfo=UTC
    )  # 23:30 in Berlin → 07:00 the next morning
    assert out_of_quiet_hours(datetime(2026, 5, 4, 4, 59, tzinfo=UTC), berlin) == datetime(
        2026, 5, 4, 5, 0, tzinfo=UTC
    )  # 06:59 → 07:00 the same day
    noon = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    assert out_of_quiet_hours(noon, berlin) == noon
    assert next_tick(T0 + timedelta(minutes=16), T0, TICK) == T0 + 2 * TICK
    assert next_tick(T0 + TICK, T0, TICK) == T0 + TICK
    assert next_tick(T0, T0, TICK) == T0 + TICK  # the first run is one tick in


# -- potential outcomes -------------------------------------------------------------------------


def actor(country: str = "US", *, consent: bool = True, orders: int = 0) -> Actor:
    base = make_customer(random.Random(5), 5)
    c = COUNTRY[country]
    return replace(
        base,
        store="shopify",
        country=c,
        region=c.regions[0],
        accepts_email=consent,
        orders_before=orders,
        email=f"ana.{country.lower()}.{int(consent)}.{orders}@example.com",
    )


def case(
    who: Actor,
    subject: str = "c1",
    *,
    kind: str = "abandoned_checkout",
    at: datetime = T0 + timedelta(hours=10),
    status: str = "open",
    closed_at: datetime | None = None,
) -> ExpectedCase:
    return ExpectedCase(
        store="shopify",
        kind=kind,
        subject=subject,
        customer=who.key,
        occurred_at=at,
        opened_at=at + timedelta(minutes=45),
        items=frozenset({"MER-CREW"}),
        value=Decimal("94.80"),
        currency="EUR",
        checkout_id=subject,
        status=status,
        closed_at=closed_at,
    )


def outcomes(
    cases: list[ExpectedCase],
    who: Actor,
    *,
    scale: float = 1.0,
    checkouts: dict[tuple[str, str], Checkout] | None = None,
) -> list[Potential]:
    return potential_outcomes(
        cases,
        actors={("shopify", who.key): who},
        checkouts=checkouts or {},
        seed=3,
        start=T0,
        end=END,
        tick=TICK,
        holdout=0.1,
        scale=scale,
    )


def test_recovered_anyway_means_no_effect() -> None:
    who = actor()
    [p] = outcomes([case(who, status="recovered", closed_at=T0 + timedelta(hours=20))], who)
    assert (p.y0, p.y1, p.effect, p.persuaded_by) == (True, True, 0, None)


def test_a_customer_who_would_always_be_persuaded_buys_after_the_first_reminder() -> None:
    who = actor()
    [p] = outcomes([case(who)], who, scale=1000)  # every step's chance is capped at 0.95
    u = unit(3, "persuaded", "shopify", "abandoned_checkout", "c1")
    expect = 0 if u < 0.95 else 1 if u < 1 - 0.05**2 else 2
    assert (p.y0, p.y1, p.effect) == (False, True, 1)
    assert p.persuaded_at == expect
    assert p.persuaded_by == ("reminder", "help", "incentive")[expect]
    # the steps expected in time: 1 h after the cart went idle, then 24 h and 72 h
    keys = [k for k, _ in p.expected_steps]
    assert keys == ["reminder", "help", "incentive"]
    first = p.expected_steps[0][1]
    assert first == next_tick(out_of_quiet_hours(T0 + timedelta(hours=11), who.timezone), T0, TICK)


def test_without_consent_the_with_messages_outcome_is_the_without() -> None:
    germany = actor("DE", consent=False)
    [p] = outcomes([case(germany)], germany, scale=1000)
    assert (p.reached, p.y0, p.y1, p.persuaded_by) == (False, False, False, None)
    assert p.why == "not reached (consent, unsubscribed)"
    # a failed payment notice is transactional: no consent needed
    [q] = outcomes([case(germany, "pi_1", kind="failed_payment")], germany, scale=1000)
    assert q.reached and q.y1


def shopify_session(who: Actor, stage: str) -> tuple[Checkout, list[bytes]]:
    """A Shopify checkout abandoned at ``stage``, and the webhooks its platform sends: created
    without contact, then updated once the shopper typed their email (seed 29's
    ``9d4d9ae6…``: a US shopper, never asked about marketing, gone before the shipping step)."""
    store = STORE["shopify"]
    product = store.catalogue[0]
    cart = Cart((Line(product, 1, product.price(who.currency)),), who.currency, Decimal(0))
    at = T0 + timedelta(hours=10)
    co = Checkout("shopify", "c1", "35870274000210", who, cart, at, at, stage="created")
    bodies = [dumps(shopify_checkout(store, co.snap()))]
    co.stage, co.contact, co.updated_at = stage, True, at + timedelta(minutes=3)
    bodies.append(dumps(shopify_checkout(store, co.snap())))
    return co, bodies


@pytest.mark.parametrize(("stage", "told"), [("contact", False), ("shipping", True)])
def test_a_shopify_shopper_gone_before_the_shipping_step_is_not_reached_without_consent(
    stage: str, told: bool
) -> None:
    """Seed 29's mismatch: the simulator took this shopper as reachable (a US customer whom
    Shopify calls ``not_subscribed``: CAN-SPAM allows the email), but Shopify sends the
    country only with the address, from the shipping step on; before it Reclaim knows no
    country and sends no marketing (docs/consent.md: the strictest reading). The simulator's
    model must say what Reclaim, reading those very webhooks, can do."""
    us = actor("US", consent=False)
    co, bodies = shopify_session(us, stage)
    connector = connector_for("shopify")
    facts = [
        f
        for body in bodies
        for f in connector.parse(topic="checkouts/update", headers={}, body=body).facts
    ]
    contact = facts[-1].contact  # type: ignore[attr-defined]
    assert contact.email == us.email and contact.accepts_email_marketing is None
    assert (contact.country is not None) == told == country_told("shopify", stage)
    reclaim = consent_decision(
        channel=Channel.EMAIL,
        purpose=Purpose.MARKETING,
        country=contact.country,
        opted_in=contact.accepts_email_marketing,
        store_requires_consent=None,
    )
    assert reclaim.allowed == told
    [p] = outcomes([case(us)], us, scale=1000, checkouts={("shopify", "c1"): co})
    assert p.reached == told  # the simulator's reading: the same as Reclaim's
    assert p.y1 == told and (p.persuaded_by is not None) == told  # an eager audience
    assert p.why == (
        "persuaded by " + str(p.persuaded_by) if told else "not reached (consent, unsubscribed)"
    )


def test_nobody_is_persuaded_by_a_step_after_the_case_closes_or_the_run_ends() -> None:
    who = actor()
    at = T0 + timedelta(hours=10)
    closes = at + timedelta(hours=2)  # e.g. a newer checkout superseded it
    [p] = outcomes([case(who, status="cancelled", closed_at=closes)], who, scale=1000)
    assert (p.y1, p.expected_steps) == (False, ())  # even the 1 h reminder is within MARGIN
    late = END - timedelta(hours=30)
    [q] = outcomes([case(who, at=late)], who, scale=1000)
    assert [k for k, _ in q.expected_steps] == ["reminder"]  # 24 h + MARGIN is past the end
    assert all(when <= END - MARGIN for _, when in q.expected_steps)


def test_customers_who_will_unsubscribe_are_never_persuaded() -> None:
    leaver = next(
        actor("US", consent=True, orders=i)
        for i in range(10_000)
        if unsubscriber(3, "shopify", actor("US", orders=i).key)
    )
    [p] = outcomes([case(leaver)], leaver, scale=1000)
    assert (p.reached, p.y1) == (False, False)


def test_true_effect_is_the_mean_of_the_individual_effects() -> None:
    who = actor()
    pots = outcomes(
        [
            case(who, "a"),
            case(who, "b", status="recovered", closed_at=T0 + timedelta(hours=30)),
            case(who, "c", at=END - timedelta(hours=1)),  # too late for any message
        ],
        who,
        scale=1000,
    )
    assert [p.effect for p in pots] == [1, 0, 0]
    assert true_effect(pots) == pytest.approx(1 / 3)
    assert true_effect([]) == 0.0


# -- the behavioural figures --------------------------------------------------------------------


def test_step_uplift_by_kind_step_reason_and_baseline() -> None:
    assert bh.step_uplift("abandoned_checkout", "reminder", decline=None, returning=False) == 0.06
    assert bh.step_uplift(
        "abandoned_checkout", "reminder", decline=None, returning=True
    ) == pytest.approx(0.09)
    assert (
        bh.step_uplift("failed_payment", "first", decline="processing_error", returning=False)
        == 0.30
    )
    assert bh.step_uplift("failed_payment", "first", decline="fraudulent", returning=False) == 0.0
    assert bh.step_uplift("failed_payment", "first", decline=None, returning=False) == 0.10
    assert bh.step_uplift("pending_order", "cancelled", decline=None, returning=False) == 0.0
    assert bh.step_uplift("pending_order", "nope", decline=None, returning=False) == 0.0
    assert (
        bh.step_uplift("pending_order", "reminder", decline=None, returning=False, scale=100)
        == 0.95
    )


def test_read_delay_is_the_documented_log_normal_within_its_bounds() -> None:
    assert bh.read_delay(0.5, buying=False) == timedelta(hours=1.5)
    assert bh.read_delay(0.0, buying=False) == timedelta(minutes=2)
    assert bh.read_delay(1.0, buying=False) == timedelta(hours=bh.READ_MAX_H)
    assert bh.read_delay(1.0, buying=True) == timedelta(hours=bh.BUY_READ_MAX_H)


def test_consent_follows_what_the_platform_says_then_the_law() -> None:
    us, de = actor("US", consent=False), actor("DE", consent=True)
    assert stated_consent(us, "custom") is False and stated_consent(us, "woocommerce") is None
    assert not may_market(us, "custom")  # said no
    # Shopify's "not_subscribed" is "never subscribed": the law decides, as with no field
    assert stated_consent(us, "shopify") is None and may_market(us, "shopify")
    assert stated_consent(us, "stripe") is None and may_market(us, "stripe")  # box unticked
    assert not may_market(actor("DE", consent=False), "shopify")
    assert may_market(de, "custom")  # opted in
    assert may_market(us, "woocommerce")  # never asked; CAN-SPAM is opt-out
    assert not may_market(us, "woocommerce", country_known=False)  # unknown: strictest
    assert not may_market(actor("DE", consent=False), "woocommerce")  # never asked; ePrivacy
