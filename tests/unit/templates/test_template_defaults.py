"""Every default template renders, in every locale and channel, with and without optional data."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from template_helpers import (
    ADDRESS,
    RESTORE,
    UNSUBSCRIBE,
    CouponView,
    bare_context,
    for_key,
    full_context,
)

from reclaim.adapters.templates import TemplateRenderer
from reclaim.domain.messages import Channel, DeliveryPromise
from reclaim.domain.reasons import FailureReason

LOCALES = ["en", "de", "fr", "es", "zh-CN", "ja", "it", "nl", "pt-BR", "pl", "ko", "ar"]
KEYS = [
    "abandoned_checkout/reminder",
    "abandoned_checkout/help",
    "abandoned_checkout/incentive",
    "pending_order/reminder",
    "pending_order/reminder_2",
    "pending_order/last_call",
    "pending_order/cancelled",
    "failed_payment/first",
    "failed_payment/followup",
    "failed_payment/last_call",
    "shipment_exception/notice",
]
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
JINJA_LEFTOVER = re.compile(r"\{\{|\{%|\}\}|%\}")
# GSM 03.38 basic set and extension table: what one 160-character SMS segment can carry.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def test_keys_and_locales_are_the_documented_ones(renderer: TemplateRenderer) -> None:
    assert renderer.keys() == KEYS
    assert renderer.locales() == LOCALES


@pytest.mark.parametrize("variant", ["full", "bare"])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", KEYS)
def test_email_renders_with_links_address_inlined_css_and_plain_text(
    renderer: TemplateRenderer, key: str, locale: str, variant: str
) -> None:
    base = full_context(locale=locale) if variant == "full" else bare_context(locale=locale)
    rendered = renderer.render(key=key, channel=Channel.EMAIL, context=for_key(base, key))
    html, text, subject = rendered.html, rendered.text, rendered.subject
    assert html is not None
    assert subject and "\n" not in subject and "\r" not in subject
    for part in (html, text):
        assert RESTORE in part
        assert UNSUBSCRIBE in part
        assert ADDRESS in part
        assert "None" not in part
        assert not JINJA_LEFTOVER.search(part)
    assert html.startswith("<!DOCTYPE html>")
    lang = "zh-Hans-CN" if locale == "zh-CN" else locale
    direction = "rtl" if locale == "ar" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert f'<body dir="{direction}"' in html  # also where a client drops <html>
    assert 'class="button" href="' + RESTORE in html
    # The layout's <style> is inlined, into the layout and into the key's own blocks (<p>).
    assert '<h1 class="heading" style="margin: 0 0 16px 0;color: #111827;' in html
    assert '<p style="margin: 0 0 16px 0;">' in html
    assert "<style>@media" in html  # only the responsive rules stay in a <style> element
    assert not TAG.search(text), TAG.search(text)
    assert "\n\n\n" not in text
    if variant == "full":
        assert "https://cdn.boutique.example/shirt.jpg" in html
        assert "Linen shirt" in text and "Canvas tote" in text
    else:
        assert '<table role="presentation" class="items"' not in html
        assert "Linen shirt" not in text


@pytest.mark.parametrize("variant", ["full", "bare"])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("key", KEYS)
def test_sms_and_webhook_are_short_single_lines_with_the_link(
    renderer: TemplateRenderer, key: str, locale: str, variant: str
) -> None:
    base = full_context(locale=locale) if variant == "full" else bare_context(locale=locale)
    context = for_key(base, key)
    sms = renderer.render(key=key, channel=Channel.SMS, context=context)
    assert sms.subject == "" and sms.html is None
    assert sms.text.endswith(RESTORE)
    assert "\n" not in sms.text and "None" not in sms.text
    assert not JINJA_LEFTOVER.search(sms.text)
    assert len(sms.text) <= 160, sms.text
    if locale in ("en", "de", "fr", "it", "nl"):
        assert set(sms.text) <= GSM7, set(sms.text) - GSM7
    hook = renderer.render(key=key, channel=Channel.WEBHOOK, context=context)
    assert hook.text == sms.text and hook.html is None
    email = renderer.render(key=key, channel=Channel.EMAIL, context=context)
    assert hook.subject == email.subject


def test_english_reminder_reads_as_written(renderer: TemplateRenderer) -> None:
    rendered = renderer.render(
        key="abandoned_checkout/reminder", channel=Channel.EMAIL, context=full_context()
    )
    assert rendered.subject == "Your cart at Maison Lumière is waiting for you"
    assert rendered.text == (
        "You left something behind\n\n"
        "Hello Anna,\n\n"
        "You recently added items to your cart at Maison Lumière but didn't complete your order. "
        "We have saved everything for you, so you can pick up right where you left off.\n\n"
        "- Linen shirt × 2: €99.80\n"
        "- Canvas tote × 1: €1,134.76\n"
        "Total: €1,234.56\n\n"
        "Complete your order\n"
        f"{RESTORE}\n\n"
        "--\n"
        "You are receiving this email because you started a purchase in our shop.\n"
        "Questions? We're happy to help: aide@boutique.example · +33 1 84 88 12 34\n"
        f"Maison Lumière, {ADDRESS}\n"
        f"Unsubscribe: {UNSUBSCRIBE}"
    )
    sms = renderer.render(
        key="abandoned_checkout/reminder", channel=Channel.SMS, context=full_context()
    )
    assert (
        sms.text
        == f"Maison Lumière: you left items in your cart. Complete your order here: {RESTORE}"
    )


@pytest.mark.parametrize(
    ("locale", "currency", "total", "label", "expected"),
    [
        ("de-DE", "EUR", "1234.56", "Gesamtsumme: ", "1.234,56\u00a0€"),
        ("fr-FR", "EUR", "1234.56", "Total\u00a0: ", "1\u202f234,56\u00a0€"),
        ("es-ES", "EUR", "1234.56", "Total: ", "1.234,56\u00a0€"),
        ("en-US", "USD", "1234.56", "Total: ", "$1,234.56"),
        ("ja-JP", "JPY", "1234", "合計：", "￥1,234"),
        ("zh-CN", "CNY", "1234.56", "合计：", "¥1,234.56"),
        ("de-AT", "EUR", "1234.56", "Gesamtsumme: ", "€\u00a01.234,56"),
    ],
)
def test_totals_are_formatted_in_the_customers_locale_and_currency(
    renderer: TemplateRenderer, locale: str, currency: str, total: str, label: str, expected: str
) -> None:
    context = full_context(locale=locale, currency=currency, total=Decimal(total))
    rendered = renderer.render(
        key="abandoned_checkout/reminder", channel=Channel.EMAIL, context=context
    )
    assert rendered.html is not None
    assert (
        f'<td class="total-amount" style="padding: 12px 0 0 0;text-align: end;font-weight: bold;white-space: nowrap;">{expected}</td>'
        in rendered.html
    )
    assert f"\n{label}{expected}\n" in rendered.text


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "May 2, 2026, 7:30\u202fAM"),
        ("de", "2. Mai 2026, 07:30"),
        ("fr", "2 mai 2026, 07:30"),
        ("es", "2 de mayo de 2026, 7:30"),
        ("zh-CN", "2026年5月2日 07:30"),
        ("ja", "2026年5月2日 7:30"),
    ],
)
def test_hold_end_is_shown_in_the_customers_time_zone(
    renderer: TemplateRenderer, locale: str, expected: str
) -> None:
    # 22:30 UTC on 1 May is 07:30 on 2 May in Tokyo.
    context = full_context(
        kind="pending_order",
        step="reminder",
        locale=locale,
        timezone="Asia/Tokyo",
        hold_expires_at=datetime(2026, 5, 1, 22, 30, tzinfo=UTC),
    )
    rendered = renderer.render(key="pending_order/reminder", channel=Channel.EMAIL, context=context)
    assert rendered.html is not None
    assert expected in rendered.html
    assert expected in rendered.text


def test_help_states_the_delivery_promise_with_its_numbers(renderer: TemplateRenderer) -> None:
    context = for_key(full_context(), "abandoned_checkout/help")
    text = renderer.render(
        key="abandoned_checkout/help", channel=Channel.EMAIL, context=context
    ).text
    assert "Good news: now ships from France in 3–5 days, 2 days faster, €2.00 less." in text
    one_day = replace(context, promise=DeliveryPromise("ES", 1, 1), locale="de-DE")
    text = renderer.render(
        key="abandoned_checkout/help", channel=Channel.EMAIL, context=one_day
    ).text
    assert "Versandland: Spanien · Lieferzeit: 1 Tag\n" in text
    assert "schneller" not in text and "günstiger" not in text
    assert "Write to us" not in text  # German customer, German text
    japanese = replace(context, locale="ja-JP")
    text = renderer.render(
        key="abandoned_checkout/help", channel=Channel.EMAIL, context=japanese
    ).text
    assert (
        "フランスから発送できるようになりました。3〜5日でお届けします（従来より2日早くなります）。送料も€2.00お安くなります。"
        in text
    )


@pytest.mark.parametrize(
    ("kind", "value", "currency", "min_order", "phrase"),
    [
        ("percent", "10", "EUR", "50", "here is 10% off your order."),
        ("fixed", "5", "EUR", None, "here is €5.00 off your order."),
        ("free_shipping", "0", "EUR", None, "here is free shipping on your order."),
    ],
)
def test_incentive_shows_code_value_minimum_and_expiry(
    renderer: TemplateRenderer,
    kind: str,
    value: str,
    currency: str,
    min_order: str | None,
    phrase: str,
) -> None:
    coupon = CouponView(
        code="K7M4-QX9P",
        kind=kind,
        value=Decimal(value),
        currency=currency,
        expires_at=datetime(2026, 5, 3, 22, 30, tzinfo=UTC),
        min_order=Decimal(min_order) if min_order else None,
    )
    context = for_key(
        full_context(coupon=coupon, timezone="America/New_York"), "abandoned_checkout/incentive"
    )
    rendered = renderer.render(
        key="abandoned_checkout/incentive", channel=Channel.EMAIL, context=context
    )
    assert phrase in rendered.text
    assert "\nK7M4-QX9P\n" in rendered.text
    assert '<span class="coupon-code" style="' in (rendered.html or "")
    minimum = " for orders of €50.00 or more" if min_order else ""
    assert (
        f"Enter this code at checkout{minimum}. It can be used once and is valid until "
        "May 3, 2026, 6:30\u202fPM (expires in 48 hours)." in rendered.text
    )
    without_now = replace(context, now=None)
    text = renderer.render(
        key="abandoned_checkout/incentive", channel=Channel.EMAIL, context=without_now
    ).text
    assert "valid until May 3, 2026, 6:30\u202fPM." in text and "expires in" not in text


def test_incentive_without_a_coupon_is_a_last_plain_reminder(renderer: TemplateRenderer) -> None:
    context = for_key(full_context(coupon=None), "abandoned_checkout/incentive")
    rendered = renderer.render(
        key="abandoned_checkout/incentive", channel=Channel.EMAIL, context=context
    )
    assert rendered.subject == "Your cart is still waiting for you"
    assert "This is the last reminder we will send you about this cart." in rendered.text
    assert "code" not in rendered.text.lower()


@pytest.mark.parametrize(
    ("reason", "subject", "cta", "line"),
    [
        (
            FailureReason.INSUFFICIENT_FUNDS,
            "Your payment did not go through: other ways to pay",
            "Choose another way to pay",
            "If the checkout offers instalments or pay later",
        ),
        (
            FailureReason.AUTHENTICATION,
            "Your bank could not confirm your payment",
            "Try again",
            "- Confirm the payment in the app, or enter the code your bank sends you.",
        ),
        (
            FailureReason.PROCESSING_ERROR,
            "Your payment was interrupted: please try again",
            "Try again",
            "Please simply try again: your order is saved.",
        ),
        (
            FailureReason.UNSUPPORTED,
            "Please choose another way to pay",
            "Choose a payment method",
            "including payment methods that are popular in your country",
        ),
        (
            FailureReason.CARD_INVALID,
            "Please check your card details",
            "Update card details",
            "the number, expiry date or security code may have been mistyped",
        ),
        (
            FailureReason.GENERIC_DECLINE,
            "Your payment did not go through",
            "Try again",
            "You can try again, or use another card or payment method.",
        ),
        (
            FailureReason.FRAUD,
            "Your payment did not go through",
            "Try again",
            "You can try again, or use another card or payment method.",
        ),
        (
            None,
            "Your payment did not go through",
            "Try again",
            "You can try again, or use another card or payment method.",
        ),
    ],
)
def test_first_failed_payment_message_follows_the_reason(
    renderer: TemplateRenderer, reason: str | None, subject: str, cta: str, line: str
) -> None:
    context = for_key(full_context(reason=reason), "failed_payment/first")
    rendered = renderer.render(key="failed_payment/first", channel=Channel.EMAIL, context=context)
    assert rendered.subject == subject
    assert line in rendered.text
    assert f"\n{cta}\n{RESTORE}\n" in rendered.text
    assert f">{cta}</a>" in (rendered.html or "")


def test_pending_order_messages_name_the_order_and_the_hold(renderer: TemplateRenderer) -> None:
    context = for_key(full_context(), "pending_order/reminder")
    rendered = renderer.render(key="pending_order/reminder", channel=Channel.EMAIL, context=context)
    assert rendered.subject == "Your order #1042 is awaiting payment"
    assert "We are holding your items for you until May 6, 2026, 11:00\u202fAM." in rendered.text
    no_hold = replace(context, hold_expires_at=None, order_number=None)
    rendered = renderer.render(key="pending_order/reminder", channel=Channel.EMAIL, context=no_hold)
    assert rendered.subject == "Your order is awaiting payment"
    assert "holding" not in rendered.text
    cancelled = renderer.render(
        key="pending_order/cancelled",
        channel=Channel.EMAIL,
        context=for_key(full_context(), "pending_order/cancelled"),
    )
    assert cancelled.subject == "Your order #1042 has been cancelled"
    assert f"Order again\n{RESTORE}" in cancelled.text


def test_marketing_and_service_messages_say_why_they_were_sent(renderer: TemplateRenderer) -> None:
    marketing = renderer.render(
        key="abandoned_checkout/reminder",
        channel=Channel.EMAIL,
        context=full_context(locale="fr-FR"),
    )
    service = renderer.render(
        key="failed_payment/followup",
        channel=Channel.EMAIL,
        context=for_key(full_context(locale="fr-FR"), "failed_payment/followup"),
    )
    assert (
        "Vous recevez cet e-mail parce que vous avez commencé un achat dans notre boutique."
        in marketing.text
    )
    assert "Ceci est un message de service concernant votre commande." in service.text
    assert "Se désabonner\u00a0: " + UNSUBSCRIBE in service.text


def test_locale_fallbacks_pick_the_template_and_keep_the_formatting(
    renderer: TemplateRenderer,
) -> None:
    key = "abandoned_checkout/reminder"
    austrian = renderer.render(key=key, channel=Channel.EMAIL, context=full_context(locale="de-AT"))
    assert austrian.subject == "Ihr Warenkorb bei Maison Lumière wartet auf Sie"
    assert "Gesamtsumme: €\u00a01.234,56" in austrian.text  # Austrian money format
    taiwan = renderer.render(key=key, channel=Channel.SMS, context=full_context(locale="zh-TW"))
    assert taiwan.text.startswith("【Maison Lumière】您的购物车中还有商品未结算")
    hant = renderer.render(key=key, channel=Channel.SMS, context=full_context(locale="zh-Hant"))
    assert hant.text == taiwan.text
    for junk in (
        "",
        "!!",
        "xx-YY",
        "en-US-u-ca-gregory",
        "i-klingon",
        "de_DE_bogus_value_that_is_long",
    ):
        rendered = renderer.render(
            key=key, channel=Channel.EMAIL, context=full_context(locale=junk)
        )
        assert rendered.subject.startswith(("Your cart", "Ihr Warenkorb")), junk
    brazil = renderer.render(key=key, channel=Channel.EMAIL, context=full_context(locale="pt-BR"))
    assert brazil.subject == "Seu carrinho na loja Maison Lumière está esperando por você"
    assert "Total: €\u00a01.234,56" in brazil.text and brazil.locale == "pt-BR"
    portugal = renderer.render(key=key, channel=Channel.EMAIL, context=full_context(locale="pt-PT"))
    assert portugal.subject == brazil.subject  # Brazilian wording ...
    assert "Total: 1\u00a0234,56\u00a0€" in portugal.text  # ... with Portugal's formatting
    assert portugal.locale == "pt-PT"
    unknown_zone = renderer.render(
        key="pending_order/reminder",
        channel=Channel.EMAIL,
        context=for_key(full_context(timezone="Mars/Olympus_Mons"), "pending_order/reminder"),
    )
    assert "until May 6, 2026, 9:00\u202fAM." in unknown_zone.text  # UTC when the zone is unknown


def test_names_are_escaped_in_html_and_kept_in_text(renderer: TemplateRenderer) -> None:
    context = full_context(first_name="<script>alert(1)</script>")
    rendered = renderer.render(
        key="abandoned_checkout/reminder", channel=Channel.EMAIL, context=context
    )
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in (rendered.html or "")
    assert "<script>" not in (rendered.html or "")
    assert "Hello <script>alert(1)</script>," in rendered.text


def test_unknown_key_and_channel_are_refused(renderer: TemplateRenderer) -> None:
    from reclaim.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        renderer.render(
            key="abandoned_checkout/nope", channel=Channel.EMAIL, context=full_context()
        )
    assert error.value.field == "key"
    assert str(error.value) == "unknown template key 'abandoned_checkout/nope'"
    with pytest.raises(InvalidInput) as error:
        renderer.render(key="abandoned_checkout/reminder", channel="fax", context=full_context())  # type: ignore[arg-type]
    assert error.value.field == "channel"
