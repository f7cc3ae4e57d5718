"""A :class:`Report` as JSON (the API's and ``--format json``'s answer) and as rows of one
long CSV table (``table, key, field, value``: every table of the report, one figure a row,
so a spreadsheet's pivot gives any of them back). Amounts are exact decimal text in the
store's currency; rates and shares are fractions (0.2 is 20 %)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from reclaim.domain.money import amount_text
from reclaim.services.experiment_view import experiment_json
from reclaim.services.ports.reports import FUNNEL_DIMENSIONS
from reclaim.services.reports.model import (
    BENCHMARK,
    KindFigures,
    LiftFigures,
    ReasonShare,
    Report,
)

CSV_HEADER = ("table", "key", "field", "value")


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _num(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _pair(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [round(ci[0], 6), round(ci[1], 6)]


def _kind_json(k: KindFigures, currency: str) -> dict[str, Any]:
    return {
        "opened": k.opened,
        "recovered": k.recovered,
        "rate": _num(k.rate),
        "refunded": k.refunded,
        "revenue": amount_text(k.revenue, currency),
        "attributed": amount_text(k.attributed, currency),
        "organic": amount_text(k.organic, currency),
        "benchmark": list(BENCHMARK),
    }


def _lift_json(x: LiftFigures, currency: str) -> dict[str, Any]:
    return {
        "value": _num(x.value),
        "ci": _pair(x.ci),
        "messaged": x.messaged,
        "holdout": x.holdout,
        "messaged_recovered": x.messaged_recovered,
        "holdout_recovered": x.holdout_recovered,
        "messaged_rate": _num(x.messaged_recovered / x.messaged if x.messaged else None),
        "holdout_rate": _num(x.holdout_recovered / x.holdout if x.holdout else None),
        "enough_data": x.enough_data,
        "needed_per_arm": x.needed_per_arm,
        "revenue_per_case": {
            "value": None if x.revenue_per_case is None else round(x.revenue_per_case, 2),
            "ci": None
            if x.revenue_ci is None
            else [round(x.revenue_ci[0], 2), round(x.revenue_ci[1], 2)],
            "currency": currency,
        },
    }


def _shares(items: tuple[ReasonShare, ...]) -> list[dict[str, Any]]:
    return [{"reason": r.reason, "cases": r.cases, "share": _num(r.share)} for r in items]


def report_json(report: Report) -> dict[str, Any]:
    cur = report.currency
    p, rev, t = report.period, report.revenue, report.timing

    def money(value: Decimal | None) -> str | None:
        return amount_text(value, cur)

    return {
        "store": {
            "id": report.store_id,
            "name": report.store_name,
            "currency": cur,
            "timezone": p.timezone,
        },
        "period": {
            "from": p.start.isoformat(),
            "to": p.end.isoformat(),
            "timezone": p.timezone,
            "from_utc": _iso(p.start_at),
            "to_utc": _iso(p.end_at),
        },
        "generated_at": _iso(report.generated_at),
        "locale": report.locale,
        "funnel": [
            {"stage": s.stage, "count": s.count, "conversion": _num(s.conversion)}
            for s in report.funnel
        ],
        "cases": {k.kind: _kind_json(k, cur) for k in report.kinds},
        "cases_total": _kind_json(report.total, cur),
        "recovered_revenue": money(rev.total),
        "currency": cur,
        "revenue": {
            "attributed": money(rev.attributed),
            "organic": money(rev.organic),
            "total": money(rev.total),
            "refunded": money(rev.refunded),
            "refunded_cases": rev.refunded_cases,
            "conversions": [
                {
                    "what": c.what,
                    "currency": c.currency,
                    "amount": amount_text(c.amount, c.currency),
                    "rate": None if c.rate is None else str(c.rate),
                    "converted": money(c.converted),
                }
                for c in rev.conversions
            ],
            "messages_sent": rev.messages_sent,
            "per_message": money(rev.per_message),
            "coupons_redeemed": rev.coupons_redeemed,
            "coupon_cost": money(rev.coupon_cost),
            "coupons_unknown": rev.coupons_unknown,
            "net": money(rev.net),
        },
        "time_to_recovery": {
            "recovered": t.recovered,
            "median_s": None if t.median_s is None else round(t.median_s),
            "p90_s": None if t.p90_s is None else round(t.p90_s),
        },
        "lift": {
            **_lift_json(report.lift, cur),
            "by_kind": {x.scope: _lift_json(x, cur) for x in report.lift_by_kind},
        },
        "reasons": _shares(report.reasons),
        "customer_reasons": {
            "answered": report.answered,
            "reasons": _shares(report.customer_reasons),
        },
        "breakdown": None
        if report.by is None
        else {
            "by": report.by,
            "rows": [
                {
                    "key": r.key,
                    "opened": r.opened,
                    "recovered": r.recovered,
                    "rate": _num(r.rate),
                    "revenue": money(r.revenue),
                    "messages_sent": r.messages_sent,
                    "lift": _num(r.lift),
                    "ci": _pair(r.ci),
                }
                for r in report.breakdown
            ],
        },
        # The store's experiments that ran in the period (docs/experiments.md).
        "experiments": [experiment_json(view) for view in report.experiments],
        # The funnel of each country or device: with --by country or device only.
        "funnel_by": None
        if report.by not in FUNNEL_DIMENSIONS
        else {
            "by": report.by,
            "rows": [
                {
                    "key": row.key,
                    "funnel": [
                        {"stage": s.stage, "count": s.count, "conversion": _num(s.conversion)}
                        for s in row.stages
                    ],
                }
                for row in report.funnel_by
            ],
        },
    }


def _flat(table: str, key: str, value: Any) -> Iterator[tuple[str, str, str, str]]:
    """A JSON object's leaves as (table, key, field, value) rows."""
    if isinstance(value, dict):
        for name, inner in value.items():
            for row in _flat(table, key, inner):
                field = f"{name}.{row[2]}" if row[2] else name
                yield (row[0], row[1], field, row[3])
    elif isinstance(value, list) and value and not isinstance(value[0], dict | list):
        yield (table, key, "", " ".join("" if v is None else str(v) for v in value))
    else:
        yield (
            table,
            key,
            "",
            "" if value is None else str(value).lower() if isinstance(value, bool) else str(value),
        )


def report_rows(report: Report) -> Iterator[tuple[str, str, str, str]]:
    """Every figure of the report as a ``(table, key, field, value)`` row (:data:`CSV_HEADER`):
    an interval is one cell, "low high"."""
    data = report_json(report)
    for name in ("store", "period"):
        yield from _flat(name, "", data[name])
    for s in data["funnel"]:
        yield from _flat("funnel", s["stage"], {"count": s["count"], "conversion": s["conversion"]})
    for kind, figures in data["cases"].items():
        yield from _flat("cases", kind, figures)
    yield from _flat("cases", "all", data["cases_total"])
    rev = dict(data["revenue"])
    for c in rev.pop("conversions"):
        yield from _flat("conversions", f"{c['what']}:{c['currency']}", c)
    yield from _flat("revenue", data["currency"], rev)
    yield from _flat("time_to_recovery", "", data["time_to_recovery"])
    lift = dict(data["lift"])
    for kind, figures in lift.pop("by_kind").items():
        yield from _flat("lift", kind, figures)
    yield from _flat("lift", "all", lift)
    for r in data["reasons"]:
        yield from _flat("reasons", r["reason"], {"cases": r["cases"], "share": r["share"]})
    answers = data["customer_reasons"]
    yield from _flat("customer_reasons", "", {"answered": answers["answered"]})
    for r in answers["reasons"]:
        yield from _flat(
            "customer_reasons", r["reason"], {"cases": r["cases"], "share": r["share"]}
        )
    if data["breakdown"] is not None:
        by = data["breakdown"]["by"]
        for r in data["breakdown"]["rows"]:
            row = {k: v for k, v in r.items() if k != "key"}
            yield from _flat(f"by_{by}", "" if r["key"] is None else str(r["key"]), row)
    if data["funnel_by"] is not None:
        by = data["funnel_by"]["by"]
        for r in data["funnel_by"]["rows"]:
            stages = {s["stage"]: {k: s[k] for k in ("count", "conversion")} for s in r["funnel"]}
            key = "" if r["key"] is None else str(r["key"])
            yield from _flat(f"funnel_by_{by}", key, stages)
    for e in data["experiments"]:
        yield from _experiment_rows(e)


def _experiment_rows(e: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """An experiment as rows of the table ``experiments`` (key: its name), its variants'
    figures (key ``name:variant``) and each comparison with the control (the same key, fields
    ``vs_control.…``)."""
    head = {k: e[k] for k in ("id", "kind", "target", "status", "started_at", "stopped_at")}
    head |= {k: e[k] for k in ("as_of", "control", "srm_p_value", "decision", "winner")}
    yield from _flat("experiments", e["name"], {**head, "evidence": e["evidence"]})
    against = {c["variant"]: c for c in e["comparisons"]}
    for v in e["variants"]:
        row = {k: v[k] for k in ("weight", "flow_version", "cases", "recovered", "rate")}
        c = against.get(v["key"])
        if c is not None:
            row["vs_control"] = {
                k: c[k] for k in ("difference", "confidence_sequence", "p_value", "decision")
            }
        yield from _flat("experiments", f"{e['name']}:{v['key']}", row)
