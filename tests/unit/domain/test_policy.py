from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.domain.messages import Channel, Purpose
from reclaim.domain.policy import (
    DEFAULT_QUIET_HOURS,
    EEA_COUNTRIES,
    FREQUENCY_CAP,
    OPT_IN_REGIMES,
    ConsentDecision,
    QuietHours,
    complaint_state,
    consent_decision,
    earliest_send,
    normalise_country,
    release_after_cap,
    release_after_quiet_hours,
    retry_at,
    retry_delay,
    suppression_key,
    zone,
)
from reclaim.errors import InvalidInput

EMAIL, SMS, WEBHOOK = Channel.EMAIL, Channel.SMS, Channel.WEBHOOK
MKT, TXN = Purpose.MARKETING, Purpose.TRANSACTIONAL
EMAIL_QUIET = DEFAULT_QUIET_HOURS[EMAIL]
SMS_QUIET = DEFAULT_QUIET_HOURS[SMS]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- consent --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "purpose", "country", "opted_in", "store", "allowed", "rule"),
    [
        # transactional email: always, whatever consent, country or store setting
        (EMAIL, TXN, "DE", None, None, True, "email_transactional"),
        (EMAIL, TXN, "DE", False, True, True, "email_transactional"),
        (EMAIL, TXN, None, False, None, True, "email_transactional"),
        # transactional SMS / webhook: unless the customer said no
        (SMS, TXN, "US", None, None, True, "sms_transactional"),
        (SMS, TXN, "DE", True, True, True, "sms_transactional"),
        (SMS, TXN, "US", False, None, False, "sms_transactional_opted_out"),
        (SMS, TXN, "US", False, False, False, "sms_transactional_opted_out"),
        (WEBHOOK, TXN, "FR", None, None, True, "webhook_transactional"),
        (WEBHOOK, TXN, "FR", False, None, False, "webhook_transactional_opted_out"),
        # an opt-out is final for marketing, whatever the store says
        (EMAIL, MKT, "US", False, None, False, "marketing_opted_out"),
        (EMAIL, MKT, "DE", False, False, False, "marketing_opted_out"),
        (SMS, MKT, "US", False, False, False, "marketing_opted_out"),
        # an opt-in is enough everywhere
        (EMAIL, MKT, "DE", True, None, True, "marketing_opted_in"),
        (EMAIL, MKT, None, True, True, True, "marketing_opted_in"),
        (SMS, MKT, "US", True, None, True, "marketing_opted_in"),
        # SMS / webhook marketing needs it everywhere, the store cannot lift that
        (SMS, MKT, "US", None, None, False, "sms_marketing_needs_opt_in"),
        (SMS, MKT, "US", None, False, False, "sms_marketing_needs_opt_in"),
        (WEBHOOK, MKT, "US", None, False, False, "webhook_marketing_needs_opt_in"),
        # marketing email: the store's override first
        (EMAIL, MKT, "US", None, True, False, "store_requires_opt_in"),
        (EMAIL, MKT, "DE", None, False, True, "store_waives_opt_in"),
        (EMAIL, MKT, None, None, False, True, "store_waives_opt_in"),
        # then the country
        (EMAIL, MKT, "DE", None, None, False, "eu_marketing_needs_opt_in"),
        (EMAIL, MKT, "no", None, None, False, "eu_marketing_needs_opt_in"),
        (EMAIL, MKT, " RE ", None, None, False, "eu_marketing_needs_opt_in"),
        (EMAIL, MKT, "EL", None, None, False, "eu_marketing_needs_opt_in"),
        (EMAIL, MKT, "GB", None, None, False, "uk_marketing_needs_opt_in"),
        (EMAIL, MKT, "uk", None, None, False, "uk_marketing_needs_opt_in"),
        (EMAIL, MKT, "CH", None, None, False, "ch_marketing_needs_opt_in"),
        (EMAIL, MKT, "CA", None, None, False, "ca_marketing_needs_opt_in"),
        (EMAIL, MKT, "AU", None, None, False, "au_marketing_needs_opt_in"),
        (EMAIL, MKT, "JP", None, None, False, "jp_marketing_needs_opt_in"),
        (EMAIL, MKT, "KR", None, None, False, "kr_marketing_needs_opt_in"),
        (EMAIL, MKT, "BR", None, None, False, "br_marketing_needs_opt_in"),
        (EMAIL, MKT, "US", None, None, True, "opt_out_regime"),
        (EMAIL, MKT, "us", None, None, True, "opt_out_regime"),
        (EMAIL, MKT, "MX", None, None, True, "opt_out_regime"),
        (EMAIL, MKT, "SG", None, None, True, "opt_out_regime"),
        (EMAIL, MKT, "GG", None, None, True, "opt_out_regime"),
        # unknown country: the strictest reading
        (EMAIL, MKT, None, None, None, False, "unknown_country_marketing_needs_opt_in"),
        (EMAIL, MKT, "", None, None, False, "unknown_country_marketing_needs_opt_in"),
        (EMAIL, MKT, "XX", None, None, False, "unknown_country_marketing_needs_opt_in"),
        (EMAIL, MKT, "ZZ", None, None, False, "unknown_country_marketing_needs_opt_in"),
        (EMAIL, MKT, "EU", None, None, False, "unknown_country_marketing_needs_opt_in"),
        (EMAIL, MKT, "USA", None, None, False, "unknown_country_marketing_needs_opt_in"),
    ],
)
def test_consent_decision(
    channel: Channel,
    purpose: Purpose,
    country: str | None,
    opted_in: bool | None,
    store: bool | None,
    allowed: bool,
    rule: str,
) -> None:
    decision = consent_decision(
        channel=channel,
        purpose=purpose,
        country=country,
        opted_in=opted_in,
        store_requires_consent=store,
    )
    assert decision == ConsentDecision(allowed=allowed, rule=rule)


def test_the_30_eea_countries_need_an_opt_in_for_marketing_email() -> None:
    assert len(EEA_COUNTRIES) == 30
    assert {"IS", "LI", "NO", "DE", "FR", "IE", "HR", "CY", "MT"} <= EEA_COUNTRIES
    assert "GB" not in EEA_COUNTRIES and "CH" not in EEA_COUNTRIES
    for country in sorted(EEA_COUNTRIES):
        decision = consent_decision(
            channel=EMAIL, purpose=MKT, country=country, opted_in=None, store_requires_consent=None
        )
        assert decision == ConsentDecision(False, "eu_marketing_needs_opt_in"), country


def test_opt_in_regimes_cover_the_named_jurisdictions() -> None:
    assert {OPT_IN_REGIMES[c] for c in ("GB", "CH", "CA", "AU", "NZ", "JP", "KR", "BR")} == {
        "uk",
        "ch",
        "ca",
        "au",
        "nz",
        "jp",
        "kr",
        "br",
    }
    assert "US" not in OPT_IN_REGIMES
    assert all(normalise_country(c) == c for c in OPT_IN_REGIMES)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[("de", "DE"), (" fr ", "FR"), ("UK", "GB"), ("EL", "GR"), ("XK", "XK"), ("IC", "IC")],
        *[("XX", None), ("", None), (None, None), ("D", None), ("DEU", None), ("EU", None)],
    ],
)
def test_normalise_country(raw: str | None, expected: str | None) -> None:
    assert normalise_country(raw) == expected


# --- quiet hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "local", "inside"),
    [
        (SMS_QUIET, time(20, 59, 59), False),
        (SMS_QUIET, time(21), True),
        (SMS_QUIET, time(0), True),
        (SMS_QUIET, time(7, 59, 59), True),
        (SMS_QUIET, time(8), False),
        (EMAIL_QUIET, time(21, 59, 59), False),
        (EMAIL_QUIET, time(22), True),
        (EMAIL_QUIET, time(6, 59, 59), True),
        (EMAIL_QUIET, time(7), False),
        (QuietHours(time(13), time(14)), time(12, 59), False),
        (QuietHours(time(13), time(14)), time(13), True),
        (QuietHours(time(13), time(14)), time(14), False),
        (QuietHours(time(9), time(9)), time(9), False),  # empty window
    ],
)
def test_quiet_hours_window_bounds(window: QuietHours, local: time, inside: bool) -> None:
    assert window.contains(local) is inside


def test_default_windows() -> None:
    defaults = dict(DEFAULT_QUIET_HOURS)
    assert defaults == {
        SMS: QuietHours(time(21), time(8)),
        EMAIL: QuietHours(time(22), time(7)),
        WEBHOOK: QuietHours(time(21), time(8)),
    }


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (time(21, tzinfo=UTC), time(8), "start"),
        (time(21), time(8, 0, 0, 5), "end"),
        ("21:00", time(8), "start"),
    ],
)
def test_quiet_hours_validation(start: object, end: object, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        QuietHours(start, end)  # type: ignore[arg-type]
    assert err.value.field == field


def test_outside_quiet_hours_returns_at_itself() -> None:
    at = datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert release_after_quiet_hours(at, tz="Europe/Berlin", quiet=EMAIL_QUIET) is at
    assert release_after_quiet_hours(at, tz="Europe/Berlin", quiet=None) is at


@pytest.mark.parametrize(
    ("at", "tz", "quiet", "expected"),
    [
        # Berlin in summer (UTC+2): 23:00 → 07:00 next morning
        (utc(2026, 5, 1, 21), "Europe/Berlin", EMAIL_QUIET, utc(2026, 5, 2, 5)),
        # 06:30 local → 07:00 the same morning
        (utc(2026, 5, 2, 4, 30), "Europe/Berlin", EMAIL_QUIET, utc(2026, 5, 2, 5)),
        # exactly at the start: waits; exactly at the end: goes
        (utc(2026, 5, 1, 20), "Europe/Berlin", EMAIL_QUIET, utc(2026, 5, 2, 5)),
        (utc(2026, 5, 2, 5), "Europe/Berlin", EMAIL_QUIET, utc(2026, 5, 2, 5)),
        (utc(2026, 5, 1, 19), "Europe/Berlin", SMS_QUIET, utc(2026, 5, 2, 6)),
        # New York in summer (UTC-4): 21:30 → 08:00 for SMS
        (utc(2026, 5, 2, 1, 30), "America/New_York", SMS_QUIET, utc(2026, 5, 2, 12)),
        # half-hour zone: 22:30 IST → 07:00 IST = 01:30 UTC
        (utc(2026, 5, 1, 17), "Asia/Kolkata", EMAIL_QUIET, utc(2026, 5, 2, 1, 30)),
        # Berlin spring forward (29 March 2026, 02:00 CET → 03:00 CEST): 23:00 CET → 07:00 CEST
        (utc(2026, 3, 28, 22), "Europe/Berlin", EMAIL_QUIET, utc(2026, 3, 29, 5)),
        # Berlin fall back (25 October 2026): 23:00 CEST → 07:00 CET
        (utc(2026, 10, 24, 21), "Europe/Berlin", EMAIL_QUIET, utc(2026, 10, 25, 6)),
        # New York spring forward (8 March 2026): 22:00 EST → 08:00 EDT
        (utc(2026, 3, 8, 3), "America/New_York", SMS_QUIET, utc(2026, 3, 8, 12)),
        # New York fall back (1 November 2026): 22:00 EDT → 08:00 EST
        (utc(2026, 11, 1, 2), "America/New_York", SMS_QUIET, utc(2026, 11, 1, 13)),
    ],
)
def test_release_after_quiet_hours(
    at: datetime, tz: str, quiet: QuietHours, expected: datetime
) -> None:
    assert release_after_quiet_hours(at, tz=tz, quiet=quiet) == expected


def test_window_end_in_a_spring_forward_gap_moves_to_the_first_valid_time() -> None:
    # Berlin: 02:30 does not exist on 29 March 2026; the clock goes 01:59:59 → 03:00 (01:00Z)
    window = QuietHours(time(1), time(2, 30))
    assert release_after_quiet_hours(
        utc(2026, 3, 29, 0, 30), tz="Europe/Berlin", quiet=window
    ) == utc(2026, 3, 29, 1)
    crossing = QuietHours(time(22), time(2, 30))
    assert release_after_quiet_hours(
        utc(2026, 3, 28, 22), tz="Europe/Berlin", quiet=crossing
    ) == utc(2026, 3, 29, 1)
    # New York: 02:30 does not exist on 8 March 2026; 03:00 EDT is 07:00Z
    assert release_after_quiet_hours(
        utc(2026, 3, 8, 6, 30), tz="America/New_York", quiet=window
    ) == utc(2026, 3, 8, 7)


def test_window_end_in_a_repeated_hour() -> None:
    # New York, 1 November 2026: 01:00–02:00 happens twice (EDT, then EST).
    window = QuietHours(time(1), time(1, 30))
    tz = "America/New_York"
    # first pass, 01:10 EDT → the first 01:30 (EDT)
    assert release_after_quiet_hours(utc(2026, 11, 1, 5, 10), tz=tz, quiet=window) == utc(
        2026, 11, 1, 5, 30
    )
    # between the two: 01:40 EDT is outside
    at = utc(2026, 11, 1, 5, 40)
    assert release_after_quiet_hours(at, tz=tz, quiet=window) is at
    # second pass, 01:10 EST → the second 01:30 (EST), never back in time
    assert release_after_quiet_hours(utc(2026, 11, 1, 6, 10), tz=tz, quiet=window) == utc(
        2026, 11, 1, 6, 30
    )


def test_a_skipped_day_and_a_release_that_lands_back_in_the_window() -> None:
    # Samoa skipped 30 December 2011: 23:59:59 on the 29th (UTC-10) was followed by 00:00 on
    # the 31st (UTC+14). 07:00 on the 30th never happened; 00:00 on the 31st is in the
    # window again, so the release is 07:00 on the 31st.
    assert release_after_quiet_hours(
        utc(2011, 12, 30, 9), tz="Pacific/Apia", quiet=EMAIL_QUIET
    ) == utc(2011, 12, 30, 17)
    # A window of almost a day whose end falls in the gap: 03:00 CEST is inside it again.
    assert release_after_quiet_hours(
        utc(2026, 3, 28, 23), tz="Europe/Berlin", quiet=QuietHours(time(2, 45), time(2, 30))
    ) == utc(2026, 3, 30, 0, 30)


@pytest.mark.parametrize(
    "tz", [None, "", "Nope/Zone", "../etc/passwd", "/etc/localtime", "a\x00b", "America", "UTC "]
)
def test_unknown_zones_fall_back_to_utc(tz: str | None) -> None:
    assert zone(tz) is UTC
    assert release_after_quiet_hours(utc(2026, 5, 1, 23), tz=tz, quiet=EMAIL_QUIET) == utc(
        2026, 5, 2, 7
    )
    at = utc(2026, 5, 1, 12)
    assert release_after_quiet_hours(at, tz=tz, quiet=EMAIL_QUIET) is at


def test_non_string_zone_falls_back_to_utc() -> None:
    assert zone(42) is UTC  # type: ignore[arg-type]


def test_naive_instants_are_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        release_after_quiet_hours(datetime(2026, 5, 1), tz="UTC", quiet=EMAIL_QUIET)
    assert err.value.field == "at"


_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "UTC",
]
# Windows on a quarter-hour grid hit transition instants exactly; arbitrary ones do not.
_TIMES = st.one_of(
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    st.times().map(lambda t: t.replace(microsecond=0)),
)


def _transitions() -> list[tuple[str, datetime]]:
    """(zone, instant) of every UTC-offset change in 2026 (and Samoa's skipped day)."""
    found = [("Pacific/Apia", utc(2011, 12, 30, 10))]
    for tz in _ZONES:
        zone_info = ZoneInfo(tz)
        t = utc(2026, 1, 1)
        offset = t.astimezone(zone_info).utcoffset()
        while t.year == 2026:
            t += timedelta(minutes=15)
            if (now := t.astimezone(zone_info).utcoffset()) != offset:
                found.append((tz, t))
                offset = now
    return found


TRANSITIONS = _transitions()


def test_the_transition_list_has_the_known_changes() -> None:
    assert ("Europe/Berlin", utc(2026, 3, 29, 1)) in TRANSITIONS
    assert ("America/New_York", utc(2026, 11, 1, 6)) in TRANSITIONS
    assert len(TRANSITIONS) == 9  # Berlin, New York, Lord Howe, Chatham: 2 each; Samoa 2011


def _check_release(at: datetime, tz: str, window: QuietHours) -> None:
    released = release_after_quiet_hours(at, tz=tz, quiet=window)
    zone_info = ZoneInfo(tz)
    assert released >= at
    assert released.utcoffset() == timedelta(0)
    assert not window.contains(released.astimezone(zone_info).time())
    if released != at:
        # the window held from at until just before the release
        assert window.contains((released - timedelta(seconds=1)).astimezone(zone_info).time())
        assert window.contains(at.astimezone(zone_info).time())
        assert released - at <= timedelta(days=2)


@settings(max_examples=400, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2011, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(_ZONES),
    start=_TIMES,
    end=_TIMES,
)
def test_property_release_is_the_first_instant_outside_the_window(
    at: datetime, tz: str, start: time, end: time
) -> None:
    _check_release(at, tz, QuietHours(start, end))


@settings(max_examples=600, deadline=None)
@given(
    transition=st.sampled_from(TRANSITIONS),
    delta=st.timedeltas(min_value=timedelta(hours=-30), max_value=timedelta(hours=30)),
    start=_TIMES,
    end=_TIMES,
)
def test_property_release_around_dst_transitions(
    transition: tuple[str, datetime], delta: timedelta, start: time, end: time
) -> None:
    tz, instant = transition
    _check_release(instant + delta, tz, QuietHours(start, end))


# --- frequency cap and combining --------------------------------------------------------------


def test_release_after_cap() -> None:
    at = utc(2026, 5, 1, 10)
    assert FREQUENCY_CAP.total_seconds() == 16 * 3600
    assert release_after_cap(at, last_sent_at=None) is at
    assert release_after_cap(at, last_sent_at=utc(2026, 5, 1, 9)) == utc(2026, 5, 2, 1)
    assert release_after_cap(at, last_sent_at=utc(2026, 4, 30, 18)) == at  # exactly 16 h
    assert release_after_cap(at, last_sent_at=utc(2026, 4, 30, 17, 59)) == at
    assert release_after_cap(at, last_sent_at=utc(2026, 4, 30, 18, 1)) == utc(2026, 5, 1, 10, 1)
    assert release_after_cap(at, last_sent_at=utc(2026, 5, 1, 9), cap=timedelta(0)) == at
    assert release_after_cap(at, last_sent_at=utc(2026, 5, 1, 9), cap=timedelta(hours=24)) == utc(
        2026, 5, 2, 9
    )


def test_release_after_cap_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput) as err:
        release_after_cap(utc(2026, 5, 1), last_sent_at=None, cap=timedelta(hours=-1))
    assert err.value.field == "cap"
    with pytest.raises(InvalidInput) as err:
        release_after_cap(utc(2026, 5, 1), last_sent_at=datetime(2026, 5, 1))
    assert err.value.field == "last_sent_at"


def test_earliest_send_cap_release_lands_in_quiet_hours() -> None:
    # last message 10:00 Berlin (08:00Z); cap ends 02:00 Berlin, inside email quiet hours
    result = earliest_send(
        utc(2026, 5, 1, 10),
        tz="Europe/Berlin",
        quiet=EMAIL_QUIET,
        last_sent_at=utc(2026, 5, 1, 8),
        cap=FREQUENCY_CAP,
    )
    assert result == utc(2026, 5, 2, 5)  # 07:00 CEST


def test_earliest_send_quiet_release_lands_before_the_cap() -> None:
    # at 23:00 Berlin: quiet until 07:00 (05:00Z), but the cap holds until 06:00Z
    result = earliest_send(
        utc(2026, 5, 1, 21),
        tz="Europe/Berlin",
        quiet=EMAIL_QUIET,
        last_sent_at=utc(2026, 5, 1, 14),
    )
    assert result == utc(2026, 5, 2, 6)


def test_earliest_send_with_nothing_in_the_way() -> None:
    at = utc(2026, 5, 1, 10)
    assert earliest_send(at, tz="Europe/Berlin", quiet=SMS_QUIET, last_sent_at=None) == at
    assert earliest_send(at, tz=None, quiet=None, last_sent_at=utc(2026, 5, 1, 9)) == utc(
        2026, 5, 2, 1
    )


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    since=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)),
    tz=st.sampled_from(_ZONES),
    channel=st.sampled_from([EMAIL, SMS]),
)
def test_property_earliest_send_satisfies_both(
    at: datetime, since: timedelta, tz: str, channel: Channel
) -> None:
    quiet = DEFAULT_QUIET_HOURS[channel]
    last = at - since
    result = earliest_send(at, tz=tz, quiet=quiet, last_sent_at=last)
    assert result >= at
    assert result >= last + FREQUENCY_CAP
    assert not quiet.contains(result.astimezone(ZoneInfo(tz)).time())


# --- complaint rate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "complaints", "state"),
    [
        (0, 0, "ok"),
        (20, 0, "ok"),
        (20, 1, "alert"),  # one complaint in 20 never pauses a store
        (20, 2, "alert"),
        (20, 3, "pause"),  # three complaints: at the pause line whatever the sample
        (999, 2, "alert"),
        (999, 3, "pause"),
        (1000, 0, "ok"),
        (1000, 1, "alert"),
        (1000, 2, "alert"),
        (1000, 3, "pause"),
        (1001, 1, "ok"),
        (10_000, 9, "ok"),
        (10_000, 10, "alert"),
        (10_000, 29, "alert"),
        (10_000, 30, "pause"),
        (3333, 10, "pause"),  # 0.30003 %
        (3334, 10, "alert"),  # 0.29994 %
        (100, 500, "pause"),  # late complaints about an earlier window
    ],
)
def test_complaint_state_boundaries(sent: int, complaints: int, state: str) -> None:
    assert complaint_state(sent=sent, complaints=complaints) == state


def test_complaint_state_with_custom_rates_and_sample() -> None:
    assert complaint_state(sent=500, complaints=1, min_sent=100) == "alert"  # 0.2 %
    assert complaint_state(sent=500, complaints=2, min_sent=100) == "pause"  # 0.4 %
    assert complaint_state(sent=500, complaints=2, min_sent=100, pause_rate=0.005) == "alert"
    assert complaint_state(sent=50, complaints=1, min_sent=100) == "pause"  # 1 in 100 = 1 %
    assert complaint_state(sent=100_000, complaints=19, alert_rate=0.0002) == "ok"
    assert complaint_state(sent=100_000, complaints=20, alert_rate=0.0002) == "alert"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sent": -1, "complaints": 0}, "sent"),
        ({"sent": 1, "complaints": -1}, "complaints"),
        ({"sent": 1, "complaints": 0, "min_sent": 0}, "min_sent"),
        ({"sent": 1, "complaints": 0, "alert_rate": 0.0}, "alert_rate"),
        ({"sent": 1, "complaints": 0, "alert_rate": 0.005}, "alert_rate"),
        ({"sent": 1, "complaints": 0, "pause_rate": 1.5}, "alert_rate"),
    ],
)
def test_complaint_state_refuses_bad_input(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        complaint_state(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


# --- suppression ----------------------------------------------------------------------------


def test_suppression_key_of_an_email() -> None:
    key = suppression_key(EMAIL, "  Jane.Doe+Shop@Example.COM \n")
    assert key == "bb55843f3da2af28071cd4be7ae1e05989dc6d3ea4833906f7d8fe4be35afad8"
    assert key == hashlib.sha256(b"jane.doe+shop@example.com").hexdigest()
    assert key == suppression_key(EMAIL, "jane.doe+shop@example.com")


def test_suppression_key_does_not_merge_gmail_variants() -> None:
    keys = {
        suppression_key(EMAIL, address)
        for address in ("jane.doe@gmail.com", "janedoe@gmail.com", "janedoe+x@gmail.com")
    }
    assert len(keys) == 3


def test_suppression_key_normalises_unicode() -> None:
    composed, decomposed = "zo\u00eb@example.com", "zoe\u0308@example.com"
    assert suppression_key(EMAIL, composed) == suppression_key(EMAIL, decomposed)
    assert suppression_key(EMAIL, composed) == hashlib.sha256(composed.encode()).hexdigest()


def test_suppression_key_of_a_phone() -> None:
    assert suppression_key(SMS, " +4915123456789 ") == hashlib.sha256(b"+4915123456789").hexdigest()
    assert suppression_key(WEBHOOK, " wa:+4915123456789 ") == (
        hashlib.sha256(b"wa:+4915123456789").hexdigest()
    )


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        (EMAIL, "jane.example.com"),
        (EMAIL, "@"),
        (EMAIL, "  "),
        (SMS, "015123456789"),
        (SMS, "+49 151 23456789"),
        (SMS, "+0123456"),
        (SMS, "+1234567890123456"),
        (WEBHOOK, " "),
    ],
)
def test_suppression_key_refuses_bad_addresses(channel: Channel, address: str) -> None:
    with pytest.raises(InvalidInput) as err:
        suppression_key(channel, address)
    assert err.value.field == "address"


# --- retry backoff --------------------------------------------------------------------------


def test_retry_schedule_without_jitter_until_giving_up() -> None:
    first = utc(2026, 5, 1, 10)
    now, attempts, hours = first, 1, [0.0]
    while (nxt := retry_at(first, attempts, now=now)) is not None:
        hours.append((nxt - first).total_seconds() / 3600)
        now, attempts = nxt, attempts + 1
    assert hours == [0, 0.5, 1.5, 3.5, 7.5, 15.5, 23.5, 31.5, 39.5, 47.5, 55.5, 63.5, 71.5]
    assert attempts == 13


@pytest.mark.parametrize(
    ("attempts", "delay"),
    [
        (1, timedelta(minutes=30)),
        (2, timedelta(hours=1)),
        (3, timedelta(hours=2)),
        (4, timedelta(hours=4)),
        (5, timedelta(hours=8)),
        (6, timedelta(hours=8)),
        (10_000, timedelta(hours=8)),
    ],
)
def test_retry_delay(attempts: int, delay: timedelta) -> None:
    assert retry_delay(attempts) == delay


def test_retry_gives_up_after_72_hours() -> None:
    first = utc(2026, 5, 1, 10)
    assert retry_at(first, 1, now=first + timedelta(hours=71, minutes=30)) == first + timedelta(
        hours=72
    )
    assert retry_at(first, 1, now=first + timedelta(hours=71, minutes=31)) is None
    assert retry_at(first, 6, now=first + timedelta(hours=64)) == first + timedelta(hours=72)
    assert retry_at(first, 6, now=first + timedelta(hours=64, seconds=1)) is None
    assert retry_at(first, 1, now=first + timedelta(hours=80)) is None


def test_retry_jitter_is_deterministic_and_bounded() -> None:
    first = utc(2026, 5, 1, 10)
    seen = set()
    for i in range(50):
        seed = f"msg_{i}"
        for attempts in (1, 3, 7):
            delay = retry_delay(attempts, seed=seed)
            base = retry_delay(attempts)
            assert base <= delay < base * 1.1
            assert delay == retry_delay(attempts, seed=seed)
            assert delay.microseconds == 0
        seen.add(retry_delay(1, seed=seed))
        assert retry_at(first, 1, now=first, seed=seed) == first + retry_delay(1, seed=seed)
    assert len(seen) == 48  # of the 180 possible one-second steps: spread, not lockstep
    assert retry_delay(1, seed="msg_0") == timedelta(minutes=31, seconds=8)


def test_retry_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput) as err:
        retry_at(utc(2026, 5, 1), 0, now=utc(2026, 5, 1))
    assert err.value.field == "attempts"
    with pytest.raises(InvalidInput) as err:
        retry_at(datetime(2026, 5, 1), 1, now=utc(2026, 5, 1))
    assert err.value.field == "first_attempt_at"
