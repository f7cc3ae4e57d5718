"""Reading cases (the API's and the console's view of them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reclaim.domain.cases import Case, CaseKind, CaseStatus
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.ports import UnitOfWork

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: Sequence[Case]
    next_cursor: int | None


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
    return CasePage(rows, rows[-1].id if more and rows else None)


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: Case
    events: Sequence[tuple[datetime, str, dict[str, object]]]


def get_case(*, uow: UnitOfWork, store_id: str, case_id: int) -> CaseDetail:
    with uow:
        case = uow.cases.get(case_id, store_id=store_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        return CaseDetail(case, list(uow.cases.events(case_id)))
