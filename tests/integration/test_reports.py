"""Reports (issue 15) on a hand-built history (tests/report_history.py), on SQLite and
PostgreSQL: every figure is worked out here from the rows written, then compared with what
the report says."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from reclaim.bootstrap import Runtime
from reclaim.domain.stats import needed_per_arm, newcombe
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.reports import build_report, report_json, report_rows
from report_history import NOW, build_history, make_store


def test_every_figure_of_a_month_is_what_the_history_says(rt: Runtime) -> None:
    store_id = build_history(rt)
    report = build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11")
    data = report_json(report)

    assert data["period"] == {
        "from": "2026-11-01",
        "to": "2026-12-01",
        "timezone": "Europe/Paris",
        "from_utc": "2026-10-31T23:00:00Z",  # midnight in Paris (CET)
        "to_utc": "2026-11-30T23:00:00Z",
    }
    # Funnel: 3 real carts (the test one left out), 2 with contact; 3 orders, 2 paid (o3 was
    # refunded later: still paid); 2 shipped, 1 delivered.
    assert [(s["stage"], s["count"]) for s in data["funnel"]] == [
        ("cart", 3),
        ("checkout", 2),
        ("order", 3),
        ("paid", 2),
        ("shipped", 2),
        ("delivered", 1),
    ]
    assert [s["conversion"] for s in data["funnel"]] == [
        None,
        round(2 / 3, 6),
        1.5,
        round(2 / 3, 6),
        1.0,
        0.5,
    ]
    # Cases: f1 (1 Nov 00:30 Paris) and f2 (30 Nov 23:30 Paris) count, f3 (1 Dec 00:30
    # Paris) does not; nor the shipment exception, nor the other store's case.
    cases = data["cases"]
    assert {k: (v["opened"], v["recovered"], v["refunded"]) for k, v in cases.items()} == {
        "abandoned_checkout": (15, 5, 1),
        "pending_order": (2, 1, 0),
        "failed_payment": (2, 0, 0),
    }
    assert cases["abandoned_checkout"]["rate"] == round(5 / 15, 6)
    assert cases["abandoned_checkout"]["benchmark"] == [0.15, 0.25]
    assert data["cases_total"]["opened"] == 19 and data["cases_total"]["recovered"] == 6

    # Revenue in EUR: attributed c1 100 + c4 200 USD × 0.9; organic c2 50 + h1 60; c3 was
    # refunded; p1's 70 GBP has no rate and stays apart.
    revenue = data["revenue"]
    assert data["recovered_revenue"] == "390.00" and data["currency"] == "EUR"
    assert (revenue["attributed"], revenue["organic"], revenue["total"]) == (
        "280.00",
        "110.00",
        "390.00",
    )
    assert (revenue["refunded"], revenue["refunded_cases"]) == ("80.00", 1)
    assert revenue["conversions"] == [
        {"what": "revenue", "currency": "GBP", "amount": "70.00", "rate": None, "converted": None},
        {
            "what": "revenue",
            "currency": "USD",
            "amount": "200.00",
            "rate": "0.9",
            "converted": "180.00",
        },
    ]
    # 4 messages sent (c5's never was): 280 / 4; one coupon's discount is known.
    assert (revenue["messages_sent"], revenue["per_message"]) == (4, "70.00")
    assert (revenue["coupons_redeemed"], revenue["coupon_cost"], revenue["coupons_unknown"]) == (
        2,
        "10.00",
        1,
    )
    assert revenue["net"] == "380.00"
    # Recovered after 1, 2, 3, 5, 24 and 216 hours: median 4 h, 90th percentile (nearest
    # rank: the 6th of 6) 216 h.
    assert data["time_to_recovery"] == {"recovered": 6, "median_s": 4 * 3600, "p90_s": 216 * 3600}

    # Lift: 14 messaged cases (5 recovered) against 5 held out (1 recovered).
    lift = data["lift"]
    low, high = newcombe(5, 14, 1, 5)
    assert (lift["messaged"], lift["holdout"]) == (14, 5)
    assert (lift["messaged_recovered"], lift["holdout_recovered"]) == (5, 1)
    assert lift["value"] == pytest.approx(5 / 14 - 1 / 5, abs=1e-6)
    assert lift["ci"] == pytest.approx([low, high], abs=1e-6)
    assert lift["enough_data"] is False
    assert lift["needed_per_arm"] == needed_per_arm(5 / 14, 1 / 5, 0.05)
    # Revenue per case: (100 + 50 + 180) / 14 − 60 / 5 (p1 has no rate, c3 was refunded).
    per_case = lift["revenue_per_case"]
    assert per_case["value"] == pytest.approx(330 / 14 - 12, abs=0.01)
    assert per_case["ci"][0] < per_case["value"] < per_case["ci"][1]
    checkouts = lift["by_kind"]["abandoned_checkout"]
    assert checkouts["value"] == pytest.approx(4 / 10 - 1 / 5, abs=1e-6)
    assert checkouts["ci"] == pytest.approx(list(newcombe(4, 10, 1, 5)), abs=1e-6)
    orders = lift["by_kind"]["pending_order"]
    assert orders["value"] is None and orders["ci"] is None and orders["enough_data"] is False

    # Reasons: inferred, share of the 19 cases; answers, share of the 2 that answered.
    assert data["reasons"] == [
        {"reason": "extra_costs", "cases": 3, "share": round(3 / 19, 6)},
        {"reason": "stock_unclear", "cases": 1, "share": round(1 / 19, 6)},
    ]
    assert data["customer_reasons"] == {
        "answered": 2,
        "reasons": [
            {"reason": "extra_costs", "cases": 1, "share": 0.5},
            {"reason": "trust", "cases": 1, "share": 0.5},
        ],
    }
    assert data["breakdown"] is None
    json.dumps(data)  # plain JSON
    rows = list(report_rows(report))
    assert ("cases", "pending_order", "opened", "2") in rows
    assert ("lift", "all", "ci", f"{round(low, 6)} {round(high, 6)}") in rows


def test_a_breakdown_by_device_and_by_channel(rt: Runtime) -> None:
    store_id = build_history(rt)
    by_device = report_json(
        build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11", by="device")
    )["breakdown"]
    assert by_device["by"] == "device"
    rows = {r["key"]: (r["opened"], r["recovered"], r["revenue"]) for r in by_device["rows"]}
    # c* on mobile: 10 opened, 4 recovered, 100 + 50 + 180 EUR; the rest on desktop.
    assert rows == {"mobile": (10, 4, "330.00"), "desktop": (9, 2, "60.00")}
    by_channel = report_json(
        build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11", by="channel")
    )["breakdown"]
    # Messages only to c1–c4 (sent); none of the recoveries points at a message here.
    assert [(r["key"], r["opened"], r["messages_sent"]) for r in by_channel["rows"]] == [
        ("email", 4, 4)
    ]


def test_an_empty_period_is_a_report_of_zeros(rt: Runtime) -> None:
    store_id = build_history(rt)
    data = report_json(build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-08"))
    assert all(s["count"] == 0 for s in data["funnel"])
    assert all(v["opened"] == 0 and v["rate"] is None for v in data["cases"].values())
    assert data["recovered_revenue"] == "0.00"
    assert data["lift"]["enough_data"] is False and data["lift"]["value"] is None
    assert data["lift"]["needed_per_arm"] == needed_per_arm(0.2, 0.2, 0.05)
    assert data["reasons"] == [] and data["time_to_recovery"]["median_s"] is None


def test_days_are_the_stores_and_the_end_day_is_left_out(rt: Runtime) -> None:
    store_id = build_history(rt)
    # 30 November only, in Paris: f2 (23:30 local), not f3 (00:30 on 1 December).
    data = report_json(
        build_report(
            uow=rt.reader(),
            store_id=store_id,
            now=NOW,
            start=date(2026, 11, 30),
            end=date(2026, 12, 1),
        )
    )
    assert data["cases"]["failed_payment"]["opened"] == 1
    assert data["cases_total"]["opened"] == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"month": "2027-01"}, "period"),  # the future
        ({"month": "2026-13"}, "period"),
        ({"start": date(2026, 11, 8), "end": date(2026, 11, 1)}, "to"),
        ({"month": "2026-11", "by": "colour"}, "by"),
        ({"month": "2026-11", "locale": "fr"}, "locale"),
    ],
)
def test_a_bad_period_names_its_field(rt: Runtime, kwargs: dict[str, Any], field: str) -> None:
    store_id = build_history(rt)
    with pytest.raises(InvalidInput) as exc:
        build_report(uow=rt.reader(), store_id=store_id, now=NOW, **kwargs)
    assert exc.value.field == field


def test_an_unknown_store_and_a_store_without_data_are_refused(rt: Runtime) -> None:
    with pytest.raises(NotFound, match="no store"):
        build_report(uow=rt.reader(), store_id="st_nosuchstore", now=NOW, month="2026-11")
    empty = make_store(rt, "Empty")
    with pytest.raises(NotFound, match="no data yet"):
        build_report(uow=rt.reader(), store_id=empty, now=NOW, month="2026-11")


def test_a_new_case_is_tagged_with_its_country_device_and_reasons(rt: Runtime) -> None:
    """Detection sets the country and device and records the reasons the facts support: a
    cart whose shipping is a large share of its value (domain.abandonment)."""
    from reclaim.services.detection import detect_due
    from service_builders import cart, ingest

    store_id = make_store(rt, "Tagged")
    t0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    ingest(
        rt.uow(),
        store_id,
        cart(
            t0,
            country="de",
            total="60.00",
            items=[{"sku": "MUG-1", "name": "Mug", "quantity": 1, "price": "40.00"}],
            shipping_quote="20.00",
            user_agent=iphone,
        ),
        now=t0,
    )
    assert detect_due(uow=rt.uow(), now=t0 + timedelta(hours=1)).opened == 1
    uow = rt.reader()
    with uow:
        case = uow.cases.by_subject(store_id, "abandoned_checkout", "c1")
        assert case is not None and case.id is not None
        assert (case.country, case.device) == ("DE", "mobile")
        reasons = uow.cases.reasons(case.id)
    assert [(r.reason, r.source) for r in reasons][:1] == [("extra_costs", "inferred")]
    assert reasons[0].detail


def _keyed(rt: Runtime, clock: Any, scopes: list[str] | None = None) -> tuple[str, str]:
    from reclaim.services.stores import add_key

    clock.now = NOW
    store_id = build_history(rt)
    return store_id, add_key(uow=rt.uow(), store_id=store_id, scopes=scopes, now=NOW).api_key


def test_the_api_answers_the_same_json(rt: Runtime, clock: Any) -> None:
    from helpers import client

    store_id, key = _keyed(rt, clock)
    auth = {"Authorization": f"Bearer {key}"}
    http = client(rt)
    r = http.get("/api/v1/reports/summary?from=2026-11-01&to=2026-12-01", headers=auth)
    assert r.status_code == 200, r.text
    data = r.json()
    expected = report_json(
        build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11")
    )
    assert data == expected
    assert data["lift"]["ci"] == pytest.approx(list(newcombe(5, 14, 1, 5)), abs=1e-6)
    by = http.get("/api/v1/reports/summary?period=2026-11&by=country", headers=auth).json()
    assert by["breakdown"]["rows"][0]["key"] == "FR"


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("from=2026-11-01", 422, "from"),  # no end
        ("from=2026-11-01&to=2026-10-01", 422, "to"),
        ("from=2027-02-01&to=2027-03-01", 422, "from"),  # the future
        ("from=2026-11-31&to=2026-12-01", 422, "from"),
        ("period=2026-11&by=colour", 422, "by"),
    ],
)
def test_the_api_names_the_bad_field(
    rt: Runtime, clock: Any, query: str, status: int, field: str
) -> None:
    from helpers import client

    _, key = _keyed(rt, clock)
    r = client(rt).get(
        f"/api/v1/reports/summary?{query}", headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == status, r.text
    assert r.json()["field"] == field and r.json()["detail"]


def test_the_api_needs_a_key_that_may_read(rt: Runtime, clock: Any) -> None:
    from helpers import client

    _, key = _keyed(rt, clock, scopes=["events:write"])
    http = client(rt)
    assert http.get("/api/v1/reports/summary?period=2026-11").status_code == 401
    r = http.get(
        "/api/v1/reports/summary?period=2026-11", headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 403


def test_the_api_says_when_a_store_has_no_data(rt: Runtime, clock: Any) -> None:
    from helpers import client
    from reclaim.services.stores import add_key

    clock.now = NOW
    empty = make_store(rt, "Empty")
    key = add_key(uow=rt.uow(), store_id=empty, now=NOW).api_key
    r = client(rt).get(
        "/api/v1/reports/summary?period=2026-11", headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 404 and "no data yet" in r.json()["detail"]
