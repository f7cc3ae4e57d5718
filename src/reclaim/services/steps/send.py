"""Sending a group's queued messages: each handed over in a one-row commit, its coupon first
created on the store's platform (SPEC S6: :func:`reclaim.services.coupons.push_coupon`), then
given to its channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from time import monotonic

from reclaim.domain.messages import OutgoingEmail, OutgoingSms, SendResult
from reclaim.errors import CouponPushError, DeliveryError, InvalidInput
from reclaim.services.alerts import raise_alert
from reclaim.services.coupons import push_coupon
from reclaim.services.ports import PlatformClient, Senders, SentMark, UnitOfWork
from reclaim.services.retry import Retry, retried
from reclaim.services.steps.model import (
    ACCESS_ALERT_EVERY,
    _Outcomes,
    _Prepared,
    _Pushes,
)


def _send_group(
    uow: UnitOfWork,
    senders: Senders,
    platforms: PlatformClient | None,
    prepared: Sequence[_Prepared],
    pushes: _Pushes,
    now: datetime,
    budget: float,
    retry: Retry | None = None,
) -> _Outcomes:
    """Send a group's queued messages one after another. Each is marked ``sending`` in a
    one-row commit just before its channel call, in the same commit that marks the one
    before it ``sent``: a crash leaves at most one message "possibly sent". ``None``: not
    tried (the group ran past ``budget`` seconds, its flow stopped and called it back, or a
    lease sweep took the step). A message's coupon is created on the store's platform before
    the hand-over (what that came to goes into ``pushes``); one that could not be is not
    sent: a code the checkout refuses would do more harm than no message. A hand-over the
    database could not take for the moment is tried again (``retry``): given up, the message
    just sent would be left "possibly sent"."""
    outcomes: _Outcomes = []
    began = monotonic()
    mark: SentMark | None = None
    with uow:  # one session for the group's one-row commits; no transaction while sending
        for item in prepared:
            if isinstance(item.outgoing, InvalidInput):
                outcomes.append((item, item.outgoing))
                continue
            if monotonic() - began > budget:
                outcomes.append((item, None))
                continue
            if platforms is not None and (failed := _push(platforms, item, pushes, now)):
                outcomes.append((item, failed))
                continue
            handed = retried(retry, partial(_hand_over, uow, item, mark), undo=uow.rollback)
            mark = None
            if not handed:
                outcomes.append((item, None))
                continue
            try:
                result = _send(senders, item, now)
            except DeliveryError as exc:
                outcomes.append((item, exc))
            else:
                outcomes.append((item, result))
                mark = SentMark(item.message_id, now, result.provider_id, result.segments)
    return outcomes


def _hand_over(uow: UnitOfWork, item: _Prepared, mark: SentMark | None) -> bool:
    """Mark ``item`` sending (and the one before it sent); one commit."""
    handed = uow.messages.hand_over(
        item.message_id, sent=mark, subject=item.subject, text_body=item.text_body
    )
    uow.commit()
    return handed


def _push(
    platforms: PlatformClient, item: _Prepared, pushes: _Pushes, now: datetime
) -> CouponPushError | None:
    """Create the message's coupon on the store's platform unless that is done (or left to
    the merchant): :func:`reclaim.services.coupons.push_coupon`; the error that keeps the
    message back, if any."""
    coupon, store = item.coupon, item.store
    if coupon is None or store is None or coupon.id is None or not coupon.needs_push:
        return None
    push = pushes[coupon.id] = push_coupon(platforms, store, coupon, now)
    if push.state is not None:
        return None
    return CouponPushError(
        f"coupon not created on the store: {push.error}", permanent=push.permanent, code=push.code
    )


def _send(senders: Senders, prepared: _Prepared, now: datetime) -> SendResult:
    out = prepared.outgoing
    assert not isinstance(out, InvalidInput)
    try:
        if isinstance(out, OutgoingEmail):
            return senders.send_email(out, now=now)
        if isinstance(out, OutgoingSms):
            return senders.send_sms(out)
        return senders.send_webhook(out, now=now)
    except InvalidInput as exc:  # refused before anything left: an address or URL that is wrong
        raise DeliveryError(str(exc), permanent=True) from exc


def _coupons_unavailable(uow: UnitOfWork, store_id: str, now: datetime) -> None:
    """Tell the store's operators (at most once a day) that its codes cannot be mailed."""
    store = uow.stores.get(store_id)
    platform = store.platform if store is not None else ""
    data: dict[str, object] = {"platform": platform}
    raise_alert(uow, store_id, "coupons_unavailable", data, now=now, every=ACCESS_ALERT_EVERY)


def _sender_details_missing(uow: UnitOfWork, store_id: str, why: str, now: datetime) -> None:
    """Tell the store's operators (at most once a day) that its marketing messages are not
    sent for want of a postal address or a sender (``why``: the step's outcome)."""
    data: dict[str, object] = {"outcome": why}
    raise_alert(uow, store_id, "sender_details_missing", data, now=now, every=ACCESS_ALERT_EVERY)
