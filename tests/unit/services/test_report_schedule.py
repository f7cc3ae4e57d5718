"""Scheduled report emails (services/reports/mail.py) through the fakes: once per store and
period when workers interleave, crash or meet a mail server that refuses for now."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from fakes import FakeDatabase, FakeSenders, FakeUnitOfWork, permanent, temporary
from reclaim.domain.cases import Case
from reclaim.domain.events import Contact
from reclaim.domain.messages import Channel, OutgoingEmail, SendResult
from reclaim.errors import ConfigError, InvalidInput
from reclaim.services.reports import Report
from reclaim.services.reports.mail import LEASE, RETRY, send_due_reports, send_report
from reclaim.services.reports.period import last_ended
from service_builders import T0, open_store

# The store (Paris) reports every week; W19 is Monday 4 May to Monday 11 May 2026, due on
# 11 May at 06:00 in Paris (04:00 UTC).
DUE = datetime(2026, 5, 11, 4, 0, tzinfo=UTC)
KEY_W19 = "2026-W19"
TEAM = ("boss@shop.example", "ops@shop.example")


class Drawn:
    """A ``ReportRenderer`` without WeasyPrint: what it drew, for the test to look at."""

    def __init__(self) -> None:
        self.reports: list[Report] = []

    def html(self, report: Report) -> str:
        return "<p>report</p>"

    def pdf(self, report: Report) -> bytes:
        self.reports.append(report)
        return b"%PDF-1.7 fake"

    def summary(self, report: Report) -> tuple[str, str]:
        return f"report {report.period.start}", "summary\n"


@dataclass
class Crashing(FakeSenders):
    """Senders whose ``crash_on``-th email raises what a dying process would not catch."""

    crash_on: int = 0
    during: Any = None  # called before each email: another worker's round meanwhile
    calls: int = field(default=0)

    def send_email(self, email: OutgoingEmail, *, now: datetime) -> SendResult:
        self.calls += 1
        if self.during is not None:
            self.during()
        if self.calls == self.crash_on:
            raise RuntimeError("the process died")
        return super().send_email(email, now=now)


def _store(uow: FakeUnitOfWork, **settings: Any) -> str:
    store_id = open_store(uow, report_every="week", **settings)
    with uow:
        uow.cases.add(
            Case(
                store_id=store_id,
                kind="abandoned_checkout",
                subject_id="c1",
                customer_key="ana@example.com",
                email="ana@example.com",
                phone=None,
                contact=Contact(email="ana@example.com", country="FR"),
                value=Decimal(100),
                currency="EUR",
                items=(),
                reason="test",
                occurred_at=T0,
                created_at=T0 + timedelta(hours=1),
            )
        )
        uow.commit()
    return store_id


def _record(uow: FakeUnitOfWork, store_id: str, period: str = KEY_W19) -> dict[str, Any]:
    return json.loads(uow.db.committed.report_sends[f"{store_id}:{period}"])  # type: ignore[no-any-return]


def _round(
    db: FakeDatabase, senders: FakeSenders, now: datetime, drawn: Drawn | None = None
) -> Any:
    return send_due_reports(uow=db.uow(), senders=senders, renderer=drawn or Drawn(), now=now)


def test_the_period_is_the_week_or_month_that_ended_where_the_store_is() -> None:
    paris = "Europe/Paris"
    assert last_ended("week", timezone=paris, now=DUE)[0] == "2026-W19"
    assert last_ended("week", timezone=paris, now=DUE - timedelta(seconds=1))[0] == "2026-W18"
    # 1 June 06:00 in Paris is 04:00 UTC: May's report from then on.
    june = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    assert last_ended("month", timezone=paris, now=june)[0] == "2026-05"
    assert last_ended("month", timezone=paris, now=june - timedelta(minutes=1))[0] == "2026-04"


def test_one_email_per_recipient_while_another_worker_runs_meanwhile() -> None:
    uow = FakeUnitOfWork()
    store_id = _store(uow, report_emails=TEAM)
    other_rounds: list[Any] = []
    # Worker B runs a whole round while worker A is sending each email: it finds A's claim.
    b = FakeSenders()
    a = Crashing(during=lambda: other_rounds.append(_round(uow.db, b, DUE)))
    drawn = Drawn()
    stats = _round(uow.db, a, DUE, drawn)
    assert (stats.reports, stats.emails) == (1, 2)
    assert [e.to for e in a.emails] == list(TEAM) and b.emails == []
    assert all(r.emails == 0 for r in other_rounds) and len(other_rounds) == 2
    record = _record(uow, store_id)
    assert record["state"] == "sent" and record["sent_to"] == list(TEAM)
    # W19's report: the case opened on 4 May counts; a worker restarted later sends nothing.
    [report] = drawn.reports
    assert (report.period.start.isoformat(), report.total.opened) == ("2026-05-04", 1)
    assert _round(uow.db, FakeSenders(), DUE + timedelta(days=2)).emails == 0
    email = a.emails[0]
    assert email.subject == "report 2026-05-04" and email.list_unsubscribe_url is None
    [pdf] = email.attachments
    assert (pdf.content_type, pdf.data[:4]) == ("application/pdf", b"%PDF")
    assert pdf.filename == f"reclaim-report-{store_id}-2026-W19.pdf"
    assert email.message_id != a.emails[1].message_id


def test_a_worker_that_dies_midway_is_taken_over_when_its_lease_ends() -> None:
    uow = FakeUnitOfWork()
    store_id = _store(uow, report_emails=TEAM)
    dying = Crashing(crash_on=2)  # the boss got it; the process dies on the second
    assert _round(uow.db, dying, DUE).emails == 1
    assert _record(uow, store_id)["state"] == "sending"
    other = FakeSenders()
    assert _round(uow.db, other, DUE + LEASE - timedelta(minutes=1)).emails == 0
    stats = _round(uow.db, other, DUE + LEASE)
    assert (stats.reports, [e.to for e in other.emails]) == (1, ["ops@shop.example"])
    assert _record(uow, store_id)["sent_to"] == list(TEAM)


def test_a_mail_server_that_refuses_for_now_is_tried_again_later() -> None:
    uow = FakeUnitOfWork()
    store_id = _store(uow, report_emails=TEAM)
    senders = FakeSenders()
    senders.fail_next(Channel.EMAIL, temporary())
    assert _round(uow.db, senders, DUE).failed == 1
    assert _record(uow, store_id)["state"] == "retry"
    assert _round(uow.db, senders, DUE + RETRY - timedelta(seconds=1)).emails == 0
    assert _round(uow.db, senders, DUE + RETRY).emails == 2
    assert [e.to for e in senders.emails] == list(TEAM)


def test_a_refused_address_is_recorded_and_the_others_get_theirs() -> None:
    uow = FakeUnitOfWork()
    store_id = _store(uow, report_emails=TEAM)
    senders = FakeSenders()
    senders.fail_next(Channel.EMAIL, permanent())
    stats = _round(uow.db, senders, DUE)
    assert (stats.reports, stats.emails, stats.refused) == (1, 1, 1)
    record = _record(uow, store_id)
    assert (record["sent_to"], record["refused"]) == (["ops@shop.example"], ["boss@shop.example"])


def test_no_email_without_recipients_without_smtp_or_without_data() -> None:
    uow = FakeUnitOfWork()
    _store(uow)  # report_every is set, report_emails is empty
    nobody = FakeSenders()
    assert _round(uow.db, nobody, DUE).emails == 0 and nobody.emails == []
    assert uow.db.committed.report_sends == {}
    uow2 = FakeUnitOfWork()
    _store(uow2, report_emails=TEAM)
    no_smtp = FakeSenders(channels=frozenset({Channel.SMS}))
    assert _round(uow2.db, no_smtp, DUE).emails == 0 and uow2.db.committed.report_sends == {}
    uow3 = FakeUnitOfWork()
    empty = open_store(uow3, report_every="week", report_emails=TEAM)
    drawn = Drawn()
    assert _round(uow3.db, FakeSenders(), DUE, drawn).no_data == 1
    assert _record(uow3, empty)["state"] == "no_data"
    assert _round(uow3.db, FakeSenders(), DUE + timedelta(hours=1), drawn).no_data == 0
    assert drawn.reports == []


def test_send_now_goes_to_the_address_given_and_is_not_recorded() -> None:
    uow = FakeUnitOfWork()
    store_id = _store(uow, report_emails=TEAM)
    senders = FakeSenders()
    name, to = send_report(
        uow=uow,
        senders=senders,
        renderer=Drawn(),
        store_id=store_id,
        period="2026-w19",
        now=DUE,
        to=["me@shop.example"],
    )
    assert (name, to, [e.to for e in senders.emails]) == (
        "2026-W19",
        ("me@shop.example",),
        ["me@shop.example"],
    )
    assert uow.db.committed.report_sends == {}
    with pytest.raises(InvalidInput) as bad:
        send_report(
            uow=uow,
            senders=senders,
            renderer=Drawn(),
            store_id=store_id,
            period="2026-W19",
            now=DUE,
            to=["not an address"],
        )
    assert bad.value.field == "to"
    with pytest.raises(ConfigError, match="RECLAIM_SMTP_URL"):
        send_report(
            uow=uow,
            senders=FakeSenders(channels=frozenset()),
            renderer=Drawn(),
            store_id=store_id,
            period="2026-05",
            now=datetime(2026, 6, 2, tzinfo=UTC),
        )
