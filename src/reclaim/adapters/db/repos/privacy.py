"""SQLAlchemy repository of one customer's data (SPEC S13): every row about them, to hand
over (access) or delete (erasure), the raw deliveries that mention them, rewritten without
them; and what the database keeps of deleted rows, cleared after an erasure
(:func:`compact`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Select,
    Table,
    Text,
    cast,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from reclaim.adapters.db.dialect import is_postgres
from reclaim.adapters.db.erasure_key import ErasureKey
from reclaim.adapters.db.tables import (
    case_events,
    case_reasons,
    cases,
    checkouts,
    coupons,
    inbox,
    message_events,
    messages,
    orders,
    payment_attempts,
    shipment_scans,
    shipments,
    steps,
)
from reclaim.domain.audit import plain
from reclaim.domain.privacy import keyed_hash
from reclaim.errors import ConfigError
from reclaim.services.ports import CUSTOMER_TABLES


@dataclass(slots=True)
class KeptDelivery:
    """A kept delivery that mentions the customer (a plain record)."""

    id: int
    store_id: str
    source: str
    topic: str
    event_id: str | None
    body: bytes
    headers: dict[str, str]
    received_at: datetime
    status: str
    error: str | None
    attempts: int

    @classmethod
    def of(cls, row: Any) -> KeptDelivery:
        return cls(**{f: getattr(row, f) for f in cls.__dataclass_fields__})


def _escaped(value: str) -> str:
    """``value``'s UTF-8 bytes as PostgreSQL's ``encode(…, 'escape')`` writes them."""
    out = []
    for b in value.encode("utf-8"):
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    return "".join(out)


def _theirs(store_id: str, email: str) -> dict[str, ColumnElement[bool]]:
    """Each table's condition for the customer's rows (as subqueries of one another: the
    children are found, and deleted, before the rows they hang on)."""

    def person(table: Table) -> ColumnElement[bool]:
        return (table.c.store_id == store_id) & or_(
            table.c.customer_key == email, func.lower(table.c.email) == email
        )

    case_ids = select(cases.c.id).where(person(cases))
    message_ids = select(messages.c.id).where(
        (messages.c.store_id == store_id)
        & or_(messages.c.case_id.in_(case_ids), messages.c.customer_key == email)
    )
    order_ids = select(orders.c.external_id).where(person(orders))
    shipment_ids = select(shipments.c.external_id).where(
        (shipments.c.store_id == store_id) & shipments.c.order_external_id.in_(order_ids)
    )
    return {
        "message_events": message_events.c.message_id.in_(message_ids),
        "messages": messages.c.id.in_(message_ids),
        "steps": steps.c.case_id.in_(case_ids),
        "coupons": coupons.c.case_id.in_(case_ids),
        "case_events": case_events.c.case_id.in_(case_ids),
        "case_reasons": case_reasons.c.case_id.in_(case_ids),
        "cases": person(cases),
        "shipment_scans": (shipment_scans.c.store_id == store_id)
        & shipment_scans.c.shipment_external_id.in_(shipment_ids),
        "shipments": (shipments.c.store_id == store_id)
        & shipments.c.order_external_id.in_(order_ids),
        "payment_attempts": person(payment_attempts),
        "orders": person(orders),
        "checkouts": person(checkouts),
    }


_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        message_events,
        messages,
        steps,
        coupons,
        case_events,
        case_reasons,
        cases,
        shipment_scans,
        shipments,
        payment_attempts,
        orders,
        checkouts,
    )
}
assert tuple(_TABLES) == CUSTOMER_TABLES


class SqlPrivacy:
    def __init__(self, session: Session, key: ErasureKey | None = None) -> None:
        self.s = session
        self._key = key if key is not None else ErasureKey()

    def rows_about(self, store_id: str, email: str) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for name, where in _theirs(store_id, email).items():
            table = _TABLES[name]
            rows = self.s.execute(select(table).where(where).order_by(table.c.id))
            found[name] = [plain(dict(row._mapping)) for row in rows]
        return found

    def forget(self, store_id: str, email: str) -> dict[str, int]:
        # What the session holds of these rows is stale once they are gone.
        self.s.flush()
        counts: dict[str, int] = {}
        for name, where in _theirs(store_id, email).items():
            done: Any = self.s.execute(delete(_TABLES[name]).where(where))
            counts[name] = int(done.rowcount or 0)
        self.s.expire_all()
        return counts

    def deliveries_mentioning(self, store_id: str, email: str) -> Sequence[KeptDelivery]:
        q: Select[Any] = select(inbox).where(inbox.c.store_id == store_id)
        if is_postgres(self.s):
            haystack = func.lower(func.encode(inbox.c.body, "escape"))
            q = q.where(func.strpos(haystack, _escaped(email)) > 0)
        else:
            q = q.where(func.instr(func.lower(cast(inbox.c.body, Text)), email) > 0)
        return [KeptDelivery.of(r) for r in self.s.execute(q.order_by(inbox.c.id))]

    def rewrite_delivery(
        self, delivery_id: int, *, body: bytes, status: str, error: str | None
    ) -> None:
        self.s.execute(
            update(inbox)
            .where(inbox.c.id == delivery_id)
            .values(body=body, status=status, error=error, lease_until=None)
        )

    def keyed(self, address_key: str) -> str:
        key = self._key.get(self.s)
        if key is None:
            raise ConfigError(
                "RECLAIM_SECRET_KEY is not set and the database has none: run `reclaim init`"
            )
        return keyed_hash(key, address_key)


def compact(engine: Engine, tables: Sequence[str]) -> None:
    """After an erasure has committed: what the database files still hold of the deleted
    rows, cleared as far as each database allows (docs/security.md, "Privacy").

    SQLite (``PRAGMA secure_delete=ON`` on every connection: freed space is zeroed as rows
    go): the write-ahead log, which holds the pages as they were, is checkpointed into the
    database file and truncated. PostgreSQL: ``VACUUM`` of the tables touched, which makes
    the dead rows' space free for reuse; it does not overwrite them at once, nor reach the
    WAL segments, replicas or backups, which keep them until they age out."""
    names = [t for t in tables if t in _TABLES or t == "inbox"]
    if engine.dialect.name == "sqlite":
        # On the driver's connection: a checkpoint cannot run inside the transaction that
        # SQLAlchemy's connection would begin first (adapters/db/engine.py).
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.close()
        return
    if not names:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM " + ", ".join(sorted(names))))
