"""SQLAlchemy repository for scheduled steps: claimed, leased and settled by the workers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import claim_update, is_postgres
from reclaim.adapters.db.repos.inserts import insert_many
from reclaim.adapters.db.tables import steps
from reclaim.domain.steps import PENDING_STEP, ScheduledStep, StepStatus

_is_pg = is_postgres


class SqlSteps:
    """Steps added are kept until the next read of steps or the commit, then written
    together (:meth:`write`): a group of settled steps schedules its next ones in one
    INSERT. Only this repository reads or writes the ``steps`` table."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._new: list[ScheduledStep] = []

    def add(self, step: ScheduledStep) -> None:
        self._new.append(step)

    def discard(self) -> None:
        """Forget the steps added since the last write (their transaction rolled back)."""
        self._new = []

    def write(self) -> None:
        """Insert the steps added since the last write (their ids are set)."""
        if self._new:
            pending, self._new = self._new, []
            insert_many(self.s, steps, pending, ("case_id", "position"))

    def get(self, step_id: int, *, lock: bool = False) -> ScheduledStep | None:
        self.write()
        q = select(ScheduledStep).where(steps.c.id == step_id)
        if lock and _is_pg(self.s):
            q = q.with_for_update()
        return self.s.scalars(q).first()

    def get_many(self, step_ids: Sequence[int], *, lock: bool = False) -> dict[int, ScheduledStep]:
        """The steps of ``step_ids`` that exist, by id, in one query; with ``lock`` they are
        locked (PostgreSQL, in id order) and read afresh."""
        self.write()
        if not step_ids:
            return {}
        q = select(ScheduledStep).where(steps.c.id.in_(sorted(set(step_ids))))
        if lock and _is_pg(self.s):
            q = q.order_by(steps.c.id).with_for_update().execution_options(populate_existing=True)
        return {s.id: s for s in self.s.scalars(q) if s.id is not None}

    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> Sequence[int]:
        """Take up to ``limit`` due steps, earliest first, for this worker alone.

        One conditional ``UPDATE … RETURNING`` over the ``(status, due_at)`` index: its cost
        depends on how many steps are due, not on how many are scheduled for later. On
        PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets many workers claim side by side.
        """
        self.write()
        pick = (
            select(steps.c.id)
            .where(steps.c.status == StepStatus.SCHEDULED, steps.c.due_at <= now)
            .order_by(steps.c.due_at, steps.c.id)
            .limit(limit)
        )
        # On SQLite writers are serialised, so the subquery's own status test suffices; a
        # second one outside makes SQLite scan every scheduled step through ix_steps_lease
        # instead of taking the ids it was given (×50 at 1M future steps, bench/send/).
        still_scheduled = [steps.c.status == StepStatus.SCHEDULED] if _is_pg(self.s) else []
        ids = self.s.execute(
            claim_update(self.s, steps, pick, *still_scheduled)
            .values(
                status=StepStatus.CLAIMED,
                lease_until=lease_until,
                claim_token=token,
                attempts=steps.c.attempts + 1,
            )
            .returning(steps.c.id)
        ).scalars()
        return sorted(ids)

    def expired(self, *, now: datetime, limit: int) -> Sequence[ScheduledStep]:
        """Claimed or sending steps whose worker's lease ran out (it died or hung)."""
        self.write()
        q = (
            select(ScheduledStep)
            .where(
                steps.c.status.in_([StepStatus.CLAIMED, StepStatus.SENDING]),
                steps.c.lease_until < now,
            )
            .order_by(steps.c.lease_until)
            .limit(limit)
        )
        if _is_pg(self.s):
            q = q.with_for_update(skip_locked=True)
        return self.s.scalars(q).all()

    def for_case(self, case_id: int) -> Sequence[ScheduledStep]:
        self.write()
        return self.s.scalars(
            select(ScheduledStep).where(steps.c.case_id == case_id).order_by(steps.c.position)
        ).all()

    def for_cases(self, case_ids: Sequence[int]) -> Sequence[ScheduledStep]:
        """The steps of all ``case_ids`` (a page of cases), in one query."""
        self.write()
        if not case_ids:
            return []
        return self.s.scalars(
            select(ScheduledStep)
            .where(steps.c.case_id.in_(list(case_ids)))
            .order_by(steps.c.case_id, steps.c.position)
        ).all()

    def cancel_pending(self, case_id: int, *, now: datetime, outcome: str) -> int:
        """Cancel what has not started; a step already sending cannot be called back."""
        self.write()
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(ScheduledStep)
            .where(steps.c.case_id == case_id, steps.c.status.in_(list(PENDING_STEP)))
            .values(status=StepStatus.CANCELLED, outcome=outcome, finished_at=now, lease_until=None)
            .execution_options(synchronize_session="fetch")
        )
        return res.rowcount

    def counts(self, store_id: str | None = None) -> dict[str, int]:
        self.write()
        q = select(steps.c.status, func.count()).group_by(steps.c.status)
        if store_id is not None:
            q = q.where(steps.c.store_id == store_id)
        return {status: int(n) for status, n in self.s.execute(q)}
