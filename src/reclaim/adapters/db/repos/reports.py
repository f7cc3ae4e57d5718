"""SQLAlchemy read model of a period's report (:class:`reclaim.services.ports.ReportReader`):
counts and sums grouped in the database, over the cases ``ix_cases_report`` finds by store
and creation time. Only recovered cases come back one row each (their values). The cohort
of cases is read once, in one statement with all that hangs off it (``SqlReports.cohort``);
the funnel's facts (checkouts, orders, shipments) in three more.

Also :class:`SqlReportSends`: the scheduled report emails' records, rows of ``meta`` (its
keys ``report:<store>:<period>``), so no table of their own is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    and_,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy import case as when
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import is_postgres, upsert
from reclaim.adapters.db.fact_keys import country_sql, device_sql
from reclaim.adapters.db.tables import (
    case_events,
    case_reasons,
    cases,
    checkouts,
    coupons,
    flows,
    messages,
    meta,
    orders,
    shipments,
    steps,
)
from reclaim.adapters.db.types import Amount, UTCDateTime
from reclaim.domain.cases import TEST_MODE_EVENT, CaseKind, CaseStatus, ReasonSource
from reclaim.domain.events import FinancialStatus, ShipmentStatus
from reclaim.services.ports import (
    CaseGroup,
    CohortFacts,
    CouponCost,
    FunnelCounts,
    FunnelGroup,
    MessageGroup,
    ReasonCount,
    RecoveredCase,
)
from reclaim.services.ports.reports import CASE_DIMENSIONS, MESSAGE_DIMENSIONS

SALES_KINDS = (CaseKind.ABANDONED_CHECKOUT, CaseKind.PENDING_ORDER, CaseKind.FAILED_PAYMENT)

_ARM = when(
    (cases.c.holdout.is_(True), literal("holdout")),
    (cases.c.flow_id.is_(None), literal("none")),
    else_=literal("messaged"),
)


def _count_if(cond: Any) -> Any:
    return func.coalesce(func.sum(when((cond, 1), else_=0)), 0)


# A case opened from a test-mode delivery (a store trying Reclaim out) is marked by a
# ``test_mode`` event: never a real customer's, so no report counts it (as the funnel counts
# no test checkout or order).
# The type is written into the statement (not bound), so that both databases use the partial
# index ``ix_case_events_test`` (a few rows) instead of every event of every case.
_TEST_CASE = exists().where(
    case_events.c.case_id == cases.c.id,
    case_events.c.type == literal_column(f"'{TEST_MODE_EVENT}'"),
)


def _cohort(store_id: str, start: datetime, end: datetime) -> Any:
    return and_(
        cases.c.store_id == store_id,
        cases.c.created_at >= start,
        cases.c.created_at < end,
        cases.c.kind.in_([str(k) for k in SALES_KINDS]),
        ~_TEST_CASE,
    )


def _case_key(by: str | None) -> Any:
    if by is None:
        return literal(None, String)
    if by == "flow":
        return flows.c.name + literal(" v") + cast(flows.c.version, String)
    return {"country": cases.c.country, "device": cases.c.device, "variant": cases.c.variant}[by]


def _with_flows(q: Any, by: str | None) -> Any:
    return q.outerjoin(flows, flows.c.id == cases.c.flow_id) if by == "flow" else q


def _fact_key(table: Table, by: str, postgres: bool) -> Any:
    return country_sql(table) if by == "country" else device_sql(table.c.user_agent, postgres)


def _placed(store_id: str, start: datetime, end: datetime) -> Any:
    return and_(
        orders.c.store_id == store_id,
        orders.c.created_at >= start,
        orders.c.created_at < end,
        orders.c.is_test.is_(False),
    )


_DELIVERED = or_(
    shipments.c.delivered_at.is_not(None), shipments.c.status == ShipmentStatus.DELIVERED
)
_SHIPPED_JOIN = and_(
    shipments.c.store_id == orders.c.store_id,
    shipments.c.order_external_id == orders.c.external_id,
)


class SqlReports:
    def __init__(self, session: Session) -> None:
        self.s = session

    def has_data(self, store_id: str) -> bool:
        for table in (cases, checkouts, orders):
            q = select(literal(1)).where(exists().where(table.c.store_id == store_id))
            if self.s.execute(q).first() is not None:
                return True
        return False

    def funnel(self, store_id: str, start: datetime, end: datetime) -> FunnelCounts:
        carts = self.s.execute(
            select(func.count(), _count_if(checkouts.c.customer_key.is_not(None))).where(
                checkouts.c.store_id == store_id,
                checkouts.c.created_at >= start,
                checkouts.c.created_at < end,
                checkouts.c.is_test.is_(False),
            )
        ).one()
        placed = _placed(store_id, start, end)
        ordered = self.s.execute(
            select(func.count(), _count_if(orders.c.paid_at.is_not(None))).where(placed)
        ).one()
        shipped = self.s.execute(
            select(
                func.count(func.distinct(orders.c.id)),
                func.count(func.distinct(when((_DELIVERED, orders.c.id)))),
            )
            .select_from(orders)
            .join(shipments, _SHIPPED_JOIN)
            .where(placed)
        ).one()
        return FunnelCounts(
            carts=int(carts[0]),
            checkouts=int(carts[1]),
            orders=int(ordered[0]),
            paid=int(ordered[1]),
            shipped=int(shipped[0]),
            delivered=int(shipped[1]),
        )

    def funnel_by(
        self, store_id: str, start: datetime, end: datetime, *, by: str
    ) -> Sequence[FunnelGroup]:
        postgres = is_postgres(self.s)
        counts: dict[str | None, list[int]] = {}

        def add(rows: Any, first: int) -> None:
            for key, a, b in rows:
                found = counts.setdefault(key, [0] * 6)
                found[first] += int(a)
                found[first + 1] += int(b)

        # Each query groups an inner select by its one column "key": PostgreSQL would not
        # match a CASE with bound parameters in GROUP BY to the same CASE in SELECT.
        carts = (
            select(_fact_key(checkouts, by, postgres).label("key"), checkouts.c.customer_key)
            .where(
                checkouts.c.store_id == store_id,
                checkouts.c.created_at >= start,
                checkouts.c.created_at < end,
                checkouts.c.is_test.is_(False),
            )
            .subquery()
        )
        add(
            self.s.execute(
                select(
                    carts.c.key, func.count(), _count_if(carts.c.customer_key.is_not(None))
                ).group_by(carts.c.key)
            ),
            0,
        )
        placed = _placed(store_id, start, end)
        key = _fact_key(orders, by, postgres).label("key")
        ordered = select(key, orders.c.paid_at).where(placed).subquery()
        add(
            self.s.execute(
                select(
                    ordered.c.key, func.count(), _count_if(ordered.c.paid_at.is_not(None))
                ).group_by(ordered.c.key)
            ),
            2,
        )
        sent = (
            select(key, orders.c.id, _DELIVERED.label("delivered"))
            .select_from(orders)
            .join(shipments, _SHIPPED_JOIN)
            .where(placed)
            .subquery()
        )
        add(
            self.s.execute(
                select(
                    sent.c.key,
                    func.count(func.distinct(sent.c.id)),
                    func.count(func.distinct(when((sent.c.delivered, sent.c.id)))),
                ).group_by(sent.c.key)
            ),
            4,
        )
        return [
            FunnelGroup(k, FunnelCounts(*v))
            for k, v in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ]

    def cohort(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> CohortFacts:
        """One statement: the cohort's cases, read once into a common table expression, and
        each table that hangs off them (messages, coupons, reasons) read once, by the range of
        the cohort's case ids (an index range: ids follow time), joined to it. Each part of
        the answer is one branch of a UNION ALL, its rows tagged by the branch."""
        cohort = _cohort_cte(store_id, start, end, by)
        # The cohort's first and last id, computed once.
        span = select(func.min(cohort.c.id).label("lo"), func.max(cohort.c.id).label("hi")).cte()
        lo, hi = select(span.c.lo).scalar_subquery(), select(span.c.hi).scalar_subquery()
        parts = [
            _recovered_part(cohort, store_id, by),
            select(*_part("g", kind=cohort.c.kind, arm=cohort.c.arm, key=cohort.c.key,
                          n=func.count(), k=func.sum(cohort.c.rec)))
            .group_by(cohort.c.kind, cohort.c.arm, cohort.c.key),
            *_message_parts(cohort, lo, hi, by),
            _coupon_part(cohort, lo, hi),
            _reason_part(cohort, lo, hi),
        ]  # fmt: skip
        groups: list[CaseGroup] = []
        recovered: list[tuple[int, RecoveredCase, str | None]] = []
        sent: dict[str, list[MessageGroup]] = {"m": [], "M": []}
        coupon_rows: list[CouponCost] = []
        reason_rows: list[ReasonCount] = []
        answered = 0
        for part, id_, kind, arm, key, n, k, *more in self.s.execute(union_all(*parts)).all():
            if part == "r":
                value, currency, opened, closed, attribution, refunded, mkey = more
                rc = RecoveredCase(
                    kind=kind,
                    arm=arm,
                    key=key,
                    attribution=attribution,
                    value=value,
                    currency=currency,
                    opened_at=opened,
                    recovered_at=closed or opened,
                    refunded=bool(refunded),
                )
                recovered.append((int(id_), rc, mkey))
            elif part == "g":
                groups.append(CaseGroup(kind, arm, key, int(n), int(k)))
            elif part in sent:
                if int(n):
                    sent[part].append(MessageGroup(key, int(n), int(k)))
            elif part == "c":
                total, currency = more[0] if more[0] is not None else Decimal(0), more[1]
                coupon_rows.append(CouponCost(currency, int(n), total, int(k)))
            else:
                reason_rows.append(ReasonCount(kind, key, int(n)))
                answered += int(k)
        recovered.sort(key=lambda row: row[0])
        return CohortFacts(
            groups=groups,
            recovered=[rc for _, rc, _ in recovered],
            messages=sent["m"],
            coupons=coupon_rows,
            reasons=reason_rows,
            answered=answered,
            by_messages=sent["M"],
            by_recovered=[replace(rc, key=mkey) for _, rc, mkey in recovered if mkey is not None],
        )


# The one statement of ``SqlReports.cohort``: its columns, the same in every branch (typed
# NULLs where a branch has nothing to say; the first branch gives the result's types).
_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("id", BigInteger), ("kind", String), ("arm", String), ("key", String), ("n", BigInteger),
    ("k", BigInteger), ("value", Amount), ("currency", String), ("opened_at", UTCDateTime),
    ("closed_at", UTCDateTime), ("attribution", String), ("refunded", Integer),
    ("mkey", String),
)  # fmt: skip


def _part(name: str, **given: Any) -> list[Any]:
    return [literal(name, String).label("part")] + [
        (given[c] if c in given else literal(None, t)).label(c) for c, t in _COLUMNS
    ]


def _cohort_cte(store_id: str, start: datetime, end: datetime, by: str | None) -> Any:
    """The cohort's cases, one row each: what groups them, and a recovered case's own
    figures (NULL for the others, so the rows stay narrow)."""
    recovered = cases.c.status == CaseStatus.RECOVERED

    def if_recovered(column: Any) -> Any:
        return when((recovered, column))

    key = _case_key(by if by in CASE_DIMENSIONS else None)
    q = select(
        cases.c.id,
        cases.c.kind,
        _ARM.label("arm"),
        key.label("key"),
        when((recovered, 1), else_=0).label("rec"),
        if_recovered(func.coalesce(cases.c.recovered_value, cases.c.value)).label("value"),
        if_recovered(cases.c.currency).label("currency"),
        if_recovered(cases.c.created_at).label("opened_at"),
        if_recovered(cases.c.closed_at).label("closed_at"),
        if_recovered(cases.c.attribution).label("attribution"),
        if_recovered(cases.c.recovered_order_external_id).label("order_id"),
        if_recovered(cases.c.attributed_message_id).label("message_id"),
    ).select_from(cases)
    return _with_flows(q, by).where(_cohort(store_id, start, end)).cte("cohort")


def _recovered_part(cohort: Any, store_id: str, by: str | None) -> Any:
    """A row per recovered case; whether its order was refunded since (orders are unique by
    store and external id), and with ``by`` a message dimension, the attributed message's
    channel or step (looked up case by case, by primary key)."""
    refunded = exists().where(
        orders.c.store_id == store_id,
        orders.c.external_id == cohort.c.order_id,
        orders.c.financial_status == FinancialStatus.REFUNDED,
    )
    mkey: Any = literal(None, String)
    if by == "channel":
        mkey = select(messages.c.channel).where(messages.c.id == cohort.c.message_id)
        mkey = mkey.scalar_subquery()
    elif by == "step":
        mkey = (
            select(steps.c.key)
            .select_from(messages.join(steps, steps.c.id == messages.c.step_id))
            .where(messages.c.id == cohort.c.message_id)
            .scalar_subquery()
        )
    return select(
        *_part(
            "r",
            id=cohort.c.id,
            kind=cohort.c.kind,
            arm=cohort.c.arm,
            key=cohort.c.key,
            value=cohort.c.value,
            currency=cohort.c.currency,
            opened_at=cohort.c.opened_at,
            closed_at=cohort.c.closed_at,
            attribution=cohort.c.attribution,
            refunded=when((refunded, 1), else_=0),
            mkey=mkey,
        )
    ).where(cohort.c.rec == 1)


def _message_parts(cohort: Any, lo: Any, hi: Any, by: str | None) -> list[Any]:
    """The messages sent for the cohort: all of them (``m``), and by channel or step
    (``M``). Each distinct count is its own: a case may have messages on two channels."""
    joined = messages.join(cohort, cohort.c.id == messages.c.case_id)
    where = (messages.c.case_id >= lo, messages.c.case_id <= hi, messages.c.sent_at.is_not(None))
    counts = {"n": func.count(), "k": func.count(func.distinct(messages.c.case_id))}
    made = [select(*_part("m", **counts)).select_from(joined).where(*where)]
    if by in MESSAGE_DIMENSIONS:
        key = messages.c.channel if by == "channel" else steps.c.key
        if by == "step":
            joined = joined.join(steps, steps.c.id == messages.c.step_id)
        made.append(
            select(*_part("M", key=key, **counts)).select_from(joined).where(*where).group_by(key)
        )
    return made


def _coupon_part(cohort: Any, lo: Any, hi: Any) -> Any:
    return (
        select(
            *_part(
                "c",
                currency=coupons.c.currency,
                n=func.count(),
                value=func.sum(coupons.c.discount),
                k=_count_if(coupons.c.discount.is_(None)),
            )
        )
        .select_from(coupons.join(cohort, cohort.c.id == coupons.c.case_id))
        .where(coupons.c.case_id >= lo, coupons.c.case_id <= hi, coupons.c.redeemed_at.is_not(None))
        .group_by(coupons.c.currency)
    )


def _reason_part(cohort: Any, lo: Any, hi: Any) -> Any:
    """The reasons by source (``kind``) and reason (``key``). ``k`` counts each case's first
    answer of the customer's (by reason): summed, the cases that answered."""
    earlier = case_reasons.alias("earlier")
    customer = case_reasons.c.source == ReasonSource.CUSTOMER
    first = ~exists().where(
        earlier.c.case_id == case_reasons.c.case_id,
        earlier.c.source == ReasonSource.CUSTOMER,
        earlier.c.reason < case_reasons.c.reason,
    )
    return (
        select(
            *_part(
                "s",
                kind=case_reasons.c.source,
                key=case_reasons.c.reason,
                n=func.count(),
                k=_count_if(and_(customer, first)),
            )
        )
        .select_from(case_reasons.join(cohort, cohort.c.id == case_reasons.c.case_id))
        .where(case_reasons.c.case_id >= lo, case_reasons.c.case_id <= hi)
        .group_by(case_reasons.c.source, case_reasons.c.reason)
    )


_SENT = "report:"  # the ``meta`` keys of the report emails' records


class SqlReportSends:
    """The ``ReportSends`` port on ``meta``: each record one row, its key prefixed."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        rows = self.s.execute(
            select(meta.c.key, meta.c.value).where(meta.c.key.in_([_SENT + k for k in keys]))
        )
        return {k[len(_SENT) :]: v for k, v in rows}

    def add(self, key: str, value: str) -> bool:
        made = self.s.execute(
            upsert(self.s, meta)
            .values(key=_SENT + key, value=value)
            .on_conflict_do_nothing(index_elements=[meta.c.key])
            .returning(meta.c.key)
        ).scalar()
        return made is not None  # (the rowcount of DO NOTHING is -1 on PostgreSQL)

    def swap(self, key: str, old: str, new: str) -> bool:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(meta).where(meta.c.key == _SENT + key, meta.c.value == old).values(value=new)
        )
        return res.rowcount == 1
