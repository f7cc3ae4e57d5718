"""``reclaim flows``: a store's message flows per case kind (YAML, versioned)."""

from __future__ import annotations

import json

import click

from reclaim.bootstrap import default_flow_source, read_flow
from reclaim.entrypoints.cli.common import actor, console, handled, runtime
from reclaim.entrypoints.tables import print_table


@click.group()
def flows() -> None:
    """Message flows per store and case kind (YAML, versioned)."""


@flows.command("list")
@click.option("--store", "store_id", required=True)
@click.option("--json", "as_json", is_flag=True)
@handled
def flows_list(store_id: str, as_json: bool) -> None:
    """Every version of the store's flows; the active one is marked."""
    from reclaim.services.flows import list_flows

    rt = runtime()
    rows = [
        {
            "kind": v.kind,
            "version": v.version,
            "name": v.flow.name,
            "active": v.active,
            "steps": [s.key for s in v.flow.steps],
            "holdout": v.flow.holdout,
            "created_at": v.created_at.isoformat(),
        }
        for v in list_flows(uow=rt.uow(), store_id=store_id)
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    print_table(
        console,
        ("kind", "version", "active", "name", "steps", "holdout"),
        [
            (
                str(r["kind"]),
                str(r["version"]),
                "●" if r["active"] else "",
                str(r["name"]),
                " → ".join(r["steps"]),  # type: ignore[arg-type]
                f"{r['holdout']:.0%}",
            )
            for r in rows
        ],
        keys=("kind",),
    )


@flows.command("default")
@click.argument(
    "kind", type=click.Choice(["abandoned_checkout", "pending_order", "failed_payment"])
)
def flows_default(kind: str) -> None:
    """Print the default flow's YAML, to copy and edit."""
    click.echo(default_flow_source(kind), nl=False)


@flows.command("set")
@click.option("--store", "store_id", required=True)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print {kind, version, steps} as JSON")
@handled
def flows_set(store_id: str, path: str, as_json: bool) -> None:
    """Install a flow from a YAML file as the store's new version for its kind."""
    from pathlib import Path

    from reclaim.services.flows import set_flow

    source = Path(path).read_text(encoding="utf-8")
    flow = read_flow(source)
    rt = runtime()
    version = set_flow(
        uow=rt.uow(),
        store_id=store_id,
        source=source,
        flow=flow,
        now=rt.clock(),
        actor=actor(rt),
    )
    if as_json:
        steps = [s.key for s in flow.steps]
        click.echo(json.dumps({"kind": flow.kind, "version": version, "steps": steps}))
        return
    console.print(
        f"{flow.kind} flow [bold]v{version}[/bold] active: {' → '.join(s.key for s in flow.steps)}"
        " (running cases keep their version)"
    )
