"""A person working a case from the console (SPEC S11): take it out of automation and back,
assign it, mark it contacted with the outcome, add a note, send its next step now, cancel
its order, issue a coupon. Each is one transaction, a line on the case's timeline (``case_events``: who did
it and what) and an entry in the audit log.

Stopping the flow is :func:`reclaim.services.cases.stop_case`, extending the hold
:func:`reclaim.services.holds.extend_hold`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from reclaim.domain.audit import Actor
from reclaim.domain.cases import Case, CaseKind, CaseStatus, FlowState
from reclaim.domain.connectors import can_cancel_orders, codes_work
from reclaim.domain.incentives import IncentiveSpec, Offer, plan_offer
from reclaim.domain.money import exponent
from reclaim.domain.steps import Coupon, StepStatus
from reclaim.domain.stores import Store
from reclaim.errors import Conflict, InvalidInput, NotFound
from reclaim.services import coupons, holds
from reclaim.services.audit import record
from reclaim.services.flows import stop_flow
from reclaim.services.platform_actions import CANCEL_ORDER
from reclaim.services.ports import PlatformClient, UnitOfWork
from reclaim.services.resolution import close

NOTE_MAX = 2000
COUPON_KINDS = ("percent", "fixed")
COUPON_DAYS = (1, 90)  # a coupon from the console lasts 1 to 90 days
OVER_FLOOR = "the discount is more than the store's margin floor allows on this cart"


class Outcome(StrEnum):
    """What a call or a personal message to the customer came to."""

    REACHED_WILL_PAY = "reached_will_pay"
    REACHED_DECLINED = "reached_declined"
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"
    WRONG_NUMBER = "wrong_number"


def _note(text: str | None, *, required: bool) -> str:
    cleaned = (text or "").strip()
    if required and not cleaned:
        raise InvalidInput("the note is empty", field="note")
    if len(cleaned) > NOTE_MAX:
        raise InvalidInput(f"the note is longer than {NOTE_MAX} characters", field="note")
    return cleaned


def _act(
    uow: UnitOfWork,
    store_id: str,
    case_id: int,
    *,
    now: datetime,
    actor: Actor,
    action: str,
    change: Callable[[Case], dict[str, object]],
) -> Case:
    """Lock the case, apply ``change`` (which returns the event's data and raises to refuse),
    write the event and the audit entry, commit."""
    with uow:
        case = uow.cases.get(case_id, store_id=store_id, lock=True)
        if case is None:
            raise NotFound(f"no case {case_id}")
        before = {"manual": case.manual, "assignee_id": case.assignee_id}
        data = change(case)
        case.updated_at = now
        uow.cases.add_event(case_id, at=now, type=action, data={"by": actor.name, **data})
        # The audit log keeps no personal data in clear (domain/audit.py): a note's words stay
        # on the case's timeline, which an erasure deletes with the case; the log has its length.
        kept = {k: v for k, v in data.items() if k != "text"}
        if "text" in data:
            kept["text_chars"] = len(str(data["text"]))
        after = {"manual": case.manual, "assignee_id": case.assignee_id, **kept}
        record(uow, actor, f"case.{action}", case_id, store_id=store_id, before=before, after=after)
        uow.commit()
        return case


def _open(case: Case) -> None:
    if case.status != CaseStatus.OPEN:
        raise Conflict(f"case {case.id} is {case.status}")


def set_manual(
    *, uow: UnitOfWork, store_id: str, case_id: int, manual: bool, now: datetime, actor: Actor
) -> Case:
    """Take the case out of automation (no step is sent while a person works it) or give it
    back: its next step, if due, goes at the worker's next round."""

    def change(case: Case) -> dict[str, object]:
        _open(case)
        if case.manual == manual:
            raise Conflict(f"case {case_id} is already {'manual' if manual else 'automated'}")
        case.manual = manual
        if not manual and case.flow_state == FlowState.RUNNING and case.id is not None:
            for step in uow.steps.for_case(case.id):
                if step.status == StepStatus.SCHEDULED and step.outcome == "waiting_manual":
                    step.due_at = min(step.due_at, now)  # it waited on the person: now
                    case.next_step_at = step.due_at
        return {}

    return _act(
        uow,
        store_id,
        case_id,
        now=now,
        actor=actor,
        action="automation_off" if manual else "automation_on",
        change=change,
    )


def assign(
    *,
    uow: UnitOfWork,
    store_id: str,
    case_id: int,
    user_id: int | None,
    name: str | None,
    now: datetime,
    actor: Actor,
) -> Case:
    """Give the case to the user ``user_id`` (``name`` for the timeline), or to nobody."""

    def change(case: Case) -> dict[str, object]:
        case.assignee_id = user_id
        return {"to": name}

    return _act(uow, store_id, case_id, now=now, actor=actor, action="assigned", change=change)


def mark_contacted(
    *,
    uow: UnitOfWork,
    store_id: str,
    case_id: int,
    outcome: str,
    note: str | None,
    now: datetime,
    actor: Actor,
) -> Case:
    """The customer was called or written to by a person; what came of it."""
    if outcome not in {o.value for o in Outcome}:
        raise InvalidInput("unknown outcome", field="outcome")
    text = _note(note, required=False)

    def change(case: Case) -> dict[str, object]:
        return {"outcome": outcome, "text": text} if text else {"outcome": outcome}

    return _act(uow, store_id, case_id, now=now, actor=actor, action="contacted", change=change)


def add_note(
    *, uow: UnitOfWork, store_id: str, case_id: int, text: str, now: datetime, actor: Actor
) -> Case:
    cleaned = _note(text, required=True)
    return _act(
        uow,
        store_id,
        case_id,
        now=now,
        actor=actor,
        action="note",
        change=lambda case: {"text": cleaned},
    )


def send_now(*, uow: UnitOfWork, store_id: str, case_id: int, now: datetime, actor: Actor) -> Case:
    """Bring the flow's next step forward to now: the worker sends it at its next round,
    through every usual check (consent, quiet hours, the frequency cap)."""

    def change(case: Case) -> dict[str, object]:
        _open(case)
        if case.manual:
            raise Conflict(f"case {case_id} is worked by hand: resume automation first")
        if case.flow_state != FlowState.RUNNING or case.id is None:
            raise Conflict(f"case {case_id} has no running flow")
        waiting = [s for s in uow.steps.for_case(case.id) if s.status == StepStatus.SCHEDULED]
        if not waiting:
            raise Conflict(f"case {case_id} has no step waiting")
        step = min(waiting, key=lambda s: (s.position, s.id or 0))
        was = step.due_at
        step.due_at = min(step.due_at, now)
        case.next_step_at = step.due_at
        return {"step": step.key, "was_due": was.isoformat()}

    return _act(uow, store_id, case_id, now=now, actor=actor, action="send_now", change=change)


def cancel_reason(case: Case, can_cancel: bool) -> str | None:
    """Why the case's order cannot be cancelled from the console, if it cannot: a code the
    console words (``not_pending``, ``closed``, ``no_order``, ``no_connector``)."""
    if case.kind != CaseKind.PENDING_ORDER:
        return "not_pending"
    if case.status != CaseStatus.OPEN:
        return "closed"
    if not case.order_external_id:
        return "no_order"
    if not can_cancel:
        return "no_connector"
    return None


def cancel_order(
    *, uow: UnitOfWork, store_id: str, case_id: int, now: datetime, actor: Actor
) -> Case:
    """Cancel the unpaid order of a pending-order case: the platform is asked by the worker
    (the outbox of platform calls, which never cancels an order paid meanwhile), the items
    held for it come back to stock, the flow stops (the customer is sent nothing more) and
    the case closes as cancelled."""

    with uow:
        store = uow.stores.get(store_id)
        case = uow.cases.get(case_id, store_id=store_id, lock=True)
        if case is None or store is None:
            raise NotFound(f"no case {case_id}")
        why = cancel_reason(case, can_cancel_orders(store))
        if why is not None:
            raise Conflict(f"the order of case {case_id} cannot be cancelled ({why})")
        order = case.order_external_id
        assert order is not None and case.id is not None
        if uow.facts.order_succeeded_payment(store_id, order):
            raise Conflict(f"the order of case {case_id} is paid")
        uow.platform_actions.add(
            store_id=store_id, action=CANCEL_ORDER, order_external_id=order, now=now
        )
        holds.settle(uow, store, order, paid=False, at=now)
        stopped = stop_flow(uow, case, at=now, reason="order_cancelled_by_operator")
        close(uow, case, CaseStatus.CANCELLED, at=now, reason="order_cancelled_by_operator")
        uow.cases.add_event(case.id, at=now, type="order_cancel_requested", data={"by": actor.name})
        record(
            uow,
            actor,
            "case.cancel_order",
            case_id,
            store_id=store_id,
            before={"status": CaseStatus.OPEN.value},
            after={"status": case.status, "order": order, "steps_cancelled": stopped},
        )
        uow.commit()
        return case


def coupon_blocked(case: Case, store: Store) -> str | None:
    """Why no coupon can be issued for the case from the console, if none can: ``closed``,
    or ``no_connector`` (Reclaim cannot create it on the store's platform and the merchant
    does not import codes: a code the checkout refuses would do more harm than none)."""
    if case.status != CaseStatus.OPEN:
        return "closed"
    if not codes_work(store):
        return "no_connector"
    return None


def coupon_offer(
    case: Case, store: Store, *, kind: str, value: str, days: str, now: datetime
) -> Offer:
    """The offer a person asked for on the case's cart: ``kind`` percent or fixed (an amount
    in the case's currency), ``value``, lasting ``days``; held to the store's margin floor as
    a flow's coupons are (never cut silently: refused). Raises :class:`InvalidInput` naming
    the form's field."""
    if kind not in COUPON_KINDS:
        raise InvalidInput("choose a percentage or a fixed amount", field="kind")
    try:
        amount = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise InvalidInput("the value is not a number", field="value") from None
    places = exponent(case.currency) if kind == "fixed" else 2
    if (
        not amount.is_finite()
        or not 0 < amount < 10**9
        or amount != amount.quantize(Decimal(1).scaleb(-places))
    ):
        raise InvalidInput("the value is not a usable amount", field="value")
    try:
        lasts = int(days.strip())
    except ValueError:
        raise InvalidInput("the days are not a whole number", field="days") from None
    if not COUPON_DAYS[0] <= lasts <= COUPON_DAYS[1]:
        raise InvalidInput("a coupon lasts 1 to 90 days", field="days")
    spec = IncentiveSpec("percent" if kind == "percent" else "fixed", amount, timedelta(days=lasts))
    planned = plan_offer(
        spec,
        order_value=case.value,
        currency=case.currency,
        shipping_cost=None,
        gross_margin=store.settings.gross_margin,
        margin_floor=store.settings.margin_floor,
        now=now,
    )
    if not isinstance(planned, Offer) or planned.reduced:
        raise InvalidInput(OVER_FLOOR, field="value")
    return planned


def issue_coupon(
    *,
    uow: UnitOfWork,
    platforms: PlatformClient,
    store_id: str,
    case_id: int,
    kind: str,
    value: str,
    days: str,
    now: datetime,
    actor: Actor,
) -> Coupon:
    """Issue a single-use coupon for the case (for a person to give the customer, e.g. on
    the phone), then create it on the store's platform as a flow's coupon is, outside the
    transaction (:func:`reclaim.services.coupons.push_coupon`): ``pushed``, ``exported`` (the
    merchant imports it) or not yet there (``push_state`` None, ``push_error`` says why:
    :func:`push_coupon_again`). A ``coupon_issued`` event and a ``case.coupon`` audit entry."""
    with uow:
        store = uow.stores.get(store_id)
        case = uow.cases.get(case_id, store_id=store_id, lock=True)
        if case is None or store is None:
            raise NotFound(f"no case {case_id}")
        why = coupon_blocked(case, store)
        if why is not None:
            raise Conflict(f"no coupon can be issued for case {case_id} ({why})")
        offer = coupon_offer(case, store, kind=kind, value=value, days=days, now=now)
        coupon = coupons.issue_coupon(uow, store, case, offer, now, by=actor.name)
        after = {
            "code": coupon.code,
            "kind": coupon.kind,
            "value": str(coupon.value),
            "currency": coupon.currency,
            "expires_at": coupon.expires_at.isoformat(),
        }
        record(uow, actor, "case.coupon", case_id, store_id=store_id, after=after)
        uow.commit()
    push = coupons.push_coupon(platforms, store, coupon, now)
    return coupons.keep_push(uow, coupon, push, now)


def push_coupon_again(
    *,
    uow: UnitOfWork,
    platforms: PlatformClient,
    store_id: str,
    case_id: int,
    code: str,
    now: datetime,
    actor: Actor,
) -> Coupon:
    """Create on the store's platform a coupon of the case that is not there yet (its push
    failed), once more; audited as ``case.coupon_push``."""
    with uow:
        store = uow.stores.get(store_id)
        coupon = uow.coupons.by_code(store_id, code)
        if store is None or coupon is None or coupon.case_id != case_id:
            raise NotFound(f"no coupon {code[:40]!r} on case {case_id}")
        if not coupon.needs_push or coupon.expires_at <= now or coupon.redeemed_at is not None:
            raise Conflict(f"coupon {coupon.code} needs no push")
    push = coupons.push_coupon(platforms, store, coupon, now)
    kept = coupons.keep_push(uow, coupon, push, now)
    with uow:
        after = {"code": kept.code, "push_state": kept.push_state, "error": kept.push_error}
        record(uow, actor, "case.coupon_push", case_id, store_id=store_id, after=after)
        uow.commit()
    return kept
