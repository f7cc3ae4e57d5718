"""Whether a due step's message goes out now (SPEC S3, S5-S7): send it, wait, skip the step
or cancel it.

:func:`decide` is pure: the flow engine (``services/steps/``) reads the facts it needs (the
customer's last message, suppressed addresses, stock, the order's cancellation) and passes
them in with the instant it is deciding for; it then applies the answer (writes, counts,
events). The rules of who may be messaged and when are :mod:`reclaim.domain.policy`'s.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta

from reclaim.domain.cases import Case, CaseStatus, FlowState
from reclaim.domain.connectors import codes_work
from reclaim.domain.flows import Step
from reclaim.domain.incentives import Offer, plan_offer
from reclaim.domain.messages import Channel, Purpose
from reclaim.domain.policy import (
    DEFAULT_QUIET_HOURS,
    consent_decision,
    earliest_send,
    release_after_quiet_hours,
    suppression_key,
)
from reclaim.domain.stores import Store, is_host_name
from reclaim.errors import InvalidInput

PAUSED_RETRY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Send:
    """The message goes out now, on ``channel`` to ``address``."""

    channel: Channel
    address: str
    offer: Offer | None = None  # the coupon to issue with it (a first attempt only)
    # The step offers an incentive but a code would not work at the store's checkout (no
    # connector to create it, codes not imported): the message goes without one.
    coupon_withheld: bool = False


@dataclass(frozen=True, slots=True)
class Wait:
    """Not now: the step is due again at ``until``."""

    until: datetime
    why: str  # store_paused, order_cancel, frequency_cap, quiet_hours


@dataclass(frozen=True, slots=True)
class Skip:
    """The step is skipped, ``why`` its outcome (condition_…, out_of_stock, no_email,
    consent_…, incentive_…, sender_…); the flow moves on."""

    why: str
    # A retry whose message can no longer go: the message is cancelled with this error.
    cancel_retry: str | None = None


@dataclass(frozen=True, slots=True)
class Cancel:
    """The case is closed or its flow stopped: the step is cancelled, ``why`` its outcome."""

    why: str


Decision = Send | Wait | Skip | Cancel


def halted(case: Case, store: Store, now: datetime) -> Cancel | Wait | None:
    """Why no step of ``case`` may run now, if any: its case closed or its flow no longer
    running (cancelled), its store paused, or a person working it by hand (taken out of
    automation in the console: nothing is sent until it is resumed; due again in an hour,
    or at once when resumed)."""
    if case.status != CaseStatus.OPEN or case.flow_state != FlowState.RUNNING:
        return Cancel(f"case_{case.status}")
    if store.paused:
        return Wait(now + PAUSED_RETRY, "store_paused")
    if case.manual:
        return Wait(now + PAUSED_RETRY, "manual")
    return None


def decide(
    *,
    case: Case,
    store: Store,
    spec: Step,
    now: datetime,
    retry: Channel | None,
    channels: Container[Channel],
    suppressed: Container[tuple[str, str, str]],
    last_sent: datetime | None,
    sold_out: bool = False,
    cancel_due: datetime | None = None,
) -> Decision:
    """May this step's message go out now?

    - ``retry``: the channel of the step's message when it is tried again after a transient
      failure (it goes where the first attempt went, its conditions and cap already passed,
      its coupon already issued; it waits out the quiet hours); None for a first attempt.
    - ``channels``: those the worker can send on; ``suppressed``: (store, channel, address
      key) of the addresses that get nothing; ``last_sent``: the customer's last message on
      any channel (the frequency cap).
    - ``sold_out``: a cart item is sold out everywhere and there is nothing to offer instead
      (SPEC S7: never advertise what cannot be bought).
    - ``cancel_due``: a pending order's cancellation step whose platform call is still to be
      answered: the notice waits until then (it says only what Reclaim did).
    """
    stop = halted(case, store, now)
    if stop is not None:
        return stop
    if cancel_due is not None:
        return Wait(cancel_due, "order_cancel")
    if retry is None:
        unmet = spec.conditions.unmet(case, returning=_returning(case), score_band=None)
        if unmet is not None:
            return Skip(f"condition_{unmet}")
    if sold_out:  # a retry: what it was to offer has sold out meanwhile (its message cancelled)
        return Skip("out_of_stock", None if retry is None else "sold out before the retry")
    choice = _channel(store, case, spec, retry, channels, suppressed)
    if isinstance(choice, str):
        return Skip(choice)
    channel, address = choice
    if spec.purpose == Purpose.MARKETING and (duty := sender_duty(store)) is not None:
        return Skip(duty, None if retry is None else "the store's sender details are missing")
    if retry is not None:
        # Its first attempt passed the cap; it still keeps the customer's quiet hours (SPEC
        # S5): a relay down at 21:30 does not make the retry go at midnight (issue 16).
        quiet = release_after_quiet_hours(
            now, tz=case.customer_timezone or store.timezone, quiet=DEFAULT_QUIET_HOURS.get(channel)
        )
        return Send(channel, address) if quiet <= now else Wait(quiet, "quiet_hours")
    release = earliest_send(
        now,
        tz=case.customer_timezone or store.timezone,
        quiet=DEFAULT_QUIET_HOURS.get(channel),
        last_sent_at=last_sent,
        cap=store.settings.frequency_cap,
    )
    if release > now:
        capped = last_sent is not None and last_sent + store.settings.frequency_cap > now
        return Wait(release, "frequency_cap" if capped else "quiet_hours")
    if spec.incentive is not None and not codes_work(store):
        # A code the checkout refuses does more harm than none: the message goes without one.
        return Send(channel, address, coupon_withheld=True)
    if spec.incentive is not None:
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
            return Skip(f"incentive_{planned.reason}")
        return Send(channel, address, offer=planned)
    return Send(channel, address)


def sender_duty(store: Store) -> str | None:
    """What the law asks of a marketing message's sender that ``store`` lacks, if anything:
    who sends it (``sender_no_identity``: no sender email and no domain to send from; the
    ePrivacy Directive art. 13(4), CAN-SPAM 15 U.S.C. 7704(a)(1)) or where the sender can be
    reached by post (``sender_no_postal_address``: CAN-SPAM 15 U.S.C. 7704(a)(5)(A)(iii),
    the E-Commerce Directive art. 5-6). Transactional notices are outside both rules."""
    s = store.settings
    if not (s.sender_email or is_host_name(store.domain.lower())):
        return "sender_no_identity"
    if not s.postal_address.strip():
        return "sender_no_postal_address"
    return None


def _returning(case: Case) -> bool | None:
    count = case.contact.orders_count
    return None if count is None else count > 0


def _channel(
    store: Store,
    case: Case,
    spec: Step,
    retry: Channel | None,
    channels: Container[Channel],
    suppressed: Container[tuple[str, str, str]],
) -> tuple[Channel, str] | str:
    """The channel and address to use now, or why there is none (the first reason)."""
    if retry is not None:  # a retry goes where the first attempt went
        candidates = [retry]
    else:
        candidates = [spec.channel] + ([spec.fallback] if spec.fallback else [])
    first_reason: str | None = None
    for channel in candidates:
        reason = None
        address = recipient(store, case, channel)
        if address is None:
            reason = f"no_{channel}"
        elif channel not in channels:
            reason = f"{channel}_not_configured"
        elif (key := address_key(channel, address)) is None:
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


def address_key(channel: Channel, address: str) -> str | None:
    """The address's suppression key; None for an address that is unusable."""
    try:
        return suppression_key(channel, address)
    except InvalidInput:  # an email without @, a phone that is not E.164: unusable
        return None


def recipient(store: Store, case: Case, channel: Channel) -> str | None:
    """Where a message of ``case`` goes on ``channel``: the customer's email or phone, the
    store's webhook URL."""
    if channel is Channel.EMAIL:
        return case.email
    if channel is Channel.SMS:
        return case.phone
    return store.settings.webhook_url
