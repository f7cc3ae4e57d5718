"""Time zone and locale guesses from country / region / platform hints."""

from __future__ import annotations

from typing import Any

import pytest
from babel import Locale
from babel.core import get_global
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.adapters.geo import canonical_timezone, locale_for, timezone_for


@pytest.mark.parametrize(
    ("country", "region", "zone"),
    [
        ("DE", None, "Europe/Berlin"),
        ("de", "BY", "Europe/Berlin"),
        ("JP", "JP-13", "Asia/Tokyo"),
        ("GB", None, "Europe/London"),
        ("UK", None, "Europe/London"),
        ("FR", None, "Europe/Paris"),
        ("US", "CA", "America/Los_Angeles"),
        ("US", "US-TX", "America/Chicago"),
        ("US", "co", "America/Denver"),
        ("US", "AZ", "America/Phoenix"),
        ("US", "HI", "Pacific/Honolulu"),
        ("US", None, "America/New_York"),
        ("US", "ZZ", "America/New_York"),
        ("CA", "BC", "America/Vancouver"),
        ("CA", "QC", "America/Toronto"),
        ("CA", "NL", "America/St_Johns"),
        ("AU", "WA", "Australia/Perth"),
        ("AU", "QLD", "Australia/Brisbane"),
        ("AU", None, "Australia/Sydney"),
        ("BR", "AM", "America/Manaus"),
        ("BR", "SP", "America/Sao_Paulo"),
        ("BR", None, "America/Sao_Paulo"),
        ("MX", "BC", "America/Tijuana"),
        ("MX", "Q ROO", "America/Cancun"),
        ("MX", "JAL", "America/Mexico_City"),
        ("RU", "NVS", "Asia/Novosibirsk"),
        ("RU", "KGD", "Europe/Kaliningrad"),
        ("RU", "PRI", "Asia/Vladivostok"),
        ("RU", None, "Europe/Moscow"),
        ("ES", None, "Europe/Madrid"),
        ("CN", None, "Asia/Shanghai"),
        ("ID", None, "Asia/Jakarta"),
    ],
)
def test_timezone_for(country: str, region: str | None, zone: str) -> None:
    assert timezone_for(country, region) == zone


@pytest.mark.parametrize(
    ("country", "region"),
    [(None, None), ("", None), ("XX", None), ("ZZ", None), ("AQ", None), ("DEU", "BY"),
     ("1", None), (42, None), ("DE", ["BY"]), ("  ", "  ")],
)  # fmt: skip
def test_timezone_for_unknown_is_none(country: Any, region: Any) -> None:
    expected = "Europe/Berlin" if country == "DE" else None
    assert timezone_for(country, region) == expected


def test_every_territory_gets_a_real_zone() -> None:
    known = set(get_global("zone_territories")) | set(get_global("zone_aliases"))
    for territory in get_global("territory_zones"):
        zone = timezone_for(territory, None)
        if territory in {"001", "ZZ", "AQ"}:
            assert zone is None
            continue
        assert zone in known, territory


@pytest.mark.parametrize(
    ("country", "hint", "locale"),
    [
        ("DE", None, "de-DE"),
        ("JP", None, "ja-JP"),
        ("BR", None, "pt-BR"),
        ("CN", None, "zh-CN"),
        ("TW", None, "zh-TW"),
        ("US", None, "en-US"),
        ("CA", None, "en-CA"),
        ("CH", None, "de-CH"),
        ("GB", None, "en-GB"),
        ("DE", "de", "de-DE"),
        ("AT", "de", "de-AT"),
        ("BR", "pt", "pt-BR"),
        ("PT", "pt", "pt-PT"),
        (None, "pt", "pt-BR"),
        ("US", "es", "es-US"),
        ("JP", "en", "en-US"),  # no en-JP locale: the language's own likely region
        ("FR", "fr_CA", "fr-CA"),
        ("CN", "zh-Hans", "zh-CN"),
        (None, "zh-TW", "zh-TW"),
        ("KR", "ko-KR", "ko-KR"),
        ("US", "auto", "en-US"),
        ("US", "", "en-US"),
        ("DE", "klingon", "de-DE"),
        ("XX", "klingon", None),
        ("AQ", None, None),
        ("VU", None, "en-VU"),  # Bislama first, but Babel has no data for it
        (None, None, None),
    ],
)
def test_locale_for(country: str | None, hint: str | None, locale: str | None) -> None:
    assert locale_for(country, hint) == locale


def test_quebec_prefers_french() -> None:
    assert locale_for("CA", None, "QC") == "fr-CA"
    assert locale_for("CA", None, "ON") == "en-CA"
    assert locale_for("CA", "en", "QC") == "en-CA"  # an explicit hint still wins


def test_every_locale_for_a_country_is_one_babel_can_format_in() -> None:
    for territory in get_global("territory_zones"):
        tag = locale_for(territory, None)
        if tag is not None:
            Locale.parse(tag, sep="-")


def test_canonical_timezone() -> None:
    assert canonical_timezone("Europe/Berlin") == "Europe/Berlin"
    assert canonical_timezone(" Asia/Calcutta ") == "Asia/Kolkata"
    assert canonical_timezone("Mars/Olympus") is None
    assert canonical_timezone(None) is None


@settings(max_examples=300, deadline=None)
@given(
    country=st.none() | st.text(max_size=6) | st.integers() | st.sampled_from(["US", "RU", "BR"]),
    region=st.none() | st.text(max_size=8) | st.lists(st.text(max_size=2), max_size=2),
    hint=st.none() | st.text(max_size=40) | st.sampled_from(["de-DE", "zh-Hant-HK", "x-klingon"]),
)
def test_never_raises(country: Any, region: Any, hint: Any) -> None:
    zone = timezone_for(country, region)
    locale = locale_for(country, hint, region)
    assert zone is None or isinstance(zone, str)
    assert locale is None or isinstance(locale, str)
