"""A report's period: whole days ``[start, end)`` in the store's time zone.

``2026-11`` is the month from 1 November 00:00 to 1 December 00:00 where the store is, so a
case opened at 23:30 local time on 30 November counts in November whatever UTC says. The
end day is not included: ``--from 2026-11-01 --to 2026-11-08`` is one week. A scheduled
report's period is the ISO week (``2026-W45``, Monday to Monday) or the month that ended
last (:func:`last_ended`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reclaim.errors import InvalidInput

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
# Where the store is, a scheduled report goes from this time of the day its period ends on:
# Monday morning for the week before, the 1st's morning for the month before.
SEND_AT = time(6, 0)


@dataclass(frozen=True, slots=True)
class Period:
    start: date  # the first day included
    end: date  # the first day not included
    timezone: str
    start_at: datetime  # start's midnight in the zone, as an aware UTC instant
    end_at: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def parse_month(text: str) -> tuple[date, date]:
    """``"2026-11"`` → (1 November, 1 December); ``InvalidInput`` (field period) otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise InvalidInput(f"{text[:20]!r} is not a month such as 2026-11", field="period")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= year <= 9998:
        raise InvalidInput(f"{text[:20]!r} is not a month such as 2026-11", field="period")
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first, following


def parse_week(text: str) -> tuple[date, date]:
    """``"2026-W45"`` (ISO 8601) → (its Monday, the Monday after); ``InvalidInput`` otherwise."""
    found = _WEEK.fullmatch(text.strip().upper())
    try:
        if found is None:
            raise ValueError(text)
        monday = date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        raise InvalidInput(
            f"{text[:20]!r} is not a week such as 2026-W45", field="period"
        ) from None
    if monday.year > 9998:
        raise InvalidInput(f"{text[:20]!r} is not a week such as 2026-W45", field="period")
    return monday, monday + timedelta(days=7)


def week_key(monday: date) -> str:
    """The ISO week a Monday starts: ``2026-W45``."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def parse_period(text: str) -> tuple[str, date, date]:
    """A month (``2026-11``) or an ISO week (``2026-W45``) → (its name, first day, first day
    after); ``InvalidInput`` (field period) for anything else."""
    if "W" in text.upper():
        start, end = parse_week(text)
        return week_key(start), start, end
    try:
        start, end = parse_month(text)
    except InvalidInput:
        raise InvalidInput(
            f"{text[:20]!r} is not a month such as 2026-11 or a week such as 2026-W45",
            field="period",
        ) from None
    return start.strftime("%Y-%m"), start, end


def last_ended(every: str, *, timezone: str, now: datetime) -> tuple[str, date, date]:
    """The latest whole ``week`` (Monday to Monday, ISO) or ``month`` whose scheduled report
    is due at ``now`` where the store is: the period has ended and :data:`SEND_AT` of the day
    it ended on has passed. Returns (its name, first day, first day after)."""
    local = now.astimezone(ZoneInfo(timezone))
    today = local.date()
    if every == "week":
        end = today - timedelta(days=today.weekday())
        if today == end and local.time() < SEND_AT:
            end -= timedelta(days=7)
        start = end - timedelta(days=7)
        return week_key(start), start, end
    end = today.replace(day=1)
    if today == end and local.time() < SEND_AT:
        end = (end - timedelta(days=1)).replace(day=1)
    start = (end - timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), start, end


def parse_day(text: str, *, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{text[:20]!r} is not a date such as 2026-11-01", field=field) from None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def resolve(
    *,
    timezone: str,
    now: datetime,
    month: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Period:
    """The period named by ``month`` or by ``start`` and ``end`` (either may be left out:
    the start defaults to 30 days before the end, the end to tomorrow), in ``timezone``.

    Refused (``InvalidInput`` naming the field): both kinds given, an end not after the
    start, or a period that starts after ``now``.
    """
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    if month is not None:
        if start is not None or end is not None:
            raise InvalidInput("give --period or --from/--to, not both", field="period")
        start, end = parse_month(month)
        field = "period"
    else:
        end = end or today + timedelta(days=1)
        start = start or end - timedelta(days=30)
        field = "from"
    if end <= start:
        raise InvalidInput(
            f"the period must end after it starts ({start}); --to ({end}) is the first day "
            "not included",
            field="to",
        )
    start_at = _midnight(start, zone)
    if start_at > now:
        raise InvalidInput(f"the period starts in the future ({start})", field=field)
    return Period(start, end, timezone, start_at, _midnight(end, zone))
