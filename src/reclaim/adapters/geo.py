"""Where a customer probably is in time and language, from a country (and region) code.

Both functions are total: unknown or junk input gives ``None``, never an exception. Data comes
from Babel's CLDR tables; the region tables below only cover countries spanning several time
zones, and only where platforms send a province / state code (ISO 3166-2 subdivision codes
and the spellings Shopify and WooCommerce use).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.core import get_global


def _many(codes: str, zone: str) -> dict[str, str]:
    return dict.fromkeys(codes.split(), zone)


# fmt: off
# The zone most of a multi-zone country lives in: used when no region narrows it down.
_PRIMARY = {
    "AR": "America/Argentina/Buenos_Aires", "AU": "Australia/Sydney", "BR": "America/Sao_Paulo",
    "CA": "America/Toronto", "CD": "Africa/Kinshasa", "CL": "America/Santiago",
    "CN": "Asia/Shanghai", "CY": "Asia/Nicosia", "DE": "Europe/Berlin", "EC": "America/Guayaquil",
    "ES": "Europe/Madrid", "FM": "Pacific/Pohnpei", "GL": "America/Nuuk", "ID": "Asia/Jakarta",
    "KI": "Pacific/Tarawa", "KZ": "Asia/Almaty", "MH": "Pacific/Majuro", "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City", "MY": "Asia/Kuala_Lumpur", "NZ": "Pacific/Auckland",
    "PF": "Pacific/Tahiti", "PG": "Pacific/Port_Moresby", "PS": "Asia/Hebron",
    "PT": "Europe/Lisbon", "RU": "Europe/Moscow", "UA": "Europe/Kyiv", "UM": "Pacific/Wake",
    "US": "America/New_York", "UZ": "Asia/Tashkent",
}

_US = {
    **_many("CT DE DC FL GA IN KY ME MD MA MI", "America/New_York"),
    **_many("NH NJ NY NC OH PA RI SC VT VA WV", "America/New_York"),
    **_many("AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI", "America/Chicago"),
    **_many("CO ID MT NM UT WY", "America/Denver"),
    "AZ": "America/Phoenix", "CA": "America/Los_Angeles", "NV": "America/Los_Angeles",
    "OR": "America/Los_Angeles", "WA": "America/Los_Angeles", "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
}
_CA = {
    "AB": "America/Edmonton", "BC": "America/Vancouver", "MB": "America/Winnipeg",
    "NB": "America/Moncton", "NL": "America/St_Johns", "NS": "America/Halifax",
    "NT": "America/Edmonton", "NU": "America/Iqaluit", "ON": "America/Toronto",
    "PE": "America/Halifax", "QC": "America/Toronto", "SK": "America/Regina",
    "YT": "America/Whitehorse",
}
_AU = {
    "ACT": "Australia/Sydney", "NSW": "Australia/Sydney", "NT": "Australia/Darwin",
    "QLD": "Australia/Brisbane", "SA": "Australia/Adelaide", "TAS": "Australia/Hobart",
    "VIC": "Australia/Melbourne", "WA": "Australia/Perth",
}
_BR = {
    **_many("DF ES GO MG PR RJ RS SC SP", "America/Sao_Paulo"),
    **_many("CE MA PB PI RN", "America/Fortaleza"),
    "AC": "America/Rio_Branco", "AL": "America/Maceio", "AM": "America/Manaus",
    "AP": "America/Belem", "BA": "America/Bahia", "MS": "America/Campo_Grande",
    "MT": "America/Cuiaba", "PA": "America/Belem", "PE": "America/Recife",
    "RO": "America/Porto_Velho", "RR": "America/Boa_Vista", "SE": "America/Maceio",
    "TO": "America/Araguaina",
}
# Mexico: only states off Mexico City time; ISO, Shopify and WooCommerce spellings.
_MX = {
    **dict.fromkeys(("BCN", "BC"), "America/Tijuana"),
    **dict.fromkeys(("BCS", "BS", "SIN", "SI", "NAY", "NA"), "America/Mazatlan"),
    **dict.fromkeys(("SON", "SO"), "America/Hermosillo"),
    **dict.fromkeys(("CHH", "CHIH", "CH"), "America/Chihuahua"),
    **dict.fromkeys(("ROO", "Q ROO", "QROO", "QR"), "America/Cancun"),
    **dict.fromkeys(("YUC", "YU", "CAM", "CAMP", "CM"), "America/Merida"),
    **dict.fromkeys(("NLE", "NL", "COA", "COAH", "CO", "TAM", "TAMPS", "TM"), "America/Monterrey"),
}
# Russia: only regions off Moscow time (ISO 3166-2:RU codes).
_RU = {
    "KGD": "Europe/Kaliningrad", "SAM": "Europe/Samara", "UD": "Europe/Samara",
    "AST": "Europe/Astrakhan", "SAR": "Europe/Saratov", "ULY": "Europe/Ulyanovsk",
    "VGG": "Europe/Volgograd",
    **_many("SVE CHE TYU KGN ORE PER BA KHM YAN", "Asia/Yekaterinburg"),
    "OMS": "Asia/Omsk", "NVS": "Asia/Novosibirsk", "TOM": "Asia/Tomsk",
    "ALT": "Asia/Barnaul", "AL": "Asia/Barnaul", "KEM": "Asia/Novokuznetsk",
    **_many("KYA TY KK", "Asia/Krasnoyarsk"),
    "IRK": "Asia/Irkutsk", "BU": "Asia/Irkutsk", "ZAB": "Asia/Chita",
    "SA": "Asia/Yakutsk", "AMU": "Asia/Yakutsk", "PRI": "Asia/Vladivostok",
    "KHA": "Asia/Vladivostok", "YEV": "Asia/Vladivostok", "MAG": "Asia/Magadan",
    "SAK": "Asia/Sakhalin", "KAM": "Asia/Kamchatka", "CHU": "Asia/Anadyr",
}
# fmt: on
_REGIONS = {"US": _US, "CA": _CA, "AU": _AU, "BR": _BR, "MX": _MX, "RU": _RU}
# Language to prefer over the country's majority language for a region.
_REGION_LANGUAGE = {("CA", "QC"): "fr"}


def _clean_code(value: Any, *, length: tuple[int, ...]) -> str | None:
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    if len(code) not in length or not code.isascii() or not code.replace(" ", "").isalnum():
        return None
    return code


def _country(value: Any) -> str | None:
    code = _clean_code(value, length=(2,))
    if code == "UK":
        code = "GB"
    return code if code is not None and code.isalpha() else None


def _region(value: Any, country: str) -> str | None:
    """``"CA"``, ``"us-ca"`` and ``"US-CA"`` (ISO 3166-2 with its country) all give ``"CA"``."""
    if isinstance(value, str) and value.strip().upper().startswith(country + "-"):
        value = value.strip()[3:]
    return _clean_code(value, length=(1, 2, 3, 4, 5, 6))


@lru_cache(maxsize=1)
def _zones() -> Mapping[str, list[str]]:
    zones: Mapping[str, list[str]] = get_global("territory_zones")
    return zones


def timezone_for(country: str | None, region: str | None) -> str | None:
    """The IANA zone a customer in ``country`` (ISO alpha-2), ``region`` most likely uses."""
    try:
        code = _country(country)
        if code is None or code in {"ZZ", "AQ"}:
            return None
        sub = _region(region, code)
        if sub is not None and (zone := _REGIONS.get(code, {}).get(sub)) is not None:
            return zone
        zones = _zones().get(code)
        if not zones:
            return None
        if len(zones) == 1:
            return zones[0]
        return _PRIMARY.get(code)
    except Exception:  # a lookup helper never breaks ingestion
        return None


def locale_for(country: str | None, hint: str | None, region: str | None = None) -> str | None:
    """A BCP-47 tag (``de-DE``) for the customer, from a platform hint and/or the country.

    The hint wins when it parses (``pt-BR``, ``pt_BR``, ``de``; ``auto`` is ignored); a bare
    language gets the customer's country as its region where Babel knows that combination,
    else the language's most likely region (``en`` + Japan -> ``en-US``). Without a usable hint
    the country's most likely language is used (``JP`` -> ``ja-JP``).
    """
    try:
        code = _country(country)
        parsed = _parse_hint(hint)
        if parsed is not None:
            language, hinted = parsed
            territory = hinted
            if territory is None and code is not None and _exists(language, code):
                territory = code
            if territory is None:
                territory = _likely_territory(language)
            return f"{language}-{territory}" if territory else language
        if code is None:
            return None
        preferred = _REGION_LANGUAGE.get((code, _region(region, code) or ""))
        candidates = ([preferred] if preferred else []) + _languages_of(code)
        for language in candidates:  # the first Babel can format in, with this country
            if _exists(language, code):
                return f"{language}-{code}"
        for language in candidates:  # else the first it knows at all, in its own region
            territory = _likely_territory(language)
            if territory and _exists(language, territory):
                return f"{language}-{territory}"
        return None
    except Exception:  # a lookup helper never breaks ingestion
        return None


def _parse_hint(hint: Any) -> tuple[str, str | None] | None:
    if not isinstance(hint, str):
        return None
    raw = hint.strip().replace("_", "-")
    if not raw or raw.lower() == "auto" or len(raw) > 35 or not raw.isascii():
        return None
    try:
        locale = Locale.parse(raw, sep="-")
    except Exception:  # babel raises several types for junk
        return None
    territory = locale.territory
    if territory is None and locale.script is not None:
        territory = _likely_territory(f"{locale.language}_{locale.script}")
    return locale.language, territory


@lru_cache(maxsize=2048)
def _exists(language: str, territory: str) -> bool:
    """Whether Babel can format for ``language`` in ``territory``."""
    try:
        return Locale.parse(f"{language}_{territory}").territory == territory
    except Exception:  # unknown to CLDR
        return False


def _likely_territory(language: str) -> str | None:
    likely: Mapping[str, str] = get_global("likely_subtags")
    full = likely.get(language)
    if not full:
        return None
    parts = full.split("_")
    last = parts[-1]
    return last if len(parts) > 1 and (last.isalpha() and len(last) == 2) else None


def _languages_of(territory: str) -> list[str]:
    """The territory's languages, most likely first (CLDR likely subtags, then speakers)."""
    likely: Mapping[str, str] = get_global("likely_subtags")
    full = likely.get(f"und_{territory}")
    ranked = [full.split("_")[0]] if full and not full.startswith("und") else []
    spoken: dict[str, dict[str, Any]] = get_global("territory_languages").get(territory, {})
    ranked += sorted(
        spoken,
        key=lambda lang: (
            spoken[lang].get("official_status") is not None,
            spoken[lang].get("population_percent") or 0,
        ),
        reverse=True,
    )
    return [lang for lang in dict.fromkeys(ranked) if lang != "und"]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    names: set[str] = set(get_global("zone_territories"))
    names.update(get_global("zone_aliases"))
    names.update(("UTC", "Etc/UTC", "GMT", "Etc/GMT"))
    return frozenset(names)


def canonical_timezone(name: str | None) -> str | None:
    """``name`` if it is an IANA zone CLDR knows (old aliases resolved), else ``None``."""
    if not isinstance(name, str):
        return None
    name = name.strip()
    if name not in _known_zones():
        return None
    aliases: Mapping[str, str] = get_global("zone_aliases")
    return aliases.get(name, name)
