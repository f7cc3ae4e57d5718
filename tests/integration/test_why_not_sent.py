"""What an operator sees of the messages that did not go and the events that opened no case
(issue 14), on SQLite and the real PostgreSQL: the case API's ``why_not_sent`` (a code and a
sentence, from the case's steps), and Stripe's test-mode deliveries named as such in the
inbox and in the worker's counts instead of vanishing as "skipped"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helpers import checkout_event, client, make_store, post_events, stripe_headers
from reclaim.adapters.db.tables import inbox
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_once
from reclaim.sim.mailbox import Mailbox

FIX = Path(__file__).resolve().parents[1] / "fixtures"
T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday: 10:00 in Berlin, 01:00 in Los Angeles


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with Mailbox() as b:
        yield b


@pytest.fixture
def mrt(db_url: str, box: Mailbox) -> Iterator[Runtime]:
    """A runtime that can send email (to a real SMTP server on loopback), at T0."""
    now = {"at": T0}
    rt = bootstrap(Settings(database_url=db_url, smtp_url=box.url), clock=lambda: now["at"])
    init_database(rt)
    yield rt
    rt.close()


def api(c: TestClient, key: str, path: str) -> Any:
    r = c.get(path, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()


def only_case(c: TestClient, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The store's one case, as the list and as the detail show it."""
    [listed] = api(c, key, "/api/v1/cases")["cases"]
    return listed, api(c, key, f"/api/v1/cases/{listed['id']}")


def open_case(rt: Runtime, **customer: Any) -> tuple[TestClient, str]:
    store = make_store(rt, postal_address="Boutique SARL, 1 rue de Rivoli, 75001 Paris")
    c = client(rt)
    assert post_events(c, store.api_key, checkout_event(T0, **customer)).status_code == 202
    run_once(rt, T0 + timedelta(minutes=31))  # abandoned: the case opens
    return c, store.api_key


def test_a_case_whose_first_message_is_not_due_yet_says_when(mrt: Runtime) -> None:
    c, key = open_case(mrt, accepts_marketing=True, timezone="Europe/Berlin")
    listed, detail = only_case(c, key)
    why = detail["why_not_sent"]
    assert why["code"] == "not_due_yet" and why["step"] == "reminder"
    assert why["until"] == "2026-05-04T09:00:00Z"
    assert why["text"] == "The first message is due at 2026-05-04 09:00 UTC."
    assert listed["why_not_sent"] == why


def test_refused_consent_is_said_in_plain_words(mrt: Runtime, box: Mailbox) -> None:
    # A German customer who never opted in: marketing email needs an opt-in under EU rules.
    c, key = open_case(mrt, timezone="Europe/Berlin")
    stats = run_once(mrt, T0 + timedelta(hours=2))
    assert (stats.steps.sent, stats.steps.outcomes) == (
        0,
        {"consent_eu_marketing_needs_opt_in": 1},
    )
    listed, detail = only_case(c, key)
    assert detail["why_not_sent"] == {
        "code": "consent",
        "text": "No consent: marketing email to the customer's country needs an opt-in "
        "(EU rules), which the customer did not give.",
        "outcome": "consent_eu_marketing_needs_opt_in",
        "step": "reminder",
        "until": None,
    }
    assert listed["why_not_sent"] == detail["why_not_sent"]
    assert box.received == []


def test_quiet_hours_say_when_the_message_goes(mrt: Runtime) -> None:
    c, key = open_case(mrt, accepts_marketing=True, country="US", timezone="America/Los_Angeles")
    stats = run_once(mrt, T0 + timedelta(hours=2))  # 03:00 in Los Angeles
    assert stats.steps.outcomes == {"waiting_quiet_hours": 1}
    _, detail = only_case(c, key)
    why = detail["why_not_sent"]
    assert (why["code"], why["outcome"], why["step"]) == (
        "quiet_hours",
        "waiting_quiet_hours",
        "reminder",
    )
    assert why["until"] == "2026-05-04T14:00:00Z"  # 07:00 in Los Angeles
    assert why["text"] == (
        "Waiting for the end of quiet hours in the customer's time zone. "
        "Next try at 2026-05-04 14:00 UTC."
    )


def test_a_case_that_got_its_message_has_no_why(mrt: Runtime, box: Mailbox) -> None:
    c, key = open_case(mrt, accepts_marketing=True, timezone="Europe/Berlin")
    assert run_once(mrt, T0 + timedelta(hours=2)).steps.sent == 1
    listed, detail = only_case(c, key)
    assert listed["why_not_sent"] is None and detail["why_not_sent"] is None
    assert len(box.received) == 1


def test_no_smtp_server_names_the_setting(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = T0
    c, key = open_case(rt, accepts_marketing=True, timezone="Europe/Berlin")
    run_once(rt, T0 + timedelta(hours=2))
    _, detail = only_case(c, key)
    assert detail["why_not_sent"]["code"] == "no_channel"
    assert detail["why_not_sent"]["outcome"] == "email_not_configured"
    assert "RECLAIM_SMTP_URL" in detail["why_not_sent"]["text"]


def test_the_holdout_group_is_said(mrt: Runtime) -> None:
    store = make_store(mrt, holdout=0.5)
    c = client(mrt)
    events = [checkout_event(T0, checkout_id=f"k{i}", email=f"c{i}@example.com") for i in range(12)]
    assert post_events(c, store.api_key, events).status_code == 202
    run_once(mrt, T0 + timedelta(minutes=31))
    cases = api(c, store.api_key, "/api/v1/cases")["cases"]
    held = [case for case in cases if case["holdout"]]
    assert held, "12 cases at 50 %: some are held out"
    for case in held:
        assert case["why_not_sent"]["code"] == "holdout"
        assert "holdout group" in case["why_not_sent"]["text"]
    assert all(c["why_not_sent"]["code"] == "not_due_yet" for c in cases if not c["holdout"])


def stripe_test_mode_session() -> tuple[bytes, datetime]:
    data = json.loads((FIX / "stripe" / "checkout_session_expired.json").read_bytes())
    data["livemode"] = False
    data["data"]["object"]["livemode"] = False
    data["id"] = "evt_test_1"
    return json.dumps(data).encode(), datetime.fromtimestamp(data["created"], UTC)


def test_stripe_test_mode_is_named_in_the_inbox_and_the_worker(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 3, 10, tzinfo=UTC)
    store = make_store(rt, platform="stripe")
    body, sent_at = stripe_test_mode_session()
    clock.now = sent_at
    r = client(rt).post(
        f"/webhooks/stripe/{store.id}", content=body, headers=stripe_headers(body, sent_at)
    )
    assert r.status_code == 200
    stats = run_once(rt, sent_at)
    assert (stats.inbox.processed, stats.inbox.test_mode) == (1, 1)
    assert (stats.detected.opened, stats.detected.skipped) == (0, 1)
    assert stats.detected.reasons == {"test_mode": 1}
    with rt.uow() as uow:
        assert uow.inbox.counts() == {"processed": 1}
        assert uow.inbox.count_noted("test mode") == 1
        assert uow.inbox.count_noted("test mode", store_id="st_other") == 0
    with rt.engine.connect() as conn:
        note = conn.execute(select(inbox.c.error)).scalar_one()
    assert note.startswith("test mode: Stripe sent it with livemode false")
    # The same session in live mode is processed without a note, and opens its case.
    live = json.loads(body)
    live["livemode"] = live["data"]["object"]["livemode"] = True
    live["id"] = "evt_live_1"
    live["data"]["object"]["id"] = "cs_live_other"
    raw = json.dumps(live).encode()
    client(rt).post(
        f"/webhooks/stripe/{store.id}", content=raw, headers=stripe_headers(raw, sent_at)
    )
    stats = run_once(rt, sent_at)
    assert (stats.inbox.processed, stats.inbox.test_mode, stats.detected.opened) == (1, 0, 1)
