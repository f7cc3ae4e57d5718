"""How long Reclaim keeps each kind of data (SPEC S13 "retention windows"): the kinds, the
default window of each with the reason for it, and the cut-off a store's settings give.

A window is a store setting (``keep_deliveries`` …; ``None`` is the default below). What is
older than its window is deleted by the worker (once a day per store) and by ``reclaim
prune``. A live case is never touched: its events and messages go only once it is closed,
and a delivery only once it has been processed (or ignored, or failed, or rewritten by an
erasure). The facts (checkouts, orders, payment attempts) go only when no open case names
them and nothing is still waiting on them (a checkout or order still watched, a hold still
reserving stock, a call to the platform still to make).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reclaim.domain.cases import TEST_MODE_EVENT
from reclaim.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of data with a window of its own."""

    name: str  # deliveries | events | messages | closed_cases | checkouts | orders | payments
    setting: str  # the StoreSettings field that overrides the default
    default: timedelta
    minimum: timedelta  # a shorter window would break something Reclaim promises
    what: str  # what it is, for people
    reason: str  # why the default is what it is


DAY = timedelta(days=1)

DELIVERIES = Kind(
    "deliveries",
    "keep_deliveries",
    30 * DAY,
    DAY,
    "raw webhook and event deliveries (the inbox, bodies as received)",
    "long enough to notice a bad deploy and replay its dead letters (`reclaim inbox "
    "replay`), short because a raw body is the fullest copy of a customer's data Reclaim "
    "holds and everything it says is kept in the facts and cases made from it",
)
EVENTS = Kind(
    "events",
    "keep_events",
    365 * DAY,
    DAY,
    "a closed case's timeline (steps sent or skipped and why, coupons, merges)",
    "a year answers a customer's or an authority's \"why was I written to?\" for the "
    "complaints that come; the counts reports need stay in the cases and messages",
)
MESSAGES = Kind(
    "messages",
    "keep_messages",
    730 * DAY,
    30 * DAY,
    "a closed case's messages (recipient, subject, opens, clicks) and their events",
    "two years: proof of what was sent for a dispute or a chargeback (card schemes allow "
    "disputes up to 540 days after a transaction), and a year-on-year report; at least 30 "
    "days, since an email's unsubscribe link works through its message (CAN-SPAM wants an "
    "opt-out honoured for 30 days after sending) and the complaint rate counts 30 days",
)
CLOSED_CASES = Kind(
    "closed_cases",
    "keep_closed_cases",
    730 * DAY,
    30 * DAY,
    "closed cases, with everything that hangs on them (events, messages, steps, coupons, reasons)",
    "two years after closing: the tax and chargeback periods in which a recovered order "
    "may be questioned, and last year's figures for a report to compare with",
)

CHECKOUTS = Kind(
    "checkouts",
    "keep_checkouts",
    730 * DAY,
    30 * DAY,
    "checkouts (contact, cart, the delivery quoted), counted from their last update",
    "as long as closed cases: a checkout is the evidence of the abandoned cart its case was "
    "made from, and a report's funnel counts the checkouts of its period, so last year's "
    "funnel stays comparable; at least 30 days so a checkout outlives its case's flow",
)
ORDERS = Kind(
    "orders",
    "keep_orders",
    730 * DAY,
    30 * DAY,
    "orders (contact, lines, totals) with their shipments and tracking scans, counted from "
    "their last update (or a shipment's last scan, if later)",
    "Reclaim is not the store's book of record: the platform (Shopify, WooCommerce, Stripe) "
    "keeps the orders its accounting and tax need for as long as the law asks; Reclaim's "
    "copy attributes recoveries, reminds pending orders and feeds the reports, so it is "
    "kept as long as closed cases (a recovered order can be questioned within the tax and "
    "chargeback periods, up to 540 days for a card dispute) and last year's report",
)
PAYMENTS = Kind(
    "payments",
    "keep_payments",
    730 * DAY,
    30 * DAY,
    "payment attempts (contact, amount, decline code), counted from the attempt",
    "as long as orders and closed cases: a failed payment's decline code is the reason its "
    "case names, and a card dispute can come up to 540 days after the payment",
)

KINDS: tuple[Kind, ...] = (
    DELIVERIES,
    EVENTS,
    MESSAGES,
    CLOSED_CASES,
    CHECKOUTS,
    ORDERS,
    PAYMENTS,
)
MAXIMUM = 3650 * DAY

# Case events that are the case's own marks, not its history: kept as long as the case.
KEPT_EVENTS = frozenset({TEST_MODE_EVENT})


def window(settings: object, kind: Kind) -> timedelta:
    """The store's window for ``kind`` (its setting, else the default)."""
    chosen = getattr(settings, kind.setting, None)
    return chosen if isinstance(chosen, timedelta) else kind.default


def cutoff(settings: object, kind: Kind, now: datetime) -> datetime:
    """What is older than this instant (received, closed) is past its window."""
    return now - window(settings, kind)


def check_windows(settings: object) -> None:
    """Raise :class:`InvalidInput` naming the first window out of its bounds."""
    for kind in KINDS:
        chosen = getattr(settings, kind.setting, None)
        if chosen is None:
            continue
        if not isinstance(chosen, timedelta) or not kind.minimum <= chosen <= MAXIMUM:
            raise InvalidInput(
                f"{kind.name.replace('_', ' ')} are kept {kind.minimum.days} to "
                f"{MAXIMUM.days} days",
                field=kind.setting.replace("_", "-"),
            )
