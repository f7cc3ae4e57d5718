"""Simulated customers reading email: what they see in a message, what they do and when, and
what they report as a message that should not have gone."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from reclaim.adapters.channels.mime import build_mime
from reclaim.domain.messages import OutgoingEmail
from reclaim.domain.stores import StoreSettings
from reclaim.sim import behaviour as bh
from reclaim.sim.customers import Audience
from reclaim.sim.effect import Potential, unit, unsubscriber
from reclaim.sim.emails import Letter, read
from reclaim.sim.mailbox import Received
from reclaim.sim.model import Cart, Line
from reclaim.sim.people import Actor, make_customer
from reclaim.sim.shopify import Shopify
from reclaim.sim.storefronts import Checkout, Emitted, Outbox
from reclaim.sim.traffic import Plan, SimConfig
from reclaim.sim.truth import GroundTruth
from reclaim.sim.world import COUNTRY, STORE

T0 = datetime(2026, 5, 4, tzinfo=UTC)
SHOP = STORE["shopify"]
PUBLIC = "http://127.0.0.1:9"
SWEATER = SHOP.catalogue[0]  # Merino crew sweater


def test_a_received_message_reads_as_a_mail_client_shows_it() -> None:
    email = OutgoingEmail(
        to="Ana.Smith.0001@example.com",
        from_address="Nordwolle <shop@nordwolle.example>",
        subject="Your cart is waiting",
        text=(
            "- Merino crew sweater × 1: €89.90\nUse my code\nPXKM-23AB-9Z\n"
            f"{PUBLIC}/t/r/tok.r\nUnsubscribe: {PUBLIC}/u/tok.u"
        ),
        html=(
            f"<p><a href='{PUBLIC}/t/c/tok.c'>Merino crew sweater</a></p>"
            f"<img src=\"{PUBLIC}/t/o/tok.o.gif\" width='1'>"
        ),
        message_id="<rc.17.abc@nordwolle.example>",
        list_unsubscribe_url=f"{PUBLIC}/u/tok.u",
        list_unsubscribe_mailto="mailto:help@nordwolle.example?subject=unsubscribe",
        headers=(("X-Reclaim-Message", "17"),),
    )
    wire = build_mime(email, date=T0)
    got = read(Received("shop@nordwolle.example", ("Ana.Smith.0001@example.com",), wire))
    assert got.recipient == "ana.smith.0001@example.com"
    assert (got.message_id, got.header_id) == (17, "<rc.17.abc@nordwolle.example>")
    assert got.pixel == f"{PUBLIC}/t/o/tok.o.gif"
    assert got.restore == f"{PUBLIC}/t/r/tok.r"
    assert got.products == (f"{PUBLIC}/t/c/tok.c",)
    assert got.unsubscribe == f"{PUBLIC}/u/tok.u"  # the https one from List-Unsubscribe
    assert got.one_click is True
    assert got.coupon == "PXKM-23AB-9Z"
    assert got.names("Merino crew sweater") and not got.names("Alpaca beanie")


def test_no_coupon_is_read_into_text_without_one() -> None:
    email = OutgoingEmail(
        to="a@example.com",
        from_address="S <s@shop.example>",
        subject="s",
        text="Order #1234-5678 ILO1-0000-AA is not a code of ours",
        html="",
        message_id="<m@shop.example>",
        list_unsubscribe_url="https://r.example/u/x",
    )
    got = read(Received("s@shop.example", ("a@example.com",), build_mime(email, date=T0)))
    assert (got.coupon, got.pixel, got.restore, got.message_id) == (None, None, None, 0)


# -- reacting -----------------------------------------------------------------------------------


class Host:
    """Records what the customers schedule and emit (the run's queue and platforms)."""

    def __init__(self) -> None:
        self.client = httpx.Client()
        self.client.close()  # these tests make no requests
        self.actions: list[tuple[datetime, Callable[[], None]]] = []
        self.out: list[Emitted] = []
        self.dropped: list[tuple[str, str, datetime]] = []

    def later(self, at: datetime, action: Callable[[], None]) -> None:
        self.actions.append((at, action))

    def emitted(self, items: list[Emitted]) -> None:
        self.out.extend(items)

    def drop_planned(self, store: str, subject: str, after: datetime) -> None:
        self.dropped.append((store, subject, after))

    def message_case(
        self, store: str, message_id: int, candidates: list[tuple[str, str]]
    ) -> tuple[str, str] | None:
        return None


def customer(index: int, *, consent: bool = True, country: str = "US") -> Actor:
    c = COUNTRY[country]
    base = make_customer(random.Random(index), index)
    return replace(
        base,
        store="shopify",
        country=c,
        region=c.regions[0],
        accepts_email=consent,
        orders_before=0,
    )


def letter(to: Actor, *, coupon: str | None = None) -> Letter:
    return Letter(
        recipient=to.key,
        message_id=1,
        header_id="<m1@nordwolle.example>",
        subject="Your cart",
        text=f"- {SWEATER.name} × 1",
        html="",
        pixel=f"{PUBLIC}/t/o/x.gif",
        restore=f"{PUBLIC}/t/r/x",
        unsubscribe=f"{PUBLIC}/u/x",
        one_click=True,
        products=(),
        coupon=coupon,
    )


class Recording(Audience):
    """Records the customers' HTTP actions instead of making them (the end-to-end tests make
    them against the real API)."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.did: list[str] = []

    def _open(self, letter: Letter, mail: object, at: datetime) -> None:
        self.did.append("open")

    def _click_restore(self, letter: Letter, mail: object, at: datetime) -> None:
        self.did.append("restore")

    def _click_product(self, mail: object, url: str, at: datetime) -> None:
        self.did.append("product")

    def _unsubscribe(
        self, letter: Letter, who: tuple[str, str], at: datetime, *, one_click: bool
    ) -> None:
        self.did.append("unsubscribe")
        self.unsubscribed[who] = at


def run_all(host: Host) -> None:
    for _, action in sorted(host.actions, key=lambda a: a[0]):
        action()
    host.actions.clear()


def world(who: Actor, *others: Actor) -> tuple[Recording, Host, Checkout, GroundTruth]:
    """One Shopify customer who left a checkout at 10:00 with a sweater in it."""
    front = Shopify(SHOP, Outbox(), random.Random(1))
    cart = Cart((Line(SWEATER, 1, SWEATER.price_eur),), "EUR", Decimal("4.90"))
    at = T0 + timedelta(hours=10)
    co = front.open(who, cart, at, contact=True)
    front.step(co, at + timedelta(minutes=2), "shipping")
    front.walk_away(co, at + timedelta(minutes=2))
    truth = GroundTruth(activated_at=T0, settings=StoreSettings())
    truth.advance([co.snap()])
    truth.detect(at + timedelta(minutes=45))
    [case] = truth.cases
    plan = Plan(
        SimConfig(days=5, seed=3),
        [],
        [who, *others],
        Counter(),
        fronts={"shopify": front},
        subjects={("shopify", co.checkout_id): co},
    )
    pot = Potential(
        store="shopify",
        kind="abandoned_checkout",
        subject=co.checkout_id,
        customer=who.key,
        y0=False,
        y1=True,
        u=0.01,
        reached=True,
        persuaded_by="reminder",
        persuaded_at=0,
        expected_steps=(),
        why="persuaded by reminder",
    )
    host = Host()
    audience = Recording(
        plan=plan,
        truth=truth,
        potentials={("shopify", "abandoned_checkout", co.checkout_id): pot},
        host=host,
        end=T0 + timedelta(days=5),
        holdout=0.1,
        hold_period=timedelta(days=5),
    )
    front.out.items.clear()
    assert case.status == "open"
    return audience, host, co, truth


def a_customer(*, leaves: bool) -> Actor:
    return next(
        who
        for who in (customer(i) for i in range(1, 5000))
        if unsubscriber(3, "shopify", who.key) is leaves
    )


def test_a_persuaded_customer_opens_clicks_then_buys_the_same_checkout() -> None:
    who = a_customer(leaves=False)
    audience, host, co, _ = world(who)
    at = T0 + timedelta(hours=11)
    audience.arrive(letter(who), at)
    [(t_open, _), (t_click, _), (t_buy, _)] = host.actions
    key = ("shopify", "abandoned_checkout", co.checkout_id)
    assert t_open == at + bh.read_delay(unit(3, "read", *key, 0), buying=True)
    assert timedelta(seconds=10) <= t_click - t_open <= timedelta(seconds=120)
    assert timedelta(minutes=2) <= t_buy - t_click <= timedelta(minutes=15)
    run_all(host)
    assert audience.did == ["open", "restore"]
    topics = [e.topic for e in host.out]
    assert topics[0] == "checkouts/update" and topics[-2:] == ["orders/create", "orders/paid"]
    paid = json.loads(host.out[-1].body)
    assert paid["checkout_token"] == co.checkout_id and paid["financial_status"] == "paid"
    assert paid["discount_codes"] == []
    assert host.dropped == [("shopify", co.checkout_id, t_buy)]
    assert audience.bought == {key: t_buy}
    assert audience.counts["bought:abandoned_checkout"] == 1
    assert audience.violations == []


def test_the_coupon_in_the_email_is_used_and_takes_its_ten_percent() -> None:
    who = a_customer(leaves=False)
    audience, host, _, _ = world(who)
    audience.arrive(letter(who, coupon="PXKM-23AB-9Z"), T0 + timedelta(hours=11))
    run_all(host)
    paid = json.loads(host.out[-1].body)
    # 89.90 + 4.90 shipping = 94.80; 10 % of it, rounded down to the cent
    assert paid["discount_codes"][0]["code"] == "PXKM-23AB-9Z"
    assert paid["total_discounts"] == "9.48"
    assert paid["total_price"] == "85.32"
    assert audience.counts["coupons_used"] == 1


def test_a_customer_who_unsubscribes_does_so_and_never_clicks() -> None:
    who = a_customer(leaves=True)
    audience, host, _, _ = world(who)
    audience.arrive(letter(who), T0 + timedelta(hours=11))
    (t_open, _), (t_unsub, _) = host.actions
    assert t_unsub - t_open == timedelta(seconds=20)
    # an email that arrives before they got round to it is no violation, and they do not
    # unsubscribe twice
    audience.arrive(letter(who), T0 + timedelta(hours=11, minutes=15))
    run_all(host)
    assert audience.did.count("unsubscribe") == 1 and "restore" not in audience.did[:2]
    assert audience.unsubscribed == {("shopify", who.key): t_unsub}
    assert audience.counts["violation:after_unsubscribe"] == 0
    audience.arrive(letter(who), t_unsub + timedelta(hours=24))
    assert audience.counts["violation:after_unsubscribe"] == 1


def test_emails_that_should_not_have_gone_are_reported() -> None:
    who = a_customer(leaves=False)
    stranger = customer(9999)
    audience, host, _, truth = world(who, stranger)
    audience.arrive(letter(stranger), T0 + timedelta(hours=11))
    assert audience.counts["violation:unknown_recipient"] == 0  # a customer, with no case
    assert audience.counts["violation:no_case"] == 1
    audience.arrive(replace(letter(who), recipient="nobody@example.net"), T0 + timedelta(hours=11))
    assert audience.counts["violation:unknown_recipient"] == 1
    # the customer pays; a reminder about that checkout afterwards is a message after payment
    [case] = truth.cases
    case.status, case.closed_at = "recovered", T0 + timedelta(hours=12)
    audience.arrive(letter(who), T0 + timedelta(hours=13))
    assert audience.counts["violation:after_payment"] == 1
    assert host.actions == []
    assert [v["what"] for v in audience.violations] == [
        "no_case",
        "unknown_recipient",
        "after_payment",
    ]


def test_marketing_to_a_customer_who_said_no_is_reported() -> None:
    # (a Shopify customer who never subscribed, in an opt-in country: no says the law)
    who = replace(a_customer(leaves=False), accepts_email=False, country=COUNTRY["DE"])
    audience, _, _, _ = world(who)
    audience.arrive(letter(who), T0 + timedelta(hours=11))
    assert audience.counts["violation:marketing_without_consent"] == 1


@pytest.mark.parametrize("position", [1, 2])
def test_a_customer_persuaded_by_a_later_step_does_not_buy_on_the_first(position: int) -> None:
    who = a_customer(leaves=False)
    audience, host, co, _ = world(who)
    key = ("shopify", "abandoned_checkout", co.checkout_id)
    audience.potentials[key] = replace(audience.potentials[key], persuaded_at=position)
    audience.arrive(letter(who), T0 + timedelta(hours=11))
    assert audience.log[0].persuades is False
    run_all(host)
    assert set(audience.did) <= {"open", "restore", "product"}
    assert audience.bought == {} and host.out == []
