"""WooCommerce marketing consent (docs/consent.md): read from the order meta that consent
plugins write, or from the store's own checkout field. A ticked box is an opt-in, an
unticked one no statement (the law of the customer's country decides), only an explicit
opt-out a refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reclaim.adapters.platforms.woocommerce import WooCommerceConnector, email_consent
from reclaim.domain.events import OrderObserved

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "woocommerce"


def order(*meta: tuple[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "order_on_hold_de.json").read_bytes())
    data["meta_data"] += [{"id": 900 + i, "key": k, "value": v} for i, (k, v) in enumerate(meta)]
    return data


def parsed_consent(data: dict[str, Any], consent_meta_key: str | None = None) -> bool | None:
    delivery = WooCommerceConnector().parse(
        topic="order.created",
        headers={"X-WC-Webhook-Topic": "order.created"},
        body=json.dumps(data).encode(),
        consent_meta_key=consent_meta_key,
    )
    fact = delivery.facts[0]
    assert isinstance(fact, OrderObserved)
    return fact.contact.accepts_email_marketing


def test_an_order_without_consent_meta_says_nothing() -> None:
    assert parsed_consent(order()) is None


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        # Mailchimp for WordPress (MC4WP): "1" ticked, "" unticked (PHP false as meta)
        ("_mc4wp_optin", "1", True),
        ("_mc4wp_optin", "", None),
        # Mailchimp for WooCommerce: 1/0 from the classic checkout, true/false from blocks
        ("mailchimp_woocommerce_is_subscribed", 1, True),
        ("mailchimp_woocommerce_is_subscribed", "1", True),
        ("mailchimp_woocommerce_is_subscribed", 0, None),
        ("mailchimp_woocommerce_is_subscribed", True, True),
        ("mailchimp_woocommerce_is_subscribed", False, None),
        ("some_other_plugin", "1", None),  # an unknown key is not read
    ],
)
def test_consent_plugins_meta(key: str, value: Any, expected: bool | None) -> None:
    assert parsed_consent(order((key, value))) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("on", True),
        (" TRUE ", True),
        ("1", True),
        ("no", None),  # an unticked box: no opt-in recorded, not an opt-out
        ("0", None),
        ("", None),
        (None, None),
        ({"nested": 1}, None),
        ("unsubscribed", False),  # an explicit opt-out is always a refusal
        ("opt-out", False),
        ("declined", False),
    ],
)
def test_the_stores_own_field(value: Any, expected: bool | None) -> None:
    data = order(("billing_newsletter", value))
    assert parsed_consent(data, "billing_newsletter") is expected
    assert parsed_consent(data) is None  # without the setting the field is not read


def test_the_stores_own_field_comes_before_the_plugins() -> None:
    data = order(("_mc4wp_optin", "1"), ("my_optout", "unsubscribed"))
    assert parsed_consent(data, "my_optout") is False
    assert parsed_consent(data, "absent_key") is True  # absent: the plugin's answer stands


def test_the_first_of_a_repeated_key_counts_and_junk_meta_is_skipped() -> None:
    data = order(("_mc4wp_optin", "1"), ("_mc4wp_optin", ""))
    data["meta_data"][:0] = ["junk", {"key": 7, "value": "1"}, {"value": "1"}]
    assert email_consent(data) is True
    data["meta_data"] = "not a list"
    assert email_consent(data) is None
