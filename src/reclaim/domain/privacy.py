"""A customer's access and erasure requests (SPEC S13, GDPR articles 15 and 17): the address
they are asked by, the keyed hash an erased address is remembered under, and the raw webhook
bodies rewritten without the person.

An erased customer leaves one suppression entry, under ``HMAC-SHA256(key, sha256(address))``
(:func:`keyed_hash`): the plain SHA-256 that other suppression entries are kept under is the
form hashed lists are exchanged in, and anyone holding a list of addresses can find a person
in it; the keyed one can only be matched by this install, which holds the key. Hashing the
plain key (not the address) lets a lookup that holds only the plain key find the entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from reclaim.errors import InvalidInput

ERASED = "[erased]"  # what a rewritten body holds where the person's data was
_EMAIL = re.compile(
    r"^[^@\s<>\"(),;:\\]{1,64}@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)

# Keys of a webhook body whose whole value is about the customer (an address, a customer
# object) and keys whose value is one personal datum, on every platform Reclaim reads.
_PERSON_OBJECTS = frozenset(
    {
        "customer",
        "billing",
        "shipping",
        "billing_address",
        "shipping_address",
        "billing_details",
        "shipping_details",
        "customer_details",
        "client_details",
        "default_address",
        "addresses",
        "contact",
    }
)
_PERSON_FIELDS = frozenset(
    {
        "email",
        "contact_email",
        "customer_email",
        "receipt_email",
        "billing_email",
        "phone",
        "mobile",
        "telephone",
        "first_name",
        "last_name",
        "full_name",
        "customer_name",
        "address1",
        "address2",
        "address_1",
        "address_2",
        "line1",
        "line2",
        "street",
        "zip",
        "postcode",
        "postal_code",
        "browser_ip",
        "client_ip",
        "customer_ip_address",
        "ip",
        "ip_address",
        "user_agent",
        "customer_user_agent",
        "note",
        "customer_note",
    }
)
_MIN_NEEDLE = 3  # shorter names and numbers are no one's: "Al" would erase half a body


def erasure_address(email: object) -> str:
    """The address an access or erasure request names, as Reclaim keys customers (NFC,
    trimmed, lower-cased). ``InvalidInput`` naming the field ``email`` for anything that is
    not one address."""
    if not isinstance(email, str) or not email.strip():
        raise InvalidInput("no email address given", field="email")
    value = unicodedata.normalize("NFC", email).strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise InvalidInput("that is not an email address", field="email")
    return value


def erasure_key(secret: str) -> bytes:
    """The key erased addresses are hashed with, derived from the install's secret key."""
    return hashlib.sha256(b"reclaim-erasure\x00" + secret.encode("utf-8")).digest()


def keyed_hash(key: bytes, address_key: str) -> str:
    """The keyed form (hex) of a suppression key (``domain.policy.suppression_key``)."""
    return hmac.new(key, address_key.encode("ascii"), hashlib.sha256).hexdigest()


def needles(values: Iterable[str | None]) -> list[str]:
    """The person's data to look for in a body: each value lower-cased, those of at least 3
    characters, a phone also as its digits; longest first."""
    found: set[str] = set()
    for value in values:
        if not value or not value.strip():
            continue
        text = unicodedata.normalize("NFC", value).strip().lower()
        if len(text) >= _MIN_NEEDLE:
            found.add(text)
        digits = "".join(c for c in text if c.isdigit())
        if text.startswith("+") and len(digits) >= 6:
            found.add(digits)
    return sorted(found, key=lambda s: (-len(s), s))


def scrub(body: bytes, looked_for: Iterable[str]) -> bytes:
    """``body`` (a webhook's raw JSON) without the person: every value under a key about a
    customer (an address, a customer object, a name, an email, a phone, an IP, a note) and
    every string that holds one of ``looked_for`` (:func:`needles`) becomes ``[erased]``;
    ids, amounts, items and times stay. A body that is not JSON cannot be rewritten field by
    field and is dropped whole (``b""``)."""
    wanted = [n for n in looked_for if n]
    numbers = [n for n in wanted if n.isdigit()]  # phones: matched whatever their spacing
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return b""

    def mentions(text: str) -> bool:
        low = unicodedata.normalize("NFC", text).lower()
        if any(n in low for n in wanted):
            return True
        digits = "".join(c for c in low if c.isdigit())
        return any(n in digits for n in numbers)

    def erase_all(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: erase_all(v) for k, v in item.items()}
        if isinstance(item, list):
            return [erase_all(v) for v in item]
        return ERASED if isinstance(item, str) and item else item

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            kept: dict[str, Any] = {}
            for k, v in item.items():
                name = k.lower()
                if name in _PERSON_OBJECTS or (name in _PERSON_FIELDS and v not in (None, "")):
                    kept[k] = erase_all(v) if isinstance(v, dict | list) else ERASED
                else:
                    kept[k] = walk(v)
            return kept
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, str) and mentions(item):
            return ERASED
        return item

    return json.dumps(walk(data), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
