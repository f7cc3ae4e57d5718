"""Starting, advancing and stopping a case's flow (SPEC S3).

All of it runs inside the caller's transaction: a case opens with its first step scheduled,
a payment stops the flow in the very commit that records it, and a step's outcome is
recorded together with the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from reclaim.domain.cases import Case, CaseStatus, FlowState
from reclaim.domain.flows import Anchor, Flow, flow_to_data, in_holdout, step_due
from reclaim.domain.holds import HoldStatus
from reclaim.domain.steps import ScheduledStep
from reclaim.domain.stores import Store
from reclaim.errors import NotFound
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


def save_flow(uow: UnitOfWork, *, store_id: str, source: str, flow: Flow, now: datetime) -> int:
    """A new active version of the store's flow for ``flow.kind``; running cases keep theirs."""
    return uow.flows.add(
        store_id=store_id,
        kind=flow.kind.value,
        name=flow.name,
        source=source,
        definition=flow_to_data(flow),
        now=now,
    )


def start_flow(
    uow: UnitOfWork, store: Store, case: Case, *, defaults: FlowDefaults, now: datetime
) -> None:
    """Put a newly opened case on its store's flow, or in the holdout group."""
    assert case.id is not None
    version = active_flow(uow, store.id, case.kind, defaults=defaults, now=now)
    case.flow_id = version.id
    if in_holdout(store.id, case.kind, case.subject_id, version.flow.holdout):
        case.holdout = True
        case.flow_state = FlowState.HOLDOUT
        uow.cases.add_event(case.id, at=now, type="holdout", data={"flow": version.version})
        return
    uow.cases.add_event(
        case.id,
        at=now,
        type="flow_started",
        data={"flow": version.version, "name": version.flow.name},
    )
    schedule_after(uow, store, case, version, position=-1, now=now)


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


def set_flow(*, uow: UnitOfWork, store_id: str, source: str, flow: Flow, now: datetime) -> int:
    """Install ``flow`` (parsed from ``source``) as the store's new version; returns it."""
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        save_flow(uow, store_id=store_id, source=source, flow=flow, now=now)
        current = uow.flows.active(store_id, flow.kind.value)
        uow.commit()
        assert current is not None
        return current.version


def list_flows(*, uow: UnitOfWork, store_id: str) -> list[FlowVersion]:
    with uow:
        return list(uow.flows.list(store_id))
