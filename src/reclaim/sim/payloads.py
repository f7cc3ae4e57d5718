"""What every platform's payload rendering shares: JSON, money, time formats, signatures.

The payloads themselves live with each platform (:mod:`reclaim.sim.shopify`,
:mod:`~reclaim.sim.woocommerce`, :mod:`~reclaim.sim.stripe`, :mod:`~reclaim.sim.custom`);
see ``tests/fixtures`` for real examples of the shapes. Signatures: Shopify and WooCommerce base64(HMAC-SHA256(secret, body)); Stripe
``t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`` made at *send* time (simulated), since
Reclaim checks it against its own clock with a 300 s tolerance.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from reclaim.domain.money import exponent
from reclaim.sim.people import Actor
from reclaim.sim.world import RATES, quantize


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes, as the platforms send (non-ASCII kept as UTF-8)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def money(amount: Decimal, currency: str) -> str:
    return str(quantize(amount, currency))


def minor(amount: Decimal, currency: str) -> int:
    return int(quantize(amount, currency).scaleb(exponent(currency)))


def convert(amount: Decimal, source: str, target: str) -> Decimal:
    return quantize(amount / RATES[source] * RATES[target], target)


def local_iso(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def utc_iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def naive(at: datetime, zone: str = "UTC") -> str:
    return at.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat(timespec="seconds")


def epoch(at: datetime) -> int:
    return int(at.timestamp())


def ip(actor: Actor) -> str:
    """Addresses from the documentation ranges (RFC 5737)."""
    block = ("192.0.2", "198.51.100", "203.0.113")[actor.index % 3]
    return f"{block}.{actor.index % 250 + 1}"


def tag(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def number(value: Decimal, currency: str) -> int | float:
    """WooCommerce's unit ``price`` is a JSON number."""
    q = quantize(value, currency)
    return int(q) if exponent(currency) == 0 else float(q)


# -- signing ------------------------------------------------------------------------------------


def sign(
    platform: str, headers: dict[str, str], body: bytes, secret: str, at: datetime
) -> dict[str, str]:
    """The headers with the platform's signature added, as made at ``at``."""
    out = dict(headers)
    if platform in ("shopify", "woocommerce"):
        mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        out["X-Shopify-Hmac-Sha256" if platform == "shopify" else "X-WC-Webhook-Signature"] = mac
    elif platform == "stripe":
        t = epoch(at)
        mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        out["Stripe-Signature"] = f"t={t},v1={mac}"
    return out
