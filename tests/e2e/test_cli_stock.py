"""``reclaim warehouse import``, ``stock import``, ``stock show`` and ``holds sweep`` as a
user runs them: real processes, real files, the embedded SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import cli_env
from helpers import run_cli as run


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "r.sqlite3", COLUMNS="160")


def test_import_warehouses_and_stock_then_show(env: dict[str, str], tmp_path: Path) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    store = json.loads(
        run(
            [
                "store",
                "add",
                "--name",
                "S",
                "--platform",
                "custom",
                "--currency",
                "EUR",
                "--timezone",
                "Europe/Paris",
                "--domain",
                "shop.example",
                "--json",
            ],
            env,
        ).stdout
    )
    wh = tmp_path / "warehouses.csv"
    wh.write_text(
        "code,country,timezone,cutoff\nPAR,FR,Europe/Paris,14:00\nBER,DE,Europe/Berlin,15:30\n"
    )
    assert (
        "2 warehouses" in run(["warehouse", "import", "--store", store["id"], str(wh)], env).stdout
    )
    st = tmp_path / "stock.csv"
    st.write_text("warehouse,sku,on_hand\nPAR,LAMP,3\nBER,LAMP,7\nBER,MUG,0\n")
    assert "3 stock levels" in run(["stock", "import", "--store", store["id"], str(st)], env).stdout
    shown = json.loads(
        run(["stock", "show", "--store", store["id"], "--sku", "LAMP", "--json"], env).stdout
    )
    assert shown == [
        {"warehouse": "BER", "sku": "LAMP", "on_hand": 7, "reserved": 0, "available": 7},
        {"warehouse": "PAR", "sku": "LAMP", "on_hand": 3, "reserved": 0, "available": 3},
    ]
    # A bad file names its line and column; nothing is changed.
    bad = tmp_path / "bad.csv"
    bad.write_text("warehouse,sku,on_hand\nPAR,LAMP,3\nPAR,MUG,lots\n")
    out = run(["stock", "import", "--store", store["id"], str(bad)], env, ok=False)
    assert (
        out.returncode == 2
        and "bad.csv" in out.stderr
        and "3" in out.stderr
        and "on_hand" in out.stderr
    )
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("warehouse,sku,on_hand\nNYC,LAMP,3\n")
    out = run(["stock", "import", "--store", store["id"], str(unknown)], env, ok=False)
    assert out.returncode == 2 and "NYC" in out.stderr
    shown = json.loads(
        run(["stock", "show", "--store", store["id"], "--sku", "LAMP", "--json"], env).stdout
    )
    assert [r["on_hand"] for r in shown] == [7, 3]
    swept = run(["holds", "sweep", "--now", "2026-05-10T00:00:00Z"], env).stdout
    assert "holds expired: 0" in swept


def test_import_product_weights_and_catalogue(env: dict[str, str], tmp_path: Path) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    import sqlite3

    store = json.loads(
        run(
            ["store", "add", "--name", "S", "--platform", "custom", "--currency", "EUR",
             "--timezone", "Europe/Paris", "--domain", "shop.example", "--json"],
            env,
        ).stdout
    )  # fmt: skip
    weights = tmp_path / "weights.csv"
    weights.write_text("sku,weight_kg\nLAMP-1,1.2\n")
    out = run(["products", "import", "--store", store["id"], str(weights)], env).stdout
    assert "1 product weights" in out
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(
        "sku,name,category,price,currency,url,image_url\n"
        "LAMP-1,Brass lamp,lamps,120.00,,https://shop.example/p/lamp-1,\n"
        "LAMP-2,Copper lamp,lamps,115.00,gbp,https://shop.example/p/lamp-2,"
        "https://cdn.shop.example/lamp-2.jpg\n"
    )
    out = run(["products", "import", "--store", store["id"], str(catalogue)], env).stdout
    assert "2 catalogue entries" in out
    db = env["RECLAIM_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT sku, weight_kg, name, category, price, currency, url, image_url"
            " FROM products ORDER BY sku"
        ).fetchall()
    # Money and weights are stored as integers of 1/10,000; the weight stays as imported,
    # a price without a currency is in the store's.
    assert rows == [
        ("LAMP-1", 12000, "Brass lamp", "lamps", 1200000, "EUR",
         "https://shop.example/p/lamp-1", None),
        ("LAMP-2", None, "Copper lamp", "lamps", 1150000, "GBP",
         "https://shop.example/p/lamp-2", "https://cdn.shop.example/lamp-2.jpg"),
    ]  # fmt: skip
    # A bad entry is refused naming it, and nothing of the file is applied.
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,price\nLAMP-3,Lamp,9\nLAMP-4,Lamp,cheap\n")
    out = run(["products", "import", "--store", store["id"], str(bad)], env, ok=False)
    assert out.returncode == 2 and "bad.csv:3" in out.stderr and "price" in out.stderr
    unsafe = tmp_path / "unsafe.csv"
    unsafe.write_text("sku,name,image_url\nLAMP-3,Lamp,http://cdn.example/x.jpg\n")
    out = run(["products", "import", "--store", store["id"], str(unsafe)], env, ok=False)
    assert out.returncode == 2 and "products[0].image_url" in out.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM products").fetchone() == (2,)


def test_every_import_can_answer_in_json(env: dict[str, str], tmp_path: Path) -> None:
    """A script reads what an import did: warehouses, stock, lanes and products."""
    run(["init"], env)  # only `reclaim init` creates a database
    store = json.loads(
        run(["store", "add", "--name", "J", "--platform", "custom", "--currency", "EUR",
             "--timezone", "Europe/Berlin", "--domain", "shop.example", "--json"], env).stdout
    )["id"]  # fmt: skip
    files = {
        "warehouses.csv": "code,country,timezone,cutoff\nBER,DE,Europe/Berlin,15:30\n",
        "stock.csv": "warehouse,sku,on_hand\nBER,LAMP,7\nBER,MUG,2\n",
        "lanes.csv": "origin,destination_country,destination_region,carrier,service,"
        "transit_min,transit_max,cost_bands,currency,co2_per_kg\n"
        "BER,FR,,DHL,standard,2,4,0.5:4.90;2:7.90,EUR,0.21\n",
        "products.csv": "sku,weight_kg,name\nLAMP,1.2,Lamp\nMUG,0.4,\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)

    def imported(*args: str) -> object:
        out = run([*args, "--store", store, "--json"], env).stdout
        return json.loads(out)  # the whole output is one JSON document: no progress, no prose

    assert imported("warehouse", "import", str(tmp_path / "warehouses.csv")) == {
        "store": store, "warehouses": 1}  # fmt: skip
    assert imported("stock", "import", str(tmp_path / "stock.csv")) == {
        "store": store, "stock_levels": 2}  # fmt: skip
    assert imported("lanes", "import", str(tmp_path / "lanes.csv")) == {
        "store": store, "lanes": 1}  # fmt: skip
    assert imported("products", "import", str(tmp_path / "products.csv")) == {
        "store": store, "weights": 2, "catalogue": 2}  # fmt: skip
