"""Warehouses, stock and lanes files: what is read, and every bad row refused with its place."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from reclaim.adapters.logistics_files import (
    parse_cost_bands,
    parse_cutoff,
    parse_holidays,
    parse_lanes_csv,
    parse_lanes_yaml,
    parse_stock,
    parse_warehouses,
    parse_working_days,
    read_lanes,
    read_stock,
    read_warehouses,
)
from reclaim.domain.fulfilment import CostBand, Lane, Warehouse
from reclaim.errors import InvalidInput

D = Decimal


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(call: object) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as err:
        call()  # type: ignore[operator]
    assert err.value.field is not None
    return err.value.field, str(err.value)


# --- warehouses ---------------------------------------------------------------------------

WAREHOUSES = """\ufeffcode,country,timezone,cutoff,region,working_days,holidays
BER,de,Europe/Berlin,14:00,BE,,2026-12-25;2026-12-26

MUC,DE,Europe/Berlin,16:30,by,"mon-sat",
DXB,AE,Asia/Dubai,9:00,,sun-thu,
"""


def test_warehouses_are_read(tmp_path: Path) -> None:
    got = read_warehouses(write(tmp_path, "warehouses.csv", WAREHOUSES))
    assert got == [
        Warehouse(
            "BER",
            "DE",
            "BE",
            "Europe/Berlin",
            time(14),
            frozenset(range(5)),
            frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
        ),
        Warehouse("MUC", "DE", "BY", "Europe/Berlin", time(16, 30), frozenset(range(6))),
        Warehouse("DXB", "AE", None, "Asia/Dubai", time(9), frozenset({6, 0, 1, 2, 3})),
    ]


def test_only_the_required_warehouse_columns(tmp_path: Path) -> None:
    text = "Code , Country,TIMEZONE,cutoff\nPAR,FR,Europe/Paris,12:00\n"
    assert read_warehouses(write(tmp_path, "w.csv", text)) == [
        Warehouse("PAR", "FR", None, "Europe/Paris", time(12))
    ]
    assert parse_warehouses("code,country,timezone,cutoff\n") == []


HEAD = "code,country,timezone,cutoff,working_days\n"


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        (HEAD + "BER,DE,Europe/Berlin,25:00,\n", "warehouses.csv:2:cutoff", "25:00"),
        (HEAD + "BER,DE,Europe/Berlin,2pm,\n", "warehouses.csv:2:cutoff", "14:00"),
        (HEAD + "BER,DEU,Europe/Berlin,14:00,\n", "warehouses.csv:2:country", "alpha-2"),
        (HEAD + "BER,DE,Berlin,14:00,\n", "warehouses.csv:2:timezone", "IANA"),
        (HEAD + ",DE,Europe/Berlin,14:00,\n", "warehouses.csv:2:code", "required"),
        (HEAD + "BER,DE,Europe/Berlin,14:00,mon-fry\n", "warehouses.csv:2:working_days", "fry"),
        (HEAD + "BER,DE,Europe/Berlin,14:00\n", "warehouses.csv:2:working_days", "found 4"),
        (HEAD + "BER,DE,Europe/Berlin,14:00,,extra\n", "warehouses.csv:2:working_days", "found 6"),
        (
            HEAD + "BER,DE,Europe/Berlin,14:00,\n\nBER,DE,Europe/Berlin,15:00,\n",
            "warehouses.csv:4:code",
            "already on line 2",
        ),
        ("code,country,timezone\nBER,DE,Europe/Berlin\n", "warehouses.csv:1:cutoff", "required"),
        (
            "code,country,timezone,cutoff,workingdays\n",
            "warehouses.csv:1:workingdays",
            "unknown column",
        ),
        ("code,country,timezone,cutoff,code\n", "warehouses.csv:1:code", "twice"),
        ("", "warehouses.csv:1:code", "no header"),
        (
            'code,country,timezone,cutoff\n"BER"x,DE,Europe/Berlin,14:00\n',
            "warehouses.csv:2:-",
            "not valid CSV",
        ),
        (
            "code,country,timezone,cutoff,holidays\nBER,DE,Europe/Berlin,14:00,25/12/2026\n",
            "warehouses.csv:2:holidays",
            "25/12/2026",
        ),
    ],
)
def test_bad_warehouse_rows(text: str, field: str, says: str) -> None:
    where, message = refused(lambda: parse_warehouses(text))
    assert where == field
    line, column = field.split(":")[1:]
    assert message.startswith(f"warehouses.csv line {line}, column {column}: ")
    assert says in message


def test_read_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "depots.csv", HEAD + "BER,DE,Europe/Berlin,14:00,\nX,D,UTC,9:00,\n")
    assert refused(lambda: read_warehouses(path))[0] == "depots.csv:3:country"


# --- stock ------------------------------------------------------------------------------------


def test_stock_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "stock.csv", "warehouse,sku,on_hand\nBER,A-1,5\nBER,B 2,0\nMUC,A-1,12\n")
    assert read_stock(path, warehouses={"BER", "MUC"}) == {
        ("BER", "A-1"): 5,
        ("BER", "B 2"): 0,
        ("MUC", "A-1"): 12,
    }


@pytest.mark.parametrize(
    ("rows", "field", "says"),
    [
        ("BER,A,-1\n", "stock.csv:2:on_hand", "whole number"),
        ("BER,A,1.5\n", "stock.csv:2:on_hand", "whole number"),
        ("BER,A,\n", "stock.csv:2:on_hand", "required"),
        ("BER,,3\n", "stock.csv:2:sku", "required"),
        ("BER,A,1\nBER,A,2\n", "stock.csv:3:sku", "already on line 2"),
        ("PAR,A,1\n", "stock.csv:2:warehouse", "unknown warehouse 'PAR'"),
        ("BER," + "x" * 65 + ",1\n", "stock.csv:2:sku", "64"),
    ],
)
def test_bad_stock_rows(rows: str, field: str, says: str) -> None:
    where, message = refused(
        lambda: parse_stock("warehouse,sku,on_hand\n" + rows, warehouses=["BER", "MUC"])
    )
    assert (where, says in message) == (field, True)


def test_stock_without_known_warehouses_takes_any_code() -> None:
    assert parse_stock("warehouse,sku,on_hand\nPAR,A,1\n") == {("PAR", "A"): 1}


# --- lanes --------------------------------------------------------------------------------

LANE_HEAD = (
    "origin,destination_country,destination_region,carrier,service,"
    "transit_min,transit_max,cost_bands,currency,co2_per_kg\n"
)
BER_FR = Lane(
    "BER",
    "FR",
    None,
    "DHL",
    "standard",
    2,
    4,
    (
        CostBand(D("0.5"), D("4.90"), "EUR"),
        CostBand(D("2"), D("7.90"), "EUR"),
        CostBand(D("10"), D("12.00"), "EUR"),
    ),
    D("0.21"),
)
MUC_BY = Lane(
    "MUC", "DE", "BY", "DPD", "local", 0, 1, (CostBand(D("5"), D("8.90"), "EUR"),), D("0.1")
)
OSL = Lane("BER", "NO", None, "Posten", "pakke", 3, 6, (CostBand(D("5"), D("99"), "NOK"),), D("0"))


def test_lanes_csv_is_read(tmp_path: Path) -> None:
    text = (
        LANE_HEAD
        + "BER,FR,,DHL,standard,2,4,0.5:4.90;2:7.90;10:12.00,eur,0.21\n"
        + "MUC,de,BY,DPD,local,0,1,5:8.90,EUR,0.1\n"
        + "BER,NO,,Posten,pakke,3,6,5:99;,NOK,0\n"
    )
    assert read_lanes(write(tmp_path, "lanes.csv", text), warehouses={"BER", "MUC"}) == [
        BER_FR,
        MUC_BY,
        OSL,
    ]


LANE_ROW = "BER,FR,,DHL,standard,2,4,0.5:4.90;2:7.90,EUR,0.21"


@pytest.mark.parametrize(
    ("row", "field", "says"),
    [
        ("BER,FR,,DHL,standard,2,4,0.5-4.90,EUR,0.21", "cost_bands", "max_kg:cost"),
        ("BER,FR,,DHL,standard,2,4,2:7.90;0.5:4.90,EUR,0.21", "cost_bands", "ascend"),
        ("BER,FR,,DHL,standard,2,4,0.5:abc,EUR,0.21", "cost_bands", "'abc'"),
        ("BER,FR,,DHL,standard,2,4,0:4.90,EUR,0.21", "cost_bands", "positive"),
        ("BER,FR,,DHL,standard,2,4,;,EUR,0.21", "cost_bands", "required"),
        ("BER,FR,,DHL,standard,2,4,1:4,EURO,0.21", "currency", "ISO 4217"),
        ("BER,FR,,DHL,standard,4,2,1:4,EUR,0.21", "transit_max", "between"),
        ("BER,FR,,DHL,standard,two,4,1:4,EUR,0.21", "transit_min", "whole number"),
        ("BER,FR,,DHL,standard,2,-4,1:4,EUR,0.21", "transit_max", "whole number"),
        ("BER,FR,,DHL,standard,2,4,1:4,EUR,-1", "co2_per_kg", "non-negative"),
        ("BER,FR,,DHL,standard,2,4,1:4,EUR,inf", "co2_per_kg", "decimal"),
        ("BER,FRA,,DHL,standard,2,4,1:4,EUR,0.2", "destination_country", "alpha-2"),
        ("BER,FR,,,standard,2,4,1:4,EUR,0.2", "carrier", "required"),
        ("PAR,FR,,DHL,standard,2,4,1:4,EUR,0.2", "origin", "unknown warehouse 'PAR'"),
    ],
)
def test_bad_lane_rows(row: str, field: str, says: str) -> None:
    text = LANE_HEAD + LANE_ROW + "\n" + row + "\n"
    where, message = refused(lambda: parse_lanes_csv(text, warehouses={"BER", "MUC"}))
    assert where == f"lanes.csv:3:{field}"
    assert message.startswith(f"lanes.csv line 3, column {field}: ")
    assert says in message


def test_duplicate_lane_is_refused() -> None:
    text = LANE_HEAD + LANE_ROW + "\n" + LANE_ROW.replace("2,4", "1,3") + "\n"
    where, message = refused(lambda: parse_lanes_csv(text))
    assert where == "lanes.csv:3:origin" and "line 2" in message


def test_lanes_csv_region_column_is_optional() -> None:
    text = "origin,destination_country,carrier,service,transit_min,transit_max,cost_bands,currency,co2_per_kg\n"
    text += "MUC,DE,DPD,local,0,1,5:8.90,EUR,0.1\n"
    assert parse_lanes_csv(text) == [
        Lane("MUC", "DE", None, "DPD", "local", 0, 1, (CostBand(D(5), D("8.90"), "EUR"),), D("0.1"))
    ]


LANES_YAML = """\
lanes:
  - origin: BER
    destination_country: FR
    destination_region: ~
    carrier: DHL
    service: standard
    transit_min: 2
    transit_max: 4
    cost_bands: "0.5:4.90;2:7.90;10:12.00"
    currency: EUR
    co2_per_kg: 0.21
  - origin: MUC
    destination_country: DE
    destination_region: BY
    carrier: DPD
    service: local
    transit_min: 0
    transit_max: 1
    cost_bands:
      - {max_weight_kg: 5, cost: 8.90}
    currency: EUR
    co2_per_kg: 0.10
  - origin: BER
    destination_country: NO
    carrier: Posten
    service: pakke
    transit_min: 3
    transit_max: 6
    cost_bands: 5:99
    currency: NOK
    co2_per_kg: 0
"""


def test_lanes_yaml_is_read(tmp_path: Path) -> None:
    # NO stays Norway, 8.90 stays 8.90 and 0.10 stays 0.10: values come from the source text.
    got = read_lanes(write(tmp_path, "lanes.yaml", LANES_YAML))
    assert got == [BER_FR, MUC_BY, OSL]
    assert got[1].cost_bands[0].cost.as_tuple().exponent == -2
    assert str(got[1].co2_per_kg) == "0.10"
    # A bare list works too, and a .yml suffix.
    bare = "\n".join(line[2:] for line in LANES_YAML.splitlines()[1:])
    assert read_lanes(write(tmp_path, "lanes.yml", bare)) == [BER_FR, MUC_BY, OSL]
    assert parse_lanes_yaml("") == []


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("transit_max: 1", "transit_max: soon", "lanes.yaml:18:transit_max"),
        ("cost_bands: 5:99", "cost_bands: 5-99", "lanes.yaml:29:cost_bands"),
        ("{max_weight_kg: 5, cost: 8.90}", "{max_weight_kg: 5}", "lanes.yaml:20:cost_bands"),
        (
            "{max_weight_kg: 5, cost: 8.90}",
            "{max_weight_kg: 5, cost: x}",
            "lanes.yaml:20:cost_bands",
        ),
        ("    currency: NOK", "    currency: [NOK]", "lanes.yaml:30:currency"),
        ("    co2_per_kg: 0\n", "    co2_per_kg: 0\n    colour: red\n", "lanes.yaml:32:colour"),
        (
            "    carrier: Posten\n",
            "    carrier: Posten\n    carrier: Bring\n",
            "lanes.yaml:26:carrier",
        ),
        ("origin: MUC", "origin: [MUC]", "lanes.yaml:12:origin"),
        (
            "destination_country: NO",
            "destination_country: NOR",
            "lanes.yaml:24:destination_country",
        ),
    ],
)
def test_bad_lanes_yaml(old: str, new: str, field: str) -> None:
    assert old in LANES_YAML
    text = LANES_YAML.replace(old, new, 1)
    where, message = refused(lambda: parse_lanes_yaml(text))
    assert where == field
    line, column = field.split(":")[1:]
    assert message.startswith(f"lanes.yaml line {line}, column {column}: ")


def test_duplicate_lane_in_yaml_and_clock_like_bands() -> None:
    # YAML 1.1 would read 2:30 as the sexagesimal number 150: the source text is kept.
    lane = "- {origin: BER, destination_country: FR, carrier: DHL, service: standard,\n"
    lane += "   transit_min: 1, transit_max: 2, cost_bands: 2:30, currency: EUR, co2_per_kg: 0}\n"
    (one,) = parse_lanes_yaml(lane)
    assert one.cost_bands == (CostBand(D(2), D(30), "EUR"),)
    where, message = refused(lambda: parse_lanes_yaml(lane + lane))
    assert where == "lanes.yaml:3:origin" and "line 1" in message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("lanes: [\n", "lanes.yaml:2:-"),
        ("origin: BER\n", "lanes.yaml:1:lanes"),
        ("just text\n", "lanes.yaml:1:lanes"),
        ("- just text\n", "lanes.yaml:1:-"),
        ("lanes: 3\n", "lanes.yaml:1:lanes"),
    ],
)
def test_malformed_lanes_yaml(text: str, field: str) -> None:
    assert refused(lambda: parse_lanes_yaml(text))[0] == field


# --- single values ----------------------------------------------------------------------------


def test_value_parsers() -> None:
    assert parse_working_days("") == frozenset(range(5))
    assert parse_working_days("Mon, Wed; FRIDAY") == frozenset({0, 2, 4})
    assert parse_working_days("fri-mon") == frozenset({4, 5, 6, 0})
    assert parse_working_days("sun") == frozenset({6})
    assert parse_holidays("2026-01-01 2026-05-01;") == frozenset(
        {date(2026, 1, 1), date(2026, 5, 1)}
    )
    assert [parse_cutoff(t) for t in ("9:00", "09:00", "23:59:30")] == [
        time(9),
        time(9),
        time(23, 59, 30),
    ]
    assert parse_cost_bands("1:2; 3 : 4.5 ;", "EUR") == (
        CostBand(D(1), D(2), "EUR"),
        CostBand(D(3), D("4.5"), "EUR"),
    )
    for bad in ("24:00", "9", "9:0", "09:00+01:00"):
        with pytest.raises(InvalidInput):
            parse_cutoff(bad)
