"""What the step engine's rooms share: the run's counts, a claimed step's work and draft, a
rendered message, what a coupon's push came to, the group's facts, and the group's rows read
under their locks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reclaim.domain.alternatives import SoldOutPolicy
from reclaim.domain.cases import Case
from reclaim.domain.flows import Step
from reclaim.domain.messages import (
    Channel,
    DeliveryPromise,
    OutgoingEmail,
    OutgoingSms,
    OutgoingWebhook,
    SendResult,
)
from reclaim.domain.steps import Coupon, MessageRecord, ScheduledStep
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError, InvalidInput
from reclaim.services.alternatives import SoldOut
from reclaim.services.coupons import PushOutcome
from reclaim.services.order_notices import OrderFacts
from reclaim.services.order_view import OrderView
from reclaim.services.ports import UnitOfWork

LEASE = timedelta(minutes=5)
GROUP = 20  # steps prepared, sent and recorded together (see the package's docstring)
ACCESS_ALERT_EVERY = timedelta(days=1)  # a store's refused API access is told once a day


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    skipped: int = 0
    waiting: int = 0  # quiet hours, frequency cap, paused store: due again later
    deferred: int = 0  # transient channel failure: retried with backoff
    failed: int = 0
    cancelled: int = 0
    released: int = 0  # expired leases put back
    possibly_sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            self.sent + self.skipped + self.waiting + self.deferred + self.failed + self.cancelled
        )

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def add(self, other: DeliveryStats) -> None:
        """Count ``other``'s numbers in too (a write tried again counts once, when done)."""
        for name in (
            "sent", "skipped", "waiting", "deferred", "failed", "cancelled", "released",
            "possibly_sent",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for outcome, n in other.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A queued message, rendered: what the sender hands to the channel."""

    step_id: int
    message_id: int
    channel: Channel
    # InvalidInput: the merchant's template could not render (recorded, never sent)
    outgoing: OutgoingEmail | OutgoingSms | OutgoingWebhook | InvalidInput
    subject: str | None = None
    coupon: Coupon | None = None  # pushed to the store's platform before the message goes
    store: Store | None = None
    locale: str | None = None  # the locale the message was written and formatted in
    text_body: str | None = None  # its plain text, kept for the console's case page


# What became of a prepared message: the channel's answer, its refusal, a template that
# could not render, or None (not tried: out of time, called back, or taken by a lease sweep).
_Outcome = SendResult | DeliveryError | InvalidInput | None
_Outcomes = list[tuple[_Prepared, _Outcome]]
_Pushes = dict[int, PushOutcome]  # coupon id -> what its push came to (recorded with the group)


@dataclass(slots=True)
class _Work:
    """A claimed step whose case is open and running, with what it is checked against."""

    step: ScheduledStep
    case: Case
    store: Store
    spec: Step
    message: MessageRecord | None  # set on a retry after a transient failure
    sold_out: SoldOutPolicy  # what the flow says to do about an item sold out everywhere
    closes_later: bool = False  # a later step of the flow closes the case at the hold's end
    test: bool = False  # a test-mode case (the store accepts test mode): marked "[TEST] "


@dataclass(slots=True)
class _Draft:
    """A step that passed its checks: its message is about to be written and sent."""

    work: _Work
    channel: Channel
    message: MessageRecord
    coupon: Coupon | None
    sold_out: SoldOut | None
    promise: DeliveryPromise | None = None
    order: OrderFacts | None = None  # a pending order: what its message may say of it
    shown: OrderView | None = None  # the order's name, charges and how to pay it


@dataclass(slots=True)
class _Facts:
    """What a group's checks read from the database, loaded for the whole group at once."""

    last_sent: dict[tuple[str, str], datetime]
    suppressed: set[tuple[str, str, str]]
    free: dict[str, dict[str, int]]  # store -> sku -> units available across warehouses
    channels: frozenset[Channel]  # those the worker's senders can send on


def _lock_group(
    uow: UnitOfWork, ids: Sequence[int]
) -> tuple[dict[int, ScheduledStep], dict[int, Case]]:
    """A group's steps and their cases, locked in the order a payment's transaction takes
    them (cases, then steps; PostgreSQL), the steps read afresh under their lock. Where the
    transaction already holds the database's one write lock (SQLite) nothing can change
    between the reads, so the steps are read once."""
    seen = uow.steps.get_many(ids)
    cases = uow.cases.get_many([s.case_id for s in seen.values()], lock=True)
    if not uow.row_locks:
        return seen, cases
    return uow.steps.get_many(ids, lock=True), cases
