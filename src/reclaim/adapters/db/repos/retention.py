"""SQLAlchemy repository for retention (SPEC S13): what is past its window, found by its own
cut-off and deleted in batches of ids, children first (without relying on the database's
cascades, which SQLite applies only with its foreign keys switched on); and, in ``meta``,
when each store was last pruned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Select, delete, func, select, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from reclaim.adapters.db.tables import (
    case_events,
    case_reasons,
    cases,
    checkouts,
    coupons,
    holds,
    inbox,
    message_events,
    messages,
    meta,
    orders,
    payment_attempts,
    platform_actions,
    shipment_scans,
    shipments,
    steps,
)

# A delivery waiting to be processed stays; "erased": its body rewritten by an erasure.
FINISHED = ("processed", "ignored", "failed", "erased")
_MARK = "pruned:"  # meta key prefix: when a store was last pruned (ISO 8601, UTC)


def _closed(store_id: str) -> ColumnElement[bool]:
    return (cases.c.store_id == store_id) & (cases.c.status != "open")


def _named(store_id: str, *columns: Any) -> Any:
    """The external ids an open case of the store names in ``columns`` (its subject, its
    checkout, order or payment intent): the facts it still needs."""
    open_ = (cases.c.store_id == store_id) & (cases.c.status == "open")
    return union(
        *(select(c.label("ref")).where(open_ & c.is_not(None)) for c in columns)
    ).subquery()


def _fact_query(kind: str, store_id: str, before: datetime) -> tuple[Any, ColumnElement[bool]]:
    """The facts past their window that nothing open needs: a checkout no longer watched
    (``active``), an order no longer watched for payment, without an active hold, a call to
    the platform still to make or a shipment scanned since the cut-off; a payment attempt
    no longer watched; none named by an open case."""
    if kind == "checkouts":
        named = _named(store_id, cases.c.subject_id, cases.c.checkout_external_id)
        return checkouts.c.id, (
            (checkouts.c.store_id == store_id)
            & (func.coalesce(checkouts.c.stored_at, checkouts.c.updated_at) < before)
            & (checkouts.c.state != "active")
            & checkouts.c.external_id.not_in(select(named.c.ref))
        )
    if kind == "orders":
        named = _named(store_id, cases.c.subject_id, cases.c.order_external_id)
        held = select(holds.c.order_external_id).where(
            (holds.c.store_id == store_id) & (holds.c.status == "active")
        )
        calling = select(platform_actions.c.order_external_id).where(
            (platform_actions.c.store_id == store_id) & (platform_actions.c.status == "pending")
        )
        moving = select(shipments.c.order_external_id).where(
            (shipments.c.store_id == store_id) & (shipments.c.last_event_at >= before)
        )
        return orders.c.id, (
            (orders.c.store_id == store_id)
            & (func.coalesce(orders.c.stored_at, orders.c.updated_at) < before)
            & (orders.c.watch != "watching")
            & orders.c.external_id.not_in(select(named.c.ref))
            & orders.c.external_id.not_in(held)
            & orders.c.external_id.not_in(calling)
            & orders.c.external_id.not_in(moving)
        )
    if kind == "payments":
        named = _named(store_id, cases.c.subject_id, cases.c.intent_id)
        return payment_attempts.c.id, (
            (payment_attempts.c.store_id == store_id)
            & (func.coalesce(payment_attempts.c.stored_at, payment_attempts.c.occurred_at) < before)
            & (payment_attempts.c.watch != "watching")
            & payment_attempts.c.intent_id.not_in(select(named.c.ref))
        )
    raise ValueError(f"unknown retention kind {kind!r}")


def _query(
    kind: str, store_id: str, before: datetime, keep_types: Sequence[str]
) -> tuple[Any, ColumnElement[bool]]:
    """The id column of ``kind``'s table and the condition of its expired rows."""
    if kind == "deliveries":
        return inbox.c.id, (
            (inbox.c.store_id == store_id)
            & (inbox.c.received_at < before)
            & inbox.c.status.in_(FINISHED)
        )
    if kind == "events":
        closed = select(cases.c.id).where(_closed(store_id))
        condition = case_events.c.case_id.in_(closed) & (case_events.c.at < before)
        if keep_types:
            condition = condition & case_events.c.type.not_in(list(keep_types))
        return case_events.c.id, condition
    if kind == "messages":
        closed = select(cases.c.id).where(_closed(store_id))
        return messages.c.id, (
            (messages.c.store_id == store_id)
            & (messages.c.created_at < before)
            & messages.c.case_id.in_(closed)
        )
    if kind == "closed_cases":
        return cases.c.id, _closed(store_id) & (cases.c.closed_at < before)
    return _fact_query(kind, store_id, before)


class SqlRetention:
    def __init__(self, session: Session) -> None:
        self.s = session

    def expired(
        self,
        kind: str,
        *,
        store_id: str,
        before: datetime,
        limit: int,
        keep_types: Sequence[str] = (),
    ) -> Sequence[int]:
        column, condition = _query(kind, store_id, before, keep_types)
        q: Select[Any] = select(column).where(condition).order_by(column).limit(limit)
        return [int(i) for i in self.s.execute(q).scalars()]

    def count_expired(
        self, kind: str, *, store_id: str, before: datetime, keep_types: Sequence[str] = ()
    ) -> int:
        column, condition = _query(kind, store_id, before, keep_types)
        return int(self.s.execute(select(func.count(column)).where(condition)).scalar() or 0)

    def delete(self, kind: str, ids: Sequence[int]) -> int:
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        if kind == "deliveries":
            return self._gone(delete(inbox).where(inbox.c.id.in_(wanted)))
        if kind == "events":
            return self._gone(delete(case_events).where(case_events.c.id.in_(wanted)))
        if kind == "messages":
            self._gone(delete(message_events).where(message_events.c.message_id.in_(wanted)))
            return self._gone(delete(messages).where(messages.c.id.in_(wanted)))
        if kind == "closed_cases":
            theirs = select(messages.c.id).where(messages.c.case_id.in_(wanted))
            self._gone(delete(message_events).where(message_events.c.message_id.in_(theirs)))
            for child in (messages, steps, coupons, case_events, case_reasons):
                self._gone(delete(child).where(child.c.case_id.in_(wanted)))
            return self._gone(delete(cases).where(cases.c.id.in_(wanted)))
        if kind == "checkouts":
            return self._gone(delete(checkouts).where(checkouts.c.id.in_(wanted)))
        if kind == "orders":
            self._drop_shipments(wanted)
            return self._gone(delete(orders).where(orders.c.id.in_(wanted)))
        if kind == "payments":
            return self._gone(delete(payment_attempts).where(payment_attempts.c.id.in_(wanted)))
        raise ValueError(f"unknown retention kind {kind!r}")

    def _drop_shipments(self, order_ids: Sequence[int]) -> None:
        """The shipments of those orders and their scans."""
        rows = self.s.execute(
            select(orders.c.store_id, orders.c.external_id).where(orders.c.id.in_(order_ids))
        )
        by_store: dict[str, list[str]] = {}
        for store_id, external_id in rows:
            by_store.setdefault(store_id, []).append(external_id)
        for store_id, numbers in by_store.items():
            theirs = shipments.c.store_id == store_id
            parcels = select(shipments.c.external_id).where(
                theirs & shipments.c.order_external_id.in_(numbers)
            )
            self._gone(
                delete(shipment_scans).where(
                    (shipment_scans.c.store_id == store_id)
                    & shipment_scans.c.shipment_external_id.in_(parcels)
                )
            )
            self._gone(delete(shipments).where(theirs & shipments.c.order_external_id.in_(numbers)))

    def _gone(self, statement: Any) -> int:
        result: CursorResult[Any] = self.s.execute(statement)  # type: ignore[assignment]
        return int(result.rowcount or 0)

    def last_pruned(self, store_ids: Sequence[str]) -> dict[str, datetime]:
        """When each of ``store_ids`` was last pruned (absent: never), in one query."""
        if not store_ids:
            return {}
        rows = self.s.execute(
            select(meta.c.key, meta.c.value).where(
                meta.c.key.in_([_MARK + sid for sid in store_ids])
            )
        )
        found = {}
        for key, value in rows:
            at = datetime.fromisoformat(value)
            found[key.removeprefix(_MARK)] = at if at.tzinfo else at.replace(tzinfo=UTC)
        return found

    def mark_pruned(self, store_id: str, at: datetime) -> None:
        """One upsert: two workers pruning at once both write, neither fails."""
        key, value = _MARK + store_id, at.astimezone(UTC).isoformat()
        dialect = self.s.get_bind().dialect.name
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        self.s.execute(
            upsert(meta)
            .values(key=key, value=value)
            .on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value})
        )
