"""The unit of work: one transaction over every repository."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from reclaim.services.ports.accounts import UserRepository
from reclaim.services.ports.casework import CaseworkReader
from reclaim.services.ports.experiments import ExperimentRepository
from reclaim.services.ports.messaging import (
    AlertRepository,
    CouponRepository,
    FlowRepository,
    MessageRepository,
    StepRepository,
    SuppressionRepository,
    TemplateRepository,
)
from reclaim.services.ports.privacy import AuditRepository, PrivacyRepository
from reclaim.services.ports.records import (
    CaseRepository,
    FactRepository,
    InboxRepository,
    StoreRepository,
)
from reclaim.services.ports.reports import ReportReader, ReportSends
from reclaim.services.ports.retention import RetentionRepository
from reclaim.services.ports.stock import (
    LogisticsRepository,
    PlatformActionRepository,
    StockRepository,
)


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
    reports: ReportReader  # aggregates for reports: read-only
    retention: RetentionRepository  # what is past its window (SPEC S13)
    experiments: ExperimentRepository  # A/B/n tests of flows (issue 15)
    report_sends: ReportSends  # which scheduled report emails went (one record a period)
    audit: AuditRepository  # who changed what (SPEC S13)
    privacy: PrivacyRepository  # every row about one customer: access and erasure
    users: UserRepository  # the console's users and their sessions (SPEC S11)
    casework: CaseworkReader  # the console's queue and customer reads (SPEC S11)
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
