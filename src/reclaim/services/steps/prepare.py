"""Preparing a group of claimed steps: the facts each check needs are read for the whole
group, :func:`reclaim.domain.decision.decide` says of each step whether its message goes
now, and the answer is applied (the step waits, is skipped or cancelled, or its message is
written ``queued`` and its step marked ``sending``); the messages are then rendered, outside
the transaction."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from reclaim.domain.cases import TEST_MODE_EVENT, CaseKind
from reclaim.domain.decision import (
    Cancel,
    Skip,
    Wait,
    address_key,
    decide,
    halted,
    recipient,
)
from reclaim.domain.messages import Channel
from reclaim.domain.steps import Coupon, MessageRecord, MessageStatus, StepStatus
from reclaim.services.alternatives import sold_out_offer
from reclaim.services.coupons import issue_coupon
from reclaim.services.fulfilment import better_promise
from reclaim.services.order_notices import OrderFacts, at_hold_end, while_unpaid
from reclaim.services.ports import Renderer, Senders, UnitOfWork
from reclaim.services.steps.compose import _ready, _view_orders
from reclaim.services.steps.model import (
    DeliveryStats,
    _Draft,
    _Facts,
    _lock_group,
    _Prepared,
    _Work,
)
from reclaim.services.steps.send import _coupons_unavailable, _sender_details_missing
from reclaim.services.steps.settle import _skip, _wait
from reclaim.services.tracking import Links


def _prepare(
    uow: UnitOfWork,
    senders: Senders,
    renderer: Renderer,
    links: Links,
    ids: Sequence[int],
    token: str,
    now: datetime,
    lease_until: datetime,
    stats: DeliveryStats,
) -> list[_Prepared]:
    """Check each claimed step of the group again now; write the messages of those that go
    out and mark them ``sending``; one commit."""
    with uow:
        work = _load(uow, ids, token, now, stats)
        facts = _facts(uow, senders, work)
        drafts: list[_Draft] = []
        for item in work:
            draft = _check(uow, item, facts, now, stats)
            if draft is not None:
                drafts.append(draft)
                if item.case.customer_key:  # the cap counts this one for the next in the group
                    facts.last_sent[(item.store.id, item.case.customer_key)] = now
        carts: dict[str, set[str]] = {}
        for draft in drafts:
            case = draft.work.case
            if case.kind == CaseKind.ABANDONED_CHECKOUT and case.checkout_external_id:
                carts.setdefault(case.store_id, set()).add(case.checkout_external_id)
        seen = {sid: uow.facts.checkouts_many(sid, sorted(ext)) for sid, ext in carts.items()}
        for draft in drafts:  # before the messages are written: these read the database
            case = draft.work.case
            draft.promise = better_promise(
                uow, case.store_id, case, now=now, checkouts=seen.get(case.store_id, {})
            )
        _view_orders(uow, drafts)
        uow.messages.add_many([d.message for d in drafts if d.message.id is None])
        for draft in drafts:
            _queue(draft, now, lease_until)
        uow.commit()
    # Rendered outside the transaction (on SQLite it holds the database's write lock).
    return [_ready(renderer, links, draft, now) for draft in drafts]


def _load(
    uow: UnitOfWork, ids: Sequence[int], token: str, now: datetime, stats: DeliveryStats
) -> list[_Work]:
    """The group's steps that are still this run's claims, with their cases, stores and flow
    steps; the others are settled here."""
    steps, cases = _lock_group(uow, ids)
    messages = uow.messages.by_steps(ids)
    work = []
    for step_id in ids:
        step = steps.get(step_id)
        if step is None or step.status != StepStatus.CLAIMED or step.claim_token != token:
            continue
        case = cases.get(step.case_id)
        store = uow.stores.get(step.store_id)
        version = uow.flows.get(step.flow_id)
        spec = version.flow.step(step.position) if version else None
        if case is None or store is None or version is None or spec is None:
            step.finish(StepStatus.CANCELLED, at=now, outcome="gone")
            stats.cancelled += 1
            continue
        stop = halted(case, store, now)
        if isinstance(stop, Cancel):
            step.finish(StepStatus.CANCELLED, at=now, outcome=stop.why)
            stats.cancelled += 1
            continue
        if isinstance(stop, Wait):
            _wait(step, case, stop.until, stop.why, stats)
            continue
        policy = version.flow.sold_out_policy(spec)
        later = version.flow.steps[step.position + 1 :]
        closes_later = any(s.closes_case == "lost" for s in later)
        work.append(_Work(step, case, store, spec, messages.get(step_id), policy, closes_later))
    tests = uow.cases.with_event([w.case.id for w in work if w.case.id], TEST_MODE_EVENT)
    for item in work:
        item.test = item.case.id in tests
    return work


def _facts(uow: UnitOfWork, senders: Senders, work: Sequence[_Work]) -> _Facts:
    customers = {(w.store.id, w.case.customer_key) for w in work if w.case.customer_key}
    keys: set[tuple[str, str, str]] = set()
    skus: dict[str, set[str]] = {}
    for w in work:
        tried = (Channel(w.message.channel),) if w.message else (w.spec.channel, w.spec.fallback)
        for channel in tried:
            if channel is None:
                continue
            address = recipient(w.store, w.case, channel)
            key = address_key(channel, address) if address else None
            if key is not None:
                keys.add((w.store.id, channel.value, key))
        if w.case.kind == CaseKind.ABANDONED_CHECKOUT:
            skus.setdefault(w.store.id, set()).update(i.sku for i in w.case.items if i.sku)
    free: dict[str, dict[str, int]] = {}
    for store_id, wanted in skus.items():
        units = free.setdefault(store_id, {})
        if wanted:
            for level in uow.stock.levels(store_id, sorted(wanted)):
                units[level.sku] = units.get(level.sku, 0) + level.available
    return _Facts(
        last_sent=uow.messages.last_sent_many(customers),
        suppressed=uow.suppressions.suppressed(keys),
        free=free,
        channels=frozenset(c for c in Channel if senders.available(c)),
    )


def _check(
    uow: UnitOfWork, item: _Work, facts: _Facts, now: datetime, stats: DeliveryStats
) -> _Draft | None:
    """May this step's message go out now? A draft when it may; else the step is settled
    (skipped) or put back (waiting) and ``None``. The facts are read (the order's, the
    cart's stock), :func:`decide` answers, and its answer is applied here."""
    step, case, store, spec, message = item.step, item.case, item.store, item.spec, item.message
    order: OrderFacts | None = None
    cancel_due: datetime | None = None
    if case.kind == CaseKind.PENDING_ORDER:  # a message says only what Reclaim did or will do
        if spec.closes_case == "lost":  # the end of the hold: the platform is asked to cancel
            found = at_hold_end(uow, store, case, now=now)
            if isinstance(found, datetime):  # its answer is awaited
                cancel_due = found
            else:
                order = found
        else:
            order = while_unpaid(uow, store, case, closes_later=item.closes_later)
    # Never advertise what cannot be bought (SPEC S7): a cart with an item sold out
    # everywhere offers in-stock alternatives, or the step is skipped (the flow's sold_out).
    sold_out = sold_out_offer(
        uow, store.id, case, policy=item.sold_out, free=facts.free.get(store.id, {})
    )
    verdict = decide(
        case=case,
        store=store,
        spec=spec,
        now=now,
        retry=None if message is None else Channel(message.channel),
        channels=facts.channels,
        suppressed=facts.suppressed,
        last_sent=facts.last_sent.get((store.id, case.customer_key or "")),
        sold_out=sold_out is not None and not sold_out.alternatives,
        cancel_due=cancel_due,
    )
    if isinstance(verdict, Cancel):
        step.finish(StepStatus.CANCELLED, at=now, outcome=verdict.why)
        stats.cancelled += 1
        return None
    if isinstance(verdict, Wait):
        _wait(step, case, verdict.until, verdict.why, stats)
        return None
    if isinstance(verdict, Skip):
        if verdict.why.startswith("sender_"):
            _sender_details_missing(uow, store.id, verdict.why, now)
        if message is not None and verdict.cancel_retry is not None:
            message.status, message.error = MessageStatus.CANCELLED, verdict.cancel_retry
        _skip(uow, case, step, verdict.why, now, stats)
        return None
    coupon: Coupon | None = None
    if message is not None:
        if message.coupon_code:
            coupon = uow.coupons.by_code(store.id, message.coupon_code)
        return _Draft(item, verdict.channel, message, coupon, sold_out, order=order)
    if verdict.coupon_withheld:
        # A code the checkout refuses does more harm than none: the message goes without one.
        _coupons_unavailable(uow, store.id, now)
        assert case.id is not None
        uow.cases.add_event(
            case.id,
            at=now,
            type="coupon_withheld",
            data={"step": step.key, "why": "no_connector"},
        )
    elif verdict.offer is not None:
        coupon = issue_coupon(uow, store, case, verdict.offer, now)
    channel = verdict.channel
    assert step.id is not None and case.id is not None
    message = MessageRecord(
        store_id=store.id,
        case_id=case.id,
        step_id=step.id,
        customer_key=case.customer_key,
        channel=channel,
        purpose=spec.purpose,
        template=spec.template,
        locale=case.customer_locale or "en",
        recipient=verdict.address,
        created_at=now,
        coupon_code=coupon.code if coupon else None,
        # Unique without the row's id, so the rows of a group are written in one INSERT.
        header_id=(
            f"<rc.{step.id}.{secrets.token_hex(6)}@{store.domain}>"
            if channel is Channel.EMAIL
            else None
        ),
    )
    return _Draft(item, channel, message, coupon, sold_out, order=order)


def _queue(draft: _Draft, now: datetime, lease_until: datetime) -> None:
    """Mark the draft's message ``queued`` and its step ``sending``."""
    step, message = draft.work.step, draft.message
    assert message.id is not None
    message.status = MessageStatus.QUEUED
    message.attempts += 1
    step.status = StepStatus.SENDING
    step.lease_until = lease_until
    step.channel = draft.channel
    step.message_id = message.id
    step.first_attempt_at = step.first_attempt_at or now
