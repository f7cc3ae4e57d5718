"""Experiments (issue 15, docs/experiments.md): the stored A/B/n tests of a store's flows, and
the one aggregate their status needs, cases and recoveries per variant, counted by the
database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from reclaim.domain.experiments import Experiment


@dataclass(frozen=True, slots=True)
class VariantCount:
    """The cases assigned one variant, and how many of them were recovered (refunded since
    or not, as the report counts them)."""

    variant: str
    cases: int
    recovered: int


class ExperimentRepository(Protocol):
    def add(self, experiment: Experiment) -> None:
        """Insert ``experiment`` and set its ``id``."""
        ...

    def get(self, experiment_id: int, *, lock: bool = False) -> Experiment | None: ...
    def by_name(self, store_id: str, name: str, *, lock: bool = False) -> Experiment | None: ...
    def running(self, store_id: str, kind: str, *, lock: bool = False) -> Experiment | None:
        """The store's running experiment of ``kind``, if any. ``lock``: first take the lock
        that makes two starts of the same store and kind wait for each other (PostgreSQL)."""
        ...

    def list(self, store_id: str) -> Sequence[Experiment]:
        """The store's experiments, the newest first."""
        ...

    def all_running(self) -> Sequence[Experiment]:
        """Every store's running experiments, by id."""
        ...

    def save(self, experiment: Experiment) -> None:
        """Write back what changes: ``status``, ``stopped_at``, ``decision``."""
        ...

    def counts(
        self, experiment: Experiment, *, until: datetime | None = None
    ) -> Sequence[VariantCount]:
        """Cases per variant of ``experiment`` (opened before ``until`` when given), by
        variant key."""
        ...
