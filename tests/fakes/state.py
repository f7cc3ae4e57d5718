"""The in-memory database behind the fake unit of work: its tables, and how a transaction's
working copy is taken from the committed state, written back, or rolled back in place.

A table is a dict (key -> row). A row is either an entity the services change in place
(a non-frozen dataclass: ``Case``, ``ScheduledStep``, the fake's own mutable rows) or an
immutable value (a frozen dataclass, a tuple). Each transaction works on clones of the
committed entities, so what a use case returns is detached when its ``with uow:`` ends, as
with the SQL unit of work (``expunge_all``); a rollback restores the working entities in
place, so the objects a service holds keep their identity, as SQLAlchemy's do.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import orjson

from reclaim.domain.alternatives import Product
from reclaim.domain.audit import AuditEntry
from reclaim.domain.cases import Case, CaseReason
from reclaim.domain.experiments import Experiment
from reclaim.domain.facts import Checkout, Order, PaymentAttempt
from reclaim.domain.fulfilment import Lane
from reclaim.domain.holds import Hold
from reclaim.domain.shipments import Shipment
from reclaim.domain.steps import Coupon, MessageRecord, ScheduledStep
from reclaim.domain.stores import ApiKey, Store
from reclaim.domain.users import ConsoleSession, User
from reclaim.services.ports import TemplateVersion, WarehouseRow

T = TypeVar("T")


class UniqueViolation(Exception):
    """A write the database's unique constraint would refuse (SQLAlchemy's IntegrityError)."""


def json_round_trip(value: Any) -> Any:
    """``value`` as a JSON column gives it back (the SQL engine serialises with orjson)."""
    return orjson.loads(orjson.dumps(value))


@dataclass(slots=True)
class FakeDelivery:
    """An inbox row (the ``Delivery`` port); :meth:`FakeInbox.get` hands out copies."""

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
    attempts: int = 0
    duplicates: int = 0
    lease_until: datetime | None = None
    processed_at: datetime | None = None


@dataclass(slots=True)
class FlowRow:
    id: int
    store_id: str
    kind: str
    version: int
    name: str
    source: str
    definition: dict[str, Any]
    created_at: datetime
    active: bool


@dataclass(frozen=True, slots=True)
class EventRow:
    """A case's or a message's event (``owner`` is the case or message id)."""

    id: int
    owner: int
    store_id: str | None
    at: datetime
    type: str
    data: Any


@dataclass(frozen=True, slots=True)
class SuppressionRow:
    id: int
    reason: str
    created_at: datetime
    message_id: int | None


@dataclass(frozen=True, slots=True)
class TemplateRow:
    compiled: dict[str, Any]
    updated_at: datetime


@dataclass(slots=True)
class AlertRow:
    id: int
    store_id: str
    at: datetime
    type: str
    data: Any
    notified_at: datetime | None = None


@dataclass(slots=True)
class LevelRow:
    on_hand: int
    reserved: int
    updated_at: datetime


@dataclass(slots=True)
class ProductRow:
    """A product's catalogue half and its shipping weight (one row, as in SQL)."""

    updated_at: datetime
    product: Product | None = None
    weight_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LaneRow:
    lane: Lane
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScanRow:
    id: int
    store_id: str
    shipment_external_id: str
    status: str
    location: str  # "" for none, as stored
    occurred_at: datetime


@dataclass(slots=True)
class ActionRow:
    id: int
    store_id: str
    action: str
    order_external_id: str
    status: str
    attempts: int
    due_at: datetime
    created_at: datetime
    first_attempt_at: datetime | None = None
    error: str | None = None
    done_at: datetime | None = None


@dataclass(slots=True)
class Tables:
    """Every table, keyed as its primary key (or unique key) in SQL."""

    stores: dict[str, Store] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    inbox: dict[int, FakeDelivery] = field(default_factory=dict)
    checkouts: dict[int, Checkout] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    payments: dict[int, PaymentAttempt] = field(default_factory=dict)
    shipments: dict[int, Shipment] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)
    case_events: dict[int, EventRow] = field(default_factory=dict)
    # (case_id, reason, source) -> (id, the reason)
    case_reasons: dict[tuple[int, str, str], tuple[int, CaseReason]] = field(default_factory=dict)
    flows: dict[int, FlowRow] = field(default_factory=dict)
    steps: dict[int, ScheduledStep] = field(default_factory=dict)
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    message_events: dict[int, EventRow] = field(default_factory=dict)
    # (store_id, channel, address_key)
    suppressions: dict[tuple[str, str, str], SuppressionRow] = field(default_factory=dict)
    coupons: dict[int, Coupon] = field(default_factory=dict)
    # (store_id, key, channel, locale)
    templates: dict[tuple[str, str, str, str], TemplateRow] = field(default_factory=dict)
    template_versions: dict[int, TemplateVersion] = field(default_factory=dict)
    alerts: dict[int, AlertRow] = field(default_factory=dict)
    warehouses: dict[tuple[str, str], WarehouseRow] = field(default_factory=dict)
    levels: dict[tuple[str, str, str], LevelRow] = field(default_factory=dict)  # store, wh, sku
    products: dict[tuple[str, str], ProductRow] = field(default_factory=dict)
    lanes: dict[tuple[str, str], LaneRow] = field(default_factory=dict)  # store, lane_key
    holds: dict[int, Hold] = field(default_factory=dict)
    scans: dict[int, ScanRow] = field(default_factory=dict)
    platform_actions: dict[int, ActionRow] = field(default_factory=dict)
    report_sends: dict[str, str] = field(default_factory=dict)  # meta's "report:" rows
    meta: dict[str, str] = field(default_factory=dict)  # key -> value (Reclaim's own)
    experiments: dict[int, Experiment] = field(default_factory=dict)
    audit_log: dict[int, AuditEntry] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    console_sessions: dict[str, ConsoleSession] = field(default_factory=dict)

    def names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def table(self, name: str) -> dict[Any, Any]:
        found: dict[Any, Any] = getattr(self, name)
        return found


def _mutable(value: object) -> bool:
    return (
        dataclasses.is_dataclass(value)
        and not isinstance(value, type)
        and not type(value).__dataclass_params__.frozen  # type: ignore[attr-defined]
    )


def _value(value: T) -> T:
    """A field's value as a fresh read would give it: containers copied, the rest shared
    (immutable: str, Decimal, datetime, tuples of frozen dataclasses)."""
    if isinstance(value, list | dict | set | bytearray):
        return copy.deepcopy(value)
    return value


def clone_row(row: T) -> T:
    """A row as another transaction reads it: a new entity with equal fields (built by its
    class, so a class that SQLAlchemy has mapped gets a proper transient instance)."""
    if not _mutable(row):
        return row
    fields = dataclasses.fields(row)  # type: ignore[arg-type]
    made = type(row)(**{f.name: _value(getattr(row, f.name)) for f in fields if f.init})
    for f in fields:
        if not f.init:
            setattr(made, f.name, _value(getattr(row, f.name)))
    return made


def clone_tables(tables: Tables) -> Tables:
    made = Tables()
    for name in tables.names():
        made.table(name).update({k: clone_row(v) for k, v in tables.table(name).items()})
    return made


def restore_tables(working: Tables, source: Tables) -> None:
    """Make ``working`` equal to ``source`` in place: an entity present in both keeps its
    identity and takes ``source``'s fields; rows ``source`` lacks are dropped."""
    for name in working.names():
        mine, theirs = working.table(name), source.table(name)
        restored: dict[Any, Any] = {}
        for key, row in theirs.items():
            held = mine.get(key)
            if held is not None and held is not row and _mutable(row) and type(held) is type(row):
                for f in dataclasses.fields(row):
                    setattr(held, f.name, _value(getattr(row, f.name)))
                restored[key] = held
            else:
                restored[key] = clone_row(row)
        mine.clear()
        mine.update(restored)
