"""The follow-up queue's priority score, worked out by hand from the documented weights, and
the lifecycle stage of a customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reclaim.domain.lifecycle import Stage, lifecycle
from reclaim.domain.priority import (
    age_points,
    decent_hour,
    margin_points,
    priority,
    region_points,
    value_points,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def test_a_high_value_unpaid_order_is_worked_out_part_by_part() -> None:
    p = priority(
        value=Decimal("1200"),
        currency="USD",
        gross_margin=Decimal("0.45"),
        country="US",
        kind="pending_order",
        reason="awaiting_payment",
        occurred_at=NOW - timedelta(hours=8),
        now=NOW,
    )
    # value 40 (>= 1000) + margin round(4.5) = 4 (banker's) + region 8 + age 12 (6-24 h)
    # + kind 15 + reason 8 + odds 0
    assert p.parts == (
        ("value", 40),
        ("margin", 4),
        ("region", 8),
        ("age", 12),
        ("kind", 15),
        ("reason", 8),
        ("odds", 0),
    )
    assert p.total == 87


def test_a_fresh_small_cart_scores_low_and_odds_add_when_predicted() -> None:
    base = dict(
        value=Decimal("30"),
        currency="EUR",
        gross_margin=None,
        country=None,
        kind="abandoned_checkout",
        reason="checkout_abandoned",
        occurred_at=NOW - timedelta(minutes=20),
        now=NOW,
    )
    # 0 + 5 (margin unknown) + 0 + 0 + 4 + 2
    assert priority(**base).total == 11  # type: ignore[arg-type]
    assert priority(**base, odds=0.35).total == 11 + 7  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "currency", "points"),
    [
        ("999.99", "EUR", 32),
        ("1000", "EUR", 40),
        ("49.99", "USD", 0),
        ("50", "USD", 8),
        ("12000", "JPY", 16),  # 120 reference units
        ("99999", "JPY", 32),  # 999.99: not yet 1000
        ("600", "CNY", 16),  # 120
        ("260", "XYZ", 24),  # unknown currency: face value
    ],
)
def test_value_bands_per_currency(value: str, currency: str, points: int) -> None:
    assert value_points(Decimal(value), currency) == points


@pytest.mark.parametrize(
    ("age", "points"),
    [
        (timedelta(minutes=59), 0),
        (timedelta(hours=1), 6),
        (timedelta(hours=6), 12),
        (timedelta(hours=30), 18),
        (timedelta(days=3), 20),
        (timedelta(days=8), 10),  # going cold
    ],
)
def test_age_bands(age: timedelta, points: int) -> None:
    assert age_points(age) == points


def test_margin_and_region() -> None:
    assert margin_points(Decimal("0.62")) == 6
    assert margin_points(Decimal("1.7")) == 10  # clamped
    assert margin_points(None) == 5
    assert (region_points("jp"), region_points("BR"), region_points(None)) == (8, 4, 0)


def test_a_decent_hour_to_call() -> None:
    assert decent_hour(datetime(2026, 5, 4, 9, 0))  # Monday 09:00
    assert not decent_hour(datetime(2026, 5, 4, 20, 0))
    assert not decent_hour(datetime(2026, 5, 4, 8, 59))
    assert not decent_hour(datetime(2026, 5, 10, 11, 0))  # Sunday


@pytest.mark.parametrize(
    ("paid", "cases", "earlier", "stage"),
    [
        (0, 0, None, Stage.NEW_CONTACT),
        (0, 2, None, Stage.ABANDONED),
        (1, 1, None, Stage.CUSTOMER),
        (0, 1, 1, Stage.CUSTOMER),  # the platform knew an order from before Reclaim
        (2, 0, None, Stage.REPEAT),
        (1, 3, 4, Stage.REPEAT),
    ],
)
def test_lifecycle(paid: int, cases: int, earlier: int | None, stage: Stage) -> None:
    assert lifecycle(paid_orders=paid, cases=cases, earlier_orders=earlier) is stage
