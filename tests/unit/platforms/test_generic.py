"""Generic events API: batch splitting, every event type, path-naming validation, fuzzing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.adapters.platforms.generic import GenericConnector, split_batch
from reclaim.domain.events import (
    Charges,
    CheckoutObserved,
    Contact,
    FinancialStatus,
    LineItem,
    OrderObserved,
    ParsedDelivery,
    PaymentObserved,
    ShipmentObserved,
    ShipmentStatus,
)
from reclaim.errors import MalformedPayload

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "generic"
NOW = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
generic = GenericConnector()


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw(name))
    return data


def body_of(data: object) -> bytes:
    return json.dumps(data).encode()


def parse(body: bytes) -> ParsedDelivery:
    return generic.parse(topic="", headers={}, body=body)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- connector surface, batches -----------------------------------------------------------------


def test_verify_accepts_anything_and_headers_carry_nothing() -> None:
    generic.verify(headers={}, body=b"\x00", secret="", now=NOW)
    assert generic.topic({"X-Topic": "order.paid"}) == ""
    assert generic.event_id({"Idempotency-Key": "k"}) is None


def test_split_single_event_and_batch() -> None:
    single = raw("order_paid_gb.json")
    assert split_batch(single) == [orjson.dumps(json.loads(single))]
    parts = split_batch(raw("batch.json"))
    assert [json.loads(p)["id"] for p in parts] == ["evt-1001", "evt-1002"]
    assert all(b"\n" not in p and b": " not in p for p in parts)  # compact
    assert [parse(p).topic for p in parts] == ["checkout.updated", "payment.failed"]


def test_split_accepts_exactly_1000_events() -> None:
    event = {"type": "order.paid", "occurred_at": "2026-03-14T10:00:00Z", "data": {}}
    assert len(split_batch(body_of([event] * 1000))) == 1000


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "body is empty"),
        (b"   ", "body is empty"),
        (b"[{", "body is not valid JSON"),
        (b"[]", "batch is empty"),
        (b'"order.paid"', "body must be an event object or an array"),
        (body_of([{}] * 1001), "batch has 1001 events; at most 1000"),
        (body_of([{}, {}, 7]), r"^\[2\] must be an event object$"),
        (body_of([{}, [], {}]), r"^\[1\] must be an event object$"),
        # valid JSON (orjson reads 1024 levels) that cannot be written back (254 levels)
        (b'{"a":' * 300 + b"1" + b"}" * 300, r"^cannot be stored: Recursion limit"),
        (b'[{}, {"a":' + b"[" * 300 + b"]" * 300 + b"}]", r"^\[1\] cannot be stored"),
    ],
)
def test_split_rejects_bad_batches(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason):
        split_batch(body)


# -- each type, exact ---------------------------------------------------------------------------


def test_checkout_updated_exact() -> None:
    assert parse(raw("checkout_updated.json")) == ParsedDelivery(
        topic="checkout.updated",
        event_id="evt-20260314-0001",
        facts=(
            CheckoutObserved(
                external_id="c-8812",
                contact=Contact(
                    email="lena.mueller@example.de",
                    phone="+4915123456789",
                    first_name="Lena",
                    last_name="Müller",
                    locale="de-DE",
                    country="DE",
                    region="BY",
                    timezone="Europe/Berlin",
                    accepts_email_marketing=True,
                    accepts_sms_marketing=None,
                    customer_ref="3391",
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
                        product_id="p-81",
                        variant_id="v-81-3",
                        image_url="https://cdn.shop.example.de/img/mp-ant.jpg",
                        url="https://shop.example.de/p/merino-pullover",
                    ),
                    LineItem(name="Wollsocken (2er-Pack)", quantity=2, unit_price=Decimal("14.5")),
                ),
                recovery_url="https://shop.example.de/cart/recover/c-8812?sig=4b1c",
                user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/125.0",
                shipping_quote=Decimal("4.90"),
            ),
        ),
    )


def test_order_created_jp_exact() -> None:
    (order,) = parse(raw("order_created_jp.json")).facts
    assert order == OrderObserved(
        external_id="o-2231",
        contact=Contact(
            email="haruto.sato@example.jp",
            first_name="陽翔",
            last_name="佐藤",
            locale="ja-JP",
            country="JP",
            timezone="Asia/Tokyo",
            accepts_sms_marketing=False,
        ),
        currency="JPY",
        total=Decimal("17300"),
        created_at=utc(2026, 3, 15, 12, 48, 10),
        updated_at=utc(2026, 3, 15, 12, 48, 10),
        financial_status=FinancialStatus.PENDING,
        items=(
            LineItem(name="Merino-Pullover", quantity=1, unit_price=Decimal(14800), sku="MP-NAT-S"),
        ),
        checkout_external_id="c-9001",
        payment_method="konbini",
        order_number="#2231",
        payment_url="https://shop.example.jp/orders/o-2231/pay",
    )
    assert parse(raw("order_created_jp.json")).event_id == "880021"


def test_order_paid_defaults_status_and_paid_at() -> None:
    delivery = parse(raw("order_paid_gb.json"))
    assert delivery.event_id is None
    assert delivery.facts == (
        OrderObserved(
            external_id="o-2232",
            contact=Contact(
                email="oliver.bennett@example.co.uk",
                locale="en-GB",
                country="GB",
                timezone="Europe/London",
            ),
            currency="GBP",
            total=Decimal("76.50"),
            created_at=utc(2026, 3, 17, 9, 12),
            updated_at=utc(2026, 3, 17, 11, 40, 27),
            financial_status=FinancialStatus.PAID,
            paid_at=utc(2026, 3, 17, 11, 40, 27),
        ),
    )


def test_order_charges_and_payment_instructions() -> None:
    event = load("order_paid_gb.json")
    event["data"].update(
        shipping="8.50",
        discount=2,
        tax="12.75",
        taxes_included=True,
        payment_method="bank_transfer",
        payment_instructions="  IBAN GB33 BUKB 2020 1555 5555 55\r\nReference: o-2232 ",
    )
    (order,) = parse(body_of(event)).facts
    assert order.charges == Charges(
        shipping=Decimal("8.50"), discount=Decimal("2"), tax=Decimal("12.75"), tax_included=True
    )
    assert order.payment_instructions == "IBAN GB33 BUKB 2020 1555 5555 55\nReference: o-2232"
    del event["data"]["shipping"], event["data"]["discount"], event["data"]["tax"]
    (order,) = parse(body_of(event)).facts
    assert order.charges is None  # taxes_included alone states no amount
    for bad, reason in (
        ({"shipping": "-1"}, "data.shipping must be a non-negative amount"),
        ({"payment_instructions": "IBAN\x07"}, "data.payment_instructions must be text"),
        ({"payment_instructions": 7}, "data.payment_instructions must be a string"),
    ):
        event = load("order_paid_gb.json")
        event["data"].update(bad)
        with pytest.raises(MalformedPayload, match=reason):
            parse(body_of(event))


def test_payment_failed_exact() -> None:
    (payment,) = parse(raw("payment_failed_br.json")).facts
    assert payment == PaymentObserved(
        external_id="tx-77120:failed",
        intent_id="o-2240",
        contact=Contact(
            email="ana.souza@example.com.br",
            phone="11987654321",
            first_name="Ana",
            locale="pt-BR",
            country="BR",
            region="SP",
            timezone="America/Sao_Paulo",
        ),
        amount=Decimal("349.90"),
        currency="BRL",
        succeeded=False,
        occurred_at=utc(2026, 3, 16, 20, 5, 33),
        order_external_id="o-2240",
        decline_code="do_not_honor",
        failure_code="card_declined",
        failure_message="Transação não autorizada",
        payment_method="card",
    )


def test_payment_succeeded_intent_defaults() -> None:
    event = load("payment_failed_br.json")
    event["type"] = "payment.succeeded"
    del event["data"]["order_id"]
    (payment,) = parse(body_of(event)).facts
    assert (payment.succeeded, payment.intent_id) == (True, "tx-77120")
    event["data"].update(checkout_id="c-1", intent_id=None)
    assert parse(body_of(event)).facts[0].intent_id == "c-1"
    event["data"].update(intent_id="pay-group-9")
    assert parse(body_of(event)).facts[0].intent_id == "pay-group-9"


def test_shipment_updated_exact() -> None:
    (shipment,) = parse(raw("shipment_updated.json")).facts
    assert shipment == ShipmentObserved(
        external_id="shp-5003",
        order_external_id="o-2232",
        status=ShipmentStatus.CUSTOMS_HOLD,
        occurred_at=utc(2026, 3, 19, 6, 45, 10),
        carrier="DHL Express",
        tracking_number="JD014600006281234567",
        tracking_url="https://www.dhl.com/track?id=JD014600006281234567",
        location="Leipzig, DE",
        estimated_delivery_at=utc(2026, 3, 22, 17, 0),
    )


@pytest.mark.parametrize(
    ("kind", "status", "expected", "paid", "cancelled"),
    [
        ("order.created", None, FinancialStatus.PENDING, False, False),
        ("order.created", "paid", FinancialStatus.PAID, True, False),
        ("order.updated", "failed", FinancialStatus.FAILED, False, False),
        ("order.updated", "refunded", FinancialStatus.REFUNDED, False, False),
        ("order.updated", "cancelled", FinancialStatus.PENDING, False, True),
        ("order.paid", None, FinancialStatus.PAID, True, False),
        ("order.paid", "PAID", FinancialStatus.PAID, True, False),
        ("order.cancelled", None, FinancialStatus.PENDING, False, True),
        ("order.cancelled", "refunded", FinancialStatus.REFUNDED, False, True),
    ],
)
def test_order_type_and_status_mapping(
    kind: str, status: str | None, expected: FinancialStatus, paid: bool, cancelled: bool
) -> None:
    event = load("order_paid_gb.json")
    event["type"] = kind
    event["data"]["status"] = status
    (order,) = parse(body_of(event)).facts
    at = utc(2026, 3, 17, 11, 40, 27)
    assert order.financial_status is expected
    assert order.paid_at == (at if paid else None)
    assert order.cancelled_at == (at if cancelled else None)


@pytest.mark.parametrize("status", [s.value for s in ShipmentStatus])
def test_every_shipment_status_is_accepted(status: str) -> None:
    event = load("shipment_updated.json")
    event["data"]["status"] = status
    assert parse(body_of(event)).facts[0].status is ShipmentStatus(status)


def test_checkout_without_contact_is_valid_and_created_at_defaults() -> None:
    event = {
        "type": "checkout.updated",
        "occurred_at": "2026-03-14T10:00:00Z",
        "data": {"checkout_id": 17, "currency": "usd", "total": 0, "test": True},
    }
    (checkout,) = parse(body_of(event)).facts
    assert checkout == CheckoutObserved(
        external_id="17",
        contact=Contact(),
        currency="USD",
        total=Decimal(0),
        created_at=utc(2026, 3, 14, 10),
        updated_at=utc(2026, 3, 14, 10),
        is_test=True,
    )


# -- validation ---------------------------------------------------------------------------------


def _checkout(**data: Any) -> bytes:
    event = load("checkout_updated.json")
    event["data"].update(data)
    return body_of(event)


def _event(**changes: Any) -> bytes:
    event = load("checkout_updated.json")
    event.update(changes)
    return body_of(event)


def _item(**changes: Any) -> bytes:
    event = load("checkout_updated.json")
    items = event["data"]["items"]
    items.append({"name": "Mütze", "quantity": 1, "price": "19.00"})
    items[2].update(changes)
    return body_of(event)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[{}]", "body must be one event object"),
        (_event(type="cart.abandoned"), "type must be one of checkout.updated, order.cancelled"),
        (_event(type=None), "type is required"),
        (_event(occurred_at=None), "occurred_at is required"),
        (_event(occurred_at="2026-03-14 10:00"), "occurred_at must include a UTC offset or Z"),
        (_event(occurred_at="2026-02-30T10:00:00Z"), "occurred_at must be an ISO 8601"),
        (_event(data=[]), "data must be an object"),
        (_event(id={"a": 1}), "id must be an id"),
        (_event(id="x" * 256), "id must be at most 255 characters"),
        (_checkout(checkout_id=None), "data.checkout_id is required"),
        (_checkout(checkout_id=True), "data.checkout_id must be an id"),
        (_checkout(currency="EURO"), "data.currency must be a three-letter ISO 4217 code"),
        (_checkout(total="abc"), "data.total must be a decimal amount"),
        (_checkout(total=-0.01), "data.total must be a non-negative amount"),
        (_checkout(total="1e12"), "data.total must be a non-negative amount below 10"),
        (_checkout(email="lena at example"), "data.email must be an email address"),
        (_checkout(country="Germany"), "data.country must be an ISO 3166-1 alpha-2"),
        (_checkout(locale="klingon-xx"), "data.locale must be a BCP-47 language tag"),
        (_checkout(timezone="Europe/Atlantis"), "data.timezone must be an IANA time zone"),
        (_checkout(accepts_marketing="yes"), "data.accepts_marketing must be true or false"),
        (_checkout(orders_count=-1), "data.orders_count must be an integer >= 0"),
        (_checkout(recovery_url="/cart/c-8812"), "data.recovery_url must be an absolute http"),
        (
            _checkout(recovery_url="https://shop.example/" + "a" * 5000),
            "data.recovery_url must be at most 4096 characters",
        ),
        (_checkout(email="a" * 400 + "@example.de"), "data.email must be an email address"),
        (_checkout(items="MP-ANT-M"), "data.items must be an array"),
        (_checkout(items=[{}] * 1001), "data.items must have at most 1000 entries"),
        (_item(quantity=-1), r"^data.items\[2\].quantity must be a positive integer$"),
        (_item(quantity=1.5), r"^data.items\[2\].quantity must be a positive integer$"),
        (_item(quantity=10**9), r"^data.items\[2\].quantity must be a positive integer$"),
        (_item(price=None), r"^data.items\[2\].price is required$"),
        (_item(price="NaN"), r"^data.items\[2\].price must be a non-negative amount"),
        (_item(name=" "), r"^data.items\[2\].name is required$"),
        (_item(image_url="javascript:alert(1)"), r"data.items\[2\].image_url must be an abs"),
        (_checkout(completed_at="soon"), "data.completed_at must be an ISO 8601"),
    ],
)
def test_validation_errors_name_the_json_path(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload, match=reason) as caught:
        parse(body)
    assert caught.value.field is None or isinstance(caught.value.field, str)


@pytest.mark.parametrize(
    ("kind", "data", "reason"),
    [
        ("order.updated", {"order_id": "o", "currency": "EUR", "total": 1}, "data.status is req"),
        ("order.created", {"order_id": "o", "currency": "EUR", "total": 1, "status": "open"},
         "data.status must be one of pending, paid, failed, refunded, cancelled"),
        ("order.paid", {"order_id": "o", "currency": "EUR", "total": 1, "status": "pending"},
         "data.status must be paid"),
        ("order.created", {"currency": "EUR", "total": 1}, "data.order_id is required"),
        ("payment.failed", {"payment_id": "p", "currency": "EUR"}, "data.amount is required"),
        ("shipment.updated", {"shipment_id": "s", "order_id": "o", "status": "lost"},
         "data.status must be one of label_created, in_transit"),
        ("shipment.updated", {"shipment_id": "s", "status": "delivered"},
         "data.order_id is required"),
    ],
)  # fmt: skip
def test_type_specific_validation(kind: str, data: dict[str, Any], reason: str) -> None:
    event = {"type": kind, "occurred_at": "2026-03-14T10:00:00+00:00", "data": data}
    with pytest.raises(MalformedPayload, match=reason):
        parse(body_of(event))


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("+49 (151) 2345-6789", "+4915123456789"),
        ("030 1234567", "0301234567"),
        (4915123456789, "4915123456789"),
        ("1234", None),
        ("+1" + "2" * 25, None),
        ("n/a", None),
    ],
)
def test_phone_is_normalised_minimally(phone: object, expected: str | None) -> None:
    (checkout,) = parse(_checkout(phone=phone)).facts
    assert checkout.contact.phone == expected


def test_field_attribute_carries_the_path() -> None:
    with pytest.raises(MalformedPayload) as caught:
        parse(_item(quantity=0))
    assert caught.value.field == "data.items[2].quantity"


# -- fuzzing ------------------------------------------------------------------------------------

NAMES = sorted(p.name for p in FIXTURES.glob("*.json") if p.name != "batch.json")
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


def assert_splits_or_malformed(body: bytes) -> None:
    try:
        parts = split_batch(body)
    except MalformedPayload:
        return
    assert 1 <= len(parts) <= 1000
    for part in parts:
        assert_parses_or_malformed(part)


@FUZZ
@given(body=st.binary(max_size=300))
def test_fuzz_random_bytes(body: bytes) -> None:
    assert_parses_or_malformed(body)
    assert_splits_or_malformed(body)


@FUZZ
@given(
    body=st.sampled_from([*FIXTURE_BODIES, raw("batch.json")]),
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
    assert_splits_or_malformed(bytes(mutated))


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


def test_checkout_charges_as_for_orders() -> None:
    event = load("checkout_updated.json")
    event["data"].update(shipping="4.90", tax="19.77", taxes_included=True)
    (checkout,) = parse(body_of(event)).facts
    assert isinstance(checkout, CheckoutObserved)
    assert checkout.charges == Charges(
        shipping=Decimal("4.90"), tax=Decimal("19.77"), tax_included=True
    )
