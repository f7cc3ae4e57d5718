"""Shipment exceptions and the delay index (SPEC S9), exact instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.domain.events import ShipmentObserved, ShipmentStatus
from reclaim.domain.logistics import (
    DelayIndex,
    DelayStat,
    Delivered,
    ExceptionKind,
    Scan,
    ShipmentException,
    Timeline,
    end_of_day,
    exceptions,
)
from reclaim.errors import InvalidInput

S = ShipmentStatus
K = ExceptionKind
T0 = datetime(2026, 5, 4, 10, tzinfo=UTC)  # Monday
H = timedelta(hours=1)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def tl(*scans: tuple[ShipmentStatus, timedelta], zone: str = "UTC") -> Timeline:
    return Timeline(tuple(Scan(status, T0 + offset) for status, offset in scans), timezone=zone)


def found(
    timeline: Timeline,
    now: datetime,
    *,
    norm: float | None = 48,
    latest: date | None = None,
    customs_days: int = 3,
    lost_after_days: int = 21,
) -> list[tuple[ExceptionKind, datetime, datetime]]:
    return [
        (e.kind, e.detected_at, e.since)
        for e in exceptions(
            timeline,
            now=now,
            lane_norm_hours=norm,
            promise_latest=latest,
            customs_days=customs_days,
            lost_after_days=lost_after_days,
        )
    ]


# --- stalled ------------------------------------------------------------------------------


def test_a_clean_journey_has_no_exception() -> None:
    journey = tl(
        (S.LABEL_CREATED, 0 * H),
        (S.IN_TRANSIT, 6 * H),
        (S.IN_TRANSIT, 30 * H),
        (S.OUT_FOR_DELIVERY, 70 * H),
        (S.DELIVERED, 75 * H),
    )
    for hours in (0, 10, 50, 75, 500, 5000):
        assert found(journey, T0 + hours * H, latest=date(2026, 5, 8)) == []


def test_stalled_when_silent_longer_than_the_norm() -> None:
    journey = tl((S.LABEL_CREATED, 0 * H), (S.IN_TRANSIT, 2 * H))
    assert found(journey, T0 + 50 * H) == []  # exactly 48 h: not longer
    assert found(journey, T0 + 50 * H + SECOND) == [(K.STALLED, T0 + 50 * H, T0 + 2 * H)]


def test_a_resolved_stall_stays_reported_with_its_instant() -> None:
    journey = tl((S.IN_TRANSIT, 0 * H), (S.IN_TRANSIT, 80 * H), (S.DELIVERED, 90 * H))
    expected = [(K.STALLED, T0 + 48 * H, T0)]
    assert found(journey, T0 + 60 * H) == expected  # while it is going on
    assert found(journey, T0 + 100 * H) == expected  # and after the parcel moved again


def test_label_created_but_never_picked_up_is_stalled() -> None:
    assert found(tl((S.LABEL_CREATED, 0 * H)), T0 + 3 * DAY, norm=24) == [
        (K.STALLED, T0 + 24 * H, T0)
    ]


def test_no_norm_no_stall() -> None:
    assert found(tl((S.IN_TRANSIT, 0 * H)), T0 + 10 * DAY, norm=None) == []


def test_out_for_delivery_can_stall() -> None:
    assert found(tl((S.OUT_FOR_DELIVERY, 0 * H)), T0 + 13 * H, norm=12) == [
        (K.STALLED, T0 + 12 * H, T0)
    ]


# --- customs --------------------------------------------------------------------------------


def test_customs_hold_past_the_allowance() -> None:
    journey = tl(
        (S.IN_TRANSIT, 0 * DAY),
        (S.CUSTOMS_HOLD, 1 * DAY),
        (S.CUSTOMS_HOLD, 2 * DAY),  # a second customs scan does not restart the hold
        (S.IN_TRANSIT, 5 * DAY),
        (S.DELIVERED, 6 * DAY),
    )
    # Held from day 1 to day 5: 4 days > 3, detected at day 4. The 3-day silence inside
    # customs is not a stall (customs has its own allowance).
    assert found(journey, T0 + 10 * DAY) == [(K.CUSTOMS_HOLD, T0 + 4 * DAY, T0 + 1 * DAY)]
    assert found(journey, T0 + 4 * DAY) == []  # exactly 3 days so far: not longer
    assert found(journey, T0 + 4 * DAY + SECOND) == [(K.CUSTOMS_HOLD, T0 + 4 * DAY, T0 + DAY)]


def test_customs_hold_within_the_allowance() -> None:
    journey = tl((S.CUSTOMS_HOLD, 0 * DAY), (S.IN_TRANSIT, 3 * DAY), (S.DELIVERED, 4 * DAY))
    assert found(journey, T0 + 9 * DAY) == []
    assert found(journey, T0 + 9 * DAY, customs_days=2) == [(K.CUSTOMS_HOLD, T0 + 2 * DAY, T0)]


def test_two_customs_holds_are_two_findings() -> None:
    journey = tl(
        (S.CUSTOMS_HOLD, 0 * DAY),
        (S.IN_TRANSIT, 4 * DAY),
        (S.CUSTOMS_HOLD, 5 * DAY),
        (S.DELIVERED, 10 * DAY),
    )
    assert found(journey, T0 + 11 * DAY, norm=None) == [
        (K.CUSTOMS_HOLD, T0 + 3 * DAY, T0),
        (K.CUSTOMS_HOLD, T0 + 8 * DAY, T0 + 5 * DAY),
    ]


# --- probable loss --------------------------------------------------------------------------


def test_silence_for_lost_after_days_is_a_probable_loss() -> None:
    journey = tl((S.IN_TRANSIT, 0 * DAY))
    assert found(journey, T0 + 21 * DAY) == [(K.STALLED, T0 + 48 * H, T0)]
    assert found(journey, T0 + 21 * DAY + SECOND) == [
        (K.STALLED, T0 + 48 * H, T0),
        (K.PROBABLE_LOSS, T0 + 21 * DAY, T0),
    ]
    assert found(journey, T0 + 30 * DAY, norm=None, lost_after_days=10) == [
        (K.PROBABLE_LOSS, T0 + 10 * DAY, T0)
    ]


def test_silence_after_an_exception_scan_is_a_loss_after_the_norm() -> None:
    journey = tl((S.IN_TRANSIT, 0 * H), (S.EXCEPTION, 24 * H))
    # Not a stall (the in-transit gap was 24 h; the exception's silence is judged as loss).
    assert found(journey, T0 + 80 * H) == [(K.PROBABLE_LOSS, T0 + 72 * H, T0 + 24 * H)]
    assert found(journey, T0 + 72 * H) == []
    # Without a norm, only the lost-after allowance applies.
    assert found(journey, T0 + 80 * H, norm=None) == []
    assert found(journey, T0 + 24 * H + 21 * DAY + SECOND, norm=None) == [
        (K.PROBABLE_LOSS, T0 + 24 * H + 21 * DAY, T0 + 24 * H)
    ]


def test_an_exception_followed_by_a_scan_is_not_a_loss() -> None:
    journey = tl((S.EXCEPTION, 0 * H), (S.IN_TRANSIT, 40 * H), (S.DELIVERED, 60 * H))
    assert found(journey, T0 + 30 * DAY) == []


def test_customs_silence_can_still_be_a_loss() -> None:
    journey = tl((S.CUSTOMS_HOLD, 0 * DAY))
    assert found(journey, T0 + 22 * DAY) == [
        (K.CUSTOMS_HOLD, T0 + 3 * DAY, T0),
        (K.PROBABLE_LOSS, T0 + 21 * DAY, T0),
    ]


# --- late -----------------------------------------------------------------------------------

LATEST = date(2026, 5, 6)  # Wednesday
BERLIN_DEADLINE = datetime(2026, 5, 6, 22, tzinfo=UTC)  # Thursday 00:00 CEST


def test_end_of_day_is_local_midnight() -> None:
    assert end_of_day(LATEST, "Europe/Berlin") == BERLIN_DEADLINE
    assert end_of_day(LATEST, "America/New_York") == datetime(2026, 5, 7, 4, tzinfo=UTC)
    assert end_of_day(date(2026, 3, 28), "Europe/Berlin") == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end_of_day(date(2026, 3, 29), "Europe/Berlin") == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_not_delivered_by_the_end_of_the_promised_day() -> None:
    journey = tl((S.IN_TRANSIT, 0 * H), zone="Europe/Berlin")
    assert found(journey, BERLIN_DEADLINE - SECOND, norm=None, latest=LATEST) == []
    assert found(journey, BERLIN_DEADLINE, norm=None, latest=LATEST) == [
        (K.LATE, BERLIN_DEADLINE, BERLIN_DEADLINE)
    ]


@pytest.mark.parametrize(
    ("delivered", "zone", "late"),
    [
        (datetime(2026, 5, 6, 21, 59, 59, tzinfo=UTC), "Europe/Berlin", False),  # 23:59:59
        (BERLIN_DEADLINE, "Europe/Berlin", True),  # 00:00 on Thursday is after the day
        (datetime(2026, 5, 8, 9, tzinfo=UTC), "Europe/Berlin", True),
        (BERLIN_DEADLINE, "America/New_York", False),  # still Wednesday 18:00 there
        (datetime(2026, 5, 7, 4, tzinfo=UTC), "America/New_York", True),
    ],
)
def test_delivered_after_the_promise(delivered: datetime, zone: str, late: bool) -> None:
    journey = Timeline((Scan(S.IN_TRANSIT, T0), Scan(S.DELIVERED, delivered)), timezone=zone)
    result = found(journey, delivered + 30 * DAY, norm=None, latest=LATEST)
    deadline = end_of_day(LATEST, zone)
    assert result == ([(K.LATE, deadline, deadline)] if late else [])
    if late:  # detectable at the deadline: at or before the delivery
        assert result[0][1] <= delivered


def test_late_without_any_scan() -> None:
    assert found(Timeline((), timezone="Europe/Berlin"), BERLIN_DEADLINE, latest=LATEST) == [
        (K.LATE, BERLIN_DEADLINE, BERLIN_DEADLINE)
    ]


def test_returned_before_the_deadline_is_not_late() -> None:
    journey = tl((S.IN_TRANSIT, 0 * H), (S.RETURNED, 30 * H), zone="Europe/Berlin")
    assert found(journey, T0 + 30 * DAY, latest=LATEST) == []


def test_no_promise_no_lateness() -> None:
    assert found(tl((S.IN_TRANSIT, 0 * H)), T0 + 30 * H, latest=None) == []


# --- the journey and what is known at now ----------------------------------------------------


def test_scans_after_now_are_not_known_yet() -> None:
    journey = tl((S.IN_TRANSIT, 0 * H), (S.DELIVERED, 10 * H))
    # At 5 h the delivery has not happened: nothing wrong yet with a 4 h norm… until 4 h.
    assert found(journey, T0 + 5 * H, norm=4) == [(K.STALLED, T0 + 4 * H, T0)]
    assert found(journey, T0 + 3 * H, norm=4) == []


def test_nothing_after_the_first_delivered_scan_counts() -> None:
    # Real data has carrier scans dated after the delivery: the journey ended at delivery.
    journey = tl((S.IN_TRANSIT, 0 * H), (S.DELIVERED, 10 * H), (S.IN_TRANSIT, 20 * H))
    assert found(journey, T0 + 40 * DAY, norm=1) == [(K.STALLED, T0 + 1 * H, T0)]


def test_findings_are_ordered_by_detection() -> None:
    journey = tl(
        (S.IN_TRANSIT, 0 * H),
        (S.CUSTOMS_HOLD, 50 * H),
        (S.EXCEPTION, 50 * H + 4 * DAY),
        zone="Europe/Berlin",
    )
    result = exceptions(journey, now=T0 + 40 * DAY, lane_norm_hours=24, promise_latest=LATEST)
    assert result == [
        ShipmentException(K.STALLED, T0 + 24 * H, T0),
        ShipmentException(K.LATE, BERLIN_DEADLINE, BERLIN_DEADLINE),
        ShipmentException(K.CUSTOMS_HOLD, T0 + 50 * H + 3 * DAY, T0 + 50 * H),
        ShipmentException(K.PROBABLE_LOSS, T0 + 50 * H + 5 * DAY, T0 + 50 * H + 4 * DAY),
    ]


def test_timeline_orders_scans_and_reads_observations() -> None:
    at = T0 + H
    observed = [
        ShipmentObserved("p1", "o1", S.DELIVERED, at, location="Lyon"),
        ShipmentObserved("p1", "o1", S.OUT_FOR_DELIVERY, at),  # same instant: earlier stage
        ShipmentObserved("p1", "o1", S.LABEL_CREATED, T0),
    ]
    timeline = Timeline.of(observed, timezone="Europe/Paris")
    assert [(s.status, s.at, s.location) for s in timeline.scans] == [
        (S.LABEL_CREATED, T0, None),
        (S.OUT_FOR_DELIVERY, at, None),
        (S.DELIVERED, at, "Lyon"),
    ]
    assert timeline.finished_at(at) == Scan(S.DELIVERED, at, "Lyon")
    assert timeline.finished_at(at - SECOND) is None
    assert timeline.known_at(T0) == (Scan(S.LABEL_CREATED, T0),)


def test_scan_normalises_to_utc_and_status() -> None:
    local = datetime(2026, 5, 4, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    scan = Scan("in_transit", local)  # type: ignore[arg-type]
    assert (scan.status, scan.at, scan.at.tzinfo) == (S.IN_TRANSIT, T0, UTC)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Scan("lost", T0), "status"),  # type: ignore[arg-type]
        (lambda: Scan(S.IN_TRANSIT, datetime(2026, 5, 4)), "at"),
        (lambda: Timeline((), timezone="Atlantis/Capital"), "timezone"),
        (lambda: Timeline((), timezone=""), "timezone"),
        (lambda: found(tl(), datetime(2026, 5, 4)), "now"),
        (lambda: found(tl(), T0, norm=0), "lane_norm_hours"),
        (lambda: found(tl(), T0, norm=-5), "lane_norm_hours"),
        (lambda: found(tl(), T0, customs_days=0), "customs_days"),
        (lambda: found(tl(), T0, lost_after_days=0), "lost_after_days"),
        (lambda: Delivered("lane", T0, -1), "days_late"),
        (lambda: Delivered("lane", T0, 1.5), "days_late"),  # type: ignore[arg-type]
        (lambda: Delivered("lane", datetime(2026, 5, 4), 0), "delivered_at"),
        (lambda: DelayIndex([], now=T0, window_days=0), "window_days"),
        (lambda: DelayIndex([], now=T0, max_deliveries=0), "max_deliveries"),
        (lambda: DelayIndex([], now=T0, slipping_share=1.0), "slipping_share"),
        (lambda: DelayIndex([], now=T0, min_deliveries=0), "min_deliveries"),
        (lambda: DelayIndex([], now=datetime(2026, 5, 4)), "now"),
    ],
)
def test_bad_input_is_refused(build: object, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        build()  # type: ignore[operator]
    assert err.value.field == field


STATUSES = st.sampled_from(list(ShipmentStatus))


@settings(max_examples=200, deadline=None)
@given(
    scans=st.lists(st.tuples(STATUSES, st.integers(0, 40 * 24)), max_size=8),
    ticks=st.lists(st.integers(0, 50 * 24), min_size=2, max_size=6),
    norm=st.one_of(st.none(), st.integers(1, 120)),
    latest_day=st.one_of(st.none(), st.integers(0, 30)),
)
def test_findings_only_grow_and_are_never_in_the_future(
    scans: list[tuple[ShipmentStatus, int]],
    ticks: list[int],
    norm: int | None,
    latest_day: int | None,
) -> None:
    journey = tl(*((s, h * H) for s, h in scans), zone="America/Sao_Paulo")
    latest = (T0 + latest_day * DAY).date() if latest_day is not None else None
    seen: set[tuple[ExceptionKind, datetime, datetime]] = set()
    for tick in sorted(ticks):
        now = T0 + tick * H
        result = found(journey, now, norm=norm, latest=latest)
        assert len(result) == len(set(result))
        assert all(detected <= now and since <= detected for _, detected, since in result)
        assert seen <= set(result)
        seen = set(result)


# --- delay index ----------------------------------------------------------------------------

NOW = datetime(2026, 5, 31, 12, tzinfo=UTC)


def delivered(lane: str, *late: int, start: datetime = NOW - 10 * DAY) -> list[Delivered[str]]:
    return [Delivered(lane, start + i * H, days) for i, days in enumerate(late)]


def test_days_late_in_the_destination_zone() -> None:
    at = datetime(2026, 5, 6, 22, 30, tzinfo=UTC)
    assert Delivered.of(
        lane="x", delivered_at=at, promise_latest=LATEST, timezone="Europe/Berlin"
    ) == (
        Delivered("x", at, 1)  # 00:30 on Thursday in Berlin
    )
    assert Delivered.of(
        lane="x", delivered_at=at, promise_latest=LATEST, timezone="America/New_York"
    ) == Delivered("x", at, 0)
    early = Delivered.of(lane="x", delivered_at=T0, promise_latest=LATEST, timezone="Europe/Berlin")
    assert (early.days_late, early.late) == (0, False)


def test_slipping_needs_more_than_the_share_and_enough_deliveries() -> None:
    rows = (
        delivered("four-late", 1, 2, 3, 4, *[0] * 16)  # 4 of 20 = 20 %: not more than 20 %
        + delivered("five-late", 1, 2, 3, 4, 9, *[0] * 15)  # 25 %
        + delivered("few", *[5] * 10, *[0] * 9)  # 19 deliveries: too few to judge
    )
    index = DelayIndex(rows, now=NOW)
    assert index.stat("four-late") == DelayStat(20, 4, 2.5, slipping=False)
    assert index.stat("five-late") == DelayStat(20, 5, 3.0, slipping=True)
    assert index.stat("few") == DelayStat(19, 10, 5.0, slipping=False)
    assert [index.slipping(k) for k in ("four-late", "five-late", "few")] == [False, True, False]
    assert [index.delay_days(k) for k in ("four-late", "five-late", "few")] == [0, 3, 0]
    assert index.stat("five-late").late_share == 0.25


def test_median_delay_is_rounded_up_into_promise_days() -> None:
    index = DelayIndex(delivered("lane", 1, 2, *[0] * 3), now=NOW, min_deliveries=5)
    assert index.stat("lane") == DelayStat(5, 2, 1.5, slipping=True)
    assert index.delay_days("lane") == 2


def test_window_is_thirty_days_up_to_now_and_the_last_200() -> None:
    rows = [
        Delivered("lane", NOW - 30 * DAY, 9),  # exactly 30 days ago: outside
        Delivered("lane", NOW - 30 * DAY + SECOND, 0),  # inside
        Delivered("lane", NOW, 0),  # now: inside
        Delivered("lane", NOW + SECOND, 9),  # the future is not known
    ]
    assert DelayIndex(rows, now=NOW).stat("lane") == DelayStat(2, 0, None, slipping=False)
    # 250 deliveries in the window: the 50 oldest (all late) fall out of the last 200.
    many = delivered("busy", *[4] * 50, *[0] * 200, start=NOW - 20 * DAY)
    assert DelayIndex(many, now=NOW).stat("busy") == DelayStat(200, 0, None, slipping=False)
    assert DelayIndex(many, now=NOW, max_deliveries=250).stat("busy") == DelayStat(
        250, 50, 4.0, slipping=False
    )  # 20 % exactly


def test_index_is_a_mapping_of_the_lanes_it_saw() -> None:
    index = DelayIndex(delivered("a", 0) + delivered("b", 3), now=NOW)
    assert sorted(index) == ["a", "b"] and len(index) == 2
    assert index["b"] == DelayStat(1, 1, 3.0, slipping=False)
    assert "c" not in index
    with pytest.raises(KeyError):
        index["c"]
    assert index.stat("c") == DelayStat(0, 0, None, slipping=False)
    assert (index.delay_days("c"), index.slipping("c"), index.stat("c").late_share) == (
        0,
        False,
        0.0,
    )
