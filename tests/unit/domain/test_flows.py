"""Flow definitions: parsing, validation naming the field, scheduling, holdout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from reclaim.adapters.flows import default_flow, default_source, load_flow
from reclaim.domain.cases import Case
from reclaim.domain.events import Contact
from reclaim.domain.flows import (
    Anchor,
    Audience,
    Conditions,
    flow_to_data,
    format_duration,
    in_holdout,
    parse_duration,
    parse_flow,
    step_due,
)
from reclaim.domain.messages import Channel, Purpose
from reclaim.errors import InvalidInput

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def case(**kw: Any) -> Case:
    base: dict[str, Any] = {
        "store_id": "st_1",
        "kind": "abandoned_checkout",
        "subject_id": "c1",
        "customer_key": "ana@example.com",
        "email": "ana@example.com",
        "phone": None,
        "contact": Contact(email="ana@example.com", country="DE"),
        "value": Decimal("120.00"),
        "currency": "EUR",
        "items": (),
        "reason": "checkout_abandoned",
        "occurred_at": T0,
        "created_at": T0 + timedelta(minutes=30),
    }
    return Case(**(base | kw))


def flow(**kw: Any) -> dict[str, Any]:
    return {
        "kind": "abandoned_checkout",
        "name": "Test",
        "steps": [{"key": "reminder", "after": "1h", "template": "abandoned_checkout/reminder"}],
    } | kw


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("30min", 1800),
        ("1h", 3600),
        ("1.5d", 129600),
        ("2w", 1209600),
        (300, 300),
        ("0s", 0),
    ],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text, "after") == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1 hour", "-1h", "1y", "91d", True, None, "h"])
def test_bad_durations_name_the_field(text: object) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_duration(text, "steps[0].after")
    assert err.value.field == "steps[0].after"


def test_format_duration_is_the_shortest_exact_unit() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (3600, 86400 * 3, 90, 1800, 0)] == [
        "1h",
        "3d",
        "90s",
        "30m",
        "0s",
    ]


def test_default_flows_are_spec_s3() -> None:
    ac = default_flow("abandoned_checkout")
    assert [(s.key, s.after) for s in ac.steps] == [
        ("reminder", timedelta(hours=1)),
        ("help", timedelta(hours=24)),
        ("incentive", timedelta(hours=72)),
    ]
    assert ac.holdout == 0.10
    inc = ac.steps[2].incentive
    assert inc is not None and (inc.kind, inc.value, inc.expires_in) == (
        "percent",
        Decimal(10),
        timedelta(hours=48),
    )
    po = default_flow("pending_order")
    assert [s.key for s in po.steps] == ["reminder", "reminder_2", "last_call", "cancelled"]
    assert po.steps[3].anchor is Anchor.HOLD_END and po.steps[3].closes_case == "lost"
    assert all(s.purpose is Purpose.TRANSACTIONAL for s in po.steps)
    fp = default_flow("failed_payment")
    assert [(s.key, s.after) for s in fp.steps] == [
        ("first", timedelta(minutes=5)),
        ("followup", timedelta(hours=24)),
        ("last_call", timedelta(hours=72)),
    ]
    assert all("suspected_fraud" in s.conditions.exclude_reasons for s in fp.steps)


@pytest.mark.parametrize("kind", ["abandoned_checkout", "pending_order", "failed_payment"])
def test_round_trip(kind: str) -> None:
    f = default_flow(kind)
    assert parse_flow(flow_to_data(f)) == f
    assert load_flow(default_source(kind), kind=kind) == f


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (flow(kind="order"), "kind", "kind must be one of"),
        (flow(name=""), "name", "name must be"),
        (flow(holdout=0.9), "holdout", "between 0 and 0.5"),
        (flow(holdout=True), "holdout", "holdout must be"),
        (flow(steps=[]), "steps", "non-empty"),
        (flow(colour="red"), "colour", "unknown flow field"),
        (flow(steps=[{"key": "Bad Key", "template": "a/b"}]), "steps[0].key", "lower-case"),
        (flow(steps=[{"key": "a", "template": "nope"}]), "steps[0].template", "look like"),
        (
            flow(steps=[{"key": "a", "template": "a/b", "after": "soon"}]),
            "steps[0].after",
            "duration",
        ),
        (
            flow(steps=[{"key": "a", "template": "a/b", "channel": "fax"}]),
            "steps[0].channel",
            "email|sms|webhook",
        ),
        (
            flow(steps=[{"key": "a", "template": "a/b", "purpose": "spam"}]),
            "steps[0].purpose",
            "marketing|transactional",
        ),
        (
            flow(steps=[{"key": "a", "template": "a/b", "wait": 1}]),
            "steps[0].wait",
            "unknown field",
        ),
        (
            flow(steps=[{"key": "a", "template": "a/b"}, {"key": "a", "template": "a/c"}]),
            "steps[1].key",
            "used twice",
        ),
        (
            flow(
                steps=[
                    {
                        "key": "a",
                        "template": "a/b",
                        "conditions": {"min_value": 50, "max_value": 10},
                    }
                ]
            ),
            "steps[0].conditions.min_value",
            "above max_value",
        ),
        (
            flow(steps=[{"key": "a", "template": "a/b", "conditions": {"weather": "sunny"}}]),
            "steps[0].conditions.weather",
            "unknown condition",
        ),
        (
            flow(
                steps=[
                    {"key": "a", "template": "a/b", "incentive": {"type": "percent", "value": 150}}
                ]
            ),
            "steps[0].incentive.value",
            "at most 100",
        ),
        (
            flow(steps=[{"key": "a", "template": "a/b", "incentive": {"type": "gift"}}]),
            "steps[0].incentive.type",
            "percent|fixed|free_shipping",
        ),
        (
            flow(
                steps=[
                    {
                        "key": "a",
                        "template": "a/b",
                        "incentive": {"type": "fixed", "value": 5, "expires_in": "10m"},
                    }
                ]
            ),
            "steps[0].incentive.expires_in",
            "between 1 hour and 90 days",
        ),
        (
            flow(steps=[{"key": "a", "template": "a/b", "closes_case": "won"}]),
            "steps[0].closes_case",
            "can only be lost",
        ),
    ],
)
def test_invalid_flows_name_the_field(data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        parse_flow(data)
    assert err.value.field == field


def test_yaml_errors_give_the_line() -> None:
    with pytest.raises(InvalidInput, match="line 4, column 3") as err:
        load_flow("kind: abandoned_checkout\nname: x\nsteps: [\n  - : :\n")
    assert err.value.field == "flow"
    with pytest.raises(InvalidInput, match="this flow is for pending_order"):
        load_flow(default_source("pending_order"), kind="failed_payment")


def test_step_due_counts_from_the_anchor_and_never_goes_back() -> None:
    ac = default_flow("abandoned_checkout")
    c = case()
    hold = timedelta(days=5)
    assert step_due(ac.steps[0], c, hold_period=hold, not_before=c.created_at) == T0 + timedelta(
        hours=1
    )
    late = T0 + timedelta(hours=30)  # the previous step waited for quiet hours
    assert step_due(ac.steps[1], c, hold_period=hold, not_before=late) == late
    po = default_flow("pending_order")
    assert step_due(po.steps[3], c, hold_period=hold, not_before=c.created_at) == T0 + hold


def test_conditions() -> None:
    c = case(contact=Contact(email="a@x.example", country="FR"), value=Decimal("49.99"))
    assert (
        Conditions(min_value=Decimal(50)).unmet(c, returning=None, score_band=None) == "min_value"
    )
    assert (
        Conditions(max_value=Decimal(40)).unmet(c, returning=None, score_band=None) == "max_value"
    )
    assert (
        Conditions(countries=frozenset({"DE"})).unmet(c, returning=None, score_band=None)
        == "countries"
    )
    assert (
        Conditions(exclude_countries=frozenset({"FR"})).unmet(c, returning=None, score_band=None)
        == "exclude_countries"
    )
    assert Conditions(audience=Audience.NEW).unmet(c, returning=True, score_band=None) == "audience"
    assert Conditions(audience=Audience.NEW).unmet(c, returning=None, score_band=None) == "audience"
    assert Conditions(audience=Audience.NEW).unmet(c, returning=False, score_band=None) is None
    assert Conditions(audience=Audience.RETURNING).unmet(c, returning=True, score_band=None) is None
    assert (
        Conditions(score_bands=frozenset({"high"})).unmet(c, returning=None, score_band=None)
        == "score_bands"
    )
    assert (
        Conditions(score_bands=frozenset({"high"})).unmet(c, returning=None, score_band="high")
        is None
    )
    fp = case(kind="failed_payment", reason="suspected_fraud")
    assert (
        Conditions(exclude_reasons=frozenset({"suspected_fraud"})).unmet(
            fp, returning=None, score_band=None
        )
        == "exclude_reasons"
    )
    assert (
        Conditions(reasons=frozenset({"insufficient_funds"})).unmet(
            fp, returning=None, score_band=None
        )
        == "reasons"
    )
    assert Conditions().unmet(c, returning=None, score_band=None) is None


def test_holdout_is_deterministic_and_has_its_share() -> None:
    ids = [f"checkout-{i}" for i in range(20_000)]
    picked = [in_holdout("st_1", "abandoned_checkout", i, 0.10) for i in ids]
    assert picked == [in_holdout("st_1", "abandoned_checkout", i, 0.10) for i in ids]
    share = sum(picked) / len(ids)
    assert 0.09 < share < 0.11  # binomial sd is 0.0021: five of them either side
    assert not any(in_holdout("st_1", "abandoned_checkout", i, 0.0) for i in ids[:1000])
    other_store = [in_holdout("st_2", "abandoned_checkout", i, 0.10) for i in ids]
    assert other_store != picked


def test_channels_and_fallback_parse() -> None:
    f = parse_flow(
        flow(steps=[{"key": "a", "template": "a/b", "channel": "sms", "fallback": "email"}])
    )
    assert (f.steps[0].channel, f.steps[0].fallback) == (Channel.SMS, Channel.EMAIL)
