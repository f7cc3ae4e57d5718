"""The ports services talk through. Adapters implement them; bootstrap wires them.

One module per group of ports; every name is imported from here
(``from reclaim.services.ports import UnitOfWork``).
"""

from __future__ import annotations

from reclaim.services.ports.channels import Renderer, Senders
from reclaim.services.ports.messaging import (
    AlertRepository,
    CouponRepository,
    FlowRepository,
    FlowVersion,
    MessageRepository,
    SentMark,
    StepRepository,
    SuppressionRepository,
    TemplateRepository,
)
from reclaim.services.ports.platforms import PlatformClient, PlatformConnector
from reclaim.services.ports.records import (
    CaseRepository,
    Delivery,
    FactRepository,
    InboxRepository,
    StoreRepository,
)
from reclaim.services.ports.reports import (
    CaseGroup,
    CouponCost,
    FunnelCounts,
    MessageGroup,
    ReasonCount,
    RecoveredCase,
    ReportReader,
)
from reclaim.services.ports.stock import (
    ActionState,
    LogisticsRepository,
    PlatformAction,
    PlatformActionRepository,
    StockLevel,
    StockRepository,
    WarehouseRow,
)
from reclaim.services.ports.uow import UnitOfWork

__all__ = [
    "ActionState",
    "AlertRepository",
    "CaseGroup",
    "CaseRepository",
    "CouponCost",
    "CouponRepository",
    "Delivery",
    "FactRepository",
    "FlowRepository",
    "FlowVersion",
    "FunnelCounts",
    "InboxRepository",
    "LogisticsRepository",
    "MessageGroup",
    "MessageRepository",
    "PlatformAction",
    "PlatformActionRepository",
    "PlatformClient",
    "PlatformConnector",
    "ReasonCount",
    "RecoveredCase",
    "Renderer",
    "ReportReader",
    "Senders",
    "SentMark",
    "StepRepository",
    "StockLevel",
    "StockRepository",
    "StoreRepository",
    "SuppressionRepository",
    "TemplateRepository",
    "UnitOfWork",
    "WarehouseRow",
]
