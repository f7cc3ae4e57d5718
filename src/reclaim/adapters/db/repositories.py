"""SQLAlchemy implementations of the repository ports (:mod:`reclaim.services.ports`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from reclaim.adapters.db.dialect import claim_update, many_rows
from reclaim.adapters.db.tables import (
    api_keys,
    case_events,
    cases,
    checkouts,
    inbox,
    orders,
    payment_attempts,
    shipments,
    stores,
)
from reclaim.domain.cases import Case, CaseStatus
from reclaim.domain.facts import (
    Checkout,
    CheckoutState,
    Order,
    PaymentAttempt,
    WatchState,
)
from reclaim.domain.shipments import Shipment
from reclaim.domain.stores import ApiKey, Store, StoreSettings
from reclaim.errors import Conflict

# Per-request lookups of the API (authentication, a reservation's settings), built once and
# read with Core: no entity enters the session's identity map.
_KEY_COLUMNS = select(
    api_keys.c.prefix,
    api_keys.c.store_id,
    api_keys.c.digest,
    api_keys.c.created_at,
    api_keys.c.scopes,
    api_keys.c.revoked_at,
)
_KEY = _KEY_COLUMNS.where(api_keys.c.prefix == bindparam("p_prefix"))
_SETTINGS = select(stores.c.settings_json).where(stores.c.id == bindparam("p_store"))


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        prefix=row.prefix,
        store_id=row.store_id,
        digest=row.digest,
        created_at=row.created_at,
        scopes=row.scopes,
        revoked_at=row.revoked_at,
    )


class SqlStores:
    def __init__(self, session: Session) -> None:
        self.s = session
        # The session's identity map holds objects weakly: a store dropped between two
        # lookups would be read again (and the pending changes flushed first, one by one).
        self._held: dict[str, Store] = {}

    def add(self, store: Store) -> None:
        self.s.add(store)
        self.s.flush()  # no mapped relationship orders the key after its store

    def get(self, store_id: str) -> Store | None:
        held = self._held.get(store_id)
        if held is not None:
            return held
        found = self.s.get(Store, store_id)
        if found is not None:
            self._held[store_id] = found
        return found

    def by_name(self, name: str) -> Store | None:
        return self.s.scalars(select(Store).where(stores.c.name == name)).first()

    def list(self) -> Sequence[Store]:
        return self.s.scalars(select(Store).order_by(stores.c.name)).all()

    def add_key(self, key: ApiKey) -> None:
        self.s.add(key)

    def key_by_prefix(self, prefix: str) -> ApiKey | None:
        """The key as a detached record (authentication only reads it)."""
        row = self.s.execute(_KEY, {"p_prefix": prefix}).first()
        return None if row is None else _api_key(row)

    def keys_of(self, store_id: str) -> Sequence[ApiKey]:
        """The store's keys, revoked ones included, oldest first (detached records)."""
        rows = self.s.execute(
            _KEY_COLUMNS.where(api_keys.c.store_id == store_id).order_by(
                api_keys.c.created_at, api_keys.c.prefix
            )
        )
        return [_api_key(row) for row in rows]

    def revoke_key(self, prefix: str, *, now: datetime) -> bool:
        """Revoke the key unless it is revoked already; ``False`` when it was (or is not
        there). One conditional UPDATE: of two concurrent revocations, one wins."""
        done: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(api_keys)
            .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return done.rowcount == 1

    def settings_of(self, store_id: str) -> StoreSettings | None:
        """Just the store's settings (no entity loaded); ``None`` for no such store."""
        row = self.s.execute(_SETTINGS, {"p_store": store_id}).first()
        return None if row is None else StoreSettings.from_json(row.settings_json or {})

    def webhook_secret(self, store_id: str) -> str | None:
        """Just the secret, for the webhook request path (no entity loaded)."""
        return self.s.execute(
            select(stores.c.webhook_secret).where(stores.c.id == store_id)
        ).scalar()


@dataclass(slots=True)
class InboxRow:
    """A delivery as read from the inbox (a plain record, not a mapped entity)."""

    id: int
    store_id: str
    source: str
    topic: str
    event_id: str | None
    digest: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: str
    error: str | None
    attempts: int
    duplicates: int

    @classmethod
    def of(cls, row: Any) -> InboxRow:
        return cls(**{f: getattr(row, f) for f in cls.__dataclass_fields__})


_INBOX_INSERT = {
    "postgresql": pg_insert(inbox).on_conflict_do_nothing().returning(inbox.c.id),
    "sqlite": sqlite_insert(inbox).on_conflict_do_nothing().returning(inbox.c.id),
}


class SqlInbox:
    def __init__(self, session: Session) -> None:
        self.s = session

    def find_duplicate(
        self, *, store_id: str, source: str, topic: str, event_id: str | None, digest: str
    ) -> int | None:
        """The kept delivery this one repeats: the same event id or the same bytes, both
        under the same topic (``topic`` as :meth:`add` stored it)."""
        # Two lookups, each on its own unique index: an ``OR`` of both is planned as a scan
        # of the store's whole inbox by PostgreSQL while its statistics are stale.
        mine = (inbox.c.store_id == store_id, inbox.c.source == source, inbox.c.topic == topic)
        if event_id is not None:
            found = self.s.execute(
                select(inbox.c.id).where(*mine, inbox.c.event_id == event_id).limit(1)
            ).scalar()
            if found is not None:
                return int(found)
        found = self.s.execute(
            select(inbox.c.id).where(*mine, inbox.c.digest == digest).limit(1)
        ).scalar()
        return None if found is None else int(found)

    def add(
        self,
        *,
        store_id: str,
        source: str,
        topic: str,
        event_id: str | None,
        digest: str,
        headers: dict[str, str],
        body: bytes,
        received_at: datetime,
        status: str,
        error: str | None,
    ) -> int | None:
        """The new row's id, or ``None`` when a unique index says it is a duplicate.

        ``ON CONFLICT DO NOTHING`` without a target covers both unique indexes (the digest
        and the partial one on the event id) and needs no savepoint.
        """
        dialect = self.s.get_bind().dialect.name
        statement = _INBOX_INSERT[dialect if dialect in _INBOX_INSERT else "sqlite"]
        found = self.s.execute(
            statement,
            {
                "store_id": store_id,
                "source": source,
                "topic": topic[:64],
                "event_id": event_id,
                "digest": digest,
                "headers": headers,
                "body": body,
                "received_at": received_at,
                "status": status,
                "error": error,
                "attempts": 0,
                "duplicates": 0,
            },
        ).scalar()
        return None if found is None else int(found)

    def count_duplicate(self, delivery_id: int) -> None:
        self.s.execute(
            update(inbox).where(inbox.c.id == delivery_id).values(duplicates=inbox.c.duplicates + 1)
        )

    def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[int]:
        """Take up to ``limit`` received deliveries, oldest first, for this worker alone."""
        pick = (
            select(inbox.c.id).where(inbox.c.status == "received").order_by(inbox.c.id).limit(limit)
        )
        ids = self.s.execute(
            claim_update(self.s, inbox, pick, inbox.c.status == "received")
            .values(status="processing", lease_until=lease_until, attempts=inbox.c.attempts + 1)
            .returning(inbox.c.id)
        ).scalars()
        return sorted(ids)

    def get(self, delivery_id: int) -> InboxRow | None:
        row = self.s.execute(select(inbox).where(inbox.c.id == delivery_id)).first()
        return None if row is None else InboxRow.of(row)

    def finish(self, delivery_id: int, *, status: str, error: str | None, now: datetime) -> None:
        self.s.execute(
            update(inbox)
            .where(inbox.c.id == delivery_id)
            .values(status=status, error=error, processed_at=now, lease_until=None)
        )

    def release_expired(self, *, now: datetime) -> int:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(inbox)
            .where(inbox.c.status == "processing", inbox.c.lease_until < now)
            .values(status="received", lease_until=None)
        )
        return res.rowcount

    def requeue(
        self, *, store_id: str | None, statuses: Sequence[str], ids: Sequence[int] | None
    ) -> int:
        cond: list[ColumnElement[bool]] = [inbox.c.status.in_(list(statuses))]
        if store_id is not None:
            cond.append(inbox.c.store_id == store_id)
        if ids:
            cond.append(inbox.c.id.in_(list(ids)))
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(inbox).where(and_(*cond)).values(status="received", error=None, lease_until=None)
        )
        return res.rowcount

    def list(
        self, *, store_id: str | None, statuses: Sequence[str], limit: int
    ) -> Sequence[InboxRow]:
        q = select(inbox).where(inbox.c.status.in_(list(statuses)))
        if store_id is not None:
            q = q.where(inbox.c.store_id == store_id)
        return [InboxRow.of(r) for r in self.s.execute(q.order_by(inbox.c.id.desc()).limit(limit))]

    def counts(self) -> dict[str, int]:
        rows = self.s.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status))
        return {status: int(n) for status, n in rows}

    def count_noted(self, prefix: str, *, store_id: str | None = None) -> int:
        q = select(func.count()).where(inbox.c.error.startswith(prefix, autoescape=True))
        if store_id is not None:
            q = q.where(inbox.c.store_id == store_id)
        return int(self.s.execute(q).scalar() or 0)


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


class SqlCases:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._events: list[dict[str, object]] = []  # written together: see write_events

    def get_many(self, case_ids: Sequence[int], *, lock: bool = False) -> dict[int, Case]:
        """The cases of ``case_ids`` that exist, by id, in one query (locked in id order on
        PostgreSQL, the order every writer takes them in)."""
        if not case_ids:
            return {}
        q = select(Case).where(cases.c.id.in_(sorted(set(case_ids)))).order_by(cases.c.id)
        if lock and self.s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update().execution_options(populate_existing=True)
        return {c.id: c for c in self.s.scalars(q) if c.id is not None}

    def get(self, case_id: int, *, store_id: str | None = None, lock: bool = False) -> Case | None:
        # The lock orders a worker about to send against a payment resolving the same case.
        pg = lock and self.s.get_bind().dialect.name == "postgresql"
        case = self.s.get(Case, case_id, with_for_update=pg or None)
        if case is None or (store_id is not None and case.store_id != store_id):
            return None
        return case

    def by_subject(self, store_id: str, kind: str, subject_id: str) -> Case | None:
        return self.s.scalars(
            select(Case).where(
                cases.c.store_id == store_id,
                cases.c.kind == kind,
                cases.c.subject_id == subject_id,
            )
        ).first()

    def add(self, case: Case) -> None:
        self.s.add(case)
        self.s.flush()

    def _open(self, store_id: str, cond: Any) -> Sequence[Case]:
        return self.s.scalars(
            select(Case)
            .where(cases.c.store_id == store_id, cases.c.status == CaseStatus.OPEN, cond)
            .order_by(cases.c.id)
        ).all()

    def open_for_customer(self, store_id: str, customer_key: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.customer_key == customer_key)

    def open_for_order(self, store_id: str, order_external_id: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.order_external_id == order_external_id)

    def open_for_checkout(self, store_id: str, checkout_external_id: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.checkout_external_id == checkout_external_id)

    def open_for_intent(self, store_id: str, intent_id: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.intent_id == intent_id)

    def exists_for_checkout(self, store_id: str, kind: str, checkout_external_id: str) -> bool:
        q = select(cases.c.id).where(
            cases.c.store_id == store_id,
            cases.c.checkout_external_id == checkout_external_id,
            cases.c.kind == kind,
        )
        return self.s.execute(q.limit(1)).first() is not None

    def expired_open(self, *, now: datetime, limit: int) -> Sequence[Case]:
        """Open cases whose ``expires_at`` has passed, oldest first."""
        return self.s.scalars(
            select(Case)
            .where(cases.c.status == CaseStatus.OPEN, cases.c.expires_at <= now)
            .order_by(cases.c.expires_at)
            .limit(limit)
        ).all()

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
        q = select(Case).where(cases.c.store_id == store_id)
        if status is not None:
            q = q.where(cases.c.status == status)
        if kind is not None:
            q = q.where(cases.c.kind == kind)
        if since is not None:
            q = q.where(cases.c.created_at >= since)
        if after_id is not None:
            q = q.where(cases.c.id < after_id)
        return self.s.scalars(q.order_by(cases.c.id.desc()).limit(limit)).all()

    def add_event(self, case_id: int, *, at: datetime, type: str, data: dict[str, object]) -> None:
        """Kept until the transaction commits or reads events: one multi-row INSERT then."""
        self._events.append({"case_id": case_id, "at": at, "type": type, "data": data})

    def write_events(self) -> None:
        """Insert the events added so far (called by the unit of work before it commits and
        before a raw read, and by :meth:`events`)."""
        if self._events:
            pending, self._events = self._events, []
            self.s.execute(
                insert(case_events).execution_options(**many_rows(self.s, case_events)), pending
            )

    def discard_events(self) -> None:
        """Forget the events added since the last write (their transaction rolled back)."""
        self._events = []

    def events(self, case_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]:
        self.write_events()
        rows = self.s.execute(
            select(case_events.c.at, case_events.c.type, case_events.c.data)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        return [(r.at, r.type, r.data) for r in rows]
