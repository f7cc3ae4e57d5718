"""``reclaim warehouse|stock|holds``: warehouses, stock levels and holds (SPEC S7)."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import click
from rich.progress import track

from reclaim.bootstrap import read_lane_file, read_stock_file, read_warehouse_file
from reclaim.domain.alternatives import Product
from reclaim.entrypoints.cli.common import actor, console, handled, parse_now, runtime
from reclaim.entrypoints.tables import print_table
from reclaim.errors import InvalidInput
from reclaim.services import alternatives, fulfilment, holds
from reclaim.services.ports import WarehouseRow

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def warehouse() -> None:
    """Where stock ships from."""


@warehouse.command("import")
@click.option("--store", "store_id", required=True)
@click.argument("path", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON")
@handled
def warehouse_import(store_id: str, path: Path, as_json: bool) -> None:
    """Create or update warehouses from a CSV (code,country,timezone,cutoff[,region,working_days])."""
    found = read_warehouse_file(path)
    rows = [
        WarehouseRow(
            store_id=store_id,
            code=w.code,
            country=w.country,
            region=w.region,
            timezone=w.timezone,
            cutoff=w.cutoff.strftime("%H:%M"),
            working_days="".join(str(d + 1) for d in sorted(w.working_days)),
        )
        for w in found
    ]
    rt = runtime()
    n = holds.import_warehouses(
        uow=rt.uow(), store_id=store_id, rows=rows, now=rt.clock(), actor=actor(rt)
    )
    _done(as_json, {"store": store_id, "warehouses": n}, f"{n} warehouses imported for {store_id}")


@click.group()
def stock() -> None:
    """Stock levels per SKU per warehouse."""


@stock.command("import")
@click.option("--store", "store_id", required=True)
@click.argument("path", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON")
@handled
def stock_import(store_id: str, path: Path, as_json: bool) -> None:
    """Set on-hand levels from a CSV (warehouse,sku,on_hand); other levels stay."""
    rt = runtime()
    with rt.uow() as uow:
        known = [w.code for w in uow.stock.warehouses(store_id)]
    levels = read_stock_file(path, warehouses=known)
    changes = [holds.StockChange(w, sku, on_hand=n) for (w, sku), n in levels.items()]
    chunks = [changes[i : i + 1000] for i in range(0, len(changes), 1000)]
    progress = track(
        chunks, description="stock levels", console=console, transient=True, disable=as_json
    )
    for chunk in progress:
        holds.update_stock(
            uow=rt.uow(), store_id=store_id, changes=chunk, now=rt.clock(), actor=actor(rt)
        )
    _done(
        as_json,
        {"store": store_id, "stock_levels": len(changes)},
        f"{len(changes)} stock levels set for {store_id}",
    )


@stock.command("show")
@click.option("--store", "store_id", required=True)
@click.option("--sku")
@click.option("--json", "as_json", is_flag=True)
@handled
def stock_show(store_id: str, sku: str | None, as_json: bool) -> None:
    """On hand, reserved and available per warehouse."""
    rt = runtime()
    levels = holds.stock_of(uow=rt.uow(), store_id=store_id, sku=sku)
    rows = [
        {
            "warehouse": lv.warehouse,
            "sku": lv.sku,
            "on_hand": lv.on_hand,
            "reserved": lv.reserved,
            "available": lv.available,
        }
        for lv in levels
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    print_table(
        console,
        ("sku", "warehouse", "on hand", "reserved", "available"),
        [
            (
                str(r["sku"]),
                str(r["warehouse"]),
                str(r["on_hand"]),
                str(r["reserved"]),
                str(r["available"]),
            )
            for r in rows
        ],
        keys=("sku", "warehouse"),
    )


@click.group("holds")
def holds_group() -> None:
    """Stock held for unpaid orders."""


@holds_group.command("sweep")
@click.option("--now", "now_text", help="ISO 8601 instant to act at (default: now)")
@click.option("--json", "as_json", is_flag=True, help="Print {holds_expired, cases_closed}")
@handled
def holds_sweep(now_text: str | None, as_json: bool) -> None:
    """Release the holds that are due at --now and close their orders' cases."""
    now = parse_now(now_text)
    rt = runtime(clock=(lambda: now) if now else None)
    stats = holds.sweep_holds(uow=rt.uow(), now=rt.clock())
    if as_json:
        click.echo(json.dumps({"holds_expired": stats.expired, "cases_closed": stats.cases_closed}))
        return
    console.print(f"holds expired: {stats.expired}, cases closed: {stats.cases_closed}")


@click.group()
def lanes() -> None:
    """Shipping lanes: warehouse → country (or region), carrier, days, cost, CO₂."""


@lanes.command("import")
@click.option("--store", "store_id", required=True)
@click.argument("path", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON")
@handled
def lanes_import(store_id: str, path: Path, as_json: bool) -> None:
    """Create or update lanes from a CSV or YAML file (see docs/logistics.md)."""
    rt = runtime()
    with rt.uow() as uow:
        known = [w.code for w in uow.stock.warehouses(store_id)]
    found = read_lane_file(path, warehouses=known)
    n = fulfilment.import_lanes(
        uow=rt.uow(), store_id=store_id, lanes=found, now=rt.clock(), actor=actor(rt)
    )
    _done(as_json, {"store": store_id, "lanes": n}, f"{n} lanes imported for {store_id}")


@click.group()
def products() -> None:
    """What Reclaim knows of a store's products: shipping weight and catalogue entry."""


CATALOGUE_COLUMNS = ("name", "category", "price", "currency", "url", "image_url")


@products.command("import")
@click.option("--store", "store_id", required=True)
@click.argument("path", type=FILE)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON")
@handled
def products_import(store_id: str, path: Path, as_json: bool) -> None:
    """Set products from a CSV: sku and weight_kg (shipping weight; SKUs not given count
    0.5 kg) and/or catalogue columns name, category, price, currency, url, image_url (what a
    message shows when it offers a product instead of a sold-out one). Empty cells stay
    empty; a price without a currency is in the store's currency."""
    weights: list[tuple[str, Decimal]] = []
    entries: list[Product] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = set(reader.fieldnames or [])
        if "sku" not in columns:
            raise InvalidInput(f"{path.name}: missing column sku", field=path.name)
        catalogue = bool(columns & set(CATALOGUE_COLUMNS))
        if "weight_kg" not in columns and not catalogue:
            raise InvalidInput(
                f"{path.name}: give weight_kg or catalogue columns ({', '.join(CATALOGUE_COLUMNS)})",
                field=path.name,
            )
        for line, row in enumerate(reader, start=2):
            sku = (row.get("sku") or "").strip()
            if not sku:
                raise InvalidInput(f"{path.name}:{line}: sku is empty", field=f"{path.name}:{line}")
            if "weight_kg" in columns and (raw := (row.get("weight_kg") or "").strip()):
                weights.append((sku, _amount(raw, path, line, "weight_kg", positive=True)))
            elif "weight_kg" in columns and not catalogue:
                raise InvalidInput(
                    f"{path.name}:{line}: weight_kg must be a number of kg above 0",
                    field=f"{path.name}:{line}:weight_kg",
                )
            if catalogue:
                cell = {c: (row.get(c) or "").strip() or None for c in CATALOGUE_COLUMNS}
                price = cell["price"]
                entries.append(
                    Product(
                        sku=sku,
                        name=cell["name"],
                        category=cell["category"],
                        price=None if price is None else _amount(price, path, line, "price"),
                        currency=None if cell["currency"] is None else cell["currency"].upper(),
                        url=cell["url"],
                        image_url=cell["image_url"],
                    )
                )
    rt = runtime()
    entered, weighed = alternatives.import_products(
        uow=rt.uow(),
        store_id=store_id,
        products=entries,
        weights=weights,
        now=rt.clock(),
        actor=actor(rt),
    )
    if as_json:
        click.echo(json.dumps({"store": store_id, "weights": weighed, "catalogue": entered}))
        return
    if weighed:
        console.print(f"{weighed} product weights set for {store_id}")
    if entered:
        console.print(f"{entered} catalogue entries set for {store_id}")


def _done(as_json: bool, data: dict[str, object], text: str) -> None:
    """What an import did: ``data`` as JSON for a script, else ``text`` for a person."""
    if as_json:
        click.echo(json.dumps(data))
    else:
        console.print(text)


def _amount(raw: str, path: Path, line: int, column: str, *, positive: bool = False) -> Decimal:
    try:
        value = Decimal(raw)
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or (positive and value == 0):
        what = "a number of kg above 0" if positive else "an amount ≥ 0"
        raise InvalidInput(
            f"{path.name}:{line}: {column} must be {what}", field=f"{path.name}:{line}:{column}"
        )
    return value
