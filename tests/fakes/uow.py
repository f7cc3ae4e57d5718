"""The in-memory unit of work: the ``UnitOfWork`` port over a :class:`FakeDatabase`.

``with uow:`` takes a working copy of the committed tables; ``commit()`` writes it back (and
the transaction goes on, as a SQL session's does); ``rollback()`` and leaving without a commit
discard what was not committed; ``savepoint()`` undoes only what it did when left by an
exception. Ids come from per-table sequences that a rollback does not rewind (PostgreSQL's).
``lock=`` arguments are accepted and change nothing: one thread, nothing to wait for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fakes.case_repos import FakeCases, FakeFacts
from fakes.casework_repos import FakeCasework
from fakes.experiment_repos import FakeExperiments
from fakes.flow_repos import FakeFlows, FakeMessages, FakeSteps
from fakes.misc_repos import FakeAlerts, FakeCoupons, FakeSuppressions, FakeTemplates
from fakes.privacy_repos import FakeAudit, FakePrivacy
from fakes.report_repos import FakeReports, FakeReportSends
from fakes.retention_repos import FakeRetention
from fakes.state import Tables, clone_tables, restore_tables
from fakes.stock_repos import FakeLogistics, FakePlatformActions, FakeStock
from fakes.store_repos import FakeInbox, FakeStores
from fakes.user_repos import FakeUsers
from reclaim.domain.privacy import erasure_key
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


class FakeDatabase:
    """The committed state several units of work may share (two workers, one database)."""

    def __init__(self) -> None:
        self.committed = Tables()
        self._sequences: dict[str, int] = {}

    def next_id(self, table: str) -> int:
        self._sequences[table] = self._sequences.get(table, 0) + 1
        return self._sequences[table]

    def uow(self, *, row_locks: bool = True) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, row_locks=row_locks)


class FakeUnitOfWork:
    """One transaction at a time over ``db`` (a new database when none is given).

    ``row_locks``: what the services are told about ``lock=True`` reads (True: PostgreSQL's
    behaviour, the steps of a group are read again under their locks; False: SQLite's).
    ``commits`` and ``rollbacks`` count what the services asked for, for tests of
    transaction boundaries.
    """

    def __init__(self, db: FakeDatabase | None = None, *, row_locks: bool = True) -> None:
        self.db = db if db is not None else FakeDatabase()
        self.row_locks = row_locks
        # What erased customers' suppression entries are hashed with (the SQL one derives
        # it from the install's secret key).
        self.erasure_key = erasure_key("fake-secret-key")
        self.commits = 0
        self.rollbacks = 0
        self._working: Tables | None = None
        self._pending_conflict = False
        self.stores: StoreRepository = FakeStores(self)
        self.inbox: InboxRepository = FakeInbox(self)
        self.facts: FactRepository = FakeFacts(self)
        self.cases: CaseRepository = FakeCases(self)
        self.flows: FlowRepository = FakeFlows(self)
        self.steps: StepRepository = FakeSteps(self)
        self.messages: MessageRepository = FakeMessages(self)
        self.suppressions: SuppressionRepository = FakeSuppressions(self)
        self.coupons: CouponRepository = FakeCoupons(self)
        self.templates: TemplateRepository = FakeTemplates(self)
        self.alerts: AlertRepository = FakeAlerts(self)
        self.stock: StockRepository = FakeStock(self)
        self.platform_actions: PlatformActionRepository = FakePlatformActions(self)
        self.logistics: LogisticsRepository = FakeLogistics(self)
        self.reports: ReportReader = FakeReports(self)
        self.report_sends: ReportSends = FakeReportSends(self)
        self.retention: RetentionRepository = FakeRetention(self)
        self.experiments: ExperimentRepository = FakeExperiments(self)
        self.audit: AuditRepository = FakeAudit(self)
        self.privacy: PrivacyRepository = FakePrivacy(self)
        self.users: UserRepository = FakeUsers(self)
        self.casework: CaseworkReader = FakeCasework(self)

    # -- what the repositories use ----------------------------------------------------------

    @property
    def tables(self) -> Tables:
        """The transaction's working tables; ``RuntimeError`` outside ``with uow:``."""
        if self._working is None:
            raise RuntimeError("a repository was used outside `with uow:`")
        return self._working

    def next_id(self, table: str) -> int:
        return self.db.next_id(table)

    def flag_conflict(self) -> None:
        """A fact added under a key that exists: the next flush raises ``Conflict``."""
        self._pending_conflict = True

    def take_conflict(self) -> bool:
        found, self._pending_conflict = self._pending_conflict, False
        return found

    # -- the port ---------------------------------------------------------------------------

    def __enter__(self) -> FakeUnitOfWork:
        if self._working is not None:
            raise RuntimeError("unit of work is already in use")
        self._working = clone_tables(self.db.committed)
        self._pending_conflict = False
        return self

    def __exit__(self, *exc: object) -> None:
        self._working = None
        self._pending_conflict = False

    def commit(self) -> None:
        if self.take_conflict():
            raise RuntimeError("commit with a fact that violates a unique key (flush first)")
        self.db.committed = clone_tables(self.tables)
        self.commits += 1

    def rollback(self) -> None:
        restore_tables(self.tables, self.db.committed)
        self._pending_conflict = False
        self.rollbacks += 1

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        before = clone_tables(self.tables)
        try:
            yield
        except BaseException:
            restore_tables(self.tables, before)
            self._pending_conflict = False
            raise

    # -- for tests --------------------------------------------------------------------------

    @property
    def committed(self) -> Tables:
        """The committed tables, to look at (change them only through the repositories)."""
        return self.db.committed

    def rows(self, table: str) -> list[Any]:
        """The committed rows of ``table`` (a :class:`~fakes.state.Tables` field), by key."""
        found = self.db.committed.table(table)
        return [found[k] for k in sorted(found)]
