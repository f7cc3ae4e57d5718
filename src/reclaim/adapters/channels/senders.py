"""The channels one worker thread sends through (:class:`ChannelSenders`, the ``Senders``
port): email over SMTP, SMS through the configured provider, outgoing webhooks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from reclaim.adapters.channels.email import SmtpEmailSender
from reclaim.adapters.channels.sms import normalize_e164
from reclaim.adapters.channels.sms_providers import SmsSender
from reclaim.adapters.channels.webhook import WebhookSender
from reclaim.domain.messages import Channel, OutgoingEmail, OutgoingSms, OutgoingWebhook, SendResult
from reclaim.errors import DeliveryError


class ChannelSenders:
    """The channels configured by ``RECLAIM_SMTP_URL`` / ``RECLAIM_SMS_*`` for one worker
    thread (it keeps one SMTP connection open across messages). Implements ``Senders``.

    ``email`` and ``sms`` are ``None`` where their channel is not configured (bootstrap
    builds them); the webhook sender is made here, on first use."""

    def __init__(self, *, email: SmtpEmailSender | None, sms: SmsSender | None) -> None:
        self._email = email
        self._sms = sms
        self._webhook: WebhookSender | None = None  # made on first use: its TLS setup costs ~40 ms

    def available(self, channel: Channel) -> bool:
        if channel is Channel.EMAIL:
            return self._email is not None
        if channel is Channel.SMS:
            return self._sms is not None
        return True  # per store: its webhook URL decides

    def send_email(self, email: OutgoingEmail, *, now: datetime) -> SendResult:
        if self._email is None:
            raise DeliveryError("no SMTP server configured (RECLAIM_SMTP_URL)", permanent=True)
        return self._email.send(email, now=now)

    def send_sms(self, sms: OutgoingSms) -> SendResult:
        if self._sms is None:
            raise DeliveryError("no SMS provider configured (RECLAIM_SMS_URL)", permanent=True)
        return self._sms.send(replace(sms, to=normalize_e164(sms.to, default_region=None)))

    def send_webhook(self, hook: OutgoingWebhook, *, now: datetime) -> SendResult:
        if self._webhook is None:
            self._webhook = WebhookSender()
        return self._webhook.send(hook, now=now)

    def close(self) -> None:
        for sender in (self._email, self._sms, self._webhook):
            if sender is not None:
                sender.close()
