"""SQLAlchemy repository for experiments (table ``experiments``) and their cases per variant,
counted by the database over the cases ``ix_cases_report`` finds by store and time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import is_postgres
from reclaim.adapters.db.tables import cases, experiments
from reclaim.domain.cases import CaseStatus
from reclaim.domain.experiments import Experiment, ExperimentStatus, Variant
from reclaim.services.ports import VariantCount


def _variants_json(experiment: Experiment) -> list[dict[str, object]]:
    return [
        {
            "key": v.key,
            "weight": v.weight,
            "flow_id": v.flow_id,
            "overrides": dict(v.overrides or {}),
        }
        for v in experiment.variants
    ]


def _of(row: Any) -> Experiment:
    return Experiment(
        id=row.id,
        store_id=row.store_id,
        name=row.name,
        kind=row.kind,
        target=row.target,
        variants=tuple(
            Variant(
                key=v["key"],
                weight=int(v["weight"]),
                flow_id=v.get("flow_id"),
                overrides=v.get("overrides") or {},
            )
            for v in row.variants
        ),
        status=row.status,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        decision=row.decision,
    )


class SqlExperiments:
    def __init__(self, session: Session) -> None:
        self.s = session
        # this transaction's answers to running(): a case opened asks once per store and kind
        self._running: dict[tuple[str, str], Experiment | None] = {}

    def _one(self, where: Any, *, lock: bool) -> Experiment | None:
        q = select(experiments).where(where)
        if lock and is_postgres(self.s):
            q = q.with_for_update()
        row = self.s.execute(q).first()
        return None if row is None else _of(row)

    def add(self, experiment: Experiment) -> None:
        self._running.clear()
        experiment.id = int(
            self.s.execute(
                insert(experiments)
                .values(
                    store_id=experiment.store_id,
                    name=experiment.name,
                    kind=experiment.kind,
                    target=experiment.target,
                    variants=_variants_json(experiment),
                    status=experiment.status,
                    started_at=experiment.started_at,
                    stopped_at=experiment.stopped_at,
                    decision=experiment.decision,
                )
                .returning(experiments.c.id)
            ).scalar_one()
        )

    def get(self, experiment_id: int, *, lock: bool = False) -> Experiment | None:
        return self._one(experiments.c.id == experiment_id, lock=lock)

    def by_name(self, store_id: str, name: str, *, lock: bool = False) -> Experiment | None:
        return self._one(
            (experiments.c.store_id == store_id) & (experiments.c.name == name), lock=lock
        )

    def running(self, store_id: str, kind: str, *, lock: bool = False) -> Experiment | None:
        key = (store_id, kind)
        if lock and is_postgres(self.s):  # two starts at once must not both find none
            self.s.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"experiments:{store_id}:{kind}")))
            )
        elif not lock and key in self._running:
            return self._running[key]
        found = self._one(
            (experiments.c.store_id == store_id)
            & (experiments.c.kind == kind)
            & (experiments.c.status == ExperimentStatus.RUNNING),
            lock=False,
        )
        self._running[key] = found
        return found

    def list(self, store_id: str) -> Sequence[Experiment]:
        rows = self.s.execute(
            select(experiments)
            .where(experiments.c.store_id == store_id)
            .order_by(experiments.c.started_at.desc(), experiments.c.id.desc())
        )
        return [_of(r) for r in rows]

    def all_running(self) -> Sequence[Experiment]:
        rows = self.s.execute(
            select(experiments)
            .where(experiments.c.status == ExperimentStatus.RUNNING)
            .order_by(experiments.c.id)
        )
        return [_of(r) for r in rows]

    def save(self, experiment: Experiment) -> None:
        self._running.clear()
        self.s.execute(
            update(experiments)
            .where(experiments.c.id == experiment.id)
            .values(
                status=experiment.status,
                stopped_at=experiment.stopped_at,
                decision=experiment.decision,
            )
        )

    def counts(
        self, experiment: Experiment, *, until: datetime | None = None
    ) -> Sequence[VariantCount]:
        recovered = func.coalesce(
            func.sum(when((cases.c.status == CaseStatus.RECOVERED, 1), else_=0)), 0
        )
        q = select(cases.c.variant, func.count(), recovered).where(
            cases.c.store_id == experiment.store_id,
            cases.c.created_at >= experiment.started_at,
            cases.c.experiment_id == experiment.id,
        )
        if until is not None:
            q = q.where(cases.c.created_at < until)
        rows = self.s.execute(q.group_by(cases.c.variant).order_by(cases.c.variant))
        return [VariantCount(str(r[0]), int(r[1]), int(r[2])) for r in rows]
