"""Claiming due steps and their leases: a batch of due steps claimed for a run, and expired
leases swept (claims put back, sends that may have gone out settled as such)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reclaim.domain.steps import MessageStatus, StepStatus
from reclaim.services.ports import UnitOfWork
from reclaim.services.steps.model import DeliveryStats
from reclaim.services.steps.record import _put_back, _sent_event
from reclaim.services.steps.settle import _advance


def _claim(
    uow: UnitOfWork, *, now: datetime, lease_until: datetime, limit: int, token: str
) -> Sequence[int]:
    """Claim up to ``limit`` steps due at ``now`` for the run ``token``, leased until
    ``lease_until``; one commit."""
    with uow:
        ids = uow.steps.claim(now=now, lease_until=lease_until, limit=limit, token=token)
        uow.commit()
    return ids


def release_expired(*, uow: UnitOfWork, now: datetime, stats: DeliveryStats) -> None:
    """Return expired claims to the queue; settle expired sends as ``possibly_sent``."""
    while True:
        with uow:
            expired = uow.steps.expired(now=now, limit=200)
            for step in expired:
                if step.status == StepStatus.CLAIMED:
                    step.status, step.lease_until = StepStatus.SCHEDULED, None
                    stats.released += 1
                    continue
                # The worker died after committing its group as "sending".
                message = uow.messages.get(step.message_id) if step.message_id else None
                if message is not None and message.status == MessageStatus.QUEUED:
                    _put_back(step, message)  # never handed to the channel: due again
                    stats.released += 1
                    continue
                if message is not None and message.status == MessageStatus.CANCELLED:
                    step.finish(StepStatus.CANCELLED, at=now, outcome="called_back")
                    stats.cancelled += 1  # its flow stopped before it was handed over
                    continue
                case = uow.cases.get(step.case_id, lock=True)
                if message is not None and message.status == MessageStatus.SENT:
                    # The channel took it and that was recorded; the rest was not.
                    step.finish(StepStatus.SENT, at=now, outcome="sent")
                    _sent_event(uow, step, message, at=message.sent_at or now)
                    stats.sent += 1
                else:
                    # It died between committing "sending" and recording the answer.
                    if message is not None and message.status == MessageStatus.SENDING:
                        message.status = MessageStatus.POSSIBLY_SENT
                        message.sent_at = message.sent_at or now
                    step.finish(StepStatus.POSSIBLY_SENT, at=now, outcome="possibly_sent")
                    stats.possibly_sent += 1
                if case is not None:
                    _advance(uow, case, step, now)
            uow.commit()
        if len(expired) < 200:
            return
