"""Retention (SPEC S13): finding and deleting what is past its window, in batches, and when
each store was last pruned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class RetentionRepository(Protocol):
    """``kind`` is a :mod:`reclaim.domain.retention` kind's name: ``deliveries`` (inbox rows
    received before ``before`` and processed, ignored, failed or erased), ``events`` (events
    of the store's closed cases, at before ``before``, but not ``keep_types``), ``messages``
    (messages of closed cases written before ``before``), ``closed_cases`` (cases closed
    before ``before``), or the facts no open case names and nothing waits on: ``checkouts``
    (last updated before ``before``, no longer active), ``orders`` (last updated before
    ``before``, not watched, no active hold, no pending platform call, no shipment scanned
    since; deleted with their shipments and scans) and ``payments`` (attempts before
    ``before``, not watched)."""

    def expired(
        self,
        kind: str,
        *,
        store_id: str,
        before: datetime,
        limit: int,
        keep_types: Sequence[str] = (),
    ) -> Sequence[int]:
        """The ids of up to ``limit`` of the store's rows of ``kind`` past the cut-off, oldest
        ids first."""
        ...

    def count_expired(
        self, kind: str, *, store_id: str, before: datetime, keep_types: Sequence[str] = ()
    ) -> int: ...

    def delete(self, kind: str, ids: Sequence[int]) -> int:
        """Delete those rows and what hangs on them (a message's events; a case's events,
        reasons, steps, messages and their events, coupons; an order's shipments and their
        scans); how many of ``ids`` went."""
        ...

    def last_pruned(self, store_ids: Sequence[str]) -> dict[str, datetime]: ...
    def mark_pruned(self, store_id: str, at: datetime) -> None: ...
