"""The ports services talk through. Adapters implement them; bootstrap wires them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from reclaim.domain.alternatives import Product
from reclaim.domain.cases import Case
from reclaim.domain.events import ParsedDelivery
from reclaim.domain.facts import Checkout, Order, PaymentAttempt
from reclaim.domain.flows import Flow
from reclaim.domain.fulfilment import Lane
from reclaim.domain.holds import Hold, HoldLine
from reclaim.domain.logistics import Scan
from reclaim.domain.messages import (
    Channel,
    MessageContext,
    OutgoingEmail,
    OutgoingSms,
    OutgoingWebhook,
    Rendered,
    SendResult,
)
from reclaim.domain.shipments import Shipment
from reclaim.domain.steps import Coupon, MessageRecord, ScheduledStep
from reclaim.domain.stores import ApiKey, Store, StoreSettings


class PlatformConnector(Protocol):
    """Understands one platform's webhooks.

    ``verify`` raises :class:`reclaim.errors.SignatureError`; ``parse`` raises
    :class:`reclaim.errors.MalformedPayload` with a reason a person can act on. Both are pure:
    no I/O, time passed in.
    """

    source: str

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> None: ...

    def topic(self, headers: Mapping[str, str]) -> str: ...

    def event_id(self, headers: Mapping[str, str]) -> str | None: ...

    def shop(self, headers: Mapping[str, str]) -> str | None:
        """The platform's name for the shop a delivery comes from, where the platform signs
        every shop's deliveries with one app secret (Shopify); else ``None``."""
        ...

    def parse(self, *, topic: str, headers: Mapping[str, str], body: bytes) -> ParsedDelivery: ...


class Delivery(Protocol):
    """A raw delivery kept in the inbox."""

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


class StoreRepository(Protocol):
    def add(self, store: Store) -> None: ...
    def get(self, store_id: str) -> Store | None: ...
    def by_name(self, name: str) -> Store | None: ...
    def list(self) -> Sequence[Store]: ...
    def add_key(self, key: ApiKey) -> None: ...
    def key_by_prefix(self, prefix: str) -> ApiKey | None: ...
    def keys_of(self, store_id: str) -> Sequence[ApiKey]: ...
    def revoke_key(self, prefix: str, *, now: datetime) -> bool: ...
    def webhook_secret(self, store_id: str) -> str | None: ...
    def settings_of(self, store_id: str) -> StoreSettings | None: ...


class InboxRepository(Protocol):
    def find_duplicate(
        self, *, store_id: str, source: str, topic: str, event_id: str | None, digest: str
    ) -> int | None: ...
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
    ) -> int | None: ...
    def count_duplicate(self, delivery_id: int) -> None: ...
    def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[int]: ...
    def get(self, delivery_id: int) -> Delivery | None: ...
    def finish(
        self, delivery_id: int, *, status: str, error: str | None, now: datetime
    ) -> None: ...
    def release_expired(self, *, now: datetime) -> int: ...
    def requeue(
        self, *, store_id: str | None, statuses: Sequence[str], ids: Sequence[int] | None
    ) -> int: ...
    def list(
        self, *, store_id: str | None, statuses: Sequence[str], limit: int
    ) -> Sequence[Delivery]: ...
    def counts(self) -> dict[str, int]: ...
    def count_noted(self, prefix: str, *, store_id: str | None = None) -> int:
        """Deliveries whose note (``error``) starts with ``prefix``."""
        ...


class FactRepository(Protocol):
    def checkout(self, store_id: str, external_id: str, *, lock: bool) -> Checkout | None: ...
    def checkouts_many(self, store_id: str, external_ids: Sequence[str]) -> dict[str, Checkout]: ...
    def order(self, store_id: str, external_id: str, *, lock: bool) -> Order | None: ...
    def orders_many(self, store_id: str, external_ids: Sequence[str]) -> dict[str, Order]: ...
    def payment(self, store_id: str, external_id: str, *, lock: bool) -> PaymentAttempt | None: ...
    def shipment(self, store_id: str, external_id: str, *, lock: bool) -> Shipment | None: ...
    def add(self, fact: Checkout | Order | PaymentAttempt | Shipment) -> None: ...
    def flush(self) -> None: ...

    def due_checkouts(self, *, now: datetime, limit: int) -> Sequence[Checkout]: ...
    def due_orders(self, *, now: datetime, limit: int) -> Sequence[Order]: ...
    def due_payments(self, *, now: datetime, limit: int) -> Sequence[PaymentAttempt]: ...

    def active_checkouts_of(self, store_id: str, customer_key: str) -> Sequence[Checkout]: ...
    def paid_orders_of(
        self, store_id: str, customer_key: str, *, since: datetime
    ) -> Sequence[Order]: ...
    def order_succeeded_payment(self, store_id: str, order_external_id: str) -> bool: ...
    def unlinked_payments_of(
        self, store_id: str, customer_key: str, *, since: datetime
    ) -> Sequence[PaymentAttempt]: ...
    def intent_succeeded(self, store_id: str, intent_id: str) -> bool: ...
    def order_by_checkout(self, store_id: str, checkout_external_id: str) -> Order | None: ...


class CaseRepository(Protocol):
    def get(
        self, case_id: int, *, store_id: str | None = None, lock: bool = False
    ) -> Case | None: ...
    def get_many(self, case_ids: Sequence[int], *, lock: bool = False) -> dict[int, Case]: ...
    def by_subject(self, store_id: str, kind: str, subject_id: str) -> Case | None: ...
    def add(self, case: Case) -> None: ...
    def open_for_customer(self, store_id: str, customer_key: str) -> Sequence[Case]: ...
    def open_for_order(self, store_id: str, order_external_id: str) -> Sequence[Case]: ...
    def open_for_checkout(self, store_id: str, checkout_external_id: str) -> Sequence[Case]: ...
    def open_for_intent(self, store_id: str, intent_id: str) -> Sequence[Case]: ...
    def exists_for_checkout(self, store_id: str, kind: str, checkout_external_id: str) -> bool: ...
    def expired_open(self, *, now: datetime, limit: int) -> Sequence[Case]: ...
    def page(
        self,
        *,
        store_id: str,
        status: str | None,
        kind: str | None,
        since: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> Sequence[Case]: ...
    def add_event(
        self, case_id: int, *, at: datetime, type: str, data: dict[str, object]
    ) -> None: ...
    def events(self, case_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]: ...


@dataclass(frozen=True, slots=True)
class FlowVersion:
    id: int
    store_id: str
    kind: str
    version: int
    source: str
    flow: Flow
    created_at: datetime
    active: bool


class FlowRepository(Protocol):
    def get(self, flow_id: int) -> FlowVersion | None: ...
    def active(self, store_id: str, kind: str) -> FlowVersion | None: ...
    def list(self, store_id: str) -> Sequence[FlowVersion]: ...
    def add(
        self,
        *,
        store_id: str,
        kind: str,
        name: str,
        source: str,
        definition: dict[str, object],
        now: datetime,
    ) -> int: ...


class StepRepository(Protocol):
    def add(self, step: ScheduledStep) -> None: ...
    def get(self, step_id: int, *, lock: bool = False) -> ScheduledStep | None: ...
    def get_many(
        self, step_ids: Sequence[int], *, lock: bool = False
    ) -> dict[int, ScheduledStep]: ...
    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> Sequence[int]: ...
    def expired(self, *, now: datetime, limit: int) -> Sequence[ScheduledStep]: ...
    def for_case(self, case_id: int) -> Sequence[ScheduledStep]: ...
    def for_cases(self, case_ids: Sequence[int]) -> Sequence[ScheduledStep]: ...
    def cancel_pending(self, case_id: int, *, now: datetime, outcome: str) -> int: ...
    def counts(self, store_id: str | None = None) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class SentMark:
    """A message the channel took: recorded at once, before the group's record."""

    message_id: int
    at: datetime
    provider_id: str | None
    segments: int | None


class MessageRepository(Protocol):
    def add(self, message: MessageRecord) -> None: ...
    def add_many(self, records: Sequence[MessageRecord]) -> None: ...
    def get(self, message_id: int) -> MessageRecord | None: ...
    def get_many(self, message_ids: Sequence[int]) -> dict[int, MessageRecord]: ...
    def hand_over(
        self, message_id: int, *, sent: SentMark | None = None, subject: str | None = None
    ) -> bool: ...
    def call_back(self, case_id: int) -> int:
        """Mark the case's ``queued`` messages ``cancelled`` (its flow stopped before they
        were handed to the channel); how many."""
        ...

    def by_step(self, step_id: int) -> MessageRecord | None: ...
    def by_steps(self, step_ids: Sequence[int]) -> dict[int, MessageRecord]: ...
    def last_sent_many(
        self, customers: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], datetime]: ...
    def for_case(self, case_id: int) -> Sequence[MessageRecord]: ...
    def by_header(self, store_id: str, header_id: str) -> MessageRecord | None: ...
    def last_to_address(self, store_id: str, customer_key: str) -> MessageRecord | None: ...
    def last_sent_to(self, store_id: str, customer_key: str) -> datetime | None: ...
    def add_event(
        self, message_id: int, *, store_id: str, type: str, at: datetime, data: dict[str, object]
    ) -> None: ...
    def events(self, message_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]: ...
    def sent_count(self, store_id: str, *, since: datetime) -> int: ...
    def event_count(self, store_id: str, type: str, *, since: datetime) -> int: ...


class SuppressionRepository(Protocol):
    def add(
        self,
        *,
        store_id: str,
        channel: str,
        address_key: str,
        reason: str,
        at: datetime,
        message_id: int | None,
    ) -> bool: ...
    def reason(self, store_id: str, channel: str, address_key: str) -> str | None: ...
    def entry(
        self, store_id: str, channel: str, address_key: str
    ) -> tuple[str, datetime] | None: ...
    def remove(self, store_id: str, channel: str, address_key: str) -> bool: ...
    def add_many(
        self, *, store_id: str, channel: str, address_keys: Sequence[str], reason: str, at: datetime
    ) -> int: ...
    def suppressed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]: ...
    def count(self, store_id: str) -> dict[str, int]: ...


class CouponRepository(Protocol):
    def add(self, coupon: Coupon) -> bool: ...
    def for_case(self, case_id: int) -> Sequence[Coupon]: ...
    def by_code(self, store_id: str, code: str) -> Coupon | None: ...
    def by_platform_ref(self, store_id: str, ref: str) -> Coupon | None: ...
    def get_many(self, ids: Sequence[int]) -> dict[int, Coupon]: ...
    def listed(
        self,
        store_id: str,
        *,
        push_state: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        after_id: int = 0,
    ) -> Sequence[Coupon]: ...


class TemplateRepository(Protocol):
    def get(self, store_id: str, key: str, channel: str, locale: str) -> dict[str, Any] | None: ...
    def put(
        self,
        *,
        store_id: str,
        key: str,
        channel: str,
        locale: str,
        compiled: dict[str, Any],
        now: datetime,
    ) -> None: ...
    def delete(self, *, store_id: str, key: str, channel: str, locale: str) -> bool: ...


class AlertRepository(Protocol):
    def add(self, *, store_id: str, at: datetime, type: str, data: dict[str, object]) -> None: ...
    def last(self, store_id: str, type: str) -> datetime | None: ...
    def recent(self, store_id: str, limit: int = 50) -> Sequence[tuple[datetime, str, Any]]: ...
    def unnotified(self, limit: int = 50) -> Sequence[tuple[int, str, datetime, str, Any]]: ...
    def claim_notice(self, alert_id: int, at: datetime) -> bool: ...
    def release_notice(self, alert_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class WarehouseRow:
    store_id: str
    code: str
    country: str
    region: str | None
    timezone: str
    cutoff: str  # "HH:MM" local
    working_days: str  # ISO weekdays, e.g. "12345"


@dataclass(frozen=True, slots=True)
class StockLevel:
    warehouse: str
    sku: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


class StockRepository(Protocol):
    def put_warehouse(self, row: WarehouseRow, *, now: datetime) -> None: ...
    def warehouses(self, store_id: str) -> Sequence[WarehouseRow]: ...
    def set_level(
        self, store_id: str, warehouse: str, sku: str, on_hand: int, *, now: datetime
    ) -> None: ...
    def add_delta(
        self, store_id: str, warehouse: str, sku: str, delta: int, *, now: datetime
    ) -> bool: ...
    def levels(self, store_id: str, skus: Sequence[str] | None = None) -> Sequence[StockLevel]: ...
    def reserve(self, store_id: str, line: HoldLine, *, now: datetime) -> bool: ...
    def unreserve(self, store_id: str, line: HoldLine, *, consume: bool, now: datetime) -> None: ...
    def put_lane(self, store_id: str, lane: Lane, *, now: datetime) -> None: ...
    def lanes(self, store_id: str) -> Sequence[Lane]: ...
    def put_weight(self, store_id: str, sku: str, weight_kg: Decimal, *, now: datetime) -> None: ...
    def weights(self, store_id: str, skus: Sequence[str]) -> dict[str, Decimal]: ...
    def put_product(self, store_id: str, product: Product, *, now: datetime) -> None: ...
    def products(self, store_id: str, skus: Sequence[str]) -> dict[str, Product]: ...
    def in_stock_alike(
        self,
        store_id: str,
        *,
        category: str,
        currency: str,
        near: Decimal,
        exclude: Sequence[str],
        limit: int,
    ) -> Sequence[tuple[Product, int]]:
        """Named, priced products of ``category`` in ``currency`` with units available (the
        sum over warehouses, returned with each), not in ``exclude``; the ``limit`` nearest in
        price to ``near``, ties to the cheaper, then by SKU."""
        ...

    def hold(self, store_id: str, order_external_id: str, *, lock: bool = False) -> Hold | None: ...
    def add_hold(self, hold: Hold) -> int | None: ...
    def shorten(self, hold_id: int, short: Sequence[str]) -> None: ...
    def expired_holds(self, *, now: datetime, limit: int) -> Sequence[Hold]: ...


class LogisticsRepository(Protocol):
    """Shipment scans and the shipments the logistics sweep looks at (SPEC S9)."""

    def add_scan(
        self,
        store_id: str,
        shipment_external_id: str,
        *,
        status: str,
        location: str | None,
        occurred_at: datetime,
    ) -> bool: ...
    def scans(self, store_id: str, shipment_external_id: str) -> Sequence[Scan]: ...
    def active_shipments(self, *, after_id: int, limit: int) -> Sequence[Shipment]: ...
    def delivered_shipments(self, store_id: str, *, since: datetime) -> Sequence[Shipment]: ...


@dataclass(frozen=True, slots=True)
class PlatformAction:
    id: int
    store_id: str
    action: str  # cancel_order
    order_external_id: str
    attempts: int
    first_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActionState:
    """Where one of an order's platform actions stands."""

    action: str  # cancel_order
    status: str  # pending | done | failed | skipped
    error: str | None
    due_at: datetime  # pending: when it is (next) tried


class PlatformActionRepository(Protocol):
    def add(self, *, store_id: str, action: str, order_external_id: str, now: datetime) -> bool: ...
    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[PlatformAction]: ...
    def finish(
        self,
        action_id: int,
        *,
        status: str,
        error: str | None,
        now: datetime,
        retry_at: datetime | None,
    ) -> None: ...
    def for_order(self, store_id: str, order_external_id: str) -> Sequence[ActionState]: ...


class PlatformClient(Protocol):
    """Calls a store's platform (adapters/platforms/actions.py); raises ``DeliveryError``."""

    def cancel_order(self, store: Store, order_external_id: str, *, now: datetime) -> None: ...
    def create_coupon(self, store: Store, coupon: Coupon, *, now: datetime) -> str | None:
        """Create ``coupon`` on the store's platform; its id there (None where the platform
        gives none). Raises ``DeliveryError``: ``permanent`` with ``code=None`` when the store
        has no connector for it (the coupon is left to the merchant to import)."""
        ...

    def close(self) -> None: ...


class Renderer(Protocol):
    """Turns a message context into text (adapters/templates)."""

    def render(
        self, *, key: str, channel: Channel, context: MessageContext, store_id: str | None = None
    ) -> Rendered: ...


class Senders(Protocol):
    """The configured channels (adapters/channels). Each raises ``DeliveryError``.

    One ``Senders`` belongs to one worker thread: it may hold an open SMTP connection.
    """

    def available(self, channel: Channel) -> bool: ...
    def send_email(self, email: OutgoingEmail, *, now: datetime) -> SendResult: ...
    def send_sms(self, sms: OutgoingSms) -> SendResult: ...
    def send_webhook(self, hook: OutgoingWebhook, *, now: datetime) -> SendResult: ...
    def close(self) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. ``with uow:`` begins; leaving without ``commit()`` rolls back."""

    stores: StoreRepository
    inbox: InboxRepository
    facts: FactRepository
    cases: CaseRepository
    flows: FlowRepository
    steps: StepRepository
    messages: MessageRepository
    suppressions: SuppressionRepository
    coupons: CouponRepository
    templates: TemplateRepository
    alerts: AlertRepository
    stock: StockRepository
    platform_actions: PlatformActionRepository
    logistics: LogisticsRepository
    # Whether ``lock=True`` reads lock rows (PostgreSQL). False where every write
    # transaction holds the whole database's one write lock from its start (SQLite).
    row_locks: bool

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def savepoint(self) -> AbstractContextManager[object]:
        """A nested transaction: leaving it by an exception undoes only what it did."""
        ...
