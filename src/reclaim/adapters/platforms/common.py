"""Helpers shared by the platform connectors: headers, HMAC, JSON, typed field readers.

Every reader takes the JSON ``path`` of the value it reads (``line_items[2].quantity``) and
raises :class:`~reclaim.errors.MalformedPayload` naming that path, so a parser built from them
can only ever fail with ``MalformedPayload`` whatever bytes it is given.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from reclaim.adapters import geo
from reclaim.domain import money
from reclaim.domain.events import Contact
from reclaim.errors import InvalidInput, MalformedPayload, SignatureError

MAX_TEXT = 2000  # longest free text kept (names, messages); longer values are cut
MAX_ID = 255
MAX_URL = 4096
MAX_QUANTITY = 1_000_000
_EPOCH_MAX = 253402300799  # 9999-12-31T23:59:59Z


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (case-insensitive), stripped; ``None`` when absent/empty."""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value.strip() or None
    return None


def require_secret(secret: str) -> bytes:
    if not isinstance(secret, str) or not secret:
        raise SignatureError("no signing secret is configured for this source")
    return secret.encode("utf-8")


def hmac_sha256(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha256).digest()


def same(expected: str, given: str) -> bool:
    """Constant-time comparison of two header-sized strings (any characters)."""
    return hmac.compare_digest(
        expected.encode("utf-8", "replace"), given.encode("utf-8", "replace")
    )


def verify_base64_hmac(
    *, headers: Mapping[str, str], body: bytes, secret: str, header_name: str
) -> None:
    """Shopify / WooCommerce scheme: ``header_name`` = base64(HMAC-SHA256(secret, body))."""
    key = require_secret(secret)
    given = header(headers, header_name)
    if given is None:
        raise SignatureError(f"missing {header_name} header")
    expected = base64.b64encode(hmac_sha256(key, body)).decode("ascii")
    if not same(expected, given):
        raise SignatureError(f"{header_name} does not match the body")


# -- JSON ---------------------------------------------------------------------------------------


def malformed(path: str, message: str) -> MalformedPayload:
    return MalformedPayload(f"{path} {message}" if path else message, field=path or None)


def load_json(body: bytes) -> Any:
    if not isinstance(body, bytes | bytearray | memoryview):
        raise MalformedPayload("body must be bytes")
    if not bytes(body).strip():
        raise MalformedPayload("body is empty")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedPayload(f"body is not valid JSON: {str(exc)[:120]}") from None


def load_object(body: bytes) -> dict[str, Any]:
    data = load_json(body)
    if not isinstance(data, dict):
        raise MalformedPayload("body must be a JSON object")
    return data


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(path, "must be an object")
    return value


def opt_obj(parent: Mapping[str, Any], key: str, path: str = "") -> dict[str, Any] | None:
    value = parent.get(key)
    return None if value is None else obj(value, join(path, key))


def array(value: Any, path: str, *, max_len: int = 1000) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise malformed(path, "must be an array")
    if len(value) > max_len:
        raise malformed(path, f"must have at most {max_len} entries")
    return value


def codes(value: Any, path: str, *, key: str | None = None) -> tuple[str, ...]:
    """Discount codes: a list of strings, or of objects whose ``key`` holds the code
    (Shopify ``discount_codes[].code``, WooCommerce ``coupon_lines[].code``)."""
    out: list[str] = []
    for i, entry in enumerate(array(value, path, max_len=50)):
        where = join(path, i)
        raw = entry
        if key is not None:
            raw = obj(entry, where).get(key)
            where = join(where, key)
        code = text(raw, where, max_len=64)
        if code is not None:
            out.append(code)
    return tuple(dict.fromkeys(out))


def require(obj_: Mapping[str, Any], dotted: str, *, base: str = "") -> Any:
    """The value at ``dotted`` (``"customer.email"``) below ``obj_``; missing or null raises."""
    current: Any = obj_
    path = base
    for part in dotted.split("."):
        if not isinstance(current, dict):
            raise malformed(path, "must be an object")
        path = join(path, part)
        current = current.get(part)
        if current is None:
            raise malformed(path, "is required")
    return current


def dig(obj_: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``dotted`` or ``None`` when any step is missing or not an object."""
    current: Any = obj_
    for part in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


# -- scalar readers -----------------------------------------------------------------------------


def text(value: Any, path: str, *, max_len: int = MAX_TEXT) -> str | None:
    """A string, stripped and cut to ``max_len``; ``None`` for null or blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise malformed(path, "must be a string")
    value = value.strip()
    _no_nul(value, path)
    return value[:max_len] or None


def _no_nul(value: str, path: str) -> None:
    """NUL is no character of any name, id or address, and PostgreSQL cannot store it: a
    delivery holding one is kept as a dead letter on every database alike."""
    if "\x00" in value:
        raise malformed(path, "holds a NUL character")


def req_text(value: Any, path: str, *, max_len: int = MAX_TEXT) -> str:
    result = text(value, path, max_len=max_len)
    if result is None:
        raise malformed(path, "is required")
    return result


def ident(value: Any, path: str) -> str | None:
    """An identifier given as a JSON integer or a non-blank string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise malformed(path, "must be an id (string or integer)")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        _no_nul(value, path)
        if len(value) > MAX_ID:
            raise malformed(path, f"must be at most {MAX_ID} characters")
        return value or None
    raise malformed(path, "must be an id (string or integer)")


def req_ident(value: Any, path: str) -> str:
    result = ident(value, path)
    if result is None:
        raise malformed(path, "is required")
    return result


def flag(value: Any, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise malformed(path, "must be true or false")


def count(value: Any, path: str, *, minimum: int = 0, maximum: int = MAX_QUANTITY) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise malformed(path, f"must be {kind}")
    return value


def amount(value: Any, path: str) -> Decimal:
    try:
        return money.parse_amount(value, field=path)
    except InvalidInput as exc:
        raise MalformedPayload(str(exc), field=path) from None


def minor_amount(value: Any, currency_code: str, path: str) -> Decimal:
    """Integer minor units (Stripe) to a major-unit amount."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise malformed(path, "must be a non-negative integer amount in minor units")
    if value >= 10**18:
        raise malformed(path, "is too large")
    return amount(money.from_minor(value, currency_code), path)


def currency(value: Any, path: str) -> str:
    try:
        return money.normalise_currency(value, field=path)
    except InvalidInput as exc:
        raise MalformedPayload(str(exc), field=path) from None


def timestamp(value: Any, path: str, *, naive_is_utc: bool = False) -> datetime:
    """ISO 8601 with an offset or ``Z`` to aware UTC; ``naive_is_utc`` for Woo's ``*_gmt``."""
    if not isinstance(value, str) or not value.strip():
        raise malformed(path, "must be an ISO 8601 date-time")
    raw = value.strip()
    if len(raw) > 40:
        raise malformed(path, "must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise malformed(path, "must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise malformed(path, "must include a UTC offset or Z")
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise malformed(path, "is out of range") from None


def opt_timestamp(value: Any, path: str, *, naive_is_utc: bool = False) -> datetime | None:
    if value is None or value == "":
        return None
    return timestamp(value, path, naive_is_utc=naive_is_utc)


def epoch(value: Any, path: str) -> datetime:
    """Unix seconds (Stripe) to aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _EPOCH_MAX:
        raise malformed(path, "must be a Unix timestamp in seconds")
    return datetime.fromtimestamp(value, UTC)


def opt_epoch(value: Any, path: str) -> datetime | None:
    return None if value is None else epoch(value, path)


# -- contact ------------------------------------------------------------------------------------

_PHONE_JUNK = re.compile(r"[^0-9]")


def email(value: Any, path: str, *, strict: bool = False) -> str | None:
    """Lower-cased, stripped address; one without ``@`` is ``None`` (or an error if strict)."""
    raw = text(value, path, max_len=MAX_TEXT)
    if raw is None:
        return None
    raw = raw.lower()
    local, at, domain = raw.rpartition("@")
    if not at or not local or not domain or len(raw) > 320 or any(c.isspace() for c in raw):
        if strict:
            raise malformed(path, "must be an email address")
        return None
    return raw


def phone(value: Any, path: str) -> str | None:
    """Keeps a leading ``+`` and the digits; fewer than 5 digits is no phone at all."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    raw = text(value, path, max_len=64)
    if raw is None:
        return None
    digits = _PHONE_JUNK.sub("", raw)
    if not 5 <= len(digits) <= 20:
        return None
    return ("+" if raw.startswith("+") else "") + digits


def country(value: Any, path: str, *, strict: bool = False) -> str | None:
    raw = text(value, path, max_len=64)
    if raw is None:
        return None
    code = raw.upper()
    code = {"UK": "GB"}.get(code, code)
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        if strict:
            raise malformed(path, "must be an ISO 3166-1 alpha-2 country code")
        return None
    return code


def region(value: Any, path: str) -> str | None:
    raw = text(value, path, max_len=64)
    return raw.upper() if raw is not None and raw.isascii() else raw


def url(value: Any, path: str, *, strict: bool = False) -> str | None:
    """An absolute http(s) URL; anything else is ``None`` (or an error if ``strict``)."""
    raw = text(value, path, max_len=MAX_URL + 1)
    if raw is None:
        return None
    if len(raw) > MAX_URL:  # a cut URL is a broken link: refuse rather than truncate
        if strict:
            raise malformed(path, f"must be at most {MAX_URL} characters")
        return None
    if not raw.lower().startswith(("https://", "http://")) or any(ch.isspace() for ch in raw):
        if strict:
            raise malformed(path, "must be an absolute http(s) URL")
        return None
    return raw


def split_name(full: str | None) -> tuple[str | None, str | None]:
    """``"Ana Maria Souza"`` -> ``("Ana", "Maria Souza")``: the best a single field allows."""
    if not full:
        return None, None
    first, _, rest = full.strip().partition(" ")
    return first or None, rest.strip() or None


def contact(
    *,
    email: str | None = None,
    phone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    locale_hint: str | None = None,
    country: str | None = None,
    region: str | None = None,
    timezone: str | None = None,
    accepts_email_marketing: bool | None = None,
    accepts_sms_marketing: bool | None = None,
    customer_ref: str | None = None,
    orders_count: int | None = None,
) -> Contact:
    """A :class:`Contact` with time zone and locale filled in from the country where missing."""
    return Contact(
        email=email,
        phone=phone,
        first_name=first_name,
        last_name=last_name,
        locale=geo.locale_for(country, locale_hint, region),
        country=country,
        region=region,
        timezone=timezone or geo.timezone_for(country, region),
        accepts_email_marketing=accepts_email_marketing,
        accepts_sms_marketing=accepts_sms_marketing,
        customer_ref=customer_ref,
        orders_count=orders_count,
    )
