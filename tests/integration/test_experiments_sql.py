"""Experiments (issue 15, docs/experiments.md) on SQLite and PostgreSQL: a hand-built history
whose answers are worked out here (the always-valid test's formula, the split's chi-square),
a customer with a case in each variant, assignment through the real detection path (the
same on the fakes), the split alert raised once by the worker, a stop that freezes the
decision, the report's "Experiments" section, and the HTTP API."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fakes import FakeUnitOfWork
from helpers import client
from reclaim.bootstrap import Runtime, report_html
from reclaim.domain.cases import Case
from reclaim.domain.events import Contact
from reclaim.domain.experiments import Experiment, assign
from reclaim.domain.variants import VariantSpec
from reclaim.services.alerts import list_alerts
from reclaim.services.detection import detect_due
from reclaim.services.experiment_view import experiment_json
from reclaim.services.experiments import (
    SRM_ALERT,
    check_splits,
    experiment_status,
    start_experiment,
    stop_experiment,
)
from reclaim.services.flows import case_key
from reclaim.services.ports import UnitOfWork
from reclaim.services.reports import build_report, report_json, report_rows
from reclaim.services.stores import add_key
from report_history import make_store
from service_builders import T0, cart, flow_defaults, ingest, open_store

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
AB = [VariantSpec("A"), VariantSpec("B", overrides={"after": "3h"})]


def expected_msprt(kb: int, nb: int, ka: int, na: int) -> tuple[float, float, float, float]:
    """B − A, its always-valid p-value and 95 % confidence sequence, from the mixture
    likelihood ratio (Johari et al. 2022) with τ = 0.05 and each rate shrunk to
    (k + 1) / (n + 2) for its variance."""

    def var(k: int, n: int) -> float:
        r = (k + 1) / (n + 2)
        return r * (1 - r) / n

    diff, v, t2 = kb / nb - ka / na, var(kb, nb) + var(ka, na), 0.05**2
    ratio = math.sqrt(v / (v + t2)) * math.exp(t2 * diff**2 / (2 * v * (v + t2)))
    half = math.sqrt(2 * v * (v + t2) / t2 * (math.log(1 / 0.05) + 0.5 * math.log((v + t2) / v)))
    return diff, min(1.0, 1 / ratio), diff - half, diff + half


def expected_split(a: int, b: int) -> float:
    """The chi-square p-value of a:b against 1:1 (one degree of freedom: erfc(√(χ²/2)))."""
    mid = (a + b) / 2
    chi2 = ((a - mid) ** 2 + (b - mid) ** 2) / mid
    return math.erfc(math.sqrt(chi2 / 2))


def _case(store_id: str, name: str, at: datetime, **kw: Any) -> Case:
    back = kw.pop("back", False)
    customer = kw.pop("customer", f"{name}@example.com")
    kw.setdefault("flow_state", "running")
    case = Case(
        store_id=store_id,
        kind="abandoned_checkout",
        subject_id=name,
        customer_key=customer,
        email=customer,
        phone=None,
        contact=Contact(email=customer),
        value=Decimal(40),
        currency="EUR",
        items=(),
        reason="test",
        occurred_at=at - timedelta(minutes=30),
        created_at=at,
        flow_id=1,
        **kw,
    )
    if back:
        case.recover(at=at + timedelta(hours=4), order_external_id=None, value=None, how="paid")
    return case


def build(rt: Runtime) -> tuple[str, Experiment]:
    """November 2026 of a store testing its reminder 1 h (A, the control) against 3 h (B):

    * A: 149 cases, 29 recovered, and the twin customer's first case, recovered: 150 / 30;
    * B: 149 cases, 60 recovered, and the twin's second case, not recovered: 150 / 60;
    * B, 3 December: one more case, recovered (the status counts it, November's report not);
    * a held-out case and another store's case: in no variant, never counted.
    """
    store_id = make_store(rt, "Lab")
    other = make_store(rt, "Elsewhere")
    experiment = start_experiment(
        uow=rt.uow(),
        store_id=store_id,
        name="delay",
        kind="abandoned_checkout",
        variants=AB,
        step="reminder",
        defaults=rt.flow_defaults,
        now=START,
    ).experiment
    uow = rt.uow()
    with uow:

        def add(name: str, at: datetime, variant: str | None, **kw: Any) -> None:
            ids = {"experiment_id": experiment.id, "variant": variant} if variant else {}
            uow.cases.add(_case(kw.pop("store", store_id), name, at, **ids, **kw))

        for i in range(149):
            at = START + timedelta(hours=2 + i * 4)
            add(f"a{i}", at, "A", back=i < 29)
            add(f"b{i}", at + timedelta(minutes=1), "B", back=i < 60)
        add("twin-1", START + timedelta(days=3), "A", customer="twin@example.com", back=True)
        add("twin-2", START + timedelta(days=9), "B", customer="twin@example.com")
        add("december", datetime(2026, 12, 3, 10, 0, tzinfo=UTC), "B", back=True)
        add("held", START + timedelta(days=1), None, holdout=True, flow_state="holdout")
        add("elsewhere", START + timedelta(days=1), None, store=other, back=True)
        uow.commit()
    return store_id, experiment


def test_the_status_is_what_the_history_says(rt: Runtime) -> None:
    store_id, _ = build(rt)
    [view] = experiment_status(uow=rt.reader(), store_id=store_id, now=NOW)
    data = experiment_json(view)
    # The twin's two cases count once each, in their own variant.
    assert [(v["key"], v["cases"], v["recovered"]) for v in data["variants"]] == [
        ("A", 150, 30),
        ("B", 151, 61),
    ]
    assert data["variants"][1]["overrides"] == {"after": "3h"}
    assert [v["flow_version"] for v in data["variants"]] == [1, 2]
    diff, p, low, high = expected_msprt(61, 151, 30, 150)
    [c] = data["comparisons"]
    assert (c["variant"], c["control"], c["tested"]) == ("B", "A", True)
    assert c["difference"] == pytest.approx(diff, abs=1e-6)
    assert c["p_value"] == pytest.approx(p, abs=1e-6)
    assert c["confidence_sequence"] == pytest.approx([low, high], abs=1e-6)
    assert p < 0.05 and low > 0  # B recovers more, and the test may say so
    assert data["srm_p_value"] == pytest.approx(expected_split(150, 151), abs=1e-6)
    assert (data["decision"], data["winner"]) == ("winner", "B")
    assert data["evidence"].startswith("B recovers 40.4 % (61 of 151), A 20.0 % (30 of 150)")
    assert data["status"] == "running" and data["as_of"] == "2026-12-07T09:00:00Z"


def test_the_report_shows_the_experiments_of_its_period(rt: Runtime) -> None:
    store_id, _ = build(rt)
    report = build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11")
    [x] = report_json(report)["experiments"]
    # November's cases only: the 3 December case is left out
    assert [(v["key"], v["cases"], v["recovered"]) for v in x["variants"]] == [
        ("A", 150, 30),
        ("B", 150, 60),
    ]
    diff, p, low, high = expected_msprt(60, 150, 30, 150)
    assert x["comparisons"][0]["p_value"] == pytest.approx(p, abs=1e-6)
    assert x["comparisons"][0]["confidence_sequence"] == pytest.approx([low, high], abs=1e-6)
    assert x["winner"] == "B" and x["status"] == "running"
    assert x["as_of"] == "2026-11-30T23:00:00Z"  # the period's end: midnight in Paris
    rows = list(report_rows(report))
    assert ("experiments", "delay:B", "cases", "150") in rows
    assert ("experiments", "delay", "winner", "B") in rows
    assert ("experiments", "delay:B", "vs_control.p_value", str(round(p, 6))) in rows
    page = report_html(report)
    assert "Experiments" in page and "B wins" in page and "delay" in page
    assert "B recovers 40.0 %" in page
    # October: the experiment had not started
    assert (
        report_json(build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-10"))[
            "experiments"
        ]
        == []
    )
    assert diff == pytest.approx(0.2)


def test_stopping_freezes_the_decision(rt: Runtime) -> None:
    store_id, experiment = build(rt)
    stopped = stop_experiment(uow=rt.uow(), store_id=store_id, name="delay", now=NOW)
    frozen = experiment_json(stopped)
    assert frozen["status"] == "stopped" and frozen["stopped_at"] == "2026-12-07T09:00:00Z"
    uow = rt.uow()
    with uow:  # every A case is recovered later, and a case is assigned to A after the stop
        for i in range(149):
            case = uow.cases.by_subject(store_id, "abandoned_checkout", f"a{i}")
            assert case is not None
            case.recover(at=NOW, order_external_id=None, value=None, how="paid")
        late = _case(store_id, "late", NOW + timedelta(days=1))
        late.experiment_id, late.variant = experiment.id, "A"
        uow.cases.add(late)
        uow.commit()
    [later] = experiment_status(uow=rt.reader(), store_id=store_id, now=NOW + timedelta(days=5))
    assert experiment_json(later) == frozen
    report = build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11")
    assert report_json(report)["experiments"][0]["variants"] == frozen["variants"]


def _assigned(uow: UnitOfWork, store_id: str) -> dict[str, Any]:
    view = start_experiment(
        uow=uow,
        store_id=store_id,
        name="three",
        kind="abandoned_checkout",
        variants=[
            VariantSpec("A", 2),
            VariantSpec("B", overrides={"after": "3h"}),
            VariantSpec("C", overrides={"channel": "sms", "fallback": "email"}),
        ],
        step="reminder",
        defaults=flow_defaults,
        now=T0,
    )
    for i in range(30):
        ingest(uow, store_id, cart(T0, checkout_id=f"k{i}", email=f"u{i}@example.com"), now=T0)
    opened = detect_due(uow=uow, now=T0 + timedelta(hours=1), flows=flow_defaults).opened
    with uow:
        cases = uow.cases.page(
            store_id=store_id, status=None, kind=None, since=None, after_id=None, limit=100
        )
        found = {c.subject_id: (c.variant, c.flow_id, c.next_step_at, case_key(c)) for c in cases}
    return {"opened": opened, "cases": found, "id": view.experiment.id}


def test_assignment_through_detection_is_stable(rt: Runtime) -> None:
    on_sql = _assigned(rt.uow(), open_store(rt.uow(), store_id="st_assign00001"))
    assert on_sql["opened"] == 30
    weights = [("A", 2), ("B", 1), ("C", 1)]
    for subject, (variant, _, due, key) in on_sql["cases"].items():
        assert key == f"st_assign00001:abandoned_checkout:{subject}"
        assert variant == assign(on_sql["id"], key, weights)  # the hash, nothing else
        assert due == T0 + timedelta(hours=3 if variant == "B" else 1)
    assert {v for v, *_ in on_sql["cases"].values()} == {"A", "B", "C"}
    # The fakes assign by the same rule, to the same flow versions.
    fake = FakeUnitOfWork()
    assert _assigned(fake, open_store(fake, store_id="st_assign00001")) == on_sql


def test_the_worker_raises_the_split_alert_once(rt: Runtime, clock: Any) -> None:
    from reclaim.entrypoints.worker import run_once

    store_id = open_store(rt.uow(), store_id="st_split000001")
    experiment = start_experiment(
        uow=rt.uow(),
        store_id=store_id,
        name="skewed",
        kind="abandoned_checkout",
        variants=AB,
        step="reminder",
        defaults=flow_defaults,
        now=T0,
    ).experiment
    uow = rt.uow()
    with uow:  # 120 : 80 of a 1:1 design: chi-square 8, p ≈ 0.0047: not yet alarming
        for i in range(200):
            variant = "A" if i < 120 else "B"
            uow.cases.add(
                _case(
                    store_id,
                    f"s{i}",
                    T0 + timedelta(seconds=i),
                    experiment_id=experiment.id,
                    variant=variant,
                )
            )
        uow.commit()
    assert expected_split(120, 80) > 0.001
    assert check_splits(uow=rt.uow(), now=T0) == 0
    with uow:  # 100 more to A: 220 : 80, chi-square 65
        for i in range(200, 300):
            uow.cases.add(
                _case(
                    store_id,
                    f"s{i}",
                    T0 + timedelta(seconds=i),
                    experiment_id=experiment.id,
                    variant="A",
                )
            )
        uow.commit()
    # a round of the worker that opens a case checks the split
    ingest(rt.uow(), store_id, cart(T0, checkout_id="w1", email="w@example.com"), now=T0)
    for hours in (1, 2):
        run_once(rt, T0 + timedelta(hours=hours))
    ingest(rt.uow(), store_id, cart(T0, checkout_id="w2", email="v@example.com"), now=T0)
    run_once(rt, T0 + timedelta(hours=3))
    alerts = [a for a in list_alerts(uow=rt.uow(), store_id=store_id) if a.type == SRM_ALERT]
    assert len(alerts) == 1
    assert alerts[0].data["experiment_id"] == experiment.id
    assert alerts[0].at == T0 + timedelta(hours=1)


# -- the API -----------------------------------------------------------------------------


def _http(rt: Runtime, scopes: list[str] | None = None) -> tuple[Any, dict[str, str], str]:
    store_id = open_store(rt.uow(), store_id="st_api00000001")
    key = add_key(uow=rt.uow(), store_id=store_id, scopes=scopes, now=T0).api_key
    return client(rt), {"Authorization": f"Bearer {key}"}, store_id


BODY = {
    "name": "delay",
    "kind": "abandoned_checkout",
    "step": "reminder",
    "variants": [{"key": "A"}, {"key": "B", "weight": 2, "overrides": {"after": "3h"}}],
}


def test_the_api_starts_lists_shows_and_stops(rt: Runtime) -> None:
    http, auth, store_id = _http(rt)
    r = http.post("/api/v1/experiments", json=BODY, headers=auth)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "running" and made["target"] == "reminder"
    # the store's abandoned-checkout flow is version 1; B runs version 2, made for it
    assert [(v["key"], v["weight"], v["flow_version"]) for v in made["variants"]] == [
        ("A", 1, 1),
        ("B", 2, 2),
    ]
    again = http.post("/api/v1/experiments", json=BODY, headers=auth)
    assert again.status_code == 409 and "already" in again.json()["detail"]
    listed = http.get("/api/v1/experiments", headers=auth).json()["experiments"]
    assert [e["name"] for e in listed] == ["delay"]
    one = http.get(f"/api/v1/experiments/{made['id']}", headers=auth)
    assert one.status_code == 200 and one.json() == listed[0]
    assert http.get("/api/v1/experiments/999999", headers=auth).status_code == 404
    stopped = http.post(f"/api/v1/experiments/{made['id']}/stop", headers=auth)
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert stopped.json()["decision"] == "keep running"
    assert http.get(f"/api/v1/experiments/{made['id']}", headers=auth).json() == stopped.json()
    with rt.uow() as uow:
        assert uow.experiments.running(store_id, "abandoned_checkout") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"variants": [{"key": "A"}]}, "variants"),
        ({"kind": "parcel"}, "kind"),
        ({"step": "nudge"}, "step"),
        ({"variants": [{"key": "A"}, {"key": "B", "weight": 0}]}, "variants.1.weight"),
        (
            {"variants": [{"key": "A"}, {"key": "B", "overrides": {"after": "soon"}}]},
            "variants[1].overrides.after",
        ),
        (
            {"variants": [{"key": "A"}, {"key": "B", "overrides": {"colour": "red"}}]},
            "variants[1].overrides.colour",
        ),
        ({"name": ""}, "name"),
    ],
)
def test_the_api_names_the_bad_field(rt: Runtime, change: dict[str, Any], field: str) -> None:
    http, auth, _ = _http(rt)
    r = http.post("/api/v1/experiments", json={**BODY, **change}, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and r.json()["detail"]


def test_the_api_needs_the_right_scope(rt: Runtime) -> None:
    http, auth, _ = _http(rt, scopes=["cases:read"])
    assert http.post("/api/v1/experiments", json=BODY).status_code == 401
    assert http.post("/api/v1/experiments", json=BODY, headers=auth).status_code == 403
    assert http.get("/api/v1/experiments", headers=auth).status_code == 200
    assert http.post("/api/v1/experiments/1/stop", headers=auth).status_code == 403
