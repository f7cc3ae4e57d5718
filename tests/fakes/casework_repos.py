"""The console's casework reads in memory: the queue ranked by the domain's own rule
(:func:`reclaim.domain.priority.priority`), which the SQL expression must agree with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from fakes.base import Repo
from reclaim.domain import priority as p
from reclaim.domain.cases import Case, CaseStatus
from reclaim.domain.facts import Order
from reclaim.domain.steps import MessageRecord
from reclaim.services.ports import CustomerRow


def _matches(c: Case, q: p.QueueQuery, now: datetime) -> bool:
    return (
        c.store_id in q.store_ids
        and c.status == CaseStatus.OPEN
        and (not q.kind or c.kind == q.kind)
        and (not q.country or c.country == q.country.upper())
        and (not q.currency or c.currency == q.currency.upper())
        and (q.value_min is None or c.value >= q.value_min)
        and (q.value_max is None or c.value <= q.value_max)
        and (q.older_than is None or c.occurred_at <= now - q.older_than)
        and (not q.reason or c.reason == q.reason)
        and (
            q.assignee is None
            or (c.assignee_id is None if q.assignee == p.NOBODY else c.assignee_id == q.assignee)
        )
        and (q.manual is None or c.manual == q.manual)
    )


class FakeCasework(Repo):
    def queue(
        self,
        query: p.QueueQuery,
        *,
        now: datetime,
        margins: Mapping[str, Decimal | None],
        offset: int,
        limit: int,
    ) -> Sequence[tuple[Case, int]]:
        scored = [
            (
                c,
                p.priority(
                    value=c.value,
                    currency=c.currency,
                    gross_margin=margins.get(c.store_id),
                    country=c.country,
                    kind=c.kind,
                    reason=c.reason,
                    occurred_at=c.occurred_at,
                    now=now,
                ).total,
            )
            for c in self.t.cases.values()
            if _matches(c, query, now)
        ]
        scored.sort(key=lambda cs: (-cs[1], -(cs[0].id or 0)))
        return scored[offset : offset + limit]

    def queue_count(self, query: p.QueueQuery, *, now: datetime) -> int:
        return sum(1 for c in self.t.cases.values() if _matches(c, query, now))

    def customer_cases(self, store_id: str, customer_key: str, *, limit: int) -> Sequence[Case]:
        found = [
            c
            for c in self.t.cases.values()
            if c.store_id == store_id and c.customer_key == customer_key
        ]
        return sorted(found, key=lambda c: -(c.id or 0))[:limit]

    def customer_orders(self, store_id: str, customer_key: str, *, limit: int) -> Sequence[Order]:
        found = [
            o
            for o in self.t.orders.values()
            if o.store_id == store_id and o.customer_key == customer_key
        ]
        return sorted(found, key=lambda o: (o.created_at, o.id or 0), reverse=True)[:limit]

    def customer_messages(
        self, store_id: str, customer_key: str, *, limit: int
    ) -> Sequence[MessageRecord]:
        found = [
            m
            for m in self.t.messages.values()
            if m.store_id == store_id and m.customer_key == customer_key
        ]
        return sorted(found, key=lambda m: -(m.id or 0))[:limit]

    def paid_orders_count(self, store_id: str, customer_key: str) -> int:
        return sum(
            1
            for o in self.t.orders.values()
            if o.store_id == store_id
            and o.customer_key == customer_key
            and o.paid_at is not None
            and not o.is_test
        )

    def find_customers(
        self, store_ids: Sequence[str], text: str, *, offset: int, limit: int
    ) -> Sequence[CustomerRow]:
        needle = text.strip().lower()
        if not store_ids or not needle:
            return []
        groups: dict[tuple[str, str], list[Case]] = {}
        for c in self.t.cases.values():
            if c.store_id not in store_ids or c.customer_key is None:
                continue
            if (
                (c.email or "").lower().startswith(needle)
                or (c.phone or "").startswith(needle)
                or c.customer_key == text.strip()
            ):
                groups.setdefault((c.store_id, c.customer_key), []).append(c)
        rows = []
        for (store_id, key), found in groups.items():
            newest = max(found, key=lambda c: c.id or 0)
            rows.append(
                CustomerRow(
                    store_id, key, newest.email, newest.phone, len(found), newest.created_at
                )
            )
        rows.sort(key=lambda r: -max(c.id or 0 for c in groups[(r.store_id, r.customer_key)]))
        return rows[offset : offset + limit]
