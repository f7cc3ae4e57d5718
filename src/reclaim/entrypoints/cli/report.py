"""``reclaim report``: a store's report for a month or a span of days in the store's time
zone (issue 15), as a self-contained HTML page, a PDF of that page, JSON (the API's
``/api/v1/reports/summary``) or one CSV table of every figure; ``reclaim report send``
emails one now, as the worker's scheduled reports go. docs/reports.md says what each figure
means."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import click

from reclaim.bootstrap import report_font_warning, report_html, report_pdf, report_renderer
from reclaim.domain.stores import REPORT_LOCALES
from reclaim.entrypoints.cli.common import actor, err_console, handled, parse_now, runtime
from reclaim.errors import InvalidInput
from reclaim.services.ports.reports import DIMENSIONS
from reclaim.services.reports import CSV_HEADER, Report, build_report, report_json, report_rows
from reclaim.services.reports.mail import send_report
from reclaim.services.reports.period import parse_day

FORMATS = ("html", "csv", "pdf", "json")


def _csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(report_rows(report))
    return out.getvalue()


def rendered(report: Report, fmt: str) -> bytes:
    """The report in ``fmt`` (one of :data:`FORMATS`), as the bytes of a file."""
    if fmt == "pdf":
        return report_pdf(report)
    if fmt == "html":
        return report_html(report).encode()
    if fmt == "csv":
        return _csv(report).encode()
    return (json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n").encode()


@click.group("report", invoke_without_command=True)
@click.option("--store", "store_id", help="The store's id (st_…)")
@click.option("--period", "month", metavar="YYYY-MM", help="A month in the store's time zone")
@click.option("--from", "start", metavar="DATE", help="The first day included (YYYY-MM-DD)")
@click.option("--to", "end", metavar="DATE", help="The first day not included (YYYY-MM-DD)")
@click.option(
    "--format", "fmt", default="html", show_default=True, help=f"One of {', '.join(FORMATS)}"
)
@click.option("--by", help=f"Break recovery down by one of {', '.join(DIMENSIONS)}")
@click.option(
    "--locale", help=f"{' or '.join(REPORT_LOCALES)} (default: the store's report locale)"
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout"
)
@click.option("--now", hidden=True, help="Report as of this instant (ISO 8601; for tests)")
@click.pass_context
@handled
def report(
    ctx: click.Context,
    store_id: str | None,
    month: str | None,
    start: str | None,
    end: str | None,
    fmt: str,
    by: str | None,
    locale: str | None,
    out: Path | None,
    now: str | None,
) -> None:
    """A store's report for --period YYYY-MM, or --from DATE --to DATE (the end day not
    included), in the store's time zone: funnel, recovery by kind against the 15–25 %
    benchmark, revenue, lift over the holdout with its 95 % interval, and reasons.
    `reclaim report send` emails one now."""
    if ctx.invoked_subcommand is not None:
        return
    if store_id is None:
        raise InvalidInput("name the store: --store ID", field="store")
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"{fmt[:20]!r} is not one of {', '.join(FORMATS)}", field="format")
    if month is None and (start is None or end is None):
        raise InvalidInput(
            "name the period: --period YYYY-MM, or --from DATE --to DATE", field="period"
        )
    first = None if start is None else parse_day(start, field="from")
    last = None if end is None else parse_day(end, field="to")
    rt = runtime()
    try:
        made = build_report(
            uow=rt.reader(),
            store_id=store_id,
            now=parse_now(now) or rt.clock(),
            month=month,
            start=first,
            end=last,
            by=by,
            locale=locale,
        )
    finally:
        rt.close()
    if fmt == "pdf" and (warning := report_font_warning(made.locale)) is not None:
        err_console.print(warning, highlight=False, soft_wrap=True)
    data = rendered(made, fmt)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    out.write_bytes(data)
    err_console.print(f"report written to {out} ({fmt}, {len(data):,} bytes)", highlight=False)


@report.command("send")
@click.option("--store", "store_id", required=True, help="The store's id (st_…)")
@click.option(
    "--period",
    required=True,
    metavar="YYYY-MM|YYYY-Www",
    help="A month (2026-11) or an ISO week (2026-W45) in the store's time zone",
)
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="EMAIL",
    help="Send here (repeatable); default: the store's report emails",
)
@click.option("--now", hidden=True, help="Report as of this instant (ISO 8601; for tests)")
@handled
def send(store_id: str, period: str, to: tuple[str, ...], now: str | None) -> None:
    """Email the report of --period now, as the scheduled one goes: the HTML page, a
    plain-text summary and the PDF attached, in the store's report locale. It is not
    recorded: the worker's scheduled report of that period still goes."""
    rt = runtime()
    senders = rt.senders()
    try:
        name, recipients = send_report(
            uow=rt.uow(),
            reader=rt.reader(),
            senders=senders,
            renderer=report_renderer(),
            store_id=store_id,
            period=period,
            now=parse_now(now) or rt.clock(),
            to=to,
            actor=actor(rt),
        )
    finally:
        senders.close()
        rt.close()
    click.echo(f"report of {name} sent to {', '.join(recipients)}")
