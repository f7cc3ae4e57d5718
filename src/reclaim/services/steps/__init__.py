"""Running due steps: check, render, send, record (SPEC S3-S6).

Due steps go through short transactions around the channel calls, so that no send happens
inside a transaction and a crash at any point loses nothing:

1. **claim** (a batch, 100 by default): due ``scheduled`` rows become ``claimed`` with a lease.
2. **prepare** (a group of the batch, :data:`GROUP`): for each step the case, conditions,
   consent, suppression, quiet hours and the frequency cap are checked again *now*; the
   messages are written as ``queued`` and their steps become ``sending`` (one commit); then
   they are rendered, outside any transaction.
3. **send**: one message after another over the same connections; each is marked
   ``sending`` in a one-row commit just before its channel call, in the commit that marks
   the one before it ``sent``. A message carrying a coupon first has it created on the
   store's platform (SPEC S6); one the platform could not take is not sent.
4. **record**: the answers are recorded and the next steps scheduled, one transaction for
   the group.

A group shares its transactions (one query loads its steps, one its cases, one its
customers' last messages, one INSERT writes its messages, …), so a message costs a share of
them rather than round trips of its own. Rendering outside the transaction keeps SQLite's
write lock (held from a transaction's start) short for the webhooks arriving meanwhile.

A worker that dies in 1–2 leaves ``claimed`` rows whose lease expires: they are claimed
again. One that dies in 2–4 leaves ``sending`` steps; their messages tell how far each got:
``queued`` ones were never handed over and are sent again, ``sent`` ones are settled as sent,
and the one ``sending`` (at most one per worker) may have gone out, so it becomes
``possibly_sent`` and the flow moves on without sending it again. A flow stopped (a payment,
an unsubscribe) while its message is ``queued`` calls the message back: the hand-over finds
it ``cancelled`` and it is not sent (ADR 0004). A group whose sending takes longer than half
the lease stops early: its steps not yet sent go back to the queue. The writes after a claim
(a group prepared, handed over, recorded) are tried again while the database is away for a
moment (``retry``, :mod:`reclaim.services.retry`), so a restart of the database does not
leave them waiting for their leases.

The rooms: :mod:`.claim` (claiming, leases), :mod:`.prepare` (the checks, through
:func:`reclaim.domain.decision.decide`, and the messages written), :mod:`.compose` (a message
built for its channel), :mod:`.send` (coupons pushed, channels called), :mod:`.record` (the
answers recorded), :mod:`.settle` (a step waits, is skipped, the flow moves on).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from time import monotonic
from typing import TypeVar

from reclaim.errors import InvalidInput
from reclaim.services.ports import PlatformClient, Renderer, Senders, UnitOfWork
from reclaim.services.retry import Retry, retried
from reclaim.services.steps.claim import _claim, release_expired
from reclaim.services.steps.model import GROUP, LEASE, DeliveryStats, _Pushes
from reclaim.services.steps.prepare import _prepare
from reclaim.services.steps.record import _record
from reclaim.services.steps.send import _send_group
from reclaim.services.tracking import Links

__all__ = ["GROUP", "LEASE", "DeliveryStats", "release_expired", "run_due_steps"]
T = TypeVar("T")


def run_due_steps(
    *,
    uow: UnitOfWork,
    senders: Senders,
    renderer: Renderer,
    links: Links,
    now: datetime,
    batch: int = 100,
    lease: timedelta = LEASE,
    group: int = GROUP,
    platforms: PlatformClient | None = None,
    retry: Retry | None = None,
) -> DeliveryStats:
    """Do every step due at ``now``, batch after batch, until none is left (including steps
    that became due because the one before was skipped at this same instant).

    ``platforms``: where a message carries a coupon, it is created on the store's platform
    first (SPEC S6); without a client, coupons are left as they are. ``retry``: how a
    group's writes are tried again while the database is away (none: not tried again)."""
    if group < 1:
        raise InvalidInput("group must be at least 1", field="group")
    stats = DeliveryStats()
    token = secrets.token_hex(8)  # this run's claims: a claim that expired and was taken
    release_expired(uow=uow, now=now, stats=stats)  # by another worker is not ours any more
    budget = lease.total_seconds() / 2  # wall-clock seconds a group may spend sending
    began = monotonic()

    def lease_end() -> datetime:
        # ``now`` is the run's instant; a run that lasts (a burst) leases from the time it
        # has been running, or another worker's sweep would find its leases long expired.
        return now + timedelta(seconds=monotonic() - began) + lease

    while True:
        ids = _claim(uow, now=now, lease_until=lease_end(), limit=batch, token=token)
        for start in range(0, len(ids), group):
            chunk = ids[start : start + group]
            prepare = partial(
                _prepare, uow, senders, renderer, links, chunk, token, now, lease_end()
            )
            prepared = _counted(retry, stats, prepare)
            pushes: _Pushes = {}
            outcomes = _send_group(uow, senders, platforms, prepared, pushes, now, budget, retry)
            _counted(retry, stats, partial(_record, uow, outcomes, pushes, now))
        if not ids:  # a skipped step may make the next one due now: loop until none is
            return stats


def _counted(retry: Retry | None, stats: DeliveryStats, write: Callable[[DeliveryStats], T]) -> T:
    """``write`` (one transaction) under ``retry``, counting into ``stats`` only what the
    attempt that succeeded counted."""

    def attempt() -> T:
        tried = DeliveryStats()
        done = write(tried)
        stats.add(tried)
        return done

    return retried(retry, attempt)
