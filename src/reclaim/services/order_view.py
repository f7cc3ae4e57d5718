"""What a message says of the purchase besides its items (issue 14): the order's own name,
the rows that make its lines add up to its total, and how to pay an order paid offline.

Read from the store's current picture of the order at send time, so a message names the
order as the shop does (Shopify ``#1041``, WooCommerce's number) even when the case was
opened from a payment that arrived before its order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from reclaim.domain.cases import Case, CaseKind
from reclaim.domain.events import Charges
from reclaim.domain.facts import Checkout, Order
from reclaim.domain.flows import Step
from reclaim.domain.messages import ItemView, PaymentView
from reclaim.domain.reasons import offline_method
from reclaim.domain.stores import Store
from reclaim.domain.totals import CartTotals, cart_totals


@dataclass(frozen=True, slots=True)
class OrderView:
    """What a case's message may say of its order."""

    order_number: str | None = None  # the order's name; the platform's id only without one
    charges: Charges | None = None  # what the total holds besides the lines, where known
    payment: PaymentView | None = None


def order_view(
    store: Store,
    case: Case,
    spec: Step,
    order: Order | None,
    checkout: Checkout | None = None,
) -> OrderView:
    """The view of ``case``'s ``order`` (``None``: Reclaim has not seen the order itself) or,
    for a cart, its ``checkout``.

    The order's (else the checkout's) charges are used only while its lines and total are
    still the case's, so they explain the total the message shows. How to pay is told in a pending order's
    reminders, not in the message that closes the case (the cancellation notice): for an
    offline method (bank transfer, cash on delivery, cheque), the order's own instructions,
    else the store's (``payment_instructions``); the order's own instructions whatever the
    method.
    """
    number = (order.order_number if order is not None else None) or case.order_external_id
    charges = next(
        (
            fact.charges
            for fact in (order, checkout)
            if fact is not None
            and fact.charges is not None
            and (fact.total, fact.currency, fact.items) == (case.value, case.currency, case.items)
        ),
        None,
    )
    payment = None
    if case.kind == CaseKind.PENDING_ORDER and spec.closes_case is None:
        if order is not None:
            method = offline_method(order.payment_method, order.payment_title)
            own = order.payment_instructions
        else:
            method, own = offline_method(case.reason_code), None
        instructions = own or (store.settings.payment_instructions if method else None)
        if method is not None or instructions:
            payment = PaymentView(method=method, instructions=instructions)
    return OrderView(order_number=number, charges=charges, payment=payment)


def with_totals(
    items: tuple[ItemView, ...], total: Decimal, currency: str, charges: Charges | None
) -> tuple[tuple[ItemView, ...], CartTotals | None]:
    """The items with their amounts as shown, and the rows between them and ``total``.

    No rows for a cart without items, or with an item sold out (it shows no price, so the
    message shows no total either)."""
    if not items or any(item.sold_out for item in items):
        return items, None
    totals = cart_totals([item.line_total for item in items], total, currency, charges)
    shown = tuple(
        replace(item, total=amount) for item, amount in zip(items, totals.lines, strict=True)
    )
    return shown, totals
