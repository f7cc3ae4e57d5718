"""The fake repository of experiments, with the SQL one's semantics: the newest first in a
store's list, cases per variant counted from the working tables (adapters/db/repos/
experiments.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from fakes.base import Repo
from fakes.state import UniqueViolation, clone_row, json_round_trip
from reclaim.domain.cases import CaseStatus
from reclaim.domain.experiments import Experiment, ExperimentStatus, Variant
from reclaim.services.ports import VariantCount


def _stored(experiment: Experiment) -> Experiment:
    """``experiment`` as a read gives it back: its JSON columns through JSON."""
    made = clone_row(experiment)
    made.variants = tuple(
        Variant(v.key, v.weight, v.flow_id, json_round_trip(dict(v.overrides or {})))
        for v in experiment.variants
    )
    made.decision = None if experiment.decision is None else json_round_trip(experiment.decision)
    return made


class FakeExperiments(Repo):
    def add(self, experiment: Experiment) -> None:
        if any(
            (e.store_id, e.name) == (experiment.store_id, experiment.name)
            for e in self.t.experiments.values()
        ):
            raise UniqueViolation(f"experiments: {experiment.name!r} exists")
        experiment.id = self._next_id("experiments")
        self.t.experiments[experiment.id] = _stored(experiment)

    def get(self, experiment_id: int, *, lock: bool = False) -> Experiment | None:
        found = self.t.experiments.get(experiment_id)
        return None if found is None else clone_row(found)

    def by_name(self, store_id: str, name: str, *, lock: bool = False) -> Experiment | None:
        found = next(
            (e for e in self.t.experiments.values() if (e.store_id, e.name) == (store_id, name)),
            None,
        )
        return None if found is None else clone_row(found)

    def running(self, store_id: str, kind: str, *, lock: bool = False) -> Experiment | None:
        found = next(
            (
                e
                for _, e in sorted(self.t.experiments.items())
                if (e.store_id, e.kind, e.status) == (store_id, kind, ExperimentStatus.RUNNING)
            ),
            None,
        )
        return None if found is None else clone_row(found)

    def list(self, store_id: str) -> Sequence[Experiment]:
        mine = [e for e in self.t.experiments.values() if e.store_id == store_id]
        mine.sort(key=lambda e: (e.started_at, e.id or 0), reverse=True)
        return [clone_row(e) for e in mine]

    def all_running(self) -> Sequence[Experiment]:
        return [
            clone_row(e)
            for _, e in sorted(self.t.experiments.items())
            if e.status == ExperimentStatus.RUNNING
        ]

    def save(self, experiment: Experiment) -> None:
        held = self.t.experiments.get(experiment.id or 0)
        if held is None:
            return
        held.status = experiment.status
        held.stopped_at = experiment.stopped_at
        held.decision = (
            None if experiment.decision is None else json_round_trip(experiment.decision)
        )

    def counts(
        self, experiment: Experiment, *, until: datetime | None = None
    ) -> Sequence[VariantCount]:
        cases: Counter[str] = Counter()
        back: Counter[str] = Counter()
        for c in self.t.cases.values():
            if (
                c.store_id == experiment.store_id
                and c.experiment_id == experiment.id
                and c.created_at >= experiment.started_at
                and (until is None or c.created_at < until)
            ):
                key = str(c.variant)
                cases[key] += 1
                back[key] += c.status == CaseStatus.RECOVERED
        return [VariantCount(key, cases[key], back[key]) for key in sorted(cases)]
