"""The fake retention repository: the SQL one's cut-offs over the in-memory tables, children
deleted with their parents, and the last prune of each store kept in ``meta``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fakes.base import Repo
from reclaim.domain.cases import CaseStatus

FINISHED = ("processed", "ignored", "failed", "erased")
_MARK = "pruned:"


class FakeRetention(Repo):
    def _closed(self, store_id: str) -> set[int]:
        return {
            i
            for i, c in self.t.cases.items()
            if c.store_id == store_id and c.status != CaseStatus.OPEN
        }

    def _all(
        self, kind: str, store_id: str, before: datetime, keep_types: Sequence[str]
    ) -> list[int]:
        if kind == "deliveries":
            return sorted(
                i
                for i, d in self.t.inbox.items()
                if d.store_id == store_id and d.received_at < before and d.status in FINISHED
            )
        if kind == "events":
            closed = self._closed(store_id)
            return sorted(
                i
                for i, e in self.t.case_events.items()
                if e.owner in closed and e.at < before and e.type not in keep_types
            )
        if kind == "messages":
            closed = self._closed(store_id)
            return sorted(
                i
                for i, m in self.t.messages.items()
                if m.store_id == store_id and m.created_at < before and m.case_id in closed
            )
        if kind == "closed_cases":
            return sorted(
                i
                for i in self._closed(store_id)
                if (at := self.t.cases[i].closed_at) is not None and at < before
            )
        return self._facts(kind, store_id, before)

    def _named(self, store_id: str, field: str) -> set[str]:
        """What an open case of the store names: its subject, and its ``field``."""
        found: set[str] = set()
        for c in self.t.cases.values():
            if c.store_id == store_id and c.status == CaseStatus.OPEN:
                found |= {v for v in (c.subject_id, getattr(c, field)) if v is not None}
        return found

    def _facts(self, kind: str, store_id: str, before: datetime) -> list[int]:
        t = self.t
        if kind == "checkouts":
            named = self._named(store_id, "checkout_external_id")
            return sorted(
                i
                for i, c in t.checkouts.items()
                if c.store_id == store_id
                and (c.stored_at or c.updated_at) < before
                and c.state != "active"
                and c.external_id not in named
            )
        if kind == "orders":
            busy = self._named(store_id, "order_external_id")
            busy |= {
                h.order_external_id
                for h in t.holds.values()
                if h.store_id == store_id and h.status == "active"
            }
            busy |= {
                a.order_external_id
                for a in t.platform_actions.values()
                if a.store_id == store_id and a.status == "pending"
            }
            busy |= {
                s.order_external_id
                for s in t.shipments.values()
                if s.store_id == store_id and s.last_event_at >= before
            }
            return sorted(
                i
                for i, o in t.orders.items()
                if o.store_id == store_id
                and (o.stored_at or o.updated_at) < before
                and o.watch != "watching"
                and o.external_id not in busy
            )
        if kind == "payments":
            named = self._named(store_id, "intent_id")
            return sorted(
                i
                for i, p in t.payments.items()
                if p.store_id == store_id
                and (p.stored_at or p.occurred_at) < before
                and p.watch != "watching"
                and p.intent_id not in named
            )
        raise ValueError(f"unknown retention kind {kind!r}")

    def expired(
        self,
        kind: str,
        *,
        store_id: str,
        before: datetime,
        limit: int,
        keep_types: Sequence[str] = (),
    ) -> Sequence[int]:
        return self._all(kind, store_id, before, keep_types)[:limit]

    def count_expired(
        self, kind: str, *, store_id: str, before: datetime, keep_types: Sequence[str] = ()
    ) -> int:
        return len(self._all(kind, store_id, before, keep_types))

    def delete(self, kind: str, ids: Sequence[int]) -> int:
        wanted = set(ids)
        t = self.t
        if kind == "deliveries":
            return _drop(t.inbox, wanted)
        if kind == "events":
            return _drop(t.case_events, wanted)
        if kind == "messages":
            _drop(t.message_events, {i for i, e in t.message_events.items() if e.owner in wanted})
            return _drop(t.messages, wanted)
        if kind == "closed_cases":
            theirs = {i for i, m in t.messages.items() if m.case_id in wanted}
            _drop(t.message_events, {i for i, e in t.message_events.items() if e.owner in theirs})
            _drop(t.messages, theirs)
            _drop(t.steps, {i for i, s in t.steps.items() if s.case_id in wanted})
            _drop(t.coupons, {i for i, c in t.coupons.items() if c.case_id in wanted})
            _drop(t.case_events, {i for i, e in t.case_events.items() if e.owner in wanted})
            _drop(t.case_reasons, {k for k in t.case_reasons if k[0] in wanted})
            return _drop(t.cases, wanted)
        if kind == "checkouts":
            return _drop(t.checkouts, wanted)
        if kind == "orders":
            numbers = {(o.store_id, o.external_id) for i, o in t.orders.items() if i in wanted}
            parcels = {
                i for i, s in t.shipments.items() if (s.store_id, s.order_external_id) in numbers
            }
            names = {(t.shipments[i].store_id, t.shipments[i].external_id) for i in parcels}
            _drop(
                t.scans,
                {i for i, s in t.scans.items() if (s.store_id, s.shipment_external_id) in names},
            )
            _drop(t.shipments, parcels)
            return _drop(t.orders, wanted)
        if kind == "payments":
            return _drop(t.payments, wanted)
        raise ValueError(f"unknown retention kind {kind!r}")

    def last_pruned(self, store_ids: Sequence[str]) -> dict[str, datetime]:
        return {
            sid: datetime.fromisoformat(self.t.meta[_MARK + sid])
            for sid in store_ids
            if _MARK + sid in self.t.meta
        }

    def mark_pruned(self, store_id: str, at: datetime) -> None:
        self.t.meta[_MARK + store_id] = at.isoformat()


def _drop(table: dict[object, object], keys: set[object]) -> int:
    gone = [k for k in keys if k in table]
    for k in gone:
        del table[k]
    return len(gone)
