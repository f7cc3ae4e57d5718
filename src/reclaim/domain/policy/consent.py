"""Consent (SPEC S5): which messages may go to a customer, by channel, purpose, the
customer's opt-in and the country's marketing law.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from reclaim.domain.messages import Channel, Purpose


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The 30 EEA states. The ePrivacy Directive 2002/58/EC, art. 13(1), makes unsolicited
# marketing email need prior consent, with a "soft opt-in" for existing customers and similar
# products in art. 13(2); it applies in Iceland, Liechtenstein and Norway through the EEA
# Agreement (Annex XI).
EU_COUNTRIES = _codes(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
)
EEA_COUNTRIES = EU_COUNTRIES | {"IS", "LI", "NO"}

# EU territory with a code of its own: the French outermost regions (TFEU art. 349 and
# 355(1)), Saint-Martin, the Åland Islands (part of Finland), and the CLDR codes some
# platforms send for the Canary Islands (IC) and Ceuta and Melilla (EA).
_EU_TERRITORIES = frozenset({"GF", "GP", "MQ", "RE", "YT", "MF", "AX", "IC", "EA"})

# Other opt-in regimes for marketing email, each with the law it follows:
_OTHER_OPT_IN: dict[str, tuple[str, ...]] = {
    # Privacy and Electronic Communications Regulations 2003 (SI 2003/2426), reg. 22.
    "uk": ("GB",),
    # Federal Act against Unfair Competition (UWG), art. 3(1)(o).
    "ch": ("CH",),
    # Canada's Anti-Spam Legislation (CASL, S.C. 2010, c. 23), s. 6(1); the implied consent of
    # s. 10(9) (a purchase in the last two years, an inquiry in the last six months) is a
    # judgement about the store's relationship with the customer: the store makes it by
    # setting store_requires_consent=False.
    "ca": ("CA",),
    # Spam Act 2003 (Cth), s. 16: express or inferred consent.
    "au": ("AU",),
    # Unsolicited Electronic Messages Act 2007, s. 9.
    "nz": ("NZ",),
    # Act on Regulation of Transmission of Specified Electronic Mail (Act No. 26 of 2002),
    # art. 3, opt-in since the 2008 amendment.
    "jp": ("JP",),
    # Act on Promotion of Information and Communications Network Utilization and Information
    # Protection, art. 50(1) (art. 50(3) also wants a separate consent for advertising sent
    # between 21:00 and 08:00: the default SMS quiet hours in timing.py are exactly that window).
    "kr": ("KR",),
    # LGPD (Lei 13.709/2018) art. 7 bases, and the self-regulatory e-mail marketing code
    # (Código de Autorregulamentação para a Prática de E-mail Marketing, CAPEM 2009), which
    # Brazilian senders follow as opt-in practice.
    "br": ("BR",),
    # Communications (Telecommunications and Broadcasting) Law 5742-1982, s. 30A (2008).
    "il": ("IL",),
    # Protection of Personal Information Act 4 of 2013 (POPIA), s. 69.
    "za": ("ZA",),
    # Measures for the Administration of Internet E-mail Services (2006), art. 13.
    "cn": ("CN",),
    # Federal Law No. 38-FZ "On Advertising", art. 18(1).
    "ru": ("RU",),
    # Law No. 6563 on the Regulation of Electronic Commerce, art. 6.
    "tr": ("TR",),
}

# Country -> regime for marketing email that needs an opt-in. Every other known country is
# treated as an opt-out regime (US CAN-SPAM, 15 U.S.C. 7704, and the rest): marketing may go
# to a customer who has not said no.
OPT_IN_REGIMES: Mapping[str, str] = MappingProxyType(
    {
        **{c: "eu" for c in EEA_COUNTRIES | _EU_TERRITORIES},
        **{c: regime for regime, codes in _OTHER_OPT_IN.items() for c in codes},
    }
)

# ISO 3166-1 alpha-2 (the 249 assigned codes) plus Kosovo's XK; anything else is "unknown".
_KNOWN_COUNTRIES = _EU_TERRITORIES | _codes(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS XK YE YT ZA ZM ZW"""
)
_ALIASES = {"UK": "GB", "EL": "GR"}  # what people (and the EU itself, for Greece) also write


def normalise_country(country: str | None) -> str | None:
    """An upper-case ISO 3166-1 alpha-2 code, or None when ``country`` is not a known one."""
    if not isinstance(country, str):
        return None
    code = country.strip().upper()
    code = _ALIASES.get(code, code)
    return code if code in _KNOWN_COUNTRIES else None


@dataclass(frozen=True, slots=True)
class ConsentDecision:
    """Whether a message may be sent, and the rule that decided (for logs and the console)."""

    allowed: bool
    rule: str


def consent_decision(
    *,
    channel: Channel,
    purpose: Purpose,
    country: str | None,
    opted_in: bool | None,
    store_requires_consent: bool | None,
) -> ConsentDecision:
    """May a message of ``purpose`` go to this customer on ``channel``?

    ``opted_in`` is the customer's marketing consent for that channel: True (opted in),
    False (declined or unsubscribed), None (never asked, or the platform does not say).
    ``store_requires_consent`` is the store's override: True always needs an opt-in for
    marketing; False lifts the jurisdiction's opt-in requirement for marketing email (the store
    takes responsibility, e.g. for the existing-customer soft opt-in of ePrivacy art. 13(2) or
    CASL implied consent); None follows the customer's country. The override never applies to
    transactional notices, and never to SMS.

    Rules, in order:

    - Transactional email (failed payment, pending order) is always allowed: it is about an
      order the customer placed, outside marketing law (CAN-SPAM's "transactional or
      relationship message", GDPR art. 6(1)(b)); a marketing opt-out does not cover it.
    - Transactional SMS and webhook messages are allowed unless ``opted_in is False``. A
      number given for the order is consent to informational texts about it (TCPA as read
      by the FCC, 2015 Declaratory Ruling), but a "STOP" revokes consent for all texts (FCC
      2024 revocation rules), and a platform's False cannot be told apart from a STOP.
    - Marketing to a customer with ``opted_in is False`` is never allowed.
    - Marketing SMS and webhook messages (WhatsApp gateways, which Meta's policy makes opt-in)
      need ``opted_in is True`` everywhere (TCPA prior express written consent, ePrivacy).
    - Marketing email: an opt-in is enough; else the store's override decides; else opt-in
      regimes (:data:`OPT_IN_REGIMES`) and unknown or missing countries (the strictest
      reading) refuse, and opt-out regimes allow.
    """
    electronic_phone = channel in (Channel.SMS, Channel.WEBHOOK)
    if purpose == Purpose.TRANSACTIONAL:
        if electronic_phone and opted_in is False:
            return ConsentDecision(False, f"{channel}_transactional_opted_out")
        return ConsentDecision(True, f"{channel}_transactional")
    if opted_in is False:
        return ConsentDecision(False, "marketing_opted_out")
    if opted_in is True:
        return ConsentDecision(True, "marketing_opted_in")
    if electronic_phone:
        return ConsentDecision(False, f"{channel}_marketing_needs_opt_in")
    if store_requires_consent is True:
        return ConsentDecision(False, "store_requires_opt_in")
    if store_requires_consent is False:
        return ConsentDecision(True, "store_waives_opt_in")
    code = normalise_country(country)
    if code is None:
        return ConsentDecision(False, "unknown_country_marketing_needs_opt_in")
    regime = OPT_IN_REGIMES.get(code)
    if regime is not None:
        return ConsentDecision(False, f"{regime}_marketing_needs_opt_in")
    return ConsentDecision(True, "opt_out_regime")
