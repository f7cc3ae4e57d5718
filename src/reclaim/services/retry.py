"""Writes tried again while the database is away for a moment (issue 16): PostgreSQL
restarting or out of reach for seconds, or SQLite locked by another process past its busy
timeout.

A worker's writes that follow a claim (a batch of the inbox processed, a group of messages
prepared, handed over, their answers recorded) are tried again rather than given up: given
up, their claims would wait for their leases (minutes), and a message already handed to its
channel would be left "possibly sent". Which failures are the database's is the adapters'
knowledge: the worker passes it in (``fault``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reclaim.errors import DatabaseBusy, DatabaseUnavailable, ReclaimError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Retry:
    """Try a write again every ``pause`` seconds, for at most ``within`` seconds (well
    inside the claims' 5-minute lease), while the database is away for the moment.

    ``fault``: the database's failure that ``exc`` reports, in words (``DatabaseBusy``: away
    for the moment; ``DatabaseFull`` or another ``DatabaseUnavailable``: an operator must act),
    or None when the failure is not the database's."""

    fault: Callable[[BaseException], ReclaimError | None]
    within: float = 60.0
    pause: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def transient(self, exc: BaseException) -> bool:
        return isinstance(self.fault(exc), DatabaseBusy)

    def database_failed(self, exc: BaseException) -> bool:
        """Whether the database failed (away, full …) rather than the work itself: a
        delivery is not to be kept as a dead letter for it."""
        return isinstance(self.fault(exc), DatabaseUnavailable)

    def call(self, attempt: Callable[[], T], *, undo: Callable[[], None] | None = None) -> T:
        """``attempt()``, again after ``undo()`` (a rollback) while it fails transiently."""
        began = self.clock()
        tries = 0
        while True:
            try:
                return attempt()
            except Exception as exc:
                tries += 1
                if not self.transient(exc) or self.clock() - began > self.within:
                    raise
                log.warning(
                    "database unavailable (%s); trying again in %.1f s (try %d)",
                    type(exc).__name__,
                    self.pause,
                    tries,
                )
                if undo is not None:
                    try:
                        undo()
                    except Exception:  # the rollback of a lost connection may fail too
                        log.debug("rollback after a lost connection failed", exc_info=True)
                self.sleep(self.pause)


def retried(
    retry: Retry | None, attempt: Callable[[], T], *, undo: Callable[[], None] | None = None
) -> T:
    """``attempt()`` under ``retry``; once, as it is, without one."""
    return attempt() if retry is None else retry.call(attempt, undo=undo)
