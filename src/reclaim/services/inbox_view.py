"""The inbox for the operations console (SPEC S1, S11): a store's dead letters and its
test-mode deliveries a page at a time (newest first, keyset on the id), and one delivery as
it was received. A kept body may hold a customer's data: it is read here for the operators of
its store only (the console checks the store), and never logged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reclaim.errors import InvalidInput, NotFound
from reclaim.services.ports import Delivery, UnitOfWork
from reclaim.services.test_mode import TEST_MODE

MAX_PAGE = 500
# What the console lists: the dead letters, or every state a delivery goes through.
LISTED = {"failed": ("failed",), "ignored": ("ignored",), "processed": ("processed",)}


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: Sequence[Delivery]
    next_cursor: int | None  # the last id shown, when there is more
    test_mode: int  # how many of the store's deliveries are test mode (kept, no case)


def _store(uow: UnitOfWork, store_id: str) -> None:
    if uow.stores.get(store_id) is None:
        raise NotFound(f"no store {store_id[:40]!r}")


def _check(limit: int, cursor: int | None) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1 to {MAX_PAGE}", field="limit")
    if cursor is not None and not 0 < cursor < 2**63:
        raise InvalidInput("this page link is broken: start again", field="cursor")


def delivery_page(
    *,
    uow: UnitOfWork,
    store_id: str,
    status: str = "failed",
    cursor: int | None = None,
    limit: int = 50,
) -> DeliveryPage:
    """The store's deliveries in ``status`` (failed: the dead letters), newest first."""
    if status not in LISTED:
        raise InvalidInput(f"status must be one of {', '.join(LISTED)}", field="status")
    _check(limit, cursor)
    with uow:
        _store(uow, store_id)
        found = list(
            uow.inbox.list(
                store_id=store_id, statuses=LISTED[status], limit=limit + 1, before_id=cursor
            )
        )
        tests = uow.inbox.count_noted(TEST_MODE, store_id=store_id)
    page = found[:limit]
    return DeliveryPage(page, page[-1].id if len(found) > limit and page else None, tests)


def test_mode_page(
    *, uow: UnitOfWork, store_id: str, cursor: int | None = None, limit: int = 50
) -> DeliveryPage:
    """The store's test-mode deliveries, newest first, each with why it opened no case
    (its note, ``error``) or that it ran as a case marked test."""
    _check(limit, cursor)
    with uow:
        _store(uow, store_id)
        found = list(
            uow.inbox.noted(TEST_MODE, store_id=store_id, limit=limit + 1, before_id=cursor)
        )
        tests = uow.inbox.count_noted(TEST_MODE, store_id=store_id)
    page = found[:limit]
    return DeliveryPage(page, page[-1].id if len(found) > limit and page else None, tests)


def delivery(*, uow: UnitOfWork, store_id: str, delivery_id: int) -> Delivery:
    """One kept delivery of the store; NotFound for one of another store, as for none."""
    if not 0 < delivery_id < 2**63:
        raise NotFound("no such delivery")
    with uow:
        found = uow.inbox.get(delivery_id)
    if found is None or found.store_id != store_id:
        raise NotFound("no such delivery")
    return found
