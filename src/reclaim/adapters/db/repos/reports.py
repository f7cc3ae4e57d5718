"""SQLAlchemy read model of a period's report (:class:`reclaim.services.ports.ReportReader`):
counts and sums grouped in the database, over the cases ``ix_cases_report`` finds by store
and creation time. Only recovered cases come back one row each (their values).

Also :class:`SqlReportSends`: the scheduled report emails' records, rows of ``meta`` (its
keys ``report:<store>:<period>``), so no table of their own is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    String,
    Table,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
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
from reclaim.domain.cases import TEST_MODE_EVENT, CaseKind, CaseStatus, ReasonSource
from reclaim.domain.events import FinancialStatus, ShipmentStatus
from reclaim.services.ports import (
    CaseGroup,
    CouponCost,
    FunnelCounts,
    FunnelGroup,
    MessageGroup,
    ReasonCount,
    RecoveredCase,
)

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
_TEST_CASE = exists().where(
    case_events.c.case_id == cases.c.id, case_events.c.type == TEST_MODE_EVENT
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

    def case_groups(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> Sequence[CaseGroup]:
        key = _case_key(by).label("key")
        arm = _ARM.label("arm")
        q = select(
            cases.c.kind,
            arm,
            key,
            func.count(),
            _count_if(cases.c.status == CaseStatus.RECOVERED),
        ).select_from(cases)
        q = _with_flows(q, by).where(_cohort(store_id, start, end))
        rows = self.s.execute(q.group_by(cases.c.kind, arm, key))
        return [CaseGroup(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]

    def _recovered(self, q: Any, key: Any) -> list[RecoveredCase]:
        """``q`` (cases, joined as needed and filtered) with a recovered case's columns, and
        its order's refund (orders are unique by store and external id: one row a case)."""
        q = q.add_columns(
            cases.c.kind,
            _ARM,
            key,
            cases.c.attribution,
            func.coalesce(cases.c.recovered_value, cases.c.value),
            cases.c.currency,
            cases.c.created_at,
            cases.c.closed_at,
            orders.c.financial_status == FinancialStatus.REFUNDED,
        ).outerjoin(
            orders,
            and_(
                orders.c.store_id == cases.c.store_id,
                orders.c.external_id == cases.c.recovered_order_external_id,
            ),
        )
        return [
            RecoveredCase(
                kind=r[0],
                arm=r[1],
                key=r[2],
                attribution=r[3],
                value=r[4],
                currency=r[5],
                opened_at=r[6],
                recovered_at=r[7] or r[6],
                refunded=bool(r[8]),
            )
            for r in self.s.execute(q)
        ]

    def recovered(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> Sequence[RecoveredCase]:
        q = _with_flows(select().select_from(cases), by).where(
            _cohort(store_id, start, end), cases.c.status == CaseStatus.RECOVERED
        )
        return self._recovered(q, _case_key(by))

    def _message_key(self, by: str | None) -> Any:
        if by is None:
            return literal(None, String)
        return messages.c.channel if by == "channel" else steps.c.key

    def messages(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> Sequence[MessageGroup]:
        key = self._message_key(by).label("key")
        q = (
            select(key, func.count(), func.count(func.distinct(messages.c.case_id)))
            .select_from(messages)
            .join(cases, cases.c.id == messages.c.case_id)
        )
        if by == "step":
            q = q.join(steps, steps.c.id == messages.c.step_id)
        q = q.where(_cohort(store_id, start, end), messages.c.sent_at.is_not(None))
        rows = self.s.execute(q.group_by(key))
        return [MessageGroup(r[0], int(r[1]), int(r[2])) for r in rows]

    def recovered_by_message(
        self, store_id: str, start: datetime, end: datetime, *, by: str
    ) -> Sequence[RecoveredCase]:
        key = self._message_key(by)
        q = (
            select()
            .select_from(cases)
            .join(messages, messages.c.id == cases.c.attributed_message_id)
        )
        if by == "step":
            q = q.join(steps, steps.c.id == messages.c.step_id)
        q = q.where(_cohort(store_id, start, end), cases.c.status == CaseStatus.RECOVERED)
        return self._recovered(q, key)

    def coupon_costs(self, store_id: str, start: datetime, end: datetime) -> Sequence[CouponCost]:
        q = (
            select(
                coupons.c.currency,
                func.count(),
                func.sum(coupons.c.discount),
                _count_if(coupons.c.discount.is_(None)),
            )
            .select_from(coupons)
            .join(cases, cases.c.id == coupons.c.case_id)
            .where(_cohort(store_id, start, end), coupons.c.redeemed_at.is_not(None))
            .group_by(coupons.c.currency)
        )
        return [
            CouponCost(r[0], int(r[1]), r[2] if r[2] is not None else Decimal(0), int(r[3]))
            for r in self.s.execute(q)
        ]

    def reasons(self, store_id: str, start: datetime, end: datetime) -> Sequence[ReasonCount]:
        q = (
            select(case_reasons.c.source, case_reasons.c.reason, func.count())
            .select_from(case_reasons)
            .join(cases, cases.c.id == case_reasons.c.case_id)
            .where(_cohort(store_id, start, end))
            .group_by(case_reasons.c.source, case_reasons.c.reason)
        )
        return [ReasonCount(r[0], r[1], int(r[2])) for r in self.s.execute(q)]

    def answered(self, store_id: str, start: datetime, end: datetime) -> int:
        q = (
            select(func.count(func.distinct(case_reasons.c.case_id)))
            .select_from(case_reasons)
            .join(cases, cases.c.id == case_reasons.c.case_id)
            .where(_cohort(store_id, start, end), case_reasons.c.source == ReasonSource.CUSTOMER)
        )
        return int(self.s.execute(q).scalar() or 0)


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
