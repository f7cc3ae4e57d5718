"""The console's reports (issue 13): the product's report page in a frame that only the console
may frame, downloads byte for byte what ``reclaim report`` writes (same exporters), the store's
scheduled report settings shown read-only, and the store scoping."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from console_support import console_as
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.cli.report import rendered as cli_rendered
from reclaim.services.reports import CSV_HEADER, build_report, report_json, report_rows
from report_history import NOW, build_history, make_store


def _report(rt: Runtime, store_id: str, locale: str = "en") -> Any:
    return build_report(uow=rt.reader(), store_id=store_id, now=NOW, month="2026-11", locale=locale)


def test_the_page_frames_the_report_and_lists_the_downloads(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id])
    answer = c.get(f"/console/reports?store={store_id}&period=2026-11")
    assert answer.status_code == 200, answer.text[:1000]
    src = f"/console/reports/view?store={store_id}&amp;period=2026-11"
    assert f'src="{src}"' in answer.text
    for fmt in ("html", "csv", "pdf", "json"):
        assert f"period=2026-11&amp;format={fmt}" in answer.text
    # the console page itself refuses to be framed; the report's page lets the console frame it
    assert answer.headers["x-frame-options"] == "DENY"
    framed = c.get(src.replace("&amp;", "&"))
    assert framed.status_code == 200
    assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    csp = framed.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "script-src" not in csp
    assert framed.text == cli_rendered(_report(rt, store_id), "html").decode()


def test_the_downloads_are_what_reclaim_report_writes(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id])
    report = _report(rt, store_id)
    base = f"/console/reports/download?store={store_id}&period=2026-11&format="

    got = c.get(base + "csv")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert f"reclaim-report-{store_id}-2026-11.csv" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.text)))
    assert tuple(rows[0]) == CSV_HEADER
    assert [tuple(r) for r in rows[1:]] == list(report_rows(report))
    assert len(rows) > 50

    got = c.get(base + "json")
    assert got.headers["content-type"].startswith("application/json")
    assert got.json() == report_json(report)
    assert got.content == cli_rendered(report, "json")

    got = c.get(base + "html")
    assert got.headers["content-type"].startswith("text/html")
    assert "attachment" in got.headers["content-disposition"]
    assert got.content == cli_rendered(report, "html")

    got = c.get(base + "pdf")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/pdf"
    assert got.content.startswith(b"%PDF")

    assert c.get(base + "docx").status_code == 422


def test_a_chinese_operator_gets_the_chinese_report(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id], locale="zh-CN")
    got = c.get(
        f"/console/reports/download?store={store_id}&from=2026-11-01&to=2026-11-15&format=json"
    )
    assert got.status_code == 200
    assert (
        f"reclaim-report-{store_id}-2026-11-01_2026-11-15.json"
        in got.headers["content-disposition"]
    )
    data = json.loads(got.content)
    assert data["locale"] == "zh-CN" and data["period"]["to"] == "2026-11-15"
    page = c.get(f"/console/reports?store={store_id}")
    assert "下载" in page.text and "邮件报表" in page.text


def test_the_schedule_is_shown_read_only(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = make_store(rt, "Planned", report_emails=("owner@shop.example",), report_every="week")
    c = console_as(rt, "operator", [store_id])
    page = c.get(f"/console/reports?store={store_id}")
    assert page.status_code == 200
    assert "owner@shop.example" in page.text and "Every week" in page.text
    assert f'href="/console/settings?store={store_id}"' in page.text
    assert '<form method="post"' not in page.text.split('id="schedule-h"')[1]
    # no data yet: said, and no frame nor downloads
    assert 'id="reports-empty"' in page.text and "report-frame" not in page.text


@pytest.mark.parametrize("path", ["/console/reports", "/console/reports/view",
                                  "/console/reports/download"])  # fmt: skip
def test_another_stores_report_is_not_found(rt: Runtime, clock: Any, path: str) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    mine = make_store(rt, "Mine")
    c = console_as(rt, "viewer", [mine])
    assert c.get(f"{path}?store={store_id}&period=2026-11").status_code == 404


def test_a_bad_period_is_refused_in_the_users_language(rt: Runtime, clock: Any) -> None:
    clock.now = NOW
    store_id = build_history(rt)
    c = console_as(rt, "viewer", [store_id], locale="zh-CN")
    page = c.get(f"/console/reports?store={store_id}&period=November")
    assert page.status_code == 422
    assert 'id="period-error"' in page.text and "请填写" in page.text
    got = c.get(f"/console/reports/download?store={store_id}&period=2026-13&format=csv")
    assert got.status_code == 422 and "输入无效" in got.text
