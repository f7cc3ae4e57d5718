"""What the HTTP API reads: the input models a route reads after authentication, and the
checks on instants, ids and validation errors."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field, ValidationError, field_validator

from reclaim.entrypoints.edge import (
    MAX_INT,
    read_json,
)
from reclaim.errors import InvalidInput


class WarehouseIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    country: str = Field(pattern=r"^[A-Za-z]{2}$")
    region: str | None = Field(default=None, max_length=64)
    timezone: str
    cutoff: str = Field(default="15:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    working_days: str = Field(default="12345", pattern=r"^[1-7]{1,7}$")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA zone such as Europe/Paris") from None
        return v


class WarehousesIn(BaseModel):
    warehouses: list[WarehouseIn] = Field(min_length=1, max_length=1000)


class LevelIn(BaseModel):
    warehouse: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=255)
    on_hand: int | None = Field(default=None, ge=0)
    delta: int | None = None


class StockIn(BaseModel):
    levels: list[LevelIn] = Field(min_length=1, max_length=10_000)


class ProductIn(BaseModel):
    sku: str = Field(min_length=1, max_length=255)
    weight_kg: Decimal | None = Field(default=None, gt=0, le=100_000)
    name: str | None = Field(default=None, max_length=255)
    category: str | None = Field(default=None, max_length=128)
    price: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    url: str | None = Field(default=None, max_length=2048)
    image_url: str | None = Field(default=None, max_length=2048)

    def has_catalogue(self) -> bool:
        return any(
            v is not None
            for v in (self.name, self.category, self.price, self.currency, self.url, self.image_url)
        )


class ProductsIn(BaseModel):
    products: list[ProductIn] = Field(min_length=1, max_length=10_000)


class HoldItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=255)
    quantity: int = Field(ge=1, le=100_000)


class HoldIn(BaseModel):
    order_id: str = Field(min_length=1, max_length=255)
    items: list[HoldItemIn] = Field(min_length=1, max_length=500)


class ExtendIn(BaseModel):
    until: datetime


M = TypeVar("M", bound=BaseModel)
CaseId = Annotated[int, Path(ge=1, le=MAX_INT)]
Cursor = Annotated[
    int | None, Query(ge=0, le=MAX_INT, description="next_cursor of the previous page")
]


@overload
def instant(value: datetime, field: str) -> datetime: ...
@overload
def instant(value: None, field: str) -> None: ...
@overload
def instant(value: datetime | None, field: str) -> datetime | None: ...
def instant(value: datetime | None, field: str) -> datetime | None:
    """An aware instant that UTC can hold (0001-01-01T00:00+14:00 cannot), or a 422."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone, e.g. 2026-05-01T00:00:00Z", field=field)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(f"{field} is out of range", field=field) from None


def _where(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def problems(errors: list[Any]) -> list[dict[str, str]]:
    """Validation errors as {field, message}; never the input (it may be anything at all)."""
    return [{"field": _where(tuple(e.get("loc", ()))), "message": str(e["msg"])} for e in errors]


async def read_model(request: Request, model: type[M]) -> M:
    """Read a JSON body into ``model`` once the caller is authenticated."""
    data = read_json(await request.body())  # at most its limit: BodyLimit counts it
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = problems(exc.errors())[0]
        raise InvalidInput(
            f"{first['field']}: {first['message']}" if first["field"] else first["message"],
            field=first["field"] or None,
        ) from None


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def takes(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads ``model`` itself (after its caller is
    authenticated, so a stranger's body is never parsed)."""
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(schema, schema.get("$defs", {}))}},
        }
    }
