"""``reclaim inbox``: the kept deliveries: the dead letters, replay, counts per state."""

from __future__ import annotations

import json

import click

from reclaim.entrypoints.cli.common import actor, console, handled, runtime
from reclaim.entrypoints.tables import print_table
from reclaim.services import ingest
from reclaim.services.test_mode import TEST_MODE


@click.group()
def inbox() -> None:
    """Kept deliveries: dead letters and replay."""


@inbox.command("failed")
@click.option("--store", "store_id", help="Only this store")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
@handled
def inbox_failed(store_id: str | None, limit: int, as_json: bool) -> None:
    """Deliveries that could not be processed (the dead-letter list), newest first."""
    rt = runtime()
    with rt.uow() as uow:
        rows = uow.inbox.list(store_id=store_id, statuses=["failed"], limit=limit)
        tests = uow.inbox.count_noted(TEST_MODE, store_id=store_id)
        items = [
            {
                "id": r.id,
                "store_id": r.store_id,
                "source": r.source,
                "topic": r.topic,
                "received_at": r.received_at.isoformat(),
                "error": r.error,
                "bytes": len(r.body),
            }
            for r in rows
        ]
    if as_json:
        click.echo(json.dumps(items))
        return
    print_table(
        console,
        ("id", "store", "source", "topic", "received", "error"),
        [
            (
                str(r.id),
                r.store_id,
                r.source,
                r.topic,
                r.received_at.isoformat()[:19].replace("T", " "),
                r.error or "",
            )
            for r in rows
        ],
        keys=("id", "store"),
        title="dead letters",
    )
    if tests:
        console.print(
            f"not failures: {tests} deliveries in test mode (Stripe's livemode false, a "
            "platform's test order) were kept and processed, but tests open no case",
            highlight=False,
        )


_STATUSES = ("received", "processing", "processed", "ignored", "failed")


@inbox.command("list")
@click.option("--test", "tests", is_flag=True, help="Only test-mode deliveries, with why")
@click.option("--store", "store_id", help="Only this store")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
@handled
def inbox_list(tests: bool, store_id: str | None, limit: int, as_json: bool) -> None:
    """Kept deliveries, newest first. ``--test``: those in test mode (Stripe's livemode
    false, a Shopify test order, the events API's test) and why they opened no case, or that
    they ran as test cases because the store accepts test mode."""
    rt = runtime()
    with rt.uow() as uow:
        if tests:
            rows = uow.inbox.noted(TEST_MODE, store_id=store_id, limit=limit)
        else:
            rows = uow.inbox.list(store_id=store_id, statuses=_STATUSES, limit=limit)
        items = [
            {
                "id": r.id,
                "store_id": r.store_id,
                "source": r.source,
                "topic": r.topic,
                "received_at": r.received_at.isoformat(),
                "status": r.status,
                "reason": r.error,
            }
            for r in rows
        ]
    if as_json:
        click.echo(json.dumps(items))
        return
    print_table(
        console,
        ("id", "store", "source", "topic", "received", "status", "why"),
        [
            (
                str(i["id"]),
                str(i["store_id"]),
                str(i["source"]),
                str(i["topic"]),
                str(i["received_at"])[:19].replace("T", " "),
                str(i["status"]),
                str(i["reason"] or ""),
            )
            for i in items
        ],
        keys=("id", "store"),
        title="test-mode deliveries" if tests else "deliveries",
    )


@inbox.command("replay")
@click.option("--store", "store_id", help="Only this store")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    default=["failed"],
    show_default=True,
    type=click.Choice(["failed", "processed", "ignored"]),
)
@click.option("--id", "ids", multiple=True, type=int, help="Only these deliveries")
@click.option("--json", "as_json", is_flag=True, help="Print {queued} as JSON")
@handled
def inbox_replay(
    store_id: str | None, statuses: tuple[str, ...], ids: tuple[int, ...], as_json: bool
) -> None:
    """Queue kept deliveries again; the worker processes them (idempotently)."""
    rt = runtime()
    n = ingest.replay(
        uow=rt.uow(),
        store_id=store_id,
        statuses=list(statuses),
        ids=list(ids) or None,
        actor=actor(rt),
    )
    if as_json:
        click.echo(json.dumps({"queued": n}))
        return
    console.print(f"{n} deliveries queued for processing")


@inbox.command("stats")
@click.option("--json", "as_json", is_flag=True)
@handled
def inbox_stats(as_json: bool) -> None:
    """How many deliveries are in each state."""
    rt = runtime()
    with rt.uow() as uow:
        counts = uow.inbox.counts()
        tests = uow.inbox.count_noted(TEST_MODE)
    if as_json:
        # test_mode (only when there are some): of the processed, the tests (no case)
        click.echo(json.dumps(counts | ({"test_mode": tests} if tests else {})))
        return
    rows: list[tuple[str, str]] = []
    for status, n in sorted(counts.items()):
        rows.append((status, str(n)))
        if status == "processed" and tests:
            rows.append(("  of which test mode (kept, no case)", str(tests)))
    print_table(console, ("status", "deliveries"), rows, keys=("status", "deliveries"))
