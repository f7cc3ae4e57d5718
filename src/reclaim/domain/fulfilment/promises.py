"""Delivery promises (SPEC S8): the day an order leaves and the business days until it arrives.

Business days at the destination are Monday to Friday; the warehouse's own calendar (working
days, holidays) decides only the day a parcel leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from reclaim.domain.fulfilment.network import Lane, Warehouse, _aware, _whole
from reclaim.errors import InvalidInput


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
