"""The SMS providers by the name ``RECLAIM_SMS_PROVIDER`` gives them: each name maps to the
factory of a sender for one account (the API's base URL, the account id and token, the
default sender). Twilio's API (and the APIs that copy it) is the one provider so far."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from reclaim.adapters.channels.sms import TwilioSmsSender
from reclaim.domain.messages import OutgoingSms, SendResult
from reclaim.errors import ConfigError


class SmsSender(Protocol):
    """What a provider's sender does: send one SMS (or raise ``DeliveryError``), and close."""

    def send(self, sms: OutgoingSms) -> SendResult: ...
    def close(self) -> None: ...


class SmsSenderFactory(Protocol):
    def __call__(
        self, *, base_url: str, account_sid: str, auth_token: str, sender: str
    ) -> SmsSender: ...


SMS_PROVIDERS: Mapping[str, SmsSenderFactory] = {"twilio": TwilioSmsSender}


def sms_sender(
    provider: str, *, base_url: str, account_sid: str, auth_token: str, sender: str
) -> SmsSender:
    """The sender of the SMS provider named ``provider`` for this account."""
    factory = SMS_PROVIDERS.get(provider)
    if factory is None:
        raise ConfigError(
            f"RECLAIM_SMS_PROVIDER: {provider!r} is not an SMS provider; "
            f"one of: {', '.join(sorted(SMS_PROVIDERS))}"
        )
    return factory(base_url=base_url, account_sid=account_sid, auth_token=auth_token, sender=sender)
