"""The imperative mapping of the domain's classes onto the tables (cosmicpython's pattern)."""

from __future__ import annotations

from sqlalchemy.orm import registry

from reclaim.adapters.db.tables.accounts import api_keys, stores
from reclaim.adapters.db.tables.base import metadata
from reclaim.adapters.db.tables.facts import checkouts, orders, payment_attempts, shipments
from reclaim.adapters.db.tables.messaging import coupons, messages, steps
from reclaim.adapters.db.tables.recovery import cases
from reclaim.adapters.db.tables.stock import holds
from reclaim.domain.cases import Case
from reclaim.domain.facts import Checkout, Order, PaymentAttempt
from reclaim.domain.holds import Hold
from reclaim.domain.shipments import Shipment
from reclaim.domain.steps import Coupon, MessageRecord, ScheduledStep
from reclaim.domain.stores import ApiKey, Store

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes; idempotent (bootstrap calls it, so do tests)."""
    global _mapped  # noqa: PLW0603 — a once-per-process switch, like cosmicpython's
    if _mapped:
        return
    mapper_registry.map_imperatively(Store, stores)
    mapper_registry.map_imperatively(ApiKey, api_keys)
    mapper_registry.map_imperatively(Checkout, checkouts)
    mapper_registry.map_imperatively(Order, orders)
    mapper_registry.map_imperatively(PaymentAttempt, payment_attempts)
    mapper_registry.map_imperatively(Shipment, shipments)
    mapper_registry.map_imperatively(Case, cases)
    mapper_registry.map_imperatively(ScheduledStep, steps)
    mapper_registry.map_imperatively(MessageRecord, messages)
    mapper_registry.map_imperatively(Coupon, coupons)
    mapper_registry.map_imperatively(Hold, holds)
    _mapped = True
