"""Builders for the service tests that run through the fakes (``tests/fakes``) and for the
test that holds the fakes to the SQL unit of work: a store with holdout-free flows, events
of the generic API, and ingestion of them. Each takes any ``UnitOfWork``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import yaml

from reclaim.adapters.flows import default_flow
from reclaim.adapters.platforms.generic import GenericConnector, split_batch
from reclaim.domain.flows import Flow, flow_to_data
from reclaim.domain.stores import StoreSettings
from reclaim.services.flows import set_flow
from reclaim.services.ingest import Accepted, ProcessStats, accept_events, process_inbox
from reclaim.services.ports import UnitOfWork
from reclaim.services.stores import add_store

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin: no quiet hours
STORE_CREATED = T0 - timedelta(days=1)
GENERIC = GenericConnector()
CONNECTORS = {"generic": GENERIC}
KINDS = ("abandoned_checkout", "pending_order", "failed_payment")


def flow_defaults(kind: str) -> tuple[str, Flow]:
    """The shipped flow for ``kind`` with no holdout (no case is held out by chance)."""
    flow = replace(default_flow(kind), holdout=0.0)
    return yaml.safe_dump(flow_to_data(flow), sort_keys=False), flow


def open_store(
    uow: UnitOfWork, name: str = "Boutique", *, store_id: str | None = None, **settings: Any
) -> str:
    """A store created at ``STORE_CREATED`` (EUR, Paris, shop.example) with ``settings`` and
    holdout-free flows; its id (``store_id`` when given, else a new one). A postal address
    unless ``settings`` says otherwise (marketing email needs one)."""
    settings.setdefault("postal_address", "Boutique SAS, 1 rue de Rivoli, 75001 Paris")
    store = add_store(
        uow=uow,
        name=name,
        platform="custom",
        currency="EUR",
        timezone="Europe/Paris",
        domain="shop.example",
        webhook_secret="whsec_test_secret_123",
        settings=StoreSettings(**settings),
        now=STORE_CREATED,
        store_id=store_id,
    )
    for kind in KINDS:
        source, flow = flow_defaults(kind)
        set_flow(uow=uow, store_id=store.id, source=source, flow=flow, now=STORE_CREATED)
    return store.id


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def event(kind: str, at: datetime, event_id: str | None = None, **data: Any) -> dict[str, Any]:
    made: dict[str, Any] = {"type": kind, "occurred_at": iso(at), "data": data}
    if event_id is not None:
        made["id"] = event_id
    return made


MUG = {"sku": "MUG-1", "name": "Mug", "quantity": 2, "price": "617.28"}


def cart(
    at: datetime, checkout_id: str = "c1", email: str | None = "ana@example.com", **kw: Any
) -> dict[str, Any]:
    """A ``checkout.updated`` event of 2 mugs (1234.56 EUR) by Ana, in Germany, opted in;
    ``event_id`` is the event's id, other keywords replace (``None``: drop) its data's fields."""
    data: dict[str, Any] = {
        "checkout_id": checkout_id,
        "email": email,
        "first_name": "Ana",
        "locale": "de-DE",
        "country": "DE",
        "accepts_marketing": True,
        "currency": "EUR",
        "total": "1234.56",
        "items": [MUG],
        "recovery_url": f"https://shop.example/checkouts/{checkout_id}/recover",
    }
    data.update(kw)
    return event("checkout.updated", at, **{k: v for k, v in data.items() if v is not None})


def order(
    kind: str, at: datetime, order_id: str = "o1", email: str = "ana@example.com", **kw: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": order_id,
        "email": email,
        "country": "DE",
        "currency": "EUR",
        "total": "1234.56",
        "items": [MUG],
    }
    data.update(kw)
    return event(kind, at, **data)


def payment_failed(
    at: datetime, payment_id: str = "pay1", email: str = "ana@example.com", **kw: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payment_id": payment_id,
        "email": email,
        "currency": "EUR",
        "amount": "1234.56",
        "decline_code": "insufficient_funds",
    }
    data.update(kw)
    return event("payment.failed", at, **data)


def body(*events: dict[str, Any]) -> bytes:
    """One event as an object, several as a batch."""
    return orjson.dumps(events[0] if len(events) == 1 else list(events))


def deliver(
    uow: UnitOfWork,
    store_id: str,
    raw: bytes,
    *,
    now: datetime,
    headers: dict[str, str] | None = None,
) -> list[Accepted]:
    """What the events API does with a request's body: keep each event in the inbox."""
    return accept_events(
        uow=uow,
        connector=GENERIC,
        split=split_batch,
        store_id=store_id,
        headers=headers or {"Content-Type": "application/json"},
        body=raw,
        now=now,
    )


def ingest(uow: UnitOfWork, store_id: str, *events: dict[str, Any], now: datetime) -> ProcessStats:
    """Deliver ``events`` (one request each) and let the worker process the inbox."""
    for one in events:
        deliver(uow, store_id, body(one), now=now)
    return process_inbox(uow=uow, connectors=CONNECTORS, now=now)
