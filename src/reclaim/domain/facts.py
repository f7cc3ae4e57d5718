"""The store's current picture of checkouts, orders and payment attempts.

Each entity is built from, and merged with, observations (:mod:`reclaim.domain.events`).
Merging is what makes ingestion order-free:

* the observation with the newer ``(updated_at, rank, digest)`` wins for mutable fields, so a
  stale update never overwrites newer state and equal timestamps still resolve the same way
  whatever the arrival order;
* facts that only ever happen once (completed, paid, cancelled) are *monotone*: once any
  observation shows them they stay, so "paid" arriving before "created" still ends paid.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from reclaim.domain.events import (
    Charges,
    CheckoutObserved,
    Contact,
    FinancialStatus,
    LineItem,
    OrderObserved,
    PaymentObserved,
)


class CheckoutState(StrEnum):
    ACTIVE = "active"  # watched: becomes a case at abandon_due_at
    COMPLETED = "completed"
    ABANDONED = "abandoned"  # a case was opened
    SUPERSEDED = "superseded"  # a newer checkout of the same customer took over
    IGNORED = "ignored"  # test, bot, no contact, backlog, bought elsewhere


class WatchState(StrEnum):
    WATCHING = "watching"
    DETECTED = "detected"
    DONE = "done"
    IGNORED = "ignored"


_FIN_RANK = {
    FinancialStatus.PENDING: 0,
    FinancialStatus.FAILED: 1,
    FinancialStatus.PAID: 2,
    FinancialStatus.REFUNDED: 3,
    FinancialStatus.VOIDED: 3,
}


def customer_key(email: str | None, phone: str | None) -> str | None:
    """One key per reachable customer: the lower-cased email, else the phone's digits."""
    if email and email.strip():
        return email.strip().lower()
    if phone:
        digits = "".join(c for c in phone if c.isdigit())
        if digits:
            return "+" + digits
    return None


def observation_digest(obs: object) -> str:
    """A stable digest of an observation: the last tie-break between equal timestamps."""
    return hashlib.sha1(repr(obs).encode(), usedforsecurity=False).hexdigest()[:16]


def earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


@dataclass(eq=False)
class Checkout:
    store_id: str
    external_id: str
    customer_key: str | None
    email: str | None
    phone: str | None
    contact: Contact
    currency: str
    total: Decimal
    items: tuple[LineItem, ...]
    created_at: datetime
    updated_at: datetime
    version_tag: str
    state: str = CheckoutState.ACTIVE
    completed_at: datetime | None = None
    order_external_id: str | None = None
    recovery_url: str | None = None
    expired_at: datetime | None = None
    user_agent: str | None = None
    is_test: bool = False
    shipping_quote: Decimal | None = None
    shipping_days: int | None = None
    charges: Charges | None = None
    abandon_due_at: datetime | None = None
    ignore_reason: str | None = None
    # When Reclaim last wrote the row (its clock, not the platform's): what retention counts
    # from (a platform's timestamps can be years old, or missing on a deleted order's mark).
    stored_at: datetime | None = None
    id: int | None = None

    @classmethod
    def new(cls, store_id: str, obs: CheckoutObserved, *, delay: timedelta) -> Checkout:
        c = cls(
            store_id=store_id,
            external_id=obs.external_id,
            customer_key=None,
            email=None,
            phone=None,
            contact=obs.contact,
            currency=obs.currency,
            total=obs.total,
            items=obs.items,
            created_at=obs.created_at,
            updated_at=obs.updated_at,
            version_tag="",
        )
        c._take(obs)
        c._merge_monotone(obs)
        c._schedule(delay)
        return c

    def observe(self, obs: CheckoutObserved, *, delay: timedelta) -> bool:
        """Merge ``obs``; return whether anything changed."""
        before = self._snapshot()
        if (obs.updated_at, self._tag(obs)) > (self.updated_at, self.version_tag):
            self._take(obs)
        self._merge_monotone(obs)
        self._schedule(delay)
        return self._snapshot() != before

    @property
    def last_activity_at(self) -> datetime:
        return self.updated_at

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None or self.order_external_id is not None

    @staticmethod
    def _tag(obs: CheckoutObserved) -> str:
        rank = 1 if (obs.completed_at or obs.order_external_id) else 0
        return f"{rank}{observation_digest(obs)}"

    def _take(self, obs: CheckoutObserved) -> None:
        self.contact = obs.contact
        self.email = obs.contact.email
        self.phone = obs.contact.phone
        self.customer_key = customer_key(obs.contact.email, obs.contact.phone)
        self.currency = obs.currency
        self.total = obs.total
        self.items = obs.items
        self.updated_at = obs.updated_at
        self.version_tag = self._tag(obs)
        self.recovery_url = obs.recovery_url or self.recovery_url
        self.user_agent = obs.user_agent
        self.shipping_quote = obs.shipping_quote
        self.shipping_days = obs.shipping_days
        self.charges = obs.charges

    def _merge_monotone(self, obs: CheckoutObserved) -> None:
        self.created_at = min(self.created_at, obs.created_at)
        self.completed_at = earliest(self.completed_at, obs.completed_at)
        self.order_external_id = self.order_external_id or obs.order_external_id
        self.expired_at = earliest(self.expired_at, obs.expired_at)
        self.is_test = self.is_test or obs.is_test

    def _schedule(self, delay: timedelta) -> None:
        if self.is_completed:
            if self.state in (CheckoutState.ACTIVE, CheckoutState.SUPERSEDED):
                self.state = CheckoutState.COMPLETED
            self.abandon_due_at = None
        elif self.state == CheckoutState.ACTIVE:
            due = self.updated_at + delay
            if self.expired_at is not None:
                due = min(due, self.expired_at)
            self.abandon_due_at = due

    def _snapshot(self) -> tuple[object, ...]:
        return (
            self.updated_at,
            self.version_tag,
            self.state,
            self.completed_at,
            self.order_external_id,
            self.expired_at,
            self.is_test,
            self.abandon_due_at,
            self.created_at,
        )


@dataclass(eq=False)
class Order:
    store_id: str
    external_id: str
    customer_key: str | None
    email: str | None
    phone: str | None
    contact: Contact
    currency: str
    total: Decimal
    items: tuple[LineItem, ...]
    created_at: datetime
    updated_at: datetime
    version_tag: str
    financial_status: str
    checkout_external_id: str | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    payment_method: str | None = None
    user_agent: str | None = None
    is_test: bool = False
    order_number: str | None = None
    payment_url: str | None = None
    watch: str = WatchState.WATCHING
    pending_due_at: datetime | None = None
    discount_codes: list[str] = field(default_factory=list)
    charges: Charges | None = None
    payment_title: str | None = None
    payment_instructions: str | None = None
    # When Reclaim last wrote the row (its clock, not the platform's): what retention counts
    # from (a platform's timestamps can be years old, or missing on a deleted order's mark).
    stored_at: datetime | None = None
    id: int | None = None

    @classmethod
    def new(cls, store_id: str, obs: OrderObserved, *, delay: timedelta) -> Order:
        o = cls(
            store_id=store_id,
            external_id=obs.external_id,
            customer_key=None,
            email=None,
            phone=None,
            contact=obs.contact,
            currency=obs.currency,
            total=obs.total,
            items=obs.items,
            created_at=obs.created_at,
            updated_at=obs.updated_at,
            version_tag="",
            financial_status=obs.financial_status,
        )
        o._take(obs)
        o._merge_monotone(obs)
        o._schedule(delay)
        return o

    @classmethod
    def tombstone(cls, store_id: str, external_id: str, *, at: datetime) -> Order:
        """A deleted order known only by its id: cancelled, and older than any real observation
        (so the order's own deliveries, whenever they come, fill in everything else)."""
        return cls(
            store_id=store_id,
            external_id=external_id,
            customer_key=None,
            email=None,
            phone=None,
            contact=Contact(),
            currency="XXX",
            total=Decimal(0),
            items=(),
            created_at=at,
            updated_at=datetime.min.replace(tzinfo=at.tzinfo),
            version_tag="",
            financial_status=FinancialStatus.PENDING,
            cancelled_at=at,
            watch=WatchState.DONE,
        )

    def delete(self, *, at: datetime) -> bool:
        if self.cancelled_at is not None:
            return False
        self.cancelled_at = at
        self._schedule(timedelta(0))
        return True

    def observe(self, obs: OrderObserved, *, delay: timedelta) -> bool:
        before = self._snapshot()
        if (obs.updated_at, self._tag(obs)) > (self.updated_at, self.version_tag):
            self._take(obs)
        self._merge_monotone(obs)
        self._schedule(delay)
        return self._snapshot() != before

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @staticmethod
    def _tag(obs: OrderObserved) -> str:
        rank = _FIN_RANK[obs.financial_status] + (4 if obs.cancelled_at else 0)
        return f"{rank}{observation_digest(obs)}"

    def _take(self, obs: OrderObserved) -> None:
        self.contact = obs.contact
        self.email = obs.contact.email
        self.phone = obs.contact.phone
        self.customer_key = customer_key(obs.contact.email, obs.contact.phone)
        self.currency = obs.currency
        self.total = obs.total
        self.items = obs.items
        self.updated_at = obs.updated_at
        self.version_tag = self._tag(obs)
        self.financial_status = obs.financial_status
        self.payment_method = obs.payment_method
        self.user_agent = obs.user_agent
        self.order_number = obs.order_number or self.order_number
        self.payment_url = obs.payment_url or self.payment_url
        self.charges = obs.charges
        self.payment_title = obs.payment_title
        self.payment_instructions = obs.payment_instructions

    def _merge_monotone(self, obs: OrderObserved) -> None:
        self.created_at = min(self.created_at, obs.created_at)
        paid = obs.paid_at
        if paid is None and obs.financial_status in (
            FinancialStatus.PAID,
            FinancialStatus.REFUNDED,
        ):
            paid = obs.updated_at
        self.paid_at = earliest(self.paid_at, paid)
        self.cancelled_at = earliest(self.cancelled_at, obs.cancelled_at)
        self.checkout_external_id = self.checkout_external_id or obs.checkout_external_id
        self.is_test = self.is_test or obs.is_test
        if not set(obs.discount_codes) <= set(self.discount_codes):  # a code used stays used
            self.discount_codes = sorted({*self.discount_codes, *obs.discount_codes})

    def _schedule(self, delay: timedelta) -> None:
        if self.is_paid or self.is_cancelled:
            if self.watch == WatchState.WATCHING:
                self.watch = WatchState.DONE
            self.pending_due_at = None
        elif self.watch == WatchState.WATCHING:
            self.pending_due_at = self.created_at + delay

    def _snapshot(self) -> tuple[object, ...]:
        return (
            self.updated_at,
            self.version_tag,
            self.paid_at,
            self.cancelled_at,
            self.watch,
            self.pending_due_at,
            self.checkout_external_id,
            self.is_test,
            self.created_at,
            tuple(self.discount_codes),
        )


@dataclass(eq=False)
class PaymentAttempt:
    store_id: str
    external_id: str
    intent_id: str
    customer_key: str | None
    email: str | None
    contact: Contact
    amount: Decimal
    currency: str
    succeeded: bool
    occurred_at: datetime
    order_external_id: str | None = None
    checkout_external_id: str | None = None
    decline_code: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    payment_method: str | None = None
    is_test: bool = False
    watch: str = WatchState.DONE
    due_at: datetime | None = None
    # When Reclaim last wrote the row (its clock, not the platform's): what retention counts
    # from (a platform's timestamps can be years old, or missing on a deleted order's mark).
    stored_at: datetime | None = None
    id: int | None = None

    @classmethod
    def new(cls, store_id: str, obs: PaymentObserved, *, delay: timedelta) -> PaymentAttempt:
        failed = not obs.succeeded
        return cls(
            store_id=store_id,
            external_id=obs.external_id,
            intent_id=obs.intent_id,
            customer_key=customer_key(obs.contact.email, obs.contact.phone),
            email=obs.contact.email,
            contact=obs.contact,
            amount=obs.amount,
            currency=obs.currency,
            succeeded=obs.succeeded,
            occurred_at=obs.occurred_at,
            order_external_id=obs.order_external_id,
            checkout_external_id=obs.checkout_external_id,
            decline_code=obs.decline_code,
            failure_code=obs.failure_code,
            failure_message=obs.failure_message,
            payment_method=obs.payment_method,
            is_test=obs.is_test,
            watch=WatchState.WATCHING if failed else WatchState.DONE,
            due_at=obs.occurred_at + delay if failed else None,
        )

    def observe(self, obs: PaymentObserved) -> bool:
        """An attempt is immutable; a re-delivery only fills what was missing."""
        changed = False
        for name in ("order_external_id", "checkout_external_id", "email", "customer_key"):
            if getattr(self, name) is None:
                value = (
                    customer_key(obs.contact.email, obs.contact.phone)
                    if name == "customer_key"
                    else obs.contact.email
                    if name == "email"
                    else getattr(obs, name)
                )
                if value is not None:
                    setattr(self, name, value)
                    changed = True
        return changed
