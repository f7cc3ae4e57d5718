"""Retention windows (SPEC S13): the defaults and their bounds, a store's own windows, and
how the store settings keep them (and the other trust settings) in their JSON."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reclaim.domain.outcomes import not_sent_label, step_words
from reclaim.domain.retention import (
    CLOSED_CASES,
    DELIVERIES,
    EVENTS,
    KINDS,
    MESSAGES,
    check_windows,
    cutoff,
    window,
)
from reclaim.domain.stores import StoreSettings, validate_settings
from reclaim.errors import InvalidInput

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_the_defaults_and_their_reasons() -> None:
    defaults = StoreSettings()
    assert {k.name: window(defaults, k).days for k in KINDS} == {
        "deliveries": 30,
        "events": 365,
        "messages": 730,
        "closed_cases": 730,
        "checkouts": 730,
        "orders": 730,
        "payments": 730,
    }
    assert all(k.reason and k.what for k in KINDS)
    assert cutoff(defaults, DELIVERIES, NOW) == NOW - 30 * DAY


def test_a_stores_own_window_and_its_json() -> None:
    mine = replace(
        StoreSettings(),
        keep_deliveries=7 * DAY,
        keep_closed_cases=1000 * DAY,
        consent_meta_key="billing_newsletter",
        accept_test_mode=True,
    )
    validate_settings(mine)
    assert window(mine, DELIVERIES) == 7 * DAY and window(mine, EVENTS) == 365 * DAY
    data = mine.to_json()
    assert data["keep_deliveries_days"] == 7 and "keep_events_days" not in data
    assert data["consent_meta_key"] == "billing_newsletter" and data["accept_test_mode"] is True
    assert StoreSettings.from_json(data) == mine
    assert "accept_test_mode" not in StoreSettings().to_json()
    junk = StoreSettings.from_json({"keep_messages_days": "30", "keep_events_days": True})
    assert junk.keep_messages is None and junk.keep_events is None


@pytest.mark.parametrize(
    ("kind", "days", "ok"),
    [
        (DELIVERIES, 1, True),
        (DELIVERIES, 0, False),
        (MESSAGES, 29, False),  # an unsubscribe link works through its message: 30 days
        (MESSAGES, 30, True),
        (CLOSED_CASES, 3650, True),
        (CLOSED_CASES, 3651, False),
    ],
)
def test_windows_have_bounds(kind: object, days: int, ok: bool) -> None:
    settings = replace(StoreSettings(), **{kind.setting: days * DAY})  # type: ignore[attr-defined]
    if ok:
        check_windows(settings)
        return
    with pytest.raises(InvalidInput) as caught:
        validate_settings(settings)
    assert caught.value.field == kind.setting.replace("_", "-")  # type: ignore[attr-defined]


@pytest.mark.parametrize("key", ["has space ", "", "x" * 256, "tab\there"])
def test_the_consent_meta_key_is_a_plain_key(key: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_settings(replace(StoreSettings(), consent_meta_key=key))
    assert caught.value.field == "consent-meta-key"


def test_sender_duties_in_plain_words() -> None:
    words = step_words("sender_no_postal_address")
    assert (words.code, words.label) == ("sender_duties", "no postal address")
    assert "--postal-address" in words.sentence and "notices about an order" in words.sentence
    assert step_words("sender_no_identity").label == "no sender address"
    assert not_sent_label("sender_duties").startswith("the store lacks the sender details")
