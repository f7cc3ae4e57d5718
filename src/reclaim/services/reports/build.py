"""Building a period's report from the read port's aggregates (docs/reports.md).

The database counts and sums; this module converts currencies, takes rates, medians and
intervals. The cohort is the cases opened in the period, of the sales kinds; "recovered" is
their state now, however long after the period the customer came back.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from reclaim.domain.cases import Attribution, CaseKind
from reclaim.domain.stats import bootstrap_mean_difference, needed_per_arm, newcombe
from reclaim.domain.stores import REPORT_LOCALES, Store
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.experiment_view import experiments_in
from reclaim.services.ports import (
    CaseGroup,
    CouponCost,
    FunnelCounts,
    FunnelGroup,
    MessageGroup,
    ReasonCount,
    RecoveredCase,
    UnitOfWork,
)
from reclaim.services.ports.reports import DIMENSIONS, FUNNEL_DIMENSIONS, MESSAGE_DIMENSIONS
from reclaim.services.reports.model import (
    BENCHMARK,
    ENOUGH_HALF_WIDTH,
    FUNNEL_STAGES,
    BreakdownRow,
    Conversion,
    FunnelRow,
    KindFigures,
    LiftFigures,
    ReasonShare,
    Report,
    Revenue,
    Stage,
    Timing,
)
from reclaim.services.reports.period import Period, resolve

SALES_KINDS = (
    str(CaseKind.ABANDONED_CHECKOUT),
    str(CaseKind.PENDING_ORDER),
    str(CaseKind.FAILED_PAYMENT),
)
MESSAGED, HOLDOUT = "messaged", "holdout"


@dataclass(slots=True)
class _Facts:
    """What the read port answered for one period."""

    funnel: FunnelCounts
    groups: Sequence[CaseGroup]
    recovered: Sequence[RecoveredCase]
    messages: Sequence[MessageGroup]
    coupons: Sequence[CouponCost]
    reasons: Sequence[ReasonCount]
    answered: int
    by_groups: Sequence[CaseGroup] = ()
    by_recovered: Sequence[RecoveredCase] = ()
    by_messages: Sequence[MessageGroup] = ()
    funnel_by: Sequence[FunnelGroup] = ()


def build_report(
    *,
    uow: UnitOfWork,
    store_id: str,
    now: datetime,
    month: str | None = None,
    start: date | None = None,
    end: date | None = None,
    by: str | None = None,
    locale: str | None = None,
) -> Report:
    """The report of ``store_id`` for ``month`` (``"2026-11"``) or the days ``[start, end)``
    in the store's time zone. ``by``: one of :data:`DIMENSIONS`, for a breakdown.

    ``NotFound``: no such store, or a store with no data at all; ``InvalidInput`` names the
    field of a bad period, dimension or locale. A period with no cases is a report of zeros.
    """
    if by is not None and by not in DIMENSIONS:
        raise InvalidInput(f"--by is one of {', '.join(DIMENSIONS)}", field="by")
    if locale is not None and locale not in REPORT_LOCALES:
        raise InvalidInput(f"reports are written in {' or '.join(REPORT_LOCALES)}", field="locale")
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        period = resolve(timezone=store.timezone, now=now, month=month, start=start, end=end)
        if not uow.reports.has_data(store_id):
            raise NotFound(
                f"store {store_id} has no data yet: no checkout, order or case to report on"
            )
        facts = _read(uow, store_id, period, by)
        tried = experiments_in(uow, store_id, period.start_at, period.end_at, now=now)
    return replace(_compose(store, period, facts, now=now, by=by, locale=locale), experiments=tried)


def _read(uow: UnitOfWork, store_id: str, period: Period, by: str | None) -> _Facts:
    r, a, b = uow.reports, period.start_at, period.end_at
    cohort = r.cohort(store_id, a, b, by=by)
    facts = _Facts(
        funnel=r.funnel(store_id, a, b),
        groups=cohort.groups,
        recovered=cohort.recovered,
        messages=cohort.messages,
        coupons=cohort.coupons,
        reasons=cohort.reasons,
        answered=cohort.answered,
    )
    if by in MESSAGE_DIMENSIONS:
        facts.by_messages = cohort.by_messages
        facts.by_recovered = cohort.by_recovered
    elif by is not None:
        # The cohort came grouped by the dimension: its totals add the groups up.
        facts.by_groups = cohort.groups
        facts.by_recovered = cohort.recovered
    if by in FUNNEL_DIMENSIONS:
        facts.funnel_by = r.funnel_by(store_id, a, b, by=by)
    return facts


@dataclass(slots=True)
class _Money:
    """Amounts into the store's currency at its rates; the others kept apart, by currency."""

    currency: str
    rates: Mapping[str, Decimal]
    seen: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    def convert(self, amount: Decimal, currency: str, *, what: str = "revenue") -> Decimal | None:
        if currency != self.currency:
            key = (what, currency)
            self.seen[key] = self.seen.get(key, Decimal(0)) + amount
            rate = self.rates.get(currency)
            return None if rate is None else amount * rate
        return amount

    def conversions(self) -> tuple[Conversion, ...]:
        made = []
        for (what, currency), amount in sorted(self.seen.items()):
            rate = self.rates.get(currency)
            made.append(
                Conversion(what, currency, amount, rate, None if rate is None else amount * rate)
            )
        return tuple(made)


def _rate(k: int, n: int) -> float | None:
    return k / n if n else None


def _compose(
    store: Store, period: Period, f: _Facts, *, now: datetime, by: str | None, locale: str | None
) -> Report:
    money = _Money(store.currency, store.settings.fx_rates)
    worth = {id(rc): money.convert(rc.value, rc.currency) for rc in f.recovered if not rc.refunded}
    kinds = tuple(_kind(kind, f.groups, f.recovered, worth) for kind in SALES_KINDS)
    total = _kind("all", f.groups, f.recovered, worth)
    return Report(
        store_id=store.id,
        store_name=store.name,
        currency=store.currency,
        locale=locale or store.settings.report_locale or "en",
        period=period,
        generated_at=now,
        funnel=_funnel(f.funnel),
        kinds=kinds,
        total=total,
        revenue=_revenue(money, total, f, worth),
        timing=_timing(f.recovered),
        lift=_lift("all", f.groups, f.recovered, worth),
        lift_by_kind=tuple(_lift(k, f.groups, f.recovered, worth) for k in SALES_KINDS),
        reasons=_shares(f.reasons, "inferred", total.opened),
        customer_reasons=_shares(f.reasons, "customer", f.answered),
        answered=f.answered,
        by=by,
        breakdown=_breakdown(by, f, money),
        funnel_by=tuple(FunnelRow(g.key, _funnel(g.counts)) for g in f.funnel_by),
    )


def _funnel(c: FunnelCounts) -> tuple[Stage, ...]:
    counts = (c.carts, c.checkouts, c.orders, c.paid, c.shipped, c.delivered)
    stages, before = [], None
    for name, count in zip(FUNNEL_STAGES, counts, strict=True):
        stages.append(Stage(name, count, None if not before else count / before))
        before = count
    return tuple(stages)


def _of(kind: str, items: Iterable[CaseGroup]) -> list[CaseGroup]:
    return [g for g in items if kind in ("all", g.kind)]


def _kind(
    kind: str,
    groups: Sequence[CaseGroup],
    recovered: Sequence[RecoveredCase],
    worth: Mapping[int, Decimal | None],
) -> KindFigures:
    mine = _of(kind, groups)
    opened = sum(g.opened for g in mine)
    back = sum(g.recovered for g in mine)
    rows = [rc for rc in recovered if kind in ("all", rc.kind)]
    attributed = organic = Decimal(0)
    for rc in rows:
        value = worth.get(id(rc))
        if value is None:
            continue
        if rc.attribution == Attribution.MESSAGE:
            attributed += value
        else:
            organic += value
    return KindFigures(
        kind=kind,
        opened=opened,
        recovered=back,
        refunded=sum(1 for rc in rows if rc.refunded),
        rate=_rate(back, opened),
        revenue=attributed + organic,
        attributed=attributed,
        organic=organic,
    )


def _revenue(
    money: _Money, total: KindFigures, f: _Facts, worth: Mapping[int, Decimal | None]
) -> Revenue:
    refunded = Decimal(0)
    for rc in f.recovered:
        if rc.refunded:
            value = money.convert(rc.value, rc.currency, what="refunded")
            refunded += value or 0
    cost, redeemed, unknown = Decimal(0), 0, 0
    for c in f.coupons:
        redeemed += c.redeemed
        unknown += c.unknown
        cost += money.convert(c.discount, c.currency, what="coupons") or 0
    sent = sum(m.sent for m in f.messages)
    return Revenue(
        currency=money.currency,
        attributed=total.attributed,
        organic=total.organic,
        total=total.revenue,
        refunded=refunded,
        refunded_cases=total.refunded,
        conversions=tuple(c for c in money.conversions() if c.what != "refunded"),
        messages_sent=sent,
        per_message=total.attributed / sent if sent else None,
        coupons_redeemed=redeemed,
        coupon_cost=cost,
        coupons_unknown=unknown,
        net=total.revenue - cost,
    )


def _timing(recovered: Sequence[RecoveredCase]) -> Timing:
    waits = sorted(max(0.0, (rc.recovered_at - rc.opened_at).total_seconds()) for rc in recovered)
    if not waits:
        return Timing(0, None, None)
    p90 = waits[math.ceil(0.9 * len(waits)) - 1]  # nearest rank
    return Timing(len(waits), float(statistics.median(waits)), p90)


def _lift(
    scope: str,
    groups: Sequence[CaseGroup],
    recovered: Sequence[RecoveredCase],
    worth: Mapping[int, Decimal | None],
) -> LiftFigures:
    mine = _of(scope, groups)
    n = {arm: sum(g.opened for g in mine if g.arm == arm) for arm in (MESSAGED, HOLDOUT)}
    k = {arm: sum(g.recovered for g in mine if g.arm == arm) for arm in (MESSAGED, HOLDOUT)}
    both = n[MESSAGED] > 0 and n[HOLDOUT] > 0
    value = ci = revenue = revenue_ci = None
    needed: int | None = None
    if both:
        value = k[MESSAGED] / n[MESSAGED] - k[HOLDOUT] / n[HOLDOUT]
        ci = newcombe(k[MESSAGED], n[MESSAGED], k[HOLDOUT], n[HOLDOUT])
        values: dict[str, list[float]] = {MESSAGED: [], HOLDOUT: []}
        for rc in recovered:
            amount = worth.get(id(rc))
            if scope in ("all", rc.kind) and rc.arm in values and amount is not None:
                values[rc.arm].append(float(amount))
        a, b = values[MESSAGED], values[HOLDOUT]
        revenue = (sum(a) / n[MESSAGED]) - (sum(b) / n[HOLDOUT])
        revenue_ci = bootstrap_mean_difference(a, n[MESSAGED] - len(a), b, n[HOLDOUT] - len(b))
    enough = ci is not None and (ci[1] - ci[0]) / 2 <= ENOUGH_HALF_WIDTH
    if not enough:
        # Rates not yet seen are taken at the benchmark's middle.
        middle = sum(BENCHMARK) / 2
        p_m = k[MESSAGED] / n[MESSAGED] if n[MESSAGED] else middle
        p_h = k[HOLDOUT] / n[HOLDOUT] if n[HOLDOUT] else middle
        needed = needed_per_arm(p_m, p_h, ENOUGH_HALF_WIDTH)
    return LiftFigures(
        scope=scope,
        messaged=n[MESSAGED],
        messaged_recovered=k[MESSAGED],
        holdout=n[HOLDOUT],
        holdout_recovered=k[HOLDOUT],
        value=value,
        ci=ci,
        enough_data=enough,
        needed_per_arm=needed,
        revenue_per_case=revenue,
        revenue_ci=revenue_ci,
    )


def _shares(counts: Sequence[ReasonCount], source: str, of: int) -> tuple[ReasonShare, ...]:
    mine = sorted((c for c in counts if c.source == source), key=lambda c: (-c.cases, c.reason))
    return tuple(ReasonShare(c.reason, c.cases, _rate(c.cases, of)) for c in mine)


def _breakdown(by: str | None, f: _Facts, money: _Money) -> tuple[BreakdownRow, ...]:
    if by is None:
        return ()
    revenue: dict[str | None, Decimal] = defaultdict(Decimal)
    recovered: dict[str | None, int] = defaultdict(int)
    for rc in f.by_recovered:
        recovered[rc.key] += 1
        if not rc.refunded:
            revenue[rc.key] += money.convert(rc.value, rc.currency, what="breakdown") or 0
    money.seen = {k: v for k, v in money.seen.items() if k[0] != "breakdown"}
    rows: list[BreakdownRow] = []
    if by in MESSAGE_DIMENSIONS:
        for m in f.by_messages:
            back = recovered.get(m.key, 0)
            rows.append(
                BreakdownRow(
                    m.key, m.cases, back, _rate(back, m.cases), revenue[m.key], messages_sent=m.sent
                )
            )
    else:
        keys = sorted({g.key for g in f.by_groups}, key=lambda k: (k is None, k or ""))
        for key in keys:
            mine = [g for g in f.by_groups if g.key == key]
            opened = sum(g.opened for g in mine)
            back = sum(g.recovered for g in mine)
            n = {arm: sum(g.opened for g in mine if g.arm == arm) for arm in (MESSAGED, HOLDOUT)}
            k = {arm: sum(g.recovered for g in mine if g.arm == arm) for arm in (MESSAGED, HOLDOUT)}
            value = ci = None
            if n[MESSAGED] and n[HOLDOUT]:
                value = k[MESSAGED] / n[MESSAGED] - k[HOLDOUT] / n[HOLDOUT]
                ci = newcombe(k[MESSAGED], n[MESSAGED], k[HOLDOUT], n[HOLDOUT])
            rows.append(
                BreakdownRow(
                    key, opened, back, _rate(back, opened), revenue[key], lift=value, ci=ci
                )
            )
    rows.sort(key=lambda r: (-r.opened, r.key is None, r.key or ""))
    return tuple(rows)
