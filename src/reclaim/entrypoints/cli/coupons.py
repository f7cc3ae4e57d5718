"""``reclaim coupons``: the coupons Reclaim issued, to check them or to import them into a
store Reclaim has no connector for (SPEC S6: "pushed … where a connector can, or exported")."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
from rich.progress import Progress

from reclaim.entrypoints.cli.common import (
    actor,
    console,
    err_console,
    handled,
    parse_now,
    runtime,
)
from reclaim.entrypoints.tables import print_table
from reclaim.services import coupons as coupon_service

COLUMNS = (
    "code",
    "kind",
    "value",
    "currency",
    "min_order",
    "expires_at",
    "case_id",
    "push_state",
    "platform_ref",
    "push_error",
    "redeemed_at",
    "redeemed_order",
)


@click.group()
def coupons() -> None:
    """Coupons issued by the flows' incentive steps."""


@coupons.command("export")
@click.option("--store", "store_id", required=True)
@click.option(
    "--push-state",
    type=click.Choice(coupon_service.PUSH_STATES),
    help="exported: those to import (the store has no connector); none: not tried yet",
)
@click.option("--since", help="issued at or after (ISO 8601 with a zone)")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "csv", "json")),
    default="table",
    show_default=True,
)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="write here")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json")
@handled
def coupons_export(
    store_id: str,
    push_state: str | None,
    since: str | None,
    fmt: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """A store's coupons in issue order, with where each stands on the platform."""
    fmt = "json" if as_json else fmt
    rt = runtime()
    rows: list[dict[str, object]] = []
    cursor: int | None = None
    try:
        while True:
            page = coupon_service.list_coupons(
                uow=rt.uow(),
                store_id=store_id,
                push_state=push_state,
                since=parse_now(since),
                cursor=cursor,
                limit=coupon_service.MAX_PAGE,
            )
            rows += [c.to_json() for c in page.coupons]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    finally:
        rt.close()
    if fmt == "table" and output is None:
        print_table(
            console,
            ("code", "offer", "min order", "expires", "case", "on store", "redeemed"),
            [
                (
                    str(r["code"]),
                    _offer(r),
                    str(r["min_order"] or ""),
                    str(r["expires_at"] or "")[:16].replace("T", " "),
                    str(r["case_id"]),
                    str(r["push_state"] or "not yet"),
                    str(r["redeemed_at"] or "")[:16].replace("T", " "),
                )
                for r in rows
            ],
            keys=("code", "case"),
            title=f"{len(rows)} coupons of {store_id} (times in UTC)",
        )
        return
    if fmt == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"{len(rows)} coupons written to {output}")


def _offer(row: dict[str, object]) -> str:
    if row["kind"] == "percent":
        return f"{row['value']} % off"
    if row["kind"] == "fixed":
        return f"{row['value']} {row['currency']} off"
    return str(row["kind"]).replace("_", " ")


@coupons.command("push")
@click.option("--store", "store_id", required=True)
@click.option("--now", help="the instant to push at (ISO 8601 with a zone; default: now)")
@click.option(
    "--json", "as_json", is_flag=True, help="Print {pushed, failed, errors, no_connector}"
)
@handled
def coupons_push(store_id: str, now: str | None, as_json: bool) -> None:
    """Create on the store's platform the coupons that were left to import (the store had no
    connector when they were mailed) and are still valid: run it once API access is set."""
    at = parse_now(now)
    rt = runtime()
    with Progress(console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("pushing coupons", total=None)

        def moved(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            stats = coupon_service.push_exported(
                uow=rt.uow(),
                platforms=rt.platform_client,
                store_id=store_id,
                now=at or rt.clock(),
                progress=moved,
                actor=actor(rt),
            )
        finally:
            rt.close()
    if as_json:
        summary = {
            "pushed": stats.pushed,
            "failed": stats.failed,
            "errors": list(stats.errors),
            "no_connector": stats.no_connector,
        }
        click.echo(json.dumps(summary))
        if stats.no_connector is not None or stats.failed:
            raise SystemExit(2 if stats.no_connector is not None else 1)
        return
    if stats.no_connector is not None:
        err_console.print(
            f"[red]error:[/red] nothing pushed: {stats.no_connector}", highlight=False
        )
        raise SystemExit(2)
    console.print(
        f"{stats.pushed} coupons created on the store, {stats.failed} not", highlight=False
    )
    for line in stats.errors:
        console.print(f"  {line}", highlight=False)
    if stats.failed:
        raise SystemExit(1)
