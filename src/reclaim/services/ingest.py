"""Inbox first (SPEC S1): accept deliveries fast, then process them idempotently.

``accept_*`` run in the HTTP request: verify, validate, keep the raw bytes, answer. Nothing
else happens there: no case is opened and no message is sent in the request path.
:func:`process_inbox` (the worker) turns kept deliveries into facts and resolves cases; it can
run any number of times over the same deliveries (``reclaim inbox replay``) with one result.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from reclaim.domain.audit import Actor
from reclaim.domain.events import (
    CheckoutObserved,
    Fact,
    OrderDeleted,
    OrderObserved,
    ParsedDelivery,
    PaymentObserved,
    ShipmentObserved,
)
from reclaim.domain.facts import Checkout, Order, PaymentAttempt
from reclaim.domain.shipments import Shipment
from reclaim.domain.stores import Store, is_host_name
from reclaim.errors import Conflict, InvalidInput, MalformedPayload, NotFound, SignatureError
from reclaim.services import holds, logistics, resolution
from reclaim.services.audit import record
from reclaim.services.ports import PlatformConnector, UnitOfWork
from reclaim.services.retry import Retry, retried
from reclaim.services.test_mode import TEST_MODE, test_mode_note

log = logging.getLogger(__name__)

KEPT_HEADERS = (
    "content-type",
    "user-agent",
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-triggered-at",
    "x-shopify-api-version",
    "x-wc-webhook-topic",
    "x-wc-webhook-resource",
    "x-wc-webhook-event",
    "x-wc-webhook-delivery-id",
    "x-wc-webhook-source",
)


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to one delivery: ``status`` is accepted | duplicate | rejected."""

    status: str
    delivery_id: int | None
    error: str | None = None
    index: int | None = None


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _kept(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v[:256] for k, v in headers.items() if k.lower() in KEPT_HEADERS}


def get_store(uow: UnitOfWork, store_id: str) -> Store:
    store = uow.stores.get(store_id)
    if store is None:
        raise NotFound(f"no store {store_id[:40]!r}")
    return store


def accept_webhook(
    *,
    uow: UnitOfWork,
    connector: PlatformConnector,
    store_id: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> Accepted:
    """Verify a platform webhook and keep it. Raises ``NotFound`` / ``SignatureError``.

    A body that verifies but cannot be understood is kept as a dead letter and answered
    ``rejected`` with the reason, so the operator can see it and replay it after a fix.
    """
    with uow:
        secret = uow.stores.webhook_secret(store_id)
        if secret is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        connector.verify(headers=headers, body=body, secret=secret, now=now)
        shop = connector.shop(headers)
        if shop is not None:
            _check_shop(uow, store_id, shop)
        topic = connector.topic(headers)
        event_id = connector.event_id(headers)
        try:
            parsed = connector.parse(topic=topic, headers=headers, body=body)
        except MalformedPayload as exc:
            return _keep(uow, store_id, connector.source, topic, event_id, headers, body, now, exc)
        if parsed.topic == "ping" and not parsed.facts:
            # WooCommerce's unsigned "webhook_id=N" when a webhook is saved: answered, never
            # kept (it carries nothing), and only for a store that is on WooCommerce.
            if get_store(uow, store_id).platform != connector.source:
                raise SignatureError(f"this store does not take {connector.source} pings")
            return Accepted("ping", None)
        return _keep(
            uow,
            store_id,
            connector.source,
            parsed.topic,
            parsed.event_id or event_id,
            headers,
            body,
            now,
            None,
            ignored=not parsed.facts,
        )


def _check_shop(uow: UnitOfWork, store_id: str, shop: str) -> None:
    """Refuse a delivery signed with the right secret for another shop (one app secret signs
    every shop's webhooks); the first signed delivery names the shop when it is not set."""
    store = get_store(uow, store_id)
    known = store.settings.shop_domain
    if known is None:
        if not is_host_name(shop):
            return  # nothing to learn from; the signature was right
        store.settings_json = replace(store.settings, shop_domain=shop).to_json()
        log.info("store %s: webhooks come from shop %s (kept as its shop domain)", store_id, shop)
    elif shop != known.lower():
        raise SignatureError(f"the delivery is for shop {shop!r}; this store is {known!r}")


def accept_events(
    *,
    uow: UnitOfWork,
    connector: PlatformConnector,
    split: Callable[[bytes], list[bytes]],
    store_id: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> list[Accepted]:
    """Keep the generic API's events (one, or a batch): one inbox row and one answer each."""
    with uow:
        get_store(uow, store_id)
        try:
            events = split(body)
        except MalformedPayload as exc:
            return [_keep(uow, store_id, connector.source, "batch", None, headers, body, now, exc)]
        answers = []
        for index, raw in enumerate(events):
            try:
                parsed = connector.parse(topic="", headers=headers, body=raw)
            except MalformedPayload as exc:
                answer = _keep(
                    uow, store_id, connector.source, "event", None, headers, raw, now, exc
                )
            else:
                answer = _keep(
                    uow,
                    store_id,
                    connector.source,
                    parsed.topic,
                    parsed.event_id,
                    headers,
                    raw,
                    now,
                    None,
                    ignored=not parsed.facts,
                )
            answers.append(
                Accepted(answer.status, answer.delivery_id, error=answer.error, index=index)
            )
        return answers


def _keep(
    uow: UnitOfWork,
    store_id: str,
    source: str,
    topic: str,
    event_id: str | None,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    error: MalformedPayload | None,
    *,
    ignored: bool = False,
) -> Accepted:
    """Insert the delivery unless it is a duplicate (same event id or same bytes, under the
    same topic: one body sent under two topics is two deliveries), commit.

    The insert comes first: the inbox's unique indexes (topic and event id, topic and body
    digest) say whether it is a duplicate, so the common path is one statement and
    duplicates, which are rare, pay for the lookup of the row they repeat.
    """
    body_digest = digest(body)
    event_id = event_id[:128] if event_id else None
    topic = (topic or "unknown")[:64]  # as kept: the duplicate's look-up compares with it
    delivery_id = uow.inbox.add(
        store_id=store_id,
        source=source,
        topic=topic,
        event_id=event_id,
        digest=body_digest,
        headers=_kept(headers),
        body=body,
        received_at=now,
        status="failed" if error else ("ignored" if ignored else "received"),
        error=_stored(error) if error else None,
    )
    existing = None
    if delivery_id is None:
        existing = uow.inbox.find_duplicate(
            store_id=store_id, source=source, topic=topic, event_id=event_id, digest=body_digest
        )
    if existing is not None:
        uow.inbox.count_duplicate(existing)
        uow.commit()
        if error is not None:  # sent again as it was: the same answer, not "duplicate"
            return Accepted("rejected", existing, error=_stored(error))
        return Accepted("duplicate", existing)
    uow.commit()
    if error is not None:
        # The reason is the sender's to read (it may quote what they sent): logs get the field.
        log.info(
            "delivery %s from %s kept as dead letter (field %s)",
            delivery_id,
            source,
            error.field or "-",
        )
        return Accepted("rejected", delivery_id, error=_stored(error))
    return Accepted("accepted", delivery_id)


def _stored(error: MalformedPayload) -> str:
    """The reason as text any database keeps (no NUL, no lone surrogate)."""
    text = str(error)[:2000].replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass(slots=True)
class ProcessStats:
    processed: int = 0
    ignored: int = 0
    failed: int = 0
    test_mode: int = 0  # of the processed: tests (kept, no case), see TEST_MODE
    # Those tests by delivery id, with their note (why they opened no case, or that the
    # store accepts test mode): the worker's summary lists them.
    tests: list[tuple[int, str]] = field(default_factory=list, compare=False)

    @property
    def total(self) -> int:
        return self.processed + self.ignored + self.failed


def process_inbox(
    *,
    uow: UnitOfWork,
    connectors: Mapping[str, PlatformConnector],
    now: datetime,
    batch: int = 200,
    lease: timedelta = timedelta(minutes=5),
    retry: Retry | None = None,
) -> ProcessStats:
    """Process one batch of received deliveries, each under its own savepoint.

    A delivery that fails (malformed after a parser change, or a bug) is kept as a dead
    letter with the reason; the others in the batch still commit. The batch claimed is
    processed again while the database is away for a moment (``retry``): given up, it would
    wait for its lease.
    """
    with uow:
        ids = uow.inbox.claim(now=now, lease_until=now + lease, limit=batch)
        uow.commit()
    if not ids:
        return ProcessStats()
    return retried(retry, lambda: _process_batch(uow, connectors, ids, now, retry))


def _process_batch(
    uow: UnitOfWork,
    connectors: Mapping[str, PlatformConnector],
    ids: Sequence[int],
    now: datetime,
    retry: Retry | None,
) -> ProcessStats:
    """The claimed deliveries ``ids``, processed; one commit."""
    stats = ProcessStats()
    with uow:
        stores: dict[str, Store | None] = {}
        for delivery_id in ids:
            outcome, error = _process_one(uow, connectors, stores, delivery_id, now, retry)
            uow.inbox.finish(delivery_id, status=outcome, error=error, now=now)
            setattr(stats, outcome, getattr(stats, outcome) + 1)
            if outcome == "processed" and error is not None and error.startswith(TEST_MODE):
                stats.test_mode += 1
                stats.tests.append((delivery_id, error))
        uow.commit()
    return stats


def _process_one(
    uow: UnitOfWork,
    connectors: Mapping[str, PlatformConnector],
    stores: dict[str, Store | None],
    delivery_id: int,
    now: datetime,
    retry: Retry | None = None,
) -> tuple[str, str | None]:
    delivery = uow.inbox.get(delivery_id)
    if delivery is None:
        return "failed", "delivery vanished"
    if delivery.store_id not in stores:
        stores[delivery.store_id] = uow.stores.get(delivery.store_id)
    store = stores[delivery.store_id]
    if store is None:
        return "failed", "store no longer exists"
    connector = connectors[delivery.source]
    try:
        parsed = connector.parse(
            topic=delivery.topic,
            headers=delivery.headers,
            body=delivery.body,
            consent_meta_key=store.settings.consent_meta_key,
        )
    except MalformedPayload as exc:
        return "failed", str(exc)
    if not parsed.facts:
        return "ignored", None
    try:
        for attempt in range(2):
            try:
                with uow.savepoint():
                    apply_delivery(uow=uow, store=store, parsed=parsed, now=now)
                break
            except Conflict:  # another worker inserted the same fact first: merge into it
                if attempt:
                    raise
    except InvalidInput as exc:
        return "failed", str(exc)
    except Exception as exc:  # keep the worker alive; the delivery waits for a replay
        if retry is not None and retry.database_failed(exc):
            raise  # the database failed (away, full), not the delivery: the batch waits
        log.exception("delivery %s could not be processed", delivery_id)
        return "failed", f"internal error: {type(exc).__name__}"
    note = test_mode_note(delivery.source, parsed, accepted=store.settings.accept_test_mode)
    return "processed", note


def apply_delivery(*, uow: UnitOfWork, store: Store, parsed: ParsedDelivery, now: datetime) -> None:
    """Merge each fact into the store's picture and resolve the cases it settles."""
    for fact in parsed.facts:
        apply_fact(uow=uow, store=store, fact=fact, now=now)


def _track_stock(uow: UnitOfWork, store: Store, order: Order, now: datetime) -> None:
    """Hold a pending order's stock; allocate it when paid, release it when cancelled."""
    if order.is_paid:
        holds.settle(uow, store, order.external_id, paid=True, at=order.paid_at or now)
    elif order.is_cancelled:
        holds.settle(uow, store, order.external_id, paid=False, at=order.cancelled_at or now)
    elif not order.is_test and order.created_at >= store.activated_at:
        holds.reserve(
            uow,
            store,
            order_external_id=order.external_id,
            items=[(i.sku, i.quantity) for i in order.items],
            created_at=order.created_at,
            now=now,
        )


def apply_fact(*, uow: UnitOfWork, store: Store, fact: Fact, now: datetime) -> None:
    settings = store.settings
    if isinstance(fact, CheckoutObserved):
        checkout = uow.facts.checkout(store.id, fact.external_id, lock=True)
        if checkout is None:
            checkout = Checkout.new(store.id, fact, delay=settings.abandonment_delay)
            checkout.stored_at = now
            uow.facts.add(checkout)
        elif not checkout.observe(fact, delay=settings.abandonment_delay):
            return
        checkout.stored_at = now
        uow.facts.flush()
        resolution.after_checkout(uow=uow, store=store, checkout=checkout, now=now, observed=fact)
    elif isinstance(fact, OrderObserved):
        order = uow.facts.order(store.id, fact.external_id, lock=True)
        if order is None:
            order = Order.new(store.id, fact, delay=settings.pending_delay)
            order.stored_at = now
            uow.facts.add(order)
        elif not order.observe(fact, delay=settings.pending_delay):
            return
        order.stored_at = now
        uow.facts.flush()
        resolution.after_order(uow=uow, store=store, order=order, now=now)
        _track_stock(uow, store, order, now)
    elif isinstance(fact, OrderDeleted):
        order = uow.facts.order(store.id, fact.external_id, lock=True)
        if order is None:
            mark = Order.tombstone(store.id, fact.external_id, at=now)
            mark.stored_at = now
            uow.facts.add(mark)
            uow.facts.flush()
            return
        if not order.delete(at=now):
            return
        order.stored_at = now
        uow.facts.flush()
        resolution.after_order(uow=uow, store=store, order=order, now=now)
        _track_stock(uow, store, order, now)
    elif isinstance(fact, PaymentObserved):
        attempt = uow.facts.payment(store.id, fact.external_id, lock=True)
        if attempt is None:
            attempt = PaymentAttempt.new(store.id, fact, delay=settings.failed_payment_delay)
            attempt.stored_at = now
            uow.facts.add(attempt)
        elif not attempt.observe(fact):
            return
        attempt.stored_at = now
        uow.facts.flush()
        resolution.after_payment(uow=uow, store=store, attempt=attempt, now=now)
    elif isinstance(fact, ShipmentObserved):
        shipment = uow.facts.shipment(store.id, fact.external_id, lock=True)
        if shipment is None:
            uow.facts.add(Shipment.new(store.id, fact))
        else:
            shipment.observe(fact)
        uow.facts.flush()
        logistics.record_scan(uow=uow, store=store, fact=fact, now=now)


def replay(
    *,
    uow: UnitOfWork,
    store_id: str | None,
    statuses: Sequence[str],
    ids: Sequence[int] | None,
    actor: Actor | None = None,
) -> int:
    """Put kept deliveries back in the queue; processing them again changes nothing twice."""
    allowed = {"failed", "processed", "ignored"}
    bad = [s for s in statuses if s not in allowed]
    if bad:
        raise InvalidInput(
            f"cannot replay status {bad[0]!r}; use failed, processed or ignored", field="status"
        )
    with uow:
        n = uow.inbox.requeue(store_id=store_id, statuses=statuses, ids=ids)
        if n:
            asked = {"statuses": list(statuses), "ids": list(ids or [])}
            after = asked | {"queued": n}
            record(uow, actor, "inbox.replay", store_id or "all", store_id=store_id, after=after)
        uow.commit()
    return n


def release_expired(*, uow: UnitOfWork, now: datetime) -> int:
    """Give deliveries whose worker died (lease passed) back to the queue."""
    with uow:
        n = uow.inbox.release_expired(now=now)
        uow.commit()
    return n
