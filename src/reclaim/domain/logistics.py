"""Shipment exceptions and the per-lane delay index (SPEC S9).

A shipment is a :class:`Timeline` of carrier scans. :func:`exceptions` says what has gone
wrong with it as far as the scans known at ``now`` tell: a stalled parcel, a customs hold past
its allowance, a delivery late against its promise, a probable loss. Every finding carries the
instant it became detectable (``detected_at``), so a sweep that runs at any moment, or a replay
at daily ticks, finds the same things with the same times; the caller opens one logistics case
per ``(kind, since)`` it has not seen yet.

:class:`DelayIndex` summarises a lane's recent deliveries (late share, median delay) to feed
the delivery promises of :mod:`reclaim.domain.fulfilment` and to warn open orders when a lane
is slipping.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reclaim.domain.events import ShipmentObserved, ShipmentStatus
from reclaim.errors import InvalidInput

K = TypeVar("K", bound=Hashable)

DEFAULT_CUSTOMS_DAYS = 3
DEFAULT_LOST_AFTER_DAYS = 21

# Delay index defaults (see DelayIndex).
WINDOW_DAYS = 30
MAX_DELIVERIES = 200
SLIPPING_SHARE = 0.20
MIN_DELIVERIES = 20

# A parcel's journey ends at its first delivered or returned scan: nothing after it can be a
# stall, a customs hold or a loss.
TERMINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED})
# The statuses whose silence is a stall. Customs holds have their own allowance, and silence
# after an exception scan is treated as a probable loss rather than a stall.
_MOVING = frozenset(
    {ShipmentStatus.LABEL_CREATED, ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY}
)
# Order of scans that share an instant, as in reclaim.domain.shipments: later stages last.
_RANK = {
    ShipmentStatus.LABEL_CREATED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.CUSTOMS_HOLD: 2,
    ShipmentStatus.EXCEPTION: 2,
    ShipmentStatus.OUT_FOR_DELIVERY: 3,
    ShipmentStatus.DELIVERED: 4,
    ShipmentStatus.RETURNED: 5,
}


class ExceptionKind(StrEnum):
    STALLED = "stalled"  # no scan for longer than the lane's norm
    CUSTOMS_HOLD = "customs_hold"  # held at customs longer than the allowance
    LATE = "late"  # not delivered by the end of the promised day
    PROBABLE_LOSS = "probable_loss"  # silent for lost_after_days, or silent after an exception


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be an aware datetime", field=field)
    return value.astimezone(UTC)


def _zone(name: object, field: str = "timezone") -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"{field} must be an IANA zone such as Europe/Paris", field=field)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"{field} {name!r} is not an IANA zone such as Europe/Paris", field=field
        ) from None


def end_of_day(day: date, timezone: str) -> datetime:
    """The first instant (UTC) after ``day`` ends in ``timezone``: local midnight of the next
    day. A delivery at or after it is not "by ``day``"."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=_zone(timezone)).astimezone(
        UTC
    )


@dataclass(frozen=True, slots=True)
class Scan:
    """One carrier event: a status at an instant (normalised to UTC)."""

    status: ShipmentStatus
    at: datetime
    location: str | None = None

    def __post_init__(self) -> None:
        try:
            status = ShipmentStatus(self.status)
        except ValueError:
            allowed = "|".join(s.value for s in ShipmentStatus)
            raise InvalidInput(f"status must be one of {allowed}", field="status") from None
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "at", _aware(self.at, "at"))


@dataclass(frozen=True, slots=True)
class Timeline:
    """A shipment's scans, kept in time order (same-instant scans in journey order), and the
    destination's time zone, where "the end of the promised day" is reckoned."""

    scans: tuple[Scan, ...]
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        _zone(self.timezone)
        ordered = sorted(self.scans, key=lambda s: (s.at, _RANK[s.status], s.status.value))
        object.__setattr__(self, "scans", tuple(ordered))

    @classmethod
    def of(cls, observations: Iterable[ShipmentObserved], *, timezone: str = "UTC") -> Timeline:
        """The timeline of one parcel's ingested observations (duplicates kept: harmless)."""
        return cls(
            tuple(Scan(o.status, o.occurred_at, o.location) for o in observations),
            timezone=timezone,
        )

    def known_at(self, now: datetime) -> tuple[Scan, ...]:
        """The scans that had happened by ``now`` (inclusive)."""
        return tuple(s for s in self.scans if s.at <= now)

    def finished_at(self, now: datetime) -> Scan | None:
        """The first delivered or returned scan known at ``now``, if any."""
        return next((s for s in self.known_at(now) if s.status in TERMINAL), None)


@dataclass(frozen=True, slots=True)
class ShipmentException:
    """A finding: ``since`` is when the condition began (the last scan before a silence, the
    start of a customs hold, the promised deadline); ``detected_at`` the first instant it was
    true, which is what "how early" is measured from."""

    kind: ExceptionKind
    detected_at: datetime
    since: datetime


def exceptions(
    shipment: Timeline,
    *,
    now: datetime,
    lane_norm_hours: float | None,
    promise_latest: date | None,
    customs_days: int = DEFAULT_CUSTOMS_DAYS,
    lost_after_days: int = DEFAULT_LOST_AFTER_DAYS,
) -> list[ShipmentException]:
    """Everything that has gone wrong with ``shipment`` up to ``now``, ordered by
    ``detected_at`` (then kind), each condition reported once with the instant it became true.

    Only scans at or before ``now`` count, so calling this at successive instants only ever
    adds findings (a resolved stall stays reported, as history). The journey ends at the first
    delivered or returned scan. Between one scan and the next (or ``now``):

    * **stalled**: the scan was label created, in transit or out for delivery and the silence
      lasts longer than ``lane_norm_hours``: detected at scan + norm. ``None``: no norm known
      for the lane, so no stall is judged.
    * **customs hold**: a run of customs-hold scans (up to the next scan of another status, or
      ``now``) lasting longer than ``customs_days``: detected at its first scan + the allowance.
    * **probable loss**: any silence longer than ``lost_after_days``, or a silence longer than
      the norm after an exception scan: detected at whichever comes first.
    * **late**: when ``promise_latest`` is given, nothing delivered or returned before the end
      of that day in the shipment's zone: detected at that instant (so a delivery after the
      deadline was detectable as late at the deadline, before it arrived).

    Raises :class:`InvalidInput` for a naive ``now``, a norm that is not positive, or
    allowances below one day.
    """
    now = _aware(now, "now")
    if lane_norm_hours is not None and not lane_norm_hours > 0:
        raise InvalidInput("lane_norm_hours must be positive", field="lane_norm_hours")
    if isinstance(customs_days, bool) or not isinstance(customs_days, int) or customs_days < 1:
        raise InvalidInput("customs_days must be a whole number of days ≥ 1", field="customs_days")
    if (
        isinstance(lost_after_days, bool)
        or not isinstance(lost_after_days, int)
        or lost_after_days < 1
    ):
        raise InvalidInput(
            "lost_after_days must be a whole number of days ≥ 1", field="lost_after_days"
        )
    norm = timedelta(hours=lane_norm_hours) if lane_norm_hours is not None else None
    lost_after = timedelta(days=lost_after_days)
    customs = timedelta(days=customs_days)

    found: list[ShipmentException] = []
    journey: list[Scan] = []
    for scan in shipment.known_at(now):
        journey.append(scan)
        if scan.status in TERMINAL:
            break
    for i, scan in enumerate(journey):
        if scan.status in TERMINAL:
            break
        silence_ends = journey[i + 1].at if i + 1 < len(journey) else now
        silence = silence_ends - scan.at
        if norm is not None and scan.status in _MOVING and silence > norm:
            found.append(ShipmentException(ExceptionKind.STALLED, scan.at + norm, scan.at))
        loss_after = (
            min(norm, lost_after)
            if norm is not None and scan.status is ShipmentStatus.EXCEPTION
            else lost_after
        )
        if silence > loss_after:
            found.append(
                ShipmentException(ExceptionKind.PROBABLE_LOSS, scan.at + loss_after, scan.at)
            )
        starts_hold = scan.status is ShipmentStatus.CUSTOMS_HOLD and (
            i == 0 or journey[i - 1].status is not ShipmentStatus.CUSTOMS_HOLD
        )
        if starts_hold:
            released = next(
                (s.at for s in journey[i + 1 :] if s.status is not ShipmentStatus.CUSTOMS_HOLD),
                now,
            )
            if released - scan.at > customs:
                found.append(
                    ShipmentException(ExceptionKind.CUSTOMS_HOLD, scan.at + customs, scan.at)
                )
    if promise_latest is not None:
        deadline = end_of_day(promise_latest, shipment.timezone)
        finished = shipment.finished_at(now)
        if now >= deadline and (finished is None or finished.at >= deadline):
            found.append(ShipmentException(ExceptionKind.LATE, deadline, deadline))
    found.sort(key=lambda e: (e.detected_at, e.kind.value, e.since))
    return found


# --- delay index ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivered(Generic[K]):
    """One delivered parcel of a lane: ``days_late`` is how many calendar days its local
    delivery date came after the promised date (0 when on time)."""

    lane: K
    delivered_at: datetime
    days_late: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "delivered_at", _aware(self.delivered_at, "delivered_at"))
        if isinstance(self.days_late, bool) or not isinstance(self.days_late, int):
            raise InvalidInput("days_late must be a whole number of days", field="days_late")
        if self.days_late < 0:
            raise InvalidInput("days_late must not be negative", field="days_late")

    @classmethod
    def of(
        cls, *, lane: K, delivered_at: datetime, promise_latest: date, timezone: str
    ) -> Delivered[K]:
        """A delivery measured against its promise, the calendar day read in ``timezone``
        (the destination's): late exactly when :func:`exceptions` would call it late."""
        local = _aware(delivered_at, "delivered_at").astimezone(_zone(timezone)).date()
        return cls(lane, delivered_at, max(0, (local - promise_latest).days))

    @property
    def late(self) -> bool:
        return self.days_late > 0


@dataclass(frozen=True, slots=True)
class DelayStat:
    """A lane's recent record. ``median_delay_days`` is over the late deliveries only (calendar
    days; ``None`` when none was late)."""

    deliveries: int
    late: int
    median_delay_days: float | None
    slipping: bool

    @property
    def late_share(self) -> float:
        return self.late / self.deliveries if self.deliveries else 0.0

    @property
    def delay_days(self) -> int:
        """What to add to the lane's promises: the median delay, rounded up, while the lane is
        slipping; 0 otherwise. Calendar days applied as business days, which errs towards a
        later promise, never an earlier one."""
        if not self.slipping or self.median_delay_days is None:
            return 0
        return math.ceil(self.median_delay_days)


_NO_RECORD = DelayStat(deliveries=0, late=0, median_delay_days=None, slipping=False)


class DelayIndex(Mapping[K, DelayStat]):
    """Per lane, the recent delivered parcels' late share and median delay.

    The window, per lane: the ``max_deliveries`` (200) most recent deliveries among those
    delivered in the ``window_days`` (30) days up to ``now`` (``now - window < delivered_at ≤
    now``; later ones are ignored, so a replay sees only the past). A lane is **slipping** when
    it has at least ``min_deliveries`` (20) deliveries in the window and more than
    ``slipping_share`` (20 %) of them were late: well above the 7–8 % a healthy lane shows in
    Olist's real data, and enough deliveries that two unlucky parcels do not trip it.

    As a mapping it holds the lanes with at least one delivery in the window; :meth:`stat`,
    :meth:`delay_days` and :meth:`slipping` answer for any lane (no record: not slipping).
    """

    def __init__(
        self,
        deliveries: Iterable[Delivered[K]],
        *,
        now: datetime,
        window_days: int = WINDOW_DAYS,
        max_deliveries: int = MAX_DELIVERIES,
        slipping_share: float = SLIPPING_SHARE,
        min_deliveries: int = MIN_DELIVERIES,
    ) -> None:
        now = _aware(now, "now")
        if window_days < 1:
            raise InvalidInput("window_days must be ≥ 1", field="window_days")
        if max_deliveries < 1:
            raise InvalidInput("max_deliveries must be ≥ 1", field="max_deliveries")
        if not 0 <= slipping_share < 1:
            raise InvalidInput("slipping_share must be in [0, 1)", field="slipping_share")
        if min_deliveries < 1:
            raise InvalidInput("min_deliveries must be ≥ 1", field="min_deliveries")
        start = now - timedelta(days=window_days)
        per_lane: dict[K, list[Delivered[K]]] = defaultdict(list)
        for d in deliveries:
            if start < d.delivered_at <= now:
                per_lane[d.lane].append(d)
        self._stats: dict[K, DelayStat] = {}
        for lane, rows in per_lane.items():
            rows.sort(key=lambda d: d.delivered_at, reverse=True)
            recent = rows[:max_deliveries]
            delays = [d.days_late for d in recent if d.late]
            self._stats[lane] = DelayStat(
                deliveries=len(recent),
                late=len(delays),
                median_delay_days=float(statistics.median(delays)) if delays else None,
                slipping=len(recent) >= min_deliveries
                and len(delays) / len(recent) > slipping_share,
            )

    def __getitem__(self, lane: K) -> DelayStat:
        return self._stats[lane]

    def __iter__(self) -> Iterator[K]:
        return iter(self._stats)

    def __len__(self) -> int:
        return len(self._stats)

    def stat(self, lane: K) -> DelayStat:
        """The lane's record; an empty, not-slipping one for a lane with no recent delivery."""
        return self._stats.get(lane, _NO_RECORD)

    def delay_days(self, lane: K) -> int:
        """Business days to add to the lane's promises (``promise(delay_days=…)``)."""
        return self.stat(lane).delay_days

    def slipping(self, lane: K) -> bool:
        """Whether open orders on the lane should be warned."""
        return self.stat(lane).slipping
