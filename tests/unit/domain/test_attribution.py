"""Attribution (SPEC S2): last engagement within 7 days (email) or 24 h (SMS clicks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reclaim.domain.attribution import attribute
from reclaim.domain.steps import MessageRecord

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def msg(
    mid: int, channel: str, *, opened: datetime | None = None, clicked: datetime | None = None
) -> MessageRecord:
    return MessageRecord(
        store_id="st",
        case_id=1,
        step_id=mid,
        customer_key="k",
        channel=channel,
        purpose="marketing",
        template="abandoned_checkout/reminder",
        locale="en",
        recipient="a@b.example",
        created_at=T0,
        opened_at=opened,
        clicked_at=clicked,
        id=mid,
    )


def test_last_engaged_message_wins() -> None:
    a = msg(1, "email", opened=T0 + timedelta(hours=1))
    b = msg(2, "email", clicked=T0 + timedelta(hours=25))
    c = msg(3, "email")  # never opened
    assert attribute([a, b, c], recovered_at=T0 + timedelta(hours=30)) is b
    assert attribute([a, b, c], recovered_at=T0 + timedelta(hours=20)) is a


def test_email_window_is_seven_days() -> None:
    a = msg(1, "email", opened=T0)
    assert attribute([a], recovered_at=T0 + timedelta(days=7)) is a
    assert attribute([a], recovered_at=T0 + timedelta(days=7, seconds=1)) is None


def test_sms_counts_only_clicks_within_24_hours() -> None:
    s = msg(1, "sms", opened=T0)  # an SMS "open" cannot be observed; ignore it if present
    assert attribute([s], recovered_at=T0 + timedelta(hours=1)) is None
    s = msg(1, "sms", clicked=T0)
    assert attribute([s], recovered_at=T0 + timedelta(hours=24)) is s
    assert attribute([s], recovered_at=T0 + timedelta(hours=24, seconds=1)) is None


def test_engagement_after_the_purchase_does_not_count() -> None:
    a = msg(1, "email", opened=T0 + timedelta(hours=2))
    assert attribute([a], recovered_at=T0 + timedelta(hours=1)) is None
    assert attribute([], recovered_at=T0) is None
