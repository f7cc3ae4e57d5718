"""Retention (SPEC S13): deleting each kind of data once it is past the store's window
(:mod:`reclaim.domain.retention`), run by the worker once a day per store and by ``reclaim
prune``.

Deletes go in batches, each its own short transaction: on SQLite a write holds the whole
database's lock, so one long delete would stall the API's intake meanwhile. Kinds go in
the order that deletes least twice: deliveries, events and messages of closed cases, then
the closed cases themselves with everything left on them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reclaim.domain.audit import Actor
from reclaim.domain.retention import KEPT_EVENTS, KINDS, Kind, cutoff
from reclaim.domain.stores import Store
from reclaim.errors import NotFound
from reclaim.services.audit import record
from reclaim.services.ports import UnitOfWork

log = logging.getLogger(__name__)

BATCH = 500  # rows per transaction
EVERY = timedelta(days=1)  # the worker prunes each store once a day


@dataclass(slots=True)
class Pruned:
    """What one store's prune deleted (or, in a dry run, would delete), by kind."""

    store_id: str
    counts: dict[str, int] = field(default_factory=dict)
    cutoffs: dict[str, datetime] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def prune(
    *,
    uow: UnitOfWork,
    now: datetime,
    store_id: str | None = None,
    dry_run: bool = False,
    batch: int = BATCH,
    actor: Actor | None = None,
) -> list[Pruned]:
    """Delete what is past its window for one store (``store_id``) or every store; with
    ``dry_run``, count it and delete nothing. Each store is marked pruned at ``now``, and
    with an ``actor`` (``reclaim prune`` by hand, not the worker) its counts are logged."""
    with uow:
        if store_id is not None:
            found = uow.stores.get(store_id)
            if found is None:
                raise NotFound(f"no store {store_id[:40]!r}")
            stores = [found]
        else:
            stores = list(uow.stores.list())
    return [
        _prune_store(uow, store, now, dry_run=dry_run, batch=batch, actor=actor) for store in stores
    ]


def prune_due(
    *, uow: UnitOfWork, now: datetime, every: timedelta = EVERY, batch: int = BATCH
) -> list[Pruned]:
    """The worker's round: prune the stores last pruned ``every`` or more ago (or never)."""
    with uow:
        stores = list(uow.stores.list())
        last = uow.retention.last_pruned([s.id for s in stores])  # one query, every round
        due = [s for s in stores if s.id not in last or now - last[s.id] >= every]
    return [_prune_store(uow, store, now, dry_run=False, batch=batch) for store in due]


def _prune_store(
    uow: UnitOfWork,
    store: Store,
    now: datetime,
    *,
    dry_run: bool,
    batch: int,
    actor: Actor | None = None,
) -> Pruned:
    pruned = Pruned(store.id)
    for kind in KINDS:
        before = cutoff(store.settings, kind, now)
        pruned.cutoffs[kind.name] = before
        pruned.counts[kind.name] = (
            _count(uow, store.id, kind, before)
            if dry_run
            else _delete(uow, store.id, kind, before, batch)
        )
    if not dry_run:
        with uow:
            uow.retention.mark_pruned(store.id, now)
            record(uow, actor, "data.prune", store.id, store_id=store.id, after=pruned.counts)
            uow.commit()
        if pruned.total:
            counts = " ".join(f"{k}={n}" for k, n in pruned.counts.items() if n)
            log.info("store %s: retention pruned %s", store.id, counts)
    return pruned


def _keep(kind: Kind) -> tuple[str, ...]:
    return tuple(sorted(KEPT_EVENTS)) if kind.name == "events" else ()


def _count(uow: UnitOfWork, store_id: str, kind: Kind, before: datetime) -> int:
    with uow:
        return uow.retention.count_expired(
            kind.name, store_id=store_id, before=before, keep_types=_keep(kind)
        )


def _delete(uow: UnitOfWork, store_id: str, kind: Kind, before: datetime, batch: int) -> int:
    """Delete ``kind``'s expired rows of the store, ``batch`` at a time, one commit each."""
    total = 0
    while True:
        with uow:
            ids = uow.retention.expired(
                kind.name, store_id=store_id, before=before, limit=batch, keep_types=_keep(kind)
            )
            if ids:
                total += uow.retention.delete(kind.name, ids)
                uow.commit()
        if len(ids) < batch:
            return total
