"""A few days of a cross-border store group's traffic, as a plan of timed HTTP deliveries.

:func:`build_plan` draws customers (plus a few bots, the merchants' own test orders and some
deliveries of activity from before Reclaim was switched on), plays each shopper's sessions
through the stores' platforms (:mod:`reclaim.sim.storefronts`) and schedules what the
platforms send (:mod:`reclaim.sim.delivery`: latency, late and repeated deliveries, a few
deliberately bad ones).

A first visit starts at a moment the customer is likely awake (``behaviour.HOURLY``, in
their own time zone) and runs through the funnel of :mod:`reclaim.sim.behaviour`:
no contact given / abandoned with Baymard's reasons (a declined card among them) / paid by
card (sometimes after a decline fixed within minutes) / a pay-later order paid after Olist's
boleto delays or never. Abandoners may come back on their own and buy, open a fresh checkout
minutes later, or (declined) pay later; some customers come back for a second purchase.

Sessions of one customer follow each other; the only overlaps are deliberate: a shopper who
opens a fresh checkout minutes after abandoning one (Reclaim must merge them), pay-later
orders paid days later, and shoppers coming back to buy.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from reclaim.sim import behaviour as bh
from reclaim.sim import custom, shopify, stripe, woocommerce
from reclaim.sim.delivery import schedule
from reclaim.sim.model import Cart, Delivery, Line
from reclaim.sim.people import Actor, make_bot, make_customer, make_staff
from reclaim.sim.storefronts import Checkout, Outbox, Storefront
from reclaim.sim.world import (
    FREE_SHIPPING_EUR,
    SHIPPING_EUR,
    STORE,
    STORES,
    local_price,
)

FRONTS: dict[str, type[Storefront]] = {
    "shopify": shopify.Shopify,
    "woocommerce": woocommerce.WooCommerce,
    "stripe": stripe.Stripe,
    "custom": custom.Custom,
}
DEFAULT_START = datetime(2026, 5, 4, tzinfo=UTC)  # a Monday
CARD_SHARE = 0.93  # roughly: the share of orders paid by card across the demo's countries


@dataclass(frozen=True, slots=True)
class SimConfig:
    """What to simulate. The stores are connected to Reclaim at ``start``; the worker runs
    every ``tick`` from ``start + tick`` to ``end``; nothing is delivered after ``end``."""

    customers: int = 300
    days: int = 3
    seed: int = 7
    start: datetime = DEFAULT_START
    tick: timedelta = timedelta(minutes=15)  # how often the worker runs (simulated)
    duplicate_share: float = 0.03  # deliveries the platform sends twice
    late_share: float = 0.03  # deliveries whose first attempt failed: they arrive late
    bot_share: float = 0.03  # bots per customer
    staff_share: float = 0.02  # merchant test sessions per customer
    backlog_share: float = 0.01  # abandoned before activation, delivered after
    holdout: float = 0.10  # share of each flow's cases that get no message (Reclaim's default)
    response_scale: float = 1.0  # multiplies behaviour.STEP_UPLIFT: a more eager audience

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def ticks(self) -> list[datetime]:
        n = int((self.end - self.start) / self.tick)
        return [self.start + self.tick * (i + 1) for i in range(n)]


@dataclass(slots=True)
class Plan:
    """The planned traffic. ``fronts`` (the stores' platforms, with the generator they draw
    ids from) and ``subjects`` (each checkout by the ids Reclaim knows it under: checkout,
    order, payment intent) let the simulation act on a case later: a customer who buys
    because of a message."""

    config: SimConfig
    deliveries: list[Delivery]
    actors: list[Actor]
    stats: Counter[str]
    stories: dict[tuple[str, str], str] = field(default_factory=dict)
    fronts: dict[str, Storefront] = field(default_factory=dict)
    subjects: dict[tuple[str, str], Checkout] = field(default_factory=dict)


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high) * 60))


class Traffic:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(f"reclaim-sim/{config.seed}")
        self.out = Outbox()
        self.fronts: dict[str, Storefront] = {
            s.key: FRONTS[s.key](s, self.out, self.rng) for s in STORES
        }
        self.stats: Counter[str] = Counter()
        self.stories: dict[tuple[str, str], str] = {}
        self.checkouts: list[tuple[Storefront, Checkout]] = []
        self.quick_decline = bh.quick_decline_rate(CARD_SHARE)

    # -- building blocks ------------------------------------------------------------------------

    def cart(self, actor: Actor) -> Cart:
        rng, store = self.rng, STORE[actor.store]
        n = rng.choices((1, 2, 3), weights=(0.55, 0.30, 0.15), k=1)[0]
        products = rng.sample(store.catalogue, k=min(n, len(store.catalogue)))
        lines = tuple(
            Line(p, 1 if rng.random() < 0.8 else 2, p.price(actor.currency)) for p in products
        )
        eur = sum((line.product.price_eur * line.quantity for line in lines), Decimal(0))
        shipping = (
            Decimal(0)
            if eur >= FREE_SHIPPING_EUR
            else local_price(SHIPPING_EUR[actor.country.zone], actor.currency)
        )
        return Cart(lines, actor.currency, shipping)

    def arrival(self, actor: Actor, after: datetime, before: datetime) -> datetime | None:
        """A moment the shopper is likely awake and shopping (rejection sampling on
        :data:`~reclaim.sim.behaviour.HOURLY` in their own time zone)."""
        from zoneinfo import ZoneInfo

        span = (before - after).total_seconds()
        if span <= 0:
            return None
        zone, peak = ZoneInfo(actor.timezone), max(bh.HOURLY)
        for _ in range(1000):
            at = after + timedelta(seconds=round(self.rng.uniform(0, span)))
            if self.rng.random() < bh.HOURLY[at.astimezone(zone).hour] / peak:
                return at
        return after

    def story(self, co: Checkout, label: str) -> None:
        self.stories[(co.store, co.checkout_id)] = label
        if co.order is not None:
            self.stories[(co.store, co.order.order_id)] = label
        if co.intent_id is not None:
            self.stories[(co.store, co.intent_id)] = label
        if co.store == "woocommerce" and co.order is not None:
            self.stories[(co.store, f"wc-order-{co.native_id}")] = label

    def open(
        self, front: Storefront, actor: Actor, cart: Cart, at: datetime, *, contact: bool = False
    ) -> Checkout:
        co = front.open(actor, cart, at, contact=contact)
        self.checkouts.append((front, co))
        return co

    def walk(self, front: Storefront, co: Checkout, t: datetime, upto: str) -> datetime:
        """Move through the steps after the current one up to ``upto``; the last step's time."""
        for stage in bh.STAGES[bh.STAGES.index(co.stage) + 1 : bh.STAGES.index(upto) + 1]:
            t += _minutes(self.rng, 1, 5) if stage != "contact" else _minutes(self.rng, 1, 4)
            front.step(co, t, stage)
        return t

    # -- a customer -----------------------------------------------------------------------------

    def customer(self, actor: Actor) -> None:
        cfg = self.config
        start = self.arrival(actor, cfg.start + timedelta(minutes=5), cfg.end)
        if start is None:
            return
        last = self.session(actor, start, self.cart(actor))
        if self.rng.random() < bh.REPEAT_VISIT:
            earliest = max(start + timedelta(hours=12), last + timedelta(hours=3))
            later = self.arrival(actor, earliest, earliest + timedelta(hours=48))
            if later is not None and later < cfg.end:
                self.stats["repeat_visits"] += 1
                self.session(actor, later, self.cart(actor), contact=True)

    def session(self, actor: Actor, t0: datetime, cart: Cart, *, contact: bool = False) -> datetime:
        """One visit to the checkout; returns the time of its last step (not of later payments)."""
        rng, front = self.rng, self.fronts[actor.store]
        self.stats["sessions"] += 1
        co = self.open(front, actor, cart, t0, contact=contact)
        if not contact and rng.random() < bh.NO_CONTACT_SHARE:
            self.stats["outcome:no_contact"] += 1
            front.walk_away(co, t0)
            self.story(co, "left before giving any contact")
            if rng.random() < bh.ORGANIC_RETURN:
                self.come_back(actor, co, t0 + bh.return_delay(rng), resume=False)
            return t0
        t = self.walk(front, co, t0, "contact")
        if rng.random() < bh.ABANDON_WITH_CONTACT:
            return self.abandon(front, co, t)
        t = self.walk(front, co, t, "payment") + _minutes(rng, 0.5, 3)
        method = self.method(actor, front)
        if method != "card":
            self.pay_later(front, co, t, method)
            return t
        self.stats["outcome:card"] += 1
        if rng.random() < self.quick_decline:
            decline = bh.sample_decline(rng, fixed_quickly=True)
            self.stats[f"decline:{decline.decline_code}"] += 1
            self.stats["fix:quick"] += 1
            front.decline(co, t, decline)
            if rng.random() < 0.3:
                t += _minutes(rng, 0.3, 1.2)
                front.decline(co, t, decline)
            t += _minutes(rng, 0.5, 2.5)
            self.story(co, f"card declined ({decline.decline_code}), fixed within minutes")
        else:
            self.story(co, "paid by card")
        front.pay(co, t)
        return t

    def method(self, actor: Actor, front: Storefront) -> str:
        country = actor.country
        if front.supports_pay_later and self.rng.random() < country.async_share:
            return country.async_method or "bank_transfer"
        return "card"

    def pay_later(self, front: Storefront, co: Checkout, t: datetime, method: str) -> None:
        rng = self.rng
        self.stats[f"outcome:pay_later:{method}"] += 1
        order = front.pay_later(co, t, method)
        delay = bh.pay_later_delay(rng, method)
        if delay is not None:
            front.order_paid(order, t + delay)
            self.story(co, f"{method} order, paid after {delay.total_seconds() / 3600:.1f} h")
        else:
            self.stats["pay_later_never_paid"] += 1
            front.order_cancelled(order, t + bh.unpaid_cancel_after(rng))
            self.story(co, f"{method} order, never paid (cancelled by the store)")

    def abandon(self, front: Storefront, co: Checkout, t: datetime) -> datetime:
        rng = self.rng
        self.stats["outcome:abandoned"] += 1
        reasons = bh.sample_reasons(rng)
        for r in reasons:
            self.stats[f"reason:{r}"] += 1
        stage = bh.stage_for(reasons)
        self.stats[f"abandon_stage:{stage}"] += 1
        t = self.walk(front, co, t, stage)
        why = ", ".join(reasons)
        if "card_declined" in reasons:
            decline = bh.sample_decline(rng, fixed_quickly=False)
            co.decline = decline.decline_code
            self.stats[f"decline:{decline.decline_code}"] += 1
            t += _minutes(rng, 0.5, 3)
            front.decline(co, t, decline)
            for _ in range(rng.choice((0, 0, 1, 2))):
                t += _minutes(rng, 0.3, 1.5)
                front.decline(co, t, decline)
            front.walk_away(co, t)
            if rng.random() < decline.later_fix:
                self.stats["fix:later"] += 1
                fix_at = t + bh.later_fix_delay(rng)
                self.story(co, f"card declined ({decline.decline_code}), paid later ({why})")
                if front.can_resume(co, fix_at):
                    front.pay(co, fix_at)
                else:
                    self.come_back(co.actor, co, fix_at, resume=False, same_cart=True)
            else:
                self.stats["fix:never"] += 1
                self.story(co, f"card declined ({decline.decline_code}), gave up ({why})")
            return t
        front.walk_away(co, t)
        self.story(co, f"abandoned at {stage} ({why})")
        roll = rng.random()
        if roll < bh.RESTART:
            self.restart(front, co, t)
        elif roll < bh.RESTART + bh.ORGANIC_RETURN:
            self.come_back(co.actor, co, t + bh.return_delay(rng), resume=rng.random() < 0.5)
        return t

    def restart(self, front: Storefront, co: Checkout, t: datetime) -> None:
        """A fresh checkout minutes later (a new tab, another device): Reclaim must merge."""
        rng = self.rng
        self.stats["restarts"] += 1
        t += _minutes(rng, 3, 20)
        again = self.open(front, co.actor, co.cart, t, contact=True)
        t = self.walk(front, again, t, "payment")
        if rng.random() < 0.6:
            front.walk_away(again, t)
            self.story(again, "restarted checkout, abandoned again")
        else:
            t += _minutes(rng, 0.5, 2)
            front.pay(again, t)
            self.story(again, "restarted checkout, paid by card")

    def come_back(
        self,
        actor: Actor,
        co: Checkout,
        at: datetime,
        *,
        resume: bool,
        same_cart: bool | None = None,
    ) -> None:
        """The shopper returns on their own and buys: the same checkout, or a new one."""
        rng, front = self.rng, self.fronts[actor.store]
        if at >= self.config.end:
            return
        self.stats["organic_returns"] += 1
        if same_cart is None:
            same_cart = rng.random() < bh.SAME_CART_ON_RETURN
        if resume and same_cart and front.can_resume(co, at):
            self.stats["organic_returns:same_checkout"] += 1
            if co.stage != "payment":
                front.step(co, at, "payment")
            front.pay(co, at + _minutes(rng, 1, 3))
            self.story(
                co, f"{self.stories.get((co.store, co.checkout_id), '')}; came back and paid"
            )
            return
        cart = co.cart if same_cart else self.cart(actor)
        if not same_cart:
            self.stats["organic_returns:other_items"] += 1
        again = self.open(front, actor, cart, at, contact=True)
        t = self.walk(front, again, at, "payment") + _minutes(rng, 0.5, 2)
        front.pay(again, t)
        self.story(
            again, "came back on their own and paid" + ("" if same_cart else " (other items)")
        )

    # -- others ---------------------------------------------------------------------------------

    def bot(self, actor: Actor) -> None:
        rng, front = self.rng, self.fronts[actor.store]
        for _ in range(rng.randint(1, 3)):
            at = self.arrival(actor, self.config.start + timedelta(minutes=5), self.config.end)
            if at is None:
                return
            self.stats["bot_sessions"] += 1
            co = self.open(front, actor, self.cart(actor), at)
            t = self.walk(front, co, at, rng.choice(("contact", "shipping", "payment")))
            front.walk_away(co, t)
            self.story(co, f"bot ({actor.user_agent[:30]})")
            if actor.store == "woocommerce" and rng.random() < 0.5:
                order = front.pay_later(co, t + _minutes(rng, 0.2, 1), "bank_transfer")
                self.story(co, f"bot spam order ({actor.user_agent[:30]})")
                front.order_cancelled(order, t + _minutes(rng, 20 * 60, 60 * 60))

    def staff(self, actor: Actor) -> None:
        rng, front = self.rng, self.fronts[actor.store]
        cfg = self.config
        at = cfg.start + _minutes(rng, 30, (cfg.days * 24 - 2) * 60)
        self.stats["staff_sessions"] += 1
        co = self.open(front, actor, self.cart(actor), at)
        t = self.walk(front, co, at, "payment")
        if actor.store == "stripe":
            front.decline(co, t + _minutes(rng, 0.5, 1), bh.DECLINE["generic_decline"])
            front.walk_away(co, t)
            self.story(co, "staff test: declined test card, session left to expire")
        elif rng.random() < 0.5:
            front.walk_away(co, t)
            self.story(co, "staff test: abandoned checkout")
        else:
            front.pay_later(co, t + _minutes(rng, 0.5, 1), "bank_transfer")
            self.story(co, "staff test: unpaid bank-transfer order")
        if actor.store == "shopify":
            again = self.open(front, actor, self.cart(actor), t + timedelta(minutes=30))
            t2 = self.walk(front, again, again.created_at, "payment")
            front.pay(again, t2 + _minutes(rng, 0.5, 1))
            self.story(again, "staff test: Bogus Gateway order")

    def backlog(self, actor: Actor) -> None:
        """Abandoned before Reclaim was switched on; its webhooks arrive after (retries)."""
        rng, front = self.rng, self.fronts[actor.store]
        hours = (25, 40) if actor.store == "stripe" else (2, 20)
        at = self.config.start - _minutes(rng, hours[0] * 60, hours[1] * 60)
        self.stats["backlog_checkouts"] += 1
        co = self.open(front, actor, self.cart(actor), at)
        t = self.walk(front, co, at, "shipping")
        front.walk_away(co, t)
        self.story(co, "abandoned before Reclaim was activated")

    # -- the plan -------------------------------------------------------------------------------

    def build(self) -> Plan:
        cfg, rng = self.config, self.rng
        actors: list[Actor] = []
        for i in range(cfg.customers):
            actor = make_customer(rng, i + 1)
            actors.append(actor)
            self.customer(actor)
        index = cfg.customers
        for _ in range(max(1, round(cfg.customers * cfg.bot_share))):
            index += 1
            store = rng.choice([s for s in STORES if s.key != "stripe"])
            actor = make_bot(rng, index, store)
            actors.append(actor)
            self.bot(actor)
        for n in range(max(1, round(cfg.customers * cfg.staff_share))):
            index += 1
            actor = make_staff(rng, index, STORES[n % len(STORES)])
            actors.append(actor)
            self.staff(actor)
        for _ in range(max(1, round(cfg.customers * cfg.backlog_share))):
            index += 1
            actor = make_customer(rng, index)
            actors.append(actor)
            self.backlog(actor)
        subjects: dict[tuple[str, str], Checkout] = {}
        for front, co in self.checkouts:
            front.finish(co)
            for key in subject_ids(co):
                subjects[(co.store, key)] = co
        deliveries = schedule(self.out.items, self.config, self.rng, self.stats)
        self.stats["actors:customers"] = cfg.customers
        self.stats["actors:bots"] = sum(a.is_bot for a in actors)
        self.stats["actors:staff"] = sum(a.is_staff for a in actors)
        return Plan(cfg, deliveries, actors, self.stats, self.stories, self.fronts, subjects)


def subject_ids(co: Checkout) -> tuple[str, ...]:
    """The ids Reclaim knows this checkout's cases under: the checkout, its order, its
    payment intent (WooCommerce: the one Reclaim derives from the order)."""
    ids = [co.checkout_id]
    if co.order is not None:
        ids.append(co.order.order_id)
        if co.store == "woocommerce":
            ids.append(f"wc-order-{co.native_id}")
    if co.intent_id is not None:
        ids.append(co.intent_id)
    return tuple(ids)


def build_plan(config: SimConfig) -> Plan:
    """The whole simulation's deliveries, deterministic for ``config.seed``."""
    return Traffic(config).build()
