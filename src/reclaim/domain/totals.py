"""What a message shows between a cart's lines and its total, so that the figures add up.

A customer compares the lines with the total. Whatever the platform said (or did not say)
about shipping, discounts, fees and tax, the message shows

    lines − discount + shipping + other + tax (when added) = total

in the currency's own precision, every figure rounded once, here, and shown as rounded. Tax
that the prices already include is shown after the total ("incl. VAT"), never added again.
What the total holds beyond what the platform named (fees it did not list, duties, tips,
rounding, a cart with no breakdown at all) is one "other charges" line when positive, and
more discount when negative: the figures shown always add up to the total shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from reclaim.domain.events import Charges
from reclaim.domain.money import exponent


@dataclass(frozen=True, slots=True)
class CartTotals:
    """The rows of a cart as shown; ``None`` (or zero, left out): no such row."""

    lines: tuple[Decimal, ...]  # each line's amount, rounded to the currency
    total: Decimal
    discount: Decimal | None = None  # taken off (shown as a negative amount)
    shipping: Decimal | None = None
    other: Decimal | None = None  # fees, and what else the total holds that nobody named
    tax: Decimal | None = None  # added on top of the lines
    tax_included: Decimal | None = None  # already in the lines ("incl. VAT"), not added


def cart_totals(
    lines: Sequence[Decimal], total: Decimal, currency: str, charges: Charges | None
) -> CartTotals:
    """The rows for ``lines`` (each line's amount, in the charges' convention) and ``total``.

    ``charges`` may be ``None`` (the platform said nothing) or inconsistent with the total
    (platform rounding, unlisted fees): the remainder goes to ``other`` or ``discount``, so
    that ``sum(lines) - discount + shipping + other + tax == total`` exactly.
    """
    step = Decimal(1).scaleb(-exponent(currency))

    def cents(value: Decimal | None) -> Decimal:
        return Decimal(0) if value is None else value.quantize(step, rounding=ROUND_HALF_EVEN)

    c = charges or Charges()
    shown = tuple(cents(line) for line in lines)
    total_shown = cents(total)
    discount, shipping, other = cents(c.discount), cents(c.shipping), cents(c.fees)
    tax = cents(c.tax)
    added = Decimal(0) if c.tax_included else tax
    rest = total_shown - (sum(shown, Decimal(0)) - discount + shipping + other + added)
    if rest > 0:
        other += rest
    else:
        discount -= rest
    return CartTotals(
        lines=shown,
        total=total_shown,
        discount=discount or None,
        shipping=shipping or None,
        other=other or None,
        tax=None if c.tax_included else tax or None,
        tax_included=tax or None if c.tax_included else None,
    )
