"""The fake report reader: the ``ReportReader`` port's aggregates computed over the working
tables in Python, with the SQL read model's definitions (adapters/db/repos/reports.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from fakes.base import Repo
from reclaim.domain.cases import TEST_MODE_EVENT, Case, CaseStatus, ReasonSource
from reclaim.domain.devices import device_of
from reclaim.domain.events import FinancialStatus, ShipmentStatus
from reclaim.domain.facts import Checkout, Order
from reclaim.services.abandonment import country_of
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
from reclaim.services.ports.reports import MESSAGE_DIMENSIONS

SALES_KINDS = ("abandoned_checkout", "pending_order", "failed_payment")


def _arm(c: Case) -> str:
    if c.holdout:
        return "holdout"
    return "none" if c.flow_id is None else "messaged"


class FakeReports(Repo):
    def _cohort(self, store_id: str, start: datetime, end: datetime) -> list[Case]:
        tests = {e.owner for e in self.t.case_events.values() if e.type == TEST_MODE_EVENT}
        return [
            c
            for c in sorted(self.t.cases.values(), key=lambda c: c.id or 0)
            if c.store_id == store_id
            and start <= c.created_at < end
            and c.kind in SALES_KINDS
            and c.id not in tests
        ]

    def has_data(self, store_id: str) -> bool:
        return any(
            r.store_id == store_id
            for table in (self.t.cases, self.t.checkouts, self.t.orders)
            for r in table.values()
        )

    def funnel(self, store_id: str, start: datetime, end: datetime) -> FunnelCounts:
        carts = [
            c
            for c in self.t.checkouts.values()
            if c.store_id == store_id and start <= c.created_at < end and not c.is_test
        ]
        placed = [
            o
            for o in self.t.orders.values()
            if o.store_id == store_id and start <= o.created_at < end and not o.is_test
        ]
        shipped: set[int] = set()
        delivered: set[int] = set()
        for o in placed:
            for s in self.t.shipments.values():
                if (s.store_id, s.order_external_id) == (o.store_id, o.external_id):
                    shipped.add(o.id or 0)
                    if s.delivered_at is not None or s.status == ShipmentStatus.DELIVERED:
                        delivered.add(o.id or 0)
        return FunnelCounts(
            carts=len(carts),
            checkouts=sum(1 for c in carts if c.customer_key is not None),
            orders=len(placed),
            paid=sum(1 for o in placed if o.paid_at is not None),
            shipped=len(shipped),
            delivered=len(delivered),
        )

    def funnel_by(
        self, store_id: str, start: datetime, end: datetime, *, by: str
    ) -> Sequence[FunnelGroup]:
        def key(fact: Checkout | Order) -> str | None:
            if by == "country":
                return country_of(fact.contact.country)
            return device_of(fact.user_agent)

        counts: dict[str | None, list[int]] = {}
        for c in self.t.checkouts.values():
            if c.store_id == store_id and start <= c.created_at < end and not c.is_test:
                found = counts.setdefault(key(c), [0] * 6)
                found[0] += 1
                found[1] += c.customer_key is not None
        for o in self.t.orders.values():
            if o.store_id == store_id and start <= o.created_at < end and not o.is_test:
                found = counts.setdefault(key(o), [0] * 6)
                found[2] += 1
                found[3] += o.paid_at is not None
                sent = [
                    s
                    for s in self.t.shipments.values()
                    if (s.store_id, s.order_external_id) == (o.store_id, o.external_id)
                ]
                found[4] += bool(sent)
                found[5] += any(
                    s.delivered_at is not None or s.status == ShipmentStatus.DELIVERED for s in sent
                )
        return [
            FunnelGroup(k, FunnelCounts(*v))
            for k, v in sorted(counts.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ]

    def cohort(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> CohortFacts:
        messages = by in MESSAGE_DIMENSIONS
        key = None if messages else by
        return CohortFacts(
            groups=self._case_groups(store_id, start, end, by=key),
            recovered=self._recovered(store_id, start, end, by=key),
            messages=self._messages(store_id, start, end),
            coupons=self._coupon_costs(store_id, start, end),
            reasons=self._reasons(store_id, start, end),
            answered=self._answered(store_id, start, end),
            by_messages=self._messages(store_id, start, end, by=by) if messages else (),
            by_recovered=(
                self._recovered_by_message(store_id, start, end, by=by or "") if messages else ()
            ),
        )

    def _key(self, c: Case, by: str | None) -> str | None:
        if by is None:
            return None
        if by == "flow":
            flow = self.t.flows.get(c.flow_id or 0)
            return None if flow is None else f"{flow.name} v{flow.version}"
        value: str | None = getattr(c, by)
        return value

    def _case_groups(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> Sequence[CaseGroup]:
        opened: Counter[tuple[str, str, str | None]] = Counter()
        back: Counter[tuple[str, str, str | None]] = Counter()
        for c in self._cohort(store_id, start, end):
            key = (c.kind, _arm(c), self._key(c, by))
            opened[key] += 1
            back[key] += c.status == CaseStatus.RECOVERED
        return [CaseGroup(*key, opened[key], back[key]) for key in sorted(opened, key=str)]

    def _row(self, c: Case, key: str | None) -> RecoveredCase:
        order = next(
            (
                o
                for o in self.t.orders.values()
                if (o.store_id, o.external_id) == (c.store_id, c.recovered_order_external_id)
            ),
            None,
        )
        return RecoveredCase(
            kind=c.kind,
            arm=_arm(c),
            key=key,
            attribution=c.attribution,
            value=c.recovered_value if c.recovered_value is not None else c.value,
            currency=c.currency,
            opened_at=c.created_at,
            recovered_at=c.closed_at or c.created_at,
            refunded=order is not None and order.financial_status == FinancialStatus.REFUNDED,
        )

    def _recovered_cases(self, store_id: str, start: datetime, end: datetime) -> list[Case]:
        return [c for c in self._cohort(store_id, start, end) if c.status == CaseStatus.RECOVERED]

    def _recovered(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> Sequence[RecoveredCase]:
        return [self._row(c, self._key(c, by)) for c in self._recovered_cases(store_id, start, end)]

    def _message_key(self, message_id: int, by: str | None) -> str | None:
        m = self.t.messages[message_id]
        if by is None:
            return None
        if by == "channel":
            return m.channel
        return self.t.steps[m.step_id].key

    def _messages(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> Sequence[MessageGroup]:
        ids = {c.id for c in self._cohort(store_id, start, end)}
        sent: Counter[str | None] = Counter()
        cases: dict[str | None, set[int]] = {}
        for m in self.t.messages.values():
            if m.case_id in ids and m.sent_at is not None:
                key = self._message_key(m.id or 0, by)
                sent[key] += 1
                cases.setdefault(key, set()).add(m.case_id)
        return [MessageGroup(k, sent[k], len(cases[k])) for k in sent]

    def _recovered_by_message(
        self, store_id: str, start: datetime, end: datetime, *, by: str
    ) -> Sequence[RecoveredCase]:
        return [
            self._row(c, self._message_key(c.attributed_message_id, by))
            for c in self._recovered_cases(store_id, start, end)
            if c.attributed_message_id is not None and c.attributed_message_id in self.t.messages
        ]

    def _coupon_costs(self, store_id: str, start: datetime, end: datetime) -> Sequence[CouponCost]:
        ids = {c.id for c in self._cohort(store_id, start, end)}
        found: dict[str, list[int | Decimal]] = {}
        for coupon in self.t.coupons.values():
            if coupon.case_id in ids and coupon.redeemed_at is not None:
                row = found.setdefault(coupon.currency, [0, Decimal(0), 0])
                row[0] += 1
                if coupon.discount is None:
                    row[2] += 1
                else:
                    row[1] += coupon.discount
        return [
            CouponCost(cur, int(n), Decimal(total), int(unknown))
            for cur, (n, total, unknown) in found.items()
        ]

    def _reasons(self, store_id: str, start: datetime, end: datetime) -> Sequence[ReasonCount]:
        ids = {c.id for c in self._cohort(store_id, start, end)}
        counts: Counter[tuple[str, str]] = Counter(
            (source, reason) for (case_id, reason, source) in self.t.case_reasons if case_id in ids
        )
        return [ReasonCount(source, reason, n) for (source, reason), n in counts.items()]

    def _answered(self, store_id: str, start: datetime, end: datetime) -> int:
        ids = {c.id for c in self._cohort(store_id, start, end)}
        return len(
            {
                case_id
                for (case_id, _, source) in self.t.case_reasons
                if case_id in ids and source == ReasonSource.CUSTOMER
            }
        )


class FakeReportSends(Repo):
    """The scheduled report emails' records: a dict, as the SQL one's ``meta`` rows."""

    def get(self, keys: Sequence[str]) -> dict[str, str]:
        return {k: self.t.report_sends[k] for k in keys if k in self.t.report_sends}

    def add(self, key: str, value: str) -> bool:
        if key in self.t.report_sends:
            return False
        self.t.report_sends[key] = value
        return True

    def swap(self, key: str, old: str, new: str) -> bool:
        if self.t.report_sends.get(key) != old:
            return False
        self.t.report_sends[key] = new
        return True
