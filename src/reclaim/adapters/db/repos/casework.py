"""SQL reads for the console's daily work: the follow-up queue ranked in the database (the
score of :mod:`reclaim.domain.priority` as one SQL expression, so 100k open cases are ranked
without loading them), and one customer's cases, orders and messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select
from sqlalchemy import case as when
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import cases, messages, orders
from reclaim.domain import priority as p
from reclaim.domain.cases import Case, CaseStatus
from reclaim.domain.facts import Order
from reclaim.domain.steps import MessageRecord
from reclaim.services.ports import CustomerRow


def _value_points() -> ColumnElement[Any]:
    """``value_points(value, currency)``: a band is reached when the amount is at least
    the band's floor times its currency's scale (the scales grouped, one OR a band)."""
    groups: dict[Decimal, list[str]] = {}
    for code, scale in p.CURRENCY_SCALE.items():
        groups.setdefault(scale, []).append(code)
    listed = [c for codes in groups.values() for c in codes]
    branches = []
    for floor, points in p.VALUE_BANDS:
        reached = [
            and_(cases.c.currency.in_(codes), cases.c.value >= floor * scale)
            for scale, codes in sorted(groups.items())
        ]
        reached.append(and_(cases.c.currency.not_in(listed), cases.c.value >= floor))
        branches.append((or_(*reached), points))
    return when(*branches, else_=0)


def _age_points(now: datetime) -> ColumnElement[Any]:
    branches = [(cases.c.occurred_at <= now - older, pts) for older, pts in p.AGE_BANDS]
    return when(*branches, else_=0)


def _mapped(column: Any, points: Mapping[str, int]) -> ColumnElement[Any]:
    scored = [(column == key, pts) for key, pts in points.items() if pts]
    return when(*scored, else_=0) if scored else literal(0)


def _region_points() -> ColumnElement[Any]:
    return when(
        (cases.c.country.in_(sorted(p.REGION_A)), p.REGION_A_POINTS),
        (and_(cases.c.country.is_not(None), cases.c.country != ""), p.REGION_OTHER_POINTS),
        else_=0,
    )


def _margin_points(margins: Mapping[str, Decimal | None]) -> ColumnElement[Any]:
    by_store = {sid: p.margin_points(m) for sid, m in margins.items()}
    scored = [(cases.c.store_id == sid, pts) for sid, pts in sorted(by_store.items())]
    return when(*scored, else_=p.MARGIN_UNKNOWN) if scored else literal(p.MARGIN_UNKNOWN)


def score_expression(now: datetime, margins: Mapping[str, Decimal | None]) -> ColumnElement[Any]:
    """The priority score of a ``cases`` row at ``now`` (no prediction is stored: odds 0)."""
    return (
        _value_points()
        + _margin_points(margins)
        + _region_points()
        + _age_points(now)
        + _mapped(cases.c.kind, p.KIND_POINTS)
        + _mapped(cases.c.reason, p.REASON_POINTS)
    )


def _where(q: p.QueueQuery, now: datetime) -> list[ColumnElement[bool]]:
    if not q.store_ids:
        return [false()]
    conds: list[ColumnElement[bool]] = [
        cases.c.store_id.in_(sorted(q.store_ids)),
        cases.c.status == CaseStatus.OPEN,
    ]
    if q.kind:
        conds.append(cases.c.kind == q.kind)
    if q.country:
        conds.append(cases.c.country == q.country.upper())
    if q.currency:
        conds.append(cases.c.currency == q.currency.upper())
    if q.value_min is not None:
        conds.append(cases.c.value >= q.value_min)
    if q.value_max is not None:
        conds.append(cases.c.value <= q.value_max)
    if q.older_than is not None:
        conds.append(cases.c.occurred_at <= now - q.older_than)
    if q.reason:
        conds.append(cases.c.reason == q.reason)
    if q.assignee == p.NOBODY:
        conds.append(cases.c.assignee_id.is_(None))
    elif q.assignee is not None:
        conds.append(cases.c.assignee_id == q.assignee)
    if q.manual is not None:
        conds.append(cases.c.manual == q.manual)
    return conds


class SqlCasework:
    def __init__(self, session: Session) -> None:
        self.s = session

    def queue(
        self,
        query: p.QueueQuery,
        *,
        now: datetime,
        margins: Mapping[str, Decimal | None],
        offset: int,
        limit: int,
    ) -> Sequence[tuple[Case, int]]:
        score = score_expression(now, margins).label("score")
        ranked = self.s.execute(
            select(cases.c.id, score)
            .where(*_where(query, now))
            .order_by(score.desc(), cases.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        if not ranked:
            return []
        ids = [int(r.id) for r in ranked]
        found = {c.id: c for c in self.s.scalars(select(Case).where(cases.c.id.in_(ids)))}
        return [(found[int(r.id)], int(r.score)) for r in ranked if int(r.id) in found]

    def queue_count(self, query: p.QueueQuery, *, now: datetime) -> int:
        q = select(func.count()).select_from(cases).where(*_where(query, now))
        return int(self.s.execute(q).scalar_one())

    def customer_cases(self, store_id: str, customer_key: str, *, limit: int) -> Sequence[Case]:
        return self.s.scalars(
            select(Case)
            .where(cases.c.store_id == store_id, cases.c.customer_key == customer_key)
            .order_by(cases.c.id.desc())
            .limit(limit)
        ).all()

    def customer_orders(self, store_id: str, customer_key: str, *, limit: int) -> Sequence[Order]:
        return self.s.scalars(
            select(Order)
            .where(orders.c.store_id == store_id, orders.c.customer_key == customer_key)
            .order_by(orders.c.created_at.desc(), orders.c.id.desc())
            .limit(limit)
        ).all()

    def customer_messages(
        self, store_id: str, customer_key: str, *, limit: int
    ) -> Sequence[MessageRecord]:
        return self.s.scalars(
            select(MessageRecord)
            .where(messages.c.store_id == store_id, messages.c.customer_key == customer_key)
            .order_by(messages.c.id.desc())
            .limit(limit)
        ).all()

    def paid_orders_count(self, store_id: str, customer_key: str) -> int:
        q = select(func.count()).where(
            orders.c.store_id == store_id,
            orders.c.customer_key == customer_key,
            orders.c.paid_at.is_not(None),
            orders.c.is_test == false(),
        )
        return int(self.s.execute(q).scalar_one())

    def find_customers(
        self, store_ids: Sequence[str], text: str, *, offset: int, limit: int
    ) -> Sequence[CustomerRow]:
        needle = text.strip().lower()
        if not store_ids or not needle:
            return []
        like = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matched = or_(
            func.lower(cases.c.email).like(like, escape="\\"),
            cases.c.phone.like(like, escape="\\"),
            cases.c.customer_key == text.strip(),
        )
        last = func.max(cases.c.id).label("last_id")
        groups = self.s.execute(
            select(cases.c.store_id, cases.c.customer_key, func.count().label("n"), last)
            .where(
                cases.c.store_id.in_(sorted(store_ids)),
                cases.c.customer_key.is_not(None),
                matched,
            )
            .group_by(cases.c.store_id, cases.c.customer_key)
            .order_by(last.desc())
            .offset(offset)
            .limit(limit)
        ).all()
        if not groups:
            return []
        newest = {
            int(r.id): r
            for r in self.s.execute(
                select(cases.c.id, cases.c.email, cases.c.phone, cases.c.created_at).where(
                    cases.c.id.in_([int(g.last_id) for g in groups])
                )
            )
        }
        return [
            CustomerRow(
                store_id=g.store_id,
                customer_key=g.customer_key,
                email=newest[int(g.last_id)].email,
                phone=newest[int(g.last_id)].phone,
                cases=int(g.n),
                last_at=newest[int(g.last_id)].created_at,
            )
            for g in groups
        ]
