"""Starting, advancing and stopping a case's flow (SPEC S3).

All of it runs inside the caller's transaction: a case opens with its first step scheduled,
a payment stops the flow in the very commit that records it, and a step's outcome is
recorded together with the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from reclaim.domain.audit import Actor
from reclaim.domain.cases import Case, CaseStatus, FlowState
from reclaim.domain.experiments import assign
from reclaim.domain.flows import Anchor, Flow, flow_to_data, in_holdout, step_due
from reclaim.domain.holds import HoldStatus
from reclaim.domain.steps import ScheduledStep
from reclaim.domain.stores import Store
from reclaim.errors import NotFound
from reclaim.services.audit import record
from reclaim.services.ports import FlowVersion, UnitOfWork

# kind -> (YAML source, parsed flow): the defaults shipped with Reclaim (adapters/flows).
FlowDefaults = Callable[[str], tuple[str, Flow]]


def active_flow(
    uow: UnitOfWork, store_id: str, kind: str, *, defaults: FlowDefaults, now: datetime
) -> FlowVersion:
    """The store's current flow for ``kind``; the default becomes version 1 on first use."""
    current = uow.flows.active(store_id, kind)
    if current is not None:
        return current
    source, flow = defaults(kind)
    save_flow(uow, store_id=store_id, source=source, flow=flow, now=now)
    found = uow.flows.active(store_id, kind)
    assert found is not None
    return found


def save_flow(
    uow: UnitOfWork, *, store_id: str, source: str, flow: Flow, now: datetime, active: bool = True
) -> int:
    """A new active version of the store's flow for ``flow.kind``; running cases keep theirs.
    Not ``active``: a version only an experiment's variant runs (services/experiments.py)."""
    return uow.flows.add(
        store_id=store_id,
        kind=flow.kind.value,
        name=flow.name,
        source=source,
        definition=flow_to_data(flow),
        now=now,
        active=active,
    )


def start_flow(
    uow: UnitOfWork, store: Store, case: Case, *, defaults: FlowDefaults, now: datetime
) -> None:
    """Put a newly opened case on its store's flow, or in the holdout group.

    A case that is not held out, opened while an experiment of its kind runs in the store,
    is assigned a variant and runs that variant's flow version (docs/experiments.md)."""
    assert case.id is not None
    version = active_flow(uow, store.id, case.kind, defaults=defaults, now=now)
    case.flow_id = version.id
    if in_holdout(store.id, case.kind, case.subject_id, version.flow.holdout):
        case.holdout = True
        case.flow_state = FlowState.HOLDOUT
        uow.cases.add_event(case.id, at=now, type="holdout", data={"flow": version.version})
        return
    version = _experiment_version(uow, case, now=now) or version
    case.flow_id = version.id
    uow.cases.add_event(
        case.id,
        at=now,
        type="flow_started",
        data={"flow": version.version, "name": version.flow.name},
    )
    schedule_after(uow, store, case, version, position=-1, now=now)


def case_key(case: Case) -> str:
    """What an experiment hashes to assign ``case`` a variant: stable for the case (its
    store, kind and subject), so a replay assigns it the same variant."""
    return f"{case.store_id}:{case.kind}:{case.subject_id}"


def _experiment_version(uow: UnitOfWork, case: Case, *, now: datetime) -> FlowVersion | None:
    """The flow version of the variant ``case`` is assigned, when an experiment of its kind
    runs in its store; the assignment is kept on the case and as its event."""
    assert case.id is not None
    experiment = uow.experiments.running(case.store_id, case.kind)
    if experiment is None or experiment.id is None:
        return None
    weights = [(v.key, v.weight) for v in experiment.variants]
    key = assign(experiment.id, case_key(case), weights)
    variant = next(v for v in experiment.variants if v.key == key)
    version = None if variant.flow_id is None else uow.flows.get(variant.flow_id)
    if version is None:
        return None  # not materialised: the case runs the store's flow, unassigned
    case.experiment_id, case.variant = experiment.id, key
    uow.cases.add_event(
        case.id,
        at=now,
        type="experiment",
        data={"experiment": experiment.id, "name": experiment.name, "variant": key},
    )
    return version


def schedule_after(
    uow: UnitOfWork, store: Store, case: Case, version: FlowVersion, *, position: int, now: datetime
) -> ScheduledStep | None:
    """Schedule the step after ``position`` (-1: the first), or finish the flow."""
    assert case.id is not None
    step = version.flow.step(position + 1)
    if step is None:
        case.flow_state = FlowState.FINISHED
        case.next_step_at = None
        return None
    hold_end = None
    if step.anchor is Anchor.HOLD_END and case.order_external_id:
        hold = uow.stock.hold(store.id, case.order_external_id)
        if hold is not None and hold.status == HoldStatus.ACTIVE:
            hold_end = hold.expires_at
    due = step_due(
        step, case, hold_period=store.settings.hold_period, not_before=now, hold_end=hold_end
    )
    row = ScheduledStep(
        store_id=store.id,
        case_id=case.id,
        flow_id=version.id,
        position=position + 1,
        key=step.key,
        due_at=due,
        created_at=now,
    )
    uow.steps.add(row)
    case.flow_state = FlowState.RUNNING
    case.next_step_at = due
    return row


def stop_flow(uow: UnitOfWork, case: Case, *, at: datetime, reason: str) -> int:
    """Cancel the case's steps that have not started, in the caller's transaction.

    A message rendered and queued but not yet handed to the channel is called back (the
    sender finds it cancelled); one already handed over cannot be. Everything after it is
    never scheduled because the case is no longer running.
    """
    assert case.id is not None
    cancelled = uow.steps.cancel_pending(case.id, now=at, outcome=reason)
    uow.messages.call_back(case.id)
    if case.flow_state == FlowState.RUNNING:
        case.flow_state = FlowState.STOPPED
        case.flow_stop_reason = reason
        case.next_step_at = None
        uow.cases.add_event(case.id, at=at, type="flow_stopped", data={"reason": reason})
    return cancelled


def stop_customer_flows(
    uow: UnitOfWork, store_id: str, customer_key: str, *, at: datetime, reason: str
) -> int:
    """Stop the flows of every open case of one customer (unsubscribe, bounce, complaint)."""
    stopped = 0
    for case in uow.cases.open_for_customer(store_id, customer_key):
        stopped += stop_flow(uow, case, at=at, reason=reason)
    return stopped


def is_running(case: Case) -> bool:
    return case.status == CaseStatus.OPEN and case.flow_state == FlowState.RUNNING


def set_flow(
    *,
    uow: UnitOfWork,
    store_id: str,
    source: str,
    flow: Flow,
    now: datetime,
    actor: Actor | None = None,
) -> int:
    """Install ``flow`` (parsed from ``source``) as the store's new version; returns it."""
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        was = uow.flows.active(store_id, flow.kind.value)
        save_flow(uow, store_id=store_id, source=source, flow=flow, now=now)
        current = uow.flows.active(store_id, flow.kind.value)
        record(
            uow,
            actor,
            "flow.set",
            flow.kind.value,
            store_id=store_id,
            before=None if was is None else {"version": was.version, "name": was.flow.name},
            after=None if current is None else {"version": current.version, "name": flow.name},
        )
        uow.commit()
        assert current is not None
        return current.version


def list_flows(*, uow: UnitOfWork, store_id: str) -> list[FlowVersion]:
    with uow:
        return list(uow.flows.list(store_id))
