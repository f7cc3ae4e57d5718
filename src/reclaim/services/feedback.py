"""What mailbox providers and ESPs report back (SPEC S5): complaints ("this is spam") and
bounces that arrive after the SMTP answer. Both suppress the address and stop its flows;
complaints also count towards the store's complaint rate, which raises an alert at 0.1 % and
pauses the store's sending at 0.3 %.
"""

from __future__ import annotations

import html
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr

from reclaim.domain.facts import customer_key
from reclaim.domain.messages import Channel, OutgoingEmail
from reclaim.domain.policy import complaint_state, suppression_key
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError, InvalidInput, NotFound
from reclaim.services.flows import stop_customer_flows
from reclaim.services.ports import Senders, UnitOfWork

log = logging.getLogger(__name__)

KINDS = ("complaint", "bounce")
WINDOW = timedelta(days=30)
ALERT_EVERY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    suppressed: bool
    flows_stopped: int
    complaint_state: str  # ok | alert | pause
    paused: bool


def record_feedback(
    *,
    uow: UnitOfWork,
    store_id: str,
    kind: str,
    email: str,
    message_header_id: str | None,
    now: datetime,
) -> FeedbackResult:
    if kind not in KINDS:
        raise InvalidInput(f"type must be one of {'|'.join(KINDS)}", field="type")
    key = customer_key(email, None)
    if key is None or "@" not in key:
        raise InvalidInput("email must be the address the report is about", field="email")
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        reason = "complained" if kind == "complaint" else "bounced"
        new = uow.suppressions.add(
            store_id=store_id,
            channel=Channel.EMAIL,
            address_key=suppression_key(Channel.EMAIL, key),
            reason=reason,
            at=now,
            message_id=None,
        )
        message = uow.messages.by_header(store_id, message_header_id) if message_header_id else None
        if message is not None and message.id is not None:
            uow.messages.add_event(
                message.id, store_id=store_id, type=kind, at=now, data={"source": "feedback"}
            )
        elif kind == "complaint":
            # The rate needs every complaint even when the report does not name the message.
            last = uow.messages.last_to_address(store_id, key)
            if last is not None and last.id is not None:
                uow.messages.add_event(
                    last.id, store_id=store_id, type=kind, at=now, data={"source": "feedback"}
                )
        stopped = stop_customer_flows(uow, store_id, key, at=now, reason=reason)
        state = "ok"
        if kind == "complaint":
            sent = uow.messages.sent_count(store_id, since=now - WINDOW)
            complaints = uow.messages.event_count(store_id, "complaint", since=now - WINDOW)
            state = complaint_state(sent=sent, complaints=complaints)
            data: dict[str, object] = {"sent": sent, "complaints": complaints}
            if state == "pause" and not store.paused:
                store.paused = True
                uow.alerts.add(store_id=store_id, at=now, type="sending_paused", data=data)
                log.warning("store %s paused: complaint rate %d/%d", store_id, complaints, sent)
            elif state == "alert":
                last_alert = uow.alerts.last(store_id, "complaint_rate")
                if last_alert is None or now - last_alert >= ALERT_EVERY:
                    uow.alerts.add(store_id=store_id, at=now, type="complaint_rate", data=data)
                    log.warning("store %s: complaint rate alert, %d/%d", store_id, complaints, sent)
        uow.commit()
        return FeedbackResult(new, stopped, state, store.paused)


@dataclass(frozen=True, slots=True)
class Alert:
    at: datetime
    type: str  # complaint_rate | sending_paused
    data: dict[str, object]

    @property
    def title(self) -> str:
        return {"sending_paused": "sending paused", "complaint_rate": "complaint rate alert"}.get(
            self.type, self.type
        )

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
        return self.type


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
    must not go unnoticed until someone looks. Sent, then marked (a crash in between sends
    it again: at least once); a refusal for now leaves it for the next round."""
    stats = NoticeStats()
    with uow:
        pending = list(uow.alerts.unnotified(limit=limit))
        stores = {store_id: uow.stores.get(store_id) for _, store_id, _, _, _ in pending}
    for alert_id, store_id, at, kind, data in pending:
        store = stores.get(store_id)
        alert = Alert(at, kind, dict(data or {}))
        recipients = store.settings.alert_emails if store is not None else ()
        sent = False
        if recipients and senders.available(Channel.EMAIL) and store is not None:
            try:
                for to in recipients:
                    senders.send_email(_notice(store, to, alert), now=now)
                sent = True
            except DeliveryError as exc:
                if not exc.permanent:
                    stats.failed += 1
                    log.warning("store %s: alert notice not sent yet: %s", store_id, exc.code)
                    continue
                log.warning("store %s: alert notice refused: %s", store_id, exc.code)
            except InvalidInput as exc:  # an address the mail could not be written to
                log.warning("store %s: alert notice not sendable: %s", store_id, exc.field)
        with uow:
            uow.alerts.mark_notified(alert_id, now)
            uow.commit()
        if sent:
            stats.emailed += 1
        else:
            stats.without_recipients += 1
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
