"""Money, numbers, dates and durations in the customer's locale and time zone (Babel).

Two locale questions are answered here. *Which default template* speaks to the customer
(:func:`template_locale`: exact language among :data:`TEMPLATE_LOCALES`, any Chinese → zh-CN,
any Portuguese → pt-BR, anything else or junk → en) and *how to format* for them
(:func:`format_locale`: the most specific locale Babel knows from the tag). A message is in one
language from top to bottom (:func:`message_locale`): the customer's own formatting only where
the template is in the customer's language (de-AT reads the German template with Austrian
money formatting, pt-PT the Brazilian Portuguese one with Portuguese formatting); a customer
whose language has no template (fi-FI) gets the English template with English formatting,
never English words around a Finnish date. Nothing here ever raises: a bad tag means English,
a bad zone means UTC.

The helpers read the locale, zone, currency and send time of the render in progress
(:func:`reclaim.adapters.templates.limits.current`), so templates call ``total|money`` without
passing them, and outside a render they raise (which keeps Jinja from folding them into
constants at compile time).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, format_timedelta
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from reclaim.adapters.templates.limits import current
from reclaim.errors import InvalidInput

TEMPLATE_LOCALES = ("en", "de", "fr", "es", "zh-CN", "ja", "it", "nl", "pt-BR", "pl", "ko", "ar")
FALLBACK_LOCALE = "en"
_BY_LANGUAGE = {
    "en": "en",
    "de": "de",
    "fr": "fr",
    "es": "es",
    "ja": "ja",
    "zh": "zh-CN",
    "it": "it",
    "nl": "nl",
    "pt": "pt-BR",
    "pl": "pl",
    "ko": "ko",
    "ar": "ar",
}
_ENGLISH = Locale("en")
_LARGEST_AMOUNT = Decimal(10) ** 15
_SIZES = ("short", "medium", "long", "full")
_MAX_PATTERN = 64
_UNITS: dict[str, Literal["year", "month", "week", "day", "hour", "minute", "second"]] = {
    "year": "year",
    "month": "month",
    "week": "week",
    "day": "day",
    "hour": "hour",
    "minute": "minute",
    "second": "second",
}


@lru_cache(maxsize=512)
def format_locale(tag: str | None) -> Locale:
    """The Babel locale to format for ``tag`` (BCP 47 or POSIX style); English if unknown.

    Extensions and unknown trailing subtags are dropped one by one: ``en-US-u-ca-gregory`` →
    en_US, ``de-XX`` → de.
    """
    if not isinstance(tag, str) or not 0 < len(tag) <= 64:
        return _ENGLISH
    subtags = tag.strip().replace("_", "-").split("-")
    for index, subtag in enumerate(subtags):
        if len(subtag) == 1:  # a singleton starts an extension (-u-, -x-)
            subtags = subtags[:index]
            break
    while subtags:
        try:
            return Locale.parse("-".join(subtags), sep="-")
        except (ValueError, TypeError, UnknownLocaleError):
            subtags = subtags[:-1]
    return _ENGLISH


def template_locale(tag: str | None) -> str:
    """Which of :data:`TEMPLATE_LOCALES` a customer with locale ``tag`` reads."""
    return _BY_LANGUAGE.get(format_locale(tag).language, FALLBACK_LOCALE)


@lru_cache(maxsize=512)
def message_locale(tag: str | None, written: str | None = None) -> Locale:
    """The one locale a message to a ``tag`` customer is written *and* formatted in.

    ``written`` is the locale of the template chosen (by default the default template's,
    :func:`template_locale`). The customer's own formatting is kept where the template is in
    the customer's language (de-AT with the de template → de_AT; zh-TW with zh-CN → zh_Hant_TW);
    otherwise the template's locale formats too (fi-FI with the en template → en), so words,
    dates, money and numbers never come from two languages.
    """
    customer = format_locale(tag)
    template = format_locale(written if written is not None else template_locale(tag))
    return customer if customer.language == template.language else template


def text_direction(locale: Locale) -> Literal["ltr", "rtl"]:
    """``rtl`` for right-to-left scripts (Arabic, Hebrew, Persian …), else ``ltr``."""
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def locale_tag(locale: Locale) -> str:
    """``Locale('zh', script='Hant', territory='TW')`` → ``"zh-Hant-TW"``."""
    return "-".join(part for part in (locale.language, locale.script, locale.territory) if part)


def override_locales(tag: str | None) -> list[str]:
    """Locales to look up a merchant's own template under, most specific first.

    de-AT → de-AT, de; zh-TW → zh-Hant-TW, zh-TW, zh, zh-CN; junk → en. A merchant's
    English template is not used for a German reader: the German default is.
    """
    locale = format_locale(tag)
    candidates = [locale_tag(locale)]
    if locale.territory:
        candidates.append(f"{locale.language}-{locale.territory}")
    candidates += [locale.language, template_locale(tag)]
    return list(dict.fromkeys(candidates))


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``, or UTC when it is missing or unknown."""
    if isinstance(name, str) and 0 < len(name) <= 64:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return ZoneInfo("UTC")


def _decimal(value: object, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"template {what}() expects a number, not a boolean")
    try:
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int | float | str):
            number = Decimal(str(value).strip())
        else:
            raise InvalidInput(f"template {what}() expects a number, not {type(value).__name__}")
    except InvalidOperation:
        raise InvalidInput(f"template {what}() expects a number, got {str(value)[:20]!r}") from None
    if not number.is_finite() or abs(number) >= _LARGEST_AMOUNT:
        raise InvalidInput(f"template {what}() only formats finite numbers below 10^15")
    return number


def _currency_code(value: object) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise InvalidInput(f"template money() needs a three-letter currency code, got {value!r}")
    return value.upper()


@lru_cache(maxsize=8192)
def _money(amount: str, currency: str, locale: Locale) -> str:
    return format_currency(Decimal(amount), currency, locale=locale)


def money(amount: object, currency: str | None = None) -> str:
    """``1234.56|money`` → "1.234,56 €" for de-DE in EUR; ``currency`` defaults to the case's."""
    number = _decimal(amount, "money")
    if number is None:
        return ""
    state = current()
    code = _currency_code(currency if currency is not None else state.currency)
    return _money(str(number), code, state.locale)


def number(value: object, decimals: int | None = None) -> str:
    """A localised number; ``decimals`` fixes the number of fraction digits (0-10)."""
    parsed = _decimal(value, "number")
    if parsed is None:
        return ""
    state = current()
    if decimals is None:
        return format_decimal(parsed, locale=state.locale)
    if not isinstance(decimals, int) or not 0 <= decimals <= 10:
        raise InvalidInput("template number() decimals must be between 0 and 10")
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(parsed, format=pattern, locale=state.locale)


def percent(value: object) -> str:
    """A fraction as a localised percentage: 0.1 → "10 %" (de), "10%" (en), 0.125 → "12.5%"."""
    parsed = _decimal(value, "percent")
    if parsed is None:
        return ""
    return format_percent(parsed, locale=current().locale, decimal_quantization=False)


def _local(value: object, what: str) -> datetime | date:
    """An aware datetime in the customer's zone (naive ones are taken as UTC), or a date."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(current().tz)
    if isinstance(value, date):
        return value
    raise InvalidInput(f"template {what}() expects a date or datetime, not {type(value).__name__}")


def _pattern(fmt: object, what: str) -> str:
    if not isinstance(fmt, str) or not 0 < len(fmt) <= _MAX_PATTERN:
        raise InvalidInput(
            f"template {what}() format must be short, medium, long, full or a pattern"
        )
    return fmt


def date_(value: object, format: str = "medium") -> str:
    """The customer's local date: ``dt|date`` → "May 2, 2026" (en), "02.05.2026" (de)."""
    if value is None:
        return ""
    return format_date(_local(value, "date"), _pattern(format, "date"), locale=current().locale)


def time_(value: object, format: str = "short") -> str:
    """The customer's local time of day: "7:30 AM" (en-US), "07:30" (de)."""
    if value is None:
        return ""
    local = _local(value, "time")
    if not isinstance(local, datetime):
        raise InvalidInput("template time() expects a datetime")
    return format_time(local, _pattern(format, "time"), locale=current().locale)


def datetime_(value: object, format: str = "medium") -> str:
    """Local date and time without seconds: "May 2, 2026, 7:30 AM" (en), "2 mai 2026, 07:30".

    ``format`` short/medium/long/full sizes the date part (the time is always short); any
    other value is a CLDR pattern.
    """
    if value is None:
        return ""
    local = _local(value, "datetime")
    locale = current().locale
    fmt = _pattern(format, "datetime")
    if not isinstance(local, datetime):
        return format_date(local, fmt if fmt in _SIZES else "medium", locale=locale)
    if fmt not in _SIZES:
        return babel_format_datetime(local, fmt, locale=locale)
    glue = str(locale.datetime_formats.get(fmt) or "{1} {0}").replace("'", "")
    return glue.replace("{0}", format_time(local, "short", locale=locale)).replace(
        "{1}", format_date(local, fmt, locale=locale)
    )


def timedelta_(
    value: object, granularity: str = "minute", threshold: float = 2.5, direction: bool = True
) -> str:
    """How long until ``value`` (a datetime, from the send time) or for ``value`` (a timedelta).

    With the default threshold 48 h reads "in 48 hours" rather than "in 2 days"; ``direction``
    False drops the "in …/… ago". A datetime with no send time known renders empty.
    """
    state = current()
    if value is None:
        return ""
    if isinstance(value, datetime):
        if state.now is None:
            return ""
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        delta = aware - state.now
    elif isinstance(value, timedelta):
        delta = value
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        delta = timedelta(seconds=float(value))
    else:
        raise InvalidInput(
            f"template timedelta() expects a datetime or duration, not {type(value).__name__}"
        )
    unit = _UNITS.get(granularity)
    if unit is None:
        raise InvalidInput("template timedelta() granularity must be a unit such as 'minute'")
    return format_timedelta(
        delta,
        granularity=unit,
        threshold=float(threshold),
        add_direction=bool(direction),
        locale=state.locale,
    )


def country(code: object) -> str:
    """An ISO 3166 country code's name in the customer's language: FR → "Frankreich" (de)."""
    if not isinstance(code, str) or not code:
        return ""
    names: Any = current().locale.territories
    return str(names.get(code.strip().upper(), code))


HELPERS: dict[str, Callable[..., str]] = {
    "money": money,
    "number": number,
    "percent": percent,
    "date": date_,
    "time": time_,
    "datetime": datetime_,
    "timedelta": timedelta_,
    "country": country,
}

__all__ = [
    "FALLBACK_LOCALE",
    "HELPERS",
    "TEMPLATE_LOCALES",
    "format_locale",
    "locale_tag",
    "message_locale",
    "override_locales",
    "template_locale",
    "text_direction",
    "zone",
]
