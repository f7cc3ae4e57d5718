"""Scheduled steps, messages and coupons: the durable records of a running flow (SPEC S3-S6).

A step is a row with a ``due_at`` (DESIGN.md): workers claim due rows with a lease, send, and
record the outcome and the next step in one transaction. The status a step passes through
tells a crashed worker's successor what may already have happened:

``scheduled`` → ``claimed`` (leased; nothing sent yet: an expired lease puts it back) →
``sending`` (its message written and committed before the channel is called) → ``sent`` |
``failed``; or ``skipped`` (a condition or policy said no) | ``cancelled`` (the case closed,
the flow was stopped).

The message of a ``sending`` step says how far it got: ``queued`` (rendered, not handed to
the channel: an expired lease puts the step back and the message is sent as a retry),
``sending`` (committed just before the channel call: an expired lease means it may have
gone out, so it becomes ``possibly_sent`` and is never blindly repeated), ``sent`` (the
channel took it: an expired lease settles the step as sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from reclaim.domain.money import amount_text, plain


class StepStatus(StrEnum):
    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    POSSIBLY_SENT = "possibly_sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    FAILED = "failed"


PENDING_STEP = (StepStatus.SCHEDULED, StepStatus.CLAIMED)


class MessageStatus(StrEnum):
    QUEUED = "queued"  # rendered and committed; not yet handed to the channel
    SENDING = "sending"
    SENT = "sent"
    POSSIBLY_SENT = "possibly_sent"
    DEFERRED = "deferred"  # a transient failure; the step retries with backoff
    FAILED = "failed"
    BOUNCED = "bounced"  # permanent failure about the address: suppressed
    CANCELLED = "cancelled"  # queued when its flow stopped: never handed to the channel


DELIVERED = (MessageStatus.SENT, MessageStatus.POSSIBLY_SENT)


@dataclass(eq=False)
class ScheduledStep:
    store_id: str
    case_id: int
    flow_id: int
    position: int
    key: str
    due_at: datetime
    created_at: datetime
    status: str = StepStatus.SCHEDULED
    lease_until: datetime | None = None
    claim_token: str | None = None
    attempts: int = 0
    first_attempt_at: datetime | None = None
    channel: str | None = None
    message_id: int | None = None
    outcome: str | None = None
    error: str | None = None
    finished_at: datetime | None = None
    id: int | None = None

    def finish(self, status: StepStatus, *, at: datetime, outcome: str | None = None) -> None:
        self.status = status
        self.finished_at = at
        self.lease_until = None
        if outcome is not None:
            self.outcome = outcome


@dataclass(eq=False)
class MessageRecord:
    store_id: str
    case_id: int
    step_id: int
    customer_key: str | None
    channel: str
    purpose: str
    template: str
    locale: str
    recipient: str
    created_at: datetime
    subject: str | None = None
    header_id: str | None = None
    status: str = MessageStatus.SENDING
    attempts: int = 0
    sent_at: datetime | None = None
    opened_at: datetime | None = None
    clicked_at: datetime | None = None
    opens: int = 0
    clicks: int = 0
    provider_id: str | None = None
    segments: int | None = None
    coupon_code: str | None = None
    error: str | None = None
    text_body: str | None = None  # the rendered plain text: email text part, SMS, webhook text
    id: int | None = None

    @property
    def engaged_at(self) -> datetime | None:
        """The last engagement that counts for attribution (SPEC S2): email opens or clicks,
        SMS clicks only (an SMS "open" cannot be observed)."""
        if self.channel == "sms":
            return self.clicked_at
        seen = [t for t in (self.opened_at, self.clicked_at) if t is not None]
        return max(seen) if seen else None


@dataclass(eq=False)
class Coupon:
    store_id: str
    case_id: int
    code: str
    kind: str
    value: Decimal
    currency: str
    expires_at: datetime
    created_at: datetime
    discount: Decimal | None = None
    min_order: Decimal | None = None
    redeemed_at: datetime | None = None
    redeemed_order_external_id: str | None = None
    push_state: str | None = None  # None (not tried), "pushed", "exported"
    platform_ref: str | None = None  # the platform's id for it, once pushed
    pushed_at: datetime | None = None
    push_error: str | None = None  # why the last push failed (it is retried)
    id: int | None = None

    @property
    def needs_push(self) -> bool:
        """Not yet on the store's platform, nor known to be left to the merchant to import."""
        return self.push_state is None

    def to_json(self) -> dict[str, object]:
        """The coupon as a custom site's webhook, the API and the export show it."""

        def at(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat().replace("+00:00", "Z")

        return {
            "code": self.code,
            "kind": self.kind,
            "value": plain(self.value),
            "currency": self.currency,
            "min_order": amount_text(self.min_order, self.currency),
            "expires_at": at(self.expires_at),
            "single_use": True,
            "case_id": self.case_id,
            "created_at": at(self.created_at),
            "push_state": self.push_state,
            "platform_ref": self.platform_ref,
            "pushed_at": at(self.pushed_at),
            "push_error": self.push_error,
            "redeemed_at": at(self.redeemed_at),
            "redeemed_order": self.redeemed_order_external_id,
        }
