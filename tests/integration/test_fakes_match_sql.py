"""The fake unit of work (``tests/fakes``) against the SQL one: one scenario of ingestion,
detection and the step engine, run on each, must leave the same rows and the same counts.
This keeps the fast service tests in ``tests/unit/services`` honest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from fakes import FakeSenders, FakeUnitOfWork, permanent, temporary
from reclaim.adapters.templates import TemplateRenderer
from reclaim.bootstrap import Runtime
from reclaim.domain.messages import Channel
from reclaim.services.detection import detect_due
from reclaim.services.ingest import process_inbox
from reclaim.services.ports import UnitOfWork
from reclaim.services.reports import build_report, report_json
from reclaim.services.steps import run_due_steps
from reclaim.services.tracking import Links
from service_builders import (
    CONNECTORS,
    T0,
    body,
    cart,
    deliver,
    flow_defaults,
    ingest,
    open_store,
    order,
)

STORE = "st_parity0001"
LINKS = Links(base_url="https://reclaim.example", key=b"k" * 32)


def _scenario(uow: UnitOfWork) -> dict[str, Any]:
    """Every service's answer and every row's state that does not hold a random token."""
    answers: list[object] = []
    open_store(uow, store_id=STORE)
    bad = cart(T0, checkout_id="c9")
    del bad["data"]["currency"]
    first = body(cart(T0, email="ana@example.com"))
    for raw in (
        first,
        first,
        body(bad),
        body(cart(T0, checkout_id="c2", email="bob@example.com")),
        body(order("order.created", T0, order_id="o9", email="carol@example.com")),
        body(cart(T0, checkout_id="c3", email="dan@example.com")),
    ):
        answers.append(deliver(uow, STORE, raw, now=T0))
    answers.append(process_inbox(uow=uow, connectors=CONNECTORS, now=T0))
    placed = T0 + timedelta(minutes=10)
    answers.append(
        ingest(
            uow,
            STORE,
            order("order.paid", placed, "o3", "dan@example.com", checkout_id="c3"),
            now=placed,
        )
    )
    answers.append(detect_due(uow=uow, now=T0 + timedelta(minutes=30), flows=flow_defaults))
    senders = FakeSenders()
    # claimed by due time, then id: Carol's order (its case opened first), Ana's, Bob's cart
    senders.fail_next(Channel.EMAIL, temporary(), permanent())
    renderer = TemplateRenderer()
    for at in (timedelta(hours=1), timedelta(hours=2), timedelta(hours=3)):
        answers.append(
            run_due_steps(uow=uow, senders=senders, renderer=renderer, links=LINKS, now=T0 + at)
        )
    paid = T0 + timedelta(hours=4)
    answers.append(
        ingest(
            uow,
            STORE,
            order("order.paid", paid, order_id="o9", email="carol@example.com"),
            now=paid,
        )
    )
    with uow:
        cases = uow.cases.page(
            store_id=STORE, status=None, kind=None, since=None, after_id=None, limit=50
        )
        case_ids = [c.id for c in cases if c.id is not None]
        steps = uow.steps.for_cases(case_ids)
        kept = uow.inbox.list(store_id=STORE, statuses=["processed", "failed", "ignored"], limit=50)
        # PostgreSQL's ON CONFLICT DO NOTHING spends a sequence value, SQLite's does not: the
        # deliveries are compared by their order of arrival.
        rank = {d.id: n for n, d in enumerate(sorted(kept, key=lambda d: d.id), start=1)}
        rows = {
            "inbox": [(rank[d.id], d.topic, d.status, d.error, d.attempts) for d in kept],
            "checkouts": sorted(
                (c.external_id, c.state, c.abandon_due_at, c.ignore_reason)
                for c in uow.facts.checkouts_many(STORE, ["c1", "c2", "c3", "c9"]).values()
            ),
            "cases": [
                (c.id, c.kind, c.subject_id, c.status, c.flow_state, c.next_step_at, c.closed_at)
                for c in cases
            ],
            "events": {i: list(uow.cases.events(i)) for i in case_ids},
            "steps": [
                (s.id, s.case_id, s.key, s.status, s.due_at, s.outcome, s.attempts) for s in steps
            ],
            "messages": [
                (m.id, m.step_id, m.status, m.attempts, m.sent_at, m.subject, m.error, m.text_body)
                for i in case_ids
                for m in uow.messages.for_case(i)
            ],
            "suppressed": uow.suppressions.count(STORE),
            "reasons": {i: list(uow.cases.reasons(i)) for i in case_ids},
        }
    # The report's read model: the same aggregates from the fake's loops as from SQL.
    for by in (None, "country", "device", "flow", "channel", "step"):
        answers.append(
            report_json(
                build_report(
                    uow=uow, store_id=STORE, now=paid, start=T0.date(), end=paid.date() + timedelta(days=1), by=by
                )
            )
        )
    answers = [
        [replace(a, delivery_id=rank.get(a.delivery_id or 0)) for a in answer]
        if isinstance(answer, list)
        else answer
        for answer in answers
    ]
    emails = [(e.to, e.subject) for e in senders.emails]
    return {"answers": answers, "rows": rows, "emails": emails, "tries": senders.attempts}


def test_the_fakes_leave_what_the_database_leaves(rt: Runtime) -> None:
    on_sql = _scenario(rt.uow())
    on_fakes = _scenario(FakeUnitOfWork(row_locks=rt.uow().row_locks))

    assert on_fakes == on_sql
    # the scenario did what it is meant to exercise
    assert len(on_sql["emails"]) >= 2
    assert on_sql["rows"]["suppressed"] == {"bounced": 1}
    assert {c[3] for c in on_sql["rows"]["cases"]} >= {"open", "recovered"}
