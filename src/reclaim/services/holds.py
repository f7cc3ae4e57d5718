"""Warehouses, stock levels and holds for unpaid orders (SPEC S7).

A pending order reserves its items when Reclaim learns of it (the platform's webhook, or
``POST /api/v1/holds`` from a custom checkout); paying converts the hold to an allocation,
cancelling releases it, and :func:`sweep_holds` releases what is still unpaid at the end of
the hold and closes the order's case as lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reclaim.domain.audit import Actor
from reclaim.domain.cases import CaseKind, CaseStatus, FlowState
from reclaim.domain.flows import Anchor
from reclaim.domain.holds import (
    Hold,
    HoldLine,
    HoldStatus,
    demand,
    extended_expiry,
    plan_reservation,
)
from reclaim.domain.steps import StepStatus
from reclaim.domain.stores import Store
from reclaim.errors import Conflict, InvalidInput, NotFound
from reclaim.services.audit import record
from reclaim.services.ports import StockLevel, UnitOfWork, WarehouseRow
from reclaim.services.resolution import close


class OutOfStock(Conflict):
    """Not enough units of some SKUs in any warehouse: nothing was reserved."""

    def __init__(self, skus: Sequence[str]) -> None:
        super().__init__(f"not enough stock for {', '.join(skus)}")
        self.skus = list(skus)


@dataclass(frozen=True, slots=True)
class StockChange:
    warehouse: str
    sku: str
    on_hand: int | None = None  # an absolute level (a count)
    delta: int | None = None  # or a movement (+ received, - shipped elsewhere)


def _store(uow: UnitOfWork, store_id: str) -> Store:
    store = uow.stores.get(store_id)
    if store is None:
        raise NotFound(f"no store {store_id[:40]!r}")
    return store


def import_warehouses(
    *,
    uow: UnitOfWork,
    store_id: str,
    rows: Sequence[WarehouseRow],
    now: datetime,
    actor: Actor | None = None,
) -> int:
    with uow:
        _store(uow, store_id)
        for row in rows:
            uow.stock.put_warehouse(row, now=now)
        codes = sorted(r.code for r in rows)
        after = {"warehouses": codes[:50], "count": len(rows)}
        record(uow, actor, "warehouses.import", store_id, store_id=store_id, after=after)
        uow.commit()
    return len(rows)


def update_stock(
    *,
    uow: UnitOfWork,
    store_id: str,
    changes: Sequence[StockChange],
    now: datetime,
    actor: Actor | None = None,
) -> int:
    """Apply every change or none; ``InvalidInput`` names the first one that cannot be."""
    with uow:
        _store(uow, store_id)
        known = {w.code for w in uow.stock.warehouses(store_id)}
        for i, ch in enumerate(changes):
            where = f"levels[{i}]"
            if ch.warehouse not in known:
                raise InvalidInput(
                    f"{where}: no warehouse {ch.warehouse!r}", field=f"{where}.warehouse"
                )
            if (ch.on_hand is None) == (ch.delta is None):
                raise InvalidInput(f"{where}: give on_hand or delta", field=where)
            if ch.on_hand is not None:
                if ch.on_hand < 0:
                    raise InvalidInput(f"{where}.on_hand must be ≥ 0", field=f"{where}.on_hand")
                uow.stock.set_level(store_id, ch.warehouse, ch.sku, ch.on_hand, now=now)
            elif ch.delta is not None and not uow.stock.add_delta(
                store_id, ch.warehouse, ch.sku, ch.delta, now=now
            ):
                raise InvalidInput(
                    f"{where}: {ch.sku} in {ch.warehouse} is unknown or would go below 0",
                    field=f"{where}.delta",
                )
        after = {"levels": len(changes)}
        record(uow, actor, "stock.update", store_id, store_id=store_id, after=after)
        uow.commit()
    return len(changes)


def stock_of(*, uow: UnitOfWork, store_id: str, sku: str | None) -> list[StockLevel]:
    with uow:
        _store(uow, store_id)
        return list(uow.stock.levels(store_id, None if sku is None else [sku]))


def reserve(
    uow: UnitOfWork,
    store: Store,
    *,
    order_external_id: str,
    items: Sequence[tuple[str | None, int]],
    created_at: datetime,
    now: datetime,
) -> Hold | None:
    """Reserve an order's items in the caller's transaction (all or nothing).

    ``None`` when there is nothing to hold: no SKU the store keeps stock of, or a hold whose
    time is already over. An order that cannot be covered gets a ``short`` hold (nothing
    reserved, the SKUs named), so operators see it. An order that has a hold already gets
    that one back, unchanged.
    """
    return _reserve(
        uow,
        store.id,
        store.settings.hold_period,
        order_external_id=order_external_id,
        items=items,
        created_at=created_at,
        now=now,
    )


def _reserve(
    uow: UnitOfWork,
    store_id: str,
    hold_period: timedelta,
    *,
    order_external_id: str,
    items: Sequence[tuple[str | None, int]],
    created_at: datetime,
    now: datetime,
) -> Hold | None:
    # The statements come in this order so that, on PostgreSQL, the stock rows' locks (taken
    # by the conditional UPDATEs) are held as briefly as possible: read, plan, insert the hold
    # (its unique key tells an order already held), then the UPDATEs, then COMMIT.
    wanted = demand(items)
    expires = created_at + hold_period
    if not wanted or expires <= now:
        return uow.stock.hold(store_id, order_external_id)
    levels = uow.stock.levels(store_id, sorted(wanted))
    if not levels:
        return uow.stock.hold(store_id, order_external_id)  # no stock of these in Reclaim
    available = {(lv.warehouse, lv.sku): lv.available for lv in levels}
    lines, short = plan_reservation(wanted, available)
    hold = Hold(
        store_id=store_id,
        order_external_id=order_external_id,
        status=HoldStatus.SHORT if short else HoldStatus.ACTIVE,
        created_at=created_at,
        expires_at=expires,
        lines=[]
        if short
        else [{"warehouse": x.warehouse, "sku": x.sku, "quantity": x.quantity} for x in lines],
        short=short,
    )
    hold.id = uow.stock.add_hold(hold)
    if hold.id is None:  # held already (a redelivery, or a concurrent twin that came first)
        return uow.stock.hold(store_id, order_external_id)
    if short:
        return hold
    lost = _take(uow, store_id, lines, now)
    if lost is not None:  # someone took the last units meanwhile: nothing stays reserved
        uow.stock.shorten(hold.id, [lost])
        hold.status, hold.lines, hold.short = HoldStatus.SHORT, [], [lost]
    return hold


def _take(uow: UnitOfWork, store_id: str, lines: Sequence[HoldLine], now: datetime) -> str | None:
    """Run the conditional UPDATEs; the SKU of the first that fails (its predecessors undone),
    or ``None``. One line needs no savepoint: a failed UPDATE changes nothing."""
    if len(lines) == 1:
        return None if uow.stock.reserve(store_id, lines[0], now=now) else lines[0].sku
    try:
        with uow.savepoint():  # all or nothing: a line that fails undoes the others
            for line in lines:
                if not uow.stock.reserve(store_id, line, now=now):
                    raise _Lost(line.sku)
    except _Lost as lost:
        return lost.sku
    return None


class _Lost(Exception):
    def __init__(self, sku: str) -> None:
        self.sku = sku


def place_hold(
    *,
    uow: UnitOfWork,
    store_id: str,
    order_external_id: str,
    items: Sequence[tuple[str | None, int]],
    now: datetime,
    actor: Actor | None = None,
) -> Hold:
    """The API's reservation: its own transaction; ``OutOfStock`` when it cannot be covered."""
    if not demand(items):
        raise InvalidInput("items must hold at least one SKU with a quantity ≥ 1", field="items")
    with uow:
        settings = uow.stores.settings_of(store_id)  # only the hold period: no store entity
        if settings is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        hold = _reserve(
            uow,
            store_id,
            settings.hold_period,
            order_external_id=order_external_id,
            items=items,
            created_at=now,
            now=now,
        )
        if hold is None:
            raise OutOfStock(sorted(demand(items)))
        after = {"status": hold.status, "expires_at": hold.expires_at, "short": hold.short}
        record(uow, actor, "hold.place", order_external_id, store_id=store_id, after=after)
        if hold.status == HoldStatus.SHORT:
            uow.commit()  # the short hold is kept: operators see the missed order
            raise OutOfStock(hold.short)
        uow.commit()
        return hold


def settle(
    uow: UnitOfWork, store: Store, order_external_id: str, *, paid: bool, at: datetime
) -> None:
    """The order was paid (the units become the order's) or cancelled (they come back)."""
    hold = uow.stock.hold(store.id, order_external_id, lock=True)
    if hold is None or hold.status != HoldStatus.ACTIVE:
        return
    for line in hold.hold_lines():
        uow.stock.unreserve(store.id, line, consume=paid, now=at)
    hold.status = HoldStatus.ALLOCATED if paid else HoldStatus.RELEASED
    hold.closed_at = at


def extend_hold(
    *,
    uow: UnitOfWork,
    store_id: str,
    order_external_id: str,
    until: datetime,
    now: datetime,
    actor: Actor | None = None,
) -> Hold:
    """An operator gives the customer more time (at most 7 days from the order)."""
    with uow:
        store = _store(uow, store_id)
        hold = uow.stock.hold(store.id, order_external_id, lock=True)
        if hold is None:
            raise NotFound(f"order {order_external_id} has no hold")
        if hold.status != HoldStatus.ACTIVE:
            raise Conflict(f"the hold of order {order_external_id} is {hold.status}")
        was = hold.expires_at
        hold.expires_at = extended_expiry(
            created_at=hold.created_at, current=hold.expires_at, until=until, now=now
        )
        for case in uow.cases.open_for_order(store.id, order_external_id):
            if case.kind != CaseKind.PENDING_ORDER or case.id is None or case.flow_id is None:
                continue
            version = uow.flows.get(case.flow_id)
            for step in uow.steps.for_case(case.id):
                spec = version.flow.step(step.position) if version else None
                if (
                    spec is not None
                    and spec.anchor is Anchor.HOLD_END
                    and step.status == StepStatus.SCHEDULED
                ):
                    step.due_at = hold.expires_at + spec.after
                    case.next_step_at = step.due_at
            uow.cases.add_event(
                case.id, at=now, type="hold_extended", data={"until": hold.expires_at.isoformat()}
            )
        record(
            uow,
            actor,
            "hold.extend",
            order_external_id,
            store_id=store_id,
            before={"expires_at": was},
            after={"expires_at": hold.expires_at},
        )
        uow.commit()
        return hold


@dataclass(slots=True)
class SweepStats:
    expired: int = 0
    cases_closed: int = 0


def sweep_holds(*, uow: UnitOfWork, now: datetime, batch: int = 200) -> SweepStats:
    """Release every hold unpaid at its end and close its order's case as lost.

    A case whose flow is still running is left to the flow: its cancellation step (at the
    hold's end) tells the customer and closes the case.
    """
    stats = SweepStats()
    while True:
        with uow:
            due = uow.stock.expired_holds(now=now, limit=batch)
            for hold in due:
                for line in hold.hold_lines():
                    uow.stock.unreserve(hold.store_id, line, consume=False, now=now)
                hold.status, hold.closed_at = HoldStatus.EXPIRED, now
                stats.expired += 1
                uow.platform_actions.add(  # the platform is told by the worker, afterwards
                    store_id=hold.store_id,
                    action="cancel_order",
                    order_external_id=hold.order_external_id,
                    now=now,
                )
                for case in uow.cases.open_for_order(hold.store_id, hold.order_external_id):
                    if case.kind == CaseKind.PENDING_ORDER and case.flow_state != FlowState.RUNNING:
                        close(uow, case, CaseStatus.LOST, at=now, reason="hold_expired")
                        stats.cases_closed += 1
            uow.commit()
        if len(due) < batch:
            return stats


def hold_until(uow: UnitOfWork, store_id: str, order_external_id: str | None) -> datetime | None:
    if order_external_id is None:
        return None
    hold = uow.stock.hold(store_id, order_external_id)
    return hold.expires_at if hold is not None and hold.status == HoldStatus.ACTIVE else None
