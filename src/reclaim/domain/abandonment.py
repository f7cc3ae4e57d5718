"""Why people abandon: the reason taxonomy, and the reasons a case's own data supports
(SPEC S12; ``docs/reasons.md`` documents every reason, its threshold and its source).

The taxonomy follows Baymard Institute's survey of why shoppers abandon during checkout and
the seeds' supply-chain reasons (shipping cost, delivery time unclear, stock unclear,
payment). Some reasons Reclaim can see in a case's data (:func:`infer_reasons`); the rest
only a customer's own answer to "What stopped you?" gives. Pure: every signal is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from reclaim.domain.money import amount_text
from reclaim.domain.reasons import FailureReason, OfflineMethod, offline_method


class Reason(StrEnum):
    EXTRA_COSTS = "extra_costs"  # shipping, tax, fees too high (Baymard's #1)
    DELIVERY_TOO_SLOW = "delivery_too_slow"  # promise shown slower than possible / unclear
    STOCK_UNCLEAR = "stock_unclear"  # an item out of stock or backordered
    PRICE_CHANGED = "price_changed"  # total/price changed between visits
    PAYMENT_DECLINED = "payment_declined"  # a failed payment (with its decline reason in detail)
    PAYMENT_METHODS = (
        "payment_methods"  # the country's common methods not offered / offline pending
    )
    COUPON_REJECTED = "coupon_rejected"
    ACCOUNT_REQUIRED = "account_required"  # customer answer only
    CHECKOUT_COMPLICATED = "checkout_complicated"  # customer answer only
    TRUST = "trust"  # customer answer only (didn't trust the site with card)
    JUST_BROWSING = "just_browsing"  # customer answer only
    OTHER = "other"  # customer free text


#: Reasons no signal can show: only the customer's answer records them.
ANSWER_ONLY = frozenset(
    {
        Reason.ACCOUNT_REQUIRED,
        Reason.CHECKOUT_COMPLICATED,
        Reason.TRUST,
        Reason.JUST_BROWSING,
        Reason.OTHER,
    }
)


@dataclass(frozen=True, slots=True)
class Signals:
    """What Reclaim knows about one case; every field but the first four is optional."""

    kind: str  # case kind
    country: str | None
    cart_value: Decimal
    currency: str
    shipping_quote: Decimal | None = None  # shipping shown
    shipping_days: int | None = None  # longest delivery time shown (business days)
    fastest_days: int | None = None  # fastest possible (from fulfilment), if known
    sold_out_skus: tuple[str, ...] = ()
    previous_total: Decimal | None = None  # an earlier observation's total of the same cart
    decline_reason: str | None = None  # FailureReason value for failed payments
    payment_method: str | None = None  # order's method (offline ones: bank_transfer...)
    coupon_rejected: bool = False
    # The payment methods the checkout offered (any spelling: "iDEAL", "p24", "wechat_pay");
    # None when unknown, and then nothing is inferred from them.
    offered_methods: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class InferredReason:
    reason: Reason
    detail: str  # the evidence in plain English, e.g. "shipping 18 % of the cart"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where a signal starts to count as a reason (``docs/reasons.md`` says why each)."""

    shipping_share: Decimal = Decimal("0.15")  # shipping / cart value, at or above
    slower_by_days: int = 2  # promise minus the fastest possible, business days, at or above
    slow_days: int = 10  # a promise longer than this (business days; ~two calendar weeks)
    price_rise: Decimal = Decimal("0.01")  # total rose by at least this share


DEFAULT_THRESHOLDS = Thresholds()

# A local method the payment providers' own pages call the most used (or among the most used)
# way to pay online in that country; a checkout that offers none of a country's methods
# misses it (docs/reasons.md names the sources). Keys are plain names (see _plain_method).
COMMON_METHODS: dict[str, tuple[str, ...]] = {
    "AT": ("eps",),
    "BE": ("bancontact",),
    "BR": ("pix", "boleto"),
    "CH": ("twint",),
    "CN": ("alipay", "wechatpay"),
    "DK": ("mobilepay",),
    "IN": ("upi",),
    "MX": ("oxxo",),
    "NL": ("ideal",),
    "PL": ("blik", "przelewy24"),
    "PT": ("multibanco", "mbway"),
    "SE": ("swish",),
}
_METHOD_LABELS = {
    "eps": "EPS",
    "bancontact": "Bancontact",
    "pix": "Pix",
    "boleto": "Boleto",
    "twint": "TWINT",
    "alipay": "Alipay",
    "wechatpay": "WeChat Pay",
    "mobilepay": "MobilePay",
    "upi": "UPI",
    "oxxo": "OXXO",
    "ideal": "iDEAL",
    "blik": "BLIK",
    "przelewy24": "Przelewy24",
    "multibanco": "Multibanco",
    "mbway": "MB WAY",
    "swish": "Swish",
}
_METHOD_ALIASES = {
    "p24": "przelewy24",
    "wechat": "wechatpay",
    "weixin": "wechatpay",
    "weixinpay": "wechatpay",
    "alipayplus": "alipay",
    "boletobancario": "boleto",
    "idealwero": "ideal",
}
_OFFLINE_WORDS = {
    OfflineMethod.BANK_TRANSFER: "a bank transfer",
    OfflineMethod.CASH_ON_DELIVERY: "cash on delivery",
    OfflineMethod.CHEQUE: "a cheque or money order",
}
_NOT_APPLICABLE_KINDS = frozenset({"shipment_exception"})  # service cases: nobody abandoned


def _plain_method(name: str) -> str:
    plain = re.sub(r"[^0-9a-z]", "", name.lower())
    return _METHOD_ALIASES.get(plain, plain)


def _percent(share: Decimal) -> int:
    return int((share * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _money(value: Decimal, currency: str) -> str:
    return f"{currency} {amount_text(value, currency)}"


def _extra_costs(s: Signals, t: Thresholds) -> str | None:
    if s.shipping_quote is None or s.shipping_quote <= 0 or s.cart_value <= 0:
        return None
    share = s.shipping_quote / s.cart_value
    if share < t.shipping_share:
        return None
    return (
        f"shipping {_money(s.shipping_quote, s.currency)} is {_percent(share)} % of the cart "
        f"({_money(s.cart_value, s.currency)})"
    )


def _delivery(s: Signals, t: Thresholds) -> str | None:
    if s.shipping_days is None:
        return None
    found = []
    if s.fastest_days is not None and s.shipping_days - s.fastest_days >= t.slower_by_days:
        found.append(
            f"delivery shown in {s.shipping_days} business days, "
            f"{s.fastest_days} possible from the fastest fulfilment"
        )
    if s.shipping_days > t.slow_days:
        found.append(
            f"delivery shown in {s.shipping_days} business days "
            f"(over {t.slow_days}, about two weeks)"
        )
    return "; ".join(found) or None


def _price(s: Signals, t: Thresholds) -> str | None:
    old = s.previous_total
    if old is None or old <= 0 or s.cart_value <= old:
        return None
    rise = (s.cart_value - old) / old
    if rise < t.price_rise:
        return None
    return (
        f"total rose from {_money(old, s.currency)} to {_money(s.cart_value, s.currency)} "
        f"(+{_percent(rise)} %)"
    )


def _declined(s: Signals) -> str | None:
    if not s.decline_reason:
        return None
    return "payment failed: " + s.decline_reason.replace("_", " ")


def _methods(s: Signals) -> str | None:
    found = []
    offline = offline_method(s.payment_method)
    if offline is not None:
        found.append(f"waiting on {_OFFLINE_WORDS[offline]}")
    if s.decline_reason == FailureReason.UNSUPPORTED:
        found.append("the card, method or currency was not accepted")
    country = (s.country or "").upper()
    common = COMMON_METHODS.get(country, ())
    if common and s.offered_methods is not None:
        offered = {_plain_method(m) for m in s.offered_methods}
        if not offered.intersection(common):
            names = " or ".join(_METHOD_LABELS[m] for m in common)
            found.append(f"{names} not offered, common in {country}")
    return "; ".join(found) or None


def infer_reasons(
    signals: Signals, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[InferredReason, ...]:
    """The reasons ``signals`` support, each with its evidence; in the order of
    :class:`Reason`, each at most once, the same for the same signals.

    Nothing for a shipment exception (a parcel going wrong is not an abandonment), and never
    an answer-only reason (:data:`ANSWER_ONLY`).
    """
    if signals.kind in _NOT_APPLICABLE_KINDS:
        return ()
    t = thresholds
    found = (
        (Reason.EXTRA_COSTS, _extra_costs(signals, t)),
        (Reason.DELIVERY_TOO_SLOW, _delivery(signals, t)),
        (
            Reason.STOCK_UNCLEAR,
            "out of stock or backordered: " + ", ".join(dict.fromkeys(signals.sold_out_skus))
            if signals.sold_out_skus
            else None,
        ),
        (Reason.PRICE_CHANGED, _price(signals, t)),
        (Reason.PAYMENT_DECLINED, _declined(signals)),
        (Reason.PAYMENT_METHODS, _methods(signals)),
        (
            Reason.COUPON_REJECTED,
            "a coupon code was refused at checkout" if signals.coupon_rejected else None,
        ),
    )
    return tuple(InferredReason(reason, detail) for reason, detail in found if detail)
