"""What the console shows of the daily work (SPEC S11): the follow-up queue (ranked in the
database, each row's score taken apart by :func:`reclaim.domain.priority.priority`), one
case with everything around it, and one customer with all their cases, orders and messages.
Reads only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from reclaim.domain.cases import Case, CaseReason, CaseStatus
from reclaim.domain.connectors import can_cancel_orders, can_create_coupons, codes_work
from reclaim.domain.facts import Order
from reclaim.domain.fulfilment import FulfilmentOptions
from reclaim.domain.holds import Hold
from reclaim.domain.lifecycle import Stage, lifecycle
from reclaim.domain.messages import Channel, Purpose
from reclaim.domain.policy import consent_decision, suppression_key
from reclaim.domain.policy.timing import zone
from reclaim.domain.priority import Priority, QueueQuery, decent_hour, priority
from reclaim.domain.shipments import Shipment
from reclaim.domain.steps import Coupon, MessageRecord
from reclaim.domain.stores import Store
from reclaim.domain.users import User
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.cases import CaseDetail, get_case
from reclaim.services.casework import cancel_reason, coupon_blocked
from reclaim.services.fulfilment import _options
from reclaim.services.ports import ActionState, CustomerRow, UnitOfWork

PAGE = 50
MAX_OFFSET = 10_000  # the queue is worked from the top: 200 pages is plenty
CUSTOMER_ROWS = 200  # each list on a customer's page
CASE_SHIPMENTS = 20  # an order's parcels shown on its case's page


@dataclass(frozen=True, slots=True)
class CallTime:
    """The customer's clock, for a phone call."""

    zone: str
    local: datetime
    decent: bool


def call_time(case: Case, store: Store | None, now: datetime) -> CallTime:
    name = case.customer_timezone or (store.timezone if store is not None else "UTC")
    local = now.astimezone(zone(name))
    return CallTime(name, local, decent_hour(local))


@dataclass(frozen=True, slots=True)
class QueueRow:
    case: Case
    score: int
    priority: Priority
    call: CallTime


@dataclass(frozen=True, slots=True)
class QueuePage:
    rows: Sequence[QueueRow]
    total: int
    page: int
    pages: int


def _margins(stores: Sequence[Store]) -> dict[str, Decimal | None]:
    return {s.id: s.settings.gross_margin for s in stores}


def queue(
    *, uow: UnitOfWork, stores: Sequence[Store], query: QueueQuery, now: datetime, page: int = 1
) -> QueuePage:
    """One page (50 rows) of the open cases ``query`` selects, highest priority first."""
    if page < 1 or (page - 1) * PAGE > MAX_OFFSET:
        raise InvalidInput("page is out of range", field="page")
    by_id = {s.id: s for s in stores}
    margins = _margins(stores)
    with uow:
        found = uow.casework.queue(
            query, now=now, margins=margins, offset=(page - 1) * PAGE, limit=PAGE
        )
        total = uow.casework.queue_count(query, now=now)
    rows = [
        QueueRow(
            case=c,
            score=score,
            priority=priority(
                value=c.value,
                currency=c.currency,
                gross_margin=margins.get(c.store_id),
                country=c.country,
                kind=c.kind,
                reason=c.reason,
                occurred_at=c.occurred_at,
                now=now,
            ),
            call=call_time(c, by_id.get(c.store_id), now),
        )
        for c, score in found
    ]
    pages = max(1, min((total + PAGE - 1) // PAGE, MAX_OFFSET // PAGE + 1))
    return QueuePage(rows, total, page, pages)


@dataclass(frozen=True, slots=True)
class CaseView:
    detail: CaseDetail
    store: Store
    reasons: Sequence[CaseReason]
    coupons: Sequence[Coupon]
    hold: Hold | None
    actions: Sequence[ActionState]  # the order's platform calls
    order: Order | None
    assignee: User | None
    call: CallTime
    priority: Priority | None  # open cases only
    options: FulfilmentOptions | None  # where the cart can ship from, when stock is known
    cancel_blocked: str | None  # why the order cannot be cancelled (None: it can)
    coupons_work: bool
    coupon_blocked: str | None  # why no coupon can be issued here (None: one can)
    coupons_created: bool  # Reclaim creates its coupons on the store's platform (else imported)
    shipments: Sequence[Shipment]  # the order's parcels, first shipped first
    now: datetime

    @property
    def case(self) -> Case:
        return self.detail.case


def store_of(*, uow: UnitOfWork, case_id: int) -> str | None:
    """The store of case ``case_id``, None when there is no such case."""
    with uow:
        case = uow.cases.get(case_id)
        return None if case is None else case.store_id


def case_view(*, uow: UnitOfWork, store: Store, case_id: int, now: datetime) -> CaseView:
    detail = get_case(uow=uow, store_id=store.id, case_id=case_id)
    case = detail.case
    options: FulfilmentOptions | None = None
    with uow:
        reasons = list(uow.cases.reasons(case_id))
        coupons = list(uow.coupons.for_case(case_id))
        order_id = case.order_external_id
        hold = uow.stock.hold(store.id, order_id) if order_id else None
        actions = list(uow.platform_actions.for_order(store.id, order_id)) if order_id else []
        order = uow.facts.order(store.id, order_id, lock=False) if order_id else None
        shipments = (
            list(uow.logistics.for_order(store.id, order_id, limit=CASE_SHIPMENTS))
            if order_id
            else []
        )
        assignee = uow.users.get(case.assignee_id) if case.assignee_id is not None else None
        skus = [(i.sku, i.quantity) for i in case.items if i.sku]
        if case.is_open and skus and case.country and len(skus) == len(case.items):
            try:
                options = _options(
                    uow, store.id, skus, country=case.country, region=case.contact.region, now=now
                )
            except InvalidInput:
                options = None
    score = (
        priority(
            value=case.value,
            currency=case.currency,
            gross_margin=store.settings.gross_margin,
            country=case.country,
            kind=case.kind,
            reason=case.reason,
            occurred_at=case.occurred_at,
            now=now,
        )
        if case.status == CaseStatus.OPEN
        else None
    )
    return CaseView(
        detail=detail,
        store=store,
        reasons=reasons,
        coupons=coupons,
        hold=hold,
        actions=actions,
        order=order,
        assignee=assignee,
        call=call_time(case, store, now),
        priority=score,
        options=options if options is not None and options.options else None,
        cancel_blocked=cancel_reason(case, can_cancel_orders(store)),
        coupons_work=codes_work(store),
        coupon_blocked=coupon_blocked(case, store),
        coupons_created=can_create_coupons(store),
        now=now,
        shipments=shipments,
    )


@dataclass(frozen=True, slots=True)
class Reachability:
    """One channel of a customer: their address, its suppression entry, and whether a
    marketing message may go (the consent rule that decides)."""

    channel: str
    address: str
    suppressed: str | None  # the entry's reason
    suppressed_since: datetime | None
    opted_in: bool | None
    marketing_allowed: bool
    rule: str


@dataclass(frozen=True, slots=True)
class CustomerView:
    store: Store
    customer_key: str
    cases: Sequence[Case]
    orders: Sequence[Order]
    messages: Sequence[MessageRecord]
    stage: Stage
    paid_orders: int
    reach: Sequence[Reachability]
    name: str
    country: str | None


def customer_view(
    *, uow: UnitOfWork, store: Store, customer_key: str, now: datetime
) -> CustomerView:
    with uow:
        cases = list(uow.casework.customer_cases(store.id, customer_key, limit=CUSTOMER_ROWS))
        orders = list(uow.casework.customer_orders(store.id, customer_key, limit=CUSTOMER_ROWS))
        if not cases and not orders:
            raise NotFound("no such customer")
        messages = list(uow.casework.customer_messages(store.id, customer_key, limit=CUSTOMER_ROWS))
        paid = uow.casework.paid_orders_count(store.id, customer_key)
        latest = cases[0].contact if cases else orders[0].contact
        email = next((c.email for c in cases if c.email), None) or next(
            (o.email for o in orders if o.email), None
        )
        phone = next((c.phone for c in cases if c.phone), None) or next(
            (o.phone for o in orders if o.phone), None
        )
        reach = []
        for channel, address, opted in (
            (Channel.EMAIL, email, latest.accepts_email_marketing),
            (Channel.SMS, phone, latest.accepts_sms_marketing),
        ):
            if not address:
                continue
            try:
                entry = uow.suppressions.entry(
                    store.id, channel.value, suppression_key(channel, address)
                )
            except InvalidInput:  # an unusable address: nothing can be on the list for it
                entry = None
            decision = consent_decision(
                channel=channel,
                purpose=Purpose.MARKETING,
                country=latest.country,
                opted_in=opted,
                store_requires_consent=store.settings.requires_consent,
            )
            reach.append(
                Reachability(
                    channel=channel.value,
                    address=address,
                    suppressed=entry[0] if entry else None,
                    suppressed_since=entry[1] if entry else None,
                    opted_in=opted,
                    marketing_allowed=decision.allowed and entry is None,
                    rule=decision.rule,
                )
            )
    name = " ".join(x for x in (latest.first_name, latest.last_name) if x)
    earlier = max((c.contact.orders_count or 0 for c in cases), default=0)
    return CustomerView(
        store=store,
        customer_key=customer_key,
        cases=cases,
        orders=orders,
        messages=messages,
        stage=lifecycle(paid_orders=paid, cases=len(cases), earlier_orders=earlier),
        paid_orders=paid,
        reach=reach,
        name=name,
        country=latest.country,
    )


def find_customers(
    *, uow: UnitOfWork, store_ids: Sequence[str], text: str, page: int = 1
) -> Sequence[CustomerRow]:
    """Customers whose email or phone begins with ``text``, or whose key it is (50 a page)."""
    if len(text) > 320:
        raise InvalidInput("the search is too long", field="q")
    if page < 1 or (page - 1) * PAGE > MAX_OFFSET:
        raise InvalidInput("page is out of range", field="page")
    with uow:
        return uow.casework.find_customers(
            store_ids, text, offset=(page - 1) * PAGE, limit=PAGE + 1
        )


def margins_of(stores: Sequence[Store]) -> Mapping[str, Decimal | None]:
    return _margins(stores)
