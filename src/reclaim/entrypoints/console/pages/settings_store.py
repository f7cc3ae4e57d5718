"""A store's settings in the console (admins): the fields and the checks of ``reclaim store
set`` (``services.stores.update_settings`` with ``domain.stores.validate_settings``), read
from a form and shown back with each error next to its field. All or nothing: a form with
any error saves no field. Secrets (the outgoing webhooks' signing secret, the platform token)
are never shown: left blank they stay as they are."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from reclaim.domain.retention import KINDS
from reclaim.domain.stores import REPORT_LOCALES, Store
from reclaim.entrypoints.console.pages.ops_support import Form
from reclaim.entrypoints.console.words import Words

TEXT = (
    "postal-address",
    "sender-email",
    "sender-name",
    "reply-to",
    "support-email",
    "support-phone",
    "logo-url",
    "webhook-url",
    "sms-sender",
    "platform-api-url",
    "shop-domain",
    "consent-meta-key",
)
SECRETS = ("webhook-signing-secret", "platform-api-token")
SHARES = ("gross-margin", "margin-floor")
FLAGS = ("coupons-imported", "accept-test-mode")
LISTS = ("alert-email", "report-email")
WINDOWS = tuple(k.setting.replace("_", "-") for k in KINDS)
CONSENT = {"law": None, "always": True, "never": False}
EVERY = ("week", "month", "never")
# Every field the form has, in the order errors are looked for.
FIELDS = (
    *TEXT,
    "payment-instructions",
    *SECRETS,
    *SHARES,
    "frequency-cap",
    "hold-period",
    "consent",
    *FLAGS,
    *LISTS,
    "report-every",
    "report-locale",
    "fx-rate",
    *WINDOWS,
    "paused",
)
_ATTR = {name: name.replace("-", "_") for name in FIELDS}
_ATTR |= {"consent": "requires_consent", "alert-email": "alert_emails"}
_ATTR |= {"report-email": "report_emails", "fx-rate": "fx_rates"}


def shown(store: Store) -> dict[str, Any]:
    """The store's settings as the form shows them (never a secret)."""
    s = store.settings
    values: dict[str, Any] = {}
    for name in TEXT:
        values[name] = getattr(s, _ATTR[name]) or ""
    values["payment-instructions"] = s.payment_instructions or ""
    for name in SHARES:
        value = getattr(s, _ATTR[name])
        values[name] = "" if value is None else str(value)
    values["frequency-cap"] = str(int(s.frequency_cap.total_seconds() // 3600))
    values["hold-period"] = str(s.hold_period.days)
    values["consent"] = {None: "law", True: "always", False: "never"}[s.requires_consent]
    for name in FLAGS:
        values[name] = bool(getattr(s, _ATTR[name]))
    for name in LISTS:
        values[name] = "\n".join(getattr(s, _ATTR[name]))
    values["report-every"] = s.report_every or "never"
    values["report-locale"] = s.report_locale or "en"
    values["fx-rate"] = "\n".join(f"{k}={v}" for k, v in sorted(s.fx_rates.items()))
    for name in WINDOWS:
        kept = getattr(s, _ATTR[name])
        values[name] = "" if kept is None else str(kept.days)
    values["paused"] = store.paused
    return values


def secrets_set(store: Store) -> dict[str, bool]:
    return {name: bool(getattr(store.settings, _ATTR[name])) for name in SECRETS}


def _whole(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not text.lstrip("-").isdigit() or len(text) > 6:
        return None
    value = int(text)
    return value if low <= value <= high else None


def _share(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def read(raw: Mapping[str, str], t: Words) -> tuple[Form, dict[str, object], bool | None]:
    """The form's values (kept as typed), the changes for ``update_settings``, and
    ``paused``; errors, in the user's words, for what cannot even be read."""
    form = Form(values={name: raw.get(name, "") for name in FIELDS})
    for name in (*FLAGS, "paused"):
        form.values[name] = raw.get(name, "") == "1"
    for name in SECRETS:
        form.values[name] = ""  # a secret typed is never sent back to the page
        form.values[f"clear-{name}"] = raw.get(f"clear-{name}", "") == "1"

    def bad(name: str) -> None:
        form.fail(name, t(f"settings.store.{name}.invalid"))

    changes: dict[str, object] = {}
    for name in TEXT:
        value = raw.get(name, "").strip()
        if name == "shop-domain":
            value = value.lower()
        changes[_ATTR[name]] = value if value or name == "postal-address" else None
    instructions = raw.get("payment-instructions", "").replace("\r\n", "\n").strip()
    changes["payment_instructions"] = instructions or None
    for name in SECRETS:
        value = raw.get(name, "").strip()
        if raw.get(f"clear-{name}", "") == "1":
            changes[_ATTR[name]] = None
        elif value:
            changes[_ATTR[name]] = value
    for name in SHARES:
        text = raw.get(name, "").strip()
        share = _share(text) if text else None
        if text and share is None:
            bad(name)
        changes[_ATTR[name]] = share
    hours = _whole(raw.get("frequency-cap", ""), 1, 168)
    if hours is None:
        bad("frequency-cap")
    else:
        changes["frequency_cap"] = timedelta(hours=hours)
    days = _whole(raw.get("hold-period", ""), 3, 7)
    if days is None:
        bad("hold-period")
    else:
        changes["hold_period"] = timedelta(days=days)
    consent = raw.get("consent", "law")
    if consent not in CONSENT:
        bad("consent")
    changes["requires_consent"] = CONSENT.get(consent)
    for name in FLAGS:
        changes[_ATTR[name]] = form.values[name]
    for name in LISTS:
        lines = raw.get(name, "").replace(",", "\n").splitlines()
        changes[_ATTR[name]] = tuple(x.strip().lower() for x in lines if x.strip())
    every = raw.get("report-every", "never")
    if every not in EVERY:
        bad("report-every")
    changes["report_every"] = None if every == "never" else every
    locale = raw.get("report-locale", "en")
    if locale not in REPORT_LOCALES:
        bad("report-locale")
    changes["report_locale"] = locale
    rates: dict[str, Decimal] = {}
    for line in raw.get("fx-rate", "").replace(",", "\n").splitlines():
        if not line.strip():
            continue
        code, sep, value = line.partition("=")
        rate = _share(value) if sep else None
        if rate is None:
            bad("fx-rate")
            break
        rates[code.strip().upper()] = rate
    changes["fx_rates"] = rates
    for name in WINDOWS:
        text = raw.get(name, "").strip()
        window = _whole(text, 0, 100_000) if text else None
        if text and window is None:
            bad(name)
        changes[_ATTR[name]] = None if window is None else timedelta(days=window)
    return form, changes, form.values["paused"]
