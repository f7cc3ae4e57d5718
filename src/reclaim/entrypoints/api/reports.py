"""Reports: the store's report for a period as JSON (issue 15), the numbers of
``reclaim report --format json``. The period is whole days in the store's time zone, ``to``
not included (docs/reports.md)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from reclaim.entrypoints.api.deps import Reader, Rt
from reclaim.entrypoints.api.experiments import Experiment
from reclaim.errors import InvalidInput
from reclaim.services.reports import build_report, report_json
from reclaim.services.reports.period import parse_day

router = APIRouter(tags=["reports"])


class ReportStore(BaseModel):
    id: str
    name: str
    currency: str
    timezone: str


class FunnelStage(BaseModel):
    stage: str  # cart | checkout | order | paid | shipped | delivered
    count: int
    conversion: float | None  # of the stage before


class KindFigures(BaseModel):
    opened: int
    recovered: int
    rate: float | None
    refunded: int
    revenue: str
    attributed: str
    organic: str
    benchmark: list[float]


class ConversionItem(BaseModel):
    what: str
    currency: str
    amount: str
    rate: str | None  # null: no rate set, left out of every total
    converted: str | None


class RevenueFigures(BaseModel):
    attributed: str
    organic: str
    total: str
    refunded: str
    refunded_cases: int
    conversions: list[ConversionItem]
    messages_sent: int
    per_message: str | None
    coupons_redeemed: int
    coupon_cost: str
    coupons_unknown: int
    net: str


class TimeToRecovery(BaseModel):
    recovered: int
    median_s: int | None
    p90_s: int | None


class RevenuePerCase(BaseModel):
    value: float | None
    ci: list[float] | None
    currency: str


class LiftOfKind(BaseModel):
    value: float | None
    ci: list[float] | None  # [low, high], Newcombe's 95 % interval
    messaged: int
    holdout: int
    messaged_recovered: int
    holdout_recovered: int
    messaged_rate: float | None
    holdout_rate: float | None
    enough_data: bool
    needed_per_arm: int | None
    revenue_per_case: RevenuePerCase


class LiftFigures(LiftOfKind):
    by_kind: dict[str, LiftOfKind]


class ReasonItem(BaseModel):
    reason: str
    cases: int
    share: float | None


class CustomerReasons(BaseModel):
    answered: int
    reasons: list[ReasonItem]


class BreakdownItem(BaseModel):
    key: str | None
    opened: int
    recovered: int
    rate: float | None
    revenue: str
    messages_sent: int | None
    lift: float | None
    ci: list[float] | None


class Breakdown(BaseModel):
    by: str
    rows: list[BreakdownItem]


class FunnelOfKey(BaseModel):
    key: str | None  # the country or device; null: unknown
    funnel: list[FunnelStage]


class FunnelBreakdown(BaseModel):
    by: str  # country | device
    rows: list[FunnelOfKey]


class ReportSummary(BaseModel):
    """A period's report: funnel, recovery by kind, revenue in the store's currency, lift
    over the holdout, reasons. Amounts are exact decimal text; rates are fractions."""

    store: ReportStore
    period: dict[str, str]  # from, to (days, to not included), timezone, from_utc, to_utc
    generated_at: str
    locale: str
    funnel: list[FunnelStage]
    cases: dict[str, KindFigures]
    cases_total: KindFigures
    recovered_revenue: str
    currency: str
    revenue: RevenueFigures
    time_to_recovery: TimeToRecovery
    lift: LiftFigures
    reasons: list[ReasonItem]
    customer_reasons: CustomerReasons
    breakdown: Breakdown | None
    experiments: list[Experiment]  # the store's experiments that ran in the period
    funnel_by: FunnelBreakdown | None  # with by=country or by=device: each value's funnel


@router.get(
    "/api/v1/reports/summary",
    summary="The store's report for a period, as JSON",
    response_model=ReportSummary,
)
async def report_summary(
    store_id: Reader,
    rt: Rt,
    from_: Annotated[
        str | None,
        Query(alias="from", description="first day included, YYYY-MM-DD (store's time zone)"),
    ] = None,
    to: Annotated[str | None, Query(description="first day not included, YYYY-MM-DD")] = None,
    period: Annotated[str | None, Query(description="a month, YYYY-MM, instead")] = None,
    by: Annotated[
        str | None, Query(description="country, device, variant, flow, channel or step")
    ] = None,
) -> dict[str, Any]:
    if period is None and (from_ is None or to is None):
        raise InvalidInput("give from and to (YYYY-MM-DD), or period (YYYY-MM)", field="from")
    start = None if from_ is None else parse_day(from_, field="from")
    end = None if to is None else parse_day(to, field="to")
    report = await run_in_threadpool(
        build_report,
        uow=rt.reader(),
        store_id=store_id,
        now=rt.clock(),
        month=period,
        start=start,
        end=end,
        by=by,
    )
    return report_json(report)
