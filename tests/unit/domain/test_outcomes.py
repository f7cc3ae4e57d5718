"""Step outcomes and skip reasons in plain words, and why a case got no message (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from reclaim.domain.cases import Case, CaseStatus, FlowState
from reclaim.domain.events import Contact
from reclaim.domain.outcomes import counted, skip_label, step_words, why_not_sent
from reclaim.domain.steps import ScheduledStep, StepStatus

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


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
        "id": 7,
        "flow_state": FlowState.RUNNING,
    }
    return Case(**(base | kw))


def step(position: int, status: str, outcome: str | None = None, **kw: Any) -> ScheduledStep:
    return ScheduledStep(
        store_id="st_1",
        case_id=7,
        flow_id=1,
        position=position,
        key=("reminder", "help", "incentive")[position],
        due_at=kw.pop("due_at", T0 + timedelta(hours=1 + 24 * position)),
        created_at=T0,
        status=status,
        outcome=outcome,
        **kw,
    )


@pytest.mark.parametrize(
    ("outcome", "code", "label"),
    [
        ("consent_eu_marketing_needs_opt_in", "consent", "no consent (EU rules need an opt-in)"),
        ("consent_marketing_opted_out", "consent", "no consent (customer declined)"),
        ("consent_sms_marketing_needs_opt_in", "consent", "no consent (SMS needs an opt-in)"),
        ("consent_sms_transactional_opted_out", "consent", "no consent (opted out of sms)"),
        (
            "consent_unknown_country_marketing_needs_opt_in",
            "consent",
            "no consent (unknown country)",
        ),
        ("waiting_quiet_hours", "quiet_hours", "quiet hours"),
        ("waiting_frequency_cap", "frequency_cap", "frequency cap"),
        ("waiting_store_paused", "store_paused", "store paused"),
        ("waiting_something_new", "waiting", "something new"),
        ("deferred_451", "retrying", "channel failed for now"),
        ("suppressed", "suppressed", "suppressed address"),
        ("out_of_stock", "sold_out", "sold out"),
        ("no_email", "no_channel", "no email address"),
        ("no_sms", "no_channel", "no phone number"),
        ("bad_email_address", "no_channel", "unusable email address"),
        ("email_not_configured", "no_channel", "no SMTP server"),
        ("condition_min_value", "condition", "condition min value"),
        ("incentive_no_margin_room", "no_incentive", "no incentive"),
        ("bounced_550", "bounced", "bounced"),
        ("rejected_400", "rejected", "refused by the channel"),
        ("a_brand_new_outcome", "a_brand_new_outcome", "a brand new outcome"),
    ],
)
def test_every_outcome_has_words(outcome: str, code: str, label: str) -> None:
    words = step_words(outcome)
    assert (words.code, words.label) == (code, label)
    assert words.sentence[0].isupper() and words.sentence.endswith(".")


def test_counts_are_merged_by_label_most_first() -> None:
    counts = {"no_email": 1, "waiting_quiet_hours": 3, "no_sms": 1, "suppressed": 1}
    assert counted(counts, lambda o: step_words(o).label) == (
        "quiet hours 3, no email address 1, no phone number 1, suppressed address 1"
    )
    assert counted({"test_mode": 2, "bot": 1}, skip_label) == "test mode 2, a bot 1"
    assert counted({}, skip_label) == ""


def test_a_sent_message_means_no_why() -> None:
    steps = [step(0, StepStatus.SKIPPED, "no_email"), step(1, StepStatus.SENT, "sent")]
    assert why_not_sent(case(), steps) is None
    assert why_not_sent(case(), [step(0, StepStatus.POSSIBLY_SENT, "possibly_sent")]) is None


def test_the_step_waiting_now_comes_before_an_earlier_refusal() -> None:
    later = T0 + timedelta(days=1, hours=5)
    steps = [
        step(0, StepStatus.SKIPPED, "out_of_stock", finished_at=T0 + timedelta(hours=1)),
        step(1, StepStatus.SCHEDULED, "waiting_frequency_cap", due_at=later),
    ]
    why = why_not_sent(case(), steps)
    assert why is not None
    assert (why.code, why.step, why.until) == ("frequency_cap", "help", later)
    assert why.text.endswith("Next try at 2026-05-05 13:00 UTC.")


def test_the_last_refusal_is_the_reason() -> None:
    steps = [
        step(0, StepStatus.SKIPPED, "out_of_stock", finished_at=T0 + timedelta(hours=1)),
        step(1, StepStatus.SKIPPED, "suppressed", finished_at=T0 + timedelta(hours=25)),
        step(2, StepStatus.SCHEDULED, due_at=T0 + timedelta(hours=73)),
    ]
    why = why_not_sent(case(), steps)
    assert why is not None and (why.code, why.outcome, why.step) == (
        "suppressed",
        "suppressed",
        "help",
    )


def test_what_happened_to_the_case_when_no_step_said() -> None:
    held = why_not_sent(case(holdout=True, flow_state=FlowState.HOLDOUT), [])
    assert held is not None and held.code == "holdout"
    stopped = why_not_sent(
        case(flow_state=FlowState.STOPPED, flow_stop_reason="manual_stop"),
        [step(0, StepStatus.CANCELLED, "manual_stop")],
    )
    assert stopped is not None and stopped.code == "flow_stopped"
    assert stopped.text == "Its flow was stopped (manual stop) before the first message was due."
    closed = why_not_sent(
        case(
            status=CaseStatus.RECOVERED,
            close_reason="paid",
            flow_state=FlowState.STOPPED,
            flow_stop_reason="recovered",
        ),
        [step(0, StepStatus.CANCELLED, "recovered")],
    )
    assert closed is not None and closed.code == "closed"
    assert closed.text == "The case was recovered before its first message was due (paid)."
    waiting = why_not_sent(case(), [step(0, StepStatus.SCHEDULED)])
    assert waiting is not None and waiting.code == "not_due_yet"
    assert waiting.to_json()["until"] == "2026-05-04T09:00:00Z"
    none = why_not_sent(case(flow_state=FlowState.NONE), [])
    assert none is not None and none.code == "no_flow"
