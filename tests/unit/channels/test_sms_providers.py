"""The SMS provider is chosen by ``RECLAIM_SMS_PROVIDER``, by name, from a registry."""

from __future__ import annotations

import pytest

from reclaim.adapters.channels.sms import TwilioSmsSender
from reclaim.adapters.channels.sms_providers import SMS_PROVIDERS, sms_sender
from reclaim.bootstrap import channel_senders
from reclaim.config import SMS_PROVIDERS as SETTING_VALUES
from reclaim.config import load_settings
from reclaim.domain.messages import Channel
from reclaim.errors import ConfigError

ACCOUNT = {
    "base_url": "https://api.twilio.example",
    "account_sid": "AC0123456789abcdef0123456789abcdef",
    "auth_token": "tok_secret",
    "sender": "+15005550006",
}


def test_the_setting_accepts_exactly_the_registered_providers() -> None:
    assert sorted(SETTING_VALUES) == sorted(SMS_PROVIDERS)


def test_twilio_is_the_default_and_names_are_read_in_any_case() -> None:
    assert load_settings().sms_provider == "twilio"
    assert load_settings(sms_provider=" Twilio ").sms_provider == "twilio"


def test_an_unknown_provider_stops_start_up_naming_the_setting_and_the_choices() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(sms_provider="nexmo")
    assert str(err.value) == "RECLAIM_SMS_PROVIDER: must be one of twilio (not 'nexmo')"


def test_the_registry_makes_the_named_providers_sender() -> None:
    made = sms_sender("twilio", **ACCOUNT)
    try:
        assert isinstance(made, TwilioSmsSender)
        assert made.sender == "+15005550006"
    finally:
        made.close()
    with pytest.raises(ConfigError, match="RECLAIM_SMS_PROVIDER: 'nexmo' is not an SMS provider"):
        sms_sender("nexmo", **ACCOUNT)


def test_the_channels_send_sms_only_when_the_provider_account_is_complete() -> None:
    account = {
        "sms_url": ACCOUNT["base_url"],
        "sms_account": ACCOUNT["account_sid"],
        "sms_token": ACCOUNT["auth_token"],
        "sms_from": ACCOUNT["sender"],
    }
    complete = channel_senders(load_settings(sms_provider="twilio", **account))
    partial = channel_senders(load_settings(**{**account, "sms_token": None}))
    try:
        assert complete.available(Channel.SMS) is True
        assert partial.available(Channel.SMS) is False
    finally:
        complete.close()
        partial.close()
