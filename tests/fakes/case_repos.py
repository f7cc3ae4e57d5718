"""Fake repositories of facts (checkouts, orders, payments, shipments) and cases, with the
SQL ones' semantics: one fact per store and external id (a second one conflicts at flush),
what is due in due-time order, open cases in id order, events in the order written."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from fakes.base import Repo
from fakes.state import EventRow, UniqueViolation, json_round_trip
from fakes.store_repos import by_id
from reclaim.domain.cases import Case, CaseReason, CaseStatus, ReasonSource
from reclaim.domain.facts import Checkout, CheckoutState, Order, PaymentAttempt, WatchState
from reclaim.domain.shipments import Shipment
from reclaim.errors import Conflict

F = TypeVar("F", Checkout, Order, PaymentAttempt, Shipment)


class FakeFacts(Repo):
    def _table(self, cls: type) -> dict[int, Any]:
        tables: dict[type, dict[int, Any]] = {
            Checkout: self.t.checkouts,
            Order: self.t.orders,
            PaymentAttempt: self.t.payments,
            Shipment: self.t.shipments,
        }
        return tables[cls]

    def _one(self, cls: type[F], store_id: str, external_id: str) -> F | None:
        found: F | None = next(
            (
                f
                for f in by_id(self._table(cls))
                if f.store_id == store_id and f.external_id == external_id
            ),
            None,
        )
        return found

    def _many(self, cls: type[F], store_id: str, external_ids: Sequence[str]) -> dict[str, F]:
        wanted = set(external_ids)
        return {
            f.external_id: f
            for f in by_id(self._table(cls))
            if f.store_id == store_id and f.external_id in wanted
        }

    def checkout(self, store_id: str, external_id: str, *, lock: bool) -> Checkout | None:
        return self._one(Checkout, store_id, external_id)

    def checkouts_many(self, store_id: str, external_ids: Sequence[str]) -> dict[str, Checkout]:
        return self._many(Checkout, store_id, external_ids)

    def order(self, store_id: str, external_id: str, *, lock: bool) -> Order | None:
        return self._one(Order, store_id, external_id)

    def orders_many(self, store_id: str, external_ids: Sequence[str]) -> dict[str, Order]:
        return self._many(Order, store_id, external_ids)

    def payment(self, store_id: str, external_id: str, *, lock: bool) -> PaymentAttempt | None:
        return self._one(PaymentAttempt, store_id, external_id)

    def shipment(self, store_id: str, external_id: str, *, lock: bool) -> Shipment | None:
        return self._one(Shipment, store_id, external_id)

    def add(self, fact: Checkout | Order | PaymentAttempt | Shipment) -> None:
        """Kept at once, with its id; a fact under a taken key makes the next :meth:`flush`
        raise ``Conflict`` (the SQL flush's IntegrityError, as the SQL repository maps it)."""
        table = self._table(type(fact))
        if any(
            (f.store_id, f.external_id) == (fact.store_id, fact.external_id) for f in table.values()
        ):
            self._uow.flag_conflict()
            return
        fact.id = self._next_id(type(fact).__name__)
        table[fact.id] = fact

    def flush(self) -> None:
        if self._uow.take_conflict():
            raise Conflict("a concurrent writer stored the same fact")

    def due_checkouts(self, *, now: datetime, limit: int) -> Sequence[Checkout]:
        due = [
            c
            for c in self.t.checkouts.values()
            if c.abandon_due_at is not None
            and c.abandon_due_at <= now
            and c.state == CheckoutState.ACTIVE
        ]
        return sorted(due, key=lambda c: (c.abandon_due_at, c.id))[:limit]

    def due_orders(self, *, now: datetime, limit: int) -> Sequence[Order]:
        due = [
            o
            for o in self.t.orders.values()
            if o.pending_due_at is not None
            and o.pending_due_at <= now
            and o.watch == WatchState.WATCHING
        ]
        return sorted(due, key=lambda o: (o.pending_due_at, o.id))[:limit]

    def due_payments(self, *, now: datetime, limit: int) -> Sequence[PaymentAttempt]:
        due = [
            p
            for p in self.t.payments.values()
            if p.due_at is not None and p.due_at <= now and p.watch == WatchState.WATCHING
        ]
        return sorted(due, key=lambda p: (p.due_at, p.id))[:limit]

    def active_checkouts_of(self, store_id: str, customer_key: str) -> Sequence[Checkout]:
        live = (CheckoutState.ACTIVE, CheckoutState.ABANDONED)
        return [
            c
            for c in by_id(self.t.checkouts)
            if c.store_id == store_id and c.customer_key == customer_key and c.state in live
        ]

    def paid_orders_of(
        self, store_id: str, customer_key: str, *, since: datetime
    ) -> Sequence[Order]:
        return [
            o
            for o in by_id(self.t.orders)
            if o.store_id == store_id
            and o.customer_key == customer_key
            and o.paid_at is not None
            and o.paid_at >= since
        ]

    def _succeeded(self, store_id: str) -> list[PaymentAttempt]:
        return [p for p in by_id(self.t.payments) if p.store_id == store_id and p.succeeded]

    def order_succeeded_payment(self, store_id: str, order_external_id: str) -> bool:
        return any(p.order_external_id == order_external_id for p in self._succeeded(store_id))

    def unlinked_payments_of(
        self, store_id: str, customer_key: str, *, since: datetime
    ) -> Sequence[PaymentAttempt]:
        return [
            p
            for p in self._succeeded(store_id)
            if p.customer_key == customer_key
            and p.order_external_id is None
            and p.occurred_at >= since
        ]

    def intent_succeeded(self, store_id: str, intent_id: str) -> bool:
        return any(p.intent_id == intent_id for p in self._succeeded(store_id))

    def order_by_checkout(self, store_id: str, checkout_external_id: str) -> Order | None:
        return next(
            (
                o
                for o in by_id(self.t.orders)
                if o.store_id == store_id and o.checkout_external_id == checkout_external_id
            ),
            None,
        )


class FakeCases(Repo):
    def get_many(self, case_ids: Sequence[int], *, lock: bool = False) -> dict[int, Case]:
        return {i: self.t.cases[i] for i in sorted(set(case_ids)) if i in self.t.cases}

    def get(self, case_id: int, *, store_id: str | None = None, lock: bool = False) -> Case | None:
        case = self.t.cases.get(case_id)
        if case is None or (store_id is not None and case.store_id != store_id):
            return None
        return case

    def by_subject(self, store_id: str, kind: str, subject_id: str) -> Case | None:
        return next(
            (
                c
                for c in by_id(self.t.cases)
                if (c.store_id, c.kind, c.subject_id) == (store_id, kind, subject_id)
            ),
            None,
        )

    def add(self, case: Case) -> None:
        if self.by_subject(case.store_id, case.kind, case.subject_id) is not None:
            raise UniqueViolation(f"cases: {case.kind} {case.subject_id!r} exists")
        case.id = self._next_id("cases")
        self.t.cases[case.id] = case

    def _open(self, store_id: str, **match: object) -> Sequence[Case]:
        return [
            c
            for c in by_id(self.t.cases)
            if c.store_id == store_id
            and c.status == CaseStatus.OPEN
            and all(getattr(c, k) == v for k, v in match.items())
        ]

    def open_for_customer(self, store_id: str, customer_key: str) -> Sequence[Case]:
        return self._open(store_id, customer_key=customer_key)

    def open_for_order(self, store_id: str, order_external_id: str) -> Sequence[Case]:
        return self._open(store_id, order_external_id=order_external_id)

    def open_for_checkout(self, store_id: str, checkout_external_id: str) -> Sequence[Case]:
        return self._open(store_id, checkout_external_id=checkout_external_id)

    def open_for_intent(self, store_id: str, intent_id: str) -> Sequence[Case]:
        return self._open(store_id, intent_id=intent_id)

    def exists_for_checkout(self, store_id: str, kind: str, checkout_external_id: str) -> bool:
        return any(
            c.store_id == store_id
            and c.kind == kind
            and c.checkout_external_id == checkout_external_id
            for c in self.t.cases.values()
        )

    def expired_open(self, *, now: datetime, limit: int) -> Sequence[Case]:
        due = [
            c
            for c in self.t.cases.values()
            if c.status == CaseStatus.OPEN and c.expires_at is not None and c.expires_at <= now
        ]
        return sorted(due, key=lambda c: (c.expires_at, c.id))[:limit]

    def page(
        self,
        *,
        store_id: str,
        status: str | None,
        kind: str | None,
        since: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> Sequence[Case]:
        rows = [
            c
            for c in reversed(by_id(self.t.cases))
            if c.store_id == store_id
            and (status is None or c.status == status)
            and (kind is None or c.kind == kind)
            and (since is None or c.created_at >= since)
            and (after_id is None or (c.id or 0) < after_id)
        ]
        return rows[:limit]

    def add_event(self, case_id: int, *, at: datetime, type: str, data: dict[str, object]) -> None:
        event_id = self._next_id("case_events")
        self.t.case_events[event_id] = EventRow(
            event_id, case_id, None, at, type, json_round_trip(data)
        )

    def events(self, case_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]:
        return [
            (e.at, e.type, copy.deepcopy(e.data))
            for e in by_id(self.t.case_events)
            if e.owner == case_id
        ]

    def with_event(self, case_ids: Sequence[int], type: str) -> set[int]:
        wanted = set(case_ids)
        return {
            e.owner for e in self.t.case_events.values() if e.owner in wanted and e.type == type
        }

    def add_reasons(self, reasons: Sequence[CaseReason]) -> None:
        for r in reasons:
            key = (r.case_id, r.reason, r.source)
            if key not in self.t.case_reasons:
                self.t.case_reasons[key] = (self._next_id("case_reasons"), r)

    def answer(self, reason: CaseReason, *, drop: Sequence[str] = ()) -> None:
        for gone in drop:
            if gone != reason.reason:
                self.t.case_reasons.pop((reason.case_id, gone, ReasonSource.CUSTOMER), None)
        key = (reason.case_id, reason.reason, reason.source)
        found = self.t.case_reasons.get(key)
        if found is None:
            self.t.case_reasons[key] = (self._next_id("case_reasons"), reason)
        else:
            detail = found[1].detail if reason.detail is None else reason.detail
            self.t.case_reasons[key] = (found[0], replace(reason, detail=detail))

    def reasons(self, case_id: int) -> Sequence[CaseReason]:
        mine = [row for key, row in self.t.case_reasons.items() if key[0] == case_id]
        mine.sort(key=lambda row: (row[1].source != ReasonSource.INFERRED, row[0]))
        return [r for _, r in mine]
