"""What a case learns about its customer when it opens (issue 15): the country and device a
report groups it by, and the reasons the facts support for why the customer stopped.

Detection calls :func:`tag_case` once the case has its id, in the transaction that opens it.
The reasons come from :func:`reclaim.domain.abandonment.infer_reasons` with the signals the
facts give; each one becomes a ``case_reasons`` row of source ``inferred``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from reclaim.domain.abandonment import Signals, infer_reasons
from reclaim.domain.cases import Case, CaseKind, CaseReason, ReasonSource
from reclaim.domain.devices import device_of
from reclaim.domain.events import LineItem
from reclaim.domain.facts import Checkout, Order, PaymentAttempt
from reclaim.services.ports import UnitOfWork


def country_of(code: str | None) -> str | None:
    """A contact's country as a report groups it: two letters, upper-case; else unknown."""
    if code is None:
        return None
    code = code.strip().upper()
    return code if len(code) == 2 and code.isalpha() else None


def tag_case(
    uow: UnitOfWork,
    case: Case,
    *,
    at: datetime,
    checkout: Checkout | None = None,
    order: Order | None = None,
    attempt: PaymentAttempt | None = None,
) -> tuple[CaseReason, ...]:
    """Set ``case``'s country and device and record its inferred reasons; returns them.

    ``checkout``, ``order`` and ``attempt`` are the facts the case was opened from (any that
    the caller has at hand): the checkout's shipping quote and delivery time, the order's
    payment method, the failed payment's decline reason, sold-out items from stock.
    """
    assert case.id is not None
    case.country = country_of(case.contact.country)
    agent = (checkout.user_agent if checkout else None) or (order.user_agent if order else None)
    case.device = device_of(agent)
    shipping = checkout.shipping_quote if checkout else None
    if shipping is None and order is not None and order.charges is not None:
        shipping = order.charges.shipping
    signals = Signals(
        kind=case.kind,
        country=case.country,
        cart_value=_cart_value(case.items, case.value),
        currency=case.currency,
        shipping_quote=shipping,
        shipping_days=checkout.shipping_days if checkout else None,
        sold_out_skus=_sold_out(uow, case) if case.kind == CaseKind.ABANDONED_CHECKOUT else (),
        decline_reason=case.reason if case.kind == CaseKind.FAILED_PAYMENT else None,
        payment_method=(order.payment_method if order else None)
        or (attempt.payment_method if attempt else None),
    )
    reasons = tuple(
        CaseReason(
            case_id=case.id,
            store_id=case.store_id,
            reason=str(found.reason),
            source=ReasonSource.INFERRED,
            at=at,
            detail=found.detail,
        )
        for found in infer_reasons(signals)
    )
    if reasons:
        uow.cases.add_reasons(reasons)
    return reasons


def _cart_value(items: Sequence[LineItem], total: Decimal) -> Decimal:
    """What the goods cost (the lines), shipping and fees apart; the total where no lines."""
    if not items:
        return total
    return sum(
        (i.line_total if i.line_total is not None else i.unit_price * i.quantity for i in items),
        Decimal(0),
    )


def _sold_out(uow: UnitOfWork, case: Case) -> tuple[str, ...]:
    """The cart's SKUs that the store's stock knows and has none of (available in no
    warehouse). SKUs the stock does not track are never called sold out."""
    skus = sorted({i.sku for i in case.items if i.sku})
    if not skus:
        return ()
    available: dict[str, int] = {}
    for level in uow.stock.levels(case.store_id, skus):
        available[level.sku] = available.get(level.sku, 0) + level.available
    return tuple(sku for sku in skus if sku in available and available[sku] <= 0)
