"""The step engine (``run_due_steps``) through the fakes: the real template renderer, fake
senders, no database. One abandoned cart of Ana's (opened at T0 + 30 min, its reminder due at
T0 + 1 h) in every test."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fakes import FakeSenders, FakeUnitOfWork, permanent, temporary
from reclaim.adapters.templates import TemplateRenderer
from reclaim.domain.cases import CaseStatus, FlowState
from reclaim.domain.messages import Channel
from reclaim.domain.policy import retry_at, suppression_key
from reclaim.domain.steps import MessageStatus, StepStatus
from reclaim.services.detection import detect_due
from reclaim.services.steps import DeliveryStats, run_due_steps
from reclaim.services.tracking import Links
from service_builders import T0, cart, flow_defaults, ingest, open_store, order

DUE = T0 + timedelta(hours=1)  # the reminder: 1 h after the cart's last activity
HELP_DUE = T0 + timedelta(hours=24)  # the flow's second step
LINKS = Links(base_url="https://reclaim.example", key=b"k" * 32)
RENDERER = TemplateRenderer()
ANA = suppression_key(Channel.EMAIL, "ana@example.com")  # how the address is kept (a digest)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    store_id = open_store(uow)
    ingest(uow, store_id, cart(T0), now=T0)
    assert detect_due(uow=uow, now=T0 + timedelta(minutes=30), flows=flow_defaults).opened == 1
    return uow


@pytest.fixture
def senders() -> FakeSenders:
    return FakeSenders()


def run(uow: FakeUnitOfWork, senders: FakeSenders, now: datetime) -> DeliveryStats:
    return run_due_steps(uow=uow, senders=senders, renderer=RENDERER, links=LINKS, now=now)


def test_nothing_goes_before_the_step_is_due(uow: FakeUnitOfWork, senders: FakeSenders) -> None:
    assert run(uow, senders, DUE - timedelta(seconds=1)) == DeliveryStats()
    assert senders.sent == []


def test_a_due_step_sends_one_email_and_schedules_the_next(
    uow: FakeUnitOfWork, senders: FakeSenders
) -> None:
    stats = run(uow, senders, DUE)

    assert stats == DeliveryStats(sent=1, outcomes={"sent": 1})
    [email] = senders.emails
    [message] = uow.rows("messages")
    assert (email.to, email.from_address) == ("ana@example.com", "Boutique <shop@shop.example>")
    assert email.subject == "Ihr Warenkorb bei Boutique wartet auf Sie"  # de-DE, her locale
    assert email.message_id == message.header_id
    assert email.message_id.startswith("<rc.1.") and email.message_id.endswith("@shop.example>")
    assert email.list_unsubscribe_url == LINKS.unsubscribe(1)
    assert email.headers == (("X-Reclaim-Message", "1"),)
    assert LINKS.open(1) in email.html  # the open pixel
    assert (message.status, message.sent_at, message.provider_id, message.attempts) == (
        MessageStatus.SENT,
        DUE,
        "fake-email-1",
        1,
    )
    assert (message.channel, message.template, message.recipient, message.subject) == (
        "email",
        "abandoned_checkout/reminder",
        "ana@example.com",
        email.subject,
    )
    reminder, help_step = uow.rows("steps")
    assert (reminder.status, reminder.outcome, reminder.finished_at, reminder.message_id) == (
        StepStatus.SENT,
        "sent",
        DUE,
        1,
    )
    assert (help_step.key, help_step.status, help_step.due_at) == (
        "help",
        StepStatus.SCHEDULED,
        HELP_DUE,
    )
    [case] = uow.rows("cases")
    assert case.next_step_at == HELP_DUE
    assert [(e.type, e.data) for e in uow.rows("case_events")][-1] == (
        "message_sent",
        {"message": 1, "step": "reminder", "channel": "email"},
    )
    assert run(uow, senders, DUE) == DeliveryStats()  # sent once


def test_a_suppressed_address_is_skipped_and_the_flow_moves_on(
    uow: FakeUnitOfWork, senders: FakeSenders
) -> None:
    store_id = uow.rows("stores")[0].id
    with uow:
        uow.suppressions.add(
            store_id=store_id,
            channel="email",
            address_key=ANA,
            reason="unsubscribed",
            at=T0,
            message_id=None,
        )
        uow.commit()

    stats = run(uow, senders, DUE)

    assert stats == DeliveryStats(skipped=1, outcomes={"suppressed": 1})
    assert senders.sent == [] and senders.attempts == {}
    assert uow.rows("messages") == []
    reminder, help_step = uow.rows("steps")
    assert (reminder.status, reminder.outcome) == (StepStatus.SKIPPED, "suppressed")
    assert (help_step.key, help_step.due_at) == ("help", HELP_DUE)
    assert [(e.type, e.data) for e in uow.rows("case_events")][-1] == (
        "step_skipped",
        {"step": "reminder", "why": "suppressed"},
    )


def test_a_paid_case_stops_its_flow_and_nothing_is_sent(
    uow: FakeUnitOfWork, senders: FakeSenders
) -> None:
    store_id = uow.rows("stores")[0].id
    paid = T0 + timedelta(minutes=40)
    ingest(uow, store_id, order("order.paid", paid, checkout_id="c1"), now=paid)

    assert run(uow, senders, DUE) == DeliveryStats()

    assert senders.sent == []
    [case] = uow.rows("cases")
    assert (case.status, case.closed_at, case.recovered_order_external_id) == (
        CaseStatus.RECOVERED,
        paid,  # the order's creation: the cart was completed then
        "o1",
    )
    assert (case.flow_state, case.flow_stop_reason, case.next_step_at) == (
        FlowState.STOPPED,
        "recovered",
        None,
    )
    [reminder] = uow.rows("steps")
    assert (reminder.status, reminder.outcome, reminder.finished_at) == (
        StepStatus.CANCELLED,
        "recovered",
        paid,
    )


def test_a_temporary_failure_is_retried_later_with_the_same_message(
    uow: FakeUnitOfWork, senders: FakeSenders
) -> None:
    senders.fail_next(Channel.EMAIL, temporary())

    stats = run(uow, senders, DUE)

    assert stats == DeliveryStats(deferred=1, outcomes={"deferred_451": 1})
    assert senders.emails == [] and senders.attempts == {Channel.EMAIL: 1}
    [reminder] = uow.rows("steps")
    retry = retry_at(DUE, 1, now=DUE, seed=str(reminder.id))
    assert retry is not None and retry >= DUE + timedelta(minutes=30)
    assert (reminder.status, reminder.due_at, reminder.outcome, reminder.lease_until) == (
        StepStatus.SCHEDULED,
        retry,
        "deferred_451",
        None,
    )
    [message] = uow.rows("messages")
    assert (message.status, message.error, message.attempts) == (
        MessageStatus.DEFERRED,
        "451 4.3.0 try again later",
        1,
    )
    assert uow.rows("cases")[0].next_step_at == retry

    assert run(uow, senders, retry - timedelta(seconds=1)) == DeliveryStats()
    assert run(uow, senders, retry) == DeliveryStats(sent=1, outcomes={"sent": 1})

    [email] = senders.emails
    [message] = uow.rows("messages")  # the retry sent the message written the first time
    assert (message.status, message.attempts, message.error) == (MessageStatus.SENT, 2, None)
    assert email.message_id == message.header_id


def test_a_hard_bounce_suppresses_the_address_and_stops_the_customer_flows(
    uow: FakeUnitOfWork, senders: FakeSenders
) -> None:
    senders.fail_next(Channel.EMAIL, permanent())

    stats = run(uow, senders, DUE)

    assert stats == DeliveryStats(failed=1, outcomes={"bounced_550": 1})
    [message] = uow.rows("messages")
    assert (message.status, message.error) == (MessageStatus.BOUNCED, "550 5.1.1 no such user")
    [reminder] = uow.rows("steps")  # the flow stopped: no next step
    assert (reminder.status, reminder.outcome) == (StepStatus.FAILED, "bounced_550")
    store_id = uow.rows("stores")[0].id
    with uow:
        assert uow.suppressions.entry(store_id, "email", ANA) == ("bounced", DUE)
    [case] = uow.rows("cases")
    assert (case.status, case.flow_state, case.flow_stop_reason) == (
        CaseStatus.OPEN,
        FlowState.STOPPED,
        "bounced",
    )


def test_a_channel_that_is_not_configured_is_skipped_with_the_reason(
    uow: FakeUnitOfWork,
) -> None:
    senders = FakeSenders(channels=frozenset({Channel.SMS}))

    stats = run(uow, senders, DUE)

    assert stats == DeliveryStats(skipped=1, outcomes={"email_not_configured": 1})
    assert senders.sent == []
