"""The worker: processes the inbox and opens the cases that are due.

``run_once(rt, now)`` does exactly what is due at ``now`` and returns; the continuous worker
calls it with the wall clock in a loop. Any number of workers may share one database.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from reclaim.bootstrap import Runtime
from reclaim.services import detection, ingest

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WorkerStats:
    inbox: ingest.ProcessStats = field(default_factory=ingest.ProcessStats)
    detected: detection.DetectStats = field(default_factory=detection.DetectStats)
    released: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.inbox.total or self.detected.opened or self.detected.expired)


def run_once(rt: Runtime, now: datetime, *, batch: int = 200) -> WorkerStats:
    stats = WorkerStats()
    stats.released = ingest.release_expired(uow=rt.uow(), now=now)
    while True:
        done = ingest.process_inbox(uow=rt.uow(), connectors=rt.connectors, now=now, batch=batch)
        stats.inbox.processed += done.processed
        stats.inbox.ignored += done.ignored
        stats.inbox.failed += done.failed
        if done.total < batch:
            break
    stats.detected = detection.detect_due(uow=rt.uow(), now=now)
    return stats


def run_forever(rt: Runtime, stop: threading.Event, *, poll_seconds: float) -> None:
    """Until ``stop`` is set; an error in one round is logged and the next round goes on."""
    while not stop.is_set():
        try:
            stats = run_once(rt, rt.clock())
        except Exception:
            log.exception("worker round failed")
            stats = WorkerStats()
        if stats.busy:
            log.info(
                "worker: %d processed, %d ignored, %d failed, %d cases opened, %d expired",
                stats.inbox.processed,
                stats.inbox.ignored,
                stats.inbox.failed,
                stats.detected.opened,
                stats.detected.expired,
            )
        else:
            stop.wait(poll_seconds)
