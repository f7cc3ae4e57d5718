"""The rows between a cart's lines and its total always add up to the total shown (issue 14);
offline payment methods are recognised by the names platforms give them, and the store's own
payment instructions are a setting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reclaim.domain.events import Charges
from reclaim.domain.reasons import OfflineMethod, offline_method
from reclaim.domain.stores import StoreSettings, validate_settings
from reclaim.domain.totals import CartTotals, cart_totals
from reclaim.errors import InvalidInput

D = Decimal


def shown_sum(t: CartTotals) -> Decimal:
    """What a customer adds up: the lines, less the discount, plus every added row."""
    return (
        sum(t.lines, D(0)) - (t.discount or 0) + (t.shipping or 0) + (t.other or 0) + (t.tax or 0)
    )


def test_prices_with_vat_show_the_vat_after_the_total_not_added() -> None:
    # WooCommerce order 4711 (prices_include_tax): lines and shipping with their VAT.
    charges = Charges(shipping=D("4.90"), discount=D("0"), tax=D("9.13"), tax_included=True)
    totals = cart_totals([D("38.00"), D("36.70")], D("79.60"), "EUR", charges)
    assert totals == CartTotals(
        lines=(D("38.00"), D("36.70")),
        total=D("79.60"),
        shipping=D("4.90"),
        tax_included=D("9.13"),
    )
    assert shown_sum(totals) == totals.total


def test_tax_added_on_top_is_its_own_row() -> None:
    charges = Charges(shipping=D("4.12"), discount=D("5.00"), fees=D("1.50"), tax=D("9.13"))
    totals = cart_totals([D("35.51"), D("30.84")], D("76.10"), "EUR", charges)
    assert totals == CartTotals(
        lines=(D("35.51"), D("30.84")),
        total=D("76.10"),
        discount=D("5.00"),
        shipping=D("4.12"),
        other=D("1.50"),
        tax=D("9.13"),
    )
    assert shown_sum(totals) == totals.total


def test_what_nobody_named_is_other_charges_or_more_discount() -> None:
    # No breakdown at all (a checkout; an order stored before charges were kept).
    assert cart_totals([D("319.90")], D("349.90"), "BRL", None) == CartTotals(
        lines=(D("319.90"),), total=D("349.90"), other=D("30.00")
    )
    # A platform whose discount leaves out a shipping discount: the rest is discount too.
    charges = Charges(shipping=D("5.00"), discount=D("2.00"))
    assert cart_totals([D("50.00")], D("48.00"), "EUR", charges) == CartTotals(
        lines=(D("50.00"),), total=D("48.00"), discount=D("7.00"), shipping=D("5.00")
    )
    # Lines that add up alone: no row at all.
    assert cart_totals([D("99.80"), D("1134.76")], D("1234.56"), "EUR", None) == CartTotals(
        lines=(D("99.80"), D("1134.76")), total=D("1234.56")
    )


def test_amounts_are_rounded_once_to_the_currency_and_shown_as_rounded() -> None:
    # 3 × 7.8333 is 23.4999: shown as 23.50, and the rows add up to the rounded figures.
    totals = cart_totals([D("23.4999")], D("27.45"), "GBP", Charges(shipping=D("3.95")))
    assert (totals.lines, totals.shipping, totals.other) == ((D("23.50"),), D("3.95"), None)
    yen = cart_totals([D("1234.4")], D("1500"), "JPY", None)
    assert (yen.lines, yen.total, yen.other) == ((D("1234"),), D("1500"), D("266"))


amounts = st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False)


@given(
    lines=st.lists(amounts, max_size=6),
    total=amounts,
    shipping=st.none() | amounts,
    discount=st.none() | amounts,
    fees=st.none() | amounts,
    tax=st.none() | amounts,
    included=st.booleans(),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_the_rows_shown_always_add_up_to_the_total_shown(
    lines: list[Decimal],
    total: Decimal,
    shipping: Decimal | None,
    discount: Decimal | None,
    fees: Decimal | None,
    tax: Decimal | None,
    included: bool,
    currency: str,
) -> None:
    charges = Charges(shipping, discount, fees, tax, included)
    totals = cart_totals(lines, total, currency, charges)
    assert shown_sum(totals) == totals.total
    for row in (totals.discount, totals.shipping, totals.other, totals.tax, totals.tax_included):
        assert row is None or row > 0


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (("bacs", "Direkte Banküberweisung"), OfflineMethod.BANK_TRANSFER),  # WooCommerce
        (("german_market_prepayment", "Vorkasse"), OfflineMethod.BANK_TRANSFER),  # by its title
        (("Bank Deposit",), OfflineMethod.BANK_TRANSFER),  # Shopify's manual method
        (("gift_card, Bank Deposit",), OfflineMethod.BANK_TRANSFER),  # Shopify, several
        (("customer_balance",), OfflineMethod.BANK_TRANSFER),  # Stripe bank transfers
        (("cod", "Nachnahme"), OfflineMethod.CASH_ON_DELIVERY),
        (("Cash on Delivery (COD)",), OfflineMethod.CASH_ON_DELIVERY),
        (("cheque", "Check payments"), OfflineMethod.CHEQUE),
        (("Money Order",), OfflineMethod.CHEQUE),
        (("stripe", "Cartão de crédito"), None),
        (("shopify_payments",), None),
        (("Boleto Bancário",), None),
        (("checkout",), None),  # not "check"
        ((None, ""), None),
    ],
)
def test_offline_methods_are_known_by_id_or_title(
    names: tuple[str | None, ...], expected: OfflineMethod | None
) -> None:
    assert offline_method(*names) == expected


def test_payment_instructions_are_a_store_setting_kept_and_checked() -> None:
    text = "IBAN DE02 1203 0000 0000 2020 51\nBIC BYLADEM1001\tReference: your order number"
    settings = StoreSettings(payment_instructions=text)
    validate_settings(settings)
    assert settings.to_json()["payment_instructions"] == text
    assert StoreSettings.from_json(settings.to_json()) == settings
    assert StoreSettings.from_json(StoreSettings().to_json()).payment_instructions is None
    for bad in ("x" * 2001, "IBAN\x07", "IBAN\r\nBIC"):
        with pytest.raises(InvalidInput) as refused:
            validate_settings(StoreSettings(payment_instructions=bad))
        assert refused.value.field == "payment-instructions"
