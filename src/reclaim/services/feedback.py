"""What mailbox providers and ESPs report back (SPEC S5): complaints ("this is spam") and
bounces that arrive after the SMTP answer. Both suppress the address and stop its flows;
complaints also count towards the store's complaint rate, which raises an alert at 0.1 % and
pauses the store's sending at 0.3 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from reclaim.domain.audit import Actor
from reclaim.domain.facts import customer_key
from reclaim.domain.messages import Channel
from reclaim.domain.policy import complaint_state, suppression_key
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.alerts import raise_alert
from reclaim.services.audit import address_subject, record
from reclaim.services.flows import stop_customer_flows
from reclaim.services.ports import UnitOfWork

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
    actor: Actor | None = None,
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
                raise_alert(uow, store_id, "sending_paused", data, now=now, every=None)
            elif state == "alert":
                raise_alert(uow, store_id, "complaint_rate", data, now=now, every=ALERT_EVERY)
        record(
            uow,
            actor,
            f"feedback.{kind}",
            partial(address_subject, uow, Channel.EMAIL.value, key),
            store_id=store_id,
            after={"suppressed": reason, "new": new, "flows_stopped": stopped, "state": state},
        )
        uow.commit()
        return FeedbackResult(new, stopped, state, store.paused)
