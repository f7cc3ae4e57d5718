"""Stores (one per shop a merchant connects) and their API keys."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reclaim.errors import InvalidInput


class Platform(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    STRIPE = "stripe"
    CUSTOM = "custom"


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_NAME_MAX = 120


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """What a merchant tunes per store; every default is SPEC's."""

    abandonment_delay: timedelta = timedelta(minutes=30)
    pending_delay: timedelta = timedelta(minutes=30)
    failed_payment_delay: timedelta = timedelta(minutes=5)
    recovery_window: timedelta = timedelta(days=7)
    case_ttl: timedelta = timedelta(days=30)
    hold_period: timedelta = timedelta(days=5)
    test_emails: tuple[str, ...] = ()
    test_domains: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "abandonment_delay_s": int(self.abandonment_delay.total_seconds()),
            "pending_delay_s": int(self.pending_delay.total_seconds()),
            "failed_payment_delay_s": int(self.failed_payment_delay.total_seconds()),
            "recovery_window_s": int(self.recovery_window.total_seconds()),
            "case_ttl_s": int(self.case_ttl.total_seconds()),
            "hold_period_s": int(self.hold_period.total_seconds()),
            "test_emails": list(self.test_emails),
            "test_domains": list(self.test_domains),
        }

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> StoreSettings:
        data = data or {}
        d = cls()

        def secs(key: str, default: timedelta) -> timedelta:
            v = data.get(key)
            return timedelta(seconds=int(v)) if isinstance(v, int | float) else default

        def strs(key: str) -> tuple[str, ...]:
            v = data.get(key)
            return tuple(str(x).lower() for x in v) if isinstance(v, list) else ()

        return cls(
            abandonment_delay=secs("abandonment_delay_s", d.abandonment_delay),
            pending_delay=secs("pending_delay_s", d.pending_delay),
            failed_payment_delay=secs("failed_payment_delay_s", d.failed_payment_delay),
            recovery_window=secs("recovery_window_s", d.recovery_window),
            case_ttl=secs("case_ttl_s", d.case_ttl),
            hold_period=secs("hold_period_s", d.hold_period),
            test_emails=strs("test_emails"),
            test_domains=strs("test_domains"),
        )


@dataclass(eq=False)
class Store:
    id: str
    name: str
    platform: str
    currency: str
    timezone: str
    domain: str
    webhook_secret: str
    activated_at: datetime
    settings_json: dict[str, object] = field(default_factory=dict)
    paused: bool = False

    @property
    def settings(self) -> StoreSettings:
        return StoreSettings.from_json(self.settings_json)


@dataclass(eq=False)
class ApiKey:
    """A store's API key; only its SHA-256 is kept. Presented as ``rk_<prefix>_<secret>``."""

    prefix: str
    store_id: str
    digest: str
    created_at: datetime
    scopes: str = "events:write cases:read cases:write"
    revoked_at: datetime | None = None


def new_store_id() -> str:
    return "st_" + secrets.token_hex(6)


def new_api_key(store_id: str, now: datetime) -> tuple[str, ApiKey]:
    """Return the presentable key (shown once) and what is stored of it."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(24)
    token = f"rk_{prefix}_{secret}"
    return token, ApiKey(prefix=prefix, store_id=store_id, digest=key_digest(token), created_at=now)


def key_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split_api_key(token: str) -> str | None:
    """The prefix of a well-formed key, else ``None``."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "rk" or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]


def validate_store(
    *, name: str, platform: str, currency: str, timezone: str, domain: str, webhook_secret: str
) -> None:
    """Raise :class:`InvalidInput` naming the first bad field."""
    if not name.strip() or len(name) > _NAME_MAX:
        raise InvalidInput(f"name must be 1–{_NAME_MAX} characters", field="name")
    if platform not in {p.value for p in Platform}:
        allowed = "|".join(p.value for p in Platform)
        raise InvalidInput(f"platform must be one of {allowed}", field="platform")
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise InvalidInput(
            "currency must be an upper-case ISO 4217 code such as EUR", field="currency"
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"timezone {timezone!r} is not an IANA zone such as Europe/Paris", field="timezone"
        ) from None
    if not _DOMAIN.match(domain.lower()):
        raise InvalidInput(
            f"domain {domain!r} is not a host name such as shop.example", field="domain"
        )
    if platform != Platform.CUSTOM and len(webhook_secret) < 8:
        raise InvalidInput("webhook secret must have at least 8 characters", field="webhook-secret")
