"""``reclaim prune``: delete what is past each store's retention windows (SPEC S13; the
worker does the same once a day per store)."""

from __future__ import annotations

import json

import click

from reclaim.domain.retention import KINDS
from reclaim.entrypoints.cli.common import actor, console, handled, runtime
from reclaim.entrypoints.tables import print_table
from reclaim.services.retention import Pruned
from reclaim.services.retention import prune as prune_stores


@click.command("prune")
@click.option("--store", "store_id", help="Only this store (default: every store)")
@click.option("--dry-run", is_flag=True, help="Count what would go; delete nothing")
@click.option("--json", "as_json", is_flag=True, help="Print each store's counts as JSON")
@handled
def prune(store_id: str | None, dry_run: bool, as_json: bool) -> None:
    """Delete raw deliveries, closed cases' events and messages, closed cases, and checkouts,
    orders and payment attempts no open case needs, older than the store's windows (`reclaim
    store set ID --keep-deliveries DAYS …`), in short batches."""
    rt = runtime()
    try:
        done = prune_stores(
            uow=rt.uow(), now=rt.clock(), store_id=store_id, dry_run=dry_run, actor=actor(rt)
        )
    finally:
        rt.close()
    if as_json:
        rows = [
            {
                "store_id": p.store_id,
                "dry_run": dry_run,
                "deleted" if not dry_run else "would_delete": p.counts,
                "before": {k: at.isoformat() for k, at in p.cutoffs.items()},
            }
            for p in done
        ]
        click.echo(json.dumps(rows))
        return
    # One row a store and kind: seven kinds side by side would not fit a terminal.
    print_table(
        console,
        ("store", "data", "rows", "older than"),
        [
            (p.store_id, k.name.replace("_", " "), str(p.counts.get(k.name, 0)), _day(p, k.name))
            for p in done
            for k in KINDS
        ],
        keys=("store", "data"),
        title="would be deleted (dry run)" if dry_run else "deleted",
    )


def _day(pruned: Pruned, kind: str) -> str:
    at = pruned.cutoffs.get(kind)
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else ""
