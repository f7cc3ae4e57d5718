"""Why a case got no message, and what the worker skipped, in plain words (issue 14).

The engine records machine codes: a step's ``outcome`` (``consent_eu_marketing_needs_opt_in``,
``waiting_quiet_hours``, ``out_of_stock`` …) and detection's skip reasons (``test``, ``bot``
…). An operator reads them here as a short label (for counts: "quiet hours: 3") and as a
sentence (the case API's ``why_not_sent``), each under a stable ``code`` that groups the
outcomes (every consent rule is ``consent``). An outcome not listed (a new one) is still
shown, as its code in words: nothing is ever hidden for want of a translation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from reclaim.domain.cases import Case, CaseStatus, FlowState
from reclaim.domain.steps import ScheduledStep, StepStatus


@dataclass(frozen=True, slots=True)
class Words:
    code: str  # stable, for machines: consent, quiet_hours, suppressed, sold_out …
    label: str  # a few words, for counts: "no consent (eu rules)"
    sentence: str  # what happened, for a person reading one case


@dataclass(frozen=True, slots=True)
class NotSent:
    """Why a case has had no message (so far): the case API's ``why_not_sent``."""

    code: str
    text: str  # one or two sentences, plain English
    outcome: str | None = None  # the step outcome it comes from, if a step said
    step: str | None = None  # that step's key
    until: datetime | None = None  # when it is tried again (waiting, retrying, not due)

    def to_json(self) -> dict[str, object]:
        until = None if self.until is None else self.until.isoformat().replace("+00:00", "Z")
        return {
            "code": self.code,
            "text": self.text,
            "outcome": self.outcome,
            "step": self.step,
            "until": until,
        }


def _plain(code: str) -> str:
    return code.replace("_", " ").strip()


_CONDITIONS = {
    "min_value": "the cart is below the step's minimum value",
    "max_value": "the cart is above the step's maximum value",
    "countries": "the customer's country is not one the step is for",
    "exclude_countries": "the step excludes the customer's country",
    "audience": "the step is for new or for returning customers only",
    "reasons": "the step is for other failure reasons",
    "exclude_reasons": "the step excludes this failure reason",
    "score_bands": "the step is for other score bands",
}

_INCENTIVES = {
    "below_min_order": "the order is below the incentive's minimum",
    "no_margin_room": "the store's margin floor leaves no room for a discount",
    "not_worth_offering": "the discount the margin allows is too small to offer",
    "shipping_cost_unknown": "free shipping was planned but the shipping cost is unknown",
    "shipping_over_margin": "free shipping would cost more than the margin allows",
    "shipping_already_free": "shipping is free already",
}

_CHANNEL_NAMES = {"email": "email address", "sms": "phone number", "webhook": "webhook address"}

_FIXED: Mapping[str, Words] = {
    "waiting_quiet_hours": Words(
        "quiet_hours",
        "quiet hours",
        "Waiting for the end of quiet hours in the customer's time zone.",
    ),
    "waiting_frequency_cap": Words(
        "frequency_cap",
        "frequency cap",
        "Waiting: the customer had a message recently, and the store's frequency cap "
        "spaces them out.",
    ),
    "waiting_store_paused": Words(
        "store_paused", "store paused", "Waiting: sending is paused for the store."
    ),
    "waiting_manual": Words(
        "manual",
        "worked by hand",
        "Waiting: a person took the case out of automation; nothing is sent until it is resumed.",
    ),
    "deferred_coupon_push": Words(
        "retrying",
        "coupon not on the store yet",
        "The coupon could not be created on the store's platform yet; the message waits "
        "and is tried again.",
    ),
    "deferred_not_tried": Words(
        "retrying", "not tried yet", "The message was not handed over in time; it goes again."
    ),
    "suppressed": Words(
        "suppressed",
        "suppressed address",
        "The address is on the store's suppression list (an unsubscribe, a bounce, a "
        "complaint or an operator's entry).",
    ),
    "no_channel": Words("no_channel", "no channel", "No channel could reach the customer."),
    "out_of_stock": Words(
        "sold_out",
        "sold out",
        "An item is sold out everywhere and no comparable product is in stock, so the "
        "step was skipped.",
    ),
    "template_error": Words(
        "template_error", "template error", "The store's own template could not be rendered."
    ),
    "gave_up": Words(
        "failed",
        "channel kept failing",
        "The channel kept failing; Reclaim gave up after its retries.",
    ),
    "coupon_rejected": Words(
        "coupon_rejected",
        "coupon refused by the store",
        "The store's platform refused to create the coupon, so the message was not sent.",
    ),
    "email_not_configured": Words(
        "no_channel",
        "no SMTP server",
        "No email server is configured (RECLAIM_SMTP_URL).",
    ),
    "sms_not_configured": Words(
        "no_channel", "no SMS provider", "No SMS provider is configured (RECLAIM_SMS_URL)."
    ),
    "webhook_not_configured": Words(
        "no_channel", "no webhook URL", "The store has no outgoing webhook URL."
    ),
    "sender_no_postal_address": Words(
        "sender_duties",
        "no postal address",
        "Not sent: a marketing message must show the sender's postal address (CAN-SPAM, the "
        "EU's E-Commerce Directive) and the store has none. Set it with `reclaim store set "
        "ID --postal-address …`; notices about an order still go.",
    ),
    "sender_no_identity": Words(
        "sender_duties",
        "no sender address",
        "Not sent: a marketing message must say truthfully who sends it and the store has "
        "neither a sender address nor a domain to send from. Set it with `reclaim store set "
        "ID --sender-email …`; notices about an order still go.",
    ),
}

_CONSENT: Mapping[str, tuple[str, str]] = {
    "marketing_opted_out": ("customer declined", "the customer declined marketing messages"),
    "store_requires_opt_in": (
        "store requires an opt-in",
        "the store requires an opt-in for marketing email, and the customer gave none",
    ),
    "unknown_country_marketing_needs_opt_in": (
        "unknown country",
        "the customer's country is unknown, so marketing email needs an opt-in, which the "
        "customer did not give",
    ),
}


def step_words(outcome: str) -> Words:
    """A step outcome (``step.outcome``) in words."""
    if outcome in _FIXED:
        return _FIXED[outcome]
    if outcome.startswith("consent_"):
        return _consent_words(outcome.removeprefix("consent_"))
    if outcome.startswith("condition_"):
        which = outcome.removeprefix("condition_")
        why = _CONDITIONS.get(which, f"it does not meet the condition {_plain(which)}")
        return Words("condition", f"condition {_plain(which)}", f"The step was skipped: {why}.")
    if outcome.startswith("incentive_"):
        which = outcome.removeprefix("incentive_")
        why = _INCENTIVES.get(which, _plain(which))
        return Words("no_incentive", "no incentive", f"No incentive could be offered: {why}.")
    for channel, name in _CHANNEL_NAMES.items():
        if outcome == f"no_{channel}":
            return Words("no_channel", f"no {name}", f"The customer left no {name}.")
        if outcome == f"bad_{channel}_address":
            return Words("no_channel", f"unusable {name}", f"The customer's {name} is unusable.")
    if outcome.startswith("waiting_"):
        which = _plain(outcome.removeprefix("waiting_"))
        return Words("waiting", which, f"Waiting ({which}).")
    if outcome.startswith("deferred_"):
        return Words(
            "retrying",
            "channel failed for now",
            "The channel failed for now (a temporary error); the message is tried again.",
        )
    if outcome.startswith("bounced"):
        return Words(
            "bounced",
            "bounced",
            "The address bounced; it is now on the suppression list.",
        )
    if outcome.startswith("rejected"):
        return Words("rejected", "refused by the channel", "The channel refused the message.")
    return Words(outcome, _plain(outcome), f"{_plain(outcome).capitalize()}.")


def consent_label(outcome: str) -> str:
    """Which consent rule refused a step (``consent_eu_marketing_needs_opt_in``), in a few
    words: "EU rules need an opt-in", "customer declined" (:func:`step_words`' label is "no
    consent (…)" around it)."""
    return _consent_parts(outcome.removeprefix("consent_"))[0]


def _consent_words(rule: str) -> Words:
    label, why = _consent_parts(rule)
    return Words("consent", f"no consent ({label})", f"No consent: {why}.")


def _consent_parts(rule: str) -> tuple[str, str]:
    if rule in _CONSENT:
        label, why = _CONSENT[rule]
    elif rule.endswith("_transactional_opted_out"):
        channel = rule.removesuffix("_transactional_opted_out")
        label, why = f"opted out of {channel}", f"the customer opted out of {channel} messages"
    elif rule in ("sms_marketing_needs_opt_in", "webhook_marketing_needs_opt_in"):
        channel = "SMS" if rule.startswith("sms") else "webhook"
        label = f"{channel} needs an opt-in"
        why = f"marketing by {channel} needs an opt-in, which the customer did not give"
    elif rule.endswith("_marketing_needs_opt_in"):
        regime = rule.removesuffix("_marketing_needs_opt_in")
        shown = regime.upper() if len(regime) <= 4 else _plain(regime)
        label = f"{shown} rules need an opt-in"
        why = (
            f"marketing email to the customer's country needs an opt-in ({shown} rules), "
            "which the customer did not give"
        )
    else:
        label, why = _plain(rule), _plain(rule)
    return label, why


_SKIPS: Mapping[str, str] = {
    "test_mode": "test mode",
    "test_contact": "the store's test addresses",
    "bot": "a bot",
    "no_contact": "no email or phone",
    "backlog": "from before Reclaim was switched on",
    "resolved": "paid meanwhile",
    "known": "already a case",
    "completed": "became an order",
    "superseded": "a newer checkout of the customer",
    "payment_case": "a failed-payment case already",
    "purchased": "the customer bought anyway",
    "store_deleted": "store removed",
}


def skip_label(reason: str) -> str:
    """Why detection opened no case for a due checkout, order or payment, in a few words."""
    return _SKIPS.get(reason, _plain(reason))


def counted(counts: Mapping[str, int], label: Callable[[str], str]) -> str:
    """``{"waiting_quiet_hours": 2, …}`` as "quiet hours 2, …" (labels merged, most first)."""
    merged: dict[str, int] = {}
    for code, n in counts.items():
        merged[label(code)] = merged.get(label(code), 0) + n
    return ", ".join(f"{what} {n}" for what, n in sorted(merged.items(), key=lambda kv: -kv[1]))


_NOT_SENT_LABELS: Mapping[str, str] = {
    "holdout": "held back to measure what messages add",
    "consent": "no consent to marketing messages",
    "closed": "closed before the first message was due",
    "not_due_yet": "first message not due yet",
    "flow_stopped": "flow stopped before the first message",
    "no_flow": "no flow sends messages for it",
    "quiet_hours": "waiting for quiet hours to end",
    "frequency_cap": "waiting for the frequency cap",
    "store_paused": "sending paused for the store",
    "manual": "taken out of automation: a person works it",
    "retrying": "to be tried again",
    "suppressed": "address on the suppression list",
    "no_channel": "no way to reach the customer",
    "sold_out": "sold out, nothing comparable in stock",
    "template_error": "the store's template failed",
    "failed": "the channel kept failing",
    "coupon_rejected": "coupon refused by the store",
    "condition": "the flow's conditions left it out",
    "no_incentive": "no incentive could be offered",
    "bounced": "address bounced",
    "rejected": "refused by the channel",
    "sender_duties": "the store lacks the sender details the law requires",
}


def not_sent_label(code: str) -> str:
    """A ``why_not_sent`` code (:class:`NotSent`'s, which groups :func:`step_words`' codes) in
    a few words, for counts: "held back to measure what messages add"."""
    return _NOT_SENT_LABELS.get(code, _plain(code))


_DELIVERED = (StepStatus.SENT, StepStatus.POSSIBLY_SENT, StepStatus.SENDING)
_WAITING = ("waiting_", "deferred_")


def why_not_sent(case: Case, steps: Sequence[ScheduledStep]) -> NotSent | None:
    """Why ``case`` has had no message, from its steps; None once one was sent (or is being
    sent). The step in hand comes first (what it waits for), then the last step the policy
    refused, then what happened to the case (held out, its flow stopped, closed early)."""
    if any(s.status in _DELIVERED for s in steps):
        return None
    if case.holdout or case.flow_state == FlowState.HOLDOUT:
        return NotSent(
            "holdout",
            "The case is in the holdout group: it gets no messages, so that the flows' lift "
            "can be measured against it.",
        )
    pending = [s for s in steps if s.status in (StepStatus.SCHEDULED, StepStatus.CLAIMED)]
    for step in pending:
        if step.outcome and step.outcome.startswith(_WAITING):
            words = step_words(step.outcome)
            text = f"{words.sentence} Next try at {_when(step.due_at)}."
            return NotSent(words.code, text, step.outcome, step.key, step.due_at)
    refused = [s for s in steps if s.status in (StepStatus.SKIPPED, StepStatus.FAILED)]
    if refused:
        last = max(refused, key=lambda s: (s.finished_at or s.due_at, s.position))
        words = step_words(last.outcome or "no_channel")
        return NotSent(words.code, words.sentence, last.outcome, last.key)
    if case.flow_state == FlowState.STOPPED and case.status == CaseStatus.OPEN:
        why = _plain(case.flow_stop_reason or "stopped")
        return NotSent(
            "flow_stopped", f"Its flow was stopped ({why}) before the first message was due."
        )
    if case.status != CaseStatus.OPEN:
        return NotSent(
            "closed",
            f"The case was {case.status} before its first message was due"
            + (f" ({_plain(case.close_reason)})." if case.close_reason else "."),
        )
    if pending:
        first = min(pending, key=lambda s: s.due_at)
        return NotSent(
            "not_due_yet",
            f"The first message is due at {_when(first.due_at)}.",
            step=first.key,
            until=first.due_at,
        )
    return NotSent("no_flow", "No flow sends messages for this case.")


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
