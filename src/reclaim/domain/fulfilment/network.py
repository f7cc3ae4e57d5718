"""The supply network (SPEC S8): warehouses with their time zone, cut-off, working days and
holidays, and the lanes from a warehouse to a country or region, with the checks that turn
untrusted values into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reclaim.domain.money import normalise_currency
from reclaim.errors import InvalidInput

WEEKDAYS = frozenset(range(5))  # 0 = Monday … 6 = Sunday
_MAX_CODE = 64
_MAX_TRANSIT = 365


# --- values ---------------------------------------------------------------------------------


class CostBand(NamedTuple):
    """Shipping a parcel up to ``max_weight_kg`` costs ``cost`` (in ``currency``)."""

    max_weight_kg: Decimal
    cost: Decimal
    currency: str


class LaneKey(NamedTuple):
    """What identifies a lane, e.g. in the delay index."""

    origin: str
    destination_country: str
    destination_region: str | None
    carrier: str
    service: str


def _decimal(value: object, field: str, *, positive: bool = False) -> Decimal:
    # Never through float: a float reaching here is a bug upstream (4.9 is not 4.90).
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidInput(f"{field} must be a decimal number", field=field)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(
            f"{field} must be a decimal number, got {value!r}", field=field
        ) from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        which = "positive" if positive else "non-negative"
        raise InvalidInput(f"{field} must be a {which} number", field=field)
    return number


def _code(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > _MAX_CODE:
        raise InvalidInput(f"{field} must be 1–{_MAX_CODE} characters", field=field)
    return value.strip()


def _country(value: object, field: str) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput(f"{field} must be an ISO 3166-1 alpha-2 code such as FR", field=field)
    return code


def _region(value: object, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > 16:
        raise InvalidInput(f"{field} must be a region code of up to 16 characters", field=field)
    return value.strip().upper()


def _whole(value: object, field: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{field} must be a whole number ≥ {minimum}", field=field)
    return value


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be an aware datetime", field=field)
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Warehouse:
    """A place stock ships from. ``cutoff`` is a wall-clock time in ``timezone``: orders
    placed before it on a working day leave that day. Country and region are upper-cased."""

    code: str
    country: str
    region: str | None
    timezone: str
    cutoff: time
    working_days: frozenset[int] = WEEKDAYS
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _code(self.code, "code"))
        object.__setattr__(self, "country", _country(self.country, "country"))
        object.__setattr__(self, "region", _region(self.region, "region"))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise InvalidInput(
                f"timezone {self.timezone!r} is not an IANA zone such as Europe/Paris",
                field="timezone",
            ) from None
        if not isinstance(self.cutoff, time) or self.cutoff.tzinfo is not None:
            raise InvalidInput("cutoff must be a wall-clock time without a zone", field="cutoff")
        days = frozenset(self.working_days)
        if not days or not days <= frozenset(range(7)):
            raise InvalidInput(
                "working_days must be a non-empty set of 0 (Monday) … 6 (Sunday)",
                field="working_days",
            )
        object.__setattr__(self, "working_days", days)
        holidays = frozenset(self.holidays)
        if any(isinstance(d, datetime) or not isinstance(d, date) for d in holidays):
            raise InvalidInput("holidays must be dates", field="holidays")
        object.__setattr__(self, "holidays", holidays)

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def ship_date(self, ordered_at: datetime) -> date:
        """The day an order placed at ``ordered_at`` leaves: that local day when it is a
        working day and the local time is strictly before the cut-off, else the next working
        day."""
        local = _aware(ordered_at, "ordered_at").astimezone(ZoneInfo(self.timezone))
        day = local.date()
        if self.works_on(day) and local.time() < self.cutoff:
            return day
        # Working days are non-empty and holidays finite, so this ends.
        day += timedelta(days=1)
        while not self.works_on(day):
            day += timedelta(days=1)
        return day


@dataclass(frozen=True, slots=True)
class Lane:
    """Shipping from warehouse ``origin`` to a country, or to one region of it when
    ``destination_region`` is set. ``transit_min``/``transit_max`` are business days after
    the ship day; ``cost_bands`` ascend by weight, all in one currency; ``co2_per_kg`` is kg of
    CO₂e per kg shipped."""

    origin: str
    destination_country: str
    destination_region: str | None
    carrier: str
    service: str
    transit_min: int
    transit_max: int
    cost_bands: tuple[CostBand, ...]
    co2_per_kg: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin", _code(self.origin, "origin"))
        object.__setattr__(
            self,
            "destination_country",
            _country(self.destination_country, "destination_country"),
        )
        object.__setattr__(
            self, "destination_region", _region(self.destination_region, "destination_region")
        )
        object.__setattr__(self, "carrier", _code(self.carrier, "carrier"))
        object.__setattr__(self, "service", _code(self.service, "service"))
        low = _whole(self.transit_min, "transit_min")
        high = _whole(self.transit_max, "transit_max")
        if high < low or high > _MAX_TRANSIT:
            raise InvalidInput(
                f"transit_max must be between transit_min and {_MAX_TRANSIT}", field="transit_max"
            )
        bands: list[CostBand] = []
        for raw in self.cost_bands:
            if not isinstance(raw, tuple) or len(raw) != 3:
                raise InvalidInput(
                    "each cost band is (max_weight_kg, cost, currency)", field="cost_bands"
                )
            band = CostBand(
                _decimal(raw[0], "cost_bands", positive=True),
                _decimal(raw[1], "cost_bands"),
                normalise_currency(raw[2], field="cost_bands"),
            )
            if bands and band.max_weight_kg <= bands[-1].max_weight_kg:
                raise InvalidInput(
                    "cost bands must ascend strictly by max weight", field="cost_bands"
                )
            if bands and band.currency != bands[0].currency:
                raise InvalidInput("a lane's cost bands use one currency", field="cost_bands")
            bands.append(band)
        if not bands:
            raise InvalidInput("a lane needs at least one cost band", field="cost_bands")
        object.__setattr__(self, "cost_bands", tuple(bands))
        object.__setattr__(self, "co2_per_kg", _decimal(self.co2_per_kg, "co2_per_kg"))

    @property
    def key(self) -> LaneKey:
        return LaneKey(
            self.origin,
            self.destination_country,
            self.destination_region,
            self.carrier,
            self.service,
        )

    @property
    def currency(self) -> str:
        return self.cost_bands[0].currency

    @property
    def max_weight_kg(self) -> Decimal:
        return self.cost_bands[-1].max_weight_kg

    def cost_for(self, weight_kg: Decimal) -> Decimal | None:
        """The cost of the lightest band that carries ``weight_kg`` (its max is inclusive);
        ``None`` when the parcel is heavier than every band."""
        return next((b.cost for b in self.cost_bands if weight_kg <= b.max_weight_kg), None)

    def serves(self, country: str, region: str | None) -> bool:
        if self.destination_country != country:
            return False
        return self.destination_region is None or self.destination_region == region
