"""Coupons and the margin guard (SPEC S6).

A recovery flow's incentive step plans an :class:`Offer` from the store's
:class:`IncentiveSpec` for one order, never discounting below the store's margin floor, and
gives it a unique, hard-to-guess, easy-to-type code.
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import Literal

from reclaim.domain.messages import CouponView
from reclaim.domain.money import exponent, normalise_currency
from reclaim.errors import InvalidInput, ReclaimError

IncentiveKind = Literal["percent", "fixed", "free_shipping"]
_KINDS = ("percent", "fixed", "free_shipping")

# --- codes ----------------------------------------------------------------------------------

# Upper-case letters and digits without the look-alikes 0/O, 1/I/L: 31 symbols, so each
# character carries log2(31) ≈ 4.95 bits.
COUPON_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_GROUP = 4
_ACCEPT_BELOW = 256 - 256 % len(COUPON_ALPHABET)  # 248: bytes at or above would bias b % 31
_MAX_CODE = 64
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_.]+")  # spaces, every dash, underscores, dots


def code_entropy_bits(length: int) -> float:
    """Entropy of a random code of ``length`` characters: 49.5 bits for the default 10.

    At 10 characters, a million live codes and a million guesses, the chance that any guess
    hits is about 1.4e-3; the store's platform limits guesses far below that.
    """
    return length * math.log2(len(COUPON_ALPHABET))


def new_coupon_code(
    *, rng: Callable[[int], bytes] = secrets.token_bytes, length: int = 10, prefix: str = ""
) -> str:
    """A random code of ``length`` characters from :data:`COUPON_ALPHABET`, grouped by four:
    ``ABCD-EFGH-JK``, or ``RC-ABCD-EFGH-JK`` with ``prefix="RC"``.

    Uniform: bytes ≥ 248 are rejected, the rest taken modulo 31, so no symbol is likelier
    than another. ``rng(n)`` must return ``n`` random bytes (``secrets.token_bytes``; tests
    pass a deterministic one). The prefix must use :data:`COUPON_ALPHABET` too, so every code
    survives :func:`normalise_code`. Raises :class:`InvalidInput` for a length outside 6–32
    or such a prefix, :class:`ReclaimError` when ``rng`` yields no usable bytes.
    """
    if not 6 <= length <= 32:
        raise InvalidInput("coupon codes have 6 to 32 random characters", field="length")
    if len(prefix) > 12 or any(ch not in COUPON_ALPHABET for ch in prefix):
        raise InvalidInput(
            "a coupon prefix has up to 12 characters from the coupon alphabet", field="prefix"
        )
    chars: list[str] = []
    for _ in range(64):  # each round keeps each byte with p = 248/256: 64 rounds never fail
        for byte in rng(length - len(chars) + 4):
            if byte < _ACCEPT_BELOW:
                chars.append(COUPON_ALPHABET[byte % len(COUPON_ALPHABET)])
                if len(chars) == length:
                    groups = ["".join(chars[i : i + _GROUP]) for i in range(0, length, _GROUP)]
                    return "-".join([prefix, *groups] if prefix else groups)
    raise ReclaimError("the random source gave no usable bytes")


def normalise_code(raw: str) -> str:
    """The lookup form of a code a customer typed: ``" rc-abcd efgh-jk "`` → ``RCABCDEFGHJK``.

    Full-width characters are folded (NFKC), case is ignored, and spaces, dashes, underscores
    and dots are dropped. The look-alikes 0, O, 1, I and L are never in a code, so a code
    containing one is refused rather than guessed at. Raises :class:`InvalidInput` for an
    empty code, one over 64 characters, or one with a character outside the alphabet.
    """
    if not isinstance(raw, str):
        raise InvalidInput("coupon code must be text", field="code")
    code = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()
    if not code or len(code) > _MAX_CODE:
        raise InvalidInput("coupon code is empty or too long", field="code")
    if any(ch not in COUPON_ALPHABET for ch in code):
        raise InvalidInput("coupon code contains characters no code has", field="code")
    return code


# --- offers ---------------------------------------------------------------------------------

MIN_EXPIRY = timedelta(hours=1)
MAX_EXPIRY = timedelta(days=90)
MIN_WORTH = Decimal("0.05")  # a reduced offer below 5 % of the order is not worth sending


def _decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(f"{field} must be a Decimal", field=field)
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidInput(f"{field} must be finite", field=field)
    return amount


@dataclass(frozen=True, slots=True)
class IncentiveSpec:
    """What a flow's incentive step offers: ``value`` is the percentage for ``percent``
    (0 < v ≤ 100), an amount in the order's currency for ``fixed`` (> 0), 0 for
    ``free_shipping``; the coupon expires ``expires_in`` after it is made (1 h to 90 days);
    ``min_order`` (≥ 0) is the order total it needs. Raises :class:`InvalidInput` naming the
    field."""

    kind: IncentiveKind
    value: Decimal
    expires_in: timedelta
    min_order: Decimal | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(_KINDS)}", field="kind")
        value = _decimal(self.value, "value")
        object.__setattr__(self, "value", value)
        if self.kind == "percent" and not 0 < value <= 100:
            raise InvalidInput("a percent offer is more than 0 and at most 100", field="value")
        if self.kind == "fixed" and not value > 0:
            raise InvalidInput("a fixed offer must be more than 0", field="value")
        if self.kind == "free_shipping" and value != 0:
            raise InvalidInput("a free-shipping offer has value 0", field="value")
        if not isinstance(self.expires_in, timedelta) or not (
            MIN_EXPIRY <= self.expires_in <= MAX_EXPIRY
        ):
            raise InvalidInput("an offer expires between 1 hour and 90 days", field="expires_in")
        if self.min_order is not None:
            min_order = _decimal(self.min_order, "min_order")
            if min_order < 0:
                raise InvalidInput("min_order must not be negative", field="min_order")
            object.__setattr__(self, "min_order", min_order)


@dataclass(frozen=True, slots=True)
class Offer:
    """A coupon to create for one case.

    ``value`` is what the coupon is made with (the percentage, the fixed amount, 0 for free
    shipping), after any reduction by the margin guard (``reduced``). ``discount`` is what it
    takes off this order in ``currency``, rounded down to the minor unit; None only for free
    shipping whose cost is unknown (and no margin guard asked for it). ``min_order`` may be
    higher than the spec's: see :func:`plan_offer`.
    """

    kind: IncentiveKind
    value: Decimal
    discount: Decimal | None
    currency: str
    expires_at: datetime
    min_order: Decimal | None
    reduced: bool = False

    def coupon(self, code: str) -> CouponView:
        """The offer as templates show it, under ``code``."""
        return CouponView(
            code=code,
            kind=self.kind,
            value=self.value,
            currency=self.currency,
            expires_at=self.expires_at,
            min_order=self.min_order,
        )


RefusalReason = Literal[
    "below_min_order",
    "no_margin_room",
    "not_worth_offering",
    "shipping_cost_unknown",
    "shipping_over_margin",
    "shipping_already_free",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why no incentive is offered; ``detail`` says it for an operator."""

    reason: RefusalReason
    detail: str


def _down(amount: Decimal, quantum: Decimal) -> Decimal:
    return amount.quantize(quantum, rounding=ROUND_DOWN)


def plan_offer(
    spec: IncentiveSpec,
    *,
    order_value: Decimal,
    currency: str,
    shipping_cost: Decimal | None,
    gross_margin: Decimal | None,
    margin_floor: Decimal | None,
    now: datetime,
    min_worth: Decimal = MIN_WORTH,
) -> Offer | Refusal:
    """The offer ``spec`` makes on an order of ``order_value``, or why there is none.

    The margin guard is on when both ``gross_margin`` (m, the order's margin as a share of
    its value, e.g. 0.45) and ``margin_floor`` (f, e.g. 0.25) are known: the discount may be
    at most (m − f) × ``order_value``. Without either, the offer stands as specified: there is
    nothing to check it against, and a store that sets no floor has chosen so.

    - ``min_order`` above ``order_value`` → refused ("below_min_order").
    - No room (m ≤ f) → refused ("no_margin_room").
    - Percent: a larger percentage is cut to the whole percent that fits, rounded down.
    - Fixed: the discount is the value capped at the order value; a larger one is cut to the
      budget, rounded down to the minor unit, and ``min_order`` is raised to value / (m − f)
      (rounded up) so that a smaller cart cannot push the same amount past the floor.
    - A cut offer worth less than ``min_worth`` of the order (5 %) is refused
      ("not_worth_offering").
    - Free shipping costs ``shipping_cost`` against the same budget and cannot be cut: it is
      refused when over it ("shipping_over_margin"), when the cost is unknown under an active
      guard ("shipping_cost_unknown": the floor could not be shown to hold), and when shipping
      is already free ("shipping_already_free"); under a guard ``min_order`` is raised as for
      fixed offers.

    Amounts, the order value included, round down to the currency's minor unit (JPY 0, EUR 2,
    KWD 3 decimals) so the floor is never crossed by rounding. The offer expires at ``now + spec.expires_in``.
    """
    if now.utcoffset() is None:
        raise InvalidInput("now must be an aware datetime", field="now")
    currency = normalise_currency(currency)
    quantum = Decimal(1).scaleb(-exponent(currency))
    order = _decimal(order_value, "order_value")
    if order < 0:
        raise InvalidInput("order_value must not be negative", field="order_value")
    # Totals may carry sub-unit decimals (money.parse_amount keeps four); the budget is taken
    # from the total the customer can actually pay, and a smaller base only lowers it.
    order = _down(order, quantum)
    if shipping_cost is not None and _decimal(shipping_cost, "shipping_cost") < 0:
        raise InvalidInput("shipping_cost must not be negative", field="shipping_cost")
    room = _room(gross_margin, margin_floor)
    expires_at = now + spec.expires_in
    min_order = spec.min_order

    if min_order is not None and min_order > order:
        return Refusal("below_min_order", f"order {order} {currency} is below {min_order}")
    if spec.kind == "free_shipping" and shipping_cost is not None and shipping_cost == 0:
        return Refusal("shipping_already_free", "shipping costs nothing on this order")

    if room is None:  # no guard: the offer as specified
        return Offer(
            kind=spec.kind,
            value=_down(spec.value, quantum) if spec.kind == "fixed" else spec.value,
            discount=_discount(spec.kind, spec.value, order, shipping_cost, quantum),
            currency=currency,
            expires_at=expires_at,
            min_order=min_order,
        )
    if room <= 0:
        return Refusal(
            "no_margin_room", f"margin {gross_margin} leaves nothing above {margin_floor}"
        )
    budget = room * order

    def guarded_min(amount: Decimal) -> Decimal:
        floor_total = (amount / room).quantize(quantum, rounding=ROUND_CEILING)
        return floor_total if min_order is None else max(min_order, floor_total)

    if spec.kind == "percent":
        value, reduced = spec.value, False
        if value > room * 100:
            value = (room * 100).quantize(Decimal(1), rounding=ROUND_FLOOR)
            reduced = True
            if value <= 0 or value / 100 < min_worth:
                return Refusal(
                    "not_worth_offering", f"{room * 100:.2f} % fits under the floor, too little"
                )
        return Offer(
            kind="percent",
            value=value,
            discount=_down(order * value / 100, quantum),
            currency=currency,
            expires_at=expires_at,
            min_order=min_order,
            reduced=reduced,
        )
    if spec.kind == "fixed":
        value = _down(spec.value, quantum)
        reduced = value > budget  # the budget is below the order value, so this caps it too
        if reduced:
            value = _down(budget, quantum)
            if value <= 0 or value < _down(min_worth * order, quantum):
                return Refusal(
                    "not_worth_offering", f"{value} {currency} fits under the floor, too little"
                )
        # Now value ≤ budget < order value (m − f < 1): the whole value is the discount.
        return Offer(
            kind="fixed",
            value=value,
            discount=value,
            currency=currency,
            expires_at=expires_at,
            min_order=guarded_min(value),
            reduced=reduced,
        )
    if shipping_cost is None:
        return Refusal("shipping_cost_unknown", "free shipping under a margin floor needs its cost")
    if shipping_cost > budget:
        return Refusal(
            "shipping_over_margin",
            f"shipping {shipping_cost} {currency} is over the {_down(budget, quantum)} allowed",
        )
    return Offer(
        kind="free_shipping",
        value=Decimal(0),
        discount=_down(shipping_cost, quantum),
        currency=currency,
        expires_at=expires_at,
        min_order=guarded_min(shipping_cost),
    )


def _room(gross_margin: Decimal | None, margin_floor: Decimal | None) -> Decimal | None:
    """m − f, or None when either is unknown. Raises for shares outside their ranges."""
    if gross_margin is None or margin_floor is None:
        return None
    margin = _decimal(gross_margin, "gross_margin")
    floor = _decimal(margin_floor, "margin_floor")
    if not margin <= 1:
        raise InvalidInput(
            "gross_margin is a share of the order value, at most 1", field="gross_margin"
        )
    if not 0 <= floor < 1:
        raise InvalidInput(
            "margin_floor is a share from 0 up to (not incl.) 1", field="margin_floor"
        )
    return margin - floor


def _discount(
    kind: IncentiveKind,
    value: Decimal,
    order: Decimal,
    shipping_cost: Decimal | None,
    quantum: Decimal,
) -> Decimal | None:
    if kind == "percent":
        return _down(order * value / 100, quantum)
    if kind == "fixed":
        return min(_down(value, quantum), _down(order, quantum))
    return None if shipping_cost is None else _down(shipping_cost, quantum)


# --- redemption -----------------------------------------------------------------------------


def redemption_check(
    *,
    coupon_kind: str,
    value: Decimal,
    min_order: Decimal | None,
    expires_at: datetime,
    redeemed_at: datetime | None,
    order_total: Decimal,
    at: datetime,
) -> Literal["already_used", "expired", "below_min_order"] | None:
    """None when the coupon may be redeemed on an order of ``order_total`` at ``at``, else why.

    Checked in this order: "already_used" (single use: any earlier redemption), "expired"
    (``at`` at or after ``expires_at``), "below_min_order". A fixed coupon worth more than the
    order is still redeemable: the platform caps the discount at the total. Raises
    :class:`InvalidInput` for an unknown kind or a negative value.
    """
    if coupon_kind not in _KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(_KINDS)}", field="coupon_kind")
    if _decimal(value, "value") < 0:
        raise InvalidInput("value must not be negative", field="value")
    if redeemed_at is not None:
        return "already_used"
    if at >= expires_at:
        return "expired"
    if min_order is not None and order_total < min_order:
        return "below_min_order"
    return None
