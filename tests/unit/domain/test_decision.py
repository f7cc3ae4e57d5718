"""The send decision, without a database: whether a due step's message goes now (and on
which channel, to which address, with which offer), waits (until when, why), is skipped (why)
or cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from reclaim.domain.cases import Case
from reclaim.domain.decision import (
    Cancel,
    Decision,
    Send,
    Skip,
    Wait,
    address_key,
    decide,
    halted,
    recipient,
)
from reclaim.domain.events import Contact
from reclaim.domain.flows import Audience, Conditions, Step
from reclaim.domain.incentives import IncentiveSpec, Offer
from reclaim.domain.messages import Channel, Purpose
from reclaim.domain.policy import suppression_key
from reclaim.domain.stores import Store

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday: 10:00 Berlin, 17:00 Tokyo, 01:00 LA
ALL = frozenset(Channel)
EMAIL = "ana@example.com"
PHONE = "+14155552671"


def store(**settings: object) -> Store:
    platform = str(settings.pop("platform", "custom"))
    paused = bool(settings.pop("paused", False))
    domain = str(settings.pop("domain", "boutique.example"))
    settings.setdefault("postal_address", "Boutique SAS, 1 rue de Rivoli, 75001 Paris")
    return Store(
        id="st_1",
        name="Boutique",
        platform=platform,
        currency="EUR",
        timezone=str(settings.pop("timezone", "Europe/Paris")),
        domain=domain,
        webhook_secret="whsec",
        activated_at=T0 - timedelta(days=30),
        settings_json=dict(settings),
        paused=paused,
    )


def case(**kw: Any) -> Case:
    contact: dict[str, Any] = {
        "email": EMAIL,
        "country": "DE",
        "timezone": "Europe/Berlin",
        "accepts_email_marketing": True,
    } | kw.pop("contact", {})
    base: dict[str, Any] = {
        "store_id": "st_1",
        "kind": "abandoned_checkout",
        "subject_id": "c1",
        "customer_key": EMAIL,
        "email": contact["email"],
        "phone": contact.get("phone"),
        "contact": Contact(**contact),
        "value": Decimal("120.00"),
        "currency": "EUR",
        "items": (),
        "reason": "checkout_abandoned",
        "occurred_at": T0 - timedelta(hours=1),
        "created_at": T0 - timedelta(minutes=30),
        "flow_state": "running",
        "id": 7,
    }
    return Case(**(base | kw))


def step(**kw: Any) -> Step:
    base: dict[str, Any] = {
        "key": "reminder",
        "after": timedelta(hours=1),
        "channel": Channel.EMAIL,
        "template": "abandoned_checkout/reminder",
        "purpose": Purpose.MARKETING,
    }
    return Step(**(base | kw))


def verdict(
    c: Case | None = None,
    s: Step | None = None,
    st: Store | None = None,
    *,
    now: datetime = T0,
    retry: Channel | None = None,
    channels: frozenset[Channel] = ALL,
    suppressed: frozenset[tuple[str, str, str]] = frozenset(),
    last_sent: datetime | None = None,
    sold_out: bool = False,
    cancel_due: datetime | None = None,
) -> Decision:
    return decide(
        case=c or case(),
        store=st or store(),
        spec=s or step(),
        now=now,
        retry=retry,
        channels=channels,
        suppressed=suppressed,
        last_sent=last_sent,
        sold_out=sold_out,
        cancel_due=cancel_due,
    )


def test_an_open_running_case_with_consent_is_sent_now() -> None:
    assert verdict() == Send(Channel.EMAIL, EMAIL)


# -- stop conditions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "flow_state", "why"),
    [
        ("recovered", "running", "case_recovered"),  # paid
        ("lost", "stopped", "case_lost"),
        ("open", "stopped", "case_open"),  # the flow was stopped (unsubscribe, manual stop)
        ("open", "finished", "case_open"),
        ("open", "holdout", "case_open"),  # the holdout group gets no message
    ],
)
def test_a_closed_case_or_a_stopped_flow_cancels_the_step(
    status: str, flow_state: str, why: str
) -> None:
    c = case(status=status, flow_state=flow_state)
    assert verdict(c) == Cancel(why)
    assert halted(c, store(), T0) == Cancel(why)


def test_a_paused_store_waits_an_hour() -> None:
    assert verdict(st=store(paused=True)) == Wait(T0 + timedelta(hours=1), "store_paused")
    assert halted(case(), store(paused=True), T0) == Wait(T0 + timedelta(hours=1), "store_paused")
    # A closed case is cancelled even at a paused store.
    assert verdict(case(status="recovered"), st=store(paused=True)) == Cancel("case_recovered")


def test_a_case_taken_out_of_automation_sends_nothing_until_resumed() -> None:
    manual = case(manual=True)
    assert verdict(manual) == Wait(T0 + timedelta(hours=1), "manual")
    assert halted(manual, store(), T0) == Wait(T0 + timedelta(hours=1), "manual")
    assert verdict(manual, retry=Channel.EMAIL) == Wait(T0 + timedelta(hours=1), "manual")
    # A closed case is still cancelled; resumed, the step goes as before.
    assert verdict(case(manual=True, status="lost")) == Cancel("case_lost")
    assert verdict(case(manual=False)) == Send(Channel.EMAIL, EMAIL)


def test_nothing_halts_an_open_running_case_at_an_active_store() -> None:
    assert halted(case(), store(), T0) is None


# -- a pending order's cancellation -----------------------------------------------------------


def test_the_cancellation_notice_waits_for_the_platforms_answer() -> None:
    due = T0 + timedelta(minutes=10)
    s = step(key="cancelled", purpose=Purpose.TRANSACTIONAL, closes_case="lost")
    c = case(kind="pending_order", contact={"accepts_email_marketing": None})
    assert verdict(c, s, cancel_due=due) == Wait(due, "order_cancel")
    # … before its conditions are looked at
    unmet = step(conditions=Conditions(min_value=Decimal(500)))
    assert verdict(c, unmet, cancel_due=due) == Wait(due, "order_cancel")


# -- conditions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "contact", "why"),
    [
        (Conditions(min_value=Decimal(200)), {}, "condition_min_value"),
        (Conditions(max_value=Decimal(100)), {}, "condition_max_value"),
        (Conditions(countries=frozenset({"FR"})), {}, "condition_countries"),
        (Conditions(exclude_countries=frozenset({"DE"})), {}, "condition_exclude_countries"),
        (Conditions(audience=Audience.NEW), {"orders_count": 2}, "condition_audience"),
        (Conditions(audience=Audience.NEW), {}, "condition_audience"),  # unknown: not new
        (Conditions(audience=Audience.RETURNING), {"orders_count": 0}, "condition_audience"),
        (Conditions(reasons=frozenset({"insufficient_funds"})), {}, "condition_reasons"),
    ],
)
def test_an_unmet_condition_skips_the_step(
    conditions: Conditions, contact: dict[str, Any], why: str
) -> None:
    assert verdict(case(contact=contact), step(conditions=conditions)) == Skip(why)


def test_met_conditions_let_the_message_go() -> None:
    met = Conditions(min_value=Decimal(100), audience=Audience.RETURNING)
    assert verdict(case(contact={"orders_count": 3}), step(conditions=met)) == Send(
        Channel.EMAIL, EMAIL
    )
    assert verdict(
        case(contact={"orders_count": 0}), step(conditions=Conditions(audience=Audience.NEW))
    ) == Send(Channel.EMAIL, EMAIL)


def test_a_retry_is_not_checked_against_the_conditions_again() -> None:
    unmet = step(conditions=Conditions(min_value=Decimal(500)))
    assert verdict(s=unmet, retry=Channel.EMAIL) == Send(Channel.EMAIL, EMAIL)


# -- sold out -------------------------------------------------------------------------------


def test_a_cart_sold_out_with_nothing_to_offer_instead_is_skipped() -> None:
    assert verdict(sold_out=True) == Skip("out_of_stock")


def test_a_retry_whose_cart_sold_out_meanwhile_is_skipped_and_its_message_cancelled() -> None:
    assert verdict(sold_out=True, retry=Channel.EMAIL) == Skip(
        "out_of_stock", "sold out before the retry"
    )


def test_conditions_are_checked_before_stock() -> None:
    unmet = step(conditions=Conditions(min_value=Decimal(500)))
    assert verdict(s=unmet, sold_out=True) == Skip("condition_min_value")


# -- channel and address --------------------------------------------------------------------


def test_a_phone_only_customer_gets_the_sms_fallback() -> None:
    c = case(
        contact={
            "email": None,
            "phone": PHONE,
            "country": "US",
            "timezone": "America/Los_Angeles",
            "accepts_sms_marketing": True,
        }
    )
    s = step(fallback=Channel.SMS)
    now = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)  # 09:00 in Los Angeles
    assert verdict(c, s, now=now) == Send(Channel.SMS, PHONE)


def test_without_a_fallback_the_first_reason_is_given() -> None:
    c = case(contact={"email": None, "phone": PHONE, "accepts_sms_marketing": True})
    assert verdict(c) == Skip("no_email")
    # Both channels fail: the first channel's reason is the step's.
    c = case(contact={"email": None})
    assert verdict(c, step(fallback=Channel.SMS)) == Skip("no_email")


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"channels": frozenset({Channel.SMS, Channel.WEBHOOK})}, "email_not_configured"),
        ({"c": case(contact={"email": "ana.example.com"})}, "bad_email_address"),
        (
            {"suppressed": frozenset({("st_1", "email", suppression_key(Channel.EMAIL, EMAIL))})},
            "suppressed",
        ),
    ],
)
def test_an_address_that_cannot_be_used_skips_the_step(kw: dict[str, Any], why: str) -> None:
    assert verdict(**kw) == Skip(why)


def test_a_suppressed_address_elsewhere_does_not_count() -> None:
    other = frozenset({("st_2", "email", suppression_key(Channel.EMAIL, EMAIL))})
    assert verdict(suppressed=other) == Send(Channel.EMAIL, EMAIL)


def test_a_suppressed_email_falls_back_to_sms() -> None:
    c = case(contact={"phone": PHONE, "accepts_sms_marketing": True})
    key = ("st_1", "email", suppression_key(Channel.EMAIL, EMAIL))
    got = verdict(c, step(fallback=Channel.SMS), suppressed=frozenset({key}))
    assert got == Send(Channel.SMS, PHONE)


def test_the_webhook_channel_goes_to_the_stores_url() -> None:
    s = step(channel=Channel.WEBHOOK, purpose=Purpose.TRANSACTIONAL)
    url = "https://hooks.boutique.example/reclaim"
    assert verdict(s=s, st=store(webhook_url=url)) == Send(Channel.WEBHOOK, url)
    assert verdict(s=s) == Skip("no_webhook")


def test_a_retry_goes_where_the_first_attempt_went() -> None:
    c = case(contact={"phone": PHONE, "accepts_sms_marketing": True})
    assert verdict(c, retry=Channel.SMS) == Send(Channel.SMS, PHONE)
    assert verdict(case(), retry=Channel.SMS) == Skip("no_sms")


def test_recipient_and_address_key() -> None:
    c = case(contact={"phone": PHONE})
    st = store(webhook_url="https://hooks.boutique.example/r")
    assert recipient(st, c, Channel.EMAIL) == EMAIL
    assert recipient(st, c, Channel.SMS) == PHONE
    assert recipient(st, c, Channel.WEBHOOK) == "https://hooks.boutique.example/r"
    assert address_key(Channel.EMAIL, "Ana@Example.com") == suppression_key(Channel.EMAIL, EMAIL)
    assert address_key(Channel.EMAIL, "no-at-sign") is None
    assert address_key(Channel.SMS, "0415 555") is None


# -- consent --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "opted", "requires", "expected"),
    [
        ("DE", None, None, Skip("consent_eu_marketing_needs_opt_in")),  # opt-in country
        ("FR", None, None, Skip("consent_eu_marketing_needs_opt_in")),
        ("GB", None, None, Skip("consent_uk_marketing_needs_opt_in")),
        ("CA", None, None, Skip("consent_ca_marketing_needs_opt_in")),
        ("US", None, None, Send(Channel.EMAIL, EMAIL)),  # opt-out country
        (None, None, None, Skip("consent_unknown_country_marketing_needs_opt_in")),
        ("US", False, None, Skip("consent_marketing_opted_out")),  # an explicit refusal
        ("DE", True, None, Send(Channel.EMAIL, EMAIL)),
        ("US", None, True, Skip("consent_store_requires_opt_in")),
        ("DE", None, False, Send(Channel.EMAIL, EMAIL)),  # the store waives the opt-in
        ("DE", False, False, Skip("consent_marketing_opted_out")),
    ],
)
def test_marketing_email_consent_by_jurisdiction(
    country: str | None, opted: bool | None, requires: bool | None, expected: Decision
) -> None:
    c = case(
        contact={"country": country, "timezone": "Europe/Berlin", "accepts_email_marketing": opted}
    )
    st = store() if requires is None else store(requires_consent=requires)
    assert verdict(c, st=st) == expected


@pytest.mark.parametrize("opted", [None, False, True])
def test_transactional_email_goes_without_consent(opted: bool | None) -> None:
    c = case(kind="failed_payment", contact={"accepts_email_marketing": opted})
    s = step(purpose=Purpose.TRANSACTIONAL)
    assert verdict(c, s, st=store(requires_consent=True)) == Send(Channel.EMAIL, EMAIL)


def test_sms_consent() -> None:
    now = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)  # 09:00 in Los Angeles

    def sms(opted: bool | None, purpose: Purpose) -> Decision:
        c = case(
            contact={
                "email": None,
                "phone": PHONE,
                "country": "US",
                "timezone": "America/Los_Angeles",
                "accepts_sms_marketing": opted,
                "accepts_email_marketing": True,  # says nothing of texts
            }
        )
        return verdict(c, step(channel=Channel.SMS, purpose=purpose), now=now)

    assert sms(None, Purpose.MARKETING) == Skip("consent_sms_marketing_needs_opt_in")
    assert sms(False, Purpose.MARKETING) == Skip("consent_marketing_opted_out")
    assert sms(True, Purpose.MARKETING) == Send(Channel.SMS, PHONE)
    assert sms(None, Purpose.TRANSACTIONAL) == Send(Channel.SMS, PHONE)
    assert sms(False, Purpose.TRANSACTIONAL) == Skip("consent_sms_transactional_opted_out")


# -- quiet hours ----------------------------------------------------------------------------


def test_email_waits_for_the_morning_in_tokyo() -> None:
    c = case(contact={"country": "JP", "timezone": "Asia/Tokyo"})
    now = datetime(2026, 5, 4, 13, 30, tzinfo=UTC)  # 22:30 in Tokyo
    assert verdict(c, now=now) == Wait(datetime(2026, 5, 4, 22, 0, tzinfo=UTC), "quiet_hours")


def test_sms_waits_for_eight_oclock_in_the_customers_zone() -> None:
    c = case(
        contact={
            "email": None,
            "phone": PHONE,
            "country": "US",
            "timezone": "America/Los_Angeles",
            "accepts_sms_marketing": True,
        }
    )
    now = T0 + timedelta(hours=1)  # 02:00 PDT
    got = verdict(c, step(channel=Channel.SMS), now=now)
    assert got == Wait(datetime(2026, 5, 4, 15, 0, tzinfo=UTC), "quiet_hours")  # 08:00 PDT


def test_without_the_customers_zone_the_stores_is_used() -> None:
    c = case(contact={"timezone": None})
    now = datetime(2026, 5, 4, 21, 0, tzinfo=UTC)  # 23:00 in Paris
    got = verdict(c, st=store(timezone="Europe/Paris"), now=now)
    assert got == Wait(datetime(2026, 5, 5, 5, 0, tzinfo=UTC), "quiet_hours")  # 07:00 CEST


def test_outside_quiet_hours_the_message_goes() -> None:
    c = case(contact={"country": "JP", "timezone": "Asia/Tokyo"})
    assert verdict(c, now=datetime(2026, 5, 4, 12, 59, tzinfo=UTC)) == Send(Channel.EMAIL, EMAIL)


def test_a_retry_is_not_held_by_the_cap_but_waits_out_the_quiet_hours() -> None:
    day = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)  # 14:00 in Berlin
    assert verdict(now=day, retry=Channel.EMAIL, last_sent=day - timedelta(hours=1)) == Send(
        Channel.EMAIL, EMAIL
    )
    night = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)  # midnight in Berlin (issue 16)
    assert verdict(now=night, retry=Channel.EMAIL, last_sent=night - timedelta(hours=1)) == Wait(
        datetime(2026, 5, 5, 5, 0, tzinfo=UTC), "quiet_hours"
    )


# -- frequency cap --------------------------------------------------------------------------


def test_the_cap_waits_and_its_release_moves_past_the_quiet_hours() -> None:
    # Sent at 11:00 Berlin; 16 h later it is 03:00 in Berlin: due at 07:00 (05:00 UTC).
    first = T0 + timedelta(hours=1)
    got = verdict(now=T0 + timedelta(hours=2, minutes=10), last_sent=first)
    assert got == Wait(datetime(2026, 5, 5, 5, 0, tzinfo=UTC), "frequency_cap")


def test_the_cap_releases_at_its_end_outside_the_quiet_hours() -> None:
    first = T0 - timedelta(hours=10)  # 00:00 Berlin; 16 h later it is 16:00
    assert verdict(last_sent=first) == Wait(first + timedelta(hours=16), "frequency_cap")


def test_the_stores_own_cap_counts() -> None:
    last = T0 - timedelta(hours=2)
    assert verdict(last_sent=last, st=store(frequency_cap_s=3600)) == Send(Channel.EMAIL, EMAIL)
    assert verdict(last_sent=last, st=store(frequency_cap_s=3 * 3600)) == Wait(
        last + timedelta(hours=3), "frequency_cap"
    )


def test_a_message_long_ago_does_not_cap() -> None:
    assert verdict(last_sent=T0 - timedelta(hours=17)) == Send(Channel.EMAIL, EMAIL)
    # … and at night the wait is the quiet hours'
    night = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)
    got = verdict(now=night, last_sent=night - timedelta(hours=17))
    assert got == Wait(datetime(2026, 5, 5, 5, 0, tzinfo=UTC), "quiet_hours")


# -- incentives -----------------------------------------------------------------------------

TEN_PERCENT = IncentiveSpec(kind="percent", value=Decimal(10), expires_in=timedelta(hours=48))
CONNECTED = {
    "platform": "shopify",
    "platform_api_url": "https://x.example",
    "platform_api_token": "t",
}


def test_an_incentive_step_plans_its_offer() -> None:
    got = verdict(s=step(incentive=TEN_PERCENT), st=store(**CONNECTED))
    offer = Offer(
        kind="percent",
        value=Decimal(10),
        discount=Decimal("12.00"),
        currency="EUR",
        expires_at=T0 + timedelta(hours=48),
        min_order=None,
    )
    assert got == Send(Channel.EMAIL, EMAIL, offer=offer)


def test_codes_imported_by_the_operator_are_offered_without_a_connector() -> None:
    got = verdict(s=step(incentive=TEN_PERCENT), st=store(coupons_imported=True))
    assert isinstance(got, Send) and got.offer is not None and not got.coupon_withheld


@pytest.mark.parametrize(
    "settings",
    [{}, {"platform": "shopify"}, {"platform": "stripe"}],  # no connector, no token, no key
)
def test_without_a_way_to_create_the_code_the_message_goes_without_one(
    settings: dict[str, object],
) -> None:
    got = verdict(s=step(incentive=TEN_PERCENT), st=store(**settings))
    assert got == Send(Channel.EMAIL, EMAIL, coupon_withheld=True)


def test_the_margin_floor_refuses_an_incentive_it_cannot_afford() -> None:
    st = store(gross_margin="0.30", margin_floor="0.30", coupons_imported=True)
    assert verdict(s=step(incentive=TEN_PERCENT), st=st) == Skip("incentive_no_margin_room")
    small = IncentiveSpec(
        kind="percent", value=Decimal(10), expires_in=timedelta(hours=48), min_order=Decimal(200)
    )
    got = verdict(s=step(incentive=small), st=store(coupons_imported=True))
    assert got == Skip("incentive_below_min_order")


def test_an_incentive_waits_for_quiet_hours_like_any_message() -> None:
    night = datetime(2026, 5, 4, 22, 0, tzinfo=UTC)
    got = verdict(s=step(incentive=TEN_PERCENT), st=store(coupons_imported=True), now=night)
    assert got == Wait(datetime(2026, 5, 5, 5, 0, tzinfo=UTC), "quiet_hours")


def test_a_retry_plans_no_new_offer() -> None:
    got = verdict(s=step(incentive=TEN_PERCENT), st=store(**CONNECTED), retry=Channel.EMAIL)
    assert got == Send(Channel.EMAIL, EMAIL)


# -- sender duties ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"postal_address": ""}, Skip("sender_no_postal_address")),
        ({"postal_address": "   "}, Skip("sender_no_postal_address")),
        ({"domain": ""}, Skip("sender_no_identity")),  # nothing to send from
        ({"domain": "", "postal_address": ""}, Skip("sender_no_identity")),
        ({"domain": "", "sender_email": "shop@boutique.example"}, Send(Channel.EMAIL, EMAIL)),
        ({}, Send(Channel.EMAIL, EMAIL)),
    ],
)
def test_marketing_needs_a_postal_address_and_a_sender(
    settings: dict[str, object], expected: Decision
) -> None:
    assert verdict(st=store(**settings)) == expected


def test_transactional_notices_go_without_the_marketing_sender_details() -> None:
    bare = store(postal_address="", domain="")
    notice = step(purpose=Purpose.TRANSACTIONAL, template="pending_order/reminder")
    assert verdict(case(kind="pending_order"), notice, bare) == Send(Channel.EMAIL, EMAIL)


def test_sender_duties_apply_to_every_marketing_channel_and_to_retries() -> None:
    bare = store(postal_address="", webhook_url="https://hooks.example/reclaim")
    hook = step(channel=Channel.WEBHOOK)
    assert verdict(s=hook, st=bare) == Skip("sender_no_postal_address")
    assert verdict(st=bare, retry=Channel.EMAIL) == Skip(
        "sender_no_postal_address", "the store's sender details are missing"
    )


def test_a_customer_who_cannot_be_written_to_is_told_as_such_before_sender_duties() -> None:
    """Consent, suppression and addresses come first: the store's missing details are the
    reason only for a message that could otherwise go."""
    bare = store(postal_address="")
    refused = case(contact={"accepts_email_marketing": False})
    assert verdict(refused, st=bare) == Skip("consent_marketing_opted_out")
    assert verdict(case(email=None), st=bare) == Skip("no_email")
