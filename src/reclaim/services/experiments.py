"""Experiments (SPEC S12, docs/experiments.md): A/B/n tests of a store's flow, or of one of its
steps, for the cases of one kind. Starting one checks its variants and saves each as the flow
version its cases run; while it runs, every case that opens and is not held out is assigned a
variant by hashing the case (``services.flows.start_flow``); its status is read live
(``services.experiment_view``); stopping it freezes the decision. The worker checks the split
of every running experiment and raises the sample-ratio-mismatch alert, once per experiment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from reclaim.domain.audit import Actor
from reclaim.domain.cases import CaseKind
from reclaim.domain.experiments import (
    SRM_ALPHA,
    Experiment,
    ExperimentStatus,
    Variant,
    srm_p_value,
)
from reclaim.domain.flows import flow_to_data
from reclaim.domain.variants import (
    TARGET_FLOW,
    VariantSpec,
    apply_overrides,
    check_variants,
    variant_flow,
)
from reclaim.errors import Conflict, InvalidInput, NotFound
from reclaim.services.alerts import raise_alert
from reclaim.services.audit import record
from reclaim.services.experiment_view import ExperimentView, frozen_decision, view_of
from reclaim.services.flows import FlowDefaults, active_flow, save_flow
from reclaim.services.ports import FlowVersion, UnitOfWork

SRM_ALERT = "sample_ratio_mismatch"
_NAME_MAX = 120


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= _NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(f"name must be 1–{_NAME_MAX} characters on one line", field="name")
    return name


def _check_kind(kind: str) -> str:
    kinds = sorted(k.value for k in CaseKind)
    if kind not in kinds:
        raise InvalidInput(f"kind must be one of {'|'.join(kinds)}", field="kind")
    return kind


def start_experiment(
    *,
    uow: UnitOfWork,
    store_id: str,
    name: str,
    kind: str,
    variants: Sequence[VariantSpec],
    step: str | None,
    defaults: FlowDefaults,
    now: datetime,
    actor: Actor | None = None,
) -> ExperimentView:
    """Start an experiment of the store's ``kind`` flow (``step`` None: each variant runs a
    flow version, the current one unless it names another) or of its ``step`` (each variant
    runs the current flow with that step changed by its overrides). The first variant is the
    control. ``InvalidInput`` names the field; ``Conflict``: the name is taken, or an
    experiment of ``kind`` runs in the store already."""
    name, kind = _check_name(name), _check_kind(kind)
    target = TARGET_FLOW if step is None else step.strip()
    if target == TARGET_FLOW and step is not None:
        raise InvalidInput(
            "name one of the flow's steps; to test whole flows, leave the step out", field="step"
        )
    check_variants(variants, target=target)
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        if uow.experiments.by_name(store_id, name) is not None:
            raise Conflict(
                f"the store has an experiment named {name!r} already (a stopped one keeps "
                "its name): choose another"
            )
        running = uow.experiments.running(store_id, kind, lock=True)
        if running is not None:
            raise Conflict(
                f"experiment {running.name!r} is running for {kind} cases: stop it first "
                f"(reclaim experiment stop --store {store_id} --name …)"
            )
        base = active_flow(uow, store_id, kind, defaults=defaults, now=now)
        if target != TARGET_FLOW:
            apply_overrides(base.flow, target, {})  # the step exists
        made = tuple(
            _variant(uow, i, v, base=base, name=name, target=target, now=now)
            for i, v in enumerate(variants)
        )
        experiment = Experiment(
            store_id=store_id,
            name=name,
            kind=kind,
            target=target,
            variants=made,
            started_at=now,
        )
        uow.experiments.add(experiment)
        view = view_of(uow, experiment, now=now)
        record(
            uow,
            actor,
            "experiment.start",
            f"experiment {name}",
            store_id=store_id,
            after={
                "name": name,
                "kind": kind,
                "target": target,
                "variants": [{"key": v.key, "weight": v.weight} for v in made],
            },
        )
        uow.commit()
    return view


def _variant(
    uow: UnitOfWork,
    index: int,
    spec: VariantSpec,
    *,
    base: FlowVersion,
    name: str,
    target: str,
    now: datetime,
) -> Variant:
    """``spec`` with the flow version its cases run: the one it names, the current one, or a
    new inactive version of the current flow with its overrides."""
    where = f"variants[{index}]"
    if spec.flow_version is not None:
        found = next(
            (
                v
                for v in uow.flows.list(base.store_id)
                if v.kind == base.kind and v.version == spec.flow_version
            ),
            None,
        )
        if found is None:
            raise InvalidInput(
                f"variant {spec.key!r}: the store has no {base.kind} flow version "
                f"{spec.flow_version} (reclaim flows list)",
                field=f"{where}.flow_version",
            )
        return Variant(spec.key, spec.weight, found.id, {})
    if not spec.overrides:
        return Variant(spec.key, spec.weight, base.id, {})
    try:
        changed = apply_overrides(base.flow, target, spec.overrides)
    except InvalidInput as exc:
        raise InvalidInput(f"variant {spec.key!r}: {exc}", field=f"{where}.{exc.field}") from None
    flow = variant_flow(changed, experiment=name, variant=spec.key)
    source = (
        f"# experiment {json.dumps(name, ensure_ascii=False)}, variant {spec.key}: version "
        f"{base.version} with step {target} changed by "
        f"{json.dumps(dict(spec.overrides), ensure_ascii=False, default=str)}\n"
        + json.dumps(flow_to_data(flow), ensure_ascii=False, indent=2)
        + "\n"
    )
    flow_id = save_flow(
        uow, store_id=base.store_id, source=source, flow=flow, now=now, active=False
    )
    return Variant(spec.key, spec.weight, flow_id, dict(spec.overrides))


def _find(
    uow: UnitOfWork,
    store_id: str,
    *,
    name: str | None,
    experiment_id: int | None,
    lock: bool = False,
) -> Experiment:
    if uow.stores.get(store_id) is None:
        raise NotFound(f"no store {store_id[:40]!r}")
    if experiment_id is not None:
        found = uow.experiments.get(experiment_id, lock=lock)
        if found is None or found.store_id != store_id:
            raise NotFound(f"no experiment {experiment_id} in this store")
        return found
    assert name is not None
    found = uow.experiments.by_name(store_id, name.strip(), lock=lock)
    if found is None:
        raise NotFound(
            f"no experiment named {name.strip()[:120]!r} in this store "
            "(reclaim experiment status --store ID lists them)"
        )
    return found


def experiment_status(
    *,
    uow: UnitOfWork,
    store_id: str,
    now: datetime,
    name: str | None = None,
    experiment_id: int | None = None,
) -> list[ExperimentView]:
    """The store's experiments (the newest first), or the one named or numbered."""
    with uow:
        if name is None and experiment_id is None:
            if uow.stores.get(store_id) is None:
                raise NotFound(f"no store {store_id[:40]!r}")
            found = list(uow.experiments.list(store_id))
        else:
            found = [_find(uow, store_id, name=name, experiment_id=experiment_id)]
        return [view_of(uow, e, now=now) for e in found]


def stop_experiment(
    *,
    uow: UnitOfWork,
    store_id: str,
    now: datetime,
    name: str | None = None,
    experiment_id: int | None = None,
    actor: Actor | None = None,
) -> ExperimentView:
    """Stop the experiment and freeze its decision: the counts, the decision and its evidence
    as they stand now are kept, and its status shows them from then on. Cases opened after
    the stop run the store's current flow; cases already assigned finish their variant's.
    Stopping a stopped experiment changes nothing."""
    with uow:
        experiment = _find(uow, store_id, name=name, experiment_id=experiment_id, lock=True)
        if experiment.status == ExperimentStatus.RUNNING:
            live = view_of(uow, experiment, now=now)
            experiment.status = ExperimentStatus.STOPPED
            experiment.stopped_at = now
            experiment.decision = frozen_decision(live)
            uow.experiments.save(experiment)
            record(
                uow,
                actor,
                "experiment.stop",
                f"experiment {experiment.name}",
                store_id=store_id,
                before={"status": ExperimentStatus.RUNNING.value},
                after={"status": ExperimentStatus.STOPPED.value},
            )
            uow.commit()
        return view_of(uow, experiment, now=now)


def check_splits(*, uow: UnitOfWork, now: datetime) -> int:
    """Raise the ``sample_ratio_mismatch`` alert for each running experiment whose split
    between variants no chance explains (p < ``SRM_ALPHA``), once per experiment (the worker
    calls this after rounds that opened cases). How many alerts were raised."""
    raised = 0
    with uow:
        for experiment in uow.experiments.all_running():
            counts = {c.variant: c.cases for c in uow.experiments.counts(experiment)}
            weights = {v.key: v.weight for v in experiment.variants}
            p = srm_p_value(counts, weights)
            if p >= SRM_ALPHA or experiment.id is None:
                continue
            uow.experiments.get(experiment.id, lock=True)  # one worker at a time decides
            told = uow.alerts.of_type(experiment.store_id, SRM_ALERT)
            if any(isinstance(d, dict) and d.get("experiment_id") == experiment.id for d in told):
                continue
            data: dict[str, object] = {
                "experiment_id": experiment.id,
                "name": experiment.name,
                "kind": experiment.kind,
                "p_value": float(f"{p:.3g}"),
                "cases": counts,
                "weights": weights,
            }
            raise_alert(uow, experiment.store_id, SRM_ALERT, data, now=now, every=None)
            raised += 1
        uow.commit()
    return raised
