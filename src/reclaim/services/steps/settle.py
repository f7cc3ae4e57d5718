"""Settling a step that sends nothing now: it waits (due again later) or is skipped, and
after a step is settled the flow moves on (the next step scheduled, or the case closed)."""

from __future__ import annotations

from datetime import datetime

from reclaim.domain.cases import Case, CaseStatus, FlowState
from reclaim.domain.steps import ScheduledStep, StepStatus
from reclaim.services.flows import schedule_after
from reclaim.services.ports import UnitOfWork
from reclaim.services.resolution import close
from reclaim.services.steps.model import DeliveryStats


def _wait(step: ScheduledStep, case: Case, until: datetime, why: str, stats: DeliveryStats) -> None:
    step.status, step.due_at, step.lease_until, step.outcome = (
        StepStatus.SCHEDULED,
        until,
        None,
        f"waiting_{why}",
    )
    case.next_step_at = until
    stats.waiting += 1
    stats.count(f"waiting_{why}")


def _skip(
    uow: UnitOfWork,
    case: Case,
    step: ScheduledStep,
    why: str,
    now: datetime,
    stats: DeliveryStats,
    *,
    status: StepStatus = StepStatus.SKIPPED,
) -> None:
    step.finish(status, at=now, outcome=why)
    assert case.id is not None
    uow.cases.add_event(case.id, at=now, type="step_skipped", data={"step": step.key, "why": why})
    _advance(uow, case, step, now)
    if status is StepStatus.FAILED:
        stats.failed += 1
    else:
        stats.skipped += 1
    stats.count(why)


def _advance(uow: UnitOfWork, case: Case, step: ScheduledStep, now: datetime) -> None:
    """After a step is settled: close the case if the step says so, else the next step."""
    version = uow.flows.get(step.flow_id)
    store = uow.stores.get(step.store_id)
    if version is None or store is None or case.status != CaseStatus.OPEN:
        return
    spec = version.flow.step(step.position)
    if spec is not None and spec.closes_case == "lost":
        close(uow, case, CaseStatus.LOST, at=now, reason="hold_expired")
        return
    if case.flow_state == FlowState.RUNNING:
        schedule_after(uow, store, case, version, position=step.position, now=now)
