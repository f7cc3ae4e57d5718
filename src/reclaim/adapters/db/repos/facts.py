"""SQLAlchemy repository for the facts: checkouts, orders, payment attempts, shipments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import checkouts, orders, payment_attempts, shipments
from reclaim.domain.facts import (
    Checkout,
    CheckoutState,
    Order,
    PaymentAttempt,
    WatchState,
)
from reclaim.domain.shipments import Shipment
from reclaim.errors import Conflict


class SqlFacts:
    def __init__(self, session: Session) -> None:
        self.s = session

    def _one(self, cls: Any, table: Table, store_id: str, external_id: str, lock: bool) -> Any:
        q = select(cls).where(table.c.store_id == store_id, table.c.external_id == external_id)
        if lock and self.s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        return self.s.scalars(q).first()

    def checkout(self, store_id: str, external_id: str, *, lock: bool) -> Checkout | None:
        return self._one(  # type: ignore[no-any-return]
            Checkout, checkouts, store_id, external_id, lock
        )

    def checkouts_many(self, store_id: str, external_ids: Sequence[str]) -> dict[str, Checkout]:
        """The store's checkouts of ``external_ids`` that exist, by external id, one query."""
        if not external_ids:
            return {}
        found = self.s.scalars(
            select(Checkout).where(
                checkouts.c.store_id == store_id,
                checkouts.c.external_id.in_(sorted(set(external_ids))),
            )
        )
        return {c.external_id: c for c in found}

    def order(self, store_id: str, external_id: str, *, lock: bool) -> Order | None:
        return self._one(  # type: ignore[no-any-return]
            Order, orders, store_id, external_id, lock
        )

    def orders_many(self, store_id: str, external_ids: Sequence[str]) -> dict[str, Order]:
        """The store's orders of ``external_ids`` that exist, by external id, one query."""
        if not external_ids:
            return {}
        found = self.s.scalars(
            select(Order).where(
                orders.c.store_id == store_id,
                orders.c.external_id.in_(sorted(set(external_ids))),
            )
        )
        return {o.external_id: o for o in found}

    def payment(self, store_id: str, external_id: str, *, lock: bool) -> PaymentAttempt | None:
        return self._one(  # type: ignore[no-any-return]
            PaymentAttempt, payment_attempts, store_id, external_id, lock
        )

    def shipment(self, store_id: str, external_id: str, *, lock: bool) -> Shipment | None:
        return self._one(  # type: ignore[no-any-return]
            Shipment, shipments, store_id, external_id, lock
        )

    def add(self, fact: Checkout | Order | PaymentAttempt | Shipment) -> None:
        self.s.add(fact)

    def flush(self) -> None:
        try:
            self.s.flush()
        except IntegrityError as exc:
            raise Conflict("a concurrent writer stored the same fact") from exc

    def _due(self, cls: Any, column: Any, extra: Any, now: datetime, limit: int) -> Any:
        q = select(cls).where(column <= now, extra).order_by(column, column.table.c.id).limit(limit)
        if self.s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return self.s.scalars(q).all()

    def due_checkouts(self, *, now: datetime, limit: int) -> Sequence[Checkout]:
        return self._due(  # type: ignore[no-any-return]
            Checkout,
            checkouts.c.abandon_due_at,
            checkouts.c.state == CheckoutState.ACTIVE,
            now,
            limit,
        )

    def due_orders(self, *, now: datetime, limit: int) -> Sequence[Order]:
        return self._due(  # type: ignore[no-any-return]
            Order, orders.c.pending_due_at, orders.c.watch == WatchState.WATCHING, now, limit
        )

    def due_payments(self, *, now: datetime, limit: int) -> Sequence[PaymentAttempt]:
        return self._due(  # type: ignore[no-any-return]
            PaymentAttempt,
            payment_attempts.c.due_at,
            payment_attempts.c.watch == WatchState.WATCHING,
            now,
            limit,
        )

    def active_checkouts_of(self, store_id: str, customer_key: str) -> Sequence[Checkout]:
        return self.s.scalars(
            select(Checkout).where(
                checkouts.c.store_id == store_id,
                checkouts.c.customer_key == customer_key,
                checkouts.c.state.in_([CheckoutState.ACTIVE, CheckoutState.ABANDONED]),
            )
        ).all()

    def paid_orders_of(
        self, store_id: str, customer_key: str, *, since: datetime
    ) -> Sequence[Order]:
        return self.s.scalars(
            select(Order).where(
                orders.c.store_id == store_id,
                orders.c.customer_key == customer_key,
                orders.c.paid_at >= since,
            )
        ).all()

    def order_succeeded_payment(self, store_id: str, order_external_id: str) -> bool:
        return self._exists(
            payment_attempts.c.order_external_id == order_external_id,
            store_id,
        )

    def unlinked_payments_of(
        self, store_id: str, customer_key: str, *, since: datetime
    ) -> Sequence[PaymentAttempt]:
        """Successful payments of a customer that belong to no known order (payments-only stores)."""
        return self.s.scalars(
            select(PaymentAttempt).where(
                payment_attempts.c.store_id == store_id,
                payment_attempts.c.customer_key == customer_key,
                payment_attempts.c.succeeded.is_(True),
                payment_attempts.c.order_external_id.is_(None),
                payment_attempts.c.occurred_at >= since,
            )
        ).all()

    def intent_succeeded(self, store_id: str, intent_id: str) -> bool:
        return self._exists(payment_attempts.c.intent_id == intent_id, store_id)

    def _exists(self, cond: Any, store_id: str) -> bool:
        q = select(payment_attempts.c.id).where(
            payment_attempts.c.store_id == store_id,
            payment_attempts.c.succeeded.is_(True),
            cond,
        )
        return self.s.execute(q.limit(1)).first() is not None

    def order_by_checkout(self, store_id: str, checkout_external_id: str) -> Order | None:
        return self.s.scalars(
            select(Order).where(
                orders.c.store_id == store_id,
                orders.c.checkout_external_id == checkout_external_id,
            )
        ).first()
