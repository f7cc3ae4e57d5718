"""The generic events API through HTTP, the worker, and the cases API — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import checkout_event, client, event, make_store, order_event, post_events
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.worker import run_once
from reclaim.services import ingest


def cases(c, key: str, **params: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = c.get("/api/v1/cases", params=params, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()["cases"]


def test_abandoned_checkout_becomes_a_case_after_the_delay(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    r = post_events(c, store.api_key, checkout_event(t0, timezone="Europe/Berlin"))
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 1

    run_once(rt, t0 + timedelta(minutes=29))
    assert cases(c, store.api_key) == []

    stats = run_once(rt, t0 + timedelta(minutes=30))
    assert stats.detected.opened == 1
    [case] = cases(c, store.api_key)
    assert case["kind"] == "abandoned_checkout"
    assert case["status"] == "open"
    assert case["value"] == "1234.56"
    assert case["currency"] == "EUR"
    assert case["email"] == "ana@example.com"
    assert case["reason"] == "checkout_abandoned"
    assert case["customer_locale"] == "de-DE"
    assert case["customer_timezone"] == "Europe/Berlin"
    assert case["created_at"] == "2026-05-01T10:30:00Z"
    assert case["items"] == [
        {
            "name": "Mug",
            "quantity": 2,
            "price": "617.28",
            "sku": "MUG-1",
            "product_id": None,
            "variant_id": None,
            "image_url": None,
        }
    ]
    detail = c.get(
        f"/api/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {store.api_key}"}
    )
    assert detail.status_code == 200
    assert [e["type"] for e in detail.json()["timeline"]] == ["opened", "flow_started"]

    # Running again at the same instant opens nothing more.
    assert run_once(rt, t0 + timedelta(minutes=31)).detected.opened == 0


def test_order_paid_after_the_case_opened_recovers_it(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, checkout_event(t0))
    run_once(rt, t0 + timedelta(hours=1))
    paid = order_event("order.paid", t0 + timedelta(hours=2), checkout_id="c1")
    assert post_events(c, store.api_key, paid).status_code == 202
    run_once(rt, t0 + timedelta(hours=2, minutes=1))
    [case] = cases(c, store.api_key)
    assert case["status"] == "recovered"
    assert case["recovered_order_id"] == "o1"
    assert case["recovered_value"] == "1234.56"
    assert case["attribution"] == "organic"
    assert cases(c, store.api_key, status="open") == []


def test_same_customer_paying_overlapping_items_recovers_the_case(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, checkout_event(t0))
    run_once(rt, t0 + timedelta(hours=1))
    post_events(
        c,
        store.api_key,
        order_event("order.paid", t0 + timedelta(days=2), order_id="o9", email="ANA@example.com"),
    )
    run_once(rt, t0 + timedelta(days=2, minutes=1))
    [case] = cases(c, store.api_key)
    assert (case["status"], case["recovered_order_id"]) == ("recovered", "o9")


def test_purchase_of_other_items_does_not_recover(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, checkout_event(t0))
    run_once(rt, t0 + timedelta(hours=1))
    other = order_event(
        "order.paid",
        t0 + timedelta(days=1),
        order_id="o9",
        items=[{"sku": "TEA-9", "name": "Tea", "quantity": 1, "price": "5"}],
        total="5",
    )
    post_events(c, store.api_key, other)
    run_once(rt, t0 + timedelta(days=1, minutes=1))
    assert [x["status"] for x in cases(c, store.api_key)] == ["open"]


def test_pending_order_case_then_paid(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(
        c,
        store.api_key,
        order_event("order.created", t0, status="pending", payment_method="bank_transfer"),
    )
    run_once(rt, t0 + timedelta(minutes=30))
    [case] = cases(c, store.api_key)
    assert (case["kind"], case["reason"], case["reason_code"]) == (
        "pending_order",
        "awaiting_payment",
        "bank_transfer",
    )
    post_events(c, store.api_key, order_event("order.paid", t0 + timedelta(hours=5)))
    run_once(rt, t0 + timedelta(hours=5))
    [case] = cases(c, store.api_key)
    assert case["status"] == "recovered"


def test_cancelled_pending_order_closes_its_case(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, order_event("order.created", t0, status="pending"))
    run_once(rt, t0 + timedelta(hours=1))
    post_events(
        c, store.api_key, order_event("order.cancelled", t0 + timedelta(days=5), status="cancelled")
    )
    run_once(rt, t0 + timedelta(days=5))
    [case] = cases(c, store.api_key)
    assert (case["status"], case["close_reason"]) == ("cancelled", "order_cancelled")


def test_failed_payment_reason_and_later_success(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    failed = event(
        "payment.failed",
        t0,
        payment_id="ch_1",
        intent_id="pi_1",
        amount="49.90",
        currency="EUR",
        decline_code="insufficient_funds",
        code="card_declined",
        email="bo@example.com",
    )
    post_events(c, store.api_key, failed)
    run_once(rt, t0 + timedelta(minutes=4))
    assert cases(c, store.api_key) == []
    run_once(rt, t0 + timedelta(minutes=5))
    [case] = cases(c, store.api_key)
    assert (case["kind"], case["reason"], case["reason_code"], case["value"]) == (
        "failed_payment",
        "insufficient_funds",
        "insufficient_funds",
        "49.90",
    )
    ok = event(
        "payment.succeeded",
        t0 + timedelta(hours=3),
        payment_id="ch_2",
        intent_id="pi_1",
        amount="49.90",
        currency="EUR",
        email="bo@example.com",
    )
    post_events(c, store.api_key, ok)
    run_once(rt, t0 + timedelta(hours=3))
    [case] = cases(c, store.api_key)
    assert case["status"] == "recovered"


def test_failure_fixed_within_the_grace_never_opens(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(
        c,
        store.api_key,
        [
            event(
                "payment.failed",
                t0,
                payment_id="pi_2",
                amount="10",
                currency="EUR",
                decline_code="expired_card",
                email="x@example.com",
            ),
            event(
                "payment.succeeded",
                t0 + timedelta(minutes=2),
                payment_id="pi_2",
                amount="10",
                currency="EUR",
                email="x@example.com",
            ),
        ],
    )
    assert run_once(rt, t0 + timedelta(hours=1)).detected.opened == 0
    assert cases(c, store.api_key) == []


def test_paid_before_created_ends_paid_with_no_case(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, order_event("order.paid", t0 + timedelta(minutes=2)))
    post_events(c, store.api_key, order_event("order.created", t0, status="pending"))
    assert run_once(rt, t0 + timedelta(days=1)).detected.opened == 0
    assert cases(c, store.api_key) == []


def test_stale_checkout_update_does_not_overwrite(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, checkout_event(t0 + timedelta(minutes=10), total="50.00"))
    post_events(c, store.api_key, checkout_event(t0, total="10.00"))
    run_once(rt, t0 + timedelta(minutes=40))
    [case] = cases(c, store.api_key)
    assert case["value"] == "50.00"
    assert case["occurred_at"] == "2026-05-01T10:10:00Z"


def test_newest_checkout_of_a_customer_supersedes_older_ones(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, checkout_event(t0, checkout_id="old"))
    run_once(rt, t0 + timedelta(minutes=30))  # the old one is a case now
    post_events(
        c, store.api_key, checkout_event(t0 + timedelta(hours=2), checkout_id="new", total="20.00")
    )
    post_events(
        c, store.api_key, checkout_event(t0 + timedelta(hours=1), checkout_id="mid", total="15.00")
    )
    run_once(rt, t0 + timedelta(hours=3))
    got = {x["checkout_id"]: x for x in cases(c, store.api_key)}
    assert set(got) == {"old", "new"}  # "mid" was superseded before it was due
    assert (got["old"]["status"], got["old"]["close_reason"]) == ("cancelled", "superseded")
    assert got["new"]["status"] == "open"
    assert got["new"]["merged_from"] == [got["old"]["id"]]


@pytest.mark.parametrize(
    ("extra", "settings"),
    [
        ({"user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}, {}),
        ({"test": True}, {}),
        ({"email": "qa@shop.example"}, {"test_emails": ("qa@shop.example",)}),
        ({"email": "x@staging.example"}, {"test_domains": ("staging.example",)}),
        ({"email": None}, {}),
    ],
)
def test_bots_tests_and_contactless_checkouts_are_filtered(
    rt: Runtime, clock, extra, settings
) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt, **settings)
    c = client(rt)
    t0 = clock.now
    assert post_events(c, store.api_key, checkout_event(t0, **extra)).status_code == 202
    stats = run_once(rt, t0 + timedelta(hours=1))
    assert (stats.inbox.processed, stats.detected.opened, stats.detected.skipped) == (1, 0, 1)
    assert cases(c, store.api_key) == []


def test_backlog_before_activation_is_never_a_case(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)  # activated one day before clock.now
    c = client(rt)
    post_events(c, store.api_key, checkout_event(clock.now - timedelta(days=3)))
    assert run_once(rt, clock.now).detected.opened == 0
    assert cases(c, store.api_key) == []


def test_duplicates_change_nothing(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    e = checkout_event(clock.now)
    e["id"] = "evt-1"
    assert post_events(c, store.api_key, e).json()["accepted"] == 1
    again = post_events(c, store.api_key, e)
    assert again.status_code == 202 and again.json()["duplicate"] == 1
    e2 = dict(e, occurred_at=e["occurred_at"])  # same id, different bytes order-insensitive
    e2["data"] = dict(e["data"], total="1.00")
    assert post_events(c, store.api_key, e2).json()["duplicate"] == 1
    with rt.uow() as uow:
        assert uow.inbox.counts() == {"received": 1}


def test_malformed_event_is_rejected_with_a_reason_and_kept(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    bad = checkout_event(clock.now)
    bad["data"]["items"][0]["quantity"] = -2
    r = post_events(c, store.api_key, [checkout_event(clock.now, checkout_id="ok"), bad])
    assert r.status_code == 422
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["results"][1]["index"] == 1
    assert "quantity" in body["results"][1]["error"]
    r = post_events(c, store.api_key, b"{not json")
    assert r.status_code == 422 and r.json()["rejected"] == 1
    with rt.uow() as uow:
        failed = uow.inbox.list(store_id=store.id, statuses=["failed"], limit=10)
    assert len(failed) == 2
    assert {bytes(f.body)[:9] for f in failed} >= {b"{not json"}
    # Replaying a dead letter that is still malformed keeps it in the list, nothing else changes.
    assert ingest.replay(uow=rt.uow(), store_id=store.id, statuses=["failed"], ids=None) == 2
    stats = run_once(rt, clock.now)
    assert (stats.inbox.processed, stats.inbox.failed) == (1, 2)


def test_auth(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    other = make_store(rt, name="Other")
    c = client(rt)
    assert c.get("/api/v1/cases").status_code == 401
    assert (
        c.get("/api/v1/cases", headers={"Authorization": "Bearer rk_00000000_nope"}).status_code
        == 401
    )
    assert post_events(c, "rk_zz_bad", checkout_event(clock.now)).status_code == 401
    post_events(c, store.api_key, checkout_event(clock.now))
    run_once(rt, clock.now + timedelta(hours=1))
    [case] = cases(c, store.api_key)
    assert cases(c, other.api_key) == []
    r = c.get(f"/api/v1/cases/{case['id']}", headers={"Authorization": f"Bearer {other.api_key}"})
    assert r.status_code == 404


def test_filters_and_pagination(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(
        c,
        store.api_key,
        [checkout_event(t0, checkout_id=f"c{i}", email=f"u{i}@example.com") for i in range(7)],
    )
    post_events(
        c, store.api_key, order_event("order.created", t0, status="pending", email="p@example.com")
    )
    run_once(rt, t0 + timedelta(hours=1))
    h = {"Authorization": f"Bearer {store.api_key}"}
    seen, cursor = [], None
    while True:
        params = {"limit": "3", "kind": "abandoned_checkout"} | (
            {"cursor": str(cursor)} if cursor else {}
        )
        page = c.get("/api/v1/cases", params=params, headers=h).json()
        seen += [x["id"] for x in page["cases"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7 and seen == sorted(seen, reverse=True)
    assert [x["kind"] for x in cases(c, store.api_key, kind="pending_order")] == ["pending_order"]
    assert cases(c, store.api_key, since="2026-05-02T00:00:00Z") == []
    assert c.get("/api/v1/cases", params={"status": "bogus"}, headers=h).status_code == 422
    assert (
        c.get("/api/v1/cases", params={"since": "2026-05-02T00:00:00"}, headers=h).status_code
        == 422
    )


def test_health_and_readiness(rt: Runtime) -> None:
    c = client(rt)
    assert c.get("/healthz").json()["status"] == "ok"
    assert c.get("/readyz").json() == {"status": "ready"}
    spec = c.get("/openapi.json").json()
    assert {
        "/webhooks/{platform}/{store_id}",
        "/api/v1/events",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
    } <= set(spec["paths"])


def test_failed_payment_on_a_checkout_is_its_only_case(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    failed = event(
        "payment.failed", t0 + timedelta(minutes=1), payment_id="p1", checkout_id="c1",
        amount="1234.56", currency="EUR", decline_code="insufficient_funds", email="ana@example.com",
    )  # fmt: skip
    post_events(c, store.api_key, [checkout_event(t0, checkout_id="c1"), failed])
    run_once(rt, t0 + timedelta(hours=1))
    assert [(x["kind"], x["status"]) for x in cases(c, store.api_key)] == [
        ("failed_payment", "open")
    ]


def test_checkout_case_gives_way_to_a_later_payment_failure(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    post_events(c, store.api_key, checkout_event(t0, checkout_id="c1"))
    run_once(rt, t0 + timedelta(hours=1))
    failed = event(
        "payment.failed", t0 + timedelta(hours=2), payment_id="p1", checkout_id="c1",
        amount="1234.56", currency="EUR", decline_code="expired_card", email="ana@example.com",
    )  # fmt: skip
    post_events(c, store.api_key, failed)
    run_once(rt, t0 + timedelta(hours=3))
    got = {x["kind"]: x for x in cases(c, store.api_key)}
    assert (got["abandoned_checkout"]["status"], got["abandoned_checkout"]["close_reason"]) == (
        "cancelled",
        "superseded",
    )
    assert got["failed_payment"]["merged_from"] == [got["abandoned_checkout"]["id"]]


def paid_without_order(at, email: str = "ana@example.com"):  # type: ignore[no-untyped-def]
    return event(
        "payment.succeeded", at, payment_id=f"px-{email}", amount="20", currency="EUR", email=email
    )


def test_a_payment_for_no_known_order_counts_as_a_purchase(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt)
    c = client(rt)
    t0 = clock.now
    # Paid before the checkout was due: no case. Paid after: the open case is recovered.
    post_events(
        c,
        store.api_key,
        [checkout_event(t0, checkout_id="a"), paid_without_order(t0 + timedelta(minutes=10))],
    )
    post_events(c, store.api_key, checkout_event(t0, checkout_id="b", email="bo@example.com"))
    run_once(rt, t0 + timedelta(hours=1))
    [case] = cases(c, store.api_key)
    assert (case["checkout_id"], case["status"]) == ("b", "open")
    post_events(
        c, store.api_key, paid_without_order(t0 + timedelta(hours=5), email="bo@example.com")
    )
    run_once(rt, t0 + timedelta(hours=5))
    [case] = cases(c, store.api_key)
    assert (case["status"], case["close_reason"]) == ("recovered", "customer_purchase")
