"""What a newly merged fact settles: cases recovered, cancelled or refreshed (SPEC S2).

Called by ingestion inside the delivery's transaction, so a payment that arrives between two
steps of a flow stops the flow in the same commit that records the payment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from reclaim.domain.attribution import attribute
from reclaim.domain.cases import Attribution, Case, CaseKind, CaseStatus, items_overlap
from reclaim.domain.events import CheckoutObserved
from reclaim.domain.facts import Checkout, CheckoutState, Order, PaymentAttempt
from reclaim.domain.incentives import normalise_code, redemption_check
from reclaim.domain.reasons import classify_failure
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store
from reclaim.errors import InvalidInput
from reclaim.services.flows import stop_flow
from reclaim.services.ports import UnitOfWork


def record(uow: UnitOfWork, case: Case, *, at: datetime, type: str, **data: object) -> None:
    assert case.id is not None
    uow.cases.add_event(case.id, at=at, type=type, data=data)


def recover(
    uow: UnitOfWork,
    case: Case,
    *,
    at: datetime,
    order_external_id: str | None,
    value: Decimal,
    how: str,
) -> None:
    """Recover the case, stop its flow and credit the message that earned it (if any)."""
    if not case.recover(at=at, order_external_id=order_external_id, value=value, how=how):
        return
    assert case.id is not None
    stop_flow(uow, case, at=at, reason="recovered")
    winner = attribute(uow.messages.for_case(case.id), recovered_at=at)
    if winner is not None:
        case.attribution = Attribution.MESSAGE
        case.attributed_message_id = winner.id
    record(
        uow,
        case,
        at=at,
        type="recovered",
        how=how,
        order=order_external_id,
        attribution=case.attribution,
        message=case.attributed_message_id,
    )


def close(uow: UnitOfWork, case: Case, status: CaseStatus, *, at: datetime, reason: str) -> None:
    if case.close(status, at=at, reason=reason):
        stop_flow(uow, case, at=at, reason=reason)
        record(uow, case, at=at, type=str(status), reason=reason)


def after_checkout(
    *,
    uow: UnitOfWork,
    store: Store,
    checkout: Checkout,
    now: datetime,
    observed: CheckoutObserved | None = None,
) -> None:
    """``observed``: what was just seen of it; completed, it may name the checkout it was made
    from (Stripe's ``recovered_from``) and the coupons used."""
    if observed is not None and observed.completed_at is not None:
        _completed_session(uow, store, checkout, observed)
    if not checkout.is_completed:
        # The order placed from this checkout may have arrived first: it completes the
        # checkout all the same, so the picture does not depend on the order of arrival.
        order = uow.facts.order_by_checkout(store.id, checkout.external_id)
        if order is not None:
            _mark_completed(checkout, order)
    open_cases = uow.cases.open_for_checkout(store.id, checkout.external_id)
    if checkout.is_completed:
        at = checkout.completed_at or checkout.updated_at
        for case in settled_by_completion(open_cases):
            recover(
                uow,
                case,
                at=at,
                order_external_id=checkout.order_external_id,
                value=checkout.total,
                how="checkout_completed",
            )
        return
    for case in open_cases:
        if case.refresh(
            value=checkout.total, items=checkout.items, contact=checkout.contact, at=now
        ):
            record(uow, case, at=now, type="updated", value=str(checkout.total))


def _completed_session(
    uow: UnitOfWork, store: Store, checkout: Checkout, observed: CheckoutObserved
) -> None:
    """A checkout made from an abandoned one by the platform's recovery link recovers that
    one's case; the coupons it names are redeemed."""
    at = observed.completed_at
    assert at is not None
    if observed.recovered_from:
        for case in uow.cases.open_for_checkout(store.id, observed.recovered_from):
            recover(
                uow,
                case,
                at=at,
                order_external_id=None,
                value=observed.total,
                how="checkout_recovered",
            )
    if observed.discount_codes or observed.discount_refs:
        redeem_coupons(
            uow,
            store,
            codes=observed.discount_codes,
            refs=observed.discount_refs,
            total=observed.total,
            at=at,
            order_ref=checkout.order_external_id or observed.external_id,
        )


def after_order(*, uow: UnitOfWork, store: Store, order: Order, now: datetime) -> None:
    if order.checkout_external_id:
        _complete_checkout(uow, store, order)
    if order.is_paid:
        _recover_by_order(uow, store, order)
        _redeem_coupons(uow, store, order)
    elif order.is_cancelled:
        at = order.cancelled_at or order.updated_at
        for case in uow.cases.open_for_order(store.id, order.external_id):
            close(uow, case, CaseStatus.CANCELLED, at=at, reason="order_cancelled")
    else:
        for case in uow.cases.open_for_order(store.id, order.external_id):
            if case.kind == CaseKind.PENDING_ORDER and case.refresh(
                value=order.total, items=order.items, contact=order.contact, at=now
            ):
                record(uow, case, at=now, type="updated", value=str(order.total))


def settled_by_completion(cases: Sequence[Case]) -> list[Case]:
    """The cases a checkout's completion (or an order placed from it) recovers: not those of
    an order (its pending-order case, a failed payment for it), which wait for the order's
    payment, however many times the order is delivered meanwhile."""
    return [case for case in cases if case.order_external_id is None]


def _complete_checkout(uow: UnitOfWork, store: Store, order: Order) -> None:
    """An order placed from a checkout completes it, whatever the platform said of the cart."""
    assert order.checkout_external_id is not None
    checkout = uow.facts.checkout(store.id, order.checkout_external_id, lock=True)
    if checkout is not None and not checkout.is_completed:
        _mark_completed(checkout, order)
    for case in settled_by_completion(
        uow.cases.open_for_checkout(store.id, order.checkout_external_id)
    ):
        recover(
            uow,
            case,
            at=order.created_at,
            order_external_id=order.external_id,
            value=order.total,
            how="checkout_completed",
        )


def _mark_completed(checkout: Checkout, order: Order) -> None:
    checkout.order_external_id = order.external_id
    checkout.completed_at = order.created_at
    if checkout.state in (CheckoutState.ACTIVE, CheckoutState.SUPERSEDED):
        checkout.state = CheckoutState.COMPLETED
    checkout.abandon_due_at = None


def _recover_by_order(uow: UnitOfWork, store: Store, order: Order) -> None:
    paid_at = order.paid_at
    assert paid_at is not None
    for case in uow.cases.open_for_order(store.id, order.external_id):
        recover(
            uow,
            case,
            at=paid_at,
            order_external_id=order.external_id,
            value=order.total,
            how="order_paid",
        )
    if order.customer_key is None:
        return
    window = store.settings.recovery_window
    for case in uow.cases.open_for_customer(store.id, order.customer_key):
        if case.occurred_at <= paid_at <= case.occurred_at + window and items_overlap(
            case.items, order.items
        ):
            recover(
                uow,
                case,
                at=paid_at,
                order_external_id=order.external_id,
                value=order.total,
                how="customer_purchase",
            )


def _redeem_coupons(uow: UnitOfWork, store: Store, order: Order) -> None:
    assert order.paid_at is not None
    redeem_coupons(
        uow,
        store,
        codes=order.discount_codes,
        refs=(),
        total=order.total,
        at=order.paid_at,
        order_ref=order.external_id,
    )


def redeem_coupons(
    uow: UnitOfWork,
    store: Store,
    *,
    codes: Sequence[str],
    refs: Sequence[str],
    total: Decimal,
    at: datetime,
    order_ref: str | None,
) -> None:
    """Track the redemption of coupons Reclaim issued (SPEC S6), once each: named by the code
    the customer typed (any case, with or without dashes) or by the platform's id for it
    (Stripe names a promotion code by its ``promo_…`` id)."""
    found: list[Coupon] = []
    for raw in codes:
        try:
            key = normalise_code(raw)
        except InvalidInput:
            continue  # not one of ours: our codes never contain look-alike characters
        grouped = "-".join(key[i : i + 4] for i in range(0, len(key), 4))
        coupon = uow.coupons.by_code(store.id, grouped) or uow.coupons.by_code(store.id, key)
        if coupon is not None:
            found.append(coupon)
    for ref in refs:
        coupon = uow.coupons.by_platform_ref(store.id, ref)
        if coupon is not None:
            found.append(coupon)
    for coupon in found:
        if coupon.redeemed_at is not None:
            continue
        problem = redemption_check(
            coupon_kind=coupon.kind,
            value=coupon.value,
            min_order=coupon.min_order,
            expires_at=coupon.expires_at,
            redeemed_at=None,
            order_total=total,
            at=at,
        )
        coupon.redeemed_at = at
        coupon.redeemed_order_external_id = order_ref
        uow.cases.add_event(
            coupon.case_id,
            at=at,
            type="coupon_redeemed",
            data={"code": coupon.code, "order": order_ref, "problem": problem},
        )


def after_payment(*, uow: UnitOfWork, store: Store, attempt: PaymentAttempt, now: datetime) -> None:
    if attempt.succeeded:
        linked: list[Case] = list(uow.cases.open_for_intent(store.id, attempt.intent_id))
        if attempt.order_external_id:
            linked += uow.cases.open_for_order(store.id, attempt.order_external_id)
        if attempt.checkout_external_id:
            linked += uow.cases.open_for_checkout(store.id, attempt.checkout_external_id)
        for case in linked:
            recover(
                uow,
                case,
                at=attempt.occurred_at,
                order_external_id=attempt.order_external_id,
                value=attempt.amount,
                how="payment_succeeded",
            )
        if attempt.order_external_id is None and attempt.customer_key is not None:
            # A payment for no known order (payments-only stores): the same customer paying
            # within the window is a purchase; it carries no items, so it matches any case.
            window = store.settings.recovery_window
            for case in uow.cases.open_for_customer(store.id, attempt.customer_key):
                if case.occurred_at <= attempt.occurred_at <= case.occurred_at + window:
                    recover(
                        uow,
                        case,
                        at=attempt.occurred_at,
                        order_external_id=None,
                        value=attempt.amount,
                        how="customer_purchase",
                    )
        return
    for case in uow.cases.open_for_intent(store.id, attempt.intent_id):
        # The case keeps the reason of the failure that opened it; later ones join its timeline.
        record(
            uow,
            case,
            at=attempt.occurred_at,
            type="payment_failed_again",
            reason=str(classify_failure(attempt.decline_code, attempt.failure_code)),
            code=attempt.decline_code or attempt.failure_code,
        )
