"""``reclaim customer export|erase``, ``reclaim audit list`` and keys' expiry as an operator
runs them: real processes on the embedded SQLite database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import checkout_event, cli_env, client, order_event, post_events
from helpers import run_cli as run
from reclaim.bootstrap import bootstrap
from reclaim.config import Settings
from reclaim.services.ingest import process_inbox

ANA = "ana.quorvath@example.com"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "privacy.sqlite3")


def flat(text: str) -> str:
    return " ".join(text.split())


def _shop(env: dict[str, str]) -> dict[str, str]:
    """A store with Ana's cart and order, sent through the events API."""
    run(["init"], env)
    store: dict[str, str] = json.loads(
        run(
            ["store", "add", "--name", "Shop", "--platform", "custom", "--currency", "EUR",
             "--timezone", "Europe/Paris", "--domain", "shop.example", "--json"],
            env,
        ).stdout
    )  # fmt: skip
    rt = bootstrap(Settings(database_url=env["RECLAIM_DATABASE_URL"]))
    try:
        now = rt.clock()
        events = [
            checkout_event(now, email=ANA, last_name="Quorvath"),
            order_event("order.created", now, order_id="o9", email=ANA),
        ]
        assert post_events(client(rt), store["api_key"], events).status_code == 202
        process_inbox(uow=rt.uow(), connectors=rt.connectors, now=now)
    finally:
        rt.close()
    return store


def test_a_customer_is_exported_then_erased_once(env: dict[str, str], tmp_path: Path) -> None:
    store = _shop(env)
    out = tmp_path / "ana.json"
    shown = run(
        ["customer", "export", "--store", store["id"], "--email", ANA, "--out", str(out)], env
    )
    assert f"written to {out}" in flat(shown.stderr)
    found = json.loads(out.read_text(encoding="utf-8"))
    assert [c["external_id"] for c in found["checkouts"]] == ["c1"]
    assert [o["external_id"] for o in found["orders"]] == ["o9"]
    assert len(found["deliveries"]) == 2

    asked = [sys.executable, "-m", "reclaim", "customer", "erase", "--store", store["id"]]
    kept = subprocess.run(
        [*asked, "--email", ANA], env=env, input="n\n", capture_output=True, text=True, check=False
    )
    assert kept.returncode == 1 and "cannot be undone" in kept.stderr  # asked, and refused
    erased = json.loads(
        run(
            ["customer", "erase", "--store", store["id"], "--email", ANA, "--yes", "--json"], env
        ).stdout
    )
    assert erased["already"] is False and erased["deleted"]["checkouts"] == 1
    assert erased["deliveries_rewritten"] == 2 and erased["subject"].startswith("hash:")
    again = run(["customer", "erase", "--store", store["id"], "--email", ANA.upper(), "--yes"], env)
    assert "already erased" in again.stdout and "nothing changed" in again.stdout

    unknown = run(
        ["customer", "erase", "--store", store["id"], "--email", "zoe@example.com", "--yes"],
        env,
        ok=False,
    )
    assert unknown.returncode == 2 and "no customer" in flat(unknown.stderr)
    assert "Traceback" not in unknown.stderr
    bad = run(["customer", "export", "--store", store["id"], "--email", "zoe"], env, ok=False)
    assert bad.returncode == 2 and "--email" in bad.stderr and "Traceback" not in bad.stderr
    gone = run(["customer", "export", "--store", store["id"], "--email", ANA], env)
    assert json.loads(gone.stdout)["checkouts"] == []

    log = json.loads(run(["audit", "list", "--store", store["id"], "--json"], env).stdout)
    assert [e["action"] for e in log] == [
        "customer.export",
        "customer.erase",
        "customer.export",
        "key.add",
        "store.add",
    ]
    assert all(e["actor"].startswith("cli:") for e in log)
    assert ANA not in json.dumps(log) and "quorvath" not in json.dumps(log).lower()
    table = run(["audit", "list", "--store", store["id"]], env).stdout
    assert "customer.erase" in table and "hash:" in table and "cli:" in table


def test_secrets_are_masked_in_the_audit_log(env: dict[str, str]) -> None:
    store = _shop(env)
    run(["store", "set", store["id"], "--platform-api-token", "shpat_verysecret"], env)
    [entry] = [
        e
        for e in json.loads(run(["audit", "list", "--json"], env).stdout)
        if e["action"] == "store.set"
    ]
    assert entry["after"] == {"platform_api_token": "***"}
    assert entry["before"] == {"platform_api_token": None}
    assert "verysecret" not in run(["audit", "list"], env).stdout
    added = json.loads(run(["store", "add", "--name", "Shop 2", "--platform", "shopify",
                            "--currency", "EUR", "--timezone", "Europe/Paris", "--domain",
                            "two.example", "--webhook-secret", "whsec_topsecret1",
                            "--json"], env).stdout)  # fmt: skip
    [made] = json.loads(run(["audit", "list", "--store", added["id"], "--json"], env).stdout)[1:]
    assert made["action"] == "store.add" and made["after"]["webhook_secret"] == "***"


def test_keys_expire_and_show_their_expiry_and_last_use(env: dict[str, str]) -> None:
    store = _shop(env)
    added = json.loads(
        run(["store", "key", "add", store["id"], "--scope", "admin", "--expires-in", "30",
             "--json"], env).stdout
    )  # fmt: skip
    assert added["scopes"] == ["admin"] and added["expires_at"]
    listed = {
        k["prefix"]: k
        for k in json.loads(run(["store", "key", "list", store["id"], "--json"], env).stdout)
    }
    assert listed[added["prefix"]]["expires_at"] == added["expires_at"]
    first = store["api_key"].split("_")[1]
    assert listed[first]["last_used_at"] is not None  # it sent the events
    assert listed[first]["expires_at"] is None
    table = flat(run(["store", "key", "list", store["id"]], env).stdout)
    assert "expires" in table and "last used" in table and "never" in table
    dated = json.loads(
        run(["store", "key", "rotate", added["prefix"], "--expires-at", "2099-01-31", "--json"],
            env).stdout
    )  # fmt: skip
    assert dated["expires_at"].startswith("2099-01-31T00:00:00")
    both = run(["store", "key", "add", store["id"], "--expires-in", "3", "--expires-at",
                "2099-01-01"], env, ok=False)  # fmt: skip
    assert both.returncode == 2 and "not both" in flat(both.stderr)
    past = run(["store", "key", "add", store["id"], "--expires-at", "2001-01-01"], env, ok=False)
    assert past.returncode == 2 and "future" in flat(past.stderr)
