"""SQLAlchemy repository for recovery cases and their events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import many_rows, upsert
from reclaim.adapters.db.tables import case_events, case_reasons, cases
from reclaim.domain.cases import Case, CaseReason, CaseStatus, ReasonSource


class SqlCases:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._events: list[dict[str, object]] = []  # written together: see write_events

    def get_many(self, case_ids: Sequence[int], *, lock: bool = False) -> dict[int, Case]:
        """The cases of ``case_ids`` that exist, by id, in one query (locked in id order on
        PostgreSQL, the order every writer takes them in)."""
        if not case_ids:
            return {}
        q = select(Case).where(cases.c.id.in_(sorted(set(case_ids)))).order_by(cases.c.id)
        if lock and self.s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update().execution_options(populate_existing=True)
        return {c.id: c for c in self.s.scalars(q) if c.id is not None}

    def get(self, case_id: int, *, store_id: str | None = None, lock: bool = False) -> Case | None:
        # The lock orders a worker about to send against a payment resolving the same case.
        pg = lock and self.s.get_bind().dialect.name == "postgresql"
        case = self.s.get(Case, case_id, with_for_update=pg or None)
        if case is None or (store_id is not None and case.store_id != store_id):
            return None
        return case

    def by_subject(self, store_id: str, kind: str, subject_id: str) -> Case | None:
        return self.s.scalars(
            select(Case).where(
                cases.c.store_id == store_id,
                cases.c.kind == kind,
                cases.c.subject_id == subject_id,
            )
        ).first()

    def add(self, case: Case) -> None:
        self.s.add(case)
        self.s.flush()

    def _open(self, store_id: str, cond: Any) -> Sequence[Case]:
        return self.s.scalars(
            select(Case)
            .where(cases.c.store_id == store_id, cases.c.status == CaseStatus.OPEN, cond)
            .order_by(cases.c.id)
        ).all()

    def open_for_customer(self, store_id: str, customer_key: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.customer_key == customer_key)

    def open_for_order(self, store_id: str, order_external_id: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.order_external_id == order_external_id)

    def open_for_checkout(self, store_id: str, checkout_external_id: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.checkout_external_id == checkout_external_id)

    def open_for_intent(self, store_id: str, intent_id: str) -> Sequence[Case]:
        return self._open(store_id, cases.c.intent_id == intent_id)

    def exists_for_checkout(self, store_id: str, kind: str, checkout_external_id: str) -> bool:
        q = select(cases.c.id).where(
            cases.c.store_id == store_id,
            cases.c.checkout_external_id == checkout_external_id,
            cases.c.kind == kind,
        )
        return self.s.execute(q.limit(1)).first() is not None

    def expired_open(self, *, now: datetime, limit: int) -> Sequence[Case]:
        """Open cases whose ``expires_at`` has passed, oldest first."""
        return self.s.scalars(
            select(Case)
            .where(cases.c.status == CaseStatus.OPEN, cases.c.expires_at <= now)
            .order_by(cases.c.expires_at)
            .limit(limit)
        ).all()

    def page(
        self,
        *,
        store_id: str,
        status: str | None,
        kind: str | None,
        since: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> Sequence[Case]:
        q = select(Case).where(cases.c.store_id == store_id)
        if status is not None:
            q = q.where(cases.c.status == status)
        if kind is not None:
            q = q.where(cases.c.kind == kind)
        if since is not None:
            q = q.where(cases.c.created_at >= since)
        if after_id is not None:
            q = q.where(cases.c.id < after_id)
        return self.s.scalars(q.order_by(cases.c.id.desc()).limit(limit)).all()

    def add_event(self, case_id: int, *, at: datetime, type: str, data: dict[str, object]) -> None:
        """Kept until the transaction commits or reads events: one multi-row INSERT then."""
        self._events.append({"case_id": case_id, "at": at, "type": type, "data": data})

    def write_events(self) -> None:
        """Insert the events added so far (called by the unit of work before it commits and
        before a raw read, and by :meth:`events`)."""
        if self._events:
            pending, self._events = self._events, []
            self.s.execute(
                insert(case_events).execution_options(**many_rows(self.s, case_events)), pending
            )

    def discard_events(self) -> None:
        """Forget the events added since the last write (their transaction rolled back)."""
        self._events = []

    def events(self, case_id: int) -> Sequence[tuple[datetime, str, dict[str, object]]]:
        self.write_events()
        rows = self.s.execute(
            select(case_events.c.at, case_events.c.type, case_events.c.data)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        return [(r.at, r.type, r.data) for r in rows]

    def with_event(self, case_ids: Sequence[int], type: str) -> set[int]:
        self.write_events()
        if not case_ids:
            return set()
        rows = self.s.execute(
            select(case_events.c.case_id)
            .where(case_events.c.case_id.in_(sorted(set(case_ids))), case_events.c.type == type)
            .distinct()
        )
        return {int(r.case_id) for r in rows}

    def add_reasons(self, reasons: Sequence[CaseReason]) -> None:
        """One INSERT of those the cases do not have yet (from the same source)."""
        if not reasons:
            return
        ids = sorted({r.case_id for r in reasons})
        have = {
            (r.case_id, r.reason, r.source)
            for r in self.s.execute(
                select(case_reasons.c.case_id, case_reasons.c.reason, case_reasons.c.source).where(
                    case_reasons.c.case_id.in_(ids)
                )
            )
        }
        rows: list[dict[str, object]] = []
        for r in reasons:
            key = (r.case_id, r.reason, r.source)
            if key not in have:
                have.add(key)
                rows.append(
                    {
                        "case_id": r.case_id,
                        "store_id": r.store_id,
                        "reason": r.reason,
                        "source": r.source,
                        "detail": r.detail,
                        "at": r.at,
                    }
                )
        if rows:
            self.s.execute(insert(case_reasons), rows)

    def answer(self, reason: CaseReason, *, drop: Sequence[str] = ()) -> None:
        """The drop, then one ``INSERT … ON CONFLICT DO UPDATE`` (a repeated click writes no
        second row, even from two requests at once)."""
        gone = [r for r in drop if r != reason.reason]
        if gone:
            self.s.execute(
                delete(case_reasons).where(
                    case_reasons.c.case_id == reason.case_id,
                    case_reasons.c.source == ReasonSource.CUSTOMER,
                    case_reasons.c.reason.in_(gone),
                )
            )
        stmt = upsert(self.s, case_reasons).values(
            case_id=reason.case_id,
            store_id=reason.store_id,
            reason=reason.reason,
            source=reason.source,
            detail=reason.detail,
            at=reason.at,
        )
        kept = func.coalesce(stmt.excluded.detail, case_reasons.c.detail)
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["case_id", "reason", "source"],
                set_={"at": stmt.excluded.at, "detail": kept},
            )
        )

    def reasons(self, case_id: int) -> Sequence[CaseReason]:
        first = when((case_reasons.c.source == ReasonSource.INFERRED, 0), else_=1)
        rows = self.s.execute(
            select(case_reasons)
            .where(case_reasons.c.case_id == case_id)
            .order_by(first, case_reasons.c.id)
        )
        return [
            CaseReason(
                case_id=r.case_id,
                store_id=r.store_id,
                reason=r.reason,
                source=r.source,
                at=r.at,
                detail=r.detail,
            )
            for r in rows
        ]
