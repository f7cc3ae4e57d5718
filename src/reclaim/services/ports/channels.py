"""Rendering a message and sending it through the configured channels."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from reclaim.domain.messages import (
    Channel,
    MessageContext,
    OutgoingEmail,
    OutgoingSms,
    OutgoingWebhook,
    Rendered,
    SendResult,
)


class Renderer(Protocol):
    """Turns a message context into text (adapters/templates)."""

    def render(
        self, *, key: str, channel: Channel, context: MessageContext, store_id: str | None = None
    ) -> Rendered: ...


class Senders(Protocol):
    """The configured channels (adapters/channels). Each raises ``DeliveryError``.

    One ``Senders`` belongs to one worker thread: it may hold an open SMTP connection.
    """

    def available(self, channel: Channel) -> bool: ...
    def send_email(self, email: OutgoingEmail, *, now: datetime) -> SendResult: ...
    def send_sms(self, sms: OutgoingSms) -> SendResult: ...
    def send_webhook(self, hook: OutgoingWebhook, *, now: datetime) -> SendResult: ...
    def close(self) -> None: ...
