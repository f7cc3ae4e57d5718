"""The pure parts of access, erasure and the audit log: the address a request names, the
keyed hash, a raw body rewritten without the person, and what an audit entry keeps of
secrets and of changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reclaim.domain.audit import MASK, changes, plain, redact
from reclaim.domain.privacy import (
    ERASED,
    erasure_address,
    erasure_key,
    keyed_hash,
    needles,
    scrub,
)
from reclaim.errors import InvalidInput


def test_an_address_is_trimmed_and_lower_cased_and_a_malformed_one_names_the_field() -> None:
    assert erasure_address("  Ana.Doe@Example.COM ") == "ana.doe@example.com"
    for bad in ("", "   ", "ana", "ana@", "@example.com", "a b@example.com", "ana@example", 7):
        with pytest.raises(InvalidInput) as info:
            erasure_address(bad)
        assert info.value.field == "email"
    with pytest.raises(InvalidInput):
        erasure_address("x" * 65 + "@example.com")


def test_the_keyed_hash_depends_on_the_key_and_on_nothing_else() -> None:
    key = erasure_key("a" * 32)
    assert keyed_hash(key, "abc") == keyed_hash(key, "abc")
    assert keyed_hash(key, "abc") != keyed_hash(erasure_key("b" * 32), "abc")
    assert keyed_hash(key, "abc") != keyed_hash(key, "abd")
    assert len(keyed_hash(key, "abc")) == 64


def test_a_body_is_rewritten_without_the_person_and_keeps_the_rest() -> None:
    raw = {
        "id": 123,
        "email": "ANA@example.com",
        "note": "call me",
        "customer": {"id": 9, "first_name": "Ana", "last_name": "Zyx", "tags": ["vip"]},
        "billing_address": {"address1": "1 Main St", "city": "Lyon", "zip": "69001"},
        "line_items": [{"sku": "MUG-1", "title": "Mug", "price": "12.00", "quantity": 2}],
        "landing_site": "/?utm=ana@example.com",
        "contact_phone": "+49 151 23456789",
        "total_price": "24.00",
        "test": False,
    }
    looked_for = needles(["ana@example.com", "+4915123456789", "Ana", "Zyx"])
    out = json.loads(scrub(json.dumps(raw).encode(), looked_for))
    assert out["id"] == 123 and out["total_price"] == "24.00" and out["test"] is False
    assert out["line_items"] == raw["line_items"]
    assert out["email"] == out["note"] == out["landing_site"] == out["contact_phone"] == ERASED
    assert out["customer"] == {"id": 9, "first_name": ERASED, "last_name": ERASED, "tags": [ERASED]}
    assert set(out["billing_address"].values()) == {ERASED}
    text = json.dumps(out).lower()
    for gone in ("ana@", "zyx", "main st", "69001", "23456789"):
        assert gone not in text


def test_a_body_that_is_not_json_is_dropped_whole() -> None:
    assert scrub(b"email=ana%40example.com&name=Ana", ["ana@example.com"]) == b""
    assert scrub(b"\xff\xfe", ["ana@example.com"]) == b""


def test_needles_skip_short_values_and_add_a_phones_digits() -> None:
    assert needles(["Al", None, "", "Ana", "+49 151 234"]) == ["+49 151 234", "49151234", "ana"]


def test_secrets_read_stars_at_any_depth_and_unset_ones_stay_empty() -> None:
    found = redact(
        {
            "webhook_secret": "whsec_x",
            "platform_api_token": "shpat_1",
            "settings": {"webhook_signing_secret": "s", "sender_email": "a@b.example"},
            "empty_token": "",
            "api_key": None,
        }
    )
    assert found == {
        "webhook_secret": MASK,
        "platform_api_token": MASK,
        "settings": {"webhook_signing_secret": MASK, "sender_email": "a@b.example"},
        "empty_token": "",
        "api_key": None,
    }
    assert redact(None) is None


def test_values_become_json_and_changes_keep_only_what_differs() -> None:
    at = datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert plain({"at": at, "n": Decimal("1.50"), "d": timedelta(hours=1), "t": ("a",)}) == {
        "at": "2026-05-01T10:00:00+00:00",
        "n": "1.50",
        "d": 3600,
        "t": ["a"],
    }
    before, after = changes({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4})
    assert (before, after) == ({"b": 2, "c": 3, "d": None}, {"b": 5, "c": None, "d": 4})
