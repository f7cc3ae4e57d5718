"""Recording a group's answers: each message sent, refused (retried with backoff, bounced and
suppressed, or given up), unrenderable or not tried; what its coupon's push came to; and the
next steps scheduled, in one transaction for the group."""

from __future__ import annotations

from datetime import datetime

from reclaim.domain.cases import Case
from reclaim.domain.messages import Channel, SendResult
from reclaim.domain.policy import retry_at, suppression_key
from reclaim.domain.steps import MessageRecord, MessageStatus, ScheduledStep, StepStatus
from reclaim.errors import CouponPushError, DeliveryError, InvalidInput
from reclaim.services.alerts import raise_alert
from reclaim.services.coupons import note_push
from reclaim.services.flows import stop_customer_flows
from reclaim.services.ports import UnitOfWork
from reclaim.services.steps.model import (
    ACCESS_ALERT_EVERY,
    DeliveryStats,
    _lock_group,
    _Outcomes,
    _Pushes,
)
from reclaim.services.steps.send import _coupons_unavailable
from reclaim.services.steps.settle import _advance, _skip


def _record(
    uow: UnitOfWork, outcomes: _Outcomes, pushes: _Pushes, now: datetime, stats: DeliveryStats
) -> None:
    """Record a group's answers (``None``: not tried), what its coupons' pushes came to, and
    schedule the next steps; one commit."""
    if not outcomes:
        return
    with uow:
        for coupon_id, coupon in uow.coupons.get_many(list(pushes)).items():
            push = pushes[coupon_id]
            note_push(uow, coupon, state=push.state, ref=push.ref, error=push.error, now=now)
            if push.refused_access is not None:  # a person must fix the store's API access
                raise_alert(
                    uow,
                    coupon.store_id,
                    "platform_access",
                    {
                        "platform": push.refused_access[0],
                        "code": push.refused_access[1],
                        "what": "create a coupon",
                    },
                    now=now,
                    every=ACCESS_ALERT_EVERY,
                )
            if push.unavailable:
                _coupons_unavailable(uow, coupon.store_id, now)
        steps, cases = _lock_group(uow, [p.step_id for p, _ in outcomes])
        messages = uow.messages.get_many([p.message_id for p, _ in outcomes])
        for prepared, outcome in outcomes:
            step, message = steps.get(prepared.step_id), messages.get(prepared.message_id)
            assert step is not None and message is not None
            case = cases.get(step.case_id)
            assert case is not None
            if prepared.subject is not None:
                message.subject = prepared.subject
            if prepared.locale is not None:
                message.locale = prepared.locale
            if prepared.text_body is not None:
                message.text_body = prepared.text_body
            if outcome is None:
                _untried(step, message, case, now, stats)
            elif isinstance(outcome, InvalidInput):
                _unrenderable(uow, step, message, case, outcome, now, stats)
            elif isinstance(outcome, DeliveryError):
                _failed(uow, step, message, case, outcome, now, stats)
            else:
                _delivered(uow, step, message, case, outcome, now, stats)
        uow.commit()


def _delivered(
    uow: UnitOfWork,
    step: ScheduledStep,
    message: MessageRecord,
    case: Case,
    result: SendResult,
    now: datetime,
    stats: DeliveryStats,
) -> None:
    message.status = MessageStatus.SENT
    message.sent_at = now
    message.provider_id = result.provider_id
    message.segments = result.segments
    message.error = None
    if step.status == StepStatus.SENDING:  # not already settled by a lease sweep
        step.finish(StepStatus.SENT, at=now, outcome="sent")
        _sent_event(uow, step, message, at=now)
        _advance(uow, case, step, now)
    stats.sent += 1
    stats.count("sent")


def _untried(
    step: ScheduledStep, message: MessageRecord, case: Case, now: datetime, stats: DeliveryStats
) -> None:
    """A prepared message not handed over: called back by its flow's stop, the step is
    cancelled; else (the group ran out of time) the step is due again at once and its
    message is sent as a retry (same channel, same coupon)."""
    if step.status != StepStatus.SENDING:
        return
    if message.status == MessageStatus.CANCELLED:
        step.finish(StepStatus.CANCELLED, at=now, outcome="called_back")
        stats.cancelled += 1
        stats.count("called_back")
        return
    _put_back(step, message)
    step.due_at = case.next_step_at = now
    stats.deferred += 1
    stats.count("deferred_not_tried")


def _unrenderable(
    uow: UnitOfWork,
    step: ScheduledStep,
    message: MessageRecord,
    case: Case,
    exc: InvalidInput,
    now: datetime,
    stats: DeliveryStats,
) -> None:
    message.status, message.error = MessageStatus.FAILED, str(exc)[:500]
    step.error = message.error
    if step.status == StepStatus.SENDING:
        _skip(uow, case, step, "template_error", now, stats, status=StepStatus.FAILED)


def _put_back(step: ScheduledStep, message: MessageRecord) -> None:
    """A step whose message was never handed to the channel goes back to the queue; the
    message is then sent as a retry (same channel, same coupon)."""
    message.status = MessageStatus.DEFERRED
    message.attempts = max(0, message.attempts - 1)
    step.status, step.lease_until = StepStatus.SCHEDULED, None
    step.outcome = "deferred_not_tried"


def _sent_event(uow: UnitOfWork, step: ScheduledStep, message: MessageRecord, at: datetime) -> None:
    uow.cases.add_event(
        step.case_id,
        at=at,
        type="message_sent",
        data={"message": message.id, "step": step.key, "channel": message.channel},
    )


def _failed(
    uow: UnitOfWork,
    step: ScheduledStep,
    message: MessageRecord,
    case: Case,
    exc: DeliveryError,
    now: datetime,
    stats: DeliveryStats,
) -> None:
    message.error = str(exc)[:500]
    step.error = message.error
    if step.status != StepStatus.SENDING:
        return
    if not exc.permanent:
        assert step.first_attempt_at is not None
        retry = retry_at(step.first_attempt_at, message.attempts, now=now, seed=str(step.id))
        if retry is not None:
            message.status = MessageStatus.DEFERRED
            step.status, step.due_at, step.lease_until = StepStatus.SCHEDULED, retry, None
            step.outcome = (
                "deferred_coupon_push"
                if isinstance(exc, CouponPushError)
                else f"deferred_{exc.code or 'network'}"
            )
            case.next_step_at = retry
            stats.deferred += 1
            stats.count(step.outcome)
            return
        message.status = MessageStatus.FAILED
        step.finish(StepStatus.FAILED, at=now, outcome="gave_up")
    elif exc.suppress:
        message.status = MessageStatus.BOUNCED
        step.finish(StepStatus.FAILED, at=now, outcome=f"bounced_{exc.code or ''}".rstrip("_"))
        uow.suppressions.add(
            store_id=message.store_id,
            channel=message.channel,
            address_key=suppression_key(Channel(message.channel), message.recipient),
            reason="bounced",
            at=now,
            message_id=message.id,
        )
        if message.customer_key:
            stop_customer_flows(
                uow, message.store_id, message.customer_key, at=now, reason="bounced"
            )
    else:
        message.status = MessageStatus.FAILED
        refused = (
            "coupon_rejected"
            if isinstance(exc, CouponPushError)
            else f"rejected_{exc.code or ''}".rstrip("_")
        )
        step.finish(StepStatus.FAILED, at=now, outcome=refused)
    _advance(uow, case, step, now)
    stats.failed += 1
    stats.count(step.outcome or "failed")
