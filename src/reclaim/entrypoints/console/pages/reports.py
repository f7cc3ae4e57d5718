"""Reports (SPEC S12): the product's report of a period, the page ``reclaim report`` writes,
shown in the console and downloaded as HTML, CSV, PDF or JSON by the same exporters, in the
operator's language; and the store's scheduled report settings, read-only (Settings changes
them).

The report's page is served by a route of its own (``/console/reports/view``) and shown in a
frame: it is a self-contained page (inline styles and SVG, no script), answered with a CSP of
its own that lets only the console frame it (``frame-ancestors 'self'``, ``X-Frame-Options:
SAMEORIGIN``), where every other console page refuses to be framed."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from reclaim.bootstrap import Runtime, report_html, report_pdf
from reclaim.domain.stores import REPORT_LOCALES, Store
from reclaim.entrypoints.console.auth import Reader, Who, rt_of
from reclaim.entrypoints.console.pages.period import (
    Asked,
    Period,
    Text,
    asked_of,
    report_of,
    shown_report,
)
from reclaim.entrypoints.console.render import page
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.reports import CSV_HEADER, Report, report_json, report_rows

router = APIRouter(include_in_schema=False)

# What each format is, as `reclaim report --format` writes it.
TYPES = {
    "html": ("text/html; charset=utf-8", "html"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "pdf": ("application/pdf", "pdf"),
    "json": ("application/json", "json"),
}
# The report's own page: nothing but its inline styles and images, framed by the console only.
FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
FRAME_HEADERS = {
    "Content-Security-Policy": FRAME_CSP,
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}


def rendered(report: Report, fmt: str) -> bytes:
    """The report in ``fmt``, byte for byte what ``reclaim report --format fmt`` writes."""
    if fmt == "pdf":
        return report_pdf(report)
    if fmt == "html":
        return report_html(report).encode()
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(report_rows(report))
        return out.getvalue().encode()
    return (json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n").encode()


def _locale(who: Who) -> str:
    return who.user.locale if who.user.locale in REPORT_LOCALES else "en"


def _name(store: Store, asked: Asked) -> str:
    if asked.kind == "days" and asked.start is not None and asked.end is not None:
        what = f"{asked.start.isoformat()}_{asked.end.isoformat()}"
    else:
        what = asked.period
    return f"reclaim-report-{store.id}-{what}"


def _asked(request: Request, who: Who, q: Period) -> tuple[Store, Asked]:
    found = asked_of(who, rt_of(request).clock(), q)
    if found is None:
        raise NotFound("no store")
    return found


def _shell(rt: Runtime, who: Who, store: Store, asked: Asked) -> dict[str, Any]:
    ctx, made = shown_report(rt, store, asked, locale=_locale(who))
    ctx["schedule"] = store.settings
    if made is not None:
        ctx["data"] = report_json(made)
        ctx["formats"] = list(TYPES)
    return ctx


@router.get("/console/reports")
async def reports(request: Request, who: Reader, q: Period) -> HTMLResponse:
    if not who.stores:
        return page(request, who, "dashboard/none.html", section="reports")
    found, asked = _asked(request, who, q)
    ctx = await run_in_threadpool(_shell, rt_of(request), who, found, asked)
    status = 422 if asked.errors else 200
    return page(request, who, "reports/index.html", ctx, status_code=status, section="reports")


def _report(rt: Runtime, who: Who, store: Store, asked: Asked) -> Report:
    asked.check()
    return report_of(rt, store, asked, locale=_locale(who))


@router.get("/console/reports/view")
async def view(request: Request, who: Reader, q: Period) -> Response:
    """The report's page, for the frame of ``/console/reports``."""
    found, asked = _asked(request, who, q)
    made = await run_in_threadpool(_report, rt_of(request), who, found, asked)
    html = await run_in_threadpool(report_html, made)
    return HTMLResponse(html, headers=FRAME_HEADERS)


@router.get("/console/reports/download")
async def download(request: Request, who: Reader, q: Period, format: Text = "html") -> Response:
    """The report as a file: html, csv, pdf or json."""
    fmt = format.strip().lower()
    if fmt not in TYPES:
        raise InvalidInput("format is one of html, csv, pdf, json", field="format")
    found, asked = _asked(request, who, q)
    made = await run_in_threadpool(_report, rt_of(request), who, found, asked)
    body = await run_in_threadpool(rendered, made, fmt)
    media, ext = TYPES[fmt]
    headers = {
        "Content-Disposition": f'attachment; filename="{_name(found, asked)}.{ext}"',
        **FRAME_HEADERS,
    }
    return Response(body, media_type=media, headers=headers)
