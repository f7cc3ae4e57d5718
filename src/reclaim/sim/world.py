"""The simulated world: currencies, countries, the four demo stores and their catalogues.

Everything here is fixed data or is drawn from the ``random.Random`` the caller passes, so a
seed always yields the same world.

Exchange rates (:data:`RATES`) are **fixed demo rates**, rounded from the ECB's 2024 average
euro reference rates; they make the demo reproducible and let it sum revenue in euros, and
are not for accounting. Local prices are the euro list price converted with them and rounded
to a local price point (see :func:`local_price`).

Store domains use the reserved ``.example`` top-level domain (RFC 2606). The people who
shop are in :mod:`reclaim.sim.people`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from reclaim.domain.money import exponent

#: 1 EUR = RATES[code] units of ``code`` (fixed, see the module docstring).
RATES: dict[str, Decimal] = {
    "EUR": Decimal("1"),
    "USD": Decimal("1.08"),
    "GBP": Decimal("0.85"),
    "JPY": Decimal("164"),
    "CNY": Decimal("7.79"),
    "BRL": Decimal("5.83"),
    "AUD": Decimal("1.64"),
    "CAD": Decimal("1.48"),
    "MXN": Decimal("19.83"),
}


def store_rates(currency: str) -> dict[str, Decimal]:
    """A demo store's ``fx_rates`` setting: units of its own ``currency`` for one unit of
    each other currency of :data:`RATES`, so its report converts every order and names the
    currencies it converted. Source: the same fixed demo rates (rounded from the ECB's 2024
    average euro reference rates, https://www.ecb.europa.eu/stats/policy_and_exchange_rates/
    euro_reference_exchange_rates/), crossed through the euro and rounded to 6 significant
    digits; e.g. in a USD store GBP = 1.08 / 0.85 = 1.27059."""
    mine = RATES[currency]
    return {code: Decimal(f"{mine / rate:.6g}") for code, rate in RATES.items() if code != currency}


def to_eur(amount: Decimal, currency: str) -> Decimal:
    """``amount`` of ``currency`` in euros at the fixed demo rate, to the cent."""
    return (amount / RATES[currency]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def local_price(eur: Decimal, currency: str) -> Decimal:
    """A euro list price as a local price point: ``x.99``-style, or whole tens of yen."""
    if currency == "EUR":
        return eur
    raw = eur * RATES[currency]
    if exponent(currency) == 0:
        step = Decimal(100) if raw >= 1000 else Decimal(10)
        return (raw / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step
    whole = raw.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return whole - Decimal("0.01") if whole >= 5 else quantize(raw, currency)


# -- countries ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Region:
    """Where in a country: the subdivision code platforms send and its IANA time zone."""

    code: str | None
    timezone: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    locale: str
    currency: str
    weight: float  # share of the demo's customers, relative
    regions: tuple[Region, ...]
    first_names: tuple[tuple[str, str], ...]  # (as written, ASCII for the e-mail address)
    last_names: tuple[tuple[str, str], ...]
    phone_share: float  # customers who leave a phone number
    # Of those asked, how many tick "e-mail me offers". Assumption: the demo's shops ask at
    # checkout, and most of their European customers (where marketing needs an opt-in) say
    # yes; elsewhere about half do.
    email_consent: float
    async_method: str | None = None  # a pay-later method popular there (boleto, konbini, …)
    async_share: float = 0.03  # share of orders paid with it
    zone: str = "world"  # shipping zone

    @property
    def language(self) -> str:
        return self.locale.split("-")[0]


def _n(*names: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, ascii_name(n)) for n in names)


def _pairs(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return pairs


def ascii_name(name: str) -> str:
    out = name.lower().replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    out = unicodedata.normalize("NFKD", out).encode("ascii", "ignore").decode()
    return "".join(ch for ch in out if ch.isalnum())


R = Region
# fmt: off
COUNTRIES: tuple[Country, ...] = (
    Country(
        "US", "en-US", "USD", 22,
        (R("NY", "America/New_York", 3), R("FL", "America/New_York", 2),
         R("TX", "America/Chicago", 2), R("IL", "America/Chicago", 1),
         R("CO", "America/Denver", 1), R("CA", "America/Los_Angeles", 3),
         R("WA", "America/Los_Angeles", 1)),
        _n("Emma", "Liam", "Olivia", "Noah", "Ava", "Mason", "Sophia", "Ethan"),
        _n("Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Lee"),
        0.55, 0.6, "bank_transfer", 0.02, "north_america",
    ),
    Country(
        "GB", "en-GB", "GBP", 10, (R(None, "Europe/London"),),
        _n("Oliver", "Amelia", "George", "Isla", "Harry", "Freya", "Jack", "Poppy"),
        _n("Bennett", "Clarke", "Wright", "Taylor", "Evans", "Hughes", "Walker", "Wood"),
        0.5, 0.65, "bank_transfer", 0.03, "uk",
    ),
    Country(
        "DE", "de-DE", "EUR", 11,
        (R("BY", "Europe/Berlin"), R("BE", "Europe/Berlin"), R("NW", "Europe/Berlin")),
        _n("Lena", "Jonas", "Mia", "Felix", "Hannah", "Lukas", "Emilia", "Paul"),
        _n("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann"),
        0.35, 0.75, "bank_transfer", 0.10, "eu",
    ),
    Country(
        "FR", "fr-FR", "EUR", 8, (R(None, "Europe/Paris"),),
        _n("Camille", "Louis", "Chloé", "Hugo", "Léa", "Gabriel", "Manon", "Arthur"),
        _n("Dubois", "Martin", "Bernard", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux"),
        0.45, 0.70, "bank_transfer", 0.03, "eu",
    ),
    Country(
        "ES", "es-ES", "EUR", 5, (R(None, "Europe/Madrid"),),
        _n("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Julia", "Daniel"),
        _n("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"),
        0.5, 0.72, "bank_transfer", 0.03, "eu",
    ),
    Country(
        "IT", "it-IT", "EUR", 4, (R(None, "Europe/Rome"),),
        _n("Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro"),
        _n("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"),
        0.5, 0.72, "bank_transfer", 0.03, "eu",
    ),
    Country(
        "NL", "nl-NL", "EUR", 3, (R(None, "Europe/Amsterdam"),),
        _n("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess"),
        _n("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser"),
        0.45, 0.72, "bank_transfer", 0.05, "eu",
    ),
    Country(
        "JP", "ja-JP", "JPY", 7, (R(None, "Asia/Tokyo"),),
        _pairs(("陽翔", "haruto"), ("結衣", "yui"), ("蓮", "ren"), ("陽菜", "hina"),
               ("湊", "minato"), ("芽依", "mei")),
        _pairs(("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
               ("伊藤", "ito"), ("渡辺", "watanabe")),
        0.4, 0.5, "konbini", 0.12, "asia",
    ),
    Country(
        "CN", "zh-CN", "CNY", 5, (R(None, "Asia/Shanghai"),),
        _pairs(("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
               ("磊", "lei")),
        _pairs(("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
               ("杨", "yang")),
        0.7, 0.5, None, 0.0, "asia",
    ),
    Country(
        "BR", "pt-BR", "BRL", 10,
        (R("SP", "America/Sao_Paulo", 4), R("RJ", "America/Sao_Paulo", 2),
         R("MG", "America/Sao_Paulo", 2), R("PE", "America/Recife", 1),
         R("AM", "America/Manaus", 1)),
        _n("Ana", "Pedro", "Beatriz", "Lucas", "Mariana", "Gabriel", "Júlia", "Rafael"),
        _n("Souza", "Oliveira", "Santos", "Lima", "Costa", "Pereira", "Almeida", "Ferreira"),
        0.7, 0.6, "boleto", 0.19, "latam",
    ),
    Country(
        "AU", "en-AU", "AUD", 6,
        (R("NSW", "Australia/Sydney", 3), R("VIC", "Australia/Melbourne", 3),
         R("QLD", "Australia/Brisbane", 2), R("WA", "Australia/Perth", 1)),
        _n("Charlotte", "Oliver", "Amelia", "Jack", "Isla", "William"),
        _n("Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor"),
        0.5, 0.55, "bank_transfer", 0.02, "oceania",
    ),
    Country(
        "CA", "en-CA", "CAD", 5,
        (R("ON", "America/Toronto", 3), R("QC", "America/Toronto", 2),
         R("BC", "America/Vancouver", 2), R("AB", "America/Edmonton", 1)),
        _n("Olivia", "Noah", "Emma", "Liam", "Charlotte", "William"),
        _n("Tremblay", "Martin", "Roy", "Wilson", "MacDonald", "Gagnon"),
        0.5, 0.55, "bank_transfer", 0.02, "north_america",
    ),
    Country(
        "MX", "es-MX", "MXN", 4, (R(None, "America/Mexico_City"),),
        _n("Sofía", "Santiago", "Valentina", "Mateo", "Regina", "Sebastián"),
        _n("Hernández", "García", "Martínez", "López", "González", "Rodríguez"),
        0.6, 0.55, "bank_transfer", 0.05, "latam",
    ),
)
# fmt: on
COUNTRY = {c.code: c for c in COUNTRIES}


# -- stores and catalogues ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price_eur: Decimal
    product_id: int
    variant_id: int

    def price(self, currency: str) -> Decimal:
        return local_price(self.price_eur, currency)


@dataclass(frozen=True, slots=True)
class StoreSpec:
    """One demo store, connected to Reclaim through its own platform."""

    key: str  # shopify | woocommerce | stripe | custom (also the platform name)
    name: str
    currency: str
    timezone: str
    domain: str
    weight: float  # share of customers
    catalogue: tuple[Product, ...]
    test_domain: str  # the merchant's staff test orders use addresses at this domain
    test_email: str
    postal_address: str = ""  # the footer of every email (the law wants one)

    @property
    def support_email(self) -> str:
        return f"help@{self.domain}"

    @property
    def platform(self) -> str:
        return self.key

    def image_url(self, product: Product) -> str:
        return f"https://{self.domain}/cdn/products/{product.sku.lower()}.jpg"

    def product_url(self, product: Product) -> str:
        return f"https://{self.domain}/products/{product.sku.lower()}"


def _p(sku: str, name: str, eur: str, pid: int) -> Product:
    return Product(sku, name, Decimal(eur), pid, pid * 10 + 1)


# fmt: off
STORES: tuple[StoreSpec, ...] = (
    StoreSpec(
        "shopify", "Nordwolle", "EUR", "Europe/Berlin", "nordwolle.example", 0.35,
        (_p("MER-CREW", "Merino crew sweater", "89.90", 8123450001),
         _p("MER-SOCK", "Merino hiking socks (2 pairs)", "24.90", 8123450002),
         _p("ALP-BEAN", "Alpaca beanie", "34.90", 8123450003),
         _p("DWN-VEST", "Lightweight down vest", "129.00", 8123450004),
         _p("WOL-THRW", "Lambswool throw", "79.00", 8123450005),
         _p("SLK-LINR", "Silk sleeping-bag liner", "59.90", 8123450006)),
        "qa.example.net", "owner@nordwolle.example", "Nordwolle GmbH, Torstraße 1, 10119 Berlin",
    ),
    StoreSpec(
        "woocommerce", "Rösterei Sonnenhang", "EUR", "Europe/Vienna", "sonnenhang.example", 0.25,
        (_p("ESP-1KG", "Espresso beans 1 kg", "32.50", 101),
         _p("ETH-250", "Ethiopia Guji filter coffee 250 g", "14.90", 102),
         _p("MOE-MAN", "Hand grinder, steel burrs", "119.00", 103),
         _p("KAN-350", "Milk jug 350 ml", "24.00", 104),
         _p("FLT-100", "Paper filters (100)", "5.90", 105)),
        "qa.example.net", "kasse@sonnenhang.example",
        "Rösterei Sonnenhang KG, Sonnenweg 5, 1070 Wien",
    ),
    StoreSpec(
        "stripe", "Lumen Prints", "USD", "America/New_York", "lumen-prints.example", 0.20,
        (_p("PRT-A3-MTN", "Fine-art print A3, Mountains", "39.00", 201),
         _p("PRT-A2-SEA", "Fine-art print A2, Sea", "59.00", 202),
         _p("FRM-A3-OAK", "Oak frame A3", "45.00", 203),
         _p("CAL-2027", "Wall calendar 2027", "24.00", 204)),
        "qa.example.net", "studio@lumen-prints.example",
        "Lumen Prints LLC, 100 Example Ave, Brooklyn, NY 11201",
    ),
    StoreSpec(
        "custom", "Kumo Ceramics", "JPY", "Asia/Tokyo", "kumo-ceramics.example", 0.20,
        (_p("CUP-YUN", "Yunomi tea cup", "28.00", 301),
         _p("BWL-MAT", "Matcha bowl", "64.00", 302),
         _p("TPT-KYU", "Kyusu teapot", "96.00", 303),
         _p("PLT-SET", "Plate set (4)", "72.00", 304),
         _p("VAS-IKB", "Ikebana vase", "110.00", 305)),
        "qa.example.net", "shop@kumo-ceramics.example",
        "Kumo Ceramics K.K., 1-1 Example-cho, Shibuya, Tokyo 150-0001",
    ),
)
# fmt: on
STORE = {s.key: s for s in STORES}

# Shipping shown at checkout, in euros, by zone; free above FREE_SHIPPING_EUR.
SHIPPING_EUR = {
    "eu": Decimal("4.90"),
    "uk": Decimal("7.90"),
    "north_america": Decimal("12.90"),
    "latam": Decimal("14.90"),
    "asia": Decimal("11.90"),
    "oceania": Decimal("14.90"),
    "world": Decimal("14.90"),
}
FREE_SHIPPING_EUR = Decimal("150")
