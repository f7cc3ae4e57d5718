"""What a pending order's messages may say about it (SPEC S7; issue 14: a message states only
what Reclaim did or will do).

While the order waits for payment, its reminders may say that its items are held only when
Reclaim holds stock for it, and that it will be cancelled only when Reclaim can cancel it on the
platform (:func:`~reclaim.domain.connectors.can_cancel_orders`) and will: the hold sweep does
for an order with a hold, the flow's cancellation step for one without.

At the end of the hold the flow's cancellation step (the step that closes the case as lost)
asks the platform to cancel the order — through the outbox of :mod:`.platform_actions`, where
the hold sweep has already put it for an order with a hold — and its notice waits for the
answer: it says "cancelled" only once the platform did, "released" only when Reclaim released
stock it held. A store Reclaim cannot cancel orders on is recorded as such (the action is
skipped, with the reason) and its operators are alerted (``cancellation_unavailable``, at most
once a day); its customers are told the truth: the order is still unpaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reclaim.domain.cases import Case
from reclaim.domain.connectors import can_cancel_orders
from reclaim.domain.holds import Hold, HoldStatus
from reclaim.domain.stores import Store
from reclaim.services.alerts import raise_alert
from reclaim.services.ports import UnitOfWork

CANCEL_ORDER = "cancel_order"
# A call queued by the step is made by the next worker round (the outbox runs before the steps).
ANSWER_WAIT = timedelta(minutes=1)
ALERT_EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What is true of a pending order, for its message's template (see MessageContext)."""

    hold_expires_at: datetime | None
    items_held: bool = False
    will_cancel: bool = False
    order_cancelled: bool = False
    items_released: bool = False


def while_unpaid(uow: UnitOfWork, store: Store, case: Case, *, closes_later: bool) -> OrderFacts:
    """For a reminder. ``closes_later``: a later step of the flow closes the case at the end of
    the hold (the flow's cancellation step, which has the order cancelled)."""
    hold = _hold(uow, store, case)
    active = hold is not None and hold.status == HoldStatus.ACTIVE
    order = case.order_external_id is not None
    return OrderFacts(
        hold_expires_at=_hold_end(store, case, hold if active else None),
        items_held=active and hold is not None and bool(hold.lines),
        # The sweep has an expired hold's order cancelled; the cancellation step any other's.
        will_cancel=order and can_cancel_orders(store) and (active or closes_later),
    )


def at_hold_end(
    uow: UnitOfWork, store: Store, case: Case, *, now: datetime
) -> OrderFacts | datetime:
    """For the cancellation step, in the caller's transaction: the platform is asked to cancel
    the order (queued unless it was), and what it answered. A time instead while the call is
    still to be made or tried again (the platform is down): the notice waits until then, as an
    incentive email waits for its coupon (ADR 0005); the call gives up after 72 h."""
    hold = _hold(uow, store, case)
    released = hold is not None and hold.status == HoldStatus.EXPIRED and bool(hold.lines)
    end = _hold_end(store, case, hold)
    order = case.order_external_id
    if order is None:
        return OrderFacts(end, items_released=released)
    uow.platform_actions.add(
        store_id=store.id, action=CANCEL_ORDER, order_external_id=order, now=now
    )
    if not can_cancel_orders(store):  # recorded as skipped, with the reason, by the outbox
        unavailable(uow, store, now=now)
        return OrderFacts(end, items_released=released)
    states = [
        a for a in uow.platform_actions.for_order(store.id, order) if a.action == CANCEL_ORDER
    ]
    if not states or states[0].status == "pending":
        due = states[0].due_at if states else now
        return max(due, now + ANSWER_WAIT)
    return OrderFacts(end, order_cancelled=states[0].status == "done", items_released=released)


def unavailable(uow: UnitOfWork, store: Store, *, now: datetime) -> None:
    """Tell the store's operators (at most once a day) that Reclaim cannot cancel its orders."""
    raise_alert(
        uow,
        store.id,
        "cancellation_unavailable",
        {"platform": store.platform},
        now=now,
        every=ALERT_EVERY,
    )


def _hold(uow: UnitOfWork, store: Store, case: Case) -> Hold | None:
    if case.order_external_id is None:
        return None
    return uow.stock.hold(store.id, case.order_external_id)


def _hold_end(store: Store, case: Case, hold: Hold | None) -> datetime:
    """The order's own hold end (an operator may have extended it), else the store's hold
    period after the order."""
    return hold.expires_at if hold is not None else case.occurred_at + store.settings.hold_period
