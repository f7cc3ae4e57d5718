"""Shopify connector: signature, topics, exact facts from documented payload shapes, fuzzing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.adapters.platforms import SOURCES, connector_for
from reclaim.adapters.platforms.shopify import FINANCIAL_STATUS, SHIPMENT_STATUS, ShopifyConnector
from reclaim.domain.events import (
    Charges,
    CheckoutObserved,
    Contact,
    FinancialStatus,
    LineItem,
    OrderObserved,
    ParsedDelivery,
    ShipmentObserved,
    ShipmentStatus,
)
from reclaim.errors import MalformedPayload, NotFound, SignatureError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
SECRET = "shpss_0123456789abcdef"
NOW = datetime(2026, 3, 14, 9, 10, tzinfo=UTC)
shopify = ShopifyConnector()


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw(name))
    return data


def body_of(data: object) -> bytes:
    return json.dumps(data).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def parse(topic: str, body: bytes) -> ParsedDelivery:
    return shopify.parse(topic=topic, headers={"X-Shopify-Topic": topic}, body=body)


def only(delivery: ParsedDelivery) -> Any:
    assert len(delivery.facts) == 1
    return delivery.facts[0]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- registry -----------------------------------------------------------------------------------


def test_registry_knows_every_source_and_rejects_others() -> None:
    assert SOURCES == ("shopify", "woocommerce", "stripe", "generic")
    assert [connector_for(s).source for s in SOURCES] == list(SOURCES)
    with pytest.raises(NotFound, match="unknown source 'magento'"):
        connector_for("magento")


# -- signature ----------------------------------------------------------------------------------


def test_valid_signature_passes_with_any_header_case() -> None:
    body = raw("checkout_create_de.json")
    for name in ("X-Shopify-Hmac-Sha256", "x-shopify-hmac-sha256", "X-Shopify-Hmac-SHA256"):
        shopify.verify(headers={name: sign(body)}, body=body, secret=SECRET, now=NOW)


@pytest.mark.parametrize(
    ("headers", "body", "secret", "reason"),
    [
        ({}, b"{}", SECRET, "missing X-Shopify-Hmac-Sha256 header"),
        ({"X-Shopify-Hmac-Sha256": "  "}, b"{}", SECRET, "missing X-Shopify-Hmac-Sha256"),
        ({"X-Shopify-Hmac-Sha256": sign(b"{}")}, b"{} ", SECRET, "does not match the body"),
        ({"X-Shopify-Hmac-Sha256": sign(b"{}")}, b"{}", "other", "does not match the body"),
        ({"X-Shopify-Hmac-Sha256": "not base64 ✓"}, b"{}", SECRET, "does not match the body"),
        ({"X-Shopify-Hmac-Sha256": sign(b"{}", "")}, b"{}", "", "no signing secret"),
    ],
    ids=["missing", "blank", "tampered-body", "wrong-secret", "garbage", "no-secret"],
)
def test_bad_signatures_are_rejected_with_a_reason(
    headers: dict[str, str], body: bytes, secret: str, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        shopify.verify(headers=headers, body=body, secret=secret, now=NOW)


def test_topic_and_event_id_come_from_headers() -> None:
    headers = {
        "x-shopify-topic": "Orders/Paid",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    }
    assert shopify.topic(headers) == "orders/paid"
    assert shopify.event_id(headers) == "orders/paid:98880550-7158-44d4-b7cd-2c97c8a091b5"
    del headers["X-Shopify-Event-Id"]
    assert shopify.event_id(headers) == "orders/paid:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert shopify.event_id({"X-Shopify-Topic": "orders/paid"}) is None
    assert shopify.topic({}) == ""


def test_parsed_delivery_carries_the_event_id() -> None:
    headers = {"X-Shopify-Topic": "checkouts/create", "X-Shopify-Event-Id": "e-1"}
    delivery = shopify.parse(topic="", headers=headers, body=raw("checkout_create_de.json"))
    assert delivery.topic == "checkouts/create"
    assert delivery.event_id == "checkouts/create:e-1"


# -- checkouts ----------------------------------------------------------------------------------


def test_checkout_create_de_exact() -> None:
    delivery = parse("checkouts/create", raw("checkout_create_de.json"))
    assert delivery == ParsedDelivery(
        topic="checkouts/create",
        facts=(
            CheckoutObserved(
                external_id="c3b1f7e2a4d94e0f8b6a1d2c3e4f5a6b",
                contact=Contact(
                    email="lena.mueller@example.de",
                    phone="+4915123456789",
                    first_name="Lena",
                    last_name="Müller",
                    locale="de-DE",
                    country="DE",
                    region="BY",
                    timezone="Europe/Berlin",
                    accepts_email_marketing=True,  # consent state wins over accepts_marketing
                    accepts_sms_marketing=None,  # the box left unticked: not a refusal
                    customer_ref="7712345678901",
                    orders_count=2,
                ),
                currency="EUR",
                total=Decimal("123.80"),
                created_at=utc(2026, 3, 14, 9, 2, 11),
                updated_at=utc(2026, 3, 14, 9, 7, 45),
                items=(
                    LineItem(
                        name="Merino-Pullover",
                        quantity=1,
                        unit_price=Decimal("89.90"),
                        sku="MP-ANT-M",
                        product_id="8123456789012",
                        variant_id="45010203040506",
                    ),
                    LineItem(
                        name="Wollsocken (2er-Pack)",
                        quantity=2,
                        unit_price=Decimal("14.50"),
                        sku=None,
                        product_id="8123456789099",
                        variant_id="45010203040999",
                    ),
                ),
                completed_at=None,
                recovery_url="https://nordwolle.myshopify.com/71234567/checkouts/ac/"
                "c3b1f7e2a4d94e0f8b6a1d2c3e4f5a6b/recover?key=8e2f4b1c9a7d6e5f",
                user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                "(KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                shipping_quote=Decimal("4.90"),
                # Prices with VAT: 118.90 + 4.90 shipping = 123.80, of which 19.77 VAT.
                charges=Charges(
                    shipping=Decimal("4.90"),
                    discount=Decimal("0.00"),
                    tax=Decimal("19.77"),
                    tax_included=True,
                ),
            ),
        ),
    )


def test_checkout_update_jp_in_presentment_currency_with_completion() -> None:
    checkout = only(parse("checkouts/update", raw("checkout_update_jp.json")))
    assert checkout == CheckoutObserved(
        external_id="9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        contact=Contact(
            email="haruto.sato@example.jp",
            phone="+819012345678",
            first_name="Haruto",  # customer has no name: taken from the shipping address
            last_name="Sato",
            locale="ja-JP",
            country="JP",
            region="JP-13",
            timezone="Asia/Tokyo",
            accepts_email_marketing=True,
            # the consent record ("not_subscribed": never subscribed) beats the ticked box
            accepts_sms_marketing=None,
            customer_ref="7712345679999",
            orders_count=0,
        ),
        currency="JPY",
        total=Decimal("17300"),
        created_at=utc(2026, 3, 15, 12, 30),
        updated_at=utc(2026, 3, 15, 12, 48, 12),
        items=(
            LineItem(
                name="Merino-Pullover",
                quantity=1,
                unit_price=Decimal("14800"),
                sku="MP-NAT-S",
                product_id="8123456789012",
                variant_id="45010203040507",
            ),
        ),
        completed_at=utc(2026, 3, 15, 12, 48, 10),
        recovery_url="https://nordwolle.myshopify.com/71234567/checkouts/ac/"
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0/recover?key=11aa22bb33cc",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        shipping_quote=Decimal("2500"),
    )


def test_checkout_without_contact_or_token_is_still_valid() -> None:
    body = {
        "id": 123,
        "currency": "GBP",
        "total_price": "10.00",
        "created_at": "2026-03-14T10:00:00Z",
        "updated_at": "2026-03-14T10:00:00Z",
    }
    checkout = only(parse("checkouts/create", body_of(body)))
    assert checkout.external_id == "123"
    assert checkout.contact == Contact()
    assert checkout.items == ()
    assert checkout.shipping_quote is None
    assert checkout.recovery_url is None


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("subscribed", True),
        ("not_subscribed", None),
        ("pending", None),
        ("unsubscribed", False),
        ("redacted", False),
        ("invalid", False),
    ],
)
def test_consent_states_read_as_opted_in_never_asked_or_refused(
    state: str, expected: bool | None
) -> None:
    base = load("checkout_create_de.json")
    base["customer"]["email_marketing_consent"]["state"] = state
    assert (
        only(parse("checkouts/create", body_of(base))).contact.accepts_email_marketing is expected
    )


def test_consent_falls_back_to_accepts_marketing_then_buyer_flag() -> None:
    base = load("checkout_create_de.json")
    base["customer"]["email_marketing_consent"] = None
    assert only(parse("checkouts/create", body_of(base))).contact.accepts_email_marketing is False
    base["customer"] = None
    base["buyer_accepts_marketing"] = True
    contact = only(parse("checkouts/create", body_of(base))).contact
    assert contact.accepts_email_marketing is True
    base["buyer_accepts_marketing"] = False  # a guest who left the box unticked
    assert only(parse("checkouts/create", body_of(base))).contact.accepts_email_marketing is None
    assert contact.customer_ref is None
    assert (contact.first_name, contact.last_name) == ("Lena", "Müller")  # from the address


# -- orders -------------------------------------------------------------------------------------


def test_order_create_pending_br_exact() -> None:
    order = only(parse("orders/create", raw("order_create_pending_br.json")))
    assert order == OrderObserved(
        external_id="5987654321098",
        contact=Contact(
            email="ana.souza@example.com.br",
            phone="11987654321",
            first_name="Ana",
            last_name="Souza",
            locale="pt-BR",
            country="BR",
            region="SP",
            timezone="America/Sao_Paulo",
            accepts_email_marketing=None,  # "not_subscribed": never asked, the law decides
            accepts_sms_marketing=None,
            customer_ref="7712345670042",
        ),
        currency="BRL",  # presentment money, not the shop's USD
        total=Decimal("349.90"),
        created_at=utc(2026, 3, 16, 17, 5, 33),
        updated_at=utc(2026, 3, 16, 17, 5, 35),
        financial_status=FinancialStatus.PENDING,
        items=(
            LineItem(
                name="Wollmütze",
                quantity=2,
                unit_price=Decimal("79.95"),
                sku="WM-ROT",
                product_id="8123456789200",
                variant_id="45010203041200",
            ),
            LineItem(
                name="Schal",
                quantity=1,
                unit_price=Decimal("160.00"),
                product_id="8123456789300",
            ),
        ),
        checkout_external_id="0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        paid_at=None,
        cancelled_at=None,
        payment_method="Boleto Bancário",
        user_agent="Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
        is_test=False,
        order_number="#1042",
        payment_url="https://nordwolle.myshopify.com/71234567/orders/"
        "4f1e2d3c4b5a69788796a5b4c3d2e1f0/authenticate?key=aa11bb22cc33",
    )


def test_order_paid_gb_exact() -> None:
    order = only(parse("orders/paid", raw("order_paid_gb.json")))
    assert order == OrderObserved(
        external_id="5987654321555",
        contact=Contact(
            email="oliver.bennett@example.co.uk",
            phone="+447700900123",
            first_name="Oliver",
            last_name="Bennett",
            locale="en-GB",
            country="GB",
            region="ENG",
            timezone="Europe/London",
            accepts_email_marketing=True,
            accepts_sms_marketing=True,
            customer_ref="7712345670043",
            orders_count=5,
        ),
        currency="GBP",
        total=Decimal("76.50"),
        created_at=utc(2026, 3, 17, 9, 12),
        updated_at=utc(2026, 3, 17, 11, 40, 27),
        financial_status=FinancialStatus.PAID,
        items=(
            LineItem(
                name="Lambswool Throw",
                quantity=1,
                unit_price=Decimal("68.00"),
                sku="LT-GRY",
                product_id="8123456789400",
                variant_id="45010203041400",
            ),
        ),
        checkout_external_id="77e6d5c4b3a2918070f6e5d4c3b2a190",
        paid_at=utc(2026, 3, 17, 11, 40, 27),  # orders/paid: the moment it became paid
        payment_method="gift_card, shopify_payments",
        user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
        order_number="#1043",
        payment_url="https://nordwolle.myshopify.com/71234567/orders/"
        "5a5b5c5d5e5f50515253545556575859/authenticate?key=dd44ee55",
        # Its one shipping line, in the shop's currency, which is the customer's too.
        charges=Charges(shipping=Decimal("8.50")),
    )


def test_order_charges_are_taken_in_the_customers_currency() -> None:
    data = load("order_create_pending_br.json")
    # Shipping is in the shop's USD only: in the customer's BRL it is not known.
    assert only(parse("orders/create", body_of(data))).charges is None
    data["taxes_included"] = True
    data["total_tax"] = "11.42"  # USD: not the total's currency
    data["total_tax_set"] = {
        "shop_money": {"amount": "11.42", "currency_code": "USD"},
        "presentment_money": {"amount": "58.51", "currency_code": "BRL"},
    }
    data["shipping_lines"][0]["price_set"] = {
        "shop_money": {"amount": "5.90", "currency_code": "USD"},
        "presentment_money": {"amount": "30.00", "currency_code": "BRL"},
    }
    data["total_discounts"] = "0.00"  # USD, with no presentment amount: not known
    assert only(parse("orders/create", body_of(data))).charges == Charges(
        shipping=Decimal("30.00"), tax=Decimal("58.51"), tax_included=True
    )
    data["total_shipping_price_set"] = {
        "presentment_money": {"amount": "29.00", "currency_code": "BRL"}
    }
    assert only(parse("orders/create", body_of(data))).charges == Charges(
        shipping=Decimal("29.00"), tax=Decimal("58.51"), tax_included=True
    )


def test_order_cancelled_us_test_order_exact() -> None:
    order = only(parse("orders/cancelled", raw("order_cancelled_us.json")))
    assert order == OrderObserved(
        external_id="5987654321777",
        contact=Contact(
            email="jordan.lee@example.com",
            phone="5035550147",
            first_name="Jordan",
            last_name="Lee",
            locale="en-US",
            country="US",
            region="OR",
            timezone="America/Los_Angeles",
        ),
        currency="USD",
        total=Decimal("45.00"),
        created_at=utc(2026, 3, 18, 22, 1, 10),
        updated_at=utc(2026, 3, 18, 23, 20, 3),
        financial_status=FinancialStatus.VOIDED,
        items=(
            LineItem(
                name="Beanie",
                quantity=3,
                unit_price=Decimal("15.00"),
                sku="BN-BLK",
                product_id="8123456789500",
                variant_id="45010203041500",
            ),
        ),
        cancelled_at=utc(2026, 3, 18, 23, 20),
        payment_method="bogus",
        is_test=True,
        order_number="#1044",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", FinancialStatus.PENDING),
        ("authorized", FinancialStatus.PENDING),
        ("partially_paid", FinancialStatus.PAID),
        ("paid", FinancialStatus.PAID),
        ("partially_refunded", FinancialStatus.REFUNDED),
        ("refunded", FinancialStatus.REFUNDED),
        ("voided", FinancialStatus.VOIDED),
        ("expired", FinancialStatus.VOIDED),
        ("PAID", FinancialStatus.PAID),
    ],
)
def test_financial_status_mapping(status: str, expected: FinancialStatus) -> None:
    data = load("order_create_pending_br.json")
    data["financial_status"] = status
    order = only(parse("orders/updated", body_of(data)))
    assert order.financial_status is expected
    paid_like = expected in {FinancialStatus.PAID, FinancialStatus.REFUNDED}
    # orders/updated: paid-like orders are paid at the latest at updated_at; others never
    assert order.paid_at == (utc(2026, 3, 16, 17, 5, 35) if paid_like else None)
    assert set(FINANCIAL_STATUS) >= {status.lower()}


def test_paid_on_create_uses_processed_at() -> None:
    data = load("order_create_pending_br.json")
    data["financial_status"] = "paid"
    order = only(parse("orders/create", body_of(data)))
    assert order.paid_at == utc(2026, 3, 16, 17, 5, 32)


def test_orders_cancelled_without_cancelled_at_uses_updated_at() -> None:
    data = load("order_cancelled_us.json")
    data["cancelled_at"] = None
    assert only(parse("orders/cancelled", body_of(data))).cancelled_at == utc(
        2026, 3, 18, 23, 20, 3
    )


def test_order_without_presentment_set_uses_total_price_and_currency() -> None:
    data = load("order_create_pending_br.json")
    del data["total_price_set"]
    for line in data["line_items"]:
        del line["price_set"]
    order = only(parse("orders/create", body_of(data)))
    assert (order.currency, order.total) == ("USD", Decimal("68.30"))
    assert [i.unit_price for i in order.items] == [Decimal("15.60"), Decimal("31.20")]


# -- fulfillments -------------------------------------------------------------------------------


def test_fulfillment_update_exact() -> None:
    shipment = only(parse("fulfillments/update", raw("fulfillment_update.json")))
    assert shipment == ShipmentObserved(
        external_id="4567890123456",
        order_external_id="5987654321555",
        status=ShipmentStatus.IN_TRANSIT,
        occurred_at=utc(2026, 3, 19, 6, 45, 10),
        carrier="Royal Mail",
        tracking_number="QF123456789GB",
        tracking_url="https://www.royalmail.com/track-your-item#/tracking-results/QF123456789GB",
    )


def test_fulfillment_event_exact() -> None:
    shipment = only(parse("fulfillment_events/create", raw("fulfillment_event_delivered.json")))
    assert shipment == ShipmentObserved(
        external_id="4567890123456",
        order_external_id="5987654321555",
        status=ShipmentStatus.DELIVERED,
        occurred_at=utc(2026, 3, 20, 10, 31),
        location="Manchester, England, GB",
    )


@pytest.mark.parametrize(
    ("shipment_status", "expected"),
    [
        ("label_printed", ShipmentStatus.LABEL_CREATED),
        ("label_purchased", ShipmentStatus.LABEL_CREATED),
        ("confirmed", ShipmentStatus.LABEL_CREATED),
        ("carrier_picked_up", ShipmentStatus.IN_TRANSIT),
        ("in_transit", ShipmentStatus.IN_TRANSIT),
        ("out_for_delivery", ShipmentStatus.OUT_FOR_DELIVERY),
        ("ready_for_pickup", ShipmentStatus.OUT_FOR_DELIVERY),
        ("attempted_delivery", ShipmentStatus.EXCEPTION),
        ("delayed", ShipmentStatus.EXCEPTION),
        ("failure", ShipmentStatus.EXCEPTION),
        ("delivered", ShipmentStatus.DELIVERED),
        ("picked_up", ShipmentStatus.DELIVERED),
        ("returning_to_sender", ShipmentStatus.RETURNED),
    ],
)
def test_shipment_status_mapping(shipment_status: str, expected: ShipmentStatus) -> None:
    data = load("fulfillment_update.json")
    data["shipment_status"] = shipment_status
    assert only(parse("fulfillments/update", body_of(data))).status is expected
    assert SHIPMENT_STATUS[shipment_status] is expected


def test_fulfillment_without_carrier_status_and_cancelled_fulfillment() -> None:
    data = load("fulfillment_update.json")
    data["shipment_status"] = None
    assert only(parse("fulfillments/create", body_of(data))).status is ShipmentStatus.LABEL_CREATED
    data["status"] = "cancelled"
    assert parse("fulfillments/update", body_of(data)).facts == ()


# -- other topics, malformed bodies -------------------------------------------------------------


@pytest.mark.parametrize("topic", ["products/update", "app/uninstalled", "checkouts/delete"])
def test_other_topics_are_ignored_without_reading_the_body(topic: str) -> None:
    assert parse(topic, b"\x00 not even json") == ParsedDelivery(topic=topic)


def test_missing_topic_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="missing X-Shopify-Topic header"):
        shopify.parse(topic="", headers={}, body=b"{}")


def _order_with(**changes: Any) -> bytes:
    data = load("order_paid_gb.json")
    data.update(changes)
    return body_of(data)


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        ("orders/paid", b"", "body is empty"),
        ("orders/paid", b'{"id": 1', "body is not valid JSON"),
        ("orders/paid", b"[1, 2]", "body must be a JSON object"),
        ("orders/paid", _order_with(id=None), "id is required"),
        ("orders/paid", _order_with(id=1.5), "id must be an id"),
        ("orders/paid", _order_with(financial_status="gift"), "financial_status has unknown"),
        ("orders/paid", _order_with(updated_at="yesterday"), "updated_at must be an ISO 8601"),
        ("orders/paid", _order_with(updated_at="2026-03-17T11:40:27"), "must include a UTC"),
        ("orders/paid", _order_with(currency="EURO", total_price_set=None), "currency must be"),
        ("orders/paid", _order_with(total_price_set=None, total_price="-1"), "total_price must"),
        ("orders/paid", _order_with(total_price_set=None, total_price=1e300), "total_price must"),
        ("orders/paid", _order_with(customer=[]), "customer must be an object"),
        ("orders/paid", _order_with(test="yes"), "test must be true or false"),
        (
            "orders/paid",
            _order_with(line_items=[{"title": "x", "quantity": -2, "price": "1"}]),
            r"line_items\[0\].quantity must be a positive integer",
        ),
        (
            "orders/paid",
            _order_with(line_items=[{"title": "x", "quantity": 1}]),
            r"line_items\[0\].price is required",
        ),
        ("checkouts/update", b"{}", "id is required"),
        ("fulfillments/update", b'{"id": 1, "shipment_status": "lost"}', "unknown value 'lost'"),
    ],
)
def test_malformed_payloads_name_the_field(topic: str, body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        parse(topic, body)


# -- fuzzing ------------------------------------------------------------------------------------

FUZZ_TOPICS = [
    "checkouts/create",
    "orders/create",
    "orders/paid",
    "orders/cancelled",
    "fulfillments/update",
    "fulfillment_events/create",
]
FIXTURE_BODIES = [raw(p.name) for p in sorted(FIXTURES.glob("*.json"))]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def assert_parses_or_malformed(topic: str, body: bytes) -> None:
    try:
        result = parse(topic, body)
    except MalformedPayload:
        return
    assert isinstance(result, ParsedDelivery)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(topic=st.sampled_from(FUZZ_TOPICS), body=st.binary(max_size=300))
def test_fuzz_random_bytes(topic: str, body: bytes) -> None:
    assert_parses_or_malformed(topic, body)


@FUZZ
@given(
    topic=st.sampled_from(FUZZ_TOPICS),
    body=st.sampled_from(FIXTURE_BODIES),
    cut=st.integers(min_value=0),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=4),
)
def test_fuzz_truncated_and_mutated_fixtures(
    topic: str, body: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    mutated = bytearray(body[: cut % (len(body) + 1)])
    for position, value in flips:
        if mutated:
            mutated[position % len(mutated)] = value
    assert_parses_or_malformed(topic, bytes(mutated))


@FUZZ
@given(
    topic=st.sampled_from(FUZZ_TOPICS),
    name=st.sampled_from(sorted(p.name for p in FIXTURES.glob("*.json"))),
    data=st.data(),
)
def test_fuzz_fields_replaced_with_arbitrary_json(
    topic: str, name: str, data: st.DataObject
) -> None:
    document: Any = load(name)
    node = document
    while True:  # walk down to a random container, then replace one of its entries
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
    assert_parses_or_malformed(topic, body_of(document))


def test_deeply_nested_and_huge_numbers_are_malformed_not_crashes() -> None:
    for body in (b"[" * 5000 + b"]" * 5000, b'{"id": ' + b"9" * 5000 + b"}", b"\xff\xfe{}"):
        assert_parses_or_malformed("orders/paid", body)
