"""Shipment exceptions as logistics cases, the operations queue and the lanes' delay index
(SPEC S9).

Ingestion keeps every tracking scan (:func:`record_scan`, in the delivery's transaction) and
closes a parcel's logistics cases when it is delivered (``resolved``) or returned (``lost``).
The worker's :func:`sweep_shipments` judges every parcel still on its way with
:func:`reclaim.domain.logistics.exceptions` and opens one case per finding, subject
``"{shipment}:{kind}:{since}"``, so a finding opens once however often the sweep runs. The
case runs the store's ``shipment_exception`` flow (a transactional notice with the tracking
link); the operations queue (:func:`queue`) lists the open ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from reclaim.domain.cases import Case, CaseKind, CaseStatus
from reclaim.domain.events import Contact, ShipmentObserved, ShipmentStatus
from reclaim.domain.facts import Order
from reclaim.domain.logistics import (
    DelayIndex,
    ShipmentException,
    Timeline,
    end_of_day,
    exceptions,
)
from reclaim.domain.shipments import Shipment
from reclaim.domain.stores import Store
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.flows import FlowDefaults, start_flow
from reclaim.services.lane_history import (
    History,
    delay_index,
    lane_of,
    lanes_for,
    norm_of,
    zone_of,
)
from reclaim.services.lane_history import history as _history
from reclaim.services.ports import UnitOfWork
from reclaim.services.resolution import close, record

_SUBJECT_MAX = 255


@dataclass(slots=True)
class SweepStats:
    shipments: int = 0  # parcels on their way that were judged
    opened: int = 0  # logistics cases opened
    warned: int = 0  # open pending orders marked as held on a slipping lane


def _ref(shipment_external_id: str) -> str:
    """The shipment's part of a case subject: its id, or its digest when the id is too long
    for a subject with the kind and instant after it."""
    if len(shipment_external_id) <= _SUBJECT_MAX - 64:
        return shipment_external_id
    return hashlib.sha256(shipment_external_id.encode()).hexdigest()


def subject_of(shipment_external_id: str, finding: ShipmentException) -> str:
    """``"{shipment}:{kind}:{since iso}"``: one case per finding of one parcel."""
    return f"{_ref(shipment_external_id)}:{finding.kind.value}:{finding.since.isoformat()}"


def _cases_of(uow: UnitOfWork, store_id: str, shipment: Shipment) -> list[Case]:
    prefix = f"{_ref(shipment.external_id)}:"
    return [
        c
        for c in uow.cases.open_for_order(store_id, shipment.order_external_id)
        if c.kind == CaseKind.SHIPMENT_EXCEPTION and c.subject_id.startswith(prefix)
    ]


def record_scan(*, uow: UnitOfWork, store: Store, fact: ShipmentObserved, now: datetime) -> None:
    """Keep the scan (an identical one is kept once); a delivery resolves the parcel's open
    logistics cases and a return closes them as lost. In the caller's transaction."""
    uow.logistics.add_scan(
        store.id,
        fact.external_id,
        status=fact.status.value,
        location=fact.location,
        occurred_at=fact.occurred_at,
    )
    if fact.status not in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED):
        return
    shipment = uow.facts.shipment(store.id, fact.external_id, lock=False)
    if shipment is None:
        return
    status, reason = (
        (CaseStatus.RESOLVED, "delivered")
        if fact.status is ShipmentStatus.DELIVERED
        else (CaseStatus.LOST, "returned")
    )
    for case in _cases_of(uow, store.id, shipment):
        close(uow, case, status, at=now, reason=reason)


def _warn_slipping(uow: UnitOfWork, store: Store, history: History, now: datetime) -> int:
    """Mark each open pending order held on a slipping lane, once (SPEC S9: "warns open
    orders on a lane that is slipping"); operators see it on the case, customers get nothing."""
    index = DelayIndex(history.delivered, now=now)
    slipping = {lane for lane, stat in index.items() if stat.slipping}
    if not slipping:
        return 0
    warned = 0
    pending = uow.cases.page(
        store_id=store.id,
        status=CaseStatus.OPEN,
        kind=CaseKind.PENDING_ORDER,
        since=None,
        after_id=None,
        limit=1000,
    )
    lanes = lanes_for(uow, store.id, (c.order_external_id for c in pending if c.order_external_id))
    for case in pending:
        if case.id is None or case.order_external_id is None:
            continue
        lane = lanes[case.order_external_id]
        if lane not in slipping:
            continue
        if any(t == "lane_slipping" for _, t, _ in uow.cases.events(case.id)):
            continue
        stat = index[lane]
        record(
            uow,
            case,
            at=now,
            type="lane_slipping",
            origin=lane[0],
            destination=lane[1],
            late_share=round(stat.late_share, 3),
            delay_days=stat.delay_days,
        )
        warned += 1
    return warned


def sweep_shipments(
    *, uow: UnitOfWork, now: datetime, flows: FlowDefaults | None, batch: int = 200
) -> SweepStats:
    """Judge every shipment not yet delivered or returned at ``now`` and open a logistics
    case for each finding not seen before (committed per batch). With ``flows`` each new case
    starts its store's ``shipment_exception`` flow; without, cases are only opened.

    The promise is the carrier's ``estimated_delivery_at`` (its day in the destination's zone);
    without one, lateness is not judged. Customs allowance 3 days, probable loss after 21."""
    stats = SweepStats()
    histories: dict[str, History] = {}
    after = 0
    while True:
        with uow:
            page = uow.logistics.active_shipments(after_id=after, limit=batch)
            for shipment in page:
                assert shipment.id is not None
                after = shipment.id
                store = uow.stores.get(shipment.store_id)
                if store is None:
                    continue
                if store.id not in histories:
                    histories[store.id] = _history(uow, store, now)
                    stats.warned += _warn_slipping(uow, store, histories[store.id], now)
                stats.shipments += 1
                stats.opened += _judge(uow, store, shipment, histories[store.id], now, flows)
            uow.commit()
        if len(page) < batch:
            return stats


def _judge(
    uow: UnitOfWork,
    store: Store,
    shipment: Shipment,
    history: History,
    now: datetime,
    flows: FlowDefaults | None,
) -> int:
    order = uow.facts.order(store.id, shipment.order_external_id, lock=False)
    if order is not None and order.is_test:
        return 0
    zone = zone_of(order, store)
    lane = lane_of(uow, store.id, order, shipment.order_external_id)
    timeline = Timeline(tuple(uow.logistics.scans(store.id, shipment.external_id)), zone)
    promised = (
        shipment.estimated_delivery_at.astimezone(ZoneInfo(zone)).date()
        if shipment.estimated_delivery_at is not None
        else None
    )
    opened = 0
    for finding in exceptions(
        timeline, now=now, lane_norm_hours=norm_of(history, lane), promise_latest=promised
    ):
        subject = subject_of(shipment.external_id, finding)
        if uow.cases.by_subject(store.id, CaseKind.SHIPMENT_EXCEPTION, subject) is not None:
            continue
        _open(uow, store, shipment, order, finding, subject, now, flows)
        opened += 1
    return opened


def _open(
    uow: UnitOfWork,
    store: Store,
    shipment: Shipment,
    order: Order | None,
    finding: ShipmentException,
    subject: str,
    now: datetime,
    flows: FlowDefaults | None,
) -> Case:
    contact = order.contact if order is not None else Contact()
    case = Case(
        store_id=store.id,
        kind=CaseKind.SHIPMENT_EXCEPTION,
        subject_id=subject,
        customer_key=order.customer_key if order is not None else None,
        email=order.email if order is not None else None,
        phone=order.phone if order is not None else None,
        contact=contact,
        value=order.total if order is not None else Decimal(0),
        currency=order.currency if order is not None else store.currency,
        items=order.items if order is not None else (),
        reason=finding.kind.value,
        reason_code=shipment.status,
        occurred_at=finding.detected_at,
        created_at=now,
        order_external_id=shipment.order_external_id,
        # The notice's link leads to the carrier's tracking page (tracking.restore_target).
        recovery_url=shipment.tracking_url,
        expires_at=now + store.settings.case_ttl,
    )
    uow.cases.add(case)
    record(
        uow,
        case,
        at=now,
        type="opened",
        kind=case.kind,
        reason=case.reason,
        shipment=shipment.external_id,
        since=finding.since.isoformat(),
        detected_at=finding.detected_at.isoformat(),
    )
    if flows is not None:
        start_flow(uow, store, case, defaults=flows, now=now)
    return case


# -- read models ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One row of the operations queue. ``days_late``: whole days since the end of the
    promised day (in the destination's zone) at ``now``, 0 when not late or no promise."""

    case_id: int
    status: str
    kind: str
    shipment_id: str
    order_id: str | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    shipment_status: str | None
    detected_at: datetime
    opened_at: datetime
    days_late: int


def queue(*, uow: UnitOfWork, store_id: str, status: str | None, now: datetime) -> list[QueueEntry]:
    """The store's logistics cases (``status``: open, resolved, lost…; None: all), oldest
    detection first."""
    allowed = {s.value for s in CaseStatus}
    if status is not None and status not in allowed:
        raise InvalidInput(f"status must be one of {'|'.join(sorted(allowed))}", field="status")
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        found: list[Case] = []
        after: int | None = None
        while True:
            page = uow.cases.page(
                store_id=store_id,
                status=status,
                kind=CaseKind.SHIPMENT_EXCEPTION,
                since=None,
                after_id=after,
                limit=500,
            )
            found.extend(page)
            if len(page) < 500:
                break
            after = page[-1].id
        entries = [_entry(uow, store, case, now) for case in found]
    entries.sort(key=lambda e: (e.detected_at, e.case_id))
    return entries


def queue_page(
    *,
    uow: UnitOfWork,
    store_id: str,
    status: str | None,
    now: datetime,
    cursor: int | None = None,
    limit: int = 50,
) -> tuple[list[QueueEntry], int | None]:
    """One page of :func:`queue`, newest case first (keyset on the case id): the entries and
    the cursor of the next page (None: the last)."""
    allowed = {s.value for s in CaseStatus}
    if status is not None and status not in allowed:
        raise InvalidInput(f"status must be one of {'|'.join(sorted(allowed))}", field="status")
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        found = list(
            uow.cases.page(
                store_id=store_id,
                status=status,
                kind=CaseKind.SHIPMENT_EXCEPTION,
                since=None,
                after_id=cursor,
                limit=limit + 1,
            )
        )
        entries = [_entry(uow, store, case, now) for case in found[:limit]]
    more = len(found) > limit and entries
    return entries, entries[-1].case_id if more else None


def _entry(uow: UnitOfWork, store: Store, case: Case, now: datetime) -> QueueEntry:
    assert case.id is not None
    shipment_id = case.subject_id.split(f":{case.reason}:", 1)[0]
    shipment = uow.facts.shipment(store.id, shipment_id, lock=False)
    order = (
        uow.facts.order(store.id, case.order_external_id, lock=False)
        if case.order_external_id
        else None
    )
    days_late = 0
    if shipment is not None and shipment.estimated_delivery_at is not None:
        zone = zone_of(order, store)
        promised = shipment.estimated_delivery_at.astimezone(ZoneInfo(zone)).date()
        deadline = end_of_day(promised, zone)
        until = shipment.delivered_at or now
        if until >= deadline:
            days_late = (until - deadline).days + 1
    return QueueEntry(
        case_id=case.id,
        status=case.status,
        kind=case.reason,
        shipment_id=shipment_id,
        order_id=case.order_external_id,
        carrier=shipment.carrier if shipment else None,
        tracking_number=shipment.tracking_number if shipment else None,
        tracking_url=shipment.tracking_url if shipment else None,
        shipment_status=shipment.status if shipment else None,
        detected_at=case.occurred_at,
        opened_at=case.created_at,
        days_late=days_late,
    )


@dataclass(frozen=True, slots=True)
class LaneStat:
    origin: str | None
    destination_country: str | None
    deliveries: int
    late: int
    late_share: float
    median_delay_days: float | None
    slipping: bool
    delay_days: int


def lanes(*, uow: UnitOfWork, store_id: str, now: datetime) -> list[LaneStat]:
    """Every lane with a delivery in the last 30 days, slipping ones first."""
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        index = delay_index(uow, store, now=now)
    rows = [
        LaneStat(
            origin=lane[0],
            destination_country=lane[1],
            deliveries=stat.deliveries,
            late=stat.late,
            late_share=stat.late_share,
            median_delay_days=stat.median_delay_days,
            slipping=stat.slipping,
            delay_days=stat.delay_days,
        )
        for lane, stat in index.items()
    ]
    rows.sort(key=lambda r: (not r.slipping, r.origin or "", r.destination_country or ""))
    return rows
