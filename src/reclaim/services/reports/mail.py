"""Reports by email (issue 15): the worker sends each store's report of the week or month
that ended to the store's ``report_emails``, on the schedule ``report_every`` sets (Monday
morning where the store is for the ISO week before it, the 1st's morning for the month
before: :func:`~reclaim.services.reports.period.last_ended`); ``reclaim report send`` sends
one now. Each email is the report's HTML page with a plain-text summary and the PDF attached.

Once per store and period, however many workers run and however often they restart: a
record per store and period (the ``ReportSends`` port) is claimed first, by one worker only,
with a lease; each recipient reached is written into it as it goes, and it ends ``sent``. A
worker that dies while sending leaves a lease that runs out (:data:`LEASE`): another takes the
record over and sends to the recipients not reached yet (the one being sent to at the crash
may get the report twice, with the same Message-ID both times). A mail server that refuses for
now hands the record back, tried again after :data:`RETRY`. A store with no data yet is
recorded as such and not tried again for that period.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from email.utils import formataddr
from typing import Protocol

from reclaim.domain.audit import Actor
from reclaim.domain.messages import Attachment, Channel, OutgoingEmail
from reclaim.domain.stores import REPORT_EVERY, Store, validate_settings
from reclaim.errors import ConfigError, DeliveryError, InvalidInput, NotFound
from reclaim.services.audit import record
from reclaim.services.ports import Senders, UnitOfWork
from reclaim.services.reports.build import build_report
from reclaim.services.reports.model import Report
from reclaim.services.reports.period import last_ended, parse_period, resolve

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=30)  # a claim's life: building, drawing and sending one report
RETRY = timedelta(minutes=10)  # after a mail server refused for now


class ReportRenderer(Protocol):
    """The port a report is drawn through for people (adapters/reports), in its locale."""

    def html(self, report: Report) -> str:
        """The self-contained HTML page."""
        ...

    def pdf(self, report: Report) -> bytes:
        """The same page as PDF."""
        ...

    def summary(self, report: Report) -> tuple[str, str]:
        """An email's subject and plain-text summary of the report."""
        ...


@dataclass(slots=True)
class ReportMailStats:
    reports: int = 0  # periods whose report went to all its recipients this round
    emails: int = 0  # emails sent
    no_data: int = 0  # stores with nothing to report on yet (recorded, not tried again)
    failed: int = 0  # a mail server refused for now: tried again after RETRY
    refused: int = 0  # recipients refused for good (a bad address): recorded, skipped


@dataclass(frozen=True, slots=True)
class _Record:
    """What a store's period's record holds (JSON text in the ``ReportSends`` port)."""

    state: str  # sending | retry | sent | no_data
    until: datetime | None = None  # sending, retry: when another worker may take it
    sent_to: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    at: datetime | None = None  # sent, no_data: when

    def text(self) -> str:
        data: dict[str, object] = {"state": self.state}
        if self.until is not None:
            data["until"] = self.until.isoformat()
        if self.at is not None:
            data["at"] = self.at.isoformat()
        data["sent_to"] = list(self.sent_to)
        data["refused"] = list(self.refused)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def parse(cls, text: str) -> _Record:
        data = json.loads(text)
        until, at = data.get("until"), data.get("at")
        return cls(
            state=str(data.get("state")),
            until=None if until is None else datetime.fromisoformat(until),
            sent_to=tuple(data.get("sent_to") or ()),
            refused=tuple(data.get("refused") or ()),
            at=None if at is None else datetime.fromisoformat(at),
        )

    def open_at(self, now: datetime) -> bool:
        """Whether a worker may take the record at ``now``: it was given back, or the lease
        of the worker that took it ran out."""
        return self.state in ("sending", "retry") and (self.until is None or self.until <= now)


@dataclass(frozen=True, slots=True)
class _Due:
    store: Store
    period: str  # 2026-W45 | 2026-11
    start: date
    end: date


def _key(store_id: str, period: str) -> str:
    return f"{store_id}:{period}"


def send_due_reports(
    *,
    uow: UnitOfWork,
    senders: Senders,
    renderer: ReportRenderer,
    now: datetime,
    reader: UnitOfWork | None = None,
) -> ReportMailStats:
    """Send every store's scheduled report that is due at ``now`` and not sent yet. A store
    with no ``report_emails`` gets none, and no SMTP server configured means none at all.
    ``reader``: a unit of work that only reads, to look for due reports and build them in
    (on SQLite it does not take the write lock meanwhile); ``uow`` by default."""
    stats = ReportMailStats()
    if not senders.available(Channel.EMAIL):
        return stats
    look = reader or uow
    with look:
        due = {}
        for store in look.stores.list():
            every = store.settings.report_every
            if every not in REPORT_EVERY or every is None or not store.settings.report_emails:
                continue
            period, start, end = last_ended(every, timezone=store.timezone, now=now)
            ended = resolve(timezone=store.timezone, now=now, start=start, end=end).end_at
            if ended > store.activated_at:  # no report of a time before the store came
                due[_key(store.id, period)] = _Due(store, period, start, end)
        records = look.report_sends.get(list(due)) if due else {}
    for key, job in due.items():
        found = records.get(key)
        if found is not None and not _Record.parse(found).open_at(now):
            continue  # sent, or another worker is at it
        try:
            _send_scheduled(uow, reader or uow, senders, renderer, job, found, now, stats)
        except Exception:
            # A report that cannot be built or drawn: tried again when its lease ends.
            log.exception("store %s: the report of %s failed", job.store.id, job.period)
    return stats


def _swap(uow: UnitOfWork, key: str, old: _Record, new: _Record) -> _Record | None:
    """``new`` in place of ``old``, committed; None when the record is no longer ``old``
    (another worker took it over after this one's lease ran out)."""
    with uow:
        done = uow.report_sends.swap(key, old.text(), new.text())
        uow.commit()
    return new if done else None


def _send_scheduled(
    uow: UnitOfWork,
    reader: UnitOfWork,
    senders: Senders,
    renderer: ReportRenderer,
    job: _Due,
    found: str | None,
    now: datetime,
    stats: ReportMailStats,
) -> None:
    key = _key(job.store.id, job.period)
    before = _Record.parse(found) if found is not None else _Record("sending")
    state: _Record | None = replace(before, state="sending", until=now + LEASE)
    assert state is not None
    with uow:
        taken = (
            uow.report_sends.add(key, state.text())
            if found is None
            else uow.report_sends.swap(key, found, state.text())
        )
        uow.commit()
    if not taken:
        return  # another worker took it first
    try:
        report = build_report(
            uow=reader, store_id=job.store.id, now=now, start=job.start, end=job.end
        )
    except NotFound:  # the store has no data at all yet
        _swap(uow, key, state, _Record("no_data", at=now))
        stats.no_data += 1
        return
    drawn = _Drawn.of(renderer, report)
    for to in job.store.settings.report_emails:
        if to in state.sent_to or to in state.refused:
            continue
        try:
            senders.send_email(drawn.email(job.store, job.period, to), now=now)
        except DeliveryError as exc:
            if not exc.permanent:
                log.warning(
                    "store %s: report of %s not sent yet: %s", job.store.id, job.period, exc.code
                )
                stats.failed += 1
                _swap(uow, key, state, replace(state, state="retry", until=now + RETRY))
                return
            log.warning("store %s: report of %s refused: %s", job.store.id, job.period, exc.code)
            stats.refused += 1
            new = replace(state, refused=(*state.refused, to))
        except InvalidInput as exc:  # an address the mail could not be written to
            log.warning(
                "store %s: report of %s not sendable: %s", job.store.id, job.period, exc.field
            )
            stats.refused += 1
            new = replace(state, refused=(*state.refused, to))
        else:
            stats.emails += 1
            new = replace(state, sent_to=(*state.sent_to, to))
        state = _swap(uow, key, state, new)
        if state is None:
            return  # this worker's lease ran out and another took the record
    if _swap(
        uow, key, state, _Record("sent", at=now, sent_to=state.sent_to, refused=state.refused)
    ):
        stats.reports += 1


@dataclass(frozen=True, slots=True)
class _Drawn:
    """A report drawn once for all its recipients."""

    report: Report
    subject: str
    text: str
    html: str
    pdf: bytes

    @classmethod
    def of(cls, renderer: ReportRenderer, report: Report) -> _Drawn:
        subject, text = renderer.summary(report)
        return cls(report, subject, text, renderer.html(report), renderer.pdf(report))

    def email(self, store: Store, period: str, to: str) -> OutgoingEmail:
        sender = store.settings.sender_email or f"shop@{store.domain}"
        # The same for the same store, period and recipient: a second copy (a crash in the
        # middle of a send) has the Message-ID of the first.
        tag = hashlib.sha256(to.lower().encode()).hexdigest()[:12]
        return OutgoingEmail(
            to=to,
            from_address=formataddr(("Reclaim reports", sender)),
            subject=self.subject,
            text=self.text,
            html=self.html,
            message_id=f"<report.{store.id}.{period}.{tag}@{store.domain}>",
            list_unsubscribe_url=None,  # to the store's own people, who set report_emails
            attachments=(
                Attachment(f"reclaim-report-{store.id}-{period}.pdf", "application/pdf", self.pdf),
            ),
        )


def send_report(
    *,
    uow: UnitOfWork,
    senders: Senders,
    renderer: ReportRenderer,
    store_id: str,
    period: str,
    now: datetime,
    to: Sequence[str] = (),
    reader: UnitOfWork | None = None,
    actor: Actor | None = None,
) -> tuple[str, tuple[str, ...]]:
    """Send the report of ``period`` (a month ``2026-11`` or an ISO week ``2026-W45``) now,
    to ``to`` or else the store's ``report_emails`` (``reclaim report send``, to try the
    emails out). Not recorded as the period's send: the scheduled one still goes; with an
    ``actor``, written to the audit log (the store's figures mailed out, and to whom).
    Returns the period's name and the recipients; a failure of the mail server raises
    ``DeliveryError``."""
    name, start, end = parse_period(period)
    with uow:
        store = uow.stores.get(store_id)
    if store is None:
        raise NotFound(f"no store {store_id[:40]!r}")
    recipients = tuple(a.strip() for a in to) or store.settings.report_emails
    if not recipients:
        raise InvalidInput(
            "the store has no report email: give --to, or set one with "
            "`reclaim store set ID --report-email …`",
            field="to",
        )
    try:
        validate_settings(replace(store.settings, report_emails=recipients))
    except InvalidInput as exc:
        raise InvalidInput(str(exc), field="to") from None
    if not senders.available(Channel.EMAIL):
        raise ConfigError("no SMTP server configured (RECLAIM_SMTP_URL)")
    report = build_report(uow=reader or uow, store_id=store.id, now=now, start=start, end=end)
    drawn = _Drawn.of(renderer, report)
    for address in recipients:
        senders.send_email(drawn.email(store, name, address), now=now)
    if actor is not None:
        with uow:
            after = {"period": name, "to": list(recipients)}
            record(uow, actor, "report.send", name, store_id=store.id, after=after)
            uow.commit()
    return name, recipients
