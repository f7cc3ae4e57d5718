"""How simulated shoppers behave: the funnel, why they abandon, how payments fail and resolve.

Every number here is either taken from a published source (named next to it) or is a stated
assumption; :mod:`tests.unit.sim` checks that the samplers reproduce them.

Sources
-------
* **Baymard Institute**, "Cart & Checkout Abandonment Rate Statistics"
  (https://baymard.com/lists/cart-abandonment-rate): the average documented abandonment rate
  over 50 studies is **70.22 %**; its survey of US adults who abandoned during checkout in the
  last three months gives the reasons in :data:`ABANDONMENT_REASONS` (several answers per
  respondent, "just browsing" excluded), in the proportions the project brief quotes from it.
* **Olist**, Brazilian E-Commerce Public Dataset (``shared/data/olist``, see its README):
  boleto orders wait a median **29.6 h** from purchase to approval, p90 **68 h**; boleto is
  about **19 %** of payments. :func:`pay_later_delay` is that log-normal.

Assumptions (no public source fits; plausible, documented, easy to change)
-------------------------------------------------------------------------
* 20 % of checkouts never get a contact detail (the shopper leaves on the first step); with
  70.22 % abandonment overall that makes 62.5 % of checkouts *with* contact abandoned.
* Decline codes and what shoppers do next: :data:`DECLINES`. The order follows public
  processor write-ups (insufficient funds and generic / do-not-honor declines dominate
  card-not-present declines; 3-D Secure failures are common since PSD2); the exact shares are
  ours.
* Pay-later methods are never paid in 20–35 % of cases (:data:`NEVER_PAID`); the seeds
  (``shared/seeds``) describe these unpaid orders but give no share.
* Of the pending orders that would stay unpaid, the three reminders win back 19.6 %: the
  middle of the seeds' 15–25 % for mature sellers (:data:`STEP_UPLIFT`).
* 10 % of abandoners come back on their own and buy, after a log-normal delay with a median
  of 8 h; 85 % of them buy the same cart.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from statistics import NormalDist

# -- the funnel ---------------------------------------------------------------------------------

STAGES = ("created", "contact", "shipping", "payment")
"""Checkout steps in order: opened, contact given, shipping chosen, on the payment step."""

ABANDONMENT_RATE = 0.7022  # Baymard, 50 studies
NO_CONTACT_SHARE = 0.20  # assumption: checkouts abandoned before any contact detail
ABANDON_WITH_CONTACT = (ABANDONMENT_RATE - NO_CONTACT_SHARE) / (1 - NO_CONTACT_SHARE)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    share: float  # share of abandoners who give this reason (several per person)
    stage: str  # the checkout step where a shopper meets it
    label: str


#: Baymard's reasons for abandoning during checkout (see the module docstring).
ABANDONMENT_REASONS: tuple[Reason, ...] = (
    Reason("extra_costs", 0.40, "shipping", "extra costs too high (shipping, tax, fees)"),
    Reason("slow_delivery", 0.20, "shipping", "delivery was too slow"),
    Reason("trust", 0.19, "payment", "didn't trust the site with card details"),
    Reason("account_creation", 0.18, "contact", "the site wanted me to create an account"),
    Reason("complicated_checkout", 0.17, "shipping", "too long / complicated checkout"),
    Reason("errors", 0.17, "payment", "the website had errors or crashed"),
    Reason("returns_policy", 0.13, "contact", "returns policy wasn't satisfactory"),
    Reason("total_cost_unclear", 0.12, "shipping", "couldn't see the total cost up-front"),
    Reason("card_declined", 0.10, "payment", "credit card was declined"),
    Reason("payment_methods", 0.09, "payment", "not enough payment methods"),
)
REASON = {r.code: r for r in ABANDONMENT_REASONS}


@cache
def _reason_probabilities() -> tuple[float, ...]:
    """Per-reason draw probabilities q such that, drawing each reason independently with q
    and redrawing when none came up, reason i is given by exactly ``share_i`` of abandoners.

    Conditioning on "at least one" inflates every marginal by ``1 / (1 - P(none))``; the
    fixed point ``q_i = share_i * (1 - prod(1 - q_j))`` undoes that.
    """
    shares = [r.share for r in ABANDONMENT_REASONS]
    q = list(shares)
    for _ in range(200):
        none = math.prod(1 - x for x in q)
        q = [s * (1 - none) for s in shares]
    return tuple(q)


def sample_reasons(rng: random.Random) -> tuple[str, ...]:
    """One abandoner's reasons (at least one), in :data:`ABANDONMENT_REASONS` order."""
    q = _reason_probabilities()
    while True:
        picked = tuple(
            r.code for r, p in zip(ABANDONMENT_REASONS, q, strict=True) if rng.random() < p
        )
        if picked:
            return picked


def stage_for(reasons: tuple[str, ...]) -> str:
    """The furthest step the reasons imply the shopper saw (declined card: the payment step)."""
    return max((REASON[r].stage for r in reasons), key=STAGES.index)


# -- payment failures ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decline:
    decline_code: str
    error_code: str  # Stripe's ``code`` that accompanies it
    share: float  # of first declined attempts
    quick_fix: float  # fixes it within minutes (another card, 3-D Secure retry)
    later_fix: float  # otherwise: comes back hours / days later and pays
    message: str


#: Decline codes of first failed card attempts at checkout (assumed shares, see module doc).
# fmt: off
DECLINES: tuple[Decline, ...] = (
    Decline("insufficient_funds", "card_declined", 0.26, 0.20, 0.30,
            "Your card has insufficient funds."),
    Decline("generic_decline", "card_declined", 0.20, 0.30, 0.15, "Your card was declined."),
    Decline("do_not_honor", "card_declined", 0.12, 0.25, 0.15, "Your card was declined."),
    Decline("authentication_required", "card_declined", 0.15, 0.45, 0.15,
            "Your card was declined. This transaction requires authentication."),
    Decline("expired_card", "expired_card", 0.09, 0.40, 0.20, "Your card has expired."),
    Decline("processing_error", "processing_error", 0.08, 0.60, 0.15,
            "An error occurred while processing your card. Try again in a little bit."),
    Decline("fraudulent", "card_declined", 0.05, 0.0, 0.0, "Your card was declined."),
    Decline("currency_not_supported", "card_declined", 0.05, 0.20, 0.10,
            "Your card does not support this type of purchase."),
)
# fmt: on
DECLINE = {d.decline_code: d for d in DECLINES}


def quick_fix_share() -> float:
    """Share of all first declines fixed within minutes (Q)."""
    return sum(d.share * d.quick_fix for d in DECLINES)


def sample_decline(rng: random.Random, *, fixed_quickly: bool | None = None) -> Decline:
    """A decline code; conditioned on whether the shopper fixed it within minutes, so that
    quick fixes and walk-aways together keep the overall shares of :data:`DECLINES`."""
    if fixed_quickly is None:
        weights = [d.share for d in DECLINES]
    elif fixed_quickly:
        weights = [d.share * d.quick_fix for d in DECLINES]
    else:
        weights = [d.share * (1 - d.quick_fix) for d in DECLINES]
    return rng.choices(DECLINES, weights=weights, k=1)[0]


def quick_decline_rate(card_share: float) -> float:
    """P(a shopper who pays by card first had a decline they fixed within minutes).

    Card-declined abandoners are ``ABANDON_WITH_CONTACT * share(card_declined)`` of contact
    checkouts and are the walk-away part (1 - Q) of all declines, so the fixed-quickly part
    is that times Q / (1 - Q), spread over the card payers among the completers.
    """
    walk_away = ABANDON_WITH_CONTACT * REASON["card_declined"].share
    q = quick_fix_share()
    completers_by_card = (1 - ABANDON_WITH_CONTACT) * card_share
    return walk_away * q / (1 - q) / completers_by_card


# -- pay-later orders ---------------------------------------------------------------------------

PAY_LATER_MEDIAN_H = 29.6  # Olist, boleto: purchase -> approval
PAY_LATER_P90_H = 68.0
_Z90 = 1.2815515655446004
PAY_LATER_SIGMA = math.log(PAY_LATER_P90_H / PAY_LATER_MEDIAN_H) / _Z90

#: Share of pay-later orders never paid: the bank transfer never sent, the boleto or konbini
#: slip never paid in cash. The seeds (``shared/seeds``, 000: "客户将商品加入购物车却迟迟未付款"
#: and 001: "客户下单后不付款 … 是关键") name the problem but give no share: an assumption.
NEVER_PAID = {"boleto": 0.35, "konbini": 0.20, "bank_transfer": 0.20}
#: Gateway names shown on orders.
METHOD_TITLES = {
    "boleto": "Boleto Bancário",
    "konbini": "Konbini",
    "bank_transfer": "Bank Deposit",
}


def pay_later_delay(rng: random.Random, method: str) -> timedelta | None:
    """Time from order to payment, or ``None`` when it is never paid."""
    if rng.random() < NEVER_PAID.get(method, 0.2):
        return None
    hours = rng.lognormvariate(math.log(PAY_LATER_MEDIAN_H), PAY_LATER_SIGMA)
    return timedelta(seconds=round(hours * 3600))


def unpaid_cancel_after(rng: random.Random) -> timedelta:
    """When the merchant cancels an order never paid: after the slip / transfer deadline,
    3 to 5 days (within the seeds' advice, 000: "设置3-7天的自动取消期", a 3–7 day
    automatic cancellation)."""
    return timedelta(seconds=round(rng.uniform(72, 120) * 3600))


# -- coming back --------------------------------------------------------------------------------

ORGANIC_RETURN = 0.10  # assumption: abandoners who come back unprompted and buy
RETURN_MEDIAN_H = 8.0
RETURN_SIGMA = 1.0
SAME_CART_ON_RETURN = 0.85
REPEAT_VISIT = 0.15  # customers who come back for another, independent purchase
RESTART = 0.05  # abandoners who open a fresh checkout minutes later (merged by Reclaim)


def return_delay(rng: random.Random) -> timedelta:
    hours = rng.lognormvariate(math.log(RETURN_MEDIAN_H), RETURN_SIGMA)
    return timedelta(seconds=round(max(hours, 1.0) * 3600))


def later_fix_delay(rng: random.Random) -> timedelta:
    """A declined shopper paying later (payday, a new card): median 6 h, at least 30 min."""
    hours = rng.lognormvariate(math.log(6.0), 1.0)
    return timedelta(seconds=round(max(hours, 0.5) * 3600))


# -- when people shop ---------------------------------------------------------------------------

#: Relative shopping activity by local hour (0–23): quiet at night, peaks at lunch and evening.
# fmt: off
HOURLY = (
    0.15, 0.08, 0.05, 0.04, 0.04, 0.06, 0.15, 0.30, 0.45, 0.55, 0.60, 0.65,
    0.75, 0.70, 0.60, 0.60, 0.65, 0.75, 0.90, 1.00, 1.00, 0.90, 0.65, 0.35,
)
# fmt: on


# -- responding to messages ---------------------------------------------------------------------
#
# Engagement (opens, clicks) follows vendor benchmarks of abandoned-cart email; buying *because*
# of a message (the causal effect) is an assumption, stated per step below, since no public
# source measures incremental recovery per message. Benchmarks report *attributed* conversions,
# which include shoppers who would have come back anyway: an upper bound on the effect.
#
# * **Klaviyo**, "Ecommerce industry benchmark report: abandoned carts" (9.3 million abandoned
#   cart emails, April-June 2017): open rate **41.18 %**, click rate **9.50 %** (so 23 % of
#   openers click); stores recover **3-5 %** of abandoned carts (attributed).
# * **Bluecore**, 2018 Retail Email Benchmark Report: cart abandonment emails open **40.32 %**,
#   click **10.09 %**, convert **2.05 %** within five days, unsubscribe **0.12 %** per email.

#: Share of delivered emails the customer opens (fetches the pixel), by the message's purpose.
OPEN_RATE = {
    "marketing": 0.41,  # Klaviyo 41.18 %
    "transactional": 0.60,  # assumption: a notice about one's own order is opened more
}
#: Share of openers who click the restore link (Klaviyo: 9.50 / 41.18).
CLICK_RATE = {"marketing": 0.23, "transactional": 0.30}
#: Customers who unsubscribe (one-click, or on the page) the first time they open a marketing
#: email. Assumption, far above Bluecore's 0.12 % per email so the demo exercises the path;
#: such customers never buy because of a message (their "with messages" outcome is "without").
UNSUBSCRIBE_SHARE = 0.02
#: Of those, the share who use the mail client's one-click button (RFC 8058) rather than the
#: page (assumption).
ONE_CLICK_SHARE = 0.6
#: How long after arrival a customer reads an email: log-normal, median 1.5 h (assumption),
#: at least 2 minutes, at most 20 h; a customer who buys because of it reads it within 6 h.
READ_MEDIAN_H = 1.5
READ_SIGMA = 1.0
READ_MAX_H = 20.0
BUY_READ_MAX_H = 6.0

#: P(the customer buys because of this message | they had not bought, had not been persuaded
#: by an earlier one, and are reached): per case kind and step key. Assumptions, in the range
#: the benchmarks above allow (attributed 2-5 % per email for marketing; notices about an
#: order the customer placed, and payment-failure notices with the fix in them, do better).
STEP_UPLIFT: dict[str, dict[str, float]] = {
    "abandoned_checkout": {"reminder": 0.06, "help": 0.03, "incentive": 0.06},  # 10 % coupon
    # An order placed but not paid: the reminders after 1 h, 24 h and 72 h that the seeds
    # advise (000: "在订单挂起后1小时、24小时、72小时") win back 1 − 0.90 × 0.94 × 0.95 = 19.6 %
    # of the orders that would otherwise stay unpaid: the middle of the 15–25 % that mature
    # sellers reach (000: "成熟卖家的挂单订单挽回率平均可达15%-25%", unofficial samples).
    "pending_order": {"reminder": 0.10, "reminder_2": 0.06, "last_call": 0.05, "cancelled": 0.0},
}
#: Failed payments: by the decline the customer actually had (Reclaim's message follows the
#: reason it could classify), for the steps ``first``, ``followup``, ``last_call``.
#: Assumptions: a 3-D Secure or processing failure is fixed by simply retrying (the first
#: message says how); insufficient funds waits for payday; suspected fraud is never asked.
FAILED_UPLIFT: dict[str, tuple[float, float, float]] = {
    "insufficient_funds": (0.10, 0.08, 0.05),
    "generic_decline": (0.10, 0.05, 0.03),
    "do_not_honor": (0.10, 0.05, 0.03),
    "authentication_required": (0.25, 0.08, 0.04),
    "expired_card": (0.18, 0.06, 0.03),
    "processing_error": (0.30, 0.08, 0.04),
    "fraudulent": (0.0, 0.0, 0.0),
    "currency_not_supported": (0.12, 0.05, 0.03),
}
FAILED_STEPS = ("first", "followup", "last_call")
#: The case's baseline: a returning customer (orders at the store before) responds 1.5 times
#: as often (assumption; existing customers convert better in every benchmark).
RETURNING_FACTOR = 1.5


def step_uplift(
    kind: str, step: str, *, decline: str | None, returning: bool, scale: float = 1.0
) -> float:
    """P(buying because of this step's message), see :data:`STEP_UPLIFT`. ``scale`` multiplies
    every figure (an audience more or less responsive than assumed); capped at 0.95."""
    if kind == "failed_payment":
        if step not in FAILED_STEPS:
            return 0.0
        p = FAILED_UPLIFT.get(decline or "generic_decline", FAILED_UPLIFT["generic_decline"])[
            FAILED_STEPS.index(step)
        ]
    else:
        p = STEP_UPLIFT.get(kind, {}).get(step, 0.0)
    if returning:
        p *= RETURNING_FACTOR
    return min(p * scale, 0.95)


def read_delay(u: float, *, buying: bool) -> timedelta:
    """The log-normal read delay at quantile ``u`` (common random numbers: no generator)."""
    z = _probit(min(max(u, 1e-9), 1 - 1e-9))
    hours = math.exp(math.log(READ_MEDIAN_H) + READ_SIGMA * z)
    hours = min(max(hours, 2 / 60), BUY_READ_MAX_H if buying else READ_MAX_H)
    return timedelta(seconds=round(hours * 3600))


def _probit(p: float) -> float:
    return NormalDist().inv_cdf(p)
