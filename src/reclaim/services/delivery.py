"""Running due steps: check, render, send, record (SPEC S3-S6).

Due steps go through short transactions around the channel calls, so that no send happens
inside a transaction and a crash at any point loses nothing:

1. **claim** (a batch, 100 by default): due ``scheduled`` rows become ``claimed`` with a lease.
2. **prepare** (a group of the batch, :data:`GROUP`): for each step the case, conditions,
   consent, suppression, quiet hours and the frequency cap are checked again *now*; the
   messages are written as ``queued`` and their steps become ``sending`` (one commit); then
   they are rendered, outside any transaction.
3. **send**: one message after another over the same connections; each is marked
   ``sending`` in a one-row commit just before its channel call, in the commit that marks
   the one before it ``sent``. A message carrying a coupon first has it created on the
   store's platform (SPEC S6); one the platform could not take is not sent.
4. **record**: the answers are recorded and the next steps scheduled, one transaction for
   the group.

A group shares its transactions (one query loads its steps, one its cases, one its
customers' last messages, one INSERT writes its messages, …), so a message costs a share of
them rather than round trips of its own. Rendering outside the transaction keeps SQLite's
write lock (held from a transaction's start) short for the webhooks arriving meanwhile.

A worker that dies in 1–2 leaves ``claimed`` rows whose lease expires: they are claimed
again. One that dies in 2–4 leaves ``sending`` steps; their messages tell how far each got:
``queued`` ones were never handed over and are sent again, ``sent`` ones are settled as sent,
and the one ``sending`` (at most one per worker) may have gone out, so it becomes
``possibly_sent`` and the flow moves on without sending it again. A flow stopped (a payment,
an unsubscribe) while its message is ``queued`` calls the message back: the hand-over finds
it ``cancelled`` and it is not sent (ADR 0004). A group whose sending takes longer than half
the lease stops early: its steps not yet sent go back to the queue.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import formataddr
from time import monotonic

from reclaim.domain.alternatives import SoldOutPolicy
from reclaim.domain.cases import Case, CaseKind, CaseStatus, FlowState
from reclaim.domain.connectors import codes_work
from reclaim.domain.events import LineItem
from reclaim.domain.flows import Step
from reclaim.domain.incentives import Offer, new_coupon_code, plan_offer
from reclaim.domain.messages import (
    Channel,
    CouponView,
    DeliveryPromise,
    ItemView,
    MessageContext,
    OutgoingEmail,
    OutgoingSms,
    OutgoingWebhook,
    SendResult,
    StoreView,
)
from reclaim.domain.money import amount_text
from reclaim.domain.policy import (
    DEFAULT_QUIET_HOURS,
    consent_decision,
    earliest_send,
    retry_at,
    suppression_key,
)
from reclaim.domain.steps import (
    Coupon,
    MessageRecord,
    MessageStatus,
    ScheduledStep,
    StepStatus,
)
from reclaim.domain.stores import Store
from reclaim.errors import CouponPushError, DeliveryError, InvalidInput
from reclaim.services.alerts import raise_alert
from reclaim.services.alternatives import (
    SoldOut,
    alternative_views,
    mark_sold_out,
    sold_out_offer,
)
from reclaim.services.coupons import note_push
from reclaim.services.flows import schedule_after, stop_customer_flows
from reclaim.services.fulfilment import better_promise
from reclaim.services.order_notices import OrderFacts, at_hold_end, while_unpaid
from reclaim.services.order_view import OrderView, order_view, with_totals
from reclaim.services.ports import PlatformClient, Renderer, Senders, SentMark, UnitOfWork
from reclaim.services.resolution import close
from reclaim.services.tracking import Links, allowed_hosts, item_view

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
GROUP = 20  # steps prepared, sent and recorded together (see the module's docstring)
PAUSED_RETRY = timedelta(hours=1)
ACCESS_ALERT_EVERY = timedelta(days=1)  # a store's refused API access is told once a day


@dataclass(slots=True)
class DeliveryStats:
    sent: int = 0
    skipped: int = 0
    waiting: int = 0  # quiet hours, frequency cap, paused store: due again later
    deferred: int = 0  # transient channel failure: retried with backoff
    failed: int = 0
    cancelled: int = 0
    released: int = 0  # expired leases put back
    possibly_sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return (
            self.sent + self.skipped + self.waiting + self.deferred + self.failed + self.cancelled
        )

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A queued message, rendered: what the sender hands to the channel."""

    step_id: int
    message_id: int
    channel: Channel
    # InvalidInput: the merchant's template could not render (recorded, never sent)
    outgoing: OutgoingEmail | OutgoingSms | OutgoingWebhook | InvalidInput
    subject: str | None = None
    coupon: Coupon | None = None  # pushed to the store's platform before the message goes
    store: Store | None = None
    locale: str | None = None  # the locale the message was written and formatted in


@dataclass(frozen=True, slots=True)
class _Push:
    """What pushing a coupon to the store's platform came to (recorded with the group)."""

    state: str | None  # "pushed", "exported" (no connector), None (failed: tried again)
    ref: str | None
    error: str | None
    refused_access: tuple[str, int] | None = None  # (platform, 401|403): credentials refused
    unavailable: bool = False  # no connector, and the operator does not import codes


# What became of a prepared message: the channel's answer, its refusal, a template that
# could not render, or None (not tried: out of time, called back, or taken by a lease sweep).
_Outcome = SendResult | DeliveryError | InvalidInput | None
_Outcomes = list[tuple[_Prepared, _Outcome]]
_Pushes = dict[int, _Push]  # coupon id -> what its push came to


def run_due_steps(
    *,
    uow: UnitOfWork,
    senders: Senders,
    renderer: Renderer,
    links: Links,
    now: datetime,
    batch: int = 100,
    lease: timedelta = LEASE,
    group: int = GROUP,
    platforms: PlatformClient | None = None,
) -> DeliveryStats:
    """Do every step due at ``now``, batch after batch, until none is left (including steps
    that became due because the one before was skipped at this same instant).

    ``platforms``: where a message carries a coupon, it is created on the store's platform
    first (SPEC S6); without a client, coupons are left as they are."""
    if group < 1:
        raise InvalidInput("group must be at least 1", field="group")
    stats = DeliveryStats()
    token = secrets.token_hex(8)  # this run's claims: a claim that expired and was taken
    release_expired(uow=uow, now=now, stats=stats)  # by another worker is not ours any more
    budget = lease.total_seconds() / 2  # wall-clock seconds a group may spend sending
    began = monotonic()

    def lease_end() -> datetime:
        # ``now`` is the run's instant; a run that lasts (a burst) leases from the time it
        # has been running, or another worker's sweep would find its leases long expired.
        return now + timedelta(seconds=monotonic() - began) + lease

    while True:
        with uow:
            ids = uow.steps.claim(now=now, lease_until=lease_end(), limit=batch, token=token)
            uow.commit()
        for start in range(0, len(ids), group):
            chunk = ids[start : start + group]
            prepared = _prepare(
                uow, senders, renderer, links, chunk, token, now, lease_end(), stats
            )
            pushes: _Pushes = {}
            outcomes = _send_group(uow, senders, platforms, prepared, pushes, now, budget)
            _record(uow, outcomes, pushes, now, stats)
        if not ids:  # a skipped step may make the next one due now: loop until none is
            return stats


def _send_group(
    uow: UnitOfWork,
    senders: Senders,
    platforms: PlatformClient | None,
    prepared: Sequence[_Prepared],
    pushes: _Pushes,
    now: datetime,
    budget: float,
) -> _Outcomes:
    """Send a group's queued messages one after another. Each is marked ``sending`` in a
    one-row commit just before its channel call, in the same commit that marks the one
    before it ``sent``: a crash leaves at most one message "possibly sent". ``None``: not
    tried (the group ran past ``budget`` seconds, its flow stopped and called it back, or a
    lease sweep took the step). A message's coupon is created on the store's platform before
    the hand-over (what that came to goes into ``pushes``); one that could not be is not
    sent: a code the checkout refuses would do more harm than no message."""
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
            handed = uow.messages.hand_over(item.message_id, sent=mark, subject=item.subject)
            uow.commit()
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


def _push(
    platforms: PlatformClient, item: _Prepared, pushes: _Pushes, now: datetime
) -> CouponPushError | None:
    """Create the message's coupon on the store's platform unless that is done (or left to
    the merchant); the error that keeps the message back, if any. Pushing again after a crash
    is safe: each platform's adapter finds a code it already has."""
    coupon, store = item.coupon, item.store
    if coupon is None or store is None or coupon.id is None or not coupon.needs_push:
        return None
    try:
        ref = platforms.create_coupon(store, coupon, now=now)
    except DeliveryError as exc:
        error = str(exc)[:500]
        if exc.permanent and exc.code is None and store.settings.coupons_imported:
            pushes[coupon.id] = _Push("exported", None, error)  # the merchant imports the codes
            return None
        if exc.permanent and exc.code is None:  # API access taken away since it was issued
            pushes[coupon.id] = _Push(None, None, error, unavailable=True)
            return CouponPushError(f"coupon not created on the store: {error}", permanent=True)
        denied = (store.platform, exc.code) if exc.permanent and exc.code in (401, 403) else None
        pushes[coupon.id] = _Push(None, None, error, denied)
        return CouponPushError(
            f"coupon not created on the store: {error}", permanent=exc.permanent, code=exc.code
        )
    pushes[coupon.id] = _Push("pushed", ref, None)
    return None


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


# -- prepare ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Work:
    """A claimed step whose case is open and running, with what it is checked against."""

    step: ScheduledStep
    case: Case
    store: Store
    spec: Step
    message: MessageRecord | None  # set on a retry after a transient failure
    sold_out: SoldOutPolicy  # what the flow says to do about an item sold out everywhere
    closes_later: bool = False  # a later step of the flow closes the case at the hold's end


@dataclass(slots=True)
class _Draft:
    """A step that passed its checks: its message is about to be written and sent."""

    work: _Work
    channel: Channel
    message: MessageRecord
    coupon: Coupon | None
    sold_out: SoldOut | None
    promise: DeliveryPromise | None = None
    order: OrderFacts | None = None  # a pending order: what its message may say of it
    shown: OrderView | None = None  # the order's name, charges and how to pay it


@dataclass(slots=True)
class _Facts:
    """What a group's checks read from the database, loaded for the whole group at once."""

    last_sent: dict[tuple[str, str], datetime]
    suppressed: set[tuple[str, str, str]]
    free: dict[str, dict[str, int]]  # store -> sku -> units available across warehouses


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
            draft = _check(uow, senders, item, facts, now, stats)
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
        if case.status != CaseStatus.OPEN or case.flow_state != FlowState.RUNNING:
            step.finish(StepStatus.CANCELLED, at=now, outcome=f"case_{case.status}")
            stats.cancelled += 1
            continue
        if store.paused:
            _wait(step, case, now + PAUSED_RETRY, "store_paused", stats)
            continue
        policy = version.flow.sold_out_policy(spec)
        later = version.flow.steps[step.position + 1 :]
        closes_later = any(s.closes_case == "lost" for s in later)
        work.append(_Work(step, case, store, spec, messages.get(step_id), policy, closes_later))
    return work


def _lock_group(
    uow: UnitOfWork, ids: Sequence[int]
) -> tuple[dict[int, ScheduledStep], dict[int, Case]]:
    """A group's steps and their cases, locked in the order a payment's transaction takes
    them (cases, then steps; PostgreSQL), the steps read afresh under their lock. Where the
    transaction already holds the database's one write lock (SQLite) nothing can change
    between the reads, so the steps are read once."""
    seen = uow.steps.get_many(ids)
    cases = uow.cases.get_many([s.case_id for s in seen.values()], lock=True)
    if not uow.row_locks:
        return seen, cases
    return uow.steps.get_many(ids, lock=True), cases


def _facts(uow: UnitOfWork, senders: Senders, work: Sequence[_Work]) -> _Facts:
    customers = {(w.store.id, w.case.customer_key) for w in work if w.case.customer_key}
    keys: set[tuple[str, str, str]] = set()
    skus: dict[str, set[str]] = {}
    for w in work:
        tried = (Channel(w.message.channel),) if w.message else (w.spec.channel, w.spec.fallback)
        for channel in tried:
            if channel is None:
                continue
            address = _address(w.store, w.case, channel)
            key = _key(channel, address) if address else None
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
    )


def _check(
    uow: UnitOfWork,
    senders: Senders,
    item: _Work,
    facts: _Facts,
    now: datetime,
    stats: DeliveryStats,
) -> _Draft | None:
    """May this step's message go out now? A draft when it may; else the step is settled
    (skipped) or put back (waiting) and ``None``."""
    step, case, store, spec, message = item.step, item.case, item.store, item.spec, item.message
    order: OrderFacts | None = None
    if case.kind == CaseKind.PENDING_ORDER:  # a message says only what Reclaim did or will do
        if spec.closes_case == "lost":  # the end of the hold: the platform is asked to cancel
            found = at_hold_end(uow, store, case, now=now)
            if isinstance(found, datetime):  # its answer is awaited
                _wait(step, case, found, "order_cancel", stats)
                return None
            order = found
        else:
            order = while_unpaid(uow, store, case, closes_later=item.closes_later)
    if message is None:
        unmet = spec.conditions.unmet(case, returning=_returning(case), score_band=None)
        if unmet is not None:
            _skip(uow, case, step, f"condition_{unmet}", now, stats)
            return None
    # Never advertise what cannot be bought (SPEC S7): a cart with an item sold out
    # everywhere offers in-stock alternatives, or the step is skipped (the flow's sold_out).
    sold_out = sold_out_offer(
        uow, store.id, case, policy=item.sold_out, free=facts.free.get(store.id, {})
    )
    if sold_out is not None and not sold_out.alternatives:
        if message is not None:  # a retry: what it was to offer has sold out meanwhile
            message.status, message.error = MessageStatus.CANCELLED, "sold out before the retry"
        _skip(uow, case, step, "out_of_stock", now, stats)
        return None
    choice = _channel(senders, store, case, spec, message, facts.suppressed)
    if isinstance(choice, str):
        _skip(uow, case, step, choice, now, stats)
        return None
    channel, address = choice
    coupon: Coupon | None = None
    if message is not None:
        if message.coupon_code:
            coupon = uow.coupons.by_code(store.id, message.coupon_code)
        return _Draft(item, channel, message, coupon, sold_out, order=order)
    last = facts.last_sent.get((store.id, case.customer_key or ""))
    release = earliest_send(
        now,
        tz=case.customer_timezone or store.timezone,
        quiet=DEFAULT_QUIET_HOURS.get(channel),
        last_sent_at=last,
        cap=store.settings.frequency_cap,
    )
    if release > now:
        capped = last is not None and last + store.settings.frequency_cap > now
        _wait(step, case, release, "frequency_cap" if capped else "quiet_hours", stats)
        return None
    if spec.incentive is not None and not codes_work(store):
        # A code the checkout refuses does more harm than none: the message goes without one.
        _coupons_unavailable(uow, store.id, now)
        assert case.id is not None
        uow.cases.add_event(
            case.id,
            at=now,
            type="coupon_withheld",
            data={"step": step.key, "why": "no_connector"},
        )
    elif spec.incentive is not None:
        planned = plan_offer(
            spec.incentive,
            order_value=case.value,
            currency=case.currency,
            shipping_cost=None,
            gross_margin=store.settings.gross_margin,
            margin_floor=store.settings.margin_floor,
            now=now,
        )
        if not isinstance(planned, Offer):
            _skip(uow, case, step, f"incentive_{planned.reason}", now, stats)
            return None
        coupon = _issue_coupon(uow, store, case, planned, now)
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
        recipient=address,
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


def _coupons_unavailable(uow: UnitOfWork, store_id: str, now: datetime) -> None:
    """Tell the store's operators (at most once a day) that its codes cannot be mailed."""
    store = uow.stores.get(store_id)
    platform = store.platform if store is not None else ""
    data: dict[str, object] = {"platform": platform}
    raise_alert(uow, store_id, "coupons_unavailable", data, now=now, every=ACCESS_ALERT_EVERY)


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


def _ready(renderer: Renderer, links: Links, draft: _Draft, now: datetime) -> _Prepared:
    """The queued draft rendered for its channel; a template that cannot render is kept as
    the outcome, to be recorded with the group's answers."""
    step, case, store, spec = draft.work.step, draft.work.case, draft.work.store, draft.work.spec
    message, channel = draft.message, draft.channel
    assert message.id is not None and step.id is not None
    try:
        outgoing, subject, locale = _compose(
            renderer,
            links,
            store,
            case,
            spec,
            message,
            channel,
            draft.coupon,
            draft.promise,
            now,
            draft.sold_out,
            draft.order,
            draft.shown,
        )
    except InvalidInput as exc:  # a merchant's template that cannot render
        return _Prepared(step.id, message.id, channel, exc)
    return _Prepared(step.id, message.id, channel, outgoing, subject, draft.coupon, store, locale)


def _returning(case: Case) -> bool | None:
    count = case.contact.orders_count
    return None if count is None else count > 0


def _channel(
    senders: Senders,
    store: Store,
    case: Case,
    spec: Step,
    message: MessageRecord | None,
    suppressed: set[tuple[str, str, str]],
) -> tuple[Channel, str] | str:
    """The channel and address to use now, or why there is none (the first reason)."""
    if message is not None:  # a retry goes where the first attempt went
        candidates = [Channel(message.channel)]
    else:
        candidates = [spec.channel] + ([spec.fallback] if spec.fallback else [])
    first_reason: str | None = None
    for channel in candidates:
        reason = None
        address = _address(store, case, channel)
        if address is None:
            reason = f"no_{channel}"
        elif not senders.available(channel):
            reason = f"{channel}_not_configured"
        elif (key := _key(channel, address)) is None:
            reason = f"bad_{channel}_address"
        elif (store.id, channel.value, key) in suppressed:
            reason = "suppressed"
        else:
            opted = (
                case.contact.accepts_sms_marketing
                if channel is Channel.SMS
                else (case.contact.accepts_email_marketing)
            )
            decision = consent_decision(
                channel=channel,
                purpose=spec.purpose,
                country=case.contact.country,
                opted_in=opted,
                store_requires_consent=store.settings.requires_consent,
            )
            if not decision.allowed:
                reason = f"consent_{decision.rule}"
        if reason is None:
            assert address is not None
            return channel, address
        first_reason = first_reason or reason
    return first_reason or "no_channel"


def _key(channel: Channel, address: str) -> str | None:
    try:
        return suppression_key(channel, address)
    except InvalidInput:  # an email without @, a phone that is not E.164: unusable
        return None


def _address(store: Store, case: Case, channel: Channel) -> str | None:
    if channel is Channel.EMAIL:
        return case.email
    if channel is Channel.SMS:
        return case.phone
    return store.settings.webhook_url


def _issue_coupon(uow: UnitOfWork, store: Store, case: Case, offer: Offer, now: datetime) -> Coupon:
    assert case.id is not None
    for _ in range(8):  # 10 characters of 31 symbols: a collision is a ~1e-15 event
        code = new_coupon_code()
        coupon = Coupon(
            store_id=store.id,
            case_id=case.id,
            # Stripe's promotion codes are letters and digits only: shown as pushed there.
            code=code.replace("-", "") if store.platform == "stripe" else code,
            kind=offer.kind,
            value=offer.value,
            discount=offer.discount,
            currency=offer.currency,
            min_order=offer.min_order,
            expires_at=offer.expires_at,
            created_at=now,
        )
        if uow.coupons.add(coupon):
            uow.cases.add_event(case.id, at=now, type="coupon_issued", data={"code": coupon.code})
            return coupon
    raise RuntimeError("could not draw an unused coupon code")


def _compose(
    renderer: Renderer,
    links: Links,
    store: Store,
    case: Case,
    spec: Step,
    message: MessageRecord,
    channel: Channel,
    coupon: Coupon | None,
    promise: DeliveryPromise | None,
    now: datetime,
    sold_out: SoldOut | None = None,
    order: OrderFacts | None = None,
    shown: OrderView | None = None,
) -> tuple[OutgoingEmail | OutgoingSms | OutgoingWebhook, str | None, str]:
    """The message for its channel, and the subject and locale to record (the locale the
    message is actually in: the customer's, or the fallback language's where theirs has no
    template)."""
    assert message.id is not None
    s = store.settings
    hosts = allowed_hosts(store)
    shown = shown or OrderView(order_number=case.order_external_id)
    items, totals = with_totals(
        mark_sold_out(tuple(_item(links, message.id, i, hosts) for i in case.items), sold_out),
        case.value,
        case.currency,
        shown.charges,
    )
    context = MessageContext(
        kind=case.kind,
        step=spec.key,
        locale=message.locale,
        timezone=case.customer_timezone or store.timezone,
        currency=case.currency,
        store=StoreView(
            name=store.name,
            domain=store.domain,
            postal_address=s.postal_address,
            support_email=s.support_email,
            support_phone=s.support_phone,
            logo_url=s.logo_url,
        ),
        first_name=case.contact.first_name,
        items=items,
        totals=totals,
        payment=shown.payment,
        alternatives=alternative_views(links, message.id, sold_out, hosts),
        total=case.value,
        restore_url=links.restore(message.id),
        unsubscribe_url=links.unsubscribe(message.id),
        reason=case.reason if case.kind in ("failed_payment", "shipment_exception") else None,
        order_number=shown.order_number,
        coupon=None if coupon is None else _coupon_view(coupon),
        promise=promise,
        hold_expires_at=None if order is None else order.hold_expires_at,
        items_held=order is not None and order.items_held,
        will_cancel=order is not None and order.will_cancel,
        order_cancelled=order is not None and order.order_cancelled,
        items_released=order is not None and order.items_released,
        now=now,
    )
    rendered = renderer.render(
        key=spec.template, channel=channel, context=context, store_id=store.id
    )
    subject = rendered.subject[:500] or None
    locale = (rendered.locale or message.locale)[:16]
    if channel is Channel.EMAIL:
        assert message.header_id is not None
        html = _with_pixel(rendered.html or "", links.open(message.id))
        sender = s.sender_email or f"shop@{store.domain}"
        email = OutgoingEmail(
            to=message.recipient,
            from_address=formataddr((s.sender_name or store.name, sender)),
            subject=rendered.subject,
            text=rendered.text,
            html=html,
            message_id=message.header_id,
            # RFC 8058 one-click only: no mailto, since no mailbox Reclaim reads takes
            # unsubscribe requests (a support inbox would leave them unheeded).
            list_unsubscribe_url=context.unsubscribe_url,
            reply_to=s.reply_to,
            headers=(("X-Reclaim-Message", str(message.id)),),
        )
        return email, subject, locale
    if channel is Channel.SMS:
        sms = OutgoingSms(to=message.recipient, body=rendered.text, sender=s.sms_sender)
        return sms, subject, locale
    webhook = OutgoingWebhook(
        url=message.recipient,
        secret=s.webhook_signing_secret or "",
        payload={
            "type": "reclaim.message",
            "message_id": message.id,
            "case_id": case.id,
            "kind": case.kind,
            "step": spec.key,
            "locale": locale,
            "email": case.email,
            "phone": case.phone,
            "first_name": case.contact.first_name,
            "value": amount_text(case.value, case.currency),
            "currency": case.currency,
            "text": rendered.text,
            "restore_url": context.restore_url,
            "unsubscribe_url": context.unsubscribe_url,
            "coupon": None if coupon is None else coupon.code,
            "subject": subject,
            "items": [_item_payload(i, case.currency) for i in context.items],
            "alternatives": [_item_payload(i, case.currency) for i in context.alternatives],
        },
    )
    return webhook, subject, locale


def _item_payload(item: ItemView, currency: str) -> dict[str, object]:
    """A cart item or an offered alternative as the outgoing webhook carries it (the link is
    the tracked one; a sold-out item has neither link nor price, as in the email)."""
    return {
        "name": item.name,
        "sku": item.sku,
        "quantity": item.quantity,
        "unit_price": None if item.sold_out else amount_text(item.unit_price, currency),
        "url": None if item.sold_out else item.url,
        "image_url": item.image_url,
        "sold_out": item.sold_out,
    }


def _item(links: Links, message_id: int, item: LineItem, hosts: set[str]) -> ItemView:
    return item_view(
        links,
        message_id,
        hosts,
        name=item.name,
        quantity=item.quantity,
        unit_price=item.unit_price,
        url=item.url,
        image_url=item.image_url,
        sku=item.sku,
        total=item.line_total,
    )


def _view_orders(uow: UnitOfWork, drafts: Sequence[_Draft]) -> None:
    """Each draft's view of its order (its name, charges, how to pay) or of its cart (its
    charges), the group's orders and checkouts read in one query per store each."""
    wanted: dict[str, set[str]] = {}
    carts: dict[str, set[str]] = {}
    for draft in drafts:
        case = draft.work.case
        if case.order_external_id:
            wanted.setdefault(case.store_id, set()).add(case.order_external_id)
        elif case.checkout_external_id:
            carts.setdefault(case.store_id, set()).add(case.checkout_external_id)
    orders = {sid: uow.facts.orders_many(sid, sorted(ext)) for sid, ext in wanted.items()}
    checkouts = {sid: uow.facts.checkouts_many(sid, sorted(ext)) for sid, ext in carts.items()}
    for draft in drafts:
        w = draft.work
        found = orders.get(w.case.store_id, {}).get(w.case.order_external_id or "")
        cart = None
        if found is None and w.case.checkout_external_id:
            cart = checkouts.get(w.case.store_id, {}).get(w.case.checkout_external_id)
        draft.shown = order_view(w.store, w.case, w.spec, found, cart)


def _coupon_view(coupon: Coupon) -> CouponView:
    return CouponView(
        code=coupon.code,
        kind=coupon.kind,
        value=coupon.value,
        currency=coupon.currency,
        expires_at=coupon.expires_at,
        min_order=coupon.min_order,
    )


def _with_pixel(html: str, url: str) -> str:
    pixel = f'<img src="{url}" width="1" height="1" alt="" style="display:block;border:0">'
    at = html.lower().rfind("</body>")
    return html + pixel if at < 0 else html[:at] + pixel + html[at:]


# -- send and record ----------------------------------------------------------------------


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


def _wait(step: ScheduledStep, case: Case, until: datetime, why: str, stats: DeliveryStats) -> None:
    step.status, step.due_at, step.lease_until, step.outcome = (
        StepStatus.SCHEDULED,
        until,
        None,
        f"waiting_{why}",
    )
    case.next_step_at = until
    stats.waiting += 1
    stats.count(f"waiting_{why}")


def _skip(
    uow: UnitOfWork,
    case: Case,
    step: ScheduledStep,
    why: str,
    now: datetime,
    stats: DeliveryStats,
    *,
    status: StepStatus = StepStatus.SKIPPED,
) -> None:
    step.finish(status, at=now, outcome=why)
    assert case.id is not None
    uow.cases.add_event(case.id, at=now, type="step_skipped", data={"step": step.key, "why": why})
    _advance(uow, case, step, now)
    if status is StepStatus.FAILED:
        stats.failed += 1
    else:
        stats.skipped += 1
    stats.count(why)


def _advance(uow: UnitOfWork, case: Case, step: ScheduledStep, now: datetime) -> None:
    """After a step is settled: close the case if the step says so, else the next step."""
    version = uow.flows.get(step.flow_id)
    store = uow.stores.get(step.store_id)
    if version is None or store is None or case.status != CaseStatus.OPEN:
        return
    spec = version.flow.step(step.position)
    if spec is not None and spec.closes_case == "lost":
        close(uow, case, CaseStatus.LOST, at=now, reason="hold_expired")
        return
    if case.flow_state == FlowState.RUNNING:
        schedule_after(uow, store, case, version, position=step.position, now=now)
