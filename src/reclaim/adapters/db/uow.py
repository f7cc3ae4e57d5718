"""The SQL unit of work: one session, one transaction, rollback unless committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reclaim.adapters.db.erasure_key import ErasureKey
from reclaim.adapters.db.repos.alerts import SqlAlerts
from reclaim.adapters.db.repos.audit import SqlAudit
from reclaim.adapters.db.repos.cases import SqlCases
from reclaim.adapters.db.repos.casework import SqlCasework
from reclaim.adapters.db.repos.coupons import SqlCoupons
from reclaim.adapters.db.repos.experiments import SqlExperiments
from reclaim.adapters.db.repos.facts import SqlFacts
from reclaim.adapters.db.repos.flows import SqlFlows
from reclaim.adapters.db.repos.inbox import SqlInbox
from reclaim.adapters.db.repos.logistics import SqlLogistics
from reclaim.adapters.db.repos.messages import SqlMessages
from reclaim.adapters.db.repos.platform_actions import SqlPlatformActions
from reclaim.adapters.db.repos.privacy import SqlPrivacy
from reclaim.adapters.db.repos.reports import SqlReports, SqlReportSends
from reclaim.adapters.db.repos.retention import SqlRetention
from reclaim.adapters.db.repos.steps import SqlSteps
from reclaim.adapters.db.repos.stock import SqlStock
from reclaim.adapters.db.repos.stores import SqlStores
from reclaim.adapters.db.repos.suppressions import SqlSuppressions
from reclaim.adapters.db.repos.templates import SqlTemplates
from reclaim.adapters.db.repos.users import SqlUsers
from reclaim.services.ports import (
    AlertRepository,
    AuditRepository,
    CaseRepository,
    CaseworkReader,
    CouponRepository,
    ExperimentRepository,
    FactRepository,
    FlowRepository,
    InboxRepository,
    LogisticsRepository,
    MessageRepository,
    PlatformActionRepository,
    PrivacyRepository,
    ReportReader,
    ReportSends,
    RetentionRepository,
    StepRepository,
    StockRepository,
    StoreRepository,
    SuppressionRepository,
    TemplateRepository,
    UserRepository,
)


class SqlUnitOfWork:
    def __init__(
        self, session_factory: sessionmaker[Session], erasure: ErasureKey | None = None
    ) -> None:
        self._factory = session_factory
        # The key erased customers' suppression entries are hashed with (read once).
        self._erasure = erasure if erasure is not None else ErasureKey()
        self.session: Session | None = None
        # SQLite's transactions begin IMMEDIATE (adapters/db/engine.py): the write lock held
        self.row_locks = session_factory.kw["bind"].url.get_backend_name() != "sqlite"

    def __enter__(self) -> SqlUnitOfWork:
        if self.session is not None:
            raise RuntimeError("unit of work is already in use")
        self.session = self._factory()
        self.stores: StoreRepository = SqlStores(self.session)
        self.inbox: InboxRepository = SqlInbox(self.session)
        self.facts: FactRepository = SqlFacts(self.session)
        self._cases = SqlCases(self.session)
        self.cases: CaseRepository = self._cases
        self.flows: FlowRepository = SqlFlows(self.session)
        self._steps = SqlSteps(self.session)
        self.steps: StepRepository = self._steps
        self.messages: MessageRepository = SqlMessages(self.session)
        self.suppressions: SuppressionRepository = SqlSuppressions(self.session, self._erasure)
        self.coupons: CouponRepository = SqlCoupons(self.session)
        self.templates: TemplateRepository = SqlTemplates(self.session)
        self.alerts: AlertRepository = SqlAlerts(self.session)
        self.stock: StockRepository = SqlStock(self.session)
        self.platform_actions: PlatformActionRepository = SqlPlatformActions(self.session)
        self.logistics: LogisticsRepository = SqlLogistics(self.session)
        self.reports: ReportReader = SqlReports(self.session)
        self.report_sends: ReportSends = SqlReportSends(self.session)
        self.retention: RetentionRepository = SqlRetention(self.session)
        self.experiments: ExperimentRepository = SqlExperiments(self.session)
        self.audit: AuditRepository = SqlAudit(self.session)
        self.privacy: PrivacyRepository = SqlPrivacy(self.session, self._erasure)
        self.users: UserRepository = SqlUsers(self.session)
        self.casework: CaseworkReader = SqlCasework(self.session)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.session is not None
        try:
            # Detach first so what a use case returns stays readable after the session ends;
            # then roll back whatever was not committed.
            self.session.expunge_all()
            self.session.rollback()
        finally:
            self.session.close()
            self.session = None

    def _write_pending(self) -> None:
        """What the repositories keep to write together: new steps, case events."""
        self._steps.write()
        self._cases.write_events()

    def _drop_pending(self) -> None:
        self._steps.discard()
        self._cases.discard_events()

    def commit(self) -> None:
        assert self.session is not None
        self._write_pending()
        self.session.commit()

    def rollback(self) -> None:
        assert self.session is not None
        self._drop_pending()
        self.session.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction; leaving it by an exception undoes what it did, including
        the steps and events kept to be written later."""
        assert self.session is not None
        self._write_pending()
        with self.session.begin_nested():
            try:
                yield
                self._write_pending()
            except BaseException:
                self._drop_pending()
                raise

    def execute(self, statement: Any, params: Any = None) -> Any:
        """Raw access for read models that have no repository (reports, health)."""
        assert self.session is not None
        self._write_pending()
        return self.session.execute(statement, params)
