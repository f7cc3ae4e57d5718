"""Alerts for a store's operators (SPEC S5 and beyond): raised where something needs a person
(the complaint rate, sending paused, the platform refusing Reclaim's credentials), listed by
the API and the CLI, logged as warnings (store id and counts, no PII), and emailed by the
worker to the store's ``alert_emails``.
"""

from __future__ import annotations

import html
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr

from reclaim.domain.messages import Channel, OutgoingEmail
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError, InvalidInput, NotFound
from reclaim.services.ports import Senders, UnitOfWork

log = logging.getLogger(__name__)


def raise_alert(
    uow: UnitOfWork,
    store_id: str,
    type: str,
    data: dict[str, object],
    *,
    now: datetime,
    every: timedelta | None,
) -> bool:
    """Add an alert in the caller's transaction, unless one of the ``type`` was raised less
    than ``every`` ago (None: always); logged as a warning. Whether it was added."""
    if every is not None:
        last = uow.alerts.last(store_id, type)
        if last is not None and now - last < every:
            return False
    uow.alerts.add(store_id=store_id, at=now, type=type, data=data)
    log.warning("store %s: alert %s %s", store_id, type, _loggable(data))
    return True


def _loggable(data: dict[str, object]) -> str:
    """Counts and codes only: never an address or a platform's words."""
    return " ".join(f"{k}={v}" for k, v in sorted(data.items()) if isinstance(v, int))


@dataclass(frozen=True, slots=True)
class Alert:
    at: datetime
    # complaint_rate | sending_paused | platform_access | cancellation_unavailable |
    # coupons_unavailable | sender_details_missing | sample_ratio_mismatch
    type: str
    data: dict[str, object]

    @property
    def title(self) -> str:
        return {
            "sending_paused": "sending paused",
            "complaint_rate": "complaint rate alert",
            "platform_access": "the platform refuses Reclaim's access",
            "cancellation_unavailable": "unpaid orders cannot be cancelled on the platform",
            "coupons_unavailable": "coupon codes cannot be created on the store",
            "sample_ratio_mismatch": "an experiment's split between variants is broken",
            "sender_details_missing": "marketing messages are not sent: sender details missing",
        }.get(self.type, self.type)

    @property
    def message(self) -> str:
        """What an operator reads."""
        sent, complaints = self.data.get("sent", 0), self.data.get("complaints", 0)
        counted = f"{complaints} complaints for {sent} emails sent in the last 30 days"
        if self.type == "sending_paused":
            return (
                f"Sending paused: {counted} (0.3 % or more). Find out why, then resume with "
                "`reclaim store set ID --resume`."
            )
        if self.type == "complaint_rate":
            return f"Complaint rate alert: {counted} (0.1 % or more); at 0.3 % sending pauses."
        if self.type == "platform_access":
            return (
                f"{self.data.get('platform', 'The platform')} answered {self.data.get('code')} "
                f"to {self.data.get('what', 'a call')}: the API access Reclaim was given is wrong "
                "or lacks a scope, so incentive emails fail meanwhile. Set it with `reclaim store "
                "set ID --platform-api-token …`."
            )
        if self.type == "cancellation_unavailable":
            return _cancellation_unavailable(str(self.data.get("platform", "")))
        if self.type == "coupons_unavailable":
            return _coupons_unavailable(str(self.data.get("platform", "")))
        if self.type == "sample_ratio_mismatch":
            return _sample_ratio_mismatch(self.data)
        if self.type == "sender_details_missing":
            return _sender_details_missing(str(self.data.get("outcome", "")))
        return self.type


_CANCEL_ACCESS = {
    "shopify": "an Admin API access token with write_orders",
    "woocommerce": "a read/write REST API key, ck_…:cs_…",
}
_COUPON_ACCESS = {
    "shopify": "an Admin API access token with write_discounts",
    "woocommerce": "a read/write REST API key, ck_…:cs_…",
    "stripe": "a secret or restricted key that may write coupons and promotion codes",
}


def _cancellation_unavailable(platform: str) -> str:
    if platform in _CANCEL_ACCESS:
        fix = (
            "Give Reclaim API access: `reclaim store set ID --platform-api-url … "
            f"--platform-api-token …` ({_CANCEL_ACCESS[platform]})."
        )
    else:
        fix = (
            "Give Reclaim an endpoint on your site that cancels an order on a signed "
            '`{"type": "order.cancel", "order_id": …}` webhook: `reclaim store set ID '
            "--webhook-url … --webhook-signing-secret …`."
        )
    return (
        f"Reclaim cannot cancel unpaid orders on {platform or 'the platform'} when their hold "
        "ends: it has no way to reach the store for that. Their customers are told the order "
        "is still unpaid, not that it was cancelled, and the orders stay open on the store. " + fix
    )


def _coupons_unavailable(platform: str) -> str:
    if platform == "stripe":  # Stripe's API has one address: the key is all it takes
        access = f"`reclaim store set ID --platform-api-token …` ({_COUPON_ACCESS[platform]})"
    elif platform in _COUPON_ACCESS:
        access = (
            "`reclaim store set ID --platform-api-url … --platform-api-token …` "
            f"({_COUPON_ACCESS[platform]})"
        )
    else:
        access = "`reclaim store set ID --webhook-url …` (a signed coupon.create webhook)"
    return (
        f"Reclaim cannot create its coupon codes on {platform or 'the store'}, so incentive "
        "emails go without a code (a code the checkout refuses does more harm than none). "
        f"Let Reclaim create them: {access}; or, if you import Reclaim's codes into the store "
        "yourself, say so with `reclaim store set ID --coupons-imported` and import them from "
        "`reclaim coupons export --store ID --push-state exported`."
    )


def _sender_details_missing(outcome: str) -> str:
    if outcome == "sender_no_identity":
        missing, fix = "who sends them (a sender address)", "--sender-email shop@your-domain"
    else:
        missing, fix = "a postal address", '--postal-address "Company, street, city"'
    return (
        f"Reclaim sends no marketing messages for this store: the law wants every one to show "
        f"{missing} (CAN-SPAM, the EU's ePrivacy and E-Commerce rules) and the store has none. "
        f"Abandoned-cart reminders are skipped meanwhile (notices about an order still go). "
        f"Set it with `reclaim store set ID {fix}`."
    )


def _sample_ratio_mismatch(data: dict[str, object]) -> str:
    cases, weights = data.get("cases"), data.get("weights")
    split = ", ".join(f"{k} {v}" for k, v in cases.items()) if isinstance(cases, dict) else "?"
    design = ":".join(str(v) for v in weights.values()) if isinstance(weights, dict) else "?"
    return (
        f"Experiment {data.get('name')!r} ({data.get('kind')} cases) split its cases "
        f"{split} against weights {design} (p = {data.get('p_value')} < 0.001): no chance "
        "explains that. Assignment or tracking is broken, and none of its results can be "
        "trusted until it is fixed: stop it (`reclaim experiment stop --store ID --name …`), "
        "find the cause, and start a new one."
    )


def list_alerts(*, uow: UnitOfWork, store_id: str, limit: int = 50) -> list[Alert]:
    """A store's alerts, newest first (SPEC S5: the complaint-rate alert and pause)."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be 1 to 1000", field="limit")
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        rows = uow.alerts.recent(store_id, limit=limit)
    return [Alert(at, type, dict(data or {})) for at, type, data in rows]


@dataclass(slots=True)
class NoticeStats:
    emailed: int = 0  # alerts whose operators were emailed
    without_recipients: int = 0  # the store names no one (alert_emails), or no SMTP is set
    failed: int = 0  # the mail server refused for now: tried again next round


def notify_alerts(
    *, uow: UnitOfWork, senders: Senders, now: datetime, limit: int = 50
) -> NoticeStats:
    """Email each new alert to the store's ``alert_emails`` (its operators): a paused store
    must not go unnoticed until someone looks. Each notice is claimed first (one commit), so
    of several workers only one sends it; one the mail server refuses for now is given back
    for the next round. A crash between the claim and the send loses that notice (the alert
    itself stays listed): at most once, rather than once per worker."""
    stats = NoticeStats()
    with uow:
        pending = list(uow.alerts.unnotified(limit=limit))
        stores = {store_id: uow.stores.get(store_id) for _, store_id, _, _, _ in pending}
    for alert_id, store_id, at, kind, data in pending:
        with uow:
            taken = uow.alerts.claim_notice(alert_id, now)
            uow.commit()
        if not taken:
            continue  # another worker has it
        store = stores.get(store_id)
        alert = Alert(at, kind, dict(data or {}))
        recipients = store.settings.alert_emails if store is not None else ()
        if not (recipients and senders.available(Channel.EMAIL) and store is not None):
            stats.without_recipients += 1
            continue
        try:
            for to in recipients:
                senders.send_email(_notice(store, to, alert), now=now)
        except DeliveryError as exc:
            if not exc.permanent:
                stats.failed += 1
                log.warning("store %s: alert notice not sent yet: %s", store_id, exc.code)
                with uow:
                    uow.alerts.release_notice(alert_id)
                    uow.commit()
                continue
            log.warning("store %s: alert notice refused: %s", store_id, exc.code)
            stats.without_recipients += 1
            continue
        except InvalidInput as exc:  # an address the mail could not be written to
            log.warning("store %s: alert notice not sendable: %s", store_id, exc.field)
            stats.without_recipients += 1
            continue
        stats.emailed += 1
    return stats


def _notice(store: Store, to: str, alert: Alert) -> OutgoingEmail:
    sender = store.settings.sender_email or f"shop@{store.domain}"
    text = (
        f"{alert.message}\n\nStore: {store.name} ({store.id})\n"
        f"When: {alert.at.isoformat()[:16]} UTC\n"
        f"All alerts: reclaim store alerts {store.id}, or GET /api/v1/alerts.\n"
    )
    return OutgoingEmail(
        to=to,
        from_address=formataddr(("Reclaim alerts", sender)),
        subject=f"[Reclaim] {store.name}: {alert.title}",
        text=text,
        html="<p>" + "</p><p>".join(html.escape(p) for p in text.split("\n\n")) + "</p>",
        message_id=f"<alert.{secrets.token_hex(8)}@{store.domain}>",
        list_unsubscribe_url=None,
    )
