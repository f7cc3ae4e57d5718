"""Stock levels and holds a page at a time, for the operations console (SPEC S7, S11): the
store's levels by SKU and warehouse, and its holds, soonest end first. Each page carries the
cursor of the next (keyset: no offset, so a page costs the same however deep it is)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reclaim.domain.holds import Hold, HoldStatus
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.ports import StockLevel, UnitOfWork

MAX_PAGE = 500
HOLD_STATUSES = tuple(s.value for s in HoldStatus)


@dataclass(frozen=True, slots=True)
class LevelPage:
    levels: Sequence[StockLevel]
    next_cursor: str | None  # "sku\twarehouse" of the last row, when there is more


@dataclass(frozen=True, slots=True)
class HoldPage:
    holds: Sequence[Hold]
    next_cursor: str | None  # "expires_at-iso|id" of the last row, when there is more


def _limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", field="limit")


def _store(uow: UnitOfWork, store_id: str) -> None:
    if uow.stores.get(store_id) is None:
        raise NotFound(f"no store {store_id[:40]!r}")


def level_page(
    *,
    uow: UnitOfWork,
    store_id: str,
    sku: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> LevelPage:
    """The store's stock levels, by SKU then warehouse; ``sku``: those starting with it."""
    _limit(limit)
    after: tuple[str, str] | None = None
    if cursor:
        sku_part, sep, warehouse = cursor.partition("\t")
        if not sep:
            raise InvalidInput("this page link is broken: start again", field="cursor")
        after = (sku_part, warehouse)
    with uow:
        _store(uow, store_id)
        found = list(uow.stock.level_page(store_id, sku=sku or None, after=after, limit=limit + 1))
    page = found[:limit]
    more = len(found) > limit and page
    return LevelPage(page, f"{page[-1].sku}\t{page[-1].warehouse}" if more else None)


def hold_page(
    *,
    uow: UnitOfWork,
    store_id: str,
    status: str | None = HoldStatus.ACTIVE.value,
    cursor: str | None = None,
    limit: int = 100,
) -> HoldPage:
    """The store's holds (``status``: only those; None: all), the soonest to end first."""
    _limit(limit)
    if status is not None and status not in HOLD_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(HOLD_STATUSES)}", field="status")
    after: tuple[datetime, int] | None = None
    if cursor:
        at, sep, ident = cursor.rpartition("|")
        try:
            after = (datetime.fromisoformat(at), int(ident))
        except ValueError:
            raise InvalidInput("this page link is broken: start again", field="cursor") from None
        if not sep or after[0].tzinfo is None:
            raise InvalidInput("this page link is broken: start again", field="cursor")
    with uow:
        _store(uow, store_id)
        found = list(uow.stock.hold_page(store_id, status=status, after=after, limit=limit + 1))
    page = found[:limit]
    last = page[-1] if page else None
    more = len(found) > limit and last is not None
    cursor_out = f"{last.expires_at.isoformat()}|{last.id}" if more and last else None
    return HoldPage(page, cursor_out)
