"""Telling a store's platform what Reclaim decided (SPEC S7: "the platform told where a
connector can"): today, cancelling an order whose hold ran out unpaid.

The decision is recorded in the transaction that makes it (an outbox row); the call is made
by the worker afterwards, outside any transaction, and retried with the same backoff as
messages (30 min, growing, for up to 72 h). A store whose platform Reclaim cannot reach is
marked ``skipped`` with the reason, for the operator, who is alerted
(``cancellation_unavailable``, at most once a day). An order paid since the call was queued
is never cancelled: the call is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reclaim.domain.connectors import can_cancel_orders
from reclaim.domain.policy import retry_at
from reclaim.errors import DeliveryError
from reclaim.services import order_notices
from reclaim.services.alerts import raise_alert
from reclaim.services.ports import PlatformClient, UnitOfWork

CANCEL_ORDER = "cancel_order"
LEASE = timedelta(minutes=5)


@dataclass(slots=True)
class ActionStats:
    done: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


def run_platform_actions(
    *, uow: UnitOfWork, client: PlatformClient, now: datetime, batch: int = 50
) -> ActionStats:
    stats = ActionStats()
    while True:
        with uow:
            due = list(uow.platform_actions.claim(now=now, lease_until=now + LEASE, limit=batch))
            stores = {a.store_id: uow.stores.get(a.store_id) for a in due}
            paid = {a.id for a in due if _paid(uow, a.store_id, a.order_external_id)}
            uow.commit()
        for action in due:
            store = stores[action.store_id]
            status, error, again, denied = "done", None, None, None
            try:
                if store is None:
                    raise DeliveryError("the store no longer exists", permanent=True)
                if action.id in paid:  # paid after the hold ended: never cancel a paid order
                    raise DeliveryError("the order was paid meanwhile", permanent=True)
                client.cancel_order(store, action.order_external_id, now=now)
            except DeliveryError as exc:
                error, denied = str(exc)[:500], exc.code
                if exc.permanent:
                    status = "skipped" if exc.code is None else "failed"
                else:
                    again = retry_at(
                        action.first_attempt_at or now,
                        action.attempts,
                        now=now,
                        seed=str(action.id),
                    )
                    status = "pending" if again is not None else "failed"
            with uow:
                uow.platform_actions.finish(
                    action.id, status=status, error=error, now=now, retry_at=again
                )
                if status == "failed" and store is not None and denied in (401, 403):
                    raise_alert(  # a person must fix the store's API access
                        uow,
                        store.id,
                        "platform_access",
                        {"platform": store.platform, "code": denied, "what": "cancel an order"},
                        now=now,
                        every=timedelta(days=1),
                    )
                if status == "skipped" and store is not None and not can_cancel_orders(store):
                    order_notices.unavailable(uow, store, now=now)  # no way to cancel at all
                uow.commit()
            if status == "done":
                stats.done += 1
            elif status == "pending":
                stats.retrying += 1
            elif status == "skipped":
                stats.skipped += 1
            else:
                stats.failed += 1
        if len(due) < batch:
            return stats


def _paid(uow: UnitOfWork, store_id: str, order_external_id: str) -> bool:
    order = uow.facts.order(store_id, order_external_id, lock=False)
    return order is not None and order.is_paid
