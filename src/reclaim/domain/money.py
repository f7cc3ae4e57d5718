"""Money in major units as ``Decimal``, with ISO 4217 minor-unit exponents."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from reclaim.errors import InvalidInput

# ISO 4217 currencies whose minor unit is not 1/100 (the rest use 2 decimals).
_ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
_THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])


def exponent(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (JPY 0, EUR 2, KWD 3)."""
    code = currency.upper()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def amount_text(value: Decimal | None, currency: str) -> str | None:
    """An exact amount as text with the currency's own number of decimals (JSON-safe):
    ``amount_text(Decimal("617.2800"), "EUR") == "617.28"``, JPY none, KWD three."""
    if value is None:
        return None
    return str(value.quantize(Decimal(1).scaleb(-exponent(currency))))


def normalise_currency(value: object, *, field: str = "currency") -> str:
    """Return an upper-case three-letter code or raise :class:`InvalidInput` naming ``field``."""
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise InvalidInput(f"{field} must be a three-letter ISO 4217 code", field=field)
    return value.strip().upper()


def from_minor(amount: int, currency: str) -> Decimal:
    """Stripe-style integer minor units to major units: ``from_minor(1999, "EUR") == 19.99``."""
    return Decimal(amount).scaleb(-exponent(currency))


def plain(value: Decimal) -> str:
    """A number as plain text, without an exponent or trailing zeros: ``Decimal("1E+1")`` →
    ``"10"``, ``Decimal("12.50")`` → ``"12.5"`` (what APIs that take a number as text want)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def to_minor(amount: Decimal, currency: str) -> int:
    """Major units to integer minor units, rounded half-even: ``to_minor(19.99, "EUR") ==
    1999``; the inverse of :func:`from_minor`."""
    return int(amount.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def parse_amount(value: object, *, field: str) -> Decimal:
    """A money amount from a JSON number or string; never through ``float`` rounding.

    Raises :class:`InvalidInput` naming ``field`` for anything that is not a finite,
    non-negative amount below 10^12.
    """
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{field} must be a decimal amount", field=field)
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field} must be a decimal amount such as 12.50", field=field) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
        raise InvalidInput(f"{field} must be a non-negative amount below 10^12", field=field)
    return amount.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
