"""The report's read port (issue 15): what a period's report needs from the database, as
aggregates the database computes (counts and sums grouped by a few columns), never every row.

The one exception is :attr:`CohortFacts.recovered`: one small row per recovered case (a
fifth or so of the cases), for medians and the bootstrap of revenue per case.

:meth:`ReportReader.cohort` answers everything about the cases opened (``cases.created_at``)
in ``[start, end)`` of one store, of the sales kinds (abandoned checkouts, pending orders,
failed payments), test-mode cases left out: the period's cohort, read once (its messages,
reasons and coupons with it). The funnel reads the facts created in ``[start, end)``.

The scheduled report emails add :class:`ReportSends`, the durable record of what was sent for
each store and period (the report drawn for them is ``ReportRenderer``, beside its one user
in ``services/reports/mail.py``: it takes a ``Report``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

# What a report may group cases by (``by``): a column of the case, or of the messages sent
# for it (channel, step).
CASE_DIMENSIONS = ("country", "device", "variant", "flow")
MESSAGE_DIMENSIONS = ("channel", "step")
DIMENSIONS = (*CASE_DIMENSIONS, *MESSAGE_DIMENSIONS)
# What the funnel's facts (checkouts, orders) carry too: the contact's country and the
# browser's user agent (its device, as reclaim.domain.devices.device_of reads it).
FUNNEL_DIMENSIONS = ("country", "device")


@dataclass(frozen=True, slots=True)
class FunnelCounts:
    """Facts created in the period, by how far they went (definitions: docs/reports.md)."""

    carts: int  # checkouts observed
    checkouts: int  # of which the customer gave contact details (email or phone)
    orders: int  # orders placed
    paid: int  # of which paid (paid_at set, refunded later or not)
    shipped: int  # of which have a shipment
    delivered: int  # of which a shipment was delivered


@dataclass(frozen=True, slots=True)
class FunnelGroup:
    """The funnel of the facts with one value of a dimension (``key`` None: unknown)."""

    key: str | None
    counts: FunnelCounts


@dataclass(frozen=True, slots=True)
class CaseGroup:
    """Cases of one kind, arm and (with ``by``) dimension value: how many opened, how many
    recovered. ``arm``: ``messaged`` (on a flow, not held out), ``holdout``, or ``none`` (no
    flow started: counted, but in neither arm of the lift)."""

    kind: str
    arm: str
    key: str | None
    opened: int
    recovered: int


@dataclass(frozen=True, slots=True)
class RecoveredCase:
    """One recovered case: its value, and whether its order was refunded since."""

    kind: str
    arm: str
    key: str | None
    attribution: str | None  # message | organic
    value: Decimal
    currency: str
    opened_at: datetime
    recovered_at: datetime
    refunded: bool


@dataclass(frozen=True, slots=True)
class MessageGroup:
    """Messages sent for the period's cases, by ``key`` (the channel or the step; None
    without ``by``): how many, to how many cases."""

    key: str | None
    sent: int
    cases: int


@dataclass(frozen=True, slots=True)
class CouponCost:
    """Reclaim's coupons redeemed on the period's cases, in one currency: their discounts
    summed, and how many redeemed coupons do not know their discount."""

    currency: str
    redeemed: int
    discount: Decimal
    unknown: int


@dataclass(frozen=True, slots=True)
class ReasonCount:
    source: str  # inferred | customer
    reason: str
    cases: int


@dataclass(frozen=True, slots=True)
class CohortFacts:
    """What a report needs from its period's cohort of cases, read together.

    ``groups``: the cases by kind, arm and, when ``by`` is one of :data:`CASE_DIMENSIONS`, its
    value (``key``; None otherwise). ``recovered``: every recovered case, in the order of
    the case ids, ``key`` likewise. ``messages``: the messages sent for the cohort (one group,
    ``key`` None; none without messages). With ``by`` one of :data:`MESSAGE_DIMENSIONS`:
    ``by_messages`` grouped by the channel or step, and ``by_recovered``: the recovered cases
    attributed to a message, ``key`` that message's channel or step. ``coupons``: Reclaim's
    coupons redeemed on the cohort, by currency. ``reasons``: the cohort's reasons by source;
    ``answered``: how many of the cases have at least one answer of the customer's."""

    groups: Sequence[CaseGroup]
    recovered: Sequence[RecoveredCase]
    messages: Sequence[MessageGroup]
    coupons: Sequence[CouponCost]
    reasons: Sequence[ReasonCount]
    answered: int
    by_messages: Sequence[MessageGroup] = ()
    by_recovered: Sequence[RecoveredCase] = ()


class ReportReader(Protocol):
    def has_data(self, store_id: str) -> bool:
        """Whether the store has any checkout, order or case at all."""
        ...

    def funnel(self, store_id: str, start: datetime, end: datetime) -> FunnelCounts: ...
    def funnel_by(
        self, store_id: str, start: datetime, end: datetime, *, by: str
    ) -> Sequence[FunnelGroup]:
        """The funnel grouped by one of :data:`FUNNEL_DIMENSIONS`, in the database: the
        checkout's or order's country (contact) or device (user agent); shipped and
        delivered go with their order's value."""
        ...

    def cohort(
        self, store_id: str, start: datetime, end: datetime, *, by: str | None = None
    ) -> CohortFacts:
        """The period's cohort of cases and what they led to. ``by``: one of
        :data:`DIMENSIONS` or None (see :class:`CohortFacts`)."""
        ...


class ReportSends(Protocol):
    """What the scheduled report emails did: one record (text, the service's JSON) per
    store and period, under a key such as ``st_…:2026-W45``. Several workers share it: a
    record is added only where none is, and replaced only where it still holds what the
    replacing worker read (compare and set)."""

    def get(self, keys: Sequence[str]) -> dict[str, str]:
        """The records of those of ``keys`` that have one."""
        ...

    def add(self, key: str, value: str) -> bool:
        """Add the record; False when ``key`` has one already (it is left as it is)."""
        ...

    def swap(self, key: str, old: str, new: str) -> bool:
        """Replace the record ``old`` by ``new``; False when it holds anything else now."""
        ...
