"""Retention (SPEC S13) on SQLite and PostgreSQL: what is past its window goes, in batches,
with everything that hangs on it; a row just inside its window stays; a live case and
another store are never touched; the worker prunes each store once a day; ``reclaim prune``
counts (``--dry-run``) or deletes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from click.testing import CliRunner
from sqlalchemy import func, select

from fakes import FakeUnitOfWork
from helpers import make_store
from reclaim.adapters.db.tables import (
    case_events,
    case_reasons,
    cases,
    coupons,
    inbox,
    message_events,
    messages,
    steps,
)
from reclaim.bootstrap import Runtime
from reclaim.domain.cases import Case, CaseReason, CaseStatus
from reclaim.domain.events import Contact
from reclaim.domain.steps import Coupon, MessageRecord, ScheduledStep
from reclaim.entrypoints.cli import main
from reclaim.services.ports import UnitOfWork
from reclaim.services.retention import prune, prune_due
from reclaim.services.stores import update_settings
from service_builders import open_store

SECOND = timedelta(seconds=1)
NO_FACTS = {"checkouts": 0, "orders": 0, "payments": 0}  # the seed has none (test_retention_facts)
DAY = timedelta(days=1)


@dataclass
class Seeded:
    """The ids of one store's rows, by what should become of them."""

    gone: dict[str, set[int]]
    kept: dict[str, set[int]]


def _case(store_id: str, subject: str, now: datetime, closed_at: datetime | None) -> Case:
    return Case(
        store_id=store_id,
        kind="abandoned_checkout",
        subject_id=subject,
        customer_key="ana@example.com",
        email="ana@example.com",
        phone=None,
        contact=Contact(email="ana@example.com"),
        value=Decimal("50.00"),
        currency="EUR",
        items=(),
        reason="checkout_abandoned",
        occurred_at=now - 900 * DAY,
        created_at=now - 900 * DAY,
        status=CaseStatus.LOST if closed_at else CaseStatus.OPEN,
        closed_at=closed_at,
    )


def _delivery(uow: UnitOfWork, store_id: str, at: datetime, status: str, n: int) -> int:
    found = uow.inbox.add(
        store_id=store_id,
        source="custom",
        topic="checkout.updated",
        event_id=f"ev-{store_id}-{n}",
        digest=f"{store_id}-{n}".ljust(64, "0"),
        headers={},
        body=b'{"email": "ana@example.com"}',
        received_at=at,
        status=status,
        error=None,
    )
    assert found is not None
    return found


def _message(uow: UnitOfWork, case: Case, at: datetime) -> int:
    """A sent message of ``case`` written at ``at``, with its step and an open event."""
    assert case.id is not None
    position = len(uow.steps.for_case(case.id))
    step = ScheduledStep(case.store_id, case.id, 1, position, "reminder", at, at, status="sent")
    uow.steps.add(step)
    uow.commit()  # the step's id is set when it is written
    assert step.id is not None
    record = MessageRecord(
        store_id=case.store_id,
        case_id=case.id,
        step_id=step.id,
        customer_key=case.customer_key,
        channel="email",
        purpose="marketing",
        template="abandoned_checkout/reminder",
        locale="en",
        recipient="ana@example.com",
        created_at=at,
        status="sent",
    )
    uow.messages.add(record)
    assert record.id is not None
    uow.messages.add_event(record.id, store_id=case.store_id, type="open", at=at, data={})
    uow.commit()
    return record.id


def seed(rt: Runtime | Callable[[], UnitOfWork], store_id: str, now: datetime) -> Seeded:
    """Rows on each side of every default window (deliveries 30 days, events 365, messages
    and closed cases 730), and the rows of a live case, all as old as can be. The old closed
    case's message goes as a message (messages are pruned before cases), its other rows
    with it."""
    gone: dict[str, set[int]] = {k: set() for k in ("deliveries", "events", "messages", "cases")}
    kept: dict[str, set[int]] = {k: set() for k in gone}
    new_uow = rt.uow if isinstance(rt, Runtime) else rt
    with new_uow() as uow:
        gone["deliveries"].add(_delivery(uow, store_id, now - 30 * DAY - SECOND, "processed", 1))
        gone["deliveries"].add(_delivery(uow, store_id, now - 90 * DAY, "failed", 2))
        kept["deliveries"].add(_delivery(uow, store_id, now - 30 * DAY + SECOND, "processed", 3))
        kept["deliveries"].add(_delivery(uow, store_id, now - 90 * DAY, "received", 4))  # waits

        old = _case(store_id, "old", now, closed_at=now - 730 * DAY - SECOND)
        recent = _case(store_id, "recent", now, closed_at=now - 730 * DAY + SECOND)
        live = _case(store_id, "live", now, closed_at=None)
        for case in (old, recent, live):
            uow.cases.add(case)
        uow.commit()
        assert old.id and recent.id and live.id
        gone["cases"].add(old.id)
        kept["cases"] |= {recent.id, live.id}

        # the old closed case's children all go with it
        _message(uow, old, now - 800 * DAY)
        uow.cases.add_event(old.id, at=now - 10 * DAY, type="note", data={})
        uow.cases.add_event(old.id, at=now - 800 * DAY, type="test_mode", data={})
        uow.cases.add_reasons([CaseReason(old.id, store_id, "price", "inferred", now - 800 * DAY)])
        uow.coupons.add(
            Coupon(store_id, old.id, f"OLD-{store_id}", "percent", Decimal(10), "EUR", now, now)
        )
        # the kept closed case: its history past the windows goes, the rest stays
        gone["messages"].add(_message(uow, recent, now - 730 * DAY - SECOND))
        kept["messages"].add(_message(uow, recent, now - 730 * DAY + SECOND))
        # the live case keeps everything, however old
        kept["messages"].add(_message(uow, live, now - 800 * DAY))
        uow.commit()
        for case, at, type, fate in (
            (recent, now - 365 * DAY - SECOND, "step_skipped", gone),
            (recent, now - 365 * DAY + SECOND, "step_skipped", kept),
            (recent, now - 800 * DAY, "test_mode", kept),  # a mark of the case: kept with it
            (live, now - 800 * DAY, "opened", kept),
        ):
            assert case.id is not None
            uow.cases.add_event(case.id, at=at, type=type, data={})
            uow.commit()
            if not isinstance(rt, Runtime):
                continue  # the fake: no ids to look up
            newest = uow.execute(select(func.max(case_events.c.id))).scalar()  # type: ignore[attr-defined]
            fate["events"].add(int(newest))
    return Seeded(gone, kept)


def ids(rt: Runtime, table: object, store_id: str | None = None, **where: object) -> set[int]:
    with rt.uow() as uow:
        q = select(table.c.id)  # type: ignore[attr-defined]
        if store_id is not None:
            q = q.where(table.c.store_id == store_id)  # type: ignore[attr-defined]
        return {int(i) for i in uow.execute(q).scalars()}  # type: ignore[attr-defined]


def children_of(rt: Runtime, case_id: int) -> dict[str, int]:
    with rt.uow() as uow:

        def count(table: object) -> int:
            q = select(func.count()).where(table.c.case_id == case_id)  # type: ignore[attr-defined]
            return int(uow.execute(q).scalar())  # type: ignore[attr-defined]

        theirs = select(messages.c.id).where(messages.c.case_id == case_id)
        events_of_messages = uow.execute(  # type: ignore[attr-defined]
            select(func.count()).where(message_events.c.message_id.in_(theirs))
        ).scalar()
        return {
            "events": count(case_events),
            "reasons": count(case_reasons),
            "steps": count(steps),
            "messages": count(messages),
            "coupons": count(coupons),
            "message_events": int(events_of_messages),
        }


def test_each_window_keeps_what_is_inside_and_deletes_what_is_outside(rt: Runtime) -> None:
    now = rt.clock()
    a = make_store(rt, "A")
    b = make_store(rt, "B")
    mine, theirs = seed(rt, a.id, now), seed(rt, b.id, now)
    old_case = next(iter(mine.gone["cases"]))
    assert all(children_of(rt, old_case).values())
    before_b = {t: ids(rt, t, b.id) for t in (inbox, cases, messages)}

    done = prune(uow=rt.uow(), now=now, store_id=a.id, batch=1)  # one row per transaction

    assert [p.store_id for p in done] == [a.id]
    assert (
        done[0].counts
        == {"deliveries": 2, "events": 1, "messages": 2, "closed_cases": 1} | NO_FACTS
    )
    left = ids(rt, inbox, a.id)
    assert mine.kept["deliveries"] <= left and not mine.gone["deliveries"] & left
    left = ids(rt, cases, a.id)
    assert left == mine.kept["cases"]
    assert children_of(rt, old_case) == dict.fromkeys(children_of(rt, old_case), 0)
    left = ids(rt, messages, a.id)
    assert mine.kept["messages"] <= left and not mine.gone["messages"] & left
    left = ids(rt, case_events)
    assert mine.kept["events"] <= left and not mine.gone["events"] & left
    # nothing of the other store was touched
    assert {t: ids(rt, t, b.id) for t in (inbox, cases, messages)} == before_b
    assert theirs.gone["events"] <= ids(rt, case_events)


def test_a_dry_run_counts_and_deletes_nothing_and_windows_are_the_stores(rt: Runtime) -> None:
    now = rt.clock()
    a = make_store(rt, "A")
    seed(rt, a.id, now)
    before = {t: ids(rt, t) for t in (inbox, cases, messages, case_events)}
    dry = prune(uow=rt.uow(), now=now, dry_run=True)
    assert (
        dry[0].counts == {"deliveries": 2, "events": 1, "messages": 2, "closed_cases": 1} | NO_FACTS
    )
    assert {t: ids(rt, t) for t in (inbox, cases, messages, case_events)} == before
    # a store that keeps deliveries 100 days and closed cases 3,000 keeps more
    update_settings(
        uow=rt.uow(),
        store_id=a.id,
        changes={"keep_deliveries": 100 * DAY, "keep_closed_cases": 3000 * DAY},
    )
    longer = prune(uow=rt.uow(), now=now, dry_run=True)[0]
    assert (
        longer.counts == {"deliveries": 0, "events": 1, "messages": 2, "closed_cases": 0} | NO_FACTS
    )
    assert longer.cutoffs["deliveries"] == now - 100 * DAY


def test_the_worker_prunes_each_store_once_a_day(rt: Runtime) -> None:
    now = rt.clock()
    a = make_store(rt, "A")
    seed(rt, a.id, now)
    first = prune_due(uow=rt.uow(), now=now)
    assert [p.total for p in first if p.store_id == a.id] == [6]
    with rt.uow() as uow:
        _delivery(uow, a.id, now - 60 * DAY, "processed", 99)
        uow.commit()
    assert prune_due(uow=rt.uow(), now=now + 23 * timedelta(hours=1)) == []  # not a day yet
    again = prune_due(uow=rt.uow(), now=now + DAY)
    # the new old delivery, and the one that was a second inside its window a day ago
    assert [p.counts["deliveries"] for p in again if p.store_id == a.id] == [2]


def test_reclaim_prune_cli(rt: Runtime) -> None:
    now = datetime.now(UTC)  # the command runs on the wall clock
    a = make_store(rt, "A")
    seed(rt, a.id, now)
    env = {"RECLAIM_DATABASE_URL": rt.settings.database_url}
    dry = CliRunner().invoke(main, ["prune", "--store", a.id, "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    [row] = json.loads(dry.output)
    assert (
        row["would_delete"]
        == {"deliveries": 2, "events": 1, "messages": 2, "closed_cases": 1} | NO_FACTS
    )
    done = CliRunner().invoke(main, ["prune", "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert [r["deleted"]["closed_cases"] for r in json.loads(done.output)] == [1]
    shown = CliRunner().invoke(main, ["prune", "--store", a.id], env=env)
    assert shown.exit_code == 0 and "deleted" in shown.output, shown.output
    missing = CliRunner().invoke(main, ["prune", "--store", "st_nope"], env=env)
    assert missing.exit_code != 0 and "no store" in missing.output


def test_the_fake_unit_of_work_prunes_as_sql_does(rt: Runtime) -> None:
    """The in-memory fake (tests/fakes) deletes what SQL deletes."""
    now = rt.clock()
    fake = FakeUnitOfWork()
    fake_store = open_store(fake, store_id="st_fake00000001")
    seed(lambda: fake, fake_store, now)
    real_store = make_store(rt, "A").id
    seed(rt, real_store, now)
    for dry_run in (True, False):
        on_fake = prune(uow=fake, now=now, dry_run=dry_run)
        on_sql = prune(uow=rt.uow(), now=now, dry_run=dry_run)
        assert [p.counts for p in on_fake] == [p.counts for p in on_sql]
    with fake:
        left = {"cases": len(fake.tables.cases), "messages": len(fake.tables.messages)}
    assert left == {"cases": len(ids(rt, cases)), "messages": len(ids(rt, messages))}
