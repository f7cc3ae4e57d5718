"""The dashboard (SPEC S11, S12): one store's period at a glance, every figure the reports
capability's (:func:`reclaim.services.reports.build_report`, shown as
:func:`~reclaim.services.reports.report_json` gives it), never a second calculation.

The period is a month (``2026-11``), an ISO week (``2026-W45``) or days ``from``/``to`` (the
end day not included), in the store's time zone, as ``reclaim report`` takes them; by default
this month where the store is. The recovery trend is a report per slice of the period (the
weeks of a month, a week and the four before it, the days of up to six days, seven-day
slices of a longer span; six at most): it is loaded by its own request
(``/console/dashboard/trend``, fetched by htmx once the page is shown, or followed as a link
without script), so that neither request runs more than one month's report or six small
ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from reclaim.bootstrap import Runtime
from reclaim.domain.stores import Store
from reclaim.entrypoints.console.auth import Reader, Who, rt_of
from reclaim.entrypoints.console.pages.period import Asked, Period, asked_of, shown_report
from reclaim.entrypoints.console.render import page
from reclaim.entrypoints.console.words import Words
from reclaim.errors import NotFound
from reclaim.services.reports import BENCHMARK, FUNNEL_STAGES, build_report, report_json
from reclaim.services.reports.period import parse_period, week_key

router = APIRouter(include_in_schema=False)

# A report costs about 40 ms however few its cases (its bootstrap interval), so a trend runs
# at most six: about 250 ms with 100,000 cases on SQLite (docs/console.md).
MAX_SLICES = 6
WEEKS_BEFORE = 4  # a week's trend: it and the four before
DAILY_UP_TO = 6  # days: a span up to this long day by day, a longer one by seven-day slices


# -- the figures shown as charts ----------------------------------------------------------


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 1)


def funnel_chart(data: dict[str, Any], t: Words) -> dict[str, Any]:
    return {
        "type": "bar",
        "data": {
            "labels": [t(f"dashboard.stage.{s['stage']}") for s in data["funnel"]],
            "datasets": [
                {"label": t("dashboard.funnel.count"), "data": [s["count"] for s in data["funnel"]]}
            ],
        },
        "options": {"plugins": {"legend": {"display": False}}},
    }


def reasons_chart(data: dict[str, Any], t: Words) -> dict[str, Any]:
    inferred = {r["reason"]: r["share"] for r in data["reasons"]}
    answered = {r["reason"]: r["share"] for r in data["customer_reasons"]["reasons"]}
    keys = list(dict.fromkeys([*inferred, *answered]))
    return {
        "type": "bar",
        "data": {
            "labels": [t(f"dashboard.reason.{k}") for k in keys],
            "datasets": [
                {
                    "label": t("dashboard.reasons.inferred"),
                    "data": [_pct(inferred.get(k)) for k in keys],
                },
                {
                    "label": t("dashboard.reasons.answered"),
                    "data": [_pct(answered.get(k)) for k in keys],
                },
            ],
        },
        "options": {"indexAxis": "y", "scales": {"x": {"title": {"display": True, "text": "%"}}}},
    }


def _band(n: int, t: Words) -> list[dict[str, Any]]:
    low, high = (round(b * 100, 1) for b in BENCHMARK)
    line = {"pointRadius": 0, "borderDash": [6, 4], "borderWidth": 1, "borderColor": "#16a34a"}
    return [
        {**line, "label": t("dashboard.band.low"), "data": [low] * n, "fill": False},
        {**line, "label": t("dashboard.band.high"), "data": [high] * n, "fill": "-1",
         "backgroundColor": "rgba(22,163,74,0.12)"},
    ]  # fmt: skip


# -- the trend ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slice:
    start: date
    end: date  # the first day not included
    label: str


def slices(start: date, end: date, today: date, kind: str) -> tuple[list[Slice], bool]:
    """The trend's slices of ``[start, end)`` that have begun by ``today``: the weeks of a
    month (Monday to Monday, cut at its ends); a week and the :data:`WEEKS_BEFORE` weeks
    before it; the days of a span of up to :data:`DAILY_UP_TO` days, else seven-day slices
    from its start. At most :data:`MAX_SLICES`, the latest kept; also whether earlier ones
    were left out."""
    days = (end - start).days
    found: list[Slice] = []
    if kind == "days" and days <= DAILY_UP_TO:
        found = [
            Slice(
                start + timedelta(d), start + timedelta(d + 1), (start + timedelta(d)).isoformat()
            )
            for d in range(days)
        ]
    elif kind == "week":
        for n in range(WEEKS_BEFORE, -1, -1):
            monday = start - timedelta(weeks=n)
            found.append(Slice(monday, monday + timedelta(days=7), week_key(monday)))
    else:
        at = start
        while at < end:
            step = 7 - at.weekday() if kind == "month" else 7
            following = min(at + timedelta(days=step), end)
            found.append(Slice(at, following, f"{at.isoformat()} → {following.isoformat()}"))
            at = following
    found = [s for s in found if s.start <= today]
    cut = len(found) > MAX_SLICES
    return found[-MAX_SLICES:], cut


def trend_of(rt: Runtime, store: Store, asked: Asked) -> tuple[list[dict[str, Any]], bool]:
    """Each slice's label and its report's ``cases_total`` (opened, recovered, rate)."""
    if asked.start is not None and asked.end is not None:
        start, end = asked.start, asked.end
    else:
        assert asked.month is not None
        _, start, end = parse_period(asked.month)
    today = rt.clock().astimezone(ZoneInfo(store.timezone)).date()
    parts, cut = slices(start, end, today, asked.kind)
    rows = []
    for s in parts:
        made = build_report(
            uow=rt.reader(), store_id=store.id, now=rt.clock(), start=s.start, end=s.end
        )
        total = report_json(made)["cases_total"]
        rows.append({"label": s.label, "start": s.start, "end": s.end, **total})
    return rows, cut


def trend_chart(rows: list[dict[str, Any]], t: Words) -> dict[str, Any]:
    return {
        "type": "line",
        "data": {
            "labels": [r["label"] for r in rows],
            "datasets": [
                {
                    "label": t("dashboard.trend.rate"),
                    "data": [_pct(r["rate"]) for r in rows],
                    "fill": False,
                    "tension": 0,
                },
                *_band(len(rows), t),
            ],
        },
        "options": {
            "scales": {"y": {"beginAtZero": True, "title": {"display": True, "text": "%"}}}
        },
    }


# -- the pages ----------------------------------------------------------------------------


def _context(rt: Runtime, who: Who, store: Store, asked: Asked) -> dict[str, Any]:
    ctx, made = shown_report(rt, store, asked)
    if made is None:
        return ctx
    data = report_json(made)
    t = Words(who.user.locale)
    ctx.update(
        data=data,
        empty=data["cases_total"]["opened"] == 0 and not any(s["count"] for s in data["funnel"]),
        charts={"funnel": funnel_chart(data, t), "reasons": reasons_chart(data, t)},
        running=[e for e in data["experiments"] if e["status"] == "running"],
        band=BENCHMARK,
        stages=FUNNEL_STAGES,
    )
    return ctx


@router.get("/console/dashboard")
async def dashboard(request: Request, who: Reader, q: Period) -> HTMLResponse:
    rt = rt_of(request)
    found = asked_of(who, rt.clock(), q)
    if found is None:
        return page(request, who, "dashboard/none.html", section="dashboard")
    store, asked = found
    ctx = await run_in_threadpool(_context, rt, who, store, asked)
    status = 422 if asked.errors else 200
    return page(request, who, "dashboard/index.html", ctx, status_code=status, section="dashboard")


def _trend(rt: Runtime, who: Who, store: Store, asked: Asked) -> dict[str, Any]:
    try:
        rows, cut = trend_of(rt, store, asked)
    except NotFound:
        return {"rows": [], "cut": False, "chart": None}
    return {"rows": rows, "cut": cut, "chart": trend_chart(rows, Words(who.user.locale))}


@router.get("/console/dashboard/trend")
async def trend(request: Request, who: Reader, q: Period) -> HTMLResponse:
    """The recovery trend: the fragment htmx swaps into the dashboard, or a page of its own."""
    rt = rt_of(request)
    found = asked_of(who, rt.clock(), q)
    if found is None:
        raise NotFound("no store")
    store, asked = found
    asked.check()
    ctx = {"store": store, "asked": asked, "band": BENCHMARK}
    ctx |= await run_in_threadpool(_trend, rt, who, store, asked)
    name = (
        "dashboard/trend.html" if request.headers.get("hx-request") else "dashboard/trend_page.html"
    )
    return page(request, who, name, ctx, section="dashboard")


__all__ = ["router"]
