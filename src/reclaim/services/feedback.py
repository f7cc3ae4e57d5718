"""What mailbox providers and ESPs report back (SPEC S5): complaints ("this is spam") and
bounces that arrive after the SMTP answer. Both suppress the address and stop its flows;
complaints also count towards the store's complaint rate, which raises an alert at 0.1 % and
pauses the store's sending at 0.3 %.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from reclaim.domain.facts import customer_key
from reclaim.domain.messages import Channel
from reclaim.domain.policy import complaint_state, suppression_key
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.flows import stop_customer_flows
from reclaim.services.ports import UnitOfWork

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
