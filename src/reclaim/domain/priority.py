"""The follow-up queue's priority score (SPEC S11): which open case a person should call first.

A case earns points for each of six things, added up (higher first); each part is shown
beside the case so the operator sees why it ranks where it does:

============  ==================================================================  ========
part          rule                                                                points
============  ==================================================================  ========
value         the case's value, in "reference units" of its currency (the amount  0-40
              divided by :data:`CURRENCY_SCALE`): >= 1000: 40, >= 500: 32,
              >= 250: 24, >= 100: 16, >= 50: 8, else 0
margin        the store's gross margin (settings): round(10 x margin); unknown: 5  0-10
region        the customer's country: :data:`REGION_A` (large baskets, phone       0-8
              follow-up usual) 8, any other known country 4, unknown 0
age           time since the opportunity arose (the cart's last activity, the      0-20
              order, the failed payment): < 1 h 0 (the flow is still at work),
              1-6 h 6, 6-24 h 12, 1-3 d 18, 3-7 d 20, older 10 (going cold)
kind          a pending (unpaid) order 15, a failed payment 12, a shipment going   4-15
              wrong 10, an abandoned checkout 4
reason        what stopped the customer (``Case.reason``), where a person helps    0-10
              most: :data:`REASON_POINTS`
odds          the predicted chance of recovery p, where a prediction exists:       0-20
              round(20 x p); none yet: 0
============  ==================================================================  ========

Money is compared across currencies only coarsely: :data:`CURRENCY_SCALE` holds orders of
magnitude (about how many units of a currency buy what one US dollar or euro does), not
exchange rates, so ``¥12,000`` and ``$100`` land in the same band. Within one currency
the order is exact. Currencies not in the table count at face value.

The database adapter computes the same sum in SQL (for ranking 100k cases without loading
them); :func:`priority` is the rule itself, and the queue shows its parts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

# Bands: (at least, points), highest first.
VALUE_BANDS: tuple[tuple[Decimal, int], ...] = (
    (Decimal(1000), 40),
    (Decimal(500), 32),
    (Decimal(250), 24),
    (Decimal(100), 16),
    (Decimal(50), 8),
)

# Units of a currency worth about one USD/EUR, rounded to an order of magnitude (1, 2, 5 …).
CURRENCY_SCALE: Mapping[str, Decimal] = MappingProxyType(
    {
        **dict.fromkeys(("CNY", "HKD", "SEK", "NOK", "DKK", "ZAR", "MXN"), Decimal(5)),
        **dict.fromkeys(("BRL", "PLN", "MYR", "AED", "SAR", "ILS", "TRY"), Decimal(5)),
        **dict.fromkeys(("AUD", "CAD", "NZD", "SGD"), Decimal("1.5")),
        **dict.fromkeys(("INR", "THB", "PHP", "RUB", "TWD"), Decimal(50)),
        "JPY": Decimal(100),
        "KRW": Decimal(1000),
        "CLP": Decimal(1000),
        "HUF": Decimal(200),
        "IDR": Decimal(10000),
        "VND": Decimal(20000),
        "NGN": Decimal(1000),
    }
)

MARGIN_MAX = 10
MARGIN_UNKNOWN = 5

# Markets with large baskets where a phone call after a failed purchase is usual.
REGION_A: frozenset[str] = frozenset(
    [
        "US",
        "CA",
        "GB",
        "IE",
        "AU",
        "NZ",
        "DE",
        "FR",
        "NL",
        "BE",
        "LU",
        "AT",
        "CH",
        "SE",
        "NO",
        "DK",
        "FI",
        "JP",
        "KR",
        "SG",
        "HK",
        "TW",
        "AE",
        "SA",
        "KW",
        "QA",
        "IL",
    ]
)
REGION_A_POINTS = 8
REGION_OTHER_POINTS = 4

# (older than, points), oldest first; younger than the last: 0.
AGE_BANDS: tuple[tuple[timedelta, int], ...] = (
    (timedelta(days=7), 10),
    (timedelta(days=3), 20),
    (timedelta(days=1), 18),
    (timedelta(hours=6), 12),
    (timedelta(hours=1), 6),
)

KIND_POINTS: Mapping[str, int] = MappingProxyType(
    {
        "pending_order": 15,
        "failed_payment": 12,
        "shipment_exception": 10,
        "abandoned_checkout": 4,
    }
)

# Where a person can do what a message cannot: another way to pay, help with 3-D Secure,
# an unpaid bank transfer or cash-on-delivery order to confirm.
REASON_POINTS: Mapping[str, int] = MappingProxyType(
    {
        "unsupported_method_or_currency": 10,
        "authentication_failed": 10,
        "awaiting_payment": 8,
        "expired_or_invalid_card": 8,
        "processing_error": 8,
        "generic_decline": 6,
        "insufficient_funds": 4,
        "checkout_expired": 2,
        "checkout_abandoned": 2,
        "suspected_fraud": 0,
    }
)

ODDS_MAX = 20

PARTS = ("value", "margin", "region", "age", "kind", "reason", "odds")


@dataclass(frozen=True, slots=True)
class Priority:
    """A case's score and its parts, in :data:`PARTS` order."""

    total: int
    parts: tuple[tuple[str, int], ...]

    def part(self, name: str) -> int:
        return dict(self.parts)[name]


def reference_value(value: Decimal, currency: str) -> Decimal:
    """``value`` in reference units (see :data:`CURRENCY_SCALE`)."""
    return value / CURRENCY_SCALE.get(currency.upper(), Decimal(1))


def value_points(value: Decimal, currency: str) -> int:
    ref = reference_value(value, currency)
    return next((points for floor, points in VALUE_BANDS if ref >= floor), 0)


def margin_points(gross_margin: Decimal | None) -> int:
    if gross_margin is None:
        return MARGIN_UNKNOWN
    share = min(max(gross_margin, Decimal(0)), Decimal(1))
    return int((share * MARGIN_MAX).to_integral_value())


def region_points(country: str | None) -> int:
    if not country:
        return 0
    return REGION_A_POINTS if country.upper() in REGION_A else REGION_OTHER_POINTS


def age_points(age: timedelta) -> int:
    return next((points for older, points in AGE_BANDS if age >= older), 0)


def odds_points(odds: float | None) -> int:
    if odds is None:
        return 0
    return round(ODDS_MAX * min(max(odds, 0.0), 1.0))


def priority(
    *,
    value: Decimal,
    currency: str,
    gross_margin: Decimal | None,
    country: str | None,
    kind: str,
    reason: str,
    occurred_at: datetime,
    now: datetime,
    odds: float | None = None,
) -> Priority:
    """The score of one open case at ``now``."""
    parts = (
        ("value", value_points(value, currency)),
        ("margin", margin_points(gross_margin)),
        ("region", region_points(country)),
        ("age", age_points(now - occurred_at)),
        ("kind", KIND_POINTS.get(kind, 0)),
        ("reason", REASON_POINTS.get(reason, 0)),
        ("odds", odds_points(odds)),
    )
    return Priority(sum(p for _, p in parts), parts)


# A decent hour to phone someone, on their own clock (stricter than the SMS quiet hours).
CALL_FROM = 9
CALL_UNTIL = 20  # exclusive: 09:00-19:59


def decent_hour(local: datetime) -> bool:
    """Whether ``local`` (the customer's wall clock) is a decent time to call: 09:00-20:00,
    Monday to Saturday."""
    return local.weekday() < 6 and CALL_FROM <= local.hour < CALL_UNTIL


NOBODY = -1  # QueueQuery.assignee: the cases no one has taken


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """Which open cases the queue lists (every field optional but ``store_ids``).
    ``value_min``/``value_max`` compare the case's own amount (with ``currency`` to keep to
    one currency); ``older_than`` is the least age; ``assignee`` a user id or :data:`NOBODY`."""

    store_ids: tuple[str, ...]
    kind: str | None = None
    country: str | None = None
    currency: str | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    older_than: timedelta | None = None
    reason: str | None = None
    assignee: int | None = None
    manual: bool | None = None
