"""The worker: processes the inbox and opens the cases that are due.

``run_once(rt, now)`` does exactly what is due at ``now`` and returns; the continuous worker
calls it with the wall clock in a loop. Any number of workers may share one database.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from reclaim.bootstrap import Runtime, explain_database_error, report_renderer
from reclaim.domain.outcomes import counted, skip_label, step_words
from reclaim.services import alerts, detection, ingest, logistics, platform_actions, retention
from reclaim.services import holds as stock_holds
from reclaim.services import steps as delivery
from reclaim.services.experiments import check_splits
from reclaim.services.ports import Senders
from reclaim.services.reports import mail as report_mail
from reclaim.services.retry import Retry

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WorkerStats:
    inbox: ingest.ProcessStats = field(default_factory=ingest.ProcessStats)
    detected: detection.DetectStats = field(default_factory=detection.DetectStats)
    steps: delivery.DeliveryStats = field(default_factory=delivery.DeliveryStats)
    holds: stock_holds.SweepStats = field(default_factory=stock_holds.SweepStats)
    platform: platform_actions.ActionStats = field(default_factory=platform_actions.ActionStats)
    notices: alerts.NoticeStats = field(default_factory=alerts.NoticeStats)
    reports: report_mail.ReportMailStats = field(default_factory=report_mail.ReportMailStats)
    released: int = 0
    pruned: int = 0  # rows past their retention window, deleted (once a day per store)

    @property
    def busy(self) -> bool:
        return bool(
            self.inbox.total
            or self.detected.opened
            or self.detected.expired
            or self.steps.total
            or self.holds.expired
        )


def run_once(
    rt: Runtime, now: datetime, *, batch: int = 200, senders: Senders | None = None
) -> WorkerStats:
    """Everything due at ``now``: the inbox, case detection, then the flows' due steps.

    ``senders`` is the calling thread's channel set (it holds an SMTP connection); without
    one, a set is made for this round and closed after it. What follows a claim is tried
    again while the database is away for a moment (restarting, locked): ``retry``.
    """
    stats = WorkerStats()
    retry = Retry(fault=partial(explain_database_error, database_url=rt.settings.database_url))
    stats.released = ingest.release_expired(uow=rt.uow(), now=now)
    while True:
        done = ingest.process_inbox(
            uow=rt.uow(), connectors=rt.connectors, now=now, batch=batch, retry=retry
        )
        stats.inbox.processed += done.processed
        stats.inbox.ignored += done.ignored
        stats.inbox.failed += done.failed
        stats.inbox.test_mode += done.test_mode
        stats.inbox.tests += done.tests
        if done.total < batch:
            break
    stats.detected = detection.detect_due(uow=rt.uow(), now=now, flows=rt.flow_defaults)
    if stats.detected.opened:  # new cases were assigned: is an experiment's split off?
        check_splits(uow=rt.uow(), now=now)
    stats.holds = stock_holds.sweep_holds(uow=rt.uow(), now=now)
    logistics.sweep_shipments(uow=rt.uow(), now=now, flows=rt.flow_defaults)
    stats.platform = platform_actions.run_platform_actions(
        uow=rt.uow(), client=rt.platform_client, now=now
    )
    own = senders is None
    channel_set = rt.senders() if senders is None else senders
    try:
        stats.steps = delivery.run_due_steps(
            uow=rt.uow(),
            senders=channel_set,
            renderer=rt.renderer,
            links=rt.links(),
            now=now,
            platforms=rt.platform_client,
            retry=retry,
        )
        stats.notices = alerts.notify_alerts(uow=rt.uow(), senders=channel_set, now=now)
        stats.reports = report_mail.send_due_reports(
            uow=rt.uow(),
            reader=rt.reader(),
            senders=channel_set,
            renderer=report_renderer(),
            now=now,
        )
    finally:
        if own:
            channel_set.close()
    try:  # once a day per store; a failure here must not lose the round's counts
        stats.pruned = sum(p.total for p in retention.prune_due(uow=rt.uow(), now=now))
    except Exception:
        log.exception("retention prune failed; the next round tries again")
    return stats


def run_forever(rt: Runtime, stop: threading.Event, *, poll_seconds: float) -> None:
    """Until ``stop`` is set; an error in one round is logged and the next round goes on."""
    senders = rt.senders()
    try:
        _loop(rt, stop, poll_seconds, senders)
    finally:
        senders.close()


def _loop(rt: Runtime, stop: threading.Event, poll_seconds: float, senders: Senders) -> None:
    while not stop.is_set():
        try:
            stats = run_once(rt, rt.clock(), senders=senders)
        except Exception as exc:
            problem = explain_database_error(exc, rt.settings.database_url)
            if problem is None:
                log.exception("worker round failed")
            else:  # the database away, locked or full: one line, and the next round
                log.warning("worker round failed: %s", problem)
            stats = WorkerStats()
        if stats.busy:
            log.info(
                "worker: %d processed (%d test mode), %d ignored, %d failed, %d cases opened, "
                "%d not opened (%s), %d expired; "
                "steps: %d sent, %d skipped, %d waiting, %d deferred, %d failed",
                stats.inbox.processed,
                stats.inbox.test_mode,
                stats.inbox.ignored,
                stats.inbox.failed,
                stats.detected.opened,
                stats.detected.skipped,
                counted(stats.detected.reasons, skip_label) or "-",
                stats.detected.expired,
                stats.steps.sent,
                stats.steps.skipped,
                stats.steps.waiting,
                stats.steps.deferred,
                stats.steps.failed,
            )
        else:
            stop.wait(poll_seconds)


def summary_json(stats: WorkerStats) -> dict[str, object]:
    """What one ``reclaim worker --once`` did, for scripts: counts, and the reasons as codes
    (``skipped_reasons``: why due facts opened no case; ``step_reasons``: why steps sent
    nothing, by step outcome)."""
    return {
        "processed": stats.inbox.processed,
        "processed_test_mode": stats.inbox.test_mode,
        # each test-mode delivery and why it opened no case (or that it ran as a test case)
        "test_mode_deliveries": [
            {"id": delivery_id, "reason": note} for delivery_id, note in stats.inbox.tests
        ],
        "ignored": stats.inbox.ignored,
        "failed": stats.inbox.failed,
        "cases_opened": stats.detected.opened,
        "skipped": stats.detected.skipped,
        "skipped_reasons": dict(sorted(stats.detected.reasons.items())),
        "expired": stats.detected.expired,
        "leases_released": stats.released,
        "messages_sent": stats.steps.sent,
        "steps_skipped": stats.steps.skipped,
        "steps_waiting": stats.steps.waiting,
        "steps_deferred": stats.steps.deferred,
        "steps_failed": stats.steps.failed,
        "steps_cancelled": stats.steps.cancelled,
        "steps_possibly_sent": stats.steps.possibly_sent,
        "step_reasons": dict(sorted(stats.steps.outcomes.items())),
        "holds_expired": stats.holds.expired,
        "platform_calls": stats.platform.done,
        "reports_emailed": stats.reports.emails,
        "rows_pruned": stats.pruned,
    }


def summary_lines(stats: WorkerStats) -> list[str]:
    """The same, for a person: counts with their reasons in plain words."""
    inbox, cases, steps = stats.inbox, stats.detected, stats.steps
    test_mode = (
        f" ({inbox.test_mode} of them in test mode: kept, but tests open no case)"
        if inbox.test_mode
        else ""
    )
    skipped = f" ({counted(cases.reasons, skip_label)})" if cases.reasons else ""
    lines = [
        f"inbox: {inbox.processed} processed{test_mode}, {inbox.ignored} ignored, "
        f"{inbox.failed} failed",
        f"cases: {cases.opened} opened, {cases.skipped} not opened{skipped}, "
        f"{cases.expired} expired",
        f"messages: {steps.sent} sent; steps: {steps.skipped} skipped, {steps.waiting} waiting, "
        f"{steps.deferred} to retry, {steps.failed} failed, {steps.cancelled} cancelled, "
        f"{steps.possibly_sent} possibly sent",
    ]
    lines += _test_lines(inbox.tests)
    unsent = {outcome: n for outcome, n in steps.outcomes.items() if outcome != "sent"}
    if unsent:
        why = counted(unsent, lambda outcome: step_words(outcome).label)
        lines.append(f"why steps sent nothing: {why}")
    lines.append(
        f"also: {stats.released} leases released, {stats.holds.expired} holds expired, "
        f"{stats.platform.done} platform calls"
    )
    return lines


_TESTS_SHOWN = 10


def _test_lines(tests: list[tuple[int, str]]) -> list[str]:
    """Each test-mode delivery with its reason (``reclaim inbox list --test`` lists them all);
    the same reason once for several."""
    by_reason: dict[str, list[int]] = {}
    for delivery_id, note in tests:
        by_reason.setdefault(note, []).append(delivery_id)
    lines = []
    for note, ids in by_reason.items():
        shown = ", ".join(str(i) for i in ids[:_TESTS_SHOWN])
        more = f" and {len(ids) - _TESTS_SHOWN} more" if len(ids) > _TESTS_SHOWN else ""
        lines.append(f"{note}: deliveries {shown}{more} (reclaim inbox list --test)")
    return lines
