"""Olist's real delivered orders replayed through the shipment-exception rules (SPEC S9, S16).

Each delivered order becomes the timeline its dates imply (label created when approved, in
transit at the carrier date, delivered at the customer date), its estimated delivery date is
the promise, and seller state → customer state is the lane. The timeline is replayed through
:func:`reclaim.domain.logistics.exceptions` at a daily sweep (00:00 UTC), the sweep seeing
only the scans that had happened by then, until both the delivery and the promise are past.

The figures (how many late deliveries are caught, how early, how many on-time ones are
flagged) are printed, not asserted: run with ``-s`` to see them (docs/logistics.md). What is
asserted must hold whatever the data: lateness is detected at or after the end of the
promised day and at or before the delivery, and the set detected late is exactly the set the
data itself says is late.

The data (CC BY-NC-SA 4.0) is read from ``../shared/data/olist`` beside the repository and
never copied into it.
"""

from __future__ import annotations

import bisect
import csv
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reclaim.domain.events import ShipmentStatus
from reclaim.domain.logistics import (
    DelayIndex,
    Delivered,
    ExceptionKind,
    Scan,
    Timeline,
    end_of_day,
    exceptions,
)

OLIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "olist"
# Olist's timestamps carry no zone; the marketplace runs on São Paulo time, and the estimated
# date is a calendar day there.
ZONE = "America/Sao_Paulo"
SAO_PAULO = ZoneInfo(ZONE)
DAY = timedelta(days=1)
# The stall norm of a lane is learnt, never set by hand (SPEC S16): the 90th percentile of the
# lane's carrier-to-door hours over the deliveries completed before this order was approved,
# the whole network's when the lane has fewer than MIN_HISTORY, none before that.
NORM_QUANTILE = 0.9
MIN_HISTORY = 20

pytestmark = pytest.mark.skipif(
    not (OLIST / "olist_orders_dataset.csv").is_file(),
    reason=f"the Olist data is not at {OLIST} (../shared/data/olist beside the repository)",
)

Lane = tuple[str, str]  # (seller state, customer state)


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    lane: Lane
    approved_at: datetime
    carrier_at: datetime | None
    delivered_at: datetime
    promised: date  # order_estimated_delivery_date

    @property
    def late(self) -> bool:
        """The data's own definition: delivered on a later calendar day than estimated."""
        return self.delivered_at.astimezone(SAO_PAULO).date() > self.promised

    @property
    def late_by_timestamp(self) -> bool:
        """The naive reading (delivered after 00:00 of the estimated day), for reference."""
        midnight = datetime.combine(self.promised, time(0), tzinfo=SAO_PAULO)
        return self.delivered_at > midnight

    @property
    def deadline(self) -> datetime:
        return end_of_day(self.promised, ZONE)

    def timeline(self) -> Timeline:
        scans = [Scan(ShipmentStatus.LABEL_CREATED, self.approved_at)]
        if self.carrier_at is not None:
            scans.append(Scan(ShipmentStatus.IN_TRANSIT, self.carrier_at))
        scans.append(Scan(ShipmentStatus.DELIVERED, self.delivered_at))
        return Timeline(tuple(scans), timezone=ZONE)


def _local(text: str) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=SAO_PAULO).astimezone(UTC)


def _rows(name: str) -> Iterator[dict[str, str]]:
    with (OLIST / name).open(encoding="utf-8-sig", newline="") as f:
        yield from csv.DictReader(f)


def load_orders() -> tuple[list[Order], int]:
    """The delivered orders with a delivery and an estimated date, and how many lacked one."""
    seller_state = {r["seller_id"]: r["seller_state"] for r in _rows("olist_sellers_dataset.csv")}
    customer_state = {
        r["customer_id"]: r["customer_state"] for r in _rows("olist_customers_dataset.csv")
    }
    # An order's parcel leaves from the seller of its first item (68 of the delivered orders
    # have several sellers; the data keeps one delivery date per order).
    first_seller: dict[str, tuple[int, str]] = {}
    for r in _rows("olist_order_items_dataset.csv"):
        n = int(r["order_item_id"])
        if r["order_id"] not in first_seller or n < first_seller[r["order_id"]][0]:
            first_seller[r["order_id"]] = (n, r["seller_id"])
    orders, skipped = [], 0
    for r in _rows("olist_orders_dataset.csv"):
        if r["order_status"] != "delivered":
            continue
        delivered = _local(r["order_delivered_customer_date"])
        approved = _local(r["order_approved_at"]) or _local(r["order_purchase_timestamp"])
        if delivered is None or approved is None or not r["order_estimated_delivery_date"]:
            skipped += 1
            continue
        seller = first_seller.get(r["order_id"], (0, ""))[1]
        orders.append(
            Order(
                order_id=r["order_id"],
                lane=(seller_state.get(seller, "?"), customer_state[r["customer_id"]]),
                approved_at=approved,
                carrier_at=_local(r["order_delivered_carrier_date"]),
                delivered_at=delivered,
                promised=date.fromisoformat(r["order_estimated_delivery_date"][:10]),
            )
        )
    return orders, skipped


def _quantile(ordered: list[float]) -> float:
    return ordered[math.ceil(NORM_QUANTILE * len(ordered)) - 1]


def learnt_norms(orders: list[Order]) -> dict[str, float | None]:
    """Each order's stall norm (hours), from the deliveries completed before its approval."""
    done = sorted(
        (o.delivered_at, o.lane, (o.delivered_at - o.carrier_at).total_seconds() / 3600)
        for o in orders
        if o.carrier_at is not None and o.carrier_at < o.delivered_at
    )
    per_lane: dict[Lane, list[float]] = defaultdict(list)
    network: list[float] = []
    norms: dict[str, float | None] = {}
    i = 0
    for o in sorted(orders, key=lambda o: o.approved_at):
        while i < len(done) and done[i][0] <= o.approved_at:
            bisect.insort(per_lane[done[i][1]], done[i][2])
            bisect.insort(network, done[i][2])
            i += 1
        lane = per_lane[o.lane]
        if len(lane) >= MIN_HISTORY:
            norms[o.order_id] = _quantile(lane)
        elif len(network) >= MIN_HISTORY:
            norms[o.order_id] = _quantile(network)
        else:
            norms[o.order_id] = None
    return norms


def _sweeps(start: datetime, end: datetime) -> Iterator[datetime]:
    """The daily sweeps (00:00 UTC) after ``start``, up to the first one at or after ``end``."""
    tick = datetime.combine(start.date() + DAY, time(0), tzinfo=UTC)
    while True:
        yield tick
        if tick >= end:
            return
        tick += DAY


@dataclass
class Outcome:
    order: Order
    # (kind, since) → (detected_at, the first sweep that reported it)
    found: dict[tuple[ExceptionKind, datetime], tuple[datetime, datetime]] = field(
        default_factory=dict
    )

    def first(self, *kinds: ExceptionKind) -> tuple[datetime, datetime] | None:
        hits = [v for (k, _), v in self.found.items() if k in kinds]
        return min(hits) if hits else None


def replay(orders: list[Order]) -> list[Outcome]:
    norms = learnt_norms(orders)
    outcomes = []
    for o in orders:
        timeline, outcome = o.timeline(), Outcome(o)
        for sweep in _sweeps(o.approved_at, max(o.delivered_at, o.deadline)):
            for e in exceptions(
                timeline, now=sweep, lane_norm_hours=norms[o.order_id], promise_latest=o.promised
            ):
                outcome.found.setdefault((e.kind, e.since), (e.detected_at, sweep))
        outcomes.append(outcome)
    return outcomes


@pytest.fixture(scope="module")
def replayed() -> tuple[list[Outcome], int]:
    orders, skipped = load_orders()
    return replay(orders), skipped


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "-"


def test_lateness_is_detected_exactly_and_in_time(replayed: tuple[list[Outcome], int]) -> None:
    outcomes, skipped = replayed
    assert len(outcomes) > 1000  # the shared sample holds 5,164 such orders
    late_by_data = {o.order.order_id for o in outcomes if o.order.late}
    detected_late = {o.order.order_id for o in outcomes if o.first(ExceptionKind.LATE)}
    assert late_by_data  # real data has late deliveries
    assert detected_late == late_by_data
    for o in outcomes:
        for kind_since, (at, seen) in o.found.items():
            assert at <= seen, kind_since  # a sweep never reports what was not yet true
        hit = o.first(ExceptionKind.LATE)
        if hit is not None:
            assert o.order.deadline <= hit[0] <= o.order.delivered_at

    report(outcomes, skipped)


def report(outcomes: list[Outcome], skipped: int) -> None:
    late = [o for o in outcomes if o.order.late]
    on_time = [o for o in outcomes if not o.order.late]
    naive_late = sum(o.order.late_by_timestamp for o in outcomes)
    late_hits = [(o, h) for o in late if (h := o.first(ExceptionKind.LATE))]
    # How long before the parcel arrived lateness was known: from the instant it became true
    # (the end of the promised day), and at the daily sweep that first reported it (0 when
    # that sweep came only after the delivery).
    lead_instant = [_days(o.order.delivered_at - h[0]) for o, h in late_hits]
    lead_sweep = [max(0.0, _days(o.order.delivered_at - h[1])) for o, h in late_hits]
    ahead = sum(1 for lead in lead_sweep if lead > 0)

    warnings = (ExceptionKind.STALLED, ExceptionKind.PROBABLE_LOSS)

    def warned(o: Outcome) -> tuple[datetime, datetime] | None:
        hit = o.first(*warnings)
        # An early warning: raised at a sweep before the promise broke and before delivery.
        if hit is None or hit[1] >= min(o.order.deadline, o.order.delivered_at):
            return None
        return hit

    warned_late = [(o, h) for o in late if (h := warned(o))]
    warned_on_time = [o for o in on_time if warned(o)]
    before_deadline = [_days(o.order.deadline - h[1]) for o, h in warned_late]
    kinds = Counter(k.value for o in outcomes for (k, _) in o.found)
    flagged = len(warned_late) + len(warned_on_time)
    lines = [
        "Olist replay (delivered orders, daily sweep at 00:00 UTC, São Paulo time)",
        f"  orders replayed: {len(outcomes)} (skipped without a delivery date: {skipped})",
        f"  late by the data (delivered on a later day than estimated): {len(late)}"
        f" ({len(late) / len(outcomes):.1%}); naive timestamp reading: {naive_late}",
        f"  late detected: {len(late_hits)} of {len(late)};"
        f" on-time flagged late: {sum(1 for o in on_time if o.first(ExceptionKind.LATE))}",
        f"  lateness known (end of the promised day): median {_median(lead_instant)} days"
        " before delivery",
        f"  at the daily sweep: {ahead} of {len(late)} ({ahead / len(late):.1%}) before the"
        f" parcel arrived; lead median {_median(lead_sweep)} days,"
        f" mean {statistics.mean(lead_sweep):.1f}",
        f"  early warnings (stalled / probable loss before the promise broke): {len(warned_late)}"
        f" of {len(late)} late ({len(warned_late) / len(late):.1%}), median"
        f" {_median(before_deadline)} days before the promised day ended",
        f"  early warnings on on-time deliveries (false alarms): {len(warned_on_time)} of"
        f" {len(on_time)} ({len(warned_on_time) / len(on_time):.1%});"
        f" precision {len(warned_late) / flagged:.1%}"
        if flagged
        else "  no early warnings",
        f"  findings by kind: {dict(sorted(kinds.items()))}",
    ]
    print("\n" + "\n".join(lines))


def test_delay_index_on_olist_lanes(replayed: tuple[list[Outcome], int]) -> None:
    """The delay index as a sweep would see it at each order's approval: orders on a lane it
    calls slipping, against the others. Figures printed; asserted: each lane's record counts
    exactly the deliveries of the 30 days before (at most 200), and follows the rule."""
    outcomes, _ = replayed
    delivered = sorted(
        (
            Delivered.of(
                lane=o.order.lane,
                delivered_at=o.order.delivered_at,
                promise_latest=o.order.promised,
                timezone=ZONE,
            )
            for o in outcomes
        ),
        key=lambda d: d.delivered_at,
    )
    times = [d.delivered_at for d in delivered]
    by_day: dict[date, DelayIndex[Lane]] = {}
    slipping_orders = Counter[bool]()
    slipping_late = Counter[bool]()
    for o in outcomes:
        day = o.order.approved_at.date()
        if day not in by_day:
            now = datetime.combine(day, time(0), tzinfo=UTC)
            window = delivered[
                bisect.bisect_left(times, now - 31 * DAY) : bisect.bisect_right(times, now)
            ]
            by_day[day] = DelayIndex(window, now=now)
        index = by_day[day]
        stat = index.stat(o.order.lane)
        now = datetime.combine(day, time(0), tzinfo=UTC)
        recent = [
            d
            for d in delivered[
                bisect.bisect_left(times, now - 30 * DAY) : bisect.bisect_right(times, now)
            ]
            if d.lane == o.order.lane and d.delivered_at > now - 30 * DAY
        ]
        assert stat.deliveries == min(200, len(recent))
        assert stat.late <= stat.deliveries
        assert stat.slipping == (stat.deliveries >= 20 and stat.late_share > 0.20)
        assert index.delay_days(o.order.lane) == (
            math.ceil(stat.median_delay_days or 0) if stat.slipping else 0
        )
        slipping_orders[stat.slipping] += 1
        slipping_late[stat.slipping] += o.order.late
    rate = {k: slipping_late[k] / slipping_orders[k] for k in slipping_orders if slipping_orders[k]}
    print(
        "\nDelay index at approval (30 days, ≥ 20 deliveries, > 20 % late):"
        f" orders on a slipping lane {slipping_orders[True]}"
        f" (late {rate.get(True, 0):.1%}), on other lanes {slipping_orders[False]}"
        f" (late {rate.get(False, 0):.1%})"
    )
