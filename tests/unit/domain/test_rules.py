from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from reclaim.domain.cases import Case, CaseKind, CaseStatus, items_overlap
from reclaim.domain.events import Contact, LineItem
from reclaim.domain.filters import is_bot, is_test_contact
from reclaim.domain.money import exponent, from_minor, parse_amount, plain, to_minor
from reclaim.domain.reasons import FailureReason, classify_failure
from reclaim.domain.stores import split_api_key, validate_store
from reclaim.errors import InvalidInput

T0 = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("decline", "code", "reason"),
    [
        ("insufficient_funds", "card_declined", FailureReason.INSUFFICIENT_FUNDS),
        ("do_not_honor", "card_declined", FailureReason.GENERIC_DECLINE),
        (None, "expired_card", FailureReason.CARD_INVALID),
        (None, "incorrect_cvc", FailureReason.CARD_INVALID),
        (None, "payment_intent_authentication_failure", FailureReason.AUTHENTICATION),
        ("authentication_required", "card_declined", FailureReason.AUTHENTICATION),
        ("fraudulent", "card_declined", FailureReason.FRAUD),
        ("stolen_card", None, FailureReason.FRAUD),
        (None, "processing_error", FailureReason.PROCESSING_ERROR),
        ("try_again_later", None, FailureReason.PROCESSING_ERROR),
        ("currency_not_supported", None, FailureReason.UNSUPPORTED),
        ("card_not_supported", None, FailureReason.UNSUPPORTED),
        ("something_new", "card_declined", FailureReason.GENERIC_DECLINE),
        (None, None, FailureReason.GENERIC_DECLINE),
        ("INSUFFICIENT_FUNDS", None, FailureReason.INSUFFICIENT_FUNDS),
    ],
)
def test_decline_codes_are_classified(
    decline: str | None, code: str | None, reason: FailureReason
) -> None:
    assert classify_failure(decline, code) == reason


@pytest.mark.parametrize(
    ("ua", "bot"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 HeadlessChrome/120.0", True),
        ("python-requests/2.31", True),
        ("facebookexternalhit/1.1", True),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1", False),
        (None, False),
        ("", False),
    ],
)
def test_bots(ua: str | None, bot: bool) -> None:
    assert is_bot(ua) is bot


def test_test_contacts_by_address_and_domain() -> None:
    kw = {"test_emails": ("qa@shop.example",), "test_domains": ("test.example",)}
    assert is_test_contact("QA@shop.example", **kw)
    assert is_test_contact("x@test.example", **kw)
    assert is_test_contact("x@eu.test.example", **kw)
    assert not is_test_contact("x@nottest.example", **kw)
    assert not is_test_contact(None, **kw)


def test_money() -> None:
    assert (exponent("JPY"), exponent("eur"), exponent("KWD")) == (0, 2, 3)
    assert from_minor(1999, "EUR") == Decimal("19.99")
    assert from_minor(1999, "JPY") == Decimal(1999)
    assert parse_amount("12.345", field="total") == Decimal("12.345")
    assert parse_amount(3, field="total") == Decimal(3)
    for bad in ("abc", -1, "NaN", "1e20", True, None, "Infinity"):
        with pytest.raises(InvalidInput, match="total"):
            parse_amount(bad, field="total")


def test_money_as_platform_apis_take_it() -> None:
    # A Decimal read back from the database may carry an exponent: APIs get plain text.
    assert [plain(Decimal(v)) for v in ("1E+1", "12.50", "0.0000", "617.2800", "7")] == [
        "10",
        "12.5",
        "0",
        "617.28",
        "7",
    ]
    assert (to_minor(Decimal("19.99"), "EUR"), to_minor(Decimal("1E+1"), "EUR")) == (1999, 1000)
    assert (to_minor(Decimal(1500), "JPY"), to_minor(Decimal("1.2345"), "KWD")) == (1500, 1234)
    for v, cur in ((1999, "EUR"), (7, "JPY"), (12345, "BHD")):
        assert to_minor(from_minor(v, cur), cur) == v


def _case() -> Case:
    return Case(
        store_id="s",
        kind=CaseKind.ABANDONED_CHECKOUT,
        subject_id="c1",
        customer_key="a@b.c",
        email="a@b.c",
        phone=None,
        contact=Contact(),
        value=Decimal(10),
        currency="EUR",
        items=(),
        reason="checkout_abandoned",
        occurred_at=T0,
        created_at=T0,
    )


def test_a_case_ends_once() -> None:
    case = _case()
    assert case.recover(at=T0, order_external_id="o1", value=Decimal(12), how="order_paid")
    assert (case.status, case.recovered_value, case.attribution) == (
        "recovered",
        Decimal(12),
        "organic",
    )
    assert not case.close(CaseStatus.CANCELLED, at=T0, reason="x")
    assert not case.recover(at=T0, order_external_id="o2", value=Decimal(1), how="order_paid")
    assert case.recovered_order_external_id == "o1"


def test_close_refuses_non_terminal_targets() -> None:
    case = _case()
    assert not case.close(CaseStatus.OPEN, at=T0, reason="x")
    assert not case.close(CaseStatus.RECOVERED, at=T0, reason="x")
    assert case.close(CaseStatus.EXPIRED, at=T0, reason="ttl") and case.status == "expired"


def test_items_overlap() -> None:
    a = (LineItem(name="Mug", quantity=1, unit_price=Decimal(1), sku="M"),)
    b = (LineItem(name="Other", quantity=1, unit_price=Decimal(1), sku="M"),)
    c = (LineItem(name="Cup", quantity=1, unit_price=Decimal(1), sku="C"),)
    assert items_overlap(a, b) and not items_overlap(a, c) and items_overlap((), c)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": ""}, "name"),
        ({"platform": "magento"}, "platform"),
        ({"currency": "eur"}, "currency"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"domain": "not a domain"}, "domain"),
        ({"webhook_secret": "short"}, "webhook-secret"),
    ],
)
def test_store_validation_names_the_field(kw: dict[str, str], field: str) -> None:
    good = {
        "name": "Shop",
        "platform": "shopify",
        "currency": "EUR",
        "timezone": "Europe/Paris",
        "domain": "shop.example",
        "webhook_secret": "s3cret-s3cret",
    }
    validate_store(**good)
    with pytest.raises(InvalidInput) as err:
        validate_store(**{**good, **kw})
    assert err.value.field == field


def test_api_key_shape() -> None:
    assert split_api_key("rk_0123abcd_secret") == "0123abcd"
    assert split_api_key("rk_short_secret") is None
    assert split_api_key("Bearer x") is None
