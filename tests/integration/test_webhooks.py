"""Platform webhooks over HTTP → inbox → worker → cases, on SQLite and the real PostgreSQL.

Payloads are the documented shapes in tests/fixtures (see its README for the sources).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from helpers import client, make_store, shopify_headers, stripe_headers, woo_headers
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.worker import run_once

FIX = Path(__file__).resolve().parents[1] / "fixtures"
MARCH = datetime(2026, 3, 10, tzinfo=UTC)  # stores are activated before the fixtures' dates


def raw(platform: str, name: str) -> bytes:
    return (FIX / platform / name).read_bytes()


def edit(platform: str, name: str, **changes: Any) -> bytes:
    data = json.loads(raw(platform, name))
    data.update(changes)
    return json.dumps(data).encode()


def cases_of(rt: Runtime, key: str) -> list[dict[str, Any]]:
    r = client(rt).get("/api/v1/cases", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    return r.json()["cases"]


def inbox_counts(rt: Runtime) -> dict[str, int]:
    with rt.uow() as uow:
        return uow.inbox.counts()


def test_shopify_checkout_becomes_case_and_redeliveries_are_ignored(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt)
    c = client(rt)
    body = raw("shopify", "checkout_create_de.json")
    url = f"/webhooks/shopify/{store.id}"
    r = c.post(url, content=body, headers=shopify_headers(body, "checkouts/create", "wh-1"))
    assert (r.status_code, r.json()["status"]) == (200, "accepted")
    again = c.post(url, content=body, headers=shopify_headers(body, "checkouts/create", "wh-1"))
    assert again.json() == {"status": "duplicate", "delivery_id": r.json()["delivery_id"]}
    # Same bytes under another webhook id (a re-subscription) is still the same delivery.
    third = c.post(url, content=body, headers=shopify_headers(body, "checkouts/create", "wh-2"))
    assert third.json()["status"] == "duplicate"
    assert inbox_counts(rt) == {"received": 1}

    updated = datetime.fromisoformat("2026-03-14T10:07:45+01:00")
    run_once(rt, updated + timedelta(minutes=29))
    assert cases_of(rt, store.api_key) == []
    run_once(rt, updated + timedelta(minutes=30))
    [case] = cases_of(rt, store.api_key)
    assert case["kind"] == "abandoned_checkout"
    assert case["email"] == "lena.mueller@example.de"
    assert (case["value"], case["currency"]) == ("123.80", "EUR")
    assert case["customer_locale"].startswith("de")
    assert case["customer_timezone"] == "Europe/Berlin"
    assert case["checkout_id"] == json.loads(body)["token"]
    assert case["recovery_url"] == json.loads(body)["abandoned_checkout_url"]
    assert inbox_counts(rt) == {"processed": 1}


def test_the_same_bytes_under_another_topic_are_another_delivery(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    """Duplicates are per topic (issue 14): Shopify sends one order's bytes as
    ``orders/create`` and ``orders/updated``, WooCommerce its current state as
    ``order.created`` and ``order.updated``; neither is a repeat of the other."""
    clock.now = MARCH
    shop, woo = make_store(rt), make_store(rt, "Woo", platform="woocommerce")
    c = client(rt)
    body = raw("shopify", "order_create_pending_br.json")
    url = f"/webhooks/shopify/{shop.id}"
    first = c.post(url, content=body, headers=shopify_headers(body, "orders/create", "w-1"))
    other = c.post(url, content=body, headers=shopify_headers(body, "orders/updated", "w-2"))
    again = c.post(url, content=body, headers=shopify_headers(body, "orders/updated", "w-3"))
    assert [first.json()["status"], other.json()["status"]] == ["accepted", "accepted"]
    assert first.json()["delivery_id"] != other.json()["delivery_id"]
    assert again.json() == {"status": "duplicate", "delivery_id": other.json()["delivery_id"]}

    held = raw("woocommerce", "order_on_hold_de.json")
    url = f"/webhooks/woocommerce/{woo.id}"
    answers = [
        c.post(url, content=held, headers=woo_headers(held, topic)).json()
        for topic in ("order.created", "order.updated", "order.created", "order.updated")
    ]
    assert [a["status"] for a in answers] == ["accepted", "accepted", "duplicate", "duplicate"]
    assert answers[0]["delivery_id"] != answers[1]["delivery_id"]
    assert [a["delivery_id"] for a in answers[2:]] == [a["delivery_id"] for a in answers[:2]]

    with rt.uow() as uow:
        kept = uow.inbox.list(store_id=None, statuses=["received"], limit=10)
    assert sorted((d.source, d.topic, d.duplicates) for d in kept) == [
        ("shopify", "orders/create", 0),
        ("shopify", "orders/updated", 1),
        ("woocommerce", "order.created", 1),
        ("woocommerce", "order.updated", 1),
    ]
    run_once(rt, datetime(2026, 3, 20, tzinfo=UTC))  # each one is applied; the facts merge
    assert inbox_counts(rt) == {"processed": 4}
    assert [c["kind"] for c in cases_of(rt, shop.api_key)] == ["pending_order"]


def test_an_event_id_is_a_duplicate_only_under_its_own_topic(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    """The inbox's event-id key includes the topic, as its body-digest key does."""
    clock.now = MARCH
    store = make_store(rt)
    kept = []
    with rt.uow() as uow:
        for topic, body in (("a/b", b"1"), ("c/d", b"2"), ("a/b", b"3")):
            kept.append(
                uow.inbox.add(
                    store_id=store.id,
                    source="shopify",
                    topic=topic,
                    event_id="evt-1",
                    digest=topic + body.decode(),
                    headers={},
                    body=body,
                    received_at=MARCH,
                    status="received",
                    error=None,
                )
            )
        assert kept[0] is not None and kept[1] is not None and kept[2] is None
        assert kept[0] != kept[1]
        found = [
            uow.inbox.find_duplicate(
                store_id=store.id, source="shopify", topic=t, event_id="evt-1", digest="x"
            )
            for t in ("a/b", "c/d", "e/f")
        ]
        assert found == [kept[0], kept[1], None]
        uow.commit()


def test_shopify_pending_order_then_paid_recovers(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt)
    c = client(rt)
    url = f"/webhooks/shopify/{store.id}"
    created = raw("shopify", "order_create_pending_br.json")
    assert (
        c.post(
            url, content=created, headers=shopify_headers(created, "orders/create", "o-1")
        ).status_code
        == 200
    )
    t_created = datetime.fromisoformat("2026-03-16T14:05:33-03:00")
    run_once(rt, t_created + timedelta(hours=1))
    [case] = cases_of(rt, store.api_key)
    assert (case["kind"], case["status"], case["order_id"]) == (
        "pending_order",
        "open",
        "5987654321098",
    )

    paid_at = "2026-03-17T09:00:00-03:00"
    paid = edit(
        "shopify",
        "order_create_pending_br.json",
        financial_status="paid",
        updated_at=paid_at,
        processed_at=paid_at,
    )
    assert (
        c.post(url, content=paid, headers=shopify_headers(paid, "orders/paid", "o-2")).status_code
        == 200
    )
    run_once(rt, t_created + timedelta(days=1))
    [case] = cases_of(rt, store.api_key)
    assert (case["status"], case["recovered_order_id"]) == ("recovered", "5987654321098")


def test_shopify_pending_order_paid_next_day_is_recovered_when_and_because_it_was_paid(
    rt: Runtime, clock
) -> None:  # type: ignore[no-untyped-def]
    """The order carries its checkout's token: placing it completed that checkout, but only
    its payment settles the pending-order case (issue 14: it was recovered at its creation,
    ``checkout_completed``, by any later delivery of the order, before its reminders)."""
    clock.now = MARCH
    store = make_store(rt)
    c = client(rt)
    url = f"/webhooks/shopify/{store.id}"
    created = raw("shopify", "order_create_pending_br.json")
    r = c.post(url, content=created, headers=shopify_headers(created, "orders/create", "o-1"))
    assert r.json()["status"] == "accepted"
    t_created = datetime.fromisoformat("2026-03-16T14:05:33-03:00")
    for hours in (1, 2, 25, 26):  # the case opens, both reminders fall due
        run_once(rt, t_created + timedelta(hours=hours))

    # Still unpaid: an update (a note, a tag) changes nothing of the case.
    still = edit("shopify", "order_create_pending_br.json", updated_at="2026-03-17T15:30:00-03:00")
    r = c.post(url, content=still, headers=shopify_headers(still, "orders/updated", "o-2"))
    assert r.json()["status"] == "accepted"
    run_once(rt, t_created + timedelta(hours=26, minutes=30))
    [case] = cases_of(rt, store.api_key)
    assert (case["kind"], case["status"], case["closed_at"]) == ("pending_order", "open", None)

    paid_at = "2026-03-17T17:00:00-03:00"  # the next day, after both reminders
    paid = edit(
        "shopify",
        "order_create_pending_br.json",
        financial_status="paid",
        updated_at=paid_at,
        processed_at=paid_at,
    )
    r = c.post(url, content=paid, headers=shopify_headers(paid, "orders/paid", "o-3"))
    assert r.json()["status"] == "accepted"
    run_once(rt, t_created + timedelta(hours=27, minutes=15))
    [case] = cases_of(rt, store.api_key)
    assert (case["status"], case["close_reason"], case["closed_at"]) == (
        "recovered",
        "order_paid",
        "2026-03-17T20:00:00Z",
    )
    assert (case["recovered_order_id"], case["recovered_value"], case["currency"]) == (
        "5987654321098",
        "349.90",
        "BRL",
    )
    detail = client(rt).get(
        f"/api/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {store.api_key}"}
    )
    timeline = [(e["at"], e["type"]) for e in detail.json()["timeline"]]
    assert timeline == sorted(timeline, key=lambda e: e[0])  # in time order, as recorded
    assert [t for _, t in timeline].count("recovered") == 1
    assert timeline[-2:] == [
        ("2026-03-17T20:00:00Z", "flow_stopped"),
        ("2026-03-17T20:00:00Z", "recovered"),
    ]
    assert [e["data"] for e in detail.json()["timeline"] if e["type"] == "recovered"] == [
        {
            "how": "order_paid",
            "order": "5987654321098",
            "attribution": "organic",
            "message": None,
        }
    ]
    steps = {s["step"]: s["due_at"] for s in detail.json()["steps"]}
    assert steps["reminder"] < steps["reminder_2"] < case["closed_at"]


def test_shopify_paid_before_created_never_opens(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt)
    c = client(rt)
    url = f"/webhooks/shopify/{store.id}"
    paid_at = "2026-03-16T14:07:00-03:00"
    paid = edit(
        "shopify",
        "order_create_pending_br.json",
        financial_status="paid",
        updated_at=paid_at,
        processed_at=paid_at,
    )
    created = raw("shopify", "order_create_pending_br.json")
    c.post(url, content=paid, headers=shopify_headers(paid, "orders/paid", "p"))
    c.post(url, content=created, headers=shopify_headers(created, "orders/create", "c"))
    assert run_once(rt, datetime(2026, 3, 20, tzinfo=UTC)).detected.opened == 0
    assert cases_of(rt, store.api_key) == []


def test_shopify_rejections(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt)
    c = client(rt)
    url = f"/webhooks/shopify/{store.id}"
    body = raw("shopify", "checkout_create_de.json")
    bad = shopify_headers(body, "checkouts/create", "x", secret="not-the-secret")
    r = c.post(url, content=body, headers=bad)
    assert r.status_code == 401 and "signature" in r.json()["detail"]
    tampered = body.replace(b"123.80", b"1.00")
    assert (
        c.post(
            url, content=tampered, headers=shopify_headers(body, "checkouts/create", "y")
        ).status_code
        == 401
    )
    assert (
        c.post(
            "/webhooks/shopify/st_nope",
            content=body,
            headers=shopify_headers(body, "checkouts/create", "z"),
        ).status_code
        == 404
    )
    assert c.post(f"/webhooks/magento/{store.id}", content=body).status_code == 404
    assert inbox_counts(rt) == {}  # nothing unverified is kept

    junk = b'{"token": "abc", "total_price": "lots"'
    r = c.post(url, content=junk, headers=shopify_headers(junk, "checkouts/update", "j"))
    assert r.status_code == 422 and r.json()["status"] == "rejected" and r.json()["detail"]
    assert inbox_counts(rt) == {"failed": 1}
    with rt.uow() as uow:
        [dead] = uow.inbox.list(store_id=store.id, statuses=["failed"], limit=5)
    assert bytes(dead.body) == junk and dead.topic == "checkouts/update"


def test_woocommerce_on_hold_then_deleted(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="woocommerce")
    c = client(rt)
    url = f"/webhooks/woocommerce/{store.id}"
    held = raw("woocommerce", "order_on_hold_de.json")
    assert (
        c.post(url, content=held, headers=woo_headers(held, "order.created")).json()["status"]
        == "accepted"
    )
    run_once(rt, datetime(2026, 3, 15, tzinfo=UTC))
    [case] = cases_of(rt, store.api_key)
    assert (case["kind"], case["order_id"], case["currency"]) == ("pending_order", "4711", "EUR")
    deleted = raw("woocommerce", "order_deleted.json")
    assert (
        c.post(url, content=deleted, headers=woo_headers(deleted, "order.deleted")).status_code
        == 200
    )
    run_once(rt, datetime(2026, 3, 16, tzinfo=UTC))
    [case] = cases_of(rt, store.api_key)
    assert (case["status"], case["close_reason"]) == ("cancelled", "order_cancelled")


def test_woocommerce_failed_order_is_one_failed_payment_case(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="woocommerce")
    c = client(rt)
    failed = raw("woocommerce", "order_failed_br.json")
    assert (
        c.post(
            f"/webhooks/woocommerce/{store.id}",
            content=failed,
            headers=woo_headers(failed, "order.updated"),
        ).status_code
        == 200
    )
    run_once(rt, datetime(2026, 3, 17, tzinfo=UTC))
    [case] = cases_of(rt, store.api_key)
    assert (case["kind"], case["order_id"], case["currency"], case["value"]) == (
        "failed_payment",
        "4712",
        "BRL",
        "274.90",
    )
    assert case["email"] == "beatriz.oliveira@example.com.br"


def test_stripe_failure_reason_and_signature_tolerance(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="stripe")
    c = client(rt)
    url = f"/webhooks/stripe/{store.id}"
    body = raw("stripe", "payment_intent_payment_failed.json")
    sent_at = datetime.fromtimestamp(json.loads(body)["created"], UTC)
    clock.now = sent_at + timedelta(seconds=5)
    stale = stripe_headers(body, sent_at - timedelta(seconds=301))
    assert c.post(url, content=body, headers=stale).status_code == 401
    assert (
        c.post(url, content=body, headers=stripe_headers(body, sent_at)).json()["status"]
        == "accepted"
    )
    run_once(rt, sent_at + timedelta(minutes=10))
    [case] = cases_of(rt, store.api_key)
    assert (case["kind"], case["reason"], case["reason_code"]) == (
        "failed_payment",
        "insufficient_funds",
        "insufficient_funds",
    )
    assert (case["value"], case["currency"], case["order_id"]) == ("123.80", "EUR", "4715")
    assert case["email"] == "felix.huber@example.at"


def test_stripe_expired_checkout_session_is_abandoned_at_once(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="stripe")
    c = client(rt)
    body = raw("stripe", "checkout_session_expired.json")
    sent_at = datetime.fromtimestamp(json.loads(body)["created"], UTC)
    clock.now = sent_at
    r = c.post(f"/webhooks/stripe/{store.id}", content=body, headers=stripe_headers(body, sent_at))
    assert r.status_code == 200
    run_once(rt, sent_at)
    [case] = cases_of(rt, store.api_key)
    assert (case["kind"], case["reason"], case["value"], case["currency"]) == (
        "abandoned_checkout",
        "checkout_expired",
        "59.95",
        "GBP",
    )
    assert case["recovery_url"] == "https://buy.stripe.com/r/live_YWNjdF8xMjM0NTY3ODkw"


def test_stripe_session_made_by_the_recovery_link_recovers_the_abandoned_one(
    rt: Runtime, clock
) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="stripe")
    c = client(rt)
    url = f"/webhooks/stripe/{store.id}"
    for name in ("checkout_session_expired.json", "checkout_session_completed.json"):
        body = raw("stripe", name)
        data = json.loads(body)
        if name.endswith("completed.json"):  # the customer's email is not on it: no other link
            data["data"]["object"]["customer_details"]["email"] = None
            body = json.dumps(data).encode()
        sent_at = datetime.fromtimestamp(data["created"], UTC)
        clock.now = sent_at
        assert c.post(url, content=body, headers=stripe_headers(body, sent_at)).status_code == 200
        run_once(rt, sent_at)
    [case] = cases_of(rt, store.api_key)  # the completed session opens no case of its own
    assert case["checkout_id"] == "cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ"
    assert (case["status"], case["close_reason"], case["recovered_value"]) == (
        "recovered",
        "checkout_recovered",
        "54.55",
    )


def test_ignored_topics_are_kept_but_not_processed(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="stripe")
    c = client(rt)
    body = raw("stripe", "customer_created.json")
    sent_at = datetime.fromtimestamp(json.loads(body)["created"], UTC)
    clock.now = sent_at
    r = c.post(f"/webhooks/stripe/{store.id}", content=body, headers=stripe_headers(body, sent_at))
    assert r.status_code == 200
    assert inbox_counts(rt) == {"ignored": 1}
    assert run_once(rt, sent_at).inbox.total == 0


def test_woocommerce_deleted_before_created_never_opens(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="woocommerce")
    c = client(rt)
    url = f"/webhooks/woocommerce/{store.id}"
    deleted = raw("woocommerce", "order_deleted.json")
    held = raw("woocommerce", "order_on_hold_de.json")
    c.post(url, content=deleted, headers=woo_headers(deleted, "order.deleted"))
    run_once(rt, datetime(2026, 3, 14, tzinfo=UTC))
    c.post(url, content=held, headers=woo_headers(held, "order.created"))
    assert run_once(rt, datetime(2026, 3, 16, tzinfo=UTC)).detected.opened == 0
    assert cases_of(rt, store.api_key) == []
    with rt.uow() as uow:
        order = uow.facts.order(store.id, "4711", lock=False)
        assert order is not None
        assert (order.currency, order.email, order.is_cancelled) == (
            "EUR",
            order.contact.email,
            True,
        )
        assert order.email is not None
