"""Tables, and the imperative mapping of the domain's classes onto them.

The domain stays free of SQLAlchemy (cosmicpython's pattern): its dataclasses are mapped here,
once, by :func:`start_mappers`. The schema itself is created and upgraded by Alembic only.
One module per part of the schema; this package names every table, ``metadata`` (what
Alembic compares the migrations with) and :func:`start_mappers`.
"""

from __future__ import annotations

# isort: off
# In the order the tables were always defined in: ``metadata.tables`` lists them so.
from reclaim.adapters.db.tables.base import Id, meta, metadata
from reclaim.adapters.db.tables.accounts import api_keys, stores
from reclaim.adapters.db.tables.intake import inbox
from reclaim.adapters.db.tables.facts import checkouts, orders, payment_attempts, shipments
from reclaim.adapters.db.tables.recovery import case_events, case_reasons, cases
from reclaim.adapters.db.tables.messaging import (
    alerts,
    coupons,
    experiments,
    flows,
    message_events,
    messages,
    steps,
    suppressions,
    templates,
)
from reclaim.adapters.db.tables.stock import holds, stock_levels, warehouses
from reclaim.adapters.db.tables.fulfilment import lanes, products
from reclaim.adapters.db.tables.logistics import shipment_scans
from reclaim.adapters.db.tables.outbox import platform_actions
from reclaim.adapters.db.tables.audit import audit_log
from reclaim.adapters.db.tables.console import (
    console_sessions,
    template_versions,
    user_stores,
    users,
)
from reclaim.adapters.db.tables.mapping import mapper_registry, start_mappers
# isort: on

__all__ = [
    "Id",
    "alerts",
    "api_keys",
    "audit_log",
    "case_events",
    "case_reasons",
    "cases",
    "checkouts",
    "console_sessions",
    "coupons",
    "experiments",
    "flows",
    "holds",
    "inbox",
    "lanes",
    "mapper_registry",
    "message_events",
    "messages",
    "meta",
    "metadata",
    "orders",
    "payment_attempts",
    "platform_actions",
    "products",
    "shipment_scans",
    "shipments",
    "start_mappers",
    "steps",
    "stock_levels",
    "stores",
    "suppressions",
    "template_versions",
    "templates",
    "user_stores",
    "users",
    "warehouses",
]
