"""Recovery cases: one per abandoned checkout, pending order or failed payment (SPEC S2).

A case is opened ``open`` and ends exactly once in one of the terminal states. Transitions
are methods that return whether they changed anything, so callers can record an event only
when something happened and redeliveries stay no-ops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from reclaim.domain.events import Contact, LineItem

# The event that marks a case opened from a platform's test (Stripe's livemode false, a
# Shopify test order, the events API's test) where the store accepts test mode: the case is
# a test, and says so in its API, its messages' subjects and the worker's summary.
TEST_MODE_EVENT = "test_mode"


class CaseKind(StrEnum):
    ABANDONED_CHECKOUT = "abandoned_checkout"
    PENDING_ORDER = "pending_order"
    FAILED_PAYMENT = "failed_payment"
    SHIPMENT_EXCEPTION = "shipment_exception"  # a parcel going wrong (SPEC S9): service, not sales


class CaseStatus(StrEnum):
    OPEN = "open"
    RECOVERED = "recovered"
    LOST = "lost"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"
    EXPIRED = "expired"
    RESOLVED = "resolved"  # logistics cases: the parcel was delivered after all


class FlowState(StrEnum):
    RUNNING = "running"  # a step is scheduled
    HOLDOUT = "holdout"  # deliberately gets no messages (lift measurement)
    FINISHED = "finished"  # every step done
    STOPPED = "stopped"  # stopped early: the case closed, unsubscribe, bounce, manual stop
    NONE = "none"  # no flow for this kind, or nothing could be sent


class Attribution(StrEnum):
    MESSAGE = "message"
    ORGANIC = "organic"


@dataclass(eq=False)
class Case:
    store_id: str
    kind: str
    subject_id: str  # checkout / order external id, or payment intent id
    customer_key: str | None
    email: str | None
    phone: str | None
    contact: Contact
    value: Decimal
    currency: str
    items: tuple[LineItem, ...]
    reason: str
    occurred_at: datetime  # when the opportunity arose (last activity, order, failure)
    created_at: datetime  # when Reclaim opened the case
    checkout_external_id: str | None = None
    order_external_id: str | None = None
    intent_id: str | None = None
    reason_code: str | None = None
    recovery_url: str | None = None
    expires_at: datetime | None = None
    status: str = CaseStatus.OPEN
    closed_at: datetime | None = None
    close_reason: str | None = None
    recovered_order_external_id: str | None = None
    recovered_value: Decimal | None = None
    attribution: str | None = None
    merged_from: list[int] = field(default_factory=list)
    updated_at: datetime | None = None
    flow_id: int | None = None
    flow_state: str | None = None
    flow_stop_reason: str | None = None
    holdout: bool = False
    next_step_at: datetime | None = None
    attributed_message_id: int | None = None
    # What reports group by (issue 15): the customer's country (ISO 3166-1 alpha-2) when the
    # case opened, the device of the checkout or order (domain.devices), and the experiment
    # and variant the case was assigned to.
    country: str | None = None
    device: str | None = None
    experiment_id: int | None = None
    variant: str | None = None
    # The console's follow-up (SPEC S11): the user who took the case; True while a person
    # works it instead of the flow (no step is sent).
    assignee_id: int | None = None
    manual: bool = False
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    @property
    def customer_locale(self) -> str | None:
        return self.contact.locale

    @property
    def customer_timezone(self) -> str | None:
        return self.contact.timezone

    def recover(
        self, *, at: datetime, order_external_id: str | None, value: Decimal | None, how: str
    ) -> bool:
        """The customer completed or paid. Attribution to messages arrives with flows."""
        if not self.is_open:
            return False
        self.status = CaseStatus.RECOVERED
        self.closed_at = at
        self.close_reason = how
        self.recovered_order_external_id = order_external_id
        self.recovered_value = value if value is not None else self.value
        self.attribution = Attribution.ORGANIC
        self.updated_at = at
        return True

    def close(self, status: CaseStatus, *, at: datetime, reason: str) -> bool:
        if not self.is_open or status in (CaseStatus.OPEN, CaseStatus.RECOVERED):
            return False
        self.status = status
        self.closed_at = at
        self.close_reason = reason
        self.updated_at = at
        return True

    def refresh(
        self, *, value: Decimal, items: tuple[LineItem, ...], contact: Contact, at: datetime
    ) -> bool:
        """The customer changed the cart of an open case: keep the case, update what it holds."""
        if not self.is_open or (value, items, contact) == (self.value, self.items, self.contact):
            return False
        self.value, self.items, self.contact = value, items, contact
        self.updated_at = at
        return True


class ReasonSource(StrEnum):
    INFERRED = "inferred"  # read from the facts when the case opened (domain.abandonment)
    CUSTOMER = "customer"  # the customer's own answer ("What stopped you?")


@dataclass(frozen=True, slots=True)
class CaseReason:
    """One reason a case was abandoned, from the taxonomy of :mod:`reclaim.domain.abandonment`
    (``reason`` is a ``Reason`` value). ``detail`` is the evidence in plain words, or the
    customer's own text. A case has each reason at most once per source."""

    case_id: int
    store_id: str
    reason: str
    source: str
    at: datetime
    detail: str | None = None


def items_overlap(a: tuple[LineItem, ...], b: tuple[LineItem, ...]) -> bool:
    """Do two purchases share an item? An empty side matches anything (nothing to compare)."""
    if not a or not b:
        return True
    return not {i.match_key for i in a}.isdisjoint({i.match_key for i in b})
