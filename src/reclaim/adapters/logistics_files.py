"""Warehouses, stock levels and shipping lanes from the files a merchant exports (issue 4).

Three formats, all UTF-8 (a byte-order mark is ignored), header row first, blank lines
skipped, column names case-insensitive, an unknown column refused so a misspelt optional one
is not silently dropped:

* warehouses CSV: ``code,country,timezone,cutoff`` and optionally ``region``,
  ``working_days`` (``mon-fri`` by default; names or ranges such as ``mon-sat`` or
  ``sun-thu``, separated by ``,`` ``;`` or spaces) and ``holidays`` (ISO dates separated by
  ``;`` or spaces);
* stock CSV: ``warehouse,sku,on_hand`` (a whole number ≥ 0);
* lanes CSV or YAML (by the file's suffix): ``origin,destination_country,
  [destination_region,]carrier,service,transit_min,transit_max,cost_bands,currency,
  co2_per_kg``, with cost bands written ``0.5:4.90;2:7.90;10:12.00`` (max kg : cost). In YAML
  the file is a list of such mappings (or ``{lanes: [...]}``), and ``cost_bands`` may also be
  a list of ``{max_weight_kg: …, cost: …}``. Every YAML value is read from its source text,
  so ``4.90`` stays ``4.90`` and Norway's ``NO`` stays a country.

A bad row is refused whole with :class:`InvalidInput` whose message and ``field`` name the
file, the line and the column: ``lanes.csv line 4, column cost_bands: …`` and
``field="lanes.csv:4:cost_bands"``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from reclaim.domain.fulfilment import WEEKDAYS, CostBand, Lane, Warehouse
from reclaim.domain.money import normalise_currency
from reclaim.errors import InvalidInput

_DAYS = {name: i for i, name in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])}
_FULL_DAYS = {
    name: i
    for i, name in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
_LIST_SEPARATORS = re.compile(r"[\s,;/]+")
_DATE_SEPARATORS = re.compile(r"[\s,;]+")
_CUTOFF = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_WHOLE = re.compile(r"^\d{1,9}$")

WAREHOUSE_COLUMNS = ("code", "country", "timezone", "cutoff")
WAREHOUSE_OPTIONAL = ("region", "working_days", "holidays")
STOCK_COLUMNS = ("warehouse", "sku", "on_hand")
LANE_COLUMNS = (
    "origin",
    "destination_country",
    "carrier",
    "service",
    "transit_min",
    "transit_max",
    "cost_bands",
    "currency",
    "co2_per_kg",
)
LANE_OPTIONAL = ("destination_region",)


def _refuse(name: str, line: int, column: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"{name} line {line}, column {column}: {message}", field=f"{name}:{line}:{column}"
    )


class _Row:
    """One record's values by column, with where it came from, so any problem can say so."""

    def __init__(self, name: str, line: int, values: dict[str, str], lines: dict[str, int]):
        self.name, self.line, self.values, self.lines = name, line, values, lines

    def where(self, column: str) -> int:
        return self.lines.get(column, self.line)

    def refuse(self, column: str, message: str) -> InvalidInput:
        return _refuse(self.name, self.where(column), column, message)

    def text(self, column: str) -> str:
        return self.values.get(column, "").strip()

    def required(self, column: str) -> str:
        value = self.text(column)
        if not value:
            raise self.refuse(column, "a value is required")
        return value


# --- parsing of single values ----------------------------------------------------------------


def parse_working_days(text: str) -> frozenset[int]:
    """``"mon-fri"`` → {0…4}; names (``mon`` or ``monday``) and ranges, which may wrap
    (``sun-thu``), separated by commas, semicolons, slashes or spaces; blank → Mon–Fri."""
    if not text.strip():
        return WEEKDAYS
    days: set[int] = set()
    for token in _LIST_SEPARATORS.split(text.strip().lower()):
        if not token:
            continue
        first, dash, last = token.partition("-")
        start = _day(first)
        end = _day(last) if dash else start
        days.add(start)
        while start != end:
            start = (start + 1) % 7
            days.add(start)
    return frozenset(days)


def _day(token: str) -> int:
    day = _DAYS.get(token, _FULL_DAYS.get(token))
    if day is None:
        raise InvalidInput(
            f"{token!r} is not a day: use mon, tue, wed, thu, fri, sat, sun or ranges like mon-fri",
            field="working_days",
        )
    return day


def parse_holidays(text: str) -> frozenset[date]:
    """ISO dates separated by semicolons, commas or spaces."""
    out: set[date] = set()
    for token in _DATE_SEPARATORS.split(text.strip()):
        if not token:
            continue
        try:
            out.add(date.fromisoformat(token))
        except ValueError:
            raise InvalidInput(
                f"{token!r} is not a date such as 2026-12-25", field="holidays"
            ) from None
    return frozenset(out)


def parse_cutoff(text: str) -> time:
    """``"14:00"`` or ``"14:00:30"``, a wall-clock time without a zone."""
    value = text.strip()
    try:
        if not _CUTOFF.match(value):
            raise ValueError
        return time.fromisoformat(value.zfill(5) if len(value) == 4 else value)
    except ValueError:
        raise InvalidInput(
            f"cutoff must be a time such as 14:00, got {value!r}", field="cutoff"
        ) from None


def _number(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{text!r} is not a decimal number", field=column) from None
    if not value.is_finite():
        raise InvalidInput(f"{text!r} is not a decimal number", field=column)
    return value


def parse_cost_bands(text: str, currency: str) -> tuple[CostBand, ...]:
    """``"0.5:4.90;2:7.90;10:12.00"`` → bands up to 0.5 kg for 4.90, up to 2 kg for 7.90, …
    (the lane checks that they ascend and are not negative)."""
    bands: list[CostBand] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        weight, colon, cost = part.partition(":")
        if not colon:
            raise InvalidInput(
                f"band {part.strip()!r} is not max_kg:cost, e.g. 2:7.90", field="cost_bands"
            )
        bands.append(
            CostBand(
                _number(weight.strip(), "cost_bands"),
                _number(cost.strip(), "cost_bands"),
                currency,
            )
        )
    if not bands:
        raise InvalidInput("cost bands are required, e.g. 0.5:4.90;2:7.90", field="cost_bands")
    return tuple(bands)


def _whole(row: _Row, column: str) -> int:
    value = row.required(column)
    if not _WHOLE.match(value):
        raise row.refuse(column, f"{value!r} is not a whole number ≥ 0")
    return int(value)


# --- CSV -------------------------------------------------------------------------------------


def _csv_rows(
    text: str, *, name: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    header: list[str] | None = None
    line = 1
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not record or all(not v.strip() for v in record):
                continue
            if header is None:
                header = _header(
                    record, name=name, line=start, required=required, optional=optional
                )
                continue
            if len(record) != len(header):
                raise _refuse(
                    name,
                    start,
                    header[min(len(record), len(header) - 1)],
                    f"expected {len(header)} fields, found {len(record)}",
                )
            yield _Row(name, start, dict(zip(header, record, strict=True)), {})
    except csv.Error as exc:
        raise _refuse(name, reader.line_num, "-", f"not valid CSV ({exc})") from None
    if header is None:
        raise _refuse(name, 1, required[0], f"no header row: expected {','.join(required)}")


def _header(
    record: list[str], *, name: str, line: int, required: tuple[str, ...], optional: tuple[str, ...]
) -> list[str]:
    header = [h.strip().lower() for h in record]
    for column in header:
        if column not in required and column not in optional:
            allowed = ", ".join((*required, *optional))
            raise _refuse(name, line, column or "(empty)", f"unknown column; columns are {allowed}")
        if header.count(column) > 1:
            raise _refuse(name, line, column, "the column appears twice")
    for column in required:
        if column not in header:
            raise _refuse(name, line, column, "this column is required")
    return header


def _located(row: _Row, exc: InvalidInput, default: str) -> InvalidInput:
    """``exc`` with the row's place: a domain error names its field, which is the column."""
    if exc.field is not None and exc.field.startswith(f"{row.name}:"):
        return exc  # raised by the row itself, already located
    column = exc.field if exc.field in row.values or exc.field in row.lines else default
    return row.refuse(column or default, str(exc))


# --- warehouses and stock -----------------------------------------------------------------


def parse_warehouses(text: str, *, name: str = "warehouses.csv") -> list[Warehouse]:
    """The warehouses in a warehouses CSV, in file order; codes must be unique."""
    out: list[Warehouse] = []
    seen: dict[str, int] = {}
    for row in _csv_rows(text, name=name, required=WAREHOUSE_COLUMNS, optional=WAREHOUSE_OPTIONAL):
        try:
            warehouse = Warehouse(
                code=row.required("code"),
                country=row.required("country"),
                region=row.text("region") or None,
                timezone=row.required("timezone"),
                cutoff=parse_cutoff(row.required("cutoff")),
                working_days=parse_working_days(row.text("working_days")),
                holidays=parse_holidays(row.text("holidays")),
            )
        except InvalidInput as exc:
            raise _located(row, exc, "code") from None
        if warehouse.code in seen:
            raise row.refuse(
                "code", f"warehouse {warehouse.code} is already on line {seen[warehouse.code]}"
            )
        seen[warehouse.code] = row.line
        out.append(warehouse)
    return out


def parse_stock(
    text: str, *, name: str = "stock.csv", warehouses: Collection[str] | None = None
) -> dict[tuple[str, str], int]:
    """``{(warehouse, sku): on_hand}`` from a stock CSV; each pair at most once, and, when
    ``warehouses`` is given, only those warehouse codes."""
    out: dict[tuple[str, str], int] = {}
    lines: dict[tuple[str, str], int] = {}
    for row in _csv_rows(text, name=name, required=STOCK_COLUMNS):
        code, sku = row.required("warehouse"), row.required("sku")
        if warehouses is not None and code not in warehouses:
            raise row.refuse("warehouse", f"unknown warehouse {code!r}")
        if len(sku) > 64:
            raise row.refuse("sku", "a SKU has at most 64 characters")
        if (code, sku) in out:
            raise row.refuse("sku", f"{code}/{sku} is already on line {lines[code, sku]}")
        out[code, sku] = _whole(row, "on_hand")
        lines[code, sku] = row.line
    return out


# --- lanes ---------------------------------------------------------------------------------


def _lane(row: _Row, bands: object, known: Collection[str] | None) -> Lane:
    try:
        currency = normalise_currency(row.required("currency"))
    except InvalidInput as exc:
        raise row.refuse("currency", str(exc)) from None
    try:
        if isinstance(bands, list):
            cost_bands = tuple(CostBand(w, c, currency) for w, c in bands)
        else:
            cost_bands = parse_cost_bands(row.required("cost_bands"), currency)
        lane = Lane(
            origin=row.required("origin"),
            destination_country=row.required("destination_country"),
            destination_region=row.text("destination_region") or None,
            carrier=row.required("carrier"),
            service=row.required("service"),
            transit_min=_whole(row, "transit_min"),
            transit_max=_whole(row, "transit_max"),
            cost_bands=cost_bands,
            co2_per_kg=_number(row.required("co2_per_kg"), "co2_per_kg"),
        )
    except InvalidInput as exc:
        raise _located(row, exc, "origin") from None
    if known is not None and lane.origin not in known:
        raise row.refuse("origin", f"unknown warehouse {lane.origin!r}")
    return lane


def _unique_lanes(rows: Iterator[tuple[_Row, object]], known: Collection[str] | None) -> list[Lane]:
    out: list[Lane] = []
    seen: dict[object, int] = {}
    for row, bands in rows:
        lane = _lane(row, bands, known)
        if lane.key in seen:
            raise row.refuse(
                "origin",
                f"the same lane (origin, destination, carrier, service) is on line {seen[lane.key]}",
            )
        seen[lane.key] = row.line
        out.append(lane)
    return out


def parse_lanes_csv(
    text: str, *, name: str = "lanes.csv", warehouses: Collection[str] | None = None
) -> list[Lane]:
    """The lanes in a lanes CSV; each lane key once; origins among ``warehouses`` if given."""
    rows = _csv_rows(text, name=name, required=LANE_COLUMNS, optional=LANE_OPTIONAL)
    return _unique_lanes(((row, None) for row in rows), warehouses)


@dataclass(frozen=True, slots=True)
class _Located:
    value: object  # str, or a list of (str, str) weight/cost pairs for cost_bands
    line: int


def parse_lanes_yaml(
    text: str, *, name: str = "lanes.yaml", warehouses: Collection[str] | None = None
) -> list[Lane]:
    """The lanes in a lanes YAML file (see the module's docstring)."""
    try:
        root = yaml.compose(text.removeprefix("\ufeff"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise _refuse(name, line, "-", str(problem)) from None
    if root is None:
        return []
    if isinstance(root, yaml.MappingNode):
        found = next(
            (v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "lanes"),
            None,
        )
        if found is None or len(root.value) != 1:
            raise _refuse(
                name,
                root.start_mark.line + 1,
                "lanes",
                "expected a list of lanes or {lanes: [...]}",
            )
        root = found
    if not isinstance(root, yaml.SequenceNode):
        raise _refuse(name, root.start_mark.line + 1, "lanes", "expected a list of lanes")
    items: list[yaml.Node] = list(root.value)
    allowed = (*LANE_COLUMNS, *LANE_OPTIONAL)

    def rows() -> Iterator[tuple[_Row, object]]:
        for item in items:
            line = item.start_mark.line + 1
            if not isinstance(item, yaml.MappingNode):
                raise _refuse(name, line, "-", "each lane is a mapping of column: value")
            fields: dict[str, _Located] = {}
            for key, value in item.value:
                column = str(key.value).strip().lower() if isinstance(key, yaml.ScalarNode) else ""
                where = key.start_mark.line + 1
                if column not in allowed:
                    raise _refuse(
                        name, where, column or "-", f"unknown key; keys are {', '.join(allowed)}"
                    )
                if column in fields:
                    raise _refuse(name, where, column, "the key appears twice")
                fields[column] = _Located(
                    _yaml_value(value, name=name, column=column), value.start_mark.line + 1
                )
            bands = fields.get("cost_bands")
            values = {k: v.value for k, v in fields.items() if isinstance(v.value, str)}
            yield (
                _Row(name, line, values, {k: v.line for k, v in fields.items()}),
                bands.value if bands is not None and isinstance(bands.value, list) else None,
            )

    return _unique_lanes(rows(), warehouses)


def _yaml_value(node: yaml.Node, *, name: str, column: str) -> object:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return "" if node.tag.endswith(":null") else str(node.value)
    if column == "cost_bands" and isinstance(node, yaml.SequenceNode):
        bands: list[tuple[Decimal, Decimal]] = []
        for band in node.value:
            pairs = (
                {
                    str(k.value): v
                    for k, v in band.value
                    if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
                }
                if isinstance(band, yaml.MappingNode)
                else {}
            )
            if set(pairs) != {"max_weight_kg", "cost"}:
                raise _refuse(
                    name,
                    band.start_mark.line + 1,
                    column,
                    "each band is {max_weight_kg: …, cost: …}",
                )
            try:
                bands.append(
                    (
                        _number(str(pairs["max_weight_kg"].value), column),
                        _number(str(pairs["cost"].value), column),
                    )
                )
            except InvalidInput as exc:
                raise _refuse(name, band.start_mark.line + 1, column, str(exc)) from None
        return bands
    raise _refuse(name, line, column, "expected a single value")


def _read(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def read_warehouses(path: Path) -> list[Warehouse]:
    """:func:`parse_warehouses` of the file at ``path`` (messages name the file)."""
    return parse_warehouses(_read(path), name=Path(path).name)


def read_stock(
    path: Path, *, warehouses: Collection[str] | None = None
) -> dict[tuple[str, str], int]:
    """:func:`parse_stock` of the file at ``path``."""
    return parse_stock(_read(path), name=Path(path).name, warehouses=warehouses)


def read_lanes(path: Path, *, warehouses: Collection[str] | None = None) -> list[Lane]:
    """Lanes from ``path``: YAML for ``.yaml``/``.yml``, CSV otherwise."""
    p = Path(path)
    if p.suffix.lower() in {".yaml", ".yml"}:
        return parse_lanes_yaml(_read(p), name=p.name, warehouses=warehouses)
    return parse_lanes_csv(_read(p), name=p.name, warehouses=warehouses)
