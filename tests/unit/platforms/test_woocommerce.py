"""WooCommerce connector: signature and ping, status mapping, exact facts, fuzzing."""

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

from reclaim.adapters.platforms.woocommerce import WooCommerceConnector
from reclaim.domain.events import (
    Charges,
    CheckoutObserved,
    Contact,
    FinancialStatus,
    LineItem,
    OrderDeleted,
    OrderObserved,
    ParsedDelivery,
    PaymentObserved,
)
from reclaim.errors import MalformedPayload, SignatureError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "woocommerce"
SECRET = "wc-webhook-secret-&-more"
NOW = datetime(2026, 3, 14, 10, 30, tzinfo=UTC)
woo = WooCommerceConnector()


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
    return woo.parse(topic=topic, headers={"X-WC-Webhook-Topic": topic}, body=body)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- signature, ping, headers -------------------------------------------------------------------


def test_valid_signature_passes() -> None:
    body = raw("order_on_hold_de.json")
    headers = {"x-wc-webhook-signature": sign(body), "X-WC-Webhook-Topic": "order.updated"}
    woo.verify(headers=headers, body=body, secret=SECRET, now=NOW)


@pytest.mark.parametrize(
    ("headers", "body", "secret", "reason"),
    [
        ({}, b'{"id": 1}', SECRET, "missing X-WC-Webhook-Signature header"),
        ({"X-WC-Webhook-Signature": sign(b'{"id": 1}')}, b'{"id": 2}', SECRET, "does not match"),
        ({"X-WC-Webhook-Signature": sign(b'{"id": 1}')}, b'{"id": 1}', "nope", "does not match"),
        ({"X-WC-Webhook-Signature": sign(b"webhook_id=7", "x")}, b"webhook_id=7", SECRET, "match"),
        ({}, b"webhook_id=7&x=1", SECRET, "missing X-WC-Webhook-Signature"),
    ],
    ids=["missing", "tampered-body", "wrong-secret", "ping-with-bad-signature", "not-a-ping"],
)
def test_bad_signatures_are_rejected(
    headers: dict[str, str], body: bytes, secret: str, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        woo.verify(headers=headers, body=body, secret=secret, now=NOW)


def test_creation_ping_is_unsigned_and_yields_no_facts() -> None:
    woo.verify(headers={}, body=b"webhook_id=12", secret=SECRET, now=NOW)
    assert woo.topic({}) == ""
    assert woo.parse(topic="", headers={}, body=b"webhook_id=12") == ParsedDelivery(topic="ping")


def test_delivery_id_is_not_an_event_id() -> None:
    headers = {"X-WC-Webhook-Delivery-ID": "a1b2c3", "X-WC-Webhook-Topic": "Order.Updated"}
    assert woo.event_id(headers) is None
    assert woo.topic(headers) == "order.updated"


def test_missing_topic_with_a_json_body_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="missing X-WC-Webhook-Topic header"):
        woo.parse(topic="", headers={}, body=raw("order_on_hold_de.json"))


@pytest.mark.parametrize("topic", ["product.updated", "customer.created", "coupon.deleted"])
def test_other_topics_are_ignored(topic: str) -> None:
    assert parse(topic, b"garbage") == ParsedDelivery(topic=topic)


# -- exact facts --------------------------------------------------------------------------------

DE_CONTACT = Contact(
    email="jonas.becker@example.de",
    phone="0301234567",
    first_name="Jonas",
    last_name="Becker",
    locale="de-DE",
    country="DE",
    region="BE",
    timezone="Europe/Berlin",
)
# prices_include_tax: each line is its subtotal plus subtotal_tax, as the shop shows it.
DE_ITEMS = (
    LineItem(
        name="Kaffeebohnen Espresso 1 kg",
        quantity=2,
        unit_price=Decimal("19.00"),  # (35.51 + 2.49) / 2
        line_total=Decimal("38.00"),
        sku="ESP-1KG",
        product_id="93",
        image_url="https://roesterei.example.de/wp-content/uploads/2024/05/espresso-1kg.jpg",
    ),
    LineItem(
        name="Milchkännchen - Edelstahl, 350 ml",
        quantity=1,
        unit_price=Decimal("36.70"),  # 30.84 + 5.86
        line_total=Decimal("36.70"),
        product_id="120",
        variant_id="122",
    ),
)


def test_on_hold_order_de_exact() -> None:
    delivery = parse("order.created", raw("order_on_hold_de.json"))
    assert delivery == ParsedDelivery(
        topic="order.created",
        facts=(
            OrderObserved(
                external_id="4711",
                contact=DE_CONTACT,
                currency="EUR",
                total=Decimal("79.60"),
                created_at=utc(2026, 3, 14, 10, 20, 5),
                updated_at=utc(2026, 3, 14, 10, 20, 7),
                financial_status=FinancialStatus.PENDING,
                items=DE_ITEMS,
                payment_method="bacs",
                user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                order_number="4711",
                payment_url="https://roesterei.example.de/kasse/order-pay/4711/"
                "?pay_for_order=true&key=wc_order_Qm3xZp8LkV2aT",
                charges=Charges(
                    shipping=Decimal("4.90"),  # 4.12 + 0.78 tax
                    discount=Decimal("0"),
                    tax=Decimal("9.13"),
                    tax_included=True,
                ),
                payment_title="Direkte Banküberweisung",
            ),
        ),
    )


def test_failed_order_br_gives_order_and_failed_payment() -> None:
    contact = Contact(
        email="beatriz.oliveira@example.com.br",
        phone="+5592991234567",
        first_name="Beatriz",
        last_name="Oliveira",
        locale="pt-BR",
        country="BR",
        region="AM",
        timezone="America/Manaus",
        customer_ref="58",
    )
    order, payment = parse("order.updated", raw("order_failed_br.json")).facts
    assert order == OrderObserved(
        external_id="4712",
        contact=contact,
        currency="BRL",
        total=Decimal("274.90"),
        created_at=utc(2026, 3, 16, 12, 41),
        updated_at=utc(2026, 3, 16, 12, 42, 31),
        financial_status=FinancialStatus.FAILED,
        items=(
            LineItem(
                name="Moedor manual de café",
                quantity=1,
                unit_price=Decimal("249.90"),
                line_total=Decimal("249.90"),
                sku="MOE-MAN",
                product_id="140",
                image_url="https://roesterei.example.de/wp-content/uploads/2024/06/moedor.jpg",
            ),
        ),
        checkout_external_id="wc-draft-4712",  # placed through the block checkout
        payment_method="stripe",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148",
        order_number="4712",
        payment_url="https://roesterei.example.de/kasse/order-pay/4712/"
        "?pay_for_order=true&key=wc_order_7hKd2Lq0PzXy",
        charges=Charges(shipping=Decimal("25.00"), discount=Decimal("0"), tax=Decimal("0")),
        payment_title="Cartão de crédito",
    )
    assert payment == PaymentObserved(
        external_id="wc-order-4712-failed-2026-03-16T12:42:31",
        intent_id="wc-order-4712",
        contact=contact,
        amount=Decimal("274.90"),
        currency="BRL",
        succeeded=False,
        occurred_at=utc(2026, 3, 16, 12, 42, 31),
        order_external_id="4712",
        decline_code=None,
        failure_code="failed",
        payment_method="stripe",
    )


def test_processing_order_gb_is_paid_and_price_derives_from_subtotal() -> None:
    (order,) = parse("order.updated", raw("order_processing_gb.json")).facts
    assert order == OrderObserved(
        external_id="4713",
        contact=Contact(
            email="amelia.clarke@example.co.uk",
            phone="07700900456",
            first_name="Amelia",
            last_name="Clarke",
            locale="en-GB",
            country="GB",
            timezone="Europe/London",
            customer_ref="61",
        ),
        currency="GBP",
        total=Decimal("27.45"),
        created_at=utc(2026, 3, 17, 14, 0),
        updated_at=utc(2026, 3, 17, 14, 0, 9),
        financial_status=FinancialStatus.PAID,
        items=(
            LineItem(
                name="Filter Papers (100)",
                quantity=3,
                unit_price=Decimal("7.8333"),  # subtotal 23.50 / 3, to 4 places
                line_total=Decimal("23.50"),
                sku="FLT-100",
                product_id="150",
            ),
        ),
        paid_at=utc(2026, 3, 17, 14, 0, 8),
        payment_method="ppcp-gateway",
        order_number="4713",
        payment_url="https://roesterei.example.de/checkout/order-pay/4713/"
        "?pay_for_order=true&key=wc_order_Ab12Cd34",
        charges=Charges(shipping=Decimal("3.95")),  # no prices_include_tax: tax is added
        payment_title="PayPal",
    )


def test_checkout_draft_fr_is_a_checkout_not_an_order() -> None:
    delivery = parse("order.updated", raw("order_checkout_draft_fr.json"))
    assert delivery.facts == (
        CheckoutObserved(
            external_id="wc-draft-4714",
            contact=Contact(
                email="camille.dubois@example.fr",
                first_name="Camille",
                last_name="Dubois",
                locale="fr-FR",
                country="FR",
                timezone="Europe/Paris",
            ),
            currency="EUR",
            total=Decimal("44.80"),
            created_at=utc(2026, 3, 18, 18, 10),
            updated_at=utc(2026, 3, 18, 18, 14, 22),
            items=(
                LineItem(
                    name="Café de spécialité – Éthiopie 250 g",
                    quantity=2,
                    unit_price=Decimal("18.95"),
                    line_total=Decimal("37.90"),
                    sku="ETH-250",
                    product_id="160",
                    image_url="https://roesterei.example.de/wp-content/uploads/2024/07/ethiopie.jpg",
                ),
            ),
            recovery_url="https://roesterei.example.de/fr/commande/order-pay/4714/"
            "?pay_for_order=true&key=wc_order_Xy98Zw76",
            user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            shipping_quote=Decimal("6.90"),
            charges=Charges(shipping=Decimal("6.90")),  # the cart's email shows it as such
        ),
    )


def test_checkout_draft_without_payment_url_has_no_recovery_url() -> None:
    data = load("order_checkout_draft_fr.json")
    del data["payment_url"]
    (checkout,) = parse("order.created", body_of(data)).facts
    assert checkout.recovery_url is None


def test_lines_and_charges_without_vat_where_prices_exclude_it() -> None:
    data = load("order_on_hold_de.json")
    data["prices_include_tax"] = False
    (order,) = parse("order.created", body_of(data)).facts
    assert [(i.unit_price, i.line_total) for i in order.items] == [
        (Decimal("17.755"), Decimal("35.51")),  # subtotal / quantity, to 4 places
        (Decimal("30.84"), Decimal("30.84")),
    ]
    assert order.charges == Charges(
        shipping=Decimal("4.12"), discount=Decimal("0"), tax=Decimal("9.13"), tax_included=False
    )


def test_fee_lines_are_charges_and_a_negative_fee_is_a_discount() -> None:
    data = load("order_on_hold_de.json")
    data.update(discount_total="3.00", discount_tax="0.57")
    data["fee_lines"] = [
        {"id": 1, "name": "Nachnahmegebühr", "total": "2.00", "total_tax": "0.38"},
        {"id": 2, "name": "Gift wrap", "total": "1.00", "total_tax": "0.19"},
    ]
    (order,) = parse("order.created", body_of(data)).facts
    assert order.charges is not None
    assert (order.charges.fees, order.charges.discount) == (Decimal("3.57"), Decimal("3.57"))
    data["fee_lines"] = [{"id": 3, "name": "Treuerabatt", "total": "-5.00", "total_tax": "-0.95"}]
    (order,) = parse("order.created", body_of(data)).facts
    assert order.charges is not None
    assert (order.charges.fees, order.charges.discount) == (None, Decimal("9.52"))


def test_an_order_that_states_no_charges_has_none() -> None:
    data = load("order_on_hold_de.json")
    for key in ("shipping_total", "shipping_tax", "discount_total", "discount_tax", "total_tax"):
        del data[key]
    data["fee_lines"] = []
    (order,) = parse("order.created", body_of(data)).facts
    assert order.charges is None


# -- status mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected", "paid_at", "cancelled_at"),
    [
        ("pending", FinancialStatus.PENDING, None, None),
        ("on-hold", FinancialStatus.PENDING, None, None),
        ("failed", FinancialStatus.FAILED, None, None),
        ("processing", FinancialStatus.PAID, utc(2026, 3, 14, 10, 20, 7), None),
        ("completed", FinancialStatus.PAID, utc(2026, 3, 14, 10, 20, 7), None),
        ("cancelled", FinancialStatus.PENDING, None, utc(2026, 3, 14, 10, 20, 7)),
        ("trash", FinancialStatus.PENDING, None, utc(2026, 3, 14, 10, 20, 7)),
        ("refunded", FinancialStatus.REFUNDED, None, None),
        ("wc-on-hold", FinancialStatus.PENDING, None, None),
    ],
)
def test_status_mapping(
    status: str,
    expected: FinancialStatus,
    paid_at: datetime | None,
    cancelled_at: datetime | None,
) -> None:
    data = load("order_on_hold_de.json")
    data["status"] = status
    order = parse("order.updated", body_of(data)).facts[0]
    assert isinstance(order, OrderObserved)
    assert (order.financial_status, order.paid_at, order.cancelled_at) == (
        expected,
        paid_at,
        cancelled_at,
    )
    assert len(parse("order.updated", body_of(data)).facts) == (2 if status == "failed" else 1)


def test_paid_at_prefers_date_paid_then_completed_and_refund_keeps_it() -> None:
    data = load("order_on_hold_de.json")
    data.update(status="completed", date_completed_gmt="2026-03-15T08:00:00")
    assert parse("order.updated", body_of(data)).facts[0].paid_at == utc(2026, 3, 15, 8)
    data.update(date_paid_gmt="2026-03-14T10:25:00")
    assert parse("order.updated", body_of(data)).facts[0].paid_at == utc(2026, 3, 14, 10, 25)
    data.update(status="refunded")
    order = parse("order.updated", body_of(data)).facts[0]
    assert (order.financial_status, order.paid_at) == (
        FinancialStatus.REFUNDED,
        utc(2026, 3, 14, 10, 25),
    )


def test_plugin_status_is_paid_when_dated_else_malformed() -> None:
    data = load("order_on_hold_de.json")
    data["status"] = "awaiting-shipment"
    with pytest.raises(MalformedPayload, match="status has unknown value 'awaiting-shipment'"):
        parse("order.updated", body_of(data))
    data["date_paid_gmt"] = "2026-03-14T10:21:00"
    assert parse("order.updated", body_of(data)).facts[0].financial_status is FinancialStatus.PAID


# -- deleted ------------------------------------------------------------------------------------


def test_deleted_with_only_an_id_yields_an_order_deleted() -> None:
    assert parse("order.deleted", raw("order_deleted.json")) == ParsedDelivery(
        topic="order.deleted", facts=(OrderDeleted(external_id="4711"),)
    )


def test_deleted_with_a_full_body_is_cancelled_at_modification() -> None:
    order = parse("order.deleted", raw("order_on_hold_de.json")).facts[0]
    assert order.cancelled_at == utc(2026, 3, 14, 10, 20, 7)
    data = load("order_checkout_draft_fr.json")
    assert parse("order.deleted", body_of(data)).facts == ()


def test_deleted_without_a_valid_id_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="id is required"):
        parse("order.deleted", b"{}")


# -- malformed ----------------------------------------------------------------------------------


def _with(**changes: Any) -> bytes:
    data = load("order_on_hold_de.json")
    data.update(changes)
    return body_of(data)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"webhook_id=abc", "body is not valid JSON"),
        (b'{"order": {"id": 1}}', "legacy API payload"),
        (_with(status=None), "status is required"),
        (_with(status=5), "status must be a string"),
        (_with(date_modified_gmt=None), "date_modified_gmt is required"),
        (_with(date_created_gmt="14.03.2026"), "date_created_gmt must be an ISO 8601"),
        (_with(currency="€"), "currency must be a three-letter"),
        (_with(total="12,50"), "total must be a decimal amount"),
        (_with(billing="Jonas"), "billing must be an object"),
        (_with(line_items={"id": 1}), "line_items must be an array"),
        (_with(line_items=[{"name": "x", "quantity": 0, "price": 1}]), "quantity must be a pos"),
        (_with(line_items=[{"name": "", "quantity": 1, "price": 1}]), r"\[0\].name is required"),
        (_with(line_items=[{"name": "x", "quantity": 1}]), r"line_items\[0\].total is required"),
    ],
)
def test_malformed_payloads_name_the_field(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        parse("order.updated", body)


# -- fuzzing ------------------------------------------------------------------------------------

FUZZ_TOPICS = ["order.created", "order.updated", "order.deleted", "", "ping"]
NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))
FIXTURE_BODIES = [raw(n) for n in NAMES]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_parses_or_malformed(topic: str, body: bytes) -> None:
    try:
        result = woo.parse(topic=topic, headers={}, body=body)
    except MalformedPayload:
        return
    assert isinstance(result, ParsedDelivery)


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
@given(topic=st.sampled_from(FUZZ_TOPICS[:3]), name=st.sampled_from(NAMES), data=st.data())
def test_fuzz_fields_replaced_with_arbitrary_json(
    topic: str, name: str, data: st.DataObject
) -> None:
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
    assert_parses_or_malformed(topic, body_of(document))
