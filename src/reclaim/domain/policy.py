"""Who may be messaged, and when (SPEC S5): consent, quiet hours, frequency cap, complaint
rate, suppression keys and retry backoff.

Every function is pure: the flow engine passes the instant it is deciding for and gets an
instant or a decision back. Nothing here reads the clock or a database.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from reclaim.domain.messages import Channel, Purpose
from reclaim.errors import InvalidInput


def _aware(value: datetime, field: str) -> datetime:
    if value.utcoffset() is None:
        raise InvalidInput(f"{field} must be an aware datetime", field=field)
    return value


# --- consent --------------------------------------------------------------------------------


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
    # between 21:00 and 08:00: the default SMS quiet hours below are exactly that window).
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


# --- quiet hours ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window of local wall-clock time, ``start`` inclusive, ``end`` exclusive.

    ``start > end`` crosses midnight (21:00–08:00); ``start == end`` is an empty window.
    Times are naive wall-clock readings; seconds count, microseconds are refused.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None or value.microsecond:
                raise InvalidInput(f"quiet hours {name} must be a naive time", field=name)

    def contains(self, local: time) -> bool:
        """Whether the wall-clock reading ``local`` falls inside the window."""
        local = local.replace(tzinfo=None, fold=0)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


# SMS 21:00–08:00 and email 22:00–07:00 (SPEC S5). Webhook messages mostly reach a phone
# (WhatsApp gateways), so they keep the SMS window.
DEFAULT_QUIET_HOURS: Mapping[Channel, QuietHours] = MappingProxyType(
    {
        Channel.SMS: QuietHours(time(21), time(8)),
        Channel.EMAIL: QuietHours(time(22), time(7)),
        Channel.WEBHOOK: QuietHours(time(21), time(8)),
    }
)


def zone(tz: str | None) -> tzinfo:
    """The IANA zone ``tz``; UTC for None, an empty, malformed or unknown name. Never raises."""
    if not isinstance(tz, str) or not tz:
        return UTC
    try:
        return ZoneInfo(tz)
    except (ValueError, KeyError, OSError, TypeError):  # ZoneInfoNotFoundError: a KeyError
        return UTC


def _first_instant_at(day: date, wall: time, tz: tzinfo, *, after: datetime) -> datetime:
    """The first UTC instant later than ``after`` at which the clock in ``tz`` reads ``wall``
    on ``day``; when ``wall`` does not exist that day (a spring-forward gap), the instant the
    gap ends, i.e. the first valid local time after it."""
    candidates = []
    for fold in (0, 1):
        local = datetime.combine(day, wall, tzinfo=tz).replace(fold=fold)
        instant = local.astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
            instant = _gap_end(day, wall, tz)
        if instant > after:
            candidates.append(instant)
    return min(candidates, default=after)


def _gap_end(day: date, wall: time, tz: tzinfo) -> datetime:
    """The transition instant of the gap that swallows ``wall`` on ``day`` in ``tz``.

    fold=1 reads the missing time with the offset after the transition, which lands before
    it; fold=0 with the offset before, which lands after it. Transitions fall on whole
    seconds, so a binary search over the seconds between the two finds it exactly.
    """
    local = datetime.combine(day, wall, tzinfo=tz)
    low = int(local.replace(fold=1).timestamp())  # before the transition
    high = int(local.replace(fold=0).timestamp())  # after it
    if low > high:
        low, high = high, low
    offset_after = datetime.fromtimestamp(high, tz).utcoffset()
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == offset_after:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def release_after_quiet_hours(
    at: datetime, *, tz: str | None, quiet: QuietHours | None
) -> datetime:
    """``at`` itself when the customer's local time is outside ``quiet``, else the UTC
    instant the window ends in zone ``tz``.

    Local time is what the customer's clock reads, so on the night clocks fall back the
    repeated hour counts twice. A window end that does not exist that day (it falls in a
    spring-forward gap) moves to the first valid local time after the gap. An unknown or
    malformed zone is read as UTC (:func:`zone`); None for ``quiet`` means no quiet hours.
    Raises :class:`InvalidInput` only for a naive ``at``.
    """
    _aware(at, "at")
    if quiet is None:
        return at
    tz_info = zone(tz)
    instant = at
    # One round almost always: a second only when the first valid time after a gap is itself
    # inside the window (a window of nearly 24 h, or Samoa skipping 30 December 2011).
    for _ in range(3):
        local = instant.astimezone(tz_info)
        if not quiet.contains(local.time()):
            return instant
        day = local.date()
        if quiet.start > quiet.end and local.time() >= quiet.start:
            day += timedelta(days=1)  # the window opened this evening and ends tomorrow
        instant = _first_instant_at(day, quiet.end, tz_info, after=instant.astimezone(UTC))
    return instant


# --- frequency cap --------------------------------------------------------------------------

FREQUENCY_CAP = timedelta(hours=16)  # one message per customer per 16 h, all channels (S5)


def release_after_cap(
    at: datetime, *, last_sent_at: datetime | None, cap: timedelta = FREQUENCY_CAP
) -> datetime:
    """The earliest instant ≥ ``at`` that is at least ``cap`` after ``last_sent_at``.

    ``last_sent_at`` is the customer's last message on any channel (the cap is shared); None
    when there was none. Raises :class:`InvalidInput` for a negative cap or naive datetimes.
    """
    _aware(at, "at")
    if cap < timedelta(0):
        raise InvalidInput("frequency cap must not be negative", field="cap")
    if last_sent_at is None:
        return at
    return max(at, _aware(last_sent_at, "last_sent_at") + cap)


_FIXED_POINT_ROUNDS = 8


def earliest_send(
    at: datetime,
    *,
    tz: str | None,
    quiet: QuietHours | None,
    last_sent_at: datetime | None,
    cap: timedelta = FREQUENCY_CAP,
) -> datetime:
    """The earliest instant ≥ ``at`` outside the quiet hours and past the frequency cap.

    A cap release may land in the quiet hours and a quiet-hours release could, in principle,
    land before the cap: the two are applied in turn until neither moves the instant. Both
    only move forward and the cap is settled after its first application, so this ends in two
    rounds; the loop is bounded all the same.
    """
    instant = at
    for _ in range(_FIXED_POINT_ROUNDS):
        moved = release_after_cap(instant, last_sent_at=last_sent_at, cap=cap)
        moved = release_after_quiet_hours(moved, tz=tz, quiet=quiet)
        if moved == instant:
            break
        instant = moved
    return instant


# --- complaint rate -------------------------------------------------------------------------

ALERT_RATE = 0.001  # 0.1 % (SPEC S5; Gmail's and Yahoo's sender guidance: stay below 0.1 %)
PAUSE_RATE = 0.003  # 0.3 % (Gmail's and Yahoo's 2024 bulk-sender limit: never reach it)
MIN_SENT = 1000


def complaint_state(
    *,
    sent: int,
    complaints: int,
    alert_rate: float = ALERT_RATE,
    pause_rate: float = PAUSE_RATE,
    min_sent: int = MIN_SENT,
) -> Literal["ok", "alert", "pause"]:
    """A store's sending state: "pause" at a complaint rate ≥ ``pause_rate``, "alert" at
    ≥ ``alert_rate``, else "ok".

    The rate is ``complaints / max(sent, min_sent)``: a small sample is measured as if it
    were ``min_sent`` messages. A rate from a handful of messages says little (1 complaint
    in 20 is "5 %"), so below ``min_sent`` it is the complaints alone that count: with the
    defaults one complaint raises an alert (an operator looks) and three pause the store,
    however few messages went out, because three complaints in under a thousand messages is
    already at the 0.3 % line and any smaller denominator is worse. From ``min_sent`` on it is
    the plain rate. Boundaries are exact (rational arithmetic on the rates' decimal text).

    ``complaints`` may exceed ``sent``: feedback loops report late, so complaints about an
    earlier window land in this one. Raises :class:`InvalidInput` for negative counts, rates
    outside (0, 1] or an alert rate above the pause rate.
    """
    bounds = (("sent", sent, 0), ("complaints", complaints, 0), ("min_sent", min_sent, 1))
    for name, value, least in bounds:
        if value < least:
            raise InvalidInput(f"{name} must be at least {least}", field=name)
    alert, pause = Fraction(str(alert_rate)), Fraction(str(pause_rate))
    if not 0 < alert <= pause <= 1:
        raise InvalidInput("rates must satisfy 0 < alert ≤ pause ≤ 1", field="alert_rate")
    rate = Fraction(complaints, max(sent, min_sent))
    if rate >= pause:
        return "pause"
    if rate >= alert:
        return "alert"
    return "ok"


# --- suppression ----------------------------------------------------------------------------

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def normalise_address(channel: Channel, address: str) -> str:
    """The form of ``address`` a suppression entry is keyed on.

    Email: Unicode NFC, surrounding whitespace stripped, lower-cased (local parts are
    case-sensitive in RFC 5321 but no mailbox provider treats them so). Gmail's dots and
    ``+tags`` are deliberately not removed: ``j.doe@`` and ``jdoe@`` are one mailbox at Gmail
    but two people at most other providers, and merging them would suppress someone who never
    asked. Phone (SMS): E.164 as given, whitespace stripped (numbers are normalised to E.164
    where they enter). Webhook: the target as given, stripped. Raises :class:`InvalidInput`
    for an email without ``@`` or a phone that is not E.164.
    """
    value = unicodedata.normalize("NFC", address).strip()
    if channel == Channel.EMAIL:
        value = value.lower()
        if "@" not in value.strip("@"):
            raise InvalidInput("not an email address", field="address")
    elif channel == Channel.SMS:
        if not _E164.fullmatch(value):
            raise InvalidInput("phone numbers must be E.164 (+4915123456789)", field="address")
    elif not value:
        raise InvalidInput("address must not be empty", field="address")
    return value


def suppression_key(channel: Channel, address: str) -> str:
    """SHA-256 (hex) of :func:`normalise_address`: what the suppression list stores, so an
    entry survives the customer's erasure (SPEC S13) without keeping the address.

    The plain hash of the lower-cased email or E.164 number is the form ad platforms and ESPs
    exchange hashed suppression lists in, so imported lists match without conversion.
    """
    return hashlib.sha256(normalise_address(channel, address).encode("utf-8")).hexdigest()


# --- retry backoff --------------------------------------------------------------------------

RETRY_FIRST = timedelta(minutes=30)
RETRY_MAX = timedelta(hours=8)
RETRY_GIVE_UP = timedelta(hours=72)
_JITTER_SHARE = Fraction(1, 10)


def retry_delay(attempts: int, *, seed: str | None = None) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 min, 1 h, 2 h, 4 h, then 8 h.

    With a ``seed`` (e.g. the message id) a deterministic jitter of up to 10 % of the delay is
    added, in whole seconds, so messages that failed together do not all retry together; the
    8 h cap applies before it.
    """
    if attempts < 1:
        raise InvalidInput("attempts counts the attempts made, at least 1", field="attempts")
    delay = min(RETRY_FIRST * (1 << (min(attempts, 6) - 1)), RETRY_MAX)
    if seed is None:
        return delay
    digest = hashlib.sha256(f"{seed}:{attempts}".encode()).digest()
    share = Fraction(int.from_bytes(digest[:8], "big"), 2**64) * _JITTER_SHARE
    return delay + timedelta(seconds=int(share * int(delay.total_seconds())))


def retry_at(
    first_attempt_at: datetime, attempts: int, *, now: datetime, seed: str | None = None
) -> datetime | None:
    """When to try a transiently failed send again, or None to give up.

    ``attempts`` is the number of attempts made so far, the failed one included. The retry is
    ``now`` + :func:`retry_delay` (so always ≥ 30 min after ``now``); None when that would be
    more than 72 h after ``first_attempt_at`` (SPEC S5: give up after 72 h). With no jitter
    the attempts fall at 0, 0.5, 1.5, 3.5, 7.5, 15.5, … 71.5 h: 13 in all.
    """
    _aware(first_attempt_at, "first_attempt_at")
    _aware(now, "now")
    retry = now + retry_delay(attempts, seed=seed)
    if retry - first_attempt_at > RETRY_GIVE_UP:
        return None
    return retry
