"""Reading cases (the API's and the console's view of them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reclaim.domain.audit import Actor
from reclaim.domain.cases import TEST_MODE_EVENT, Case, CaseKind, CaseStatus, FlowState
from reclaim.domain.outcomes import NotSent, why_not_sent
from reclaim.domain.steps import MessageRecord, ScheduledStep
from reclaim.errors import Conflict, InvalidInput, NotFound
from reclaim.services.audit import record
from reclaim.services.flows import stop_flow
from reclaim.services.ports import UnitOfWork

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: Sequence[Case]
    next_cursor: int | None
    not_sent: Mapping[int, NotSent] = field(default_factory=dict)  # by case id, when so
    tests: frozenset[int] = frozenset()  # the ids of test-mode cases among them

    def why_not_sent(self, case: Case) -> NotSent | None:
        """Why ``case`` has had no message yet (None: it has had one)."""
        return self.not_sent.get(case.id or 0)

    def is_test(self, case: Case) -> bool:
        """A test-mode case (the store accepts test mode: docs/security.md)."""
        return (case.id or 0) in self.tests


def list_cases(
    *,
    uow: UnitOfWork,
    store_id: str,
    status: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> CasePage:
    """Newest first; ``next_cursor`` is the value to pass as ``cursor`` for the next page."""
    if status is not None and status not in {s.value for s in CaseStatus}:
        raise InvalidInput(
            f"status must be one of {'|'.join(s.value for s in CaseStatus)}", field="status"
        )
    if kind is not None and kind not in {k.value for k in CaseKind}:
        raise InvalidInput(
            f"kind must be one of {'|'.join(k.value for k in CaseKind)}", field="kind"
        )
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    with uow:
        rows = list(
            uow.cases.page(
                store_id=store_id,
                status=status,
                kind=kind,
                since=since,
                after_id=cursor,
                limit=limit + 1,
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        by_case: dict[int, list[ScheduledStep]] = {}
        for step in uow.steps.for_cases([c.id for c in rows if c.id is not None]):
            by_case.setdefault(step.case_id, []).append(step)
        tests = uow.cases.with_event([c.id for c in rows if c.id is not None], TEST_MODE_EVENT)
    not_sent = {
        c.id: why
        for c in rows
        if c.id is not None and (why := why_not_sent(c, by_case.get(c.id, []))) is not None
    }
    return CasePage(rows, rows[-1].id if more and rows else None, not_sent, frozenset(tests))


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: Case
    events: Sequence[tuple[datetime, str, dict[str, object]]]
    messages: Sequence[tuple[MessageRecord, str]]  # each with its step's key
    steps: Sequence[ScheduledStep]

    @property
    def why_not_sent(self) -> NotSent | None:
        """Why the case has had no message yet, in plain words (None: it has had one)."""
        return why_not_sent(self.case, self.steps)

    @property
    def test(self) -> bool:
        """A test-mode case (opened from a platform's test where the store accepts them)."""
        return any(type == TEST_MODE_EVENT for _, type, _ in self.events)


def get_case(*, uow: UnitOfWork, store_id: str, case_id: int) -> CaseDetail:
    with uow:
        case = uow.cases.get(case_id, store_id=store_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        steps = list(uow.steps.for_case(case_id))
        keys = {s.id: s.key for s in steps}
        messages = [(m, keys.get(m.step_id, "")) for m in uow.messages.for_case(case_id)]
        return CaseDetail(case, list(uow.cases.events(case_id)), messages, steps)


def stop_case(
    *, uow: UnitOfWork, store_id: str, case_id: int, now: datetime, actor: Actor | None = None
) -> int:
    """An operator stops the case's flow (SPEC S3 "manual stop"); returns steps cancelled."""
    with uow:
        case = uow.cases.get(case_id, store_id=store_id, lock=True)
        if case is None:
            raise NotFound(f"no case {case_id}")
        if case.flow_state != FlowState.RUNNING:
            raise Conflict(
                f"case {case_id} has no running flow (it is {case.flow_state or 'none'})"
            )
        cancelled = stop_flow(uow, case, at=now, reason="manual_stop")
        record(
            uow,
            actor,
            "case.stop",
            case_id,
            store_id=store_id,
            before={"flow_state": FlowState.RUNNING.value},
            after={"flow_state": case.flow_state, "steps_cancelled": cancelled},
        )
        uow.commit()
        return cancelled
