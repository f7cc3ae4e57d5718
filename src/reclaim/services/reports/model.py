"""What a report holds: plain values, in the store's currency where money (docs/reports.md
says how each figure is computed). The JSON, the CSV tables and the HTML page are all made
from one :class:`Report`, so they show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from reclaim.services.experiment_view import ExperimentView
from reclaim.services.reports.period import Period

# The recovery rate mature sellers reach on pending orders and abandoned carts (the seeds:
# "成熟卖家可挽回15-25%"): drawn beside each kind's rate.
BENCHMARK = (0.15, 0.25)
# A lift whose 95 % interval is wider than ± this is "not enough data yet".
ENOUGH_HALF_WIDTH = 0.05
FUNNEL_STAGES = ("cart", "checkout", "order", "paid", "shipped", "delivered")


@dataclass(frozen=True, slots=True)
class Stage:
    stage: str
    count: int
    conversion: float | None  # of the stage before it; None for the first, or after a zero


@dataclass(frozen=True, slots=True)
class FunnelRow:
    """The funnel of the facts with one value of the report's ``by`` (country or device;
    ``key`` None: unknown)."""

    key: str | None
    stages: tuple[Stage, ...]


@dataclass(frozen=True, slots=True)
class KindFigures:
    """One case kind (or ``all``): opened, recovered (refunded since included), rate, and the
    revenue recovered in the store's currency (refunded orders excluded)."""

    kind: str
    opened: int
    recovered: int
    refunded: int
    rate: float | None
    revenue: Decimal
    attributed: Decimal
    organic: Decimal


@dataclass(frozen=True, slots=True)
class Conversion:
    """An amount in another currency: converted at the store's rate, or (``rate`` None)
    reported apart and left out of every total."""

    what: str  # revenue | coupons
    currency: str
    amount: Decimal
    rate: Decimal | None
    converted: Decimal | None


@dataclass(frozen=True, slots=True)
class Revenue:
    currency: str
    attributed: Decimal
    organic: Decimal
    total: Decimal
    refunded: Decimal  # recovered, then refunded: not in the total
    refunded_cases: int
    conversions: tuple[Conversion, ...]
    messages_sent: int
    per_message: Decimal | None  # attributed revenue per message sent
    coupons_redeemed: int
    coupon_cost: Decimal
    coupons_unknown: int  # redeemed coupons whose discount is not known (not in the cost)
    net: Decimal  # total minus coupon cost


@dataclass(frozen=True, slots=True)
class Timing:
    """Time from a case's opening to its recovery, over the recovered cases."""

    recovered: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True, slots=True)
class LiftFigures:
    """Messaged minus held-out cases of one kind (or ``all``), intention to treat."""

    scope: str
    messaged: int
    messaged_recovered: int
    holdout: int
    holdout_recovered: int
    value: float | None  # rate difference; None when an arm is empty
    ci: tuple[float, float] | None  # Newcombe's 95 % interval
    enough_data: bool
    needed_per_arm: int | None  # cases per arm for ± 5 points, when not enough
    revenue_per_case: float | None  # difference of revenue per case (store currency)
    revenue_ci: tuple[float, float] | None  # bootstrap 95 % interval


@dataclass(frozen=True, slots=True)
class ReasonShare:
    reason: str
    cases: int
    share: float | None


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """One value of a dimension. For case dimensions: the cases with that value. For
    channel and step: the cases sent a message there, recovered ones attributed to it."""

    key: str | None
    opened: int
    recovered: int
    rate: float | None
    revenue: Decimal
    messages_sent: int | None = None
    lift: float | None = None
    ci: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Report:
    store_id: str
    store_name: str
    currency: str
    locale: str
    period: Period
    generated_at: datetime
    funnel: tuple[Stage, ...]
    kinds: tuple[KindFigures, ...]
    total: KindFigures
    revenue: Revenue
    timing: Timing
    lift: LiftFigures
    lift_by_kind: tuple[LiftFigures, ...]
    reasons: tuple[ReasonShare, ...]  # inferred, share of the opened cases
    customer_reasons: tuple[ReasonShare, ...]  # answered, share of the cases that answered
    answered: int
    by: str | None = None
    breakdown: tuple[BreakdownRow, ...] = ()
    funnel_by: tuple[FunnelRow, ...] = ()  # by country or device: the funnel of each value
    # The store's experiments that ran in the period (services/experiment_view.py).
    experiments: tuple[ExperimentView, ...] = ()
