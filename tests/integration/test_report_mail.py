"""Scheduled report emails end to end (issue 15), on SQLite and PostgreSQL: the worker's
round (``run_once``) in two runtimes at once and in a third one started later, a real SMTP
server (aiosmtpd) receiving, the MIME parsed back: each store's weekly or monthly report
arrives once per recipient, for the period in the store's time zone, in its language, with
its PDF attached."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

import pytest

from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.cases import Case
from reclaim.domain.events import Contact
from reclaim.domain.stores import StoreSettings
from reclaim.entrypoints.worker import WorkerStats, run_once
from reclaim.services.stores import add_store
from reclaim.sim.mailbox import Mailbox

Runtimes = Callable[[], Runtime]


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with Mailbox() as b:
        yield b


@pytest.fixture
def runtimes(db_url: str, box: Mailbox) -> Iterator[Runtimes]:
    """Makes runtimes on one database, each a worker process of its own."""
    made: list[Runtime] = []

    def make() -> Runtime:
        rt = bootstrap(Settings(database_url=db_url, smtp_url=box.url))
        made.append(rt)
        return rt

    init_database(make())
    yield make
    for rt in made:
        rt.close()


def _store(rt: Runtime, name: str, timezone: str, activated: datetime, **settings: Any) -> str:
    return add_store(
        uow=rt.uow(),
        name=name,
        platform="custom",
        currency="EUR",
        timezone=timezone,
        domain="shop.example",
        webhook_secret="",
        settings=StoreSettings(**settings),
        now=activated,
    ).id


def _cases(rt: Runtime, store_id: str, *opened: datetime, recovered: int = 0) -> None:
    """Abandoned checkouts opened at ``opened``; the first ``recovered`` of them recovered."""
    uow = rt.uow()
    with uow:
        for n, at in enumerate(opened):
            case = Case(
                store_id=store_id,
                kind="abandoned_checkout",
                subject_id=f"c{n}",
                customer_key=f"c{n}@example.com",
                email=f"c{n}@example.com",
                phone=None,
                contact=Contact(email=f"c{n}@example.com"),
                value=Decimal(100),
                currency="EUR",
                items=(),
                reason="test",
                occurred_at=at - timedelta(minutes=30),
                created_at=at,
            )
            if n < recovered:
                case.recover(
                    at=at + timedelta(hours=2),
                    order_external_id=None,
                    value=Decimal(100),
                    how="order_paid",
                )
            uow.cases.add(case)
        uow.commit()


def _at_once(workers: list[Runtime], now: datetime) -> list[WorkerStats]:
    """One worker round in each runtime, all started together (threads)."""
    start = threading.Barrier(len(workers))
    results: list[WorkerStats] = []
    errors: list[BaseException] = []

    def one(rt: Runtime) -> None:
        start.wait()
        try:
            results.append(run_once(rt, now))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(rt,)) for rt in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _pdf(msg: EmailMessage) -> tuple[str | None, bytes]:
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    data = attachment.get_content()
    assert isinstance(data, bytes)
    return attachment.get_filename(), data


def test_the_weekly_report_arrives_once_in_shanghai_time_and_chinese(
    runtimes: Runtimes, box: Mailbox
) -> None:
    first = runtimes()
    # Week 45 of 2026 is Monday 2 November to Monday 9 November in Shanghai (UTC+8):
    # 1 November 16:00 UTC to 8 November 16:00 UTC. The store came on that first instant,
    # so the week before is not reported. The report is due on Monday 9 November at 06:00
    # in Shanghai: 8 November 22:00 UTC.
    team = ("boss@shop.example", "ops@shop.example")
    store_id = _store(
        first,
        "上海店",
        "Asia/Shanghai",
        datetime(2026, 11, 1, 16, 0, tzinfo=UTC),
        report_emails=team,
        report_every="week",
        report_locale="zh-CN",
    )
    _cases(
        first,
        store_id,
        datetime(2026, 11, 1, 16, 30, tzinfo=UTC),  # Monday 00:30 in Shanghai: in
        datetime(2026, 11, 8, 15, 30, tzinfo=UTC),  # Sunday 23:30 in Shanghai: in
        datetime(2026, 11, 8, 16, 30, tzinfo=UTC),  # the next Monday 00:30: the next week
        datetime(2026, 11, 1, 15, 30, tzinfo=UTC),  # the Sunday before, 23:30: the week before
        recovered=1,
    )
    workers = [first, runtimes()]
    due = datetime(2026, 11, 8, 22, 0, tzinfo=UTC)
    _at_once(workers, due - timedelta(minutes=1))  # 05:59 on Monday in Shanghai
    assert box.received == []

    rounds = _at_once(workers, due)
    assert sum(s.reports.emails for s in rounds) == 2
    restarted = runtimes()
    for later in (due + timedelta(minutes=1), due + timedelta(days=1)):
        assert run_once(restarted, later).reports.emails == 0
    received = box.take()
    assert sorted(r.recipients for r in received) == [(to,) for to in team]

    msg = received[0].parsed()
    assert msg["Subject"] == "Reclaim · 上海店：挽回报告（2026年11月2日至8日）"
    assert msg["From"] == "Reclaim reports <shop@shop.example>"
    assert msg["List-Unsubscribe"] is None
    text = _text(msg)
    assert "上海店 的挽回报告，2026年11月2日至8日（Asia/Shanghai）" in text
    assert "2 个案例中 1 个" in text  # two of the four cases opened in the week
    html = msg.get_body(preferencelist=("html",))
    assert html is not None and 'lang="zh-Hans"' in html.get_content()
    name, pdf = _pdf(msg)
    assert name == f"reclaim-report-{store_id}-2026-W45.pdf" and pdf.startswith(b"%PDF")
    assert received[0].parsed()["Message-ID"] != received[1].parsed()["Message-ID"]


def test_the_monthly_report_arrives_once_in_los_angeles_time(
    runtimes: Runtimes, box: Mailbox
) -> None:
    first = runtimes()
    # November 2026 in Los Angeles: 1 November 00:00 PDT (07:00 UTC) to 1 December 00:00
    # PST (08:00 UTC); the report is due on 1 December at 06:00 PST, 14:00 UTC.
    store_id = _store(
        first,
        "LA Shop",
        "America/Los_Angeles",
        datetime(2026, 11, 1, 7, 0, tzinfo=UTC),
        report_emails=("owner@shop.example",),
        report_every="month",
    )
    opened = (
        datetime(2026, 11, 1, 7, 30, tzinfo=UTC),  # 1 November 00:30 PDT: in
        datetime(2026, 12, 1, 7, 30, tzinfo=UTC),  # 30 November 23:30 PST: in
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # 31 October 23:30 PDT: October's
        datetime(2026, 12, 1, 8, 30, tzinfo=UTC),  # 1 December 00:30 PST: December's
    )
    _cases(first, store_id, *opened, recovered=1)
    # A store that asks for monthly reports but names no one to send them to.
    silent = _store(
        first,
        "Silent",
        "America/Los_Angeles",
        datetime(2026, 11, 1, 7, 0, tzinfo=UTC),
        report_every="month",
    )
    _cases(first, silent, *opened)
    workers = [first, runtimes()]
    due = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    _at_once(workers, due - timedelta(minutes=1))
    assert box.received == []
    _at_once(workers, due)
    assert run_once(runtimes(), due + timedelta(hours=3)).reports.emails == 0
    [received] = box.take()
    assert received.recipients == ("owner@shop.example",)
    msg = received.parsed()
    assert msg["Subject"] == "Reclaim · LA Shop: recovery report, November 2026"
    text = _text(msg)
    assert "Recovery report of LA Shop, November 2026 (America/Los_Angeles)" in text
    assert "(1 of 2 cases)" in text and "The whole report is below" in text
    name, pdf = _pdf(msg)
    assert name == f"reclaim-report-{store_id}-2026-11.pdf" and pdf.startswith(b"%PDF")
    uow = first.reader()
    with uow:
        sent = uow.report_sends.get([f"{store_id}:2026-11", f"{silent}:2026-11"])
    assert (
        list(sent) == [f"{store_id}:2026-11"] and '"state": "sent"' in sent[f"{store_id}:2026-11"]
    )
