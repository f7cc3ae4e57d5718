"""Stores (one per shop a merchant connects) and their API keys."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reclaim.domain.retention import check_windows
from reclaim.errors import InvalidInput


class Platform(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    STRIPE = "stripe"
    CUSTOM = "custom"


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_NAME_MAX = 120
_OPTIONAL_TEXT = (
    "sender_email",
    "sender_name",
    "reply_to",
    "support_email",
    "support_phone",
    "logo_url",
    "webhook_url",
    "webhook_signing_secret",
    "sms_sender",
    "platform_api_url",
    "platform_api_token",
    "shop_domain",
    "payment_instructions",
    "consent_meta_key",
)


_WINDOWS = (
    "keep_deliveries",
    "keep_events",
    "keep_messages",
    "keep_closed_cases",
    "keep_checkouts",
    "keep_orders",
    "keep_payments",
)
REPORT_EVERY = ("week", "month")  # how often a store's report may be emailed
REPORT_LOCALES = ("en", "zh-CN")  # the languages a report is written in


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
    # Messages (SPEC S4-S6).
    postal_address: str = ""  # shown in every email's footer
    # What a customer needs to pay an order by bank transfer, cash on delivery or cheque
    # (account, reference …): shown in the order's pending-order reminders.
    payment_instructions: str | None = None
    sender_email: str | None = None  # default: shop@<domain>
    sender_name: str | None = None  # default: the store's name
    reply_to: str | None = None
    support_email: str | None = None
    support_phone: str | None = None
    logo_url: str | None = None
    extra_domains: tuple[str, ...] = ()  # more hosts that links may lead to (a CDN, a blog)
    frequency_cap: timedelta = timedelta(hours=16)
    requires_consent: bool | None = None  # None: the law of the customer's country decides
    gross_margin: Decimal | None = None  # share of order value, e.g. 0.45
    margin_floor: Decimal | None = None  # incentives never push the margin below this
    webhook_url: str | None = None  # the outgoing webhook channel's endpoint
    webhook_signing_secret: str | None = None
    sms_sender: str | None = None
    # The store's platform API, to cancel orders and create coupons: the Shopify admin or
    # WooCommerce site URL (Stripe: only to point elsewhere than api.stripe.com), and the
    # Shopify access token, WooCommerce "ck_…:cs_…" or Stripe secret/restricted key.
    platform_api_url: str | None = None
    platform_api_token: str | None = None
    # The platform's own host name for the shop (Shopify: name.myshopify.com). A Shopify
    # app's webhooks are signed with the app's secret, the same for every shop that installs
    # it: deliveries naming another shop are refused. Learned from the first signed delivery
    # when not set.
    shop_domain: str | None = None
    # Operators told by email of the store's alerts (complaint rate, sending paused).
    alert_emails: tuple[str, ...] = ()
    # The operator imports Reclaim's coupon codes into the store themselves (`reclaim coupons
    # export`): codes are mailed without a connector to create them. Otherwise a code goes
    # out only once it exists on the store.
    coupons_imported: bool = False
    # Reports (issue 15): who is emailed the store's report, how often (None: never), the
    # rates other currencies are converted at (units of the store's currency for one unit of
    # the other: {"USD": Decimal("0.92")} in a EUR store), and the report's language.
    report_emails: tuple[str, ...] = ()
    report_every: str | None = None  # "week" | "month"
    fx_rates: dict[str, Decimal] = field(default_factory=dict)
    report_locale: str | None = None  # None: English
    # Trust (issue 16). The WooCommerce order meta key of the store's own marketing checkbox
    # (a checkout field editor's field): read as the customer's consent (docs/consent.md).
    consent_meta_key: str | None = None
    # Test-mode deliveries (Stripe livemode false, Shopify test orders, the events API's
    # test) run as real cases marked test, for a merchant trying Reclaim out.
    accept_test_mode: bool = False
    # Retention windows (domain/retention.py; None: the default there).
    keep_deliveries: timedelta | None = None
    keep_events: timedelta | None = None
    keep_messages: timedelta | None = None
    keep_closed_cases: timedelta | None = None
    keep_checkouts: timedelta | None = None
    keep_orders: timedelta | None = None
    keep_payments: timedelta | None = None

    def to_json(self) -> dict[str, object]:
        optional = {
            name: getattr(self, name) for name in _OPTIONAL_TEXT if getattr(self, name) is not None
        }
        for name in ("gross_margin", "margin_floor"):
            if getattr(self, name) is not None:
                optional[name] = str(getattr(self, name))
        if self.requires_consent is not None:
            optional["requires_consent"] = self.requires_consent
        if self.coupons_imported:
            optional["coupons_imported"] = True
        if self.report_emails:
            optional["report_emails"] = list(self.report_emails)
        if self.report_every is not None:
            optional["report_every"] = self.report_every
        if self.fx_rates:
            optional["fx_rates"] = {k: str(v) for k, v in sorted(self.fx_rates.items())}
        if self.report_locale is not None:
            optional["report_locale"] = self.report_locale
        if self.accept_test_mode:
            optional["accept_test_mode"] = True
        for name in _WINDOWS:
            kept = getattr(self, name)
            if kept is not None:
                optional[f"{name}_days"] = kept.days
        return optional | {
            "abandonment_delay_s": int(self.abandonment_delay.total_seconds()),
            "pending_delay_s": int(self.pending_delay.total_seconds()),
            "failed_payment_delay_s": int(self.failed_payment_delay.total_seconds()),
            "recovery_window_s": int(self.recovery_window.total_seconds()),
            "case_ttl_s": int(self.case_ttl.total_seconds()),
            "hold_period_s": int(self.hold_period.total_seconds()),
            "test_emails": list(self.test_emails),
            "alert_emails": list(self.alert_emails),
            "test_domains": list(self.test_domains),
            "postal_address": self.postal_address,
            "extra_domains": list(self.extra_domains),
            "frequency_cap_s": int(self.frequency_cap.total_seconds()),
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

        def text(key: str) -> str | None:
            v = data.get(key)
            return v if isinstance(v, str) and v else None

        def dec(key: str) -> Decimal | None:
            v = data.get(key)
            return Decimal(v) if isinstance(v, str) and v else None

        def days(key: str) -> timedelta | None:
            v = data.get(key)
            return timedelta(days=v) if isinstance(v, int) and not isinstance(v, bool) else None

        consent = data.get("requires_consent")
        rates = data.get("fx_rates")
        every = data.get("report_every")
        return cls(
            abandonment_delay=secs("abandonment_delay_s", d.abandonment_delay),
            pending_delay=secs("pending_delay_s", d.pending_delay),
            failed_payment_delay=secs("failed_payment_delay_s", d.failed_payment_delay),
            recovery_window=secs("recovery_window_s", d.recovery_window),
            case_ttl=secs("case_ttl_s", d.case_ttl),
            hold_period=secs("hold_period_s", d.hold_period),
            test_emails=strs("test_emails"),
            alert_emails=strs("alert_emails"),
            test_domains=strs("test_domains"),
            postal_address=str(data.get("postal_address") or ""),
            extra_domains=strs("extra_domains"),
            frequency_cap=secs("frequency_cap_s", d.frequency_cap),
            requires_consent=consent if isinstance(consent, bool) else None,
            gross_margin=dec("gross_margin"),
            margin_floor=dec("margin_floor"),
            coupons_imported=data.get("coupons_imported") is True,
            report_emails=strs("report_emails"),
            report_every=every if every in REPORT_EVERY else None,
            fx_rates=(
                {str(k): Decimal(str(v)) for k, v in rates.items()}
                if isinstance(rates, dict)
                else {}
            ),
            report_locale=text("report_locale"),
            accept_test_mode=data.get("accept_test_mode") is True,
            keep_deliveries=days("keep_deliveries_days"),
            keep_events=days("keep_events_days"),
            keep_messages=days("keep_messages_days"),
            keep_closed_cases=days("keep_closed_cases_days"),
            keep_checkouts=days("keep_checkouts_days"),
            keep_orders=days("keep_orders_days"),
            keep_payments=days("keep_payments_days"),
            **{name: text(name) for name in _OPTIONAL_TEXT},
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
        """The parsed settings; parsed again only when ``settings_json`` is replaced (they
        are replaced whole, never changed in place)."""
        raw = self.settings_json
        kept = self.__dict__.get("_settings_parsed")
        if kept is not None and kept[0] is raw:
            return kept[1]  # type: ignore[no-any-return]
        parsed = StoreSettings.from_json(raw)
        self.__dict__["_settings_parsed"] = (raw, parsed)
        return parsed


# What an API key may do: send events, read cases, act on cases (stop a flow, suppressions,
# feedback), and administer the store (its audit log, customers' access and erasure
# requests). A key has one or more of them, kept space-separated in this order. A key made
# without naming any gets the first three: ``admin`` is only ever given when asked for.
SCOPES: tuple[str, ...] = ("events:write", "cases:read", "cases:write", "admin")
DEFAULT_SCOPES: tuple[str, ...] = SCOPES[:3]


@dataclass(eq=False)
class ApiKey:
    """A store's API key; only its SHA-256 is kept. Presented as ``rk_<prefix>_<secret>``."""

    prefix: str
    store_id: str
    digest: str
    created_at: datetime
    scopes: str = " ".join(DEFAULT_SCOPES)
    revoked_at: datetime | None = None
    expires_at: datetime | None = None  # refused from then on; None: never
    last_used_at: datetime | None = None  # to the minute (written at most once a minute)


def new_store_id() -> str:
    return "st_" + secrets.token_hex(6)


def new_api_key(
    store_id: str,
    now: datetime,
    scopes: str = " ".join(DEFAULT_SCOPES),
    expires_at: datetime | None = None,
) -> tuple[str, ApiKey]:
    """Return the presentable key (shown once) and what is stored of it."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(24)
    token = f"rk_{prefix}_{secret}"
    key = ApiKey(
        prefix=prefix,
        store_id=store_id,
        digest=key_digest(token),
        created_at=now,
        scopes=scopes,
        expires_at=expires_at,
    )
    return token, key


def scopes_text(scopes: Iterable[str] | None) -> str:
    """The stored form of ``scopes`` (:data:`DEFAULT_SCOPES` when ``None`` or empty): each
    once, in :data:`SCOPES` order. ``InvalidInput`` names an unknown scope and the valid ones."""
    wanted = set(scopes or ()) or set(DEFAULT_SCOPES)
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise InvalidInput(
            f"unknown scope {unknown[0][:40]!r}; valid scopes: {', '.join(SCOPES)}", field="scope"
        )
    return " ".join(s for s in SCOPES if s in wanted)


_PREFIX = re.compile(r"(?:rk_)?([0-9a-f]{8})")


def key_prefix(prefix_or_key: str) -> str:
    """The prefix named by a key's prefix (``3277eb54`` or ``rk_3277eb54``) or by the whole
    key; ``InvalidInput`` for anything else."""
    text = prefix_or_key.strip()
    found = _PREFIX.fullmatch(text)
    if found is not None:
        return found.group(1)
    prefix = split_api_key(text)
    if prefix is None or not _PREFIX.fullmatch(prefix):
        raise InvalidInput(
            "name a key by its prefix (8 hex digits, as `reclaim store key list` shows) "
            "or give the whole key rk_…"
        )
    return prefix


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


_EMAIL = re.compile(
    r"^[^@\s<>\"(),;:]+@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I
)


def is_host_name(name: str) -> bool:
    return _DOMAIN.match(name) is not None


def validate_settings(s: StoreSettings) -> None:
    """Raise :class:`InvalidInput` naming the first setting that cannot work."""
    for name in ("sender_email", "reply_to", "support_email"):
        value = getattr(s, name)
        if value is not None and not _EMAIL.match(value):
            raise InvalidInput(f"{value!r} is not an email address", field=name.replace("_", "-"))
    for value in s.alert_emails:
        if not _EMAIL.match(value):
            raise InvalidInput(f"{value!r} is not an email address", field="alert-email")
    for name in ("webhook_url", "logo_url", "platform_api_url"):
        value = getattr(s, name)
        if value is not None and not re.match(r"^https?://[^\s/?#@]+(/\S*)?$", value):
            raise InvalidInput(f"{value!r} is not an http(s) URL", field=name.replace("_", "-"))
    if len(s.postal_address) > 300 or "\r" in s.postal_address:
        raise InvalidInput("postal address must be at most 300 characters", field="postal-address")
    if s.payment_instructions is not None and (
        len(s.payment_instructions) > 2000
        or any(ord(ch) < 32 and ch not in "\n\t" for ch in s.payment_instructions)
    ):
        raise InvalidInput(
            "payment instructions are at most 2000 characters of text (lines are fine)",
            field="payment-instructions",
        )
    for name in ("gross_margin", "margin_floor"):
        value = getattr(s, name)
        if value is not None and not Decimal(0) <= value < Decimal(1):
            raise InvalidInput(
                f"{name.replace('_', ' ')} is a share of order value, e.g. 0.45",
                field=name.replace("_", "-"),
            )
    if (
        s.gross_margin is not None
        and s.margin_floor is not None
        and s.margin_floor > s.gross_margin
    ):
        raise InvalidInput("the margin floor is above the gross margin", field="margin-floor")
    if not timedelta(hours=1) <= s.frequency_cap <= timedelta(days=7):
        raise InvalidInput("the frequency cap is between 1 hour and 7 days", field="frequency-cap")
    if not timedelta(days=3) <= s.hold_period <= timedelta(days=7):
        raise InvalidInput("the hold period is between 3 and 7 days (SPEC S7)", field="hold-period")
    if s.shop_domain is not None and not _DOMAIN.match(s.shop_domain):
        raise InvalidInput(f"{s.shop_domain!r} is not a host name", field="shop-domain")
    if not isinstance(s.coupons_imported, bool):
        raise InvalidInput("coupons imported is true or false", field="coupons-imported")
    for value in s.report_emails:
        if not _EMAIL.match(value):
            raise InvalidInput(f"{value!r} is not an email address", field="report-email")
    if s.report_every is not None and s.report_every not in REPORT_EVERY:
        raise InvalidInput("a report is sent every week or month (or never)", field="report-every")
    if s.report_locale is not None and s.report_locale not in REPORT_LOCALES:
        raise InvalidInput(
            f"reports are written in {' or '.join(REPORT_LOCALES)}", field="report-locale"
        )
    for code, rate in s.fx_rates.items():
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise InvalidInput(f"{code[:8]!r} is not a currency code such as USD", field="fx-rate")
        if not rate.is_finite() or rate <= 0:
            raise InvalidInput(f"the rate of {code} must be a positive number", field="fx-rate")
    for host in s.extra_domains:
        if not _DOMAIN.match(host):
            raise InvalidInput(f"{host!r} is not a host name", field="extra-domain")
    key = s.consent_meta_key
    if key is not None and (not 0 < len(key) <= 255 or not key.isprintable() or key != key.strip()):
        raise InvalidInput(
            "the consent meta key is an order meta key such as _mc4wp_optin (at most 255 "
            "printable characters)",
            field="consent-meta-key",
        )
    check_windows(s)
