"""Every locale file says everything en.yaml says, with the same data (issue 14), and a message
is in one language: words and formatting from the same locale, right to left for Arabic."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import yaml
from babel.numbers import format_currency
from jinja2 import Environment, meta
from template_helpers import for_key, full_context

from reclaim.adapters.templates import TemplateRenderer
from reclaim.domain.messages import Channel

NEW_LOCALES = ["it", "nl", "pt-BR", "pl", "ko", "ar"]
ALL_LOCALES = ["en", "de", "fr", "es", "zh-CN", "ja", *NEW_LOCALES]
PARTS = ("subject", "preheader", "heading", "body", "cta", "sms")
_ENV = Environment(extensions=["jinja2.ext.do"])


def data(locale: str) -> dict[str, Any]:
    path = resources.files("reclaim.adapters.templates") / "data" / f"{locale}.yaml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def context_variables(prelude: str, parts: dict[str, str]) -> set[str]:
    """The message data a template reads (what the prelude sets is the file's own wording)."""
    source = prelude + "\n" + "\n".join(parts[name] for name in PARTS)
    used = meta.find_undeclared_variables(_ENV.parse(source))
    return set(used) - set(_prelude_names(prelude))


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_every_locale_file_has_exactly_the_english_keys(locale: str) -> None:
    english, mine = data("en"), data(locale)
    assert set(mine) == set(english) == {"labels", "prelude", "templates", "page"}
    assert set(mine["labels"]) == set(english["labels"])
    assert set(mine["page"]) == set(english["page"])
    assert list(mine["templates"]) == list(english["templates"])
    for key, parts in english["templates"].items():
        assert set(mine["templates"][key]) == set(parts), key
    for name, words in mine["labels"].items():
        assert words.count("%(") == english["labels"][name].count("%("), name
    for name, words in mine["page"].items():
        assert _placeholders(words) == _placeholders(english["page"][name]), name


def _placeholders(words: str) -> set[str]:
    return {chunk.split(")")[0] for chunk in words.split("%(")[1:]}


@pytest.mark.parametrize("locale", NEW_LOCALES)
def test_new_locales_use_the_same_data_as_english_in_every_template(locale: str) -> None:
    english, mine = data("en"), data(locale)
    for key, parts in english["templates"].items():
        wanted = context_variables(english["prelude"], parts)
        used = context_variables(mine["prelude"], mine["templates"][key])
        assert used == wanted, key
        # The same reasons and facts are told apart, in the same order.
        for part in ("subject", "heading", "body", "cta", "sms"):
            assert _conditions(mine["templates"][key][part]) == _conditions(parts[part]), (
                key,
                part,
            )


def _prelude_names(prelude: str) -> list[str]:
    return [line.split("set ", 1)[1].split()[0] for line in prelude.split("{%") if "set " in line]


def _conditions(source: str) -> list[str]:
    """The if/elif tests of a part, which decide what is said (not how it is worded)."""
    tests = []
    for chunk in source.split("{%")[1:]:
        statement = chunk.split("%}", 1)[0].strip(" -")
        if statement.startswith(("if ", "elif ")):
            tests.append(statement.split(" ", 1)[1].strip())
    return [t for t in tests if not t.startswith(("promise.days", "coupon.kind"))]


@pytest.mark.parametrize(
    ("locale", "subject", "money", "date"),
    [
        (
            "it-IT",
            "Il tuo ordine #1042 è in attesa di pagamento",
            "1.234,56\u00a0€",
            "6 maggio 2026",
        ),
        ("nl-NL", "Je bestelling #1042 wacht op betaling", "€\u00a01.234,56", "6 mei 2026"),
        (
            "pt-BR",
            "Seu pedido #1042 está aguardando pagamento",
            "€\u00a01.234,56",
            "6 de maio de 2026",
        ),
        (
            "pl-PL",
            "Twoje zamówienie #1042 czeka na płatność",
            "1\u00a0234,56\u00a0€",
            "6 maja 2026",
        ),
        ("ko-KR", "주문 #1042 결제를 기다리고 있습니다", "€1,234.56", "2026년 5월 6일"),
    ],
)
def test_a_new_locale_is_one_language_with_its_own_formatting(
    renderer: TemplateRenderer, locale: str, subject: str, money: str, date: str
) -> None:
    key = "pending_order/reminder"
    rendered = renderer.render(
        key=key, channel=Channel.EMAIL, context=for_key(full_context(locale=locale), key)
    )
    assert rendered.subject == subject
    assert money == format_currency(1234.56, "EUR", locale=locale.replace("-", "_"))
    assert money in rendered.text and date in rendered.text
    assert rendered.locale == locale
    for english in ("Hello", "Unsubscribe", " May ", "Pay now"):
        assert english not in rendered.text, english


@pytest.mark.parametrize("locale", ["fi-FI", "sv-SE", "he-IL", "tr-TR"])
def test_a_language_without_templates_falls_back_whole(
    renderer: TemplateRenderer, locale: str
) -> None:
    key = "pending_order/reminder"
    context = for_key(full_context(locale=locale, timezone="Europe/Helsinki"), key)
    rendered = renderer.render(key=key, channel=Channel.EMAIL, context=context)
    english = renderer.render(
        key=key,
        channel=Channel.EMAIL,
        context=for_key(full_context(locale="en", timezone="Europe/Helsinki"), key),
    )
    assert rendered.locale == "en"
    assert (rendered.subject, rendered.text, rendered.html) == (
        english.subject,
        english.text,
        english.html,
    )
    assert "Total: €1,234.56" in rendered.text  # English words, English separators
    assert "until May 6, 2026, 12:00\u202fPM" in rendered.text
    sms = renderer.render(key=key, channel=Channel.SMS, context=context)
    assert "until 5/6/26, 12:00 PM." in sms.text and sms.locale == "en"


def test_arabic_reads_right_to_left_with_arabic_formatting(renderer: TemplateRenderer) -> None:
    key = "pending_order/reminder"
    context = for_key(full_context(locale="ar-EG", currency="EGP"), key)
    rendered = renderer.render(key=key, channel=Channel.EMAIL, context=context)
    html = rendered.html or ""
    assert '<html lang="ar-EG" dir="rtl">' in html
    assert '<body dir="rtl"' in html
    assert re.search(r'<table class="container"[^>]* dir="rtl"', html)
    assert rendered.subject == "طلبك #1042 بانتظار الدفع"
    assert "الإجمالي" in rendered.text
    # Prices as Babel writes them for Arabic (Egypt), aligned to the end of the line.
    price = format_currency(1234.56, "EGP", locale="ar_EG")
    assert price in rendered.text and price in html
    assert "text-align: end;" in html and "text-align: right" not in html
    assert "border-inline-start: 4px solid" in html or "note" not in html
    assert rendered.locale == "ar-EG"


def test_an_arabic_sms_opening_with_a_latin_store_name_still_reads_right_to_left(
    renderer: TemplateRenderer,
) -> None:
    """A phone takes a message's direction from its first strong letter: the store's Latin
    name would turn the Arabic text left to right without the right-to-left mark."""
    key = "pending_order/reminder"
    arabic = renderer.render(
        key=key, channel=Channel.SMS, context=for_key(full_context(locale="ar-EG"), key)
    )
    assert arabic.text.startswith("\u200fMaison Lumière: ")
    english = renderer.render(
        key=key, channel=Channel.SMS, context=for_key(full_context(locale="en"), key)
    )
    assert "\u200f" not in english.text


def test_hold_dates_in_the_new_locales_are_in_the_customers_zone(
    renderer: TemplateRenderer,
) -> None:
    key = "pending_order/reminder"
    at = datetime(2026, 5, 1, 22, 30, tzinfo=UTC)
    context = for_key(full_context(locale="it-IT", timezone="Asia/Tokyo", hold_expires_at=at), key)
    text = renderer.render(key=key, channel=Channel.EMAIL, context=context).text
    assert "2 maggio 2026" in text and "07:30" in text
