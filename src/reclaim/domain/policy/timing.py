"""When a message may go (SPEC S5): the customer's quiet hours, read on their own clock, and
the frequency cap shared by every channel. The instant decided for is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

from reclaim.domain.messages import Channel
from reclaim.errors import InvalidInput


def _aware(value: datetime, field: str) -> datetime:
    if value.utcoffset() is None:
        raise InvalidInput(f"{field} must be an aware datetime", field=field)
    return value


# --- quiet hours ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window of local wall-clock time, ``start`` inclusive, ``end`` exclusive.

    ``start > end`` crosses midnight (21:00–08:00); ``start == end`` is an empty window.
    Times are naive wall-clock readings; seconds count, microseconds are refused.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None or value.microsecond:
                raise InvalidInput(f"quiet hours {name} must be a naive time", field=name)

    def contains(self, local: time) -> bool:
        """Whether the wall-clock reading ``local`` falls inside the window."""
        local = local.replace(tzinfo=None, fold=0)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


# SMS 21:00–08:00 and email 22:00–07:00 (SPEC S5). Webhook messages mostly reach a phone
# (WhatsApp gateways), so they keep the SMS window.
DEFAULT_QUIET_HOURS: Mapping[Channel, QuietHours] = MappingProxyType(
    {
        Channel.SMS: QuietHours(time(21), time(8)),
        Channel.EMAIL: QuietHours(time(22), time(7)),
        Channel.WEBHOOK: QuietHours(time(21), time(8)),
    }
)


def zone(tz: str | None) -> tzinfo:
    """The IANA zone ``tz``; UTC for None, an empty, malformed or unknown name. Never raises."""
    if not isinstance(tz, str) or not tz:
        return UTC
    try:
        return ZoneInfo(tz)
    except (ValueError, KeyError, OSError, TypeError):  # ZoneInfoNotFoundError: a KeyError
        return UTC


def _first_instant_at(day: date, wall: time, tz: tzinfo, *, after: datetime) -> datetime:
    """The first UTC instant later than ``after`` at which the clock in ``tz`` reads ``wall``
    on ``day``; when ``wall`` does not exist that day (a spring-forward gap), the instant the
    gap ends, i.e. the first valid local time after it."""
    candidates = []
    for fold in (0, 1):
        local = datetime.combine(day, wall, tzinfo=tz).replace(fold=fold)
        instant = local.astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            instant = _gap_end(day, wall, tz)
        if instant > after:
            candidates.append(instant)
    return min(candidates, default=after)


def _gap_end(day: date, wall: time, tz: tzinfo) -> datetime:
    """The transition instant of the gap that swallows ``wall`` on ``day`` in ``tz``.

    fold=1 reads the missing time with the offset after the transition, which lands before
    it; fold=0 with the offset before, which lands after it. Transitions fall on whole
    seconds, so a binary search over the seconds between the two finds it exactly.
    """
    local = datetime.combine(day, wall, tzinfo=tz)
    low = int(local.replace(fold=1).timestamp())  # before the transition
    high = int(local.replace(fold=0).timestamp())  # after it
    if low > high:
        low, high = high, low
    offset_after = datetime.fromtimestamp(high, tz).utcoffset()
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == offset_after:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def release_after_quiet_hours(
    at: datetime, *, tz: str | None, quiet: QuietHours | None
) -> datetime:
    """``at`` itself when the customer's local time is outside ``quiet``, else the UTC
    instant the window ends in zone ``tz``.

    Local time is what the customer's clock reads, so on the night clocks fall back the
    repeated hour counts twice. A window end that does not exist that day (it falls in a
    spring-forward gap) moves to the first valid local time after the gap. An unknown or
    malformed zone is read as UTC (:func:`zone`); None for ``quiet`` means no quiet hours.
    Raises :class:`InvalidInput` only for a naive ``at``.
    """
    _aware(at, "at")
    if quiet is None:
        return at
    tz_info = zone(tz)
    instant = at
    # One round almost always: a second only when the first valid time after a gap is itself
    # inside the window (a window of nearly 24 h, or Samoa skipping 30 December 2011).
    for _ in range(3):
        local = instant.astimezone(tz_info)
        if not quiet.contains(local.time()):
            return instant
        day = local.date()
        if quiet.start > quiet.end and local.time() >= quiet.start:
            day += timedelta(days=1)  # the window opened this evening and ends tomorrow
        instant = _first_instant_at(day, quiet.end, tz_info, after=instant.astimezone(UTC))
    return instant


# --- frequency cap --------------------------------------------------------------------------

FREQUENCY_CAP = timedelta(hours=16)  # one message per customer per 16 h, all channels (S5)


def release_after_cap(
    at: datetime, *, last_sent_at: datetime | None, cap: timedelta = FREQUENCY_CAP
) -> datetime:
    """The earliest instant ≥ ``at`` that is at least ``cap`` after ``last_sent_at``.

    ``last_sent_at`` is the customer's last message on any channel (the cap is shared); None
    when there was none. Raises :class:`InvalidInput` for a negative cap or naive datetimes.
    """
    _aware(at, "at")
    if cap < timedelta(0):
        raise InvalidInput("frequency cap must not be negative", field="cap")
    if last_sent_at is None:
        return at
    return max(at, _aware(last_sent_at, "last_sent_at") + cap)


_FIXED_POINT_ROUNDS = 8


def earliest_send(
    at: datetime,
    *,
    tz: str | None,
    quiet: QuietHours | None,
    last_sent_at: datetime | None,
    cap: timedelta = FREQUENCY_CAP,
) -> datetime:
    """The earliest instant ≥ ``at`` outside the quiet hours and past the frequency cap.

    A cap release may land in the quiet hours and a quiet-hours release could, in principle,
    land before the cap: the two are applied in turn until neither moves the instant. Both
    only move forward and the cap is settled after its first application, so this ends in two
    rounds; the loop is bounded all the same.
    """
    instant = at
    for _ in range(_FIXED_POINT_ROUNDS):
        moved = release_after_cap(instant, last_sent_at=last_sent_at, cap=cap)
        moved = release_after_quiet_hours(moved, tz=tz, quiet=quiet)
        if moved == instant:
            break
        instant = moved
    return instant
