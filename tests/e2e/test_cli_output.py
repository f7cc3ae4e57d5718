"""What the CLI prints, as an operator reads it at 80 columns and as a script reads it with
``--json`` (issue 14): ids and codes are never cut, every command that prints data can print
JSON, and a worker on a current database prints no migration lines."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpers import (
    checkout_event,
    cli_env,
    client,
    coupon_object,
    make_store,
    post_events,
    stripe_headers,
)
from helpers import (
    run_cli as run,
)
from reclaim.adapters.db import migrate
from reclaim.bootstrap import bootstrap
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_once

LONG = {
    "name": "Boutique des Quatre Saisons et Compagnie",
    "tz": "America/Argentina/Buenos_Aires",
    "domain": "boutique-des-quatre-saisons.example.com",
}


def as_json(args: list[str], env: dict[str, str]) -> Any:
    return json.loads(run([*args, "--json"], env).stdout)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "out.sqlite3", COLUMNS="80")


def add_store(env: dict[str, str], name: str = LONG["name"]) -> str:
    created = as_json(
        ["store", "add", "--name", name, "--platform", "shopify", "--currency", "EUR",
         "--timezone", LONG["tz"], "--domain", LONG["domain"], "--webhook-secret", "s" * 20],
        env,
    )  # fmt: skip
    return str(created["id"])


def test_store_list_shows_whole_ids_at_80_columns(env: dict[str, str]) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    ids = [add_store(env), add_store(env, LONG["name"] + " (outlet)")]
    shown = run(["store", "list"], env).stdout
    assert max(len(line) for line in shown.splitlines()) <= 80, shown
    for store_id in ids:
        assert store_id in shown, shown
    assert "…" not in shown, shown


def test_dead_letters_show_whole_ids_at_80_columns(env: dict[str, str]) -> None:
    run(["init"], env)
    rt = bootstrap(Settings(database_url=env["RECLAIM_DATABASE_URL"]))
    try:
        store = make_store(rt, name=LONG["name"], platform="custom")
        bad = [{"type": "checkout.updated", "data": {"checkout_id": "x" * 60}}]
        assert post_events(client(rt), store.api_key, bad).status_code == 422
    finally:
        rt.close()
    shown = run(["inbox", "failed"], env).stdout
    assert store.id in shown and "…" not in shown, shown
    [dead] = as_json(["inbox", "failed"], env)
    assert f"│ {dead['id']} " in shown


def test_coupon_codes_and_cases_are_whole_at_80_columns(env: dict[str, str]) -> None:
    run(["init"], env)
    rt = bootstrap(Settings(database_url=env["RECLAIM_DATABASE_URL"]))
    try:
        store = make_store(rt, name=LONG["name"], platform="custom")
        t0 = rt.clock() + timedelta(minutes=1)
        assert post_events(client(rt), store.api_key, [checkout_event(t0)]).status_code == 202
        run_once(rt, t0 + timedelta(hours=1))
        with rt.uow() as uow:
            [case] = uow.cases.page(
                store_id=store.id, status=None, kind=None, since=None, after_id=None, limit=5
            )
            codes = ["4T5H-M9KQ-PX7R-2026-WINTER", "ZX9Q-7KQ3-MX9T-PA"]
            for code in codes:
                uow.coupons.add(coupon_object(store_id=store.id, case_id=case.id, code=code))
            uow.commit()
    finally:
        rt.close()
    shown = run(["coupons", "export", "--store", store.id], env).stdout
    for code in codes:
        assert code in shown, shown
    assert f" {case.id} " in shown and "…" not in shown, shown
    assert {c["code"] for c in as_json(["coupons", "export", "--store", store.id], env)} == set(
        codes
    )


def test_stock_shows_whole_skus_and_warehouses_at_80_columns(
    env: dict[str, str], tmp_path: Path
) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    store_id = add_store(env)
    wh = tmp_path / "warehouses.csv"
    wh.write_text("code,country,timezone,cutoff\nPARIS-NORD-ENTREPOT-2,FR,Europe/Paris,14:00\n")
    run(["warehouse", "import", "--store", store_id, str(wh)], env)
    st = tmp_path / "stock.csv"
    st.write_text("warehouse,sku,on_hand\nPARIS-NORD-ENTREPOT-2,LAMP-OAK-BRASS-XL-2026-EU,3\n")
    run(["stock", "import", "--store", store_id, str(st)], env)
    shown = run(["stock", "show", "--store", store_id], env).stdout
    assert "LAMP-OAK-BRASS-XL-2026-EU" in shown and "PARIS-NORD-ENTREPOT-2" in shown, shown
    assert "…" not in shown


def test_flows_list_shows_whole_kinds_at_80_columns(env: dict[str, str], tmp_path: Path) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    store_id = add_store(env)
    flow = tmp_path / "flow.yaml"
    flow.write_text(run(["flows", "default", "abandoned_checkout"], env).stdout)
    made = as_json(["flows", "set", "--store", store_id, str(flow)], env)
    assert (made["kind"], made["version"]) == ("abandoned_checkout", 1)
    shown = run(["flows", "list", "--store", store_id], env).stdout
    assert "abandoned_checkout" in shown and "…" not in shown, shown


def test_worker_on_a_current_database_prints_no_migration_lines(env: dict[str, str]) -> None:
    first = run(["init"], env).stdout
    assert f"created at revision {migrate.head_revision()}" in first
    again = run(["init"], env)
    assert f"already at revision {migrate.head_revision()}" in again.stdout
    assert len(again.stdout.strip().splitlines()) == 1 and again.stderr == ""
    worker = run(["worker", "--once", "--now", "2026-05-01T10:00:00Z"], env)
    assert "alembic" not in worker.stderr and "Context impl" not in worker.stderr, worker.stderr
    assert "Will assume" not in worker.stdout + worker.stderr


def test_init_says_what_it_upgraded(env: dict[str, str]) -> None:
    rt = bootstrap(Settings(database_url=env["RECLAIM_DATABASE_URL"]))
    migrate.upgrade(rt.engine, "0008")
    rt.close()
    shown = " ".join(run(["init"], env).stdout.split())
    assert f"upgraded from revision 0008 to revision {migrate.head_revision()}" in shown
    assert as_json(["init"], env) == {"before": migrate.head_revision(),
                                       "revision": migrate.head_revision()}  # fmt: skip


def test_every_command_that_prints_data_can_print_json(env: dict[str, str], tmp_path: Path) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    store_id = add_store(env)
    assert as_json(["inbox", "replay"], env) == {"queued": 0}
    assert as_json(["holds", "sweep", "--now", "2026-05-10T00:00:00Z"], env) == {
        "holds_expired": 0,
        "cases_closed": 0,
    }
    assert as_json(["suppressions", "check", "--store", store_id, "a@example.com"], env) == {
        "suppressed": False,
        "reason": None,
        "since": None,
    }
    added = as_json(["suppressions", "add", "--store", store_id, "a@example.com"], env)
    assert added == {"added": True, "flows_stopped": 0}
    found = as_json(["suppressions", "check", "--store", store_id, "a@example.com"], env)
    assert found["suppressed"] is True and found["reason"] and found["since"]
    listed = tmp_path / "list.txt"
    listed.write_text("b@example.com\nc@example.com\n")
    imported = as_json(["suppressions", "import", "--store", store_id, str(listed)], env)
    assert imported == {"read": 2, "added": 2}
    removed = as_json(["suppressions", "remove", "--store", store_id, "a@example.com"], env)
    assert removed["removed"] is True and removed["reason"] == found["reason"]
    shown = as_json(["templates", "list"], env)
    assert "abandoned_checkout/reminder" in shown["keys"] and "de" in shown["locales"]
    pushed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "reclaim", "coupons", "push", "--store", store_id, "--json"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        ).stdout
    )  # fmt: skip
    assert pushed["pushed"] == 0 and pushed["failed"] == 0


def test_worker_and_inbox_say_test_mode_and_why_steps_sent_nothing(env: dict[str, str]) -> None:
    """A Stripe test-mode session and a German customer without consent: the worker's summary
    and the inbox say "test mode" and "no consent" instead of a bare "skipped"."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"
    data = json.loads((fixture / "checkout_session_expired.json").read_bytes())
    data["livemode"] = data["data"]["object"]["livemode"] = False
    body = json.dumps(data).encode()
    t0 = datetime.fromtimestamp(data["created"], UTC)
    env["RECLAIM_SMTP_URL"] = "smtp://127.0.0.1:1"  # email is configured; consent says no
    run(["init"], env)
    rt = bootstrap(Settings(database_url=env["RECLAIM_DATABASE_URL"]), clock=lambda: t0)
    try:
        stripe = make_store(rt, "Stripe shop", platform="stripe")
        custom = make_store(rt, "Own site", platform="custom")
        c = client(rt)
        r = c.post(f"/webhooks/stripe/{stripe.id}", content=body, headers=stripe_headers(body, t0))
        assert r.status_code == 200
        later = checkout_event(t0 + timedelta(hours=2), checkout_id="k2", email="b@example.de")
        assert post_events(c, custom.api_key, [checkout_event(t0), later]).status_code == 202
    finally:
        rt.close()

    def at(delta: timedelta) -> list[str]:
        return ["worker", "--once", "--now", (t0 + delta).isoformat()]

    first = " ".join(run(at(timedelta(minutes=31)), env).stdout.split())
    assert "3 processed (1 of them in test mode: kept, but tests open no case)" in first, first
    assert "1 opened, 1 not opened (test mode 1)" in first, first
    stats = " ".join(run(["inbox", "stats"], env).stdout.split())
    assert "of which test mode (kept, no case) │ 1" in stats, stats
    assert as_json(["inbox", "stats"], env) == {"processed": 3, "test_mode": 1}
    failed = " ".join(run(["inbox", "failed"], env).stdout.split())
    assert "not failures: 1 deliveries in test mode" in failed, failed

    second = " ".join(run(at(timedelta(hours=2)), env).stdout.split())
    assert "messages: 0 sent; steps: 1 skipped" in second, second
    assert "why steps sent nothing: no consent (EU rules need an opt-in) 1" in second, second
    third = as_json(at(timedelta(hours=4)), env)
    assert (third["cases_opened"], third["steps_skipped"]) == (1, 1), third
    assert third["step_reasons"] == {"consent_eu_marketing_needs_opt_in": 1}
    assert (third["processed_test_mode"], third["skipped_reasons"]) == (0, {})
