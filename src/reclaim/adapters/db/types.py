"""Column types that keep the domain's values exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from reclaim.domain.events import Charges, Contact, LineItem

_SCALE = Decimal(10) ** 4


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out; naive datetimes are refused (they are always a bug)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Amount(TypeDecorator[Decimal]):
    """Money as an integer of 1/10,000 major units: exact, and summable in SQL."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else int((Decimal(value) * _SCALE).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else (Decimal(value) / _SCALE).normalize()


def _item_to_json(i: LineItem) -> dict[str, Any]:
    d = {k: v for k, v in asdict(i).items() if v is not None}
    d["unit_price"] = str(i.unit_price)
    if i.line_total is not None:
        d["line_total"] = str(i.line_total)
    return d


def _item_from_json(d: dict[str, Any]) -> LineItem:
    total = d.get("line_total")
    return LineItem(
        **{
            **d,
            "unit_price": Decimal(d["unit_price"]),
            "line_total": None if total is None else Decimal(total),
        }
    )


class ItemsJSON(TypeDecorator[tuple[LineItem, ...]]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> list[dict[str, Any]] | None:
        return None if value is None else [_item_to_json(i) for i in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[LineItem, ...]:
        if not value:
            return ()
        return tuple(_item_from_json(d) for d in value)


class ChargesJSON(TypeDecorator[Charges]):
    """An order's :class:`Charges`, amounts as exact strings; ``NULL`` when none were stated."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        d: dict[str, Any] = {k: str(v) for k, v in asdict(value).items() if isinstance(v, Decimal)}
        d["tax_included"] = value.tax_included
        return d

    def process_result_value(self, value: Any, dialect: Dialect) -> Charges | None:
        if not value:
            return None
        return Charges(
            **{
                k: Decimal(value[k])
                for k in ("shipping", "discount", "fees", "tax")
                if value.get(k) is not None
            },
            tax_included=bool(value.get("tax_included")),
        )


class ContactJSON(TypeDecorator[Contact]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        if value is None:
            return None
        return {k: v for k, v in asdict(value).items() if v is not None}

    def process_result_value(self, value: Any, dialect: Dialect) -> Contact:
        return Contact(**value) if value else Contact()


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(value: str | bytes) -> Any:
    return orjson.loads(value)
