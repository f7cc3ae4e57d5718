"""An experiment's standing (docs/experiments.md): cases and recoveries per variant (counted by
the database), each variant against the first (the control) by the always-valid test of
``domain.experiments``, the sample-ratio check, and the decision with its evidence. A running
experiment is read live; a stopped one shows what was frozen when it stopped.

Used by ``reclaim experiment status``, the API and the report's "Experiments" section, which
all show :func:`experiment_json`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from reclaim.domain.experiments import (
    Experiment,
    ExperimentStatus,
    SequentialResult,
    Verdict,
    msprt,
    recommend,
    srm_p_value,
)
from reclaim.services.ports import UnitOfWork

ALPHA = 0.05
"""The experiment's chance of naming a winner when every variant is as good as the control;
split evenly between the comparisons (Bonferroni): 0.05 for A/B, 0.025 each for A/B/C."""


class Decision(StrEnum):
    KEEP_RUNNING = "keep running"
    WINNER = "winner"  # ``winner`` names the variant (the control when it beats them all)
    NO_DIFFERENCE = "no difference"
    SAMPLE_RATIO_MISMATCH = "sample ratio mismatch"


_OF_VERDICT = {
    Verdict.KEEP_RUNNING: Decision.KEEP_RUNNING,
    Verdict.NO_DIFFERENCE: Decision.NO_DIFFERENCE,
    Verdict.SAMPLE_RATIO_MISMATCH: Decision.SAMPLE_RATIO_MISMATCH,
    Verdict.A_WINS: Decision.WINNER,
    Verdict.B_WINS: Decision.WINNER,
}


@dataclass(frozen=True, slots=True)
class Arm:
    """One variant: what it runs and how its cases did. A case counts in the variant it was
    assigned, whoever its customer is (a customer with two cases may be in two variants)."""

    key: str
    weight: int
    flow_id: int | None
    flow_version: int | None
    overrides: Mapping[str, object]
    cases: int
    recovered: int

    @property
    def rate(self) -> float | None:
        return self.recovered / self.cases if self.cases else None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One variant against the control: ``result`` is of variant − control."""

    variant: str
    control: str
    result: SequentialResult
    decision: Decision
    winner: str | None
    evidence: str


@dataclass(frozen=True, slots=True)
class ExperimentView:
    experiment: Experiment
    arms: tuple[Arm, ...]
    comparisons: tuple[Comparison, ...]
    srm_p: float
    decision: Decision
    winner: str | None
    evidence: str
    alpha: float  # each comparison's
    as_of: datetime  # when the counts were read: the stop, for a stopped experiment

    @property
    def control(self) -> str:
        return self.arms[0].key


def standing(
    experiment: Experiment,
    counts: Mapping[str, tuple[int, int]],
    *,
    versions: Mapping[int, int],
    as_of: datetime,
) -> ExperimentView:
    """The view of ``experiment`` from ``counts`` (variant → (cases, recovered)); a stopped
    experiment keeps the decision and evidence it was frozen with. ``versions``: flow id →
    version number, to show."""
    arms = tuple(
        Arm(
            key=v.key,
            weight=v.weight,
            flow_id=v.flow_id,
            flow_version=None if v.flow_id is None else versions.get(v.flow_id),
            overrides=dict(v.overrides or {}),
            cases=counts.get(v.key, (0, 0))[0],
            recovered=counts.get(v.key, (0, 0))[1],
        )
        for v in experiment.variants
    )
    observed = {key: n for key, (n, _) in counts.items()}  # a key not designed fails the check
    srm = srm_p_value(observed, {a.key: a.weight for a in arms})
    alpha = ALPHA / max(1, len(arms) - 1)
    control = arms[0]
    comparisons = []
    for arm in arms[1:]:
        result = msprt(arm.recovered, arm.cases, control.recovered, control.cases, alpha=alpha)
        said = recommend(result, names=(arm.key, control.key), srm_p=srm)
        comparisons.append(
            Comparison(
                arm.key, control.key, result, _OF_VERDICT[said.verdict], said.winner, said.evidence
            )
        )
    decision, winner, evidence = _overall(control.key, comparisons)
    frozen = experiment.decision if experiment.status == ExperimentStatus.STOPPED else None
    if frozen:
        decision = Decision(str(frozen.get("decision", decision)))
        found = frozen.get("winner")
        winner = None if found is None else str(found)
        evidence = str(frozen.get("evidence", evidence))
    return ExperimentView(
        experiment, arms, tuple(comparisons), srm, decision, winner, evidence, alpha, as_of
    )


def _overall(control: str, comparisons: Sequence[Comparison]) -> tuple[Decision, str | None, str]:
    """The experiment's decision from its comparisons: a broken split first; a variant that
    beats the control (the best rate of those that do); the control beating them all; no
    variant better and every comparison decided: no difference; else keep running."""
    first = comparisons[0]
    if first.decision is Decision.SAMPLE_RATIO_MISMATCH or len(comparisons) == 1:
        return first.decision, first.winner, first.evidence
    details = "; ".join(c.evidence for c in comparisons)
    beating = [c for c in comparisons if c.winner == c.variant]
    if beating:
        best = max(beating, key=lambda c: (c.result.rate_a, c.variant))
        return (
            Decision.WINNER,
            best.variant,
            f"{best.variant} beats {control} with the highest rate of the variants that do: "
            f"{details}",
        )
    if all(c.decision is not Decision.KEEP_RUNNING for c in comparisons):
        if all(c.winner == control for c in comparisons):
            return Decision.WINNER, control, f"{control} beats every variant: {details}"
        return Decision.NO_DIFFERENCE, None, f"no variant beats {control}: {details}"
    return Decision.KEEP_RUNNING, None, details


def frozen_decision(view: ExperimentView) -> dict[str, object]:
    """What a stop keeps (``experiments.decision``): the counts it was made from, and the
    decision with its evidence."""
    return {
        "at": _iso(view.as_of),
        "counts": {a.key: [a.cases, a.recovered] for a in view.arms},
        "decision": str(view.decision),
        "winner": view.winner,
        "evidence": view.evidence,
    }


def view_of(
    uow: UnitOfWork, experiment: Experiment, *, now: datetime, until: datetime | None = None
) -> ExperimentView:
    """``experiment``'s view, in the caller's transaction: a stopped one from the counts its
    stop froze, a running one from the cases opened so far (before ``until`` when given)."""
    frozen = experiment.decision if experiment.status == ExperimentStatus.STOPPED else None
    if frozen and isinstance(frozen.get("counts"), Mapping):
        kept: Mapping[str, Any] = frozen["counts"]  # type: ignore[assignment]
        counts = {str(k): (int(v[0]), int(v[1])) for k, v in kept.items()}
        as_of = experiment.stopped_at or now
    else:
        counts = {
            c.variant: (c.cases, c.recovered)
            for c in uow.experiments.counts(experiment, until=until)
        }
        as_of = now if until is None else min(now, until)
    versions: dict[int, int] = {}
    for v in experiment.variants:
        if v.flow_id is not None and v.flow_id not in versions:
            found = uow.flows.get(v.flow_id)
            if found is not None:
                versions[v.flow_id] = found.version
    return standing(experiment, counts, versions=versions, as_of=as_of)


def experiments_in(
    uow: UnitOfWork, store_id: str, start: datetime, end: datetime, *, now: datetime
) -> tuple[ExperimentView, ...]:
    """The store's experiments that ran during ``[start, end)``, oldest first, for a report:
    one stopped by ``end`` as it was frozen, the others over the cases opened before
    ``end``."""
    found = [
        e
        for e in uow.experiments.list(store_id)
        if e.started_at < end and (e.stopped_at is None or e.stopped_at >= start)
    ]
    found.sort(key=lambda e: (e.started_at, e.id or 0))
    views = []
    for e in found:
        stopped_by_end = e.stopped_at is not None and e.stopped_at <= end
        views.append(view_of(uow, e, now=now, until=None if stopped_by_end else end))
    return tuple(views)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def _num(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def experiment_json(view: ExperimentView) -> dict[str, Any]:
    """The view as JSON (the API's answer, ``status --json``, the report's section). Rates
    and differences are fractions; ``confidence_sequence`` is ``[low, high]`` of variant −
    control, ``p_value`` the always-valid p-value of that comparison."""
    e = view.experiment
    return {
        "id": e.id,
        "name": e.name,
        "kind": e.kind,
        "target": e.target,
        "status": e.status,
        "started_at": _iso(e.started_at),
        "stopped_at": _iso(e.stopped_at),
        "as_of": _iso(view.as_of),
        "control": view.control,
        "variants": [
            {
                "key": a.key,
                "weight": a.weight,
                "flow_id": a.flow_id,
                "flow_version": a.flow_version,
                "overrides": dict(a.overrides),
                "cases": a.cases,
                "recovered": a.recovered,
                "rate": _num(a.rate),
            }
            for a in view.arms
        ],
        "comparisons": [
            {
                "variant": c.variant,
                "control": c.control,
                "difference": _num(c.result.difference),
                "confidence_sequence": [_num(c.result.low), _num(c.result.high)],
                "p_value": _num(c.result.p_value),
                "alpha": view.alpha,
                "tested": c.result.tested,
                "decision": str(c.decision),
                "winner": c.winner,
                "evidence": c.evidence,
            }
            for c in view.comparisons
        ],
        "srm_p_value": _num(view.srm_p),
        "decision": str(view.decision),
        "winner": view.winner,
        "evidence": view.evidence,
    }
