"""The reasons a case's own data supports (issue 15): each signal at its documented threshold
(docs/reasons.md), in the taxonomy's order, with its evidence in words."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from reclaim.domain.abandonment import (
    ANSWER_ONLY,
    InferredReason,
    Reason,
    Signals,
    Thresholds,
    infer_reasons,
)

D = Decimal
CART = Signals(kind="abandoned_checkout", country="DE", cart_value=D("50.00"), currency="EUR")


def reasons(signals: Signals) -> dict[Reason, str]:
    return {r.reason: r.detail for r in infer_reasons(signals)}


def test_a_cart_without_signals_has_no_reason() -> None:
    assert infer_reasons(CART) == ()


def test_shipping_counts_as_extra_costs_from_15_percent_of_the_cart() -> None:
    assert infer_reasons(replace(CART, shipping_quote=D("7.50"))) == (
        InferredReason(Reason.EXTRA_COSTS, "shipping EUR 7.50 is 15 % of the cart (EUR 50.00)"),
    )
    assert infer_reasons(replace(CART, shipping_quote=D("7.49"))) == ()
    assert reasons(replace(CART, shipping_quote=D("9"))) == {
        Reason.EXTRA_COSTS: "shipping EUR 9.00 is 18 % of the cart (EUR 50.00)"
    }
    yen = Signals("abandoned_checkout", "JP", D("8000"), "JPY", shipping_quote=D("1500"))
    assert reasons(yen) == {Reason.EXTRA_COSTS: "shipping JPY 1500 is 19 % of the cart (JPY 8000)"}


@pytest.mark.parametrize(
    ("cart", "shipping"), [(D("0"), D("5")), (D("50"), D("0")), (D("50"), None)]
)
def test_no_extra_costs_without_a_cart_or_a_shipping_charge(
    cart: Decimal, shipping: Decimal | None
) -> None:
    assert infer_reasons(replace(CART, cart_value=cart, shipping_quote=shipping)) == ()


def test_thresholds_can_be_set() -> None:
    cheap = replace(CART, shipping_quote=D("5.00"))
    assert infer_reasons(cheap) == ()
    assert infer_reasons(cheap, Thresholds(shipping_share=D("0.10"))) == (
        InferredReason(Reason.EXTRA_COSTS, "shipping EUR 5.00 is 10 % of the cart (EUR 50.00)"),
    )


def test_a_promise_two_business_days_slower_than_possible_is_too_slow() -> None:
    assert reasons(replace(CART, shipping_days=5, fastest_days=3)) == {
        Reason.DELIVERY_TOO_SLOW: (
            "delivery shown in 5 business days, 3 possible from the fastest fulfilment"
        )
    }
    assert infer_reasons(replace(CART, shipping_days=4, fastest_days=3)) == ()
    assert infer_reasons(replace(CART, shipping_days=None, fastest_days=3)) == ()


def test_a_promise_over_two_weeks_is_too_slow_whatever_is_possible() -> None:
    assert reasons(replace(CART, shipping_days=11)) == {
        Reason.DELIVERY_TOO_SLOW: "delivery shown in 11 business days (over 10, about two weeks)"
    }
    assert infer_reasons(replace(CART, shipping_days=10)) == ()
    assert reasons(replace(CART, shipping_days=12, fastest_days=4)) == {
        Reason.DELIVERY_TOO_SLOW: (
            "delivery shown in 12 business days, 4 possible from the fastest fulfilment; "
            "delivery shown in 12 business days (over 10, about two weeks)"
        )
    }


def test_sold_out_items_make_the_stock_unclear_each_named_once() -> None:
    signals = replace(CART, sold_out_skus=("MUG-1", "TEE-2", "MUG-1"))
    assert reasons(signals) == {Reason.STOCK_UNCLEAR: "out of stock or backordered: MUG-1, TEE-2"}


def test_a_total_that_rose_by_1_percent_or_more_changed_the_price() -> None:
    assert reasons(replace(CART, cart_value=D("56.00"), previous_total=D("50.00"))) == {
        Reason.PRICE_CHANGED: "total rose from EUR 50.00 to EUR 56.00 (+12 %)"
    }
    assert reasons(replace(CART, cart_value=D("50.50"), previous_total=D("50.00"))) == {
        Reason.PRICE_CHANGED: "total rose from EUR 50.00 to EUR 50.50 (+1 %)"
    }
    assert infer_reasons(replace(CART, cart_value=D("50.49"), previous_total=D("50.00"))) == ()
    assert infer_reasons(replace(CART, cart_value=D("40.00"), previous_total=D("50.00"))) == ()
    assert infer_reasons(replace(CART, previous_total=D("0"))) == ()


def test_a_failed_payment_carries_its_decline_reason() -> None:
    failed = replace(CART, kind="failed_payment", decline_reason="insufficient_funds")
    assert reasons(failed) == {Reason.PAYMENT_DECLINED: "payment failed: insufficient funds"}


def test_an_unsupported_card_or_currency_is_also_a_missing_payment_method() -> None:
    failed = replace(CART, kind="failed_payment", decline_reason="unsupported_method_or_currency")
    assert infer_reasons(failed) == (
        InferredReason(Reason.PAYMENT_DECLINED, "payment failed: unsupported method or currency"),
        InferredReason(Reason.PAYMENT_METHODS, "the card, method or currency was not accepted"),
    )


@pytest.mark.parametrize(
    ("method", "words"),
    [
        ("bacs", "waiting on a bank transfer"),
        ("Cash on Delivery (COD)", "waiting on cash on delivery"),
        ("cheque", "waiting on a cheque or money order"),
    ],
)
def test_a_pending_offline_payment_is_a_payment_method_reason(method: str, words: str) -> None:
    pending = replace(CART, kind="pending_order", payment_method=method)
    assert reasons(pending) == {Reason.PAYMENT_METHODS: words}


def test_a_card_payment_method_says_nothing() -> None:
    assert infer_reasons(replace(CART, kind="pending_order", payment_method="card")) == ()


def test_the_country_s_common_method_missing_from_the_checkout() -> None:
    dutch = replace(CART, country="nl", offered_methods=("card", "PayPal"))
    assert reasons(dutch) == {Reason.PAYMENT_METHODS: "iDEAL not offered, common in NL"}
    assert infer_reasons(replace(dutch, offered_methods=("card", "iDEAL | Wero"))) == ()
    polish = replace(CART, country="PL", offered_methods=("card",))
    assert reasons(polish) == {
        Reason.PAYMENT_METHODS: "BLIK or Przelewy24 not offered, common in PL"
    }
    assert infer_reasons(replace(polish, offered_methods=("p24",))) == ()
    chinese = replace(CART, country="CN", offered_methods=("WeChat_Pay",))
    assert infer_reasons(chinese) == ()
    # Unknown methods offered, or a country without one dominant local method: nothing.
    assert infer_reasons(replace(dutch, offered_methods=None)) == ()
    assert infer_reasons(replace(CART, country="US", offered_methods=("card",))) == ()
    assert infer_reasons(replace(CART, country=None, offered_methods=("card",))) == ()


def test_a_rejected_coupon() -> None:
    assert reasons(replace(CART, coupon_rejected=True)) == {
        Reason.COUPON_REJECTED: "a coupon code was refused at checkout"
    }


EVERYTHING = Signals(
    kind="pending_order",
    country="NL",
    cart_value=D("60.00"),
    currency="EUR",
    shipping_quote=D("12.00"),
    shipping_days=12,
    fastest_days=3,
    sold_out_skus=("MUG-1",),
    previous_total=D("50.00"),
    decline_reason="unsupported_method_or_currency",
    payment_method="bacs",
    coupon_rejected=True,
    offered_methods=("card",),
)


def test_every_signal_at_once_gives_each_reason_once_in_the_taxonomy_s_order() -> None:
    found = infer_reasons(EVERYTHING)
    assert [r.reason for r in found] == [
        Reason.EXTRA_COSTS,
        Reason.DELIVERY_TOO_SLOW,
        Reason.STOCK_UNCLEAR,
        Reason.PRICE_CHANGED,
        Reason.PAYMENT_DECLINED,
        Reason.PAYMENT_METHODS,
        Reason.COUPON_REJECTED,
    ]
    assert found[5] == InferredReason(
        Reason.PAYMENT_METHODS,
        "waiting on a bank transfer; the card, method or currency was not accepted; "
        "iDEAL not offered, common in NL",
    )
    assert infer_reasons(EVERYTHING) == found
    assert not {r.reason for r in found} & ANSWER_ONLY


def test_a_shipment_exception_is_not_an_abandonment() -> None:
    assert infer_reasons(replace(EVERYTHING, kind="shipment_exception")) == ()


def test_the_answer_only_reasons_are_the_ones_no_signal_shows() -> None:
    assert {
        Reason.ACCOUNT_REQUIRED,
        Reason.CHECKOUT_COMPLICATED,
        Reason.TRUST,
        Reason.JUST_BROWSING,
        Reason.OTHER,
    } == ANSWER_ONLY
    assert all(len(r.value) <= 32 for r in Reason)  # case_reasons.reason is String(32)
