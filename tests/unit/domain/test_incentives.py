from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.domain.incentives import (
    COUPON_ALPHABET,
    IncentiveSpec,
    Offer,
    Refusal,
    code_entropy_bits,
    new_coupon_code,
    normalise_code,
    plan_offer,
    redemption_check,
)
from reclaim.domain.messages import CouponView
from reclaim.domain.money import exponent
from reclaim.errors import InvalidInput, ReclaimError

D = Decimal
NOW = datetime(2026, 5, 1, 10, tzinfo=UTC)
H48 = timedelta(hours=48)


def _bytes_from(values: Iterator[int]) -> Callable[[int], bytes]:
    return lambda n: bytes(next(values) for _ in range(n))


# --- codes ----------------------------------------------------------------------------------


def test_alphabet_has_no_look_alikes() -> None:
    assert len(COUPON_ALPHABET) == len(set(COUPON_ALPHABET)) == 31
    assert not set("0O1IL") & set(COUPON_ALPHABET)
    assert re.fullmatch(r"[A-Z2-9]+", COUPON_ALPHABET)
    assert code_entropy_bits(10) == pytest.approx(49.542, abs=0.001)
    assert code_entropy_bits(16) == pytest.approx(79.267, abs=0.001)


def test_codes_from_a_known_byte_stream() -> None:
    assert new_coupon_code(rng=_bytes_from(count())) == "2345-6789-AB"
    assert new_coupon_code(rng=_bytes_from(count()), prefix="RC") == "RC-2345-6789-AB"
    assert new_coupon_code(rng=_bytes_from(count()), length=8) == "2345-6789"
    assert new_coupon_code(rng=_bytes_from(count(20)), length=6) == "PQRS-TU"


def test_bytes_that_would_bias_the_code_are_rejected() -> None:
    stream = iter([248, 255, 30, 249, 247, 31, 0, 252, 61, 62, 92, 93] + [0] * 20)
    # 30 → Z, 247 = 7·31 + 30 → Z, 31 → 2, 0 → 2, 61 → Z, 62 → 2, 92 → Z, 93 → 2
    assert new_coupon_code(rng=_bytes_from(stream), length=8) == "ZZ22-Z2Z2"


def test_every_symbol_has_exactly_eight_byte_values() -> None:
    """Uniform bytes give uniform codes: the 248 accepted values split 8 per symbol."""
    preimages: Counter[str] = Counter()
    for byte in range(256):

        def rng(n: int, b: int = byte) -> bytes:
            return bytes([b]) * n

        if byte >= 248:
            with pytest.raises(ReclaimError, match="no usable bytes"):
                new_coupon_code(rng=rng, length=6)
            continue
        code = new_coupon_code(rng=rng, length=6)
        assert len(set(code.replace("-", ""))) == 1
        preimages[code[0]] += 1
    assert preimages == {symbol: 8 for symbol in COUPON_ALPHABET}


def test_real_codes_are_well_formed_and_distinct() -> None:
    codes = {new_coupon_code() for _ in range(2000)}
    assert len(codes) == 2000
    symbol = f"[{COUPON_ALPHABET}]"
    assert all(re.fullmatch(f"{symbol}{{4}}-{symbol}{{4}}-{symbol}{{2}}", c) for c in codes)
    assert new_coupon_code(rng=secrets.token_bytes, length=12, prefix="SAVE").count("-") == 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length": 5}, "length"),
        ({"length": 33}, "length"),
        ({"prefix": "LOVE"}, "prefix"),
        ({"prefix": "rc"}, "prefix"),
        ({"prefix": "R-C"}, "prefix"),
        ({"prefix": "ABCDEFGHJKMNP"}, "prefix"),
    ],
)
def test_code_generation_refuses_bad_settings(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        new_coupon_code(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (" rc-abcd efgh-jk ", "RCABCDEFGHJK"),
        ("RCABCDEFGHJK", "RCABCDEFGHJK"),
        ("abcd_efgh.jk", "ABCDEFGHJK"),
        ("ＡＢＣＤ－ＥＦＧＨ", "ABCDEFGH"),  # full-width, as typed on a Japanese keyboard
        ("ABCD\u2013EFGH\u2014JK", "ABCDEFGHJK"),  # en and em dashes
        ("ABCD\u2212EFGH\u00a0JK", "ABCDEFGHJK"),  # minus sign, no-break space
        ("abcd\tefgh\njk", "ABCDEFGHJK"),
    ],
)
def test_normalise_code(typed: str, expected: str) -> None:
    assert normalise_code(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        *["ABCD-EFGH-J0", "ABCD-EFGH-JO", "ABCD-EFGH-J1", "ABCD-EFGH-JI", "ABCD-EFGH-JL"],
        *["abcd-efgh-jl", "", "   ", "---", "A" * 65, "ABCD/EFGH", "ABCDÉ", "ABCD🙂", None, 12345],
    ],
)
def test_normalise_code_refuses_what_no_code_contains(typed: object) -> None:
    with pytest.raises(InvalidInput) as err:
        normalise_code(typed)  # type: ignore[arg-type]
    assert err.value.field == "code"


def test_generated_codes_survive_normalisation() -> None:
    for _ in range(200):
        code = new_coupon_code(prefix="RC")
        assert normalise_code(code) == code.replace("-", "")
        assert normalise_code(code.lower().replace("-", " ")) == code.replace("-", "")


# --- specs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expires_in", "min_order"),
    [
        ("percent", D("0.5"), H48, None),
        ("percent", D(100), H48, None),
        ("fixed", D("0.01"), timedelta(hours=1), D(0)),
        ("fixed", 10, timedelta(days=90), D(50)),
        ("free_shipping", D(0), H48, D("25.00")),
    ],
)
def test_valid_specs(kind: str, value: Decimal, expires_in: timedelta, min_order: Decimal) -> None:
    spec = IncentiveSpec(kind, value, expires_in, min_order)  # type: ignore[arg-type]
    assert spec.value == D(value) and isinstance(spec.value, Decimal)


@pytest.mark.parametrize(
    ("kind", "value", "expires_in", "min_order", "field"),
    [
        ("bogo", D(10), H48, None, "kind"),
        ("percent", D(0), H48, None, "value"),
        ("percent", D("-5"), H48, None, "value"),
        ("percent", D("100.01"), H48, None, "value"),
        ("percent", 10.0, H48, None, "value"),
        ("percent", True, H48, None, "value"),
        ("percent", D("NaN"), H48, None, "value"),
        ("fixed", D(0), H48, None, "value"),
        ("fixed", D("-1"), H48, None, "value"),
        ("fixed", D("Infinity"), H48, None, "value"),
        ("free_shipping", D(1), H48, None, "value"),
        ("percent", D(10), timedelta(minutes=59), None, "expires_in"),
        ("percent", D(10), timedelta(days=90, seconds=1), None, "expires_in"),
        ("percent", D(10), 3600, None, "expires_in"),
        ("percent", D(10), H48, D("-0.01"), "min_order"),
        ("percent", D(10), H48, "50", "min_order"),
    ],
)
def test_invalid_specs_name_the_field(
    kind: str, value: object, expires_in: object, min_order: object, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        IncentiveSpec(kind, value, expires_in, min_order)  # type: ignore[arg-type]
    assert err.value.field == field


# --- offers ---------------------------------------------------------------------------------


def _plan(
    spec: IncentiveSpec,
    order: str,
    currency: str = "EUR",
    *,
    shipping: str | None = None,
    margin: str | None = None,
    floor: str | None = None,
    min_worth: str = "0.05",
) -> Offer | Refusal:
    return plan_offer(
        spec,
        order_value=D(order),
        currency=currency,
        shipping_cost=None if shipping is None else D(shipping),
        gross_margin=None if margin is None else D(margin),
        margin_floor=None if floor is None else D(floor),
        now=NOW,
        min_worth=D(min_worth),
    )


def _offer(result: Offer | Refusal) -> Offer:
    assert isinstance(result, Offer), result
    return result


def _refusal(result: Offer | Refusal) -> str:
    assert isinstance(result, Refusal), result
    return result.reason


PCT20 = IncentiveSpec("percent", D(20), H48)
FIX30 = IncentiveSpec("fixed", D(30), H48)
SHIP = IncentiveSpec("free_shipping", D(0), H48)


def test_percent_offer_within_the_margin_stands() -> None:
    assert _plan(PCT20, "100.00", margin="0.45", floor="0.25") == Offer(
        kind="percent",
        value=D(20),
        discount=D("20.00"),
        currency="EUR",
        expires_at=NOW + H48,
        min_order=None,
        reduced=False,
    )
    # exactly at the budget: stands
    assert _offer(_plan(PCT20, "100.00", margin="0.45", floor="0.25")).value == D(20)
    assert not _offer(_plan(PCT20, "50", margin="0.40", floor="0.20")).reduced


def test_percent_offer_is_cut_to_the_whole_percent_that_fits() -> None:
    offer = _offer(_plan(PCT20, "123.45", margin="0.40", floor="0.275"))  # room 12.5 %
    assert (offer.value, str(offer.discount), offer.reduced) == (D(12), "14.81", True)
    offer = _offer(_plan(PCT20, "100", margin="0.30", floor="0.25"))  # room exactly 5 %
    assert (offer.value, str(offer.discount), offer.reduced) == (D(5), "5.00", True)


def test_percent_offer_too_small_after_the_cut_is_refused() -> None:
    assert _refusal(_plan(PCT20, "100", margin="0.30", floor="0.251")) == "not_worth_offering"
    offer = _offer(_plan(PCT20, "100", margin="0.30", floor="0.251", min_worth="0.03"))
    assert (offer.value, offer.discount) == (D(4), D("4.00"))
    assert _refusal(_plan(PCT20, "100", margin="0.30", floor="0.295", min_worth="0")) == (
        "not_worth_offering"  # 0.5 % rounds down to 0 %: nothing left to offer
    )


def test_percent_without_margin_data_stands_and_rounds_down() -> None:
    offer = _offer(_plan(PCT20, "99.99"))
    assert (offer.value, str(offer.discount), offer.reduced) == (D(20), "19.99", False)
    # only one of margin and floor known: nothing to check against
    assert _offer(_plan(PCT20, "99.99", margin="0.26")).value == D(20)
    assert _offer(_plan(PCT20, "99.99", floor="0.25")).value == D(20)


@pytest.mark.parametrize(
    ("currency", "order", "percent", "discount"),
    [
        ("JPY", "12345", "15", "1851"),  # 1851.75
        ("jpy", "999", "10", "99"),  # 99.9
        ("KWD", "12.3456", "10", "1.234"),  # 1.23456
        ("EUR", "10.05", "15", "1.50"),  # 1.5075
        ("USD", "0.99", "50", "0.49"),  # 0.495: down, not half-even
        ("BHD", "1.005", "50", "0.502"),  # 0.5025
    ],
)
def test_percent_discount_rounds_down_to_the_currency_minor_unit(
    currency: str, order: str, percent: str, discount: str
) -> None:
    offer = _offer(_plan(IncentiveSpec("percent", D(percent), H48), order, currency))
    assert str(offer.discount) == discount
    assert offer.currency == currency.upper()


def test_fixed_offer_within_the_margin_raises_min_order_to_keep_the_floor() -> None:
    offer = _offer(_plan(FIX30, "100.00", margin="0.45", floor="0.25"))  # budget 20
    assert (str(offer.value), offer.reduced, str(offer.min_order)) == ("20.00", True, "100.00")
    offer = _offer(_plan(FIX30, "200.00", margin="0.45", floor="0.25"))  # budget 40
    assert offer == Offer(
        kind="fixed",
        value=D("30.00"),
        discount=D("30.00"),
        currency="EUR",
        expires_at=NOW + H48,
        min_order=D("150.00"),  # 30 / 0.20: below that, 30 off crosses the floor
        reduced=False,
    )
    # the spec's own minimum wins when it is higher
    spec = IncentiveSpec("fixed", D(30), H48, min_order=D(180))
    assert _offer(_plan(spec, "200", margin="0.45", floor="0.25")).min_order == D(180)
    # exactly the budget: stands
    assert not _offer(_plan(FIX30, "150", margin="0.45", floor="0.25")).reduced


def test_fixed_offer_too_small_after_the_cut_is_refused() -> None:
    assert _refusal(_plan(FIX30, "100", margin="0.30", floor="0.26")) == "not_worth_offering"
    offer = _offer(_plan(FIX30, "100", margin="0.30", floor="0.25"))  # 5.00: exactly 5 %
    assert (str(offer.value), str(offer.min_order)) == ("5.00", "100.00")


@pytest.mark.parametrize(
    ("currency", "order", "value", "margin", "floor", "expected_value", "expected_min"),
    [
        ("JPY", "12345", "1000", "0.35", "0.30", "617", "12340"),  # 617.25 → 617; 617/0.05
        ("JPY", "12345", "500", "0.35", "0.30", "500", "10000"),
        ("KWD", "100.000", "5.1234", "0.35", "0.25", "5.123", "51.230"),
        ("KWD", "33.333", "9", "0.45", "0.25", "6.666", "33.330"),  # 6.6666 → 6.666
        ("EUR", "99.99", "10.005", "0.45", "0.25", "10.00", "50.00"),
    ],
)
def test_fixed_offers_in_other_exponents(
    currency: str,
    order: str,
    value: str,
    margin: str,
    floor: str,
    expected_value: str,
    expected_min: str,
) -> None:
    offer = _offer(
        _plan(IncentiveSpec("fixed", D(value), H48), order, currency, margin=margin, floor=floor)
    )
    assert (str(offer.value), str(offer.discount), str(offer.min_order)) == (
        expected_value,
        expected_value,
        expected_min,
    )


def test_an_empty_order_under_a_guard_gets_no_fixed_offer() -> None:
    assert _refusal(_plan(FIX30, "0", margin="0.45", floor="0.25")) == "not_worth_offering"
    offer = _offer(_plan(PCT20, "0", margin="0.45", floor="0.25"))
    assert (offer.value, str(offer.discount)) == (D(20), "0.00")


def test_fixed_without_margin_data_caps_the_discount_at_the_order() -> None:
    offer = _offer(_plan(IncentiveSpec("fixed", D(50), H48), "30.00"))
    assert (str(offer.value), str(offer.discount), offer.min_order) == ("50.00", "30.00", None)
    offer = _offer(_plan(IncentiveSpec("fixed", D("10.005"), H48), "99.99"))
    assert (str(offer.value), str(offer.discount)) == ("10.00", "10.00")


def test_free_shipping_counts_against_the_same_budget() -> None:
    offer = _offer(_plan(SHIP, "80.00", shipping="6.90", margin="0.40", floor="0.25"))
    assert offer == Offer(
        kind="free_shipping",
        value=D(0),
        discount=D("6.90"),
        currency="EUR",
        expires_at=NOW + H48,
        min_order=D("46.00"),  # 6.90 / 0.15
        reduced=False,
    )
    assert _offer(_plan(SHIP, "80", shipping="12.00", margin="0.40", floor="0.25")).discount == D(
        "12.00"
    )  # exactly the budget
    refused = _plan(SHIP, "80", shipping="12.01", margin="0.40", floor="0.25")
    assert _refusal(refused) == "shipping_over_margin"
    assert isinstance(refused, Refusal) and "12.01" in refused.detail and "12.00" in refused.detail


def test_free_shipping_of_unknown_cost() -> None:
    assert _refusal(_plan(SHIP, "80", margin="0.40", floor="0.25")) == "shipping_cost_unknown"
    offer = _offer(_plan(SHIP, "80"))  # no guard: stands, cost unknown
    assert (offer.value, offer.discount, offer.min_order) == (D(0), None, None)
    assert _offer(_plan(SHIP, "80", shipping="4.95")).discount == D("4.95")


def test_free_shipping_when_shipping_is_already_free() -> None:
    assert _refusal(_plan(SHIP, "80", shipping="0")) == "shipping_already_free"


def test_min_order_is_checked_first() -> None:
    spec = IncentiveSpec("percent", D(10), H48, min_order=D(50))
    assert _refusal(_plan(spec, "49.99", margin="0.10", floor="0.25")) == "below_min_order"
    assert _offer(_plan(spec, "50.00")).min_order == D(50)  # equal is enough


@pytest.mark.parametrize(("margin", "floor"), [("0.25", "0.25"), ("0.20", "0.25"), ("-0.1", "0")])
def test_no_room_above_the_floor(margin: str, floor: str) -> None:
    for spec in (PCT20, FIX30, SHIP):
        result = _plan(spec, "100", shipping="5", margin=margin, floor=floor)
        assert _refusal(result) == "no_margin_room"


def test_expiry_is_now_plus_the_spec() -> None:
    spec = IncentiveSpec("percent", D(10), timedelta(hours=1, minutes=30))
    assert _offer(_plan(spec, "10")).expires_at == datetime(2026, 5, 1, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"now": datetime(2026, 5, 1)}, "now"),
        ({"currency": "EURO"}, "currency"),
        ({"order_value": D("-1")}, "order_value"),
        ({"order_value": 10.5}, "order_value"),
        ({"shipping_cost": D("-1")}, "shipping_cost"),
        ({"gross_margin": D("1.5"), "margin_floor": D("0.2")}, "gross_margin"),
        ({"gross_margin": D("0.5"), "margin_floor": D("1")}, "margin_floor"),
        ({"gross_margin": D("0.5"), "margin_floor": D("-0.1")}, "margin_floor"),
    ],
)
def test_plan_offer_refuses_bad_input(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "order_value": D(100),
        "currency": "EUR",
        "shipping_cost": None,
        "gross_margin": None,
        "margin_floor": None,
        "now": NOW,
    }
    args.update(kwargs)
    with pytest.raises(InvalidInput) as err:
        plan_offer(PCT20, **args)  # type: ignore[arg-type]
    assert err.value.field == field


def test_offer_as_a_coupon_view() -> None:
    offer = _offer(_plan(FIX30, "200.00", margin="0.45", floor="0.25"))
    assert offer.coupon("RC-ABCD-EFGH-JK") == CouponView(
        code="RC-ABCD-EFGH-JK",
        kind="fixed",
        value=D("30.00"),
        currency="EUR",
        expires_at=NOW + H48,
        min_order=D("150.00"),
    )


def _amounts(places: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=high, places=places, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(["percent", "fixed", "free_shipping"]),
    value=st.decimals(min_value="0.01", max_value=100, places=2),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    order=_amounts(3, 5000),
    shipping=st.none() | _amounts(2, 50),
    margin=st.decimals(min_value="-0.2", max_value=1, places=3),
    floor=st.decimals(min_value=0, max_value="0.99", places=3),
)
def test_property_the_margin_floor_is_never_crossed(
    kind: str,
    value: Decimal,
    currency: str,
    order: Decimal,
    shipping: Decimal | None,
    margin: Decimal,
    floor: Decimal,
) -> None:
    spec = IncentiveSpec(kind, D(0) if kind == "free_shipping" else value, H48)  # type: ignore[arg-type]
    result = plan_offer(
        spec,
        order_value=order,
        currency=currency,
        shipping_cost=shipping,
        gross_margin=margin,
        margin_floor=floor,
        now=NOW,
    )
    if isinstance(result, Refusal):
        return
    room = margin - floor
    assert result.discount is not None
    assert result.discount <= room * order
    assert -result.discount.as_tuple().exponent <= exponent(currency)  # type: ignore[operator]
    if result.kind == "percent":
        assert result.value <= room * 100  # holds for any cart, so no minimum is needed
        assert result.value >= 5 or not result.reduced
    else:
        # whatever the cart becomes, an order the coupon accepts keeps the floor
        assert result.min_order is not None and result.min_order <= order
        assert result.discount <= room * result.min_order


# --- redemption -----------------------------------------------------------------------------


def _check(
    *,
    min_order: str | None = "50",
    redeemed_at: datetime | None = None,
    total: str = "60",
    at: datetime = NOW,
    kind: str = "percent",
) -> str | None:
    return redemption_check(
        coupon_kind=kind,
        value=D(10),
        min_order=None if min_order is None else D(min_order),
        expires_at=NOW + H48,
        redeemed_at=redeemed_at,
        order_total=D(total),
        at=at,
    )


def test_redemption_checks() -> None:
    assert _check() is None
    assert _check(total="50") is None
    assert _check(total="49.99") == "below_min_order"
    assert _check(min_order=None, total="1") is None
    assert _check(at=NOW + H48 - timedelta(seconds=1)) is None
    assert _check(at=NOW + H48) == "expired"
    assert _check(redeemed_at=NOW - timedelta(hours=1)) == "already_used"
    # the most definite reason first
    assert _check(redeemed_at=NOW, at=NOW + H48, total="1") == "already_used"
    assert _check(at=NOW + H48, total="1") == "expired"
    assert _check(kind="fixed", total="5", min_order=None) is None  # platform caps the discount
    assert _check(kind="free_shipping") is None


def test_redemption_check_refuses_unknown_kinds() -> None:
    with pytest.raises(InvalidInput) as err:
        _check(kind="bogo")
    assert err.value.field == "coupon_kind"
