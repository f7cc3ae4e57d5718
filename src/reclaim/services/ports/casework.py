"""The console's reads of the daily work (SPEC S11): the follow-up queue ranked in the
database, and everything about one customer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from reclaim.domain.cases import Case
from reclaim.domain.facts import Order
from reclaim.domain.priority import QueueQuery
from reclaim.domain.steps import MessageRecord


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One customer found by a search: their newest case's contact details."""

    store_id: str
    customer_key: str
    email: str | None
    phone: str | None
    cases: int
    last_at: datetime


class CaseworkReader(Protocol):
    def queue(
        self,
        query: QueueQuery,
        *,
        now: datetime,
        margins: Mapping[str, Decimal | None],
        offset: int,
        limit: int,
    ) -> Sequence[tuple[Case, int]]:
        """Open cases matching ``query``, highest :func:`reclaim.domain.priority.priority`
        first (ties: newest case first), each with its score; ``margins``: each store's
        gross margin."""
        ...

    def queue_count(self, query: QueueQuery, *, now: datetime) -> int: ...

    def customer_cases(self, store_id: str, customer_key: str, *, limit: int) -> Sequence[Case]:
        """Newest first."""
        ...

    def customer_orders(self, store_id: str, customer_key: str, *, limit: int) -> Sequence[Order]:
        """Newest first."""
        ...

    def customer_messages(
        self, store_id: str, customer_key: str, *, limit: int
    ) -> Sequence[MessageRecord]:
        """Newest first."""
        ...

    def paid_orders_count(self, store_id: str, customer_key: str) -> int: ...

    def find_customers(
        self, store_ids: Sequence[str], text: str, *, offset: int, limit: int
    ) -> Sequence[CustomerRow]:
        """Customers with a case whose email or phone starts with ``text`` (case-blind), or
        whose customer key is ``text``; the most recent first."""
        ...
