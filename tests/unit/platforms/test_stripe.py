"""Stripe connector: t=/v1= signatures with tolerance, exact facts, fuzzing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.adapters.platforms.stripe import StripeConnector
from reclaim.domain.events import (
    Charges,
    CheckoutObserved,
    Contact,
    LineItem,
    ParsedDelivery,
    PaymentObserved,
)
from reclaim.errors import MalformedPayload, SignatureError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe"
SECRET = "whsec_test_5Wq1mZ8yX3pL0nR4"
STAMP = 1773913446
NOW = datetime.fromtimestamp(STAMP, UTC)
stripe = StripeConnector()


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw(name))
    return data


def body_of(data: object) -> bytes:
    return json.dumps(data).encode()


def v1(body: bytes, stamp: int = STAMP, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()


def parse(body: bytes) -> ParsedDelivery:
    return stripe.parse(topic="", headers={}, body=body)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- signature ----------------------------------------------------------------------------------

BODY = raw("payment_intent_payment_failed.json")


@pytest.mark.parametrize(
    "header",
    [
        f"t={STAMP},v1={v1(BODY)}",
        f"t={STAMP},v1={'0' * 64},v1={v1(BODY)},v0={'f' * 64}",  # rolled secret: two v1
        f" t={STAMP} , v1={v1(BODY).upper()} ",
    ],
    ids=["plain", "multiple-v1", "spaces-and-upper-hex"],
)
def test_valid_signatures_pass(header: str) -> None:
    stripe.verify(headers={"stripe-signature": header}, body=BODY, secret=SECRET, now=NOW)


def test_timestamp_within_tolerance_either_side_passes() -> None:
    header = {"Stripe-Signature": f"t={STAMP},v1={v1(BODY)}"}
    for delta in (-300, 300):
        now = NOW + timedelta(seconds=delta)
        stripe.verify(headers=header, body=BODY, secret=SECRET, now=now)


@pytest.mark.parametrize(
    ("header", "body", "secret", "now", "reason"),
    [
        (None, BODY, SECRET, NOW, "missing Stripe-Signature header"),
        (f"v1={v1(BODY)}", BODY, SECRET, NOW, r"no valid timestamp \(t=\)"),
        (f"t=soon,v1={v1(BODY)}", BODY, SECRET, NOW, "no valid timestamp"),
        (f"t={STAMP},v0={v1(BODY)}", BODY, SECRET, NOW, "no v1 signature"),
        (f"t={STAMP},v1={v1(BODY)}", BODY + b" ", SECRET, NOW, "does not match the body"),
        (f"t={STAMP},v1={v1(BODY)}", BODY, "whsec_other", NOW, "does not match the body"),
        (f"t={STAMP + 1},v1={v1(BODY)}", BODY, SECRET, NOW, "does not match the body"),
        (
            f"t={STAMP},v1={v1(BODY)}",
            BODY,
            SECRET,
            NOW + timedelta(seconds=301),
            "timestamp is outside the tolerance of 300 s",
        ),
        (
            f"t={STAMP},v1={v1(BODY)}",
            BODY,
            SECRET,
            NOW - timedelta(hours=2),
            "timestamp is outside the tolerance",
        ),
        (f"t={STAMP},v1={v1(BODY, secret='')}", BODY, "", NOW, "no signing secret"),
    ],
    ids=[
        "missing",
        "no-t",
        "bad-t",
        "only-v0",
        "tampered",
        "wrong-secret",
        "t-changed",
        "stale",
        "future",
        "no-secret",
    ],
)
def test_bad_signatures_are_rejected(
    header: str | None, body: bytes, secret: str, now: datetime, reason: str
) -> None:
    headers = {} if header is None else {"Stripe-Signature": header}
    with pytest.raises(SignatureError, match=reason):
        stripe.verify(headers=headers, body=body, secret=secret, now=now)


def test_tolerance_is_a_keyword() -> None:
    header = {"Stripe-Signature": f"t={STAMP},v1={v1(BODY)}"}
    later = NOW + timedelta(seconds=400)
    stripe.verify(headers=header, body=BODY, secret=SECRET, now=later, tolerance=600)
    with pytest.raises(SignatureError, match="tolerance of 60 s"):
        stripe.verify(headers=header, body=BODY, secret=SECRET, now=later, tolerance=60)


def test_topic_and_event_id_are_in_the_body() -> None:
    assert stripe.topic({"Stripe-Signature": "t=1"}) == ""
    assert stripe.event_id({}) is None
    delivery = parse(BODY)
    assert delivery.topic == "payment_intent.payment_failed"
    assert delivery.event_id == "evt_3PqRsT2eZvKYlo2C1aBcDeFg"


# -- exact facts --------------------------------------------------------------------------------


def test_payment_failed_exact() -> None:
    assert parse(BODY) == ParsedDelivery(
        topic="payment_intent.payment_failed",
        event_id="evt_3PqRsT2eZvKYlo2C1aBcDeFg",
        facts=(
            PaymentObserved(
                external_id="ch_3PqRsT2eZvKYlo2C1Qw2Er3T",
                intent_id="pi_3PqRsT2eZvKYlo2C1xYz0987",
                contact=Contact(
                    email="felix.huber@example.at",
                    first_name="Felix",
                    last_name="Huber",
                    locale="de-AT",
                    country="AT",  # billing address beats the card's issuing country (DE)
                    timezone="Europe/Vienna",
                    customer_ref="cus_PqR1s2T3u4V5w6",
                ),
                amount=Decimal("123.80"),
                currency="EUR",
                succeeded=False,
                occurred_at=utc(2026, 3, 19, 9, 44, 5),
                order_external_id="4715",
                checkout_external_id=None,
                decline_code="insufficient_funds",
                failure_code="card_declined",
                failure_message="Your card has insufficient funds.",
                payment_method="card",
                is_test=False,
            ),
        ),
    )


def test_payment_succeeded_jpy_exact() -> None:
    (payment,) = parse(raw("payment_intent_succeeded.json")).facts
    assert payment == PaymentObserved(
        external_id="ch_3PqSuV2eZvKYlo2C0zYxWvUt",
        intent_id="pi_3PqSuV2eZvKYlo2C0aBc5678",
        contact=Contact(email="yui.tanaka@example.jp"),
        amount=Decimal("12800"),  # JPY has no minor unit
        currency="JPY",
        succeeded=True,
        occurred_at=utc(2026, 3, 20, 9, 30),
        checkout_external_id="9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        payment_method=None,  # card or link: not known from the intent alone
        is_test=True,
    )


def test_checkout_session_completed_names_the_promotion_codes() -> None:
    delivery = parse(raw("checkout_session_completed.json"))
    done = utc(2026, 3, 22, 11, 5)
    assert delivery == ParsedDelivery(
        topic="checkout.session.completed",
        event_id="evt_1PrA7b2eZvKYlo2Cm4nXcQ8d",
        facts=(
            CheckoutObserved(
                external_id="cs_live_b9Z8y7X6w5V4u3T2s1R0qPoNmLkJiHgFeDcBa",
                contact=Contact(
                    email="sophie.wright@example.co.uk",
                    first_name="Sophie",
                    last_name="Wright",
                    locale="en-GB",
                    country="GB",
                    timezone="Europe/London",
                    accepts_email_marketing=True,
                    customer_ref="cus_Qx1y2Z3a4B5c6D",
                ),
                currency="GBP",
                total=Decimal("54.55"),
                created_at=utc(2026, 3, 22, 10, 55),
                updated_at=done,
                completed_at=done,
                expired_at=None,
                is_test=False,
                shipping_quote=Decimal("5.95"),
                # total_details: 54.00 − 5.40 + 5.95 = 54.55
                charges=Charges(shipping=Decimal("5.95"), discount=Decimal("5.40")),
                # An id, or an expanded object with its code; a bare coupon names no code.
                discount_codes=("7KQ3MX9TPA",),
                discount_refs=("promo_1PrA5x2eZvKYlo2CkT9wQe3R", "promo_1PrA6y2eZvKYlo2Cd2pLm7Zs"),
                recovered_from="cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ",
            ),
        ),
    )
    body = load("checkout_session_completed.json")
    body["data"]["object"]["payment_status"] = "unpaid"  # a delayed method: not paid yet
    [pending] = parse(json.dumps(body).encode()).facts
    assert isinstance(pending, CheckoutObserved)
    assert pending.completed_at is None and pending.expired_at is None
    body["type"] = "checkout.session.async_payment_succeeded"
    body["data"]["object"]["payment_status"] = "paid"
    [paid] = parse(json.dumps(body).encode()).facts
    assert isinstance(paid, CheckoutObserved) and paid.completed_at == done
    assert paid.discount_refs == (
        "promo_1PrA5x2eZvKYlo2CkT9wQe3R",
        "promo_1PrA6y2eZvKYlo2Cd2pLm7Zs",
    )
    body["data"]["object"]["discounts"] = [{"promotion_code": ["promo_1"]}]
    with pytest.raises(MalformedPayload, match=r"discounts\[0\]\.promotion_code"):
        parse(json.dumps(body).encode())


def test_checkout_session_expired_exact() -> None:
    delivery = parse(raw("checkout_session_expired.json"))
    expired = utc(2026, 3, 21, 11, 0)
    assert delivery == ParsedDelivery(
        topic="checkout.session.expired",
        event_id="evt_1PqTvW2eZvKYlo2CqRsTuVwX",
        facts=(
            CheckoutObserved(
                external_id="cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ",
                contact=Contact(
                    email="sophie.wright@example.co.uk",
                    phone="+441134960000",
                    first_name="Sophie",
                    last_name="Wright",
                    locale="en-GB",
                    country="GB",
                    timezone="Europe/London",
                    accepts_email_marketing=True,
                ),
                currency="GBP",
                total=Decimal("59.95"),
                created_at=utc(2026, 3, 20, 11, 0),
                updated_at=expired,
                recovery_url="https://buy.stripe.com/r/live_YWNjdF8xMjM0NTY3ODkw",
                expired_at=expired,
                order_external_id=None,
                is_test=False,
                shipping_quote=Decimal("5.95"),
                charges=Charges(shipping=Decimal("5.95")),  # shipping_cost (no total_details)
            ),
        ),
    )


def test_session_locale_auto_and_opt_out_and_expanded_line_items() -> None:
    data = load("checkout_session_expired.json")
    session = data["data"]["object"]
    session.update(locale="auto", consent={"promotions": "opt_out"}, customer_details=None)
    session.update(customer_email="Guest@Example.com", after_expiration=None)
    session["line_items"] = {
        "object": "list",
        "data": [
            {"description": "Tea sampler", "quantity": 2, "amount_total": 3000,
             "price": {"id": "price_1", "product": "prod_1", "unit_amount": 1500}},
            {"description": "Gift wrap", "quantity": 3, "amount_total": 100, "price": None},
        ],
    }  # fmt: skip
    (checkout,) = parse(body_of(data)).facts
    # "opt_out": Checkout's opt-in box left unticked, read as never asked
    assert checkout.contact == Contact(email="guest@example.com", accepts_email_marketing=None)
    assert checkout.recovery_url is None
    assert checkout.items == (
        LineItem(
            name="Tea sampler",
            quantity=2,
            unit_price=Decimal("15.00"),
            product_id="prod_1",
            variant_id="price_1",
        ),
        LineItem(name="Gift wrap", quantity=3, unit_price=Decimal("0.3333")),
    )


def test_setup_mode_session_and_other_types_yield_no_facts() -> None:
    data = load("checkout_session_expired.json")
    data["data"]["object"].update(mode="setup", currency=None, amount_total=None)
    assert parse(body_of(data)).facts == ()
    assert parse(raw("customer_created.json")) == ParsedDelivery(
        topic="customer.created", event_id="evt_1PqUwX2eZvKYlo2Cabcdefgh"
    )


def test_failure_without_charge_is_keyed_by_intent_and_event() -> None:
    data = load("payment_intent_payment_failed.json")
    pi = data["data"]["object"]
    pi["last_payment_error"] = {
        "code": "payment_intent_authentication_failure",
        "message": "The provided PaymentMethod has failed authentication.",
        "type": "invalid_request_error",
    }
    (payment,) = parse(body_of(data)).facts
    # latest_charge is the earlier declined charge: not this attempt
    assert payment.external_id == "pi_3PqRsT2eZvKYlo2C1xYz0987:evt_3PqRsT2eZvKYlo2C1aBcDeFg"
    assert (payment.decline_code, payment.failure_code) == (
        None,
        "payment_intent_authentication_failure",
    )
    assert payment.payment_method == "card"  # the only payment_method_types entry
    assert payment.contact == Contact(customer_ref="cus_PqR1s2T3u4V5w6")


def test_succeeded_with_legacy_charges_list_and_expanded_objects() -> None:
    data = load("payment_intent_succeeded.json")
    pi = data["data"]["object"]
    del pi["latest_charge"]
    pi["charges"] = {"object": "list", "data": [{"id": "ch_legacy_1"}]}
    pi["customer"] = {"id": "cus_expanded", "object": "customer"}
    pi["payment_method"] = {
        "id": "pm_1",
        "type": "link",
        "billing_details": {"address": {"country": "jp", "state": None}, "name": "Yui Tanaka"},
    }
    (payment,) = parse(body_of(data)).facts
    assert payment.external_id == "ch_legacy_1"
    assert payment.payment_method == "link"
    assert payment.contact == Contact(
        email="yui.tanaka@example.jp",
        first_name="Yui",
        last_name="Tanaka",
        locale="ja-JP",
        country="JP",
        timezone="Asia/Tokyo",
        customer_ref="cus_expanded",
    )


# -- malformed ----------------------------------------------------------------------------------


def _pi_with(**changes: Any) -> bytes:
    data = load("payment_intent_payment_failed.json")
    data["data"]["object"].update(changes)
    return body_of(data)


def _event_with(**changes: Any) -> bytes:
    data = load("payment_intent_payment_failed.json")
    data.update(changes)
    return body_of(data)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "body is empty"),
        (b"t=1,v1=abc", "body is not valid JSON"),
        (_event_with(type=None), "type is required"),
        (_event_with(id=None), "id is required"),
        (_event_with(created="2026-03-19"), "created must be a Unix timestamp"),
        (_event_with(created=-5), "created must be a Unix timestamp"),
        (_event_with(data={}), r"data.object is required"),
        (_event_with(data={"object": "pi_1"}), "data.object must be an object"),
        (_pi_with(amount="12380"), "data.object.amount must be a non-negative integer"),
        (_pi_with(amount=-1), "data.object.amount must be a non-negative integer"),
        (_pi_with(amount=10**15), "data.object.amount must be a non-negative amount below"),
        (_pi_with(currency="euro"), "data.object.currency must be a three-letter"),
        (_pi_with(last_payment_error=[]), "data.object.last_payment_error must be an object"),
        (_pi_with(metadata={"order_id": {"x": 1}}), "data.object.metadata.order_id must be an id"),
    ],
)
def test_malformed_payloads_name_the_field(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        parse(body)


# -- fuzzing ------------------------------------------------------------------------------------

NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))
FIXTURE_BODIES = [raw(n) for n in NAMES]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_parses_or_malformed(body: bytes) -> None:
    try:
        result = parse(body)
    except MalformedPayload:
        return
    assert isinstance(result, ParsedDelivery)


@FUZZ
@given(body=st.binary(max_size=300))
def test_fuzz_random_bytes(body: bytes) -> None:
    assert_parses_or_malformed(body)


@FUZZ
@given(
    body=st.sampled_from(FIXTURE_BODIES),
    cut=st.integers(min_value=0),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=4),
)
def test_fuzz_truncated_and_mutated_fixtures(
    body: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    mutated = bytearray(body[: cut % (len(body) + 1)])
    for position, value in flips:
        if mutated:
            mutated[position % len(mutated)] = value
    assert_parses_or_malformed(bytes(mutated))


@FUZZ
@given(name=st.sampled_from(NAMES), data=st.data())
def test_fuzz_fields_replaced_with_arbitrary_json(name: str, data: st.DataObject) -> None:
    document: Any = load(name)
    node = document
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and data.draw(st.booleans()):
            node = child
            continue
        node[key] = data.draw(json_values)
        break
    assert_parses_or_malformed(body_of(document))


@FUZZ
@given(header=st.text(max_size=200), body=st.binary(max_size=100))
def test_fuzz_signature_header_only_raises_signature_error(header: str, body: bytes) -> None:
    try:
        stripe.verify(headers={"Stripe-Signature": header}, body=body, secret=SECRET, now=NOW)
    except SignatureError:
        return
    raise AssertionError("a random header must not verify")


@pytest.mark.parametrize(
    ("total", "tax", "expected"),
    [
        # 54.00 − 5.40 + 5.95 + 4.20 tax added on top
        (5875, 420, Charges(Decimal("5.95"), Decimal("5.40"), tax=Decimal("4.20"))),
        # the same total without the tax: it was in the prices
        (
            5455,
            420,
            Charges(Decimal("5.95"), Decimal("5.40"), tax=Decimal("4.20"), tax_included=True),
        ),
        # neither adds up: the tax is left unnamed, never guessed
        (6000, 420, Charges(Decimal("5.95"), Decimal("5.40"))),
    ],
    ids=["tax-added", "tax-included", "unexplained"],
)
def test_session_tax_is_added_or_included_as_the_total_says(
    total: int, tax: int, expected: Charges
) -> None:
    data = load("checkout_session_completed.json")
    session = data["data"]["object"]
    session["amount_total"] = total
    session["total_details"]["amount_tax"] = tax
    (checkout,) = parse(body_of(data)).facts
    assert isinstance(checkout, CheckoutObserved)
    assert checkout.charges == expected
