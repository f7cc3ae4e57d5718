"""The console's dashboard (issue 13): its figures are the report's (tests/report_history.py's
hand-built November), a store without data says so, a bad period comes back as the form with
the error in the user's language (422), and a store the user does not see is not found."""

from __future__ import annotations

import itertools
import json
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

from console_support import console_as
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.console.render import Formats
from reclaim.entrypoints.console.words import Words
from reclaim.services.reports import build_report, report_json
from report_history import NOW, build_history, make_store


class _Texts(HTMLParser):
    """The text of each element that has an id, and the JSON of each hidden chart spec."""

    VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "source", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str | None, list[str]]] = []
        self.texts: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        self.open.append((dict(attrs).get("id"), []))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.open:
            return
        name, parts = self.open.pop()
        text = " ".join(" ".join(parts).split())
        if name:
            self.texts[name] = text
        if self.open:
            self.open[-1][1].append(text)

    def handle_data(self, data: str) -> None:
        if self.open:
            self.open[-1][1].append(data)


def texts(html: str) -> dict[str, str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def pts(x: float, f: Formats) -> str:
    return ("+" if x > 0 else "") + f.number(x * 100, 1)


def test_the_kpis_are_the_reports_numbers(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id])
    answer = c.get(f"/console/dashboard?store={store_id}&period=2026-11")
    assert answer.status_code == 200, answer.text[:2000]
    data = report_json(build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11"))
    f, cur = Formats("en", "UTC"), data["currency"]
    shown = texts(answer.text)
    total = data["cases_total"]
    assert total["opened"] > 0 and total["recovered"] > 0  # the history is not empty
    assert f.number(total["opened"]) in shown["kpi-opened"]
    assert f.number(total["recovered"]) in shown["kpi-recovered"]
    assert f.percent(total["rate"]) in shown["kpi-rate"]
    revenue = shown["kpi-revenue"]
    for amount in (
        data["revenue"]["total"],
        data["revenue"]["attributed"],
        data["revenue"]["organic"],
    ):
        assert f.money(amount, cur) in revenue
    lift = data["lift"]
    if lift["enough_data"]:
        assert pts(lift["value"], f) in shown["kpi-lift"]
    else:
        assert "Not enough data yet" in shown["kpi-lift"]
        assert f.number(lift["needed_per_arm"]) in shown["kpi-lift"]
        assert pts(lift["ci"][0], f) in shown["kpi-lift"]
    # the funnel's table and chart carry the report's counts, stage by stage
    rows = shown["funnel-table"]
    for stage in data["funnel"]:
        assert f.number(stage["count"]) in rows
    spec = json.loads(re.search(r'id="chart-funnel">([^<]*)<', answer.text).group(1))  # type: ignore[union-attr]
    assert spec["data"]["datasets"][0]["data"] == [s["count"] for s in data["funnel"]]
    # reasons: inferred and answered, each with its share
    reasons = shown["reasons-table"]
    for r in data["reasons"] + data["customer_reasons"]["reasons"]:
        assert f.percent(r["share"]) in reasons
    assert "Extra costs" in reasons
    # the unconverted GBP is said, not added
    notice = re.search(r'<p class="notice">(.*?)</p>', answer.text, re.S).group(1)  # type: ignore[union-attr]
    assert "no exchange rate" in notice and "£" in notice and "recovered revenue" in notice


def test_the_trend_is_a_report_per_week(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id])
    answer = c.get(f"/console/dashboard/trend?store={store_id}&period=2026-11",
                   headers={"HX-Request": "true"})  # fmt: skip
    assert answer.status_code == 200
    assert "<html" not in answer.text  # a fragment for htmx
    spec = json.loads(re.search(r'id="chart-trend">([^<]*)<', answer.text).group(1))  # type: ignore[union-attr]
    # November 2026 in Paris: Sun 1, then Mondays 2, 9, 16, 23, 30: six slices
    edges = [date(2026, 11, d) for d in (1, 2, 9, 16, 23, 30)] + [date(2026, 12, 1)]
    expected = []
    for a, b in itertools.pairwise(edges):
        made = report_json(
            build_report(uow=rt.reader(), store_id=store_id, now=NOW, start=a, end=b)
        )
        rate = made["cases_total"]["rate"]
        expected.append(None if rate is None else round(rate * 100, 1))
    assert spec["data"]["datasets"][0]["data"] == expected
    assert any(x for x in expected)  # the week of the 9th has recoveries
    assert spec["data"]["datasets"][1]["data"] == [15.0] * 6
    # without htmx, a page of its own
    page = c.get(f"/console/dashboard/trend?store={store_id}&period=2026-11")
    assert page.status_code == 200 and "<html" in page.text


def test_a_store_without_data_says_so(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = make_store(rt, "Nouvelle")
    c = console_as(rt, "admin", locale="zh-CN")
    answer = c.get(f"/console/dashboard?store={store_id}")
    assert answer.status_code == 200
    shown = texts(answer.text)
    assert shown["dashboard-empty"] == Words("zh-CN")("dashboard.nodata")
    assert "kpi-opened" not in shown  # no zeros standing for figures


def test_a_period_with_nothing_in_it_is_an_empty_state(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "operator", [store_id])
    answer = c.get(f"/console/dashboard?store={store_id}&period=2026-03")
    assert answer.status_code == 200
    shown = texts(answer.text)
    assert shown["dashboard-empty"] == Words("en")("dashboard.empty")
    assert "kpi-rate" not in shown


def test_the_default_period_is_this_month_where_the_store_is(rt: Runtime, clock: Any) -> None:
    clock.now = NOW  # 7 December 2026
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id])
    shown = texts(c.get("/console/dashboard").text)
    assert "2026-12-01" in shown["dashboard-period"] and "2027-01-01" in shown["dashboard-period"]


def test_a_bad_period_is_the_form_back_in_the_users_language(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id], locale="zh-CN")
    zh = Words("zh-CN")
    for query, field in (
        ("period=2026-13", "period"),
        ("period=2027-02", "period"),  # not begun yet
        ("period=2026-W60", "period"),
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=2026-11-05&to=2026-11-01", "to"),
        ("from=2026-11-05", "to"),
    ):
        answer = c.get(f"/console/dashboard?store={store_id}&{query}")
        assert answer.status_code == 422, query
        shown = texts(answer.text)
        assert shown[f"{field}-error"] == zh(f"dashboard.bad.{field}"), query
        assert re.search(rf'id="pick-{field}"[^>]*aria-invalid="true"', answer.text), query
        assert "kpi-opened" not in shown


def test_another_stores_dashboard_is_not_found(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    mine = make_store(rt, "Mine")
    c = console_as(rt, "operator", [mine])
    assert c.get(f"/console/dashboard?store={store_id}").status_code == 404
    assert c.get(f"/console/dashboard/trend?store={store_id}").status_code == 404
    assert c.get("/console/dashboard").status_code == 200  # their own store


def test_a_weeks_trend_is_it_and_the_four_before(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id])
    answer = c.get(f"/console/dashboard/trend?store={store_id}&period=2026-W48")
    assert answer.status_code == 200
    shown = texts(answer.text)["trend-table"]
    for week in ("2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"):
        assert week in shown
    assert "2026-W43" not in shown and "2026-W49" not in shown
    spec = json.loads(re.search(r'id="chart-trend">([^<]*)<', answer.text).group(1))  # type: ignore[union-attr]
    made = build_report(
        uow=rt.reader(), store_id=store_id, now=NOW, start=date(2026, 11, 9), end=date(2026, 11, 16)
    )
    rate = report_json(made)["cases_total"]["rate"]
    assert spec["data"]["datasets"][0]["data"][2] == round(rate * 100, 1)  # W46: 9 to 16 Nov
