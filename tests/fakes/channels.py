"""Fake senders (the ``Senders`` port), a fake platform client (``PlatformClient``) and a
fixed clock: they record what they were asked to do and fail when a test tells them to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reclaim.domain.messages import (
    Channel,
    OutgoingEmail,
    OutgoingSms,
    OutgoingWebhook,
    SendResult,
)
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError


def temporary(message: str = "451 4.3.0 try again later", code: int | None = 451) -> DeliveryError:
    """A failure the engine retries (a greylisting server, a timeout)."""
    return DeliveryError(message, permanent=False, code=code)


def permanent(
    message: str = "550 5.1.1 no such user", code: int | None = 550, *, suppress: bool = True
) -> DeliveryError:
    """A failure never retried; ``suppress``: the address itself is bad (a hard bounce)."""
    return DeliveryError(message, permanent=True, code=code, suppress=suppress)


@dataclass
class FakeSenders:
    """Channels that keep what they are given. ``channels``: those configured.

    :meth:`fail_next` queues failures for a channel: each of its next sends raises the next
    one instead of sending (nothing is recorded as sent; ``attempts`` counts every call).
    """

    channels: frozenset[Channel] = frozenset(Channel)
    emails: list[OutgoingEmail] = field(default_factory=list)
    sms: list[OutgoingSms] = field(default_factory=list)
    webhooks: list[OutgoingWebhook] = field(default_factory=list)
    attempts: dict[Channel, int] = field(default_factory=dict)
    closed: bool = False
    _failures: dict[Channel, list[DeliveryError]] = field(default_factory=dict)

    def fail_next(self, channel: Channel, *errors: DeliveryError) -> None:
        self._failures.setdefault(channel, []).extend(errors)

    @property
    def sent(self) -> list[OutgoingEmail | OutgoingSms | OutgoingWebhook]:
        return [*self.emails, *self.sms, *self.webhooks]

    def _attempt(self, channel: Channel) -> str:
        self.attempts[channel] = self.attempts.get(channel, 0) + 1
        queued = self._failures.get(channel)
        if queued:
            raise queued.pop(0)
        return f"fake-{channel.value}-{self.attempts[channel]}"

    def available(self, channel: Channel) -> bool:
        return channel in self.channels

    def send_email(self, email: OutgoingEmail, *, now: datetime) -> SendResult:
        provider_id = self._attempt(Channel.EMAIL)
        self.emails.append(email)
        return SendResult(provider_id=provider_id)

    def send_sms(self, sms: OutgoingSms) -> SendResult:
        provider_id = self._attempt(Channel.SMS)
        self.sms.append(sms)
        return SendResult(provider_id=provider_id, segments=1)

    def send_webhook(self, hook: OutgoingWebhook, *, now: datetime) -> SendResult:
        provider_id = self._attempt(Channel.WEBHOOK)
        self.webhooks.append(hook)
        return SendResult(provider_id=provider_id)

    def close(self) -> None:
        self.closed = True


@dataclass
class FakePlatformClient:
    """A store's platform: keeps the coupons created and the orders cancelled; ``fail_next``
    makes the next calls raise (``DeliveryError``) instead."""

    coupons: list[tuple[str, str]] = field(default_factory=list)  # (store id, code)
    cancelled: list[tuple[str, str]] = field(default_factory=list)  # (store id, order)
    closed: bool = False
    _failures: list[DeliveryError] = field(default_factory=list)

    def fail_next(self, *errors: DeliveryError) -> None:
        self._failures.extend(errors)

    def _maybe_fail(self) -> None:
        if self._failures:
            raise self._failures.pop(0)

    def cancel_order(self, store: Store, order_external_id: str, *, now: datetime) -> None:
        self._maybe_fail()
        self.cancelled.append((store.id, order_external_id))

    def create_coupon(self, store: Store, coupon: Coupon, *, now: datetime) -> str | None:
        self._maybe_fail()
        self.coupons.append((store.id, coupon.code))
        return f"ref-{coupon.code}"

    def close(self) -> None:
        self.closed = True


class FixedClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, at: datetime) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, at: datetime) -> datetime:
        self.now = at
        return at


def channels(*names: str) -> frozenset[Channel]:
    """``channels("email", "sms")``: the configured channels of a :class:`FakeSenders`."""
    return frozenset(Channel(n) for n in names)
