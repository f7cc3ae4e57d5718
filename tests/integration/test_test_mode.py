"""Test mode made visible (issue 16), on SQLite and PostgreSQL: a platform's test deliveries
(Stripe's ``livemode: false``, the events API's ``test``) are kept and listed with why they
opened no case; a store that accepts test mode runs them as real cases, marked test in the
case API, in their emails' subjects ("[TEST] ") and in the inbox and the worker's summary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from helpers import checkout_event, client, make_store, post_events, stripe_headers
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.cli import main
from reclaim.entrypoints.worker import WorkerStats, run_once, summary_json, summary_lines
from reclaim.services.stores import update_settings
from reclaim.services.test_mode import TEST_MODE
from reclaim.sim.mailbox import Mailbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STRIPE_SESSION = json.loads((FIXTURES / "stripe" / "checkout_session_expired.json").read_bytes())
T0 = datetime.fromtimestamp(STRIPE_SESSION["created"], UTC)


def stripe_test_session(session_id: str) -> bytes:
    data: dict[str, Any] = json.loads(json.dumps(STRIPE_SESSION))
    data["id"] = f"evt_{session_id}"
    data["livemode"] = data["data"]["object"]["livemode"] = False
    data["data"]["object"]["id"] = session_id
    return json.dumps(data).encode()


def post_stripe(rt: Runtime, store_id: str, body: bytes) -> None:
    r = client(rt).post(
        f"/webhooks/stripe/{store_id}", content=body, headers=stripe_headers(body, T0)
    )
    assert r.status_code == 200, r.text


def us_checkout(checkout_id: str, email: str, at: datetime = T0, **kw: Any) -> dict[str, Any]:
    return checkout_event(
        at, checkout_id=checkout_id, email=email, country="US", locale="en-US",
        timezone="America/New_York", accepts_marketing=True, **kw,
    )  # fmt: skip


def work(rt: Runtime, *hours: float) -> WorkerStats:
    total = WorkerStats()
    for h in hours:
        stats = run_once(rt, T0 + timedelta(hours=h))
        total.inbox.tests += stats.inbox.tests
        total.inbox.test_mode += stats.inbox.test_mode
        total.detected += stats.detected
    return total


def cases_of(rt: Runtime, key: str) -> dict[str, dict[str, Any]]:
    auth = {"Authorization": f"Bearer {key}"}
    c = client(rt)
    listed = c.get("/api/v1/cases", headers=auth).json()["cases"]
    return {
        case["email"]: {
            "listed": case["test"],
            **c.get(f"/api/v1/cases/{case['id']}", headers=auth).json(),
        }
        for case in listed
    }


@pytest.fixture
def rt(db_url: str) -> Iterator[Runtime]:
    """A runtime whose clock stands when the Stripe fixture was sent."""
    runtime = bootstrap(Settings(database_url=db_url), clock=lambda: T0)
    init_database(runtime)
    yield runtime
    runtime.close()


def test_test_deliveries_open_no_case_and_say_why(rt: Runtime) -> None:
    stripe = make_store(rt, "Stripe shop", platform="stripe")
    custom = make_store(rt, "Own site", platform="custom")
    post_stripe(rt, stripe.id, stripe_test_session("cs_test_1"))
    c = client(rt)
    assert (
        post_events(c, custom.api_key, us_checkout("k1", "t@example.com", test=True)).status_code
        == 202
    )
    stats = work(rt, 0.6)
    assert stats.detected.opened == 0 and stats.detected.reasons == {"test_mode": 2}
    notes = sorted(note for _, note in stats.inbox.tests)
    assert notes == [
        "test mode: Stripe sent it with livemode false; kept, but tests open no case",
        "test mode: the platform marked it as a test; kept, but tests open no case",
    ]
    lines = summary_lines(stats)
    assert any(line.startswith("test mode: Stripe sent it with livemode false") for line in lines)
    assert all(
        "reclaim inbox list --test" in line for line in lines if line.startswith("test mode")
    )
    assert {d["reason"] for d in summary_json(stats)["test_mode_deliveries"]} == set(notes)  # type: ignore[union-attr]
    with rt.uow() as uow:
        listed = uow.inbox.noted(TEST_MODE, store_id=stripe.id, limit=10)
        assert [(d.source, d.status) for d in listed] == [("stripe", "processed")]
    assert cases_of(rt, custom.api_key) == {}


def test_a_store_that_accepts_test_mode_runs_them_as_cases_marked_test(
    db_url: str, box: Mailbox
) -> None:
    settings = Settings(database_url=db_url, smtp_url=box.url, public_url="https://reclaim.example")
    rt = bootstrap(settings, clock=lambda: T0)
    init_database(rt)
    try:
        stripe = make_store(rt, "Stripe shop", platform="stripe")
        custom = make_store(rt, "Own site", platform="custom")
        for store in (stripe, custom):
            update_settings(uow=rt.uow(), store_id=store.id, changes={"accept_test_mode": True})
        post_stripe(rt, stripe.id, stripe_test_session("cs_test_2"))
        c = client(rt)
        body = [
            us_checkout("k1", "trial@example.com", test=True),
            us_checkout("k2", "real@example.com"),
        ]
        assert post_events(c, custom.api_key, body).status_code == 202
        stats = work(rt, 0.6, 3, 12)
        assert stats.detected.opened == 3
        accepted = "the store accepts test mode, so it runs as a real case marked test"
        assert (
            all(accepted in note for _, note in stats.inbox.tests) and len(stats.inbox.tests) == 2
        )

        mine = cases_of(rt, custom.api_key)
        assert {email: (case["listed"], case["test"]) for email, case in mine.items()} == {
            "trial@example.com": (True, True),
            "real@example.com": (False, False),
        }
        theirs = cases_of(rt, stripe.api_key)
        assert [case["test"] for case in theirs.values()] == [True]
        subjects = {r: m.parsed()["Subject"] for m in box.take() for r in m.recipients}
        assert subjects["trial@example.com"].startswith("[TEST] ")
        assert not subjects["real@example.com"].startswith("[TEST]")
        assert subjects["sophie.wright@example.co.uk"].startswith("[TEST] ")
        [trial_message] = mine["trial@example.com"]["messages"]
        assert trial_message["subject"].startswith("[TEST] ")
    finally:
        rt.close()


def test_inbox_list_test_and_store_set_accept_test_mode(sqlite_rt: Runtime) -> None:
    """The commands (SQLite: the command's own runtime is the subject)."""
    rt = sqlite_rt
    custom = make_store(rt, "Own site", platform="custom")
    c = client(rt)
    now = rt.clock()
    test_cart = us_checkout("k1", "t@example.com", at=now, test=True)
    assert post_events(c, custom.api_key, test_cart).status_code == 202
    env = {"RECLAIM_DATABASE_URL": rt.settings.database_url}
    run_once(rt, now + timedelta(minutes=1))
    listed = CliRunner().invoke(main, ["inbox", "list", "--test", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["store_id"] == custom.id and row["status"] == "processed"
    assert (
        row["reason"] == "test mode: the platform marked it as a test; kept, but tests open no case"
    )
    shown = CliRunner().invoke(main, ["inbox", "list", "--test", "--store", custom.id], env=env)
    assert shown.exit_code == 0 and "test-mode deliveries" in shown.output, shown.output
    everything = CliRunner().invoke(main, ["inbox", "list", "--json"], env=env)
    assert [r["id"] for r in json.loads(everything.output)] == [row["id"]]

    turned = CliRunner().invoke(main, ["store", "set", custom.id, "--accept-test-mode"], env=env)
    assert turned.exit_code == 0 and "accept_test_mode" in turned.output, turned.output
    with rt.uow() as uow:
        store = uow.stores.get(custom.id)
        assert store is not None and store.settings.accept_test_mode is True
    off = CliRunner().invoke(main, ["store", "set", custom.id, "--no-accept-test-mode"], env=env)
    assert off.exit_code == 0, off.output
    with rt.uow() as uow:
        store = uow.stores.get(custom.id)
        assert store is not None and store.settings.accept_test_mode is False
