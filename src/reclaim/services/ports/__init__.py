"""The ports services talk through. Adapters implement them; bootstrap wires them.

One module per group of ports; every name is imported from here
(``from reclaim.services.ports import UnitOfWork``).
"""

from __future__ import annotations

from reclaim.services.ports.accounts import PasswordHasher, UserRepository
from reclaim.services.ports.casework import CaseworkReader, CustomerRow
from reclaim.services.ports.channels import Renderer, Senders
from reclaim.services.ports.experiments import ExperimentRepository, VariantCount
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
    TemplateVersion,
)
from reclaim.services.ports.platforms import PlatformClient, PlatformConnector
from reclaim.services.ports.privacy import CUSTOMER_TABLES, AuditRepository, PrivacyRepository
from reclaim.services.ports.records import (
    CaseRepository,
    Delivery,
    FactRepository,
    InboxRepository,
    StoreRepository,
)
from reclaim.services.ports.reports import (
    CaseGroup,
    CohortFacts,
    CouponCost,
    FunnelCounts,
    FunnelGroup,
    MessageGroup,
    ReasonCount,
    RecoveredCase,
    ReportReader,
    ReportSends,
)
from reclaim.services.ports.retention import RetentionRepository
from reclaim.services.ports.stock import (
    ActionState,
    DeliveredParcel,
    LogisticsRepository,
    PlatformAction,
    PlatformActionRepository,
    StockLevel,
    StockRepository,
    WarehouseRow,
)
from reclaim.services.ports.uow import UnitOfWork

__all__ = [
    "CUSTOMER_TABLES",
    "ActionState",
    "AlertRepository",
    "AuditRepository",
    "CaseGroup",
    "CaseRepository",
    "CaseworkReader",
    "CohortFacts",
    "CouponCost",
    "CouponRepository",
    "CustomerRow",
    "DeliveredParcel",
    "Delivery",
    "ExperimentRepository",
    "FactRepository",
    "FlowRepository",
    "FlowVersion",
    "FunnelCounts",
    "FunnelGroup",
    "InboxRepository",
    "LogisticsRepository",
    "MessageGroup",
    "MessageRepository",
    "PasswordHasher",
    "PlatformAction",
    "PlatformActionRepository",
    "PlatformClient",
    "PlatformConnector",
    "PrivacyRepository",
    "ReasonCount",
    "RecoveredCase",
    "Renderer",
    "ReportReader",
    "ReportSends",
    "RetentionRepository",
    "Senders",
    "SentMark",
    "StepRepository",
    "StockLevel",
    "StockRepository",
    "StoreRepository",
    "SuppressionRepository",
    "TemplateRepository",
    "TemplateVersion",
    "UnitOfWork",
    "UserRepository",
    "VariantCount",
    "WarehouseRow",
]
