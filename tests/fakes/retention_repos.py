"""The fake retention repository: the SQL one's cut-offs over the in-memory tables, children
deleted with their parents, and the last prune of each store kept in ``meta``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fakes.base import Repo
from reclaim.domain.cases import CaseStatus

FINISHED = ("processed", "ignored", "failed", "erased")
_MARK = "pruned:"


class FakeRetention(Repo):
    def _closed(self, store_id: str) -> set[int]:
        return {
            i
            for i, c in self.t.cases.items()
            if c.store_id == store_id and c.status != CaseStatus.OPEN
        }

    def _all(
        self, kind: str, store_id: str, before: datetime, keep_types: Sequence[str]
    ) -> list[int]:
        if kind == "deliveries":
            return sorted(
                i
                for i, d in self.t.inbox.items()
                if d.store_id == store_id and d.received_at < before and d.status in FINISHED
            )
        if kind == "events":
            closed = self._closed(store_id)
            return sorted(
                i
                for i, e in self.t.case_events.items()
                if e.owner in closed and e.at < before and e.type not in keep_types
            )
        if kind == "messages":
            closed = self._closed(store_id)
            return sorted(
                i
                for i, m in self.t.messages.items()
                if m.store_id == store_id and m.created_at < before and m.case_id in closed
            )
        if kind == "closed_cases":
            return sorted(
                i
                for i in self._closed(store_id)
                if (at := self.t.cases[i].closed_at) is not None and at < before
            )
        raise ValueError(f"unknown retention kind {kind!r}")

    def expired(
        self,
        kind: str,
        *,
        store_id: str,
        before: datetime,
        limit: int,
        keep_types: Sequence[str] = (),
    ) -> Sequence[int]:
        return self._all(kind, store_id, before, keep_types)[:limit]

    def count_expired(
        self, kind: str, *, store_id: str, before: datetime, keep_types: Sequence[str] = ()
    ) -> int:
        return len(self._all(kind, store_id, before, keep_types))

    def delete(self, kind: str, ids: Sequence[int]) -> int:
        wanted = set(ids)
        t = self.t
        if kind == "deliveries":
            return _drop(t.inbox, wanted)
        if kind == "events":
            return _drop(t.case_events, wanted)
        if kind == "messages":
            _drop(t.message_events, {i for i, e in t.message_events.items() if e.owner in wanted})
            return _drop(t.messages, wanted)
        if kind == "closed_cases":
            theirs = {i for i, m in t.messages.items() if m.case_id in wanted}
            _drop(t.message_events, {i for i, e in t.message_events.items() if e.owner in theirs})
            _drop(t.messages, theirs)
            _drop(t.steps, {i for i, s in t.steps.items() if s.case_id in wanted})
            _drop(t.coupons, {i for i, c in t.coupons.items() if c.case_id in wanted})
            _drop(t.case_events, {i for i, e in t.case_events.items() if e.owner in wanted})
            _drop(t.case_reasons, {k for k in t.case_reasons if k[0] in wanted})
            return _drop(t.cases, wanted)
        raise ValueError(f"unknown retention kind {kind!r}")

    def last_pruned(self, store_ids: Sequence[str]) -> dict[str, datetime]:
        return {
            sid: datetime.fromisoformat(self.t.meta[_MARK + sid])
            for sid in store_ids
            if _MARK + sid in self.t.meta
        }

    def mark_pruned(self, store_id: str, at: datetime) -> None:
        self.t.meta[_MARK + store_id] = at.isoformat()


def _drop(table: dict[object, object], keys: set[object]) -> int:
    gone = [k for k in keys if k in table]
    for k in gone:
        del table[k]
    return len(gone)
