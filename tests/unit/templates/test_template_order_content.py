"""What the default templates tell about an order, in every locale (issue 14): rows that add up
to the total, how to pay an offline order, the amount of a failed payment, and a footer with
separators only between parts that are there."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from template_helpers import ADDRESS, ITEMS, STORE, bare_context, for_key, full_context

from reclaim.adapters.templates import TemplateRenderer
from reclaim.adapters.templates.defaults import defaults
from reclaim.adapters.templates.formatting import format_locale
from reclaim.domain.messages import Channel, PaymentView
from reclaim.domain.reasons import FailureReason, OfflineMethod
from reclaim.domain.totals import CartTotals

LOCALES = ["en", "de", "fr", "es", "zh-CN", "ja", "it", "nl", "pt-BR", "pl", "ko", "ar"]
ROWS = ("discount", "shipping", "other_charges", "tax", "tax_included")
BANK = "IBAN FR76 3000 6000 0112 3456 7890 189\nBIC AGRIFRPP\nRéférence : votre numéro de commande"
D = Decimal


def rendering_money(locale: str, currency: str) -> Callable[[Decimal | None], str]:
    """Babel's formatting of an amount for the customer's locale (as the renderer asks it)."""
    return lambda amount: format_currency(amount, currency, locale=format_locale(locale))


def labels(locale: str) -> dict[str, str]:
    return dict(defaults().labels[locale])


def email(renderer: TemplateRenderer, key: str, **changes: object) -> tuple[str, str, str]:
    context = for_key(full_context(**changes), key)
    rendered = renderer.render(key=key, channel=Channel.EMAIL, context=context)
    assert rendered.html is not None
    return rendered.subject, rendered.text, rendered.html


@pytest.mark.parametrize("locale", LOCALES)
def test_every_row_between_the_items_and_the_total_is_labelled_and_in_order(
    renderer: TemplateRenderer, locale: str
) -> None:
    # ITEMS: 99.80 + 1134.76; less 10.00, plus 4.90 shipping, 1.50 fees, 20.00 tax: 1251.96.
    totals = CartTotals(
        lines=(D("99.80"), D("1134.76")),
        total=D("1251.96"),
        discount=D("10.00"),
        shipping=D("4.90"),
        other=D("1.50"),
        tax=D("20.00"),
    )
    words = labels(locale)
    for name in (*ROWS, "how_to_pay", "amount_due"):
        assert words.get(name), f"{locale}.yaml lacks the label {name}"
    _, text, html = email(
        renderer, "pending_order/reminder", locale=locale, total=totals.total, totals=totals
    )
    money = rendering_money(locale, "EUR")
    colon = words["colon"]
    expected = [
        f"{words['discount']}{colon}{money(-totals.discount)}",
        f"{words['shipping']}{colon}{money(totals.shipping)}",
        f"{words['other_charges']}{colon}{money(totals.other)}",
        f"{words['tax']}{colon}{money(totals.tax)}",
        f"{words['total']}{colon}{money(totals.total)}",
    ]
    lines = text.splitlines()
    start = lines.index(expected[0])
    assert lines[start : start + 5] == expected
    assert lines[start - 1].endswith(money(D("1134.76")))  # right after the last item
    for row in expected:
        label, amount = row.split(colon, 1)
        assert f">{label}</td>" in html and f">{amount}</td>" in html
    assert words["tax_included"] not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_tax_the_prices_include_is_shown_after_the_total(
    renderer: TemplateRenderer, locale: str
) -> None:
    totals = CartTotals(
        lines=(D("99.80"), D("1134.76")), total=D("1234.56"), tax_included=D("197.11")
    )
    _, text, html = email(renderer, "abandoned_checkout/reminder", locale=locale, totals=totals)
    words, money = labels(locale), rendering_money(locale, "EUR")
    colon = words["colon"]
    assert (
        f"\n{words['total']}{colon}{money(totals.total)}\n"
        f"{words['tax_included']}{colon}{money(D('197.11'))}\n" in text
    )
    assert f">{words['tax_included']}</td>" in html
    assert words["tax"] + colon not in text.replace(words["tax_included"], "")


def test_a_sold_out_cart_shows_no_rows_and_no_total(renderer: TemplateRenderer) -> None:
    totals = CartTotals(lines=(D("99.80"), D("1134.76")), total=D("1239.46"), shipping=D("4.9"))
    items = (replace(ITEMS[0], sold_out=True), ITEMS[1])
    _, text, _ = email(renderer, "abandoned_checkout/reminder", items=items, totals=totals)
    assert "Shipping" not in text and "Total" not in text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "key", ["pending_order/reminder", "pending_order/reminder_2", "pending_order/last_call"]
)
def test_pending_reminders_say_how_to_pay_an_offline_order(
    renderer: TemplateRenderer, key: str, locale: str
) -> None:
    payment = PaymentView(method=OfflineMethod.BANK_TRANSFER, instructions=BANK)
    _, text, html = email(renderer, key, locale=locale, payment=payment)
    words, money = labels(locale), rendering_money(locale, "EUR")
    assert f"\n{words['how_to_pay']}\n{words['amount_due']}{words['colon']}" in text
    assert f"{money(D('1234.56'))}\n{BANK}\n" in text
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in html
    assert re.search(r'<span class="instructions" style="white-space: pre-line;">IBAN', html)
    _, card_text, _ = email(renderer, key, locale=locale, payment=None)
    assert f"\n{words['how_to_pay']}\n" not in card_text and "IBAN" not in card_text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_first_reminder_names_what_an_offline_order_waits_for(
    renderer: TemplateRenderer, locale: str
) -> None:
    key = "pending_order/reminder"
    said = {
        method: email(renderer, key, locale=locale, payment=PaymentView(method=method))[1]
        for method in (None, *OfflineMethod)
    }
    bodies = {method: text.split("\n\n")[2] for method, text in said.items()}
    assert len(set(bodies.values())) == 4, bodies  # each method its own words
    for method in (OfflineMethod.BANK_TRANSFER, OfflineMethod.CASH_ON_DELIVERY):
        assert method.value not in said[method]  # never the method's code


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("key", "reason"),
    [("failed_payment/first", r.value) for r in FailureReason]
    + [("failed_payment/followup", None), ("failed_payment/last_call", None)],
)
def test_a_failed_payment_says_how_much_for_which_order(
    renderer: TemplateRenderer, key: str, reason: str | None, locale: str
) -> None:
    context = {"locale": locale, "reason": reason, "items": (), "total": D("79.60")}
    _, text, html = email(renderer, key, **context)
    body = text.split("\n\n")[2]  # the first paragraph after the greeting
    amount = rendering_money(locale, "EUR")(D("79.60"))
    assert amount in body and "#1042" in body, body
    assert amount in html
    _, zero, _ = email(renderer, key, **{**context, "total": D("0")})
    assert rendering_money(locale, "EUR")(D("0")) not in zero


@pytest.mark.parametrize("locale", LOCALES)
def test_the_footer_has_separators_only_between_parts_that_are_there(
    renderer: TemplateRenderer, locale: str
) -> None:
    key = "failed_payment/followup"
    bare = replace(STORE, postal_address="", support_phone=None)
    context = for_key(bare_context(locale=locale, store=bare), key)
    rendered = renderer.render(key=key, channel=Channel.EMAIL, context=context)
    assert rendered.html is not None
    footer = rendered.text.split("\n--\n", 1)[1].splitlines()
    assert footer[-2] == STORE.name
    assert f"<strong><bdi>{STORE.name}</bdi></strong><br>" in rendered.html
    assert " · " not in rendered.html.split('class="footer"', 1)[1]
    full = renderer.render(key=key, channel=Channel.EMAIL, context=for_key(full_context(), key))
    assert f"{STORE.name}, {ADDRESS}\n" in full.text
    assert f"<strong><bdi>{STORE.name}</bdi></strong> · <bdi>{ADDRESS}</bdi><br>" in (
        full.html or ""
    )
