"""Babel-backed helpers: locale fallback, money, numbers, dates in the customer's zone, durations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from reclaim.adapters.templates import formatting as fmt
from reclaim.adapters.templates.limits import NoRenderState, RenderState, rendering
from reclaim.errors import InvalidInput

NOW = datetime(2026, 5, 1, 22, 30, tzinfo=UTC)


def within(
    locale: str, zone: str = "UTC", currency: str = "EUR", now: datetime | None = NOW
) -> rendering:
    return rendering(
        RenderState(locale=fmt.format_locale(locale), tz=fmt.zone(zone), currency=currency, now=now)
    )


@pytest.mark.parametrize(
    ("tag", "template", "formatting"),
    [
        ("de-AT", "de", "de_AT"),
        ("de_DE", "de", "de_DE"),
        ("DE-de", "de", "de_DE"),
        ("de", "de", "de"),
        ("de-XX", "de", "de"),
        ("fr-CA", "fr", "fr_CA"),
        ("es-MX", "es", "es_MX"),
        ("ja-JP", "ja", "ja_JP"),
        ("zh-CN", "zh-CN", "zh_Hans_CN"),
        ("zh-TW", "zh-CN", "zh_Hant_TW"),
        ("zh-Hant", "zh-CN", "zh_Hant"),
        ("zh", "zh-CN", "zh"),
        ("en-GB", "en", "en_GB"),
        ("en-US-u-ca-gregory", "en", "en_US"),
        ("pt-BR", "pt-BR", "pt_BR"),
        ("pt-PT", "pt-BR", "pt_PT"),
        ("it-IT", "it", "it_IT"),
        ("nl-BE", "nl", "nl_BE"),
        ("pl-PL", "pl", "pl_PL"),
        ("ko-KR", "ko", "ko_KR"),
        ("ar-EG", "ar", "ar_EG"),
        ("fi-FI", "en", "fi_FI"),
        ("sv-SE", "en", "sv_SE"),
        ("xx-YY", "en", "en"),
        ("!!", "en", "en"),
        ("", "en", "en"),
        (None, "en", "en"),
        ("i-klingon", "en", "en"),
        ("x" * 100, "en", "en"),
    ],
)
def test_locale_fallback_never_fails(tag: str | None, template: str, formatting: str) -> None:
    assert fmt.template_locale(tag) == template
    assert str(fmt.format_locale(tag)) == formatting


def test_override_lookup_goes_from_specific_to_general() -> None:
    assert fmt.override_locales("de-AT") == ["de-AT", "de"]
    assert fmt.override_locales("zh-TW") == ["zh-Hant-TW", "zh-TW", "zh", "zh-CN"]
    assert fmt.override_locales("pt-BR") == ["pt-BR", "pt"]
    assert fmt.override_locales("pt-PT") == ["pt-PT", "pt", "pt-BR"]
    assert fmt.override_locales("fi-FI") == ["fi-FI", "fi", "en"]
    assert fmt.override_locales("nonsense!") == ["en"]


def test_unknown_zones_are_utc() -> None:
    assert fmt.zone("Asia/Tokyo").key == "Asia/Tokyo"
    for bad in (None, "", "Mars/Base", "../../etc/passwd", "a" * 100):
        assert fmt.zone(bad).key == "UTC"


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "expected"),
    [
        ("de-DE", "1234.56", "EUR", "1.234,56\u00a0€"),
        ("ja-JP", "1234", "JPY", "￥1,234"),
        ("ja-JP", "1234.4", "JPY", "￥1,234"),  # no decimals for yen
        ("en-US", "1234.56", "USD", "$1,234.56"),
        ("fr-FR", "1234.56", "EUR", "1\u202f234,56\u00a0€"),
        ("es-ES", "1234.56", "EUR", "1.234,56\u00a0€"),
        ("zh-CN", "1234.56", "CNY", "¥1,234.56"),
        ("en-GB", "0.5", "GBP", "£0.50"),
        ("en", "1.5", "KWD", "KWD1.500"),  # three decimals for dinar
    ],
)
def test_money(locale: str, amount: str, currency: str, expected: str) -> None:
    with within(locale, currency=currency):
        assert fmt.money(Decimal(amount)) == expected


def test_money_takes_another_currency_and_refuses_nonsense() -> None:
    with within("de-DE"):
        assert fmt.money(Decimal("5"), "USD") == "5,00\u00a0$"
        assert fmt.money(7) == "7,00\u00a0€"
        assert fmt.money("19.99") == "19,99\u00a0€"
        assert fmt.money(None) == ""
        for bad, message in [
            ("abc", "expects a number, got 'abc'"),
            (True, "not a boolean"),
            (Decimal("NaN"), "finite numbers below 10^15"),
            (Decimal("1e20"), "finite numbers below 10^15"),
            ([1], "expects a number, not list"),
        ]:
            with pytest.raises(InvalidInput) as error:
                fmt.money(bad)
            assert message in str(error.value)
        with pytest.raises(InvalidInput) as error:
            fmt.money(Decimal("1"), "<script>")
        assert "three-letter currency code" in str(error.value)


def test_numbers_and_percentages() -> None:
    with within("de-DE"):
        assert fmt.number(Decimal("1234.5")) == "1.234,5"
        assert fmt.number(Decimal("1234.5"), 2) == "1.234,50"
        assert fmt.number(3, 0) == "3"
        assert fmt.percent(Decimal("0.1")) == "10\u00a0%"
        assert fmt.percent(Decimal("0.125")) == "12,5\u00a0%"
        with pytest.raises(InvalidInput):
            fmt.number(1, 11)
    with within("en-US"):
        assert fmt.percent(0.1) == "10%"
    with within("fr-FR"):
        assert fmt.percent(Decimal("0.15")) == "15\u00a0%"


@pytest.mark.parametrize(
    ("locale", "zone", "medium_date", "medium_datetime"),
    [
        ("en-US", "Asia/Tokyo", "May 2, 2026", "May 2, 2026, 7:30\u202fAM"),
        ("en-GB", "Europe/London", "1 May 2026", "1 May 2026, 23:30"),
        ("de-DE", "Europe/Berlin", "02.05.2026", "02.05.2026, 00:30"),
        ("fr-FR", "America/New_York", "1 mai 2026", "1 mai 2026, 18:30"),
        ("ja-JP", "Asia/Tokyo", "2026/05/02", "2026/05/02 7:30"),
        ("zh-CN", "Asia/Shanghai", "2026年5月2日", "2026年5月2日 06:30"),
    ],
)
def test_dates_are_converted_to_the_customers_zone_first(
    locale: str, zone: str, medium_date: str, medium_datetime: str
) -> None:
    with within(locale, zone):
        assert fmt.date_(NOW) == medium_date
        assert fmt.datetime_(NOW) == medium_datetime


def test_date_formats_and_refusals() -> None:
    with within("de-DE", "Europe/Berlin"):
        assert fmt.date_(NOW, "long") == "2. Mai 2026"
        assert fmt.datetime_(NOW, "long") == "2. Mai 2026, 00:30"
        assert fmt.time_(NOW) == "00:30"
        assert fmt.date_(date(2026, 12, 24), "full") == "Donnerstag, 24. Dezember 2026"
        assert fmt.datetime_(NOW, "dd.MM. HH:mm") == "02.05. 00:30"
        assert fmt.date_(datetime(2026, 5, 1, 23, 30)) == "02.05.2026"  # naive counts as UTC
        assert fmt.date_(None) == ""
        with pytest.raises(InvalidInput) as error:
            fmt.date_("2026-05-01")
        assert str(error.value) == "template date() expects a date or datetime, not str"
        with pytest.raises(InvalidInput):
            fmt.date_(NOW, "y" * 100)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "in 48 hours"),
        ("de", "in 48 Stunden"),
        ("fr", "dans 48 heures"),
        ("es", "dentro de 48 horas"),
        ("zh-CN", "48小时后"),
        ("ja", "48 時間後"),
    ],
)
def test_expiry_wording_counts_from_the_send_time(locale: str, expected: str) -> None:
    with within(locale):
        assert fmt.timedelta_(NOW + timedelta(hours=48)) == expected


def test_timedelta_variants() -> None:
    with within("en"):
        assert fmt.timedelta_(NOW + timedelta(days=7)) == "in 7 days"
        assert fmt.timedelta_(NOW + timedelta(minutes=90)) == "in 90 minutes"
        assert fmt.timedelta_(NOW - timedelta(hours=3)) == "3 hours ago"
        assert fmt.timedelta_(timedelta(hours=48), direction=False) == "48 hours"
        assert fmt.timedelta_(NOW + timedelta(hours=48), threshold=0.85) == "in 2 days"
        assert fmt.timedelta_(3600) == "in 60 minutes"
        with pytest.raises(InvalidInput):
            fmt.timedelta_(NOW, granularity="fortnight")
    with within("en", now=None):
        assert fmt.timedelta_(NOW) == ""  # no send time known: nothing rather than a wrong figure


def test_country_names_are_localised() -> None:
    with within("de"):
        assert fmt.country("FR") == "Frankreich"
        assert fmt.country("fr") == "Frankreich"
        assert fmt.country("ZZZ") == "ZZZ"
        assert fmt.country(None) == ""
    with within("ja"):
        assert fmt.country("FR") == "フランス"


def test_helpers_need_a_render_in_progress() -> None:
    with pytest.raises(NoRenderState):
        fmt.money(Decimal("1"))


@pytest.mark.parametrize(
    ("tag", "written", "used", "direction"),
    [
        ("de-AT", None, "de_AT", "ltr"),  # the customer's language: their own formatting
        ("pt-PT", None, "pt_PT", "ltr"),  # Brazilian wording, Portuguese formatting
        ("zh-TW", None, "zh_Hant_TW", "ltr"),
        ("it-IT", None, "it_IT", "ltr"),
        ("ar-EG", None, "ar_EG", "rtl"),
        ("ar", None, "ar", "rtl"),
        ("fi-FI", None, "en", "ltr"),  # no Finnish template: English words, English formatting
        ("sv-SE", None, "en", "ltr"),
        ("he-IL", None, "en", "ltr"),  # English text, so left to right
        ("fi-FI", "fi", "fi_FI", "ltr"),  # a merchant's own Finnish template
        ("de-AT", "en", "en", "ltr"),
        ("!!", None, "en", "ltr"),
    ],
)
def test_a_message_is_written_and_formatted_in_one_locale(
    tag: str, written: str | None, used: str, direction: str
) -> None:
    locale = fmt.message_locale(tag, written)
    assert str(locale) == used
    assert fmt.text_direction(locale) == direction
