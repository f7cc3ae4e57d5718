"""Where a cart can ship from, when it arrives, and whether that beats what the customer saw
(SPEC S8).

Warehouses have a time zone, a daily cut-off, working days and holidays; lanes go from a
warehouse to a destination country (or one region of it) with a carrier, a service, a transit
time in business days, a cost per weight band and CO₂ per kg. :func:`promise` turns an order
time into a delivery date range; :func:`options` lists every way to ship a whole cart and
labels the winners (nearest, fastest, cheapest, greenest, or a split shipment when no single
warehouse can); :func:`better_than_seen` decides whether an option is worth telling the
customer about and gives the numbers for :class:`reclaim.domain.messages.DeliveryPromise`.

Business days at the destination are Monday to Friday; the warehouse's own calendar (working
days, holidays) decides only the day a parcel leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reclaim.domain.logistics import DelayStat
from reclaim.domain.messages import DeliveryPromise
from reclaim.domain.money import exponent, normalise_currency
from reclaim.errors import InvalidInput

WEEKDAYS = frozenset(range(5))  # 0 = Monday … 6 = Sunday
_MAX_CODE = 64
_MAX_TRANSIT = 365

# better_than_seen: "faster by ≥ 2 days or cheaper by ≥ 10 %" (issue 4).
FASTER_BY_DAYS = 2
CHEAPER_BY = Decimal("0.10")


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


class CartLine(NamedTuple):
    sku: str
    quantity: int
    weight_kg: Decimal  # per unit


class Criterion(StrEnum):
    NEAREST = "nearest"
    FASTEST = "fastest"
    CHEAPEST = "cheapest"
    GREENEST = "greenest"
    SPLIT = "split"


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


# --- promise --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Promise:
    """Ships on ``ship_on``, arrives between ``earliest`` and ``latest`` (inclusive).

    ``days_min``/``days_max`` count the destination's business days (Mon–Fri) after the
    order's own date (in the warehouse's zone) up to ``earliest``/``latest``: what "arrives
    in 3–5 days" means to the customer, the wait for the ship day included.
    """

    ship_on: date
    earliest: date
    latest: date
    days_min: int
    days_max: int


def _is_business_day(day: date) -> bool:
    return day.weekday() < 5


def _add_business_days(start: date, days: int) -> date:
    """The ``days``-th business day after ``start``; for 0, ``start`` itself when it is a
    business day, else the next one (a parcel leaving on a Saturday arrives on Monday at the
    earliest)."""
    day = start
    if days == 0:
        while not _is_business_day(day):
            day += timedelta(days=1)
        return day
    left = days
    while left:
        day += timedelta(days=1)
        if _is_business_day(day):
            left -= 1
    return day


def _business_days_between(after: date, until: date) -> int:
    """Business days ``d`` with ``after < d ≤ until``."""
    count, day = 0, after
    while day < until:
        day += timedelta(days=1)
        count += _is_business_day(day)
    return count


def promise(
    *, ordered_at: datetime, warehouse: Warehouse, lane: Lane, delay_days: int = 0
) -> Promise:
    """The delivery promise of an order placed at ``ordered_at`` (aware) shipping from
    ``warehouse`` over ``lane``.

    The order leaves on :meth:`Warehouse.ship_date`; it arrives ``transit_min`` to
    ``transit_max`` business days after that day, plus the lane's current ``delay_days``
    (from :class:`reclaim.domain.logistics.DelayIndex`) on both ends. Raises
    :class:`InvalidInput` for a naive time, a negative delay, or a lane that does not leave
    from the warehouse.
    """
    ordered_at = _aware(ordered_at, "ordered_at")
    delay = _whole(delay_days, "delay_days")
    if lane.origin != warehouse.code:
        raise InvalidInput(
            f"lane leaves from {lane.origin}, not from warehouse {warehouse.code}", field="lane"
        )
    ship_on = warehouse.ship_date(ordered_at)
    earliest = _add_business_days(ship_on, lane.transit_min + delay)
    latest = _add_business_days(ship_on, lane.transit_max + delay)
    ordered_on = ordered_at.astimezone(ZoneInfo(warehouse.timezone)).date()
    return Promise(
        ship_on=ship_on,
        earliest=earliest,
        latest=latest,
        days_min=_business_days_between(ordered_on, earliest),
        days_max=_business_days_between(ordered_on, latest),
    )


# --- options --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parcel:
    """One parcel: what it holds (``(sku, quantity)`` in cart order) and how it travels."""

    warehouse: Warehouse
    lane: Lane
    items: tuple[tuple[str, int], ...]
    weight_kg: Decimal
    cost: Decimal
    co2_kg: Decimal
    promise: Promise


@dataclass(frozen=True, slots=True)
class FulfilmentOption:
    """A way to ship the whole cart: one parcel, or several for a split shipment.

    A split is as late as its slowest parcel: its promise takes the latest of each date and
    day count. ``labels`` are the criteria this option wins.
    """

    parcels: tuple[Parcel, ...]
    labels: tuple[Criterion, ...] = ()

    @property
    def is_split(self) -> bool:
        return len(self.parcels) > 1

    @property
    def cost(self) -> Decimal:
        return sum((p.cost for p in self.parcels), Decimal(0))

    @property
    def currency(self) -> str:
        return self.parcels[0].lane.currency

    @property
    def co2_kg(self) -> Decimal:
        return sum((p.co2_kg for p in self.parcels), Decimal(0))

    @property
    def weight_kg(self) -> Decimal:
        return sum((p.weight_kg for p in self.parcels), Decimal(0))

    @property
    def promise(self) -> Promise:
        ps = [p.promise for p in self.parcels]
        return Promise(
            ship_on=max(p.ship_on for p in ps),
            earliest=max(p.earliest for p in ps),
            latest=max(p.latest for p in ps),
            days_min=max(p.days_min for p in ps),
            days_max=max(p.days_max for p in ps),
        )

    @property
    def origin_country(self) -> str | None:
        """The country every parcel leaves from; ``None`` for a split across countries."""
        countries = {p.warehouse.country for p in self.parcels}
        return countries.pop() if len(countries) == 1 else None


@dataclass(frozen=True, slots=True)
class FulfilmentOptions:
    """Every way to ship the cart, fastest first, and the SKUs that cannot be delivered.

    ``unavailable`` (sorted) lists the SKUs whose quantity exceeds what all the warehouses
    with a lane to the destination hold together: out of stock everywhere, as far as this
    destination is concerned. When it is not empty, ``options`` is; ``options`` can also be
    empty with nothing unavailable when the parcel is heavier than every lane's bands.
    """

    options: tuple[FulfilmentOption, ...]
    unavailable: tuple[str, ...] = ()

    def winner(self, criterion: Criterion) -> FulfilmentOption | None:
        return next((o for o in self.options if criterion in o.labels), None)


def _cart(cart: Sequence[tuple[str, int, Decimal]]) -> tuple[dict[str, int], dict[str, Decimal]]:
    quantities: dict[str, int] = {}
    weights: dict[str, Decimal] = {}
    for line in cart:
        if not isinstance(line, tuple) or len(line) != 3:
            raise InvalidInput("each cart line is (sku, quantity, weight_kg)", field="cart")
        sku = _code(line[0], "sku")
        quantity = _whole(line[1], "quantity", minimum=1)
        weight = _decimal(line[2], "weight_kg")
        if sku in weights and weights[sku] != weight:
            raise InvalidInput(f"SKU {sku} appears with two unit weights", field="cart")
        quantities[sku] = quantities.get(sku, 0) + quantity
        weights[sku] = weight
    if not quantities:
        raise InvalidInput("the cart is empty", field="cart")
    return quantities, weights


def lanes_to(lanes: Iterable[Lane], *, origin: str, country: str, region: str | None) -> list[Lane]:
    """The lanes from ``origin`` that serve the destination, one per (carrier, service): a
    lane to the destination's region is preferred over the same carrier and service's lane
    to the whole country."""
    best: dict[tuple[str, str], Lane] = {}
    for lane in lanes:
        if lane.origin != origin or not lane.serves(country, region):
            continue
        key = (lane.carrier, lane.service)
        if key not in best or (
            best[key].destination_region is None and lane.destination_region is not None
        ):
            best[key] = lane
    return [best[k] for k in sorted(best)]


def _parcel(
    *,
    warehouse: Warehouse,
    lane: Lane,
    items: Sequence[tuple[str, int]],
    weights: Mapping[str, Decimal],
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None,
) -> Parcel | None:
    weight = sum((weights[sku] * qty for sku, qty in items), Decimal(0))
    cost = lane.cost_for(weight)
    if cost is None:
        return None
    stat = delay_index.get(lane.key) if delay_index is not None else None
    return Parcel(
        warehouse=warehouse,
        lane=lane,
        items=tuple(items),
        weight_kg=weight,
        cost=cost,
        co2_kg=weight * lane.co2_per_kg,
        promise=promise(
            ordered_at=ordered_at,
            warehouse=warehouse,
            lane=lane,
            delay_days=stat.delay_days if stat is not None else 0,
        ),
    )


def quote(
    *,
    warehouse: Warehouse,
    items: Sequence[tuple[str, int]],
    weights: Mapping[str, Decimal],
    lanes: Iterable[Lane],
    destination_country: str,
    destination_region: str | None,
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None = None,
) -> Parcel | None:
    """The cheapest parcel (tie: earlier latest date, then carrier and service) carrying
    ``items`` from ``warehouse`` to the destination; ``None``, never an exception, when no lane
    serves it or none carries the weight. ``weights`` are per unit, by SKU."""
    country = _country(destination_country, "destination_country")
    region = _region(destination_region, "destination_region")
    parcels = [
        p
        for lane in lanes_to(lanes, origin=warehouse.code, country=country, region=region)
        if (
            p := _parcel(
                warehouse=warehouse,
                lane=lane,
                items=items,
                weights=weights,
                ordered_at=ordered_at,
                delay_index=delay_index,
            )
        )
        is not None
    ]
    return min(
        parcels,
        key=lambda p: (
            p.cost,
            p.promise.latest,
            p.promise.earliest,
            p.lane.carrier,
            p.lane.service,
        ),
        default=None,
    )


def proximity(warehouse: Warehouse, country: str, region: str | None) -> int:
    """How near a warehouse is to the destination, lower is nearer: 0 in the destination's
    country and region (both known and equal), 1 elsewhere in the same country, 2 abroad."""
    if warehouse.country != country:
        return 2
    if region is not None and warehouse.region == region:
        return 0
    return 1


def _identity(o: FulfilmentOption) -> tuple[str, ...]:
    return tuple(x for p in o.parcels for x in (p.warehouse.code, p.lane.carrier, p.lane.service))


def _speed(o: FulfilmentOption) -> tuple[date, date]:
    return (o.promise.latest, o.promise.earliest)


def options(
    *,
    cart: Sequence[tuple[str, int, Decimal]],
    destination_country: str,
    destination_region: str | None,
    stock: Mapping[tuple[str, str], int],
    warehouses: Iterable[Warehouse],
    lanes: Iterable[Lane],
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None = None,
) -> FulfilmentOptions:
    """Every way to ship the whole ``cart`` (lines ``(sku, quantity, unit weight kg)``; a SKU
    on several lines is added up) to the destination, with the winners labelled.

    * **Single-warehouse options**: one per warehouse whose ``stock[(code, sku)]`` (available
      units; missing means 0) covers every line, and per lane from it that serves the
      destination (see :func:`lanes_to`) and carries the cart's total weight. Cost is the
      lane's band for that weight, CO₂ the weight times the lane's CO₂ per kg, the promise
      :func:`promise` with the lane's ``delay_index`` delay.
    * **Split shipment**, only when there is no single-warehouse option: greedy, fewest
      parcels first, then cost. Each round takes the warehouse (not used yet, with a lane to
      the destination) whose parcel completes the most remaining lines, then moves the most
      units, then costs least, then has the earlier latest date, then the smaller code; it
      ships what it holds of the remaining lines over its cheapest lane (:func:`quote`). A
      warehouse whose parcel no lane carries is passed over. The split is labelled ``split``
      only: the other criteria compare ways to ship from one warehouse.
    * **Labels**, one winner each among single-warehouse options, ties broken down the line
      and finally by warehouse code, carrier, service: ``nearest`` — lowest
      :func:`proximity` (same country and region, then same country, then abroad), then
      faster; ``fastest`` — earliest latest date, then earliest earliest date, then cheaper;
      ``cheapest`` — lowest cost, then faster; ``greenest`` — least CO₂, then cheaper, then
      faster.

    Options come fastest first (latest date, earliest date, cost, CO₂, identity). Raises
    :class:`InvalidInput` for malformed input, duplicate warehouse codes, or candidate lanes
    quoting different currencies (costs could not be compared).
    """
    quantities, weights = _cart(cart)
    country = _country(destination_country, "destination_country")
    region = _region(destination_region, "destination_region")
    ordered_at = _aware(ordered_at, "ordered_at")
    lane_list = list(lanes)
    by_code: dict[str, Warehouse] = {}
    for w in warehouses:
        if w.code in by_code:
            raise InvalidInput(f"warehouse {w.code} is listed twice", field="warehouses")
        by_code[w.code] = w
    reachable = [
        w
        for code, w in sorted(by_code.items())
        if lanes_to(lane_list, origin=code, country=country, region=region)
    ]

    def available(w: Warehouse, sku: str) -> int:
        return max(0, stock.get((w.code, sku), 0))

    unavailable = tuple(
        sorted(
            sku
            for sku, qty in quantities.items()
            if sum(available(w, sku) for w in reachable) < qty
        )
    )
    if unavailable:
        return FulfilmentOptions(options=(), unavailable=unavailable)

    items = list(quantities.items())
    singles: list[FulfilmentOption] = []
    for w in reachable:
        if all(available(w, sku) >= qty for sku, qty in items):
            for lane in lanes_to(lane_list, origin=w.code, country=country, region=region):
                parcel = _parcel(
                    warehouse=w,
                    lane=lane,
                    items=items,
                    weights=weights,
                    ordered_at=ordered_at,
                    delay_index=delay_index,
                )
                if parcel is not None:
                    singles.append(FulfilmentOption((parcel,)))
    if singles:
        _one_currency(singles)
        result = _label(singles, country=country, region=region)
    else:
        split = _split(
            quantities,
            weights,
            reachable=reachable,
            available=available,
            lanes=lane_list,
            country=country,
            region=region,
            ordered_at=ordered_at,
            delay_index=delay_index,
        )
        result = [replace(split, labels=(Criterion.SPLIT,))] if split is not None else []
        _one_currency(result)
    result.sort(key=lambda o: (*_speed(o), o.cost, o.co2_kg, _identity(o)))
    return FulfilmentOptions(options=tuple(result))


def _one_currency(found: Sequence[FulfilmentOption]) -> None:
    currencies = {p.lane.currency for o in found for p in o.parcels}
    if len(currencies) > 1:
        raise InvalidInput(
            "the lanes to this destination quote costs in "
            f"{', '.join(sorted(currencies))}: costs cannot be compared",
            field="lanes",
        )


def _label(
    found: list[FulfilmentOption], *, country: str, region: str | None
) -> list[FulfilmentOption]:
    def near(o: FulfilmentOption) -> int:
        return proximity(o.parcels[0].warehouse, country, region)

    winners = {
        Criterion.NEAREST: min(found, key=lambda o: (near(o), *_speed(o), o.cost, _identity(o))),
        Criterion.FASTEST: min(found, key=lambda o: (*_speed(o), o.cost, _identity(o))),
        Criterion.CHEAPEST: min(found, key=lambda o: (o.cost, *_speed(o), _identity(o))),
        Criterion.GREENEST: min(found, key=lambda o: (o.co2_kg, o.cost, *_speed(o), _identity(o))),
    }
    return [
        replace(o, labels=tuple(c for c, winner in winners.items() if winner is o)) for o in found
    ]


def _split(
    quantities: Mapping[str, int],
    weights: Mapping[str, Decimal],
    *,
    reachable: Sequence[Warehouse],
    available: Callable[[Warehouse, str], int],
    lanes: Sequence[Lane],
    country: str,
    region: str | None,
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None,
) -> FulfilmentOption | None:
    remaining = dict(quantities)
    unused = list(reachable)
    parcels: list[Parcel] = []
    while remaining:
        best: tuple[tuple[int, int, Decimal, date, str], Parcel] | None = None
        for w in unused:
            take = [
                (sku, min(qty, available(w, sku)))
                for sku, qty in remaining.items()
                if available(w, sku) > 0
            ]
            if not take:
                continue
            parcel = quote(
                warehouse=w,
                items=take,
                weights=weights,
                lanes=lanes,
                destination_country=country,
                destination_region=region,
                ordered_at=ordered_at,
                delay_index=delay_index,
            )
            if parcel is None:
                continue
            completes = sum(1 for sku, qty in take if qty == remaining[sku])
            units = sum(qty for _, qty in take)
            rank = (-completes, -units, parcel.cost, parcel.promise.latest, w.code)
            if best is None or rank < best[0]:
                best = (rank, parcel)
        if best is None:
            return None  # what is left sits only where no lane carries it
        parcel = best[1]
        parcels.append(parcel)
        unused.remove(parcel.warehouse)
        for sku, qty in parcel.items:
            remaining[sku] -= qty
            if remaining[sku] == 0:
                del remaining[sku]
    return FulfilmentOption(tuple(parcels))


# --- what to tell the customer ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Improvement:
    """Why an option is worth a mention: ``days_faster`` (> 0) and ``saving`` (> 0, in
    ``currency``, rounded to its minor unit) where it gains on them, ``None`` where not."""

    origin_country: str
    days_min: int
    days_max: int
    days_faster: int | None
    saving: Decimal | None
    currency: str

    def delivery_promise(self) -> DeliveryPromise:
        return DeliveryPromise(
            origin_country=self.origin_country,
            days_min=self.days_min,
            days_max=self.days_max,
            saving=self.saving,
            days_faster=self.days_faster,
        )


def delivery_promise(option: FulfilmentOption) -> DeliveryPromise | None:
    """The option's promise as message data, without a comparison; ``None`` for a split
    across countries (there is no one country it "ships from")."""
    if option.origin_country is None:
        return None
    p = option.promise
    return DeliveryPromise(
        origin_country=option.origin_country, days_min=p.days_min, days_max=p.days_max
    )


def better_than_seen(
    option: FulfilmentOption,
    *,
    seen_days_max: int | None,
    seen_cost: Decimal | None,
    seen_currency: str | None = None,
) -> Improvement | None:
    """Whether ``option`` beats what the customer saw at checkout: faster by ≥ 2 days (its
    :attr:`Promise.days_max` against ``seen_days_max``, both business days from the order) or
    cheaper by ≥ 10 % (its cost against ``seen_cost``, the shipping price shown).

    An option worse on the other count (slower, or dearer) is not better, so it is never
    advertised with one good number hiding a bad one. A count the customer was not shown
    (``None``), or a ``seen_currency`` other than the option's, cannot be compared and is left
    out. ``None`` when nothing qualifies, or for a split across countries.
    """
    origin = option.origin_country
    if origin is None:
        return None
    p = option.promise
    faster_by = seen_days_max - p.days_max if seen_days_max is not None else None
    comparable = seen_cost is not None and (
        seen_currency is None or seen_currency.upper() == option.currency
    )
    saving = seen_cost - option.cost if seen_cost is not None and comparable else None
    faster = faster_by is not None and faster_by >= FASTER_BY_DAYS
    cheaper = (
        saving is not None
        and seen_cost is not None
        and seen_cost > 0
        and saving >= seen_cost * CHEAPER_BY
    )
    slower = faster_by is not None and faster_by < 0
    dearer = saving is not None and saving < 0
    if not (faster or cheaper) or slower or dearer:
        return None
    unit = Decimal(1).scaleb(-exponent(option.currency))
    return Improvement(
        origin_country=origin,
        days_min=p.days_min,
        days_max=p.days_max,
        days_faster=faster_by if faster_by is not None and faster_by > 0 else None,
        saving=saving.quantize(unit, rounding=ROUND_HALF_EVEN)
        if saving is not None and saving > 0
        else None,
        currency=option.currency,
    )
