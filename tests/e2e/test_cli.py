"""The `reclaim` command as a user runs it: real subprocesses, a real server on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers import checkout_event, cli_env, run_cli
from reclaim.adapters.db import migrate

RECLAIM = [sys.executable, "-m", "reclaim"]
DEAD_REASON = "occurred_at is required"


def run(
    args: list[str], env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run_cli(args, env, ok=check)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "cli.sqlite3")


def add_store(env: dict[str, str]) -> dict[str, str]:
    p = run(
        ["store", "add", "--name", "Shop", "--platform", "custom", "--currency", "EUR",
         "--timezone", "Europe/Paris", "--domain", "shop.example", "--json"],
        env,
    )  # fmt: skip
    return json.loads(p.stdout)


def test_init_store_add_and_list(env: dict[str, str]) -> None:
    assert f"revision {migrate.head_revision()}" in run(["init"], env).stdout
    created = add_store(env)
    assert created["id"].startswith("st_") and created["api_key"].startswith("rk_")
    listed = json.loads(run(["store", "list", "--json"], env).stdout)
    assert [(s["id"], s["name"], s["currency"]) for s in listed] == [(created["id"], "Shop", "EUR")]


def test_bad_input_names_the_field_and_exits_non_zero(env: dict[str, str]) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    p = run(
        ["store", "add", "--name", "Shop", "--platform", "shopify", "--currency", "EURO",
         "--timezone", "Europe/Paris", "--domain", "shop.example", "--webhook-secret", "longenough"],
        env, check=False,
    )  # fmt: skip
    assert p.returncode == 2
    assert "currency" in p.stderr and "Traceback" not in p.stderr
    p = run(
        ["store", "add", "--name", "Shop", "--platform", "shopify", "--currency", "EUR",
         "--timezone", "Mars/Olympus", "--domain", "shop.example", "--webhook-secret", "longenough"],
        env, check=False,
    )  # fmt: skip
    assert p.returncode == 2 and "timezone" in p.stderr
    p = run(["worker", "--once", "--now", "yesterday"], env, check=False)
    assert p.returncode == 2 and "ISO 8601" in p.stderr


def test_bad_configuration_names_the_variable(env: dict[str, str]) -> None:
    p = run(["init"], {**env, "RECLAIM_DATABASE_URL": "mysql://x"}, check=False)
    assert p.returncode == 2 and "RECLAIM_DATABASE_URL" in p.stderr
    p = run(["init"], {**env, "RECLAIM_SECRET_KEY": "short"}, check=False)
    assert p.returncode == 2 and "RECLAIM_SECRET_KEY" in p.stderr
    assert "short" not in p.stderr.replace(
        "RECLAIM_SECRET_KEY", ""
    )  # the secret itself is never echoed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_accepts_events_and_its_worker_processes_them(env: dict[str, str]) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    store = add_store(env)
    port = _free_port()
    server = subprocess.Popen(
        [*RECLAIM, "serve", "--port", str(port)], env={**env, "RECLAIM_WORKER_POLL_SECONDS": "0.2"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not become ready")
        from datetime import UTC, datetime

        body = checkout_event(datetime.now(UTC), checkout_id="live-1")
        r = httpx.post(
            f"{base}/api/v1/events",
            json=body,
            headers={"Authorization": f"Bearer {store['api_key']}"},
        )
        assert r.status_code == 202 and r.json()["accepted"] == 1
        for _ in range(50):
            stats = json.loads(run(["inbox", "stats", "--json"], env).stdout)
            if stats == {"processed": 1}:
                break
            time.sleep(0.2)
        assert stats == {"processed": 1}
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_worker_once_at_a_given_instant_and_dead_letter_replay(env: dict[str, str]) -> None:
    run(["init"], env)  # only `reclaim init` creates a database
    store = add_store(env)
    from datetime import UTC, datetime, timedelta

    # The store was activated just now, so events must be from after that.
    t0 = datetime.now(UTC) + timedelta(minutes=1)
    # Events go in through the API app (in a child process, like a custom site would post).
    script = (
        "import json,sys\n"
        "from fastapi.testclient import TestClient\n"
        "from reclaim.bootstrap import bootstrap\n"
        "from reclaim.config import load_settings\n"
        "from reclaim.entrypoints.api import create_app\n"
        "c = TestClient(create_app(bootstrap(load_settings())))\n"
        "r = c.post('/api/v1/events', content=sys.stdin.read(), headers={'Authorization': 'Bearer ' + sys.argv[1]})\n"
        "print(r.status_code)\n"
    )
    events = [checkout_event(t0, checkout_id="k1"), {"type": "order.paid", "data": {}}]
    p = subprocess.run([sys.executable, "-c", script, store["api_key"]], input=json.dumps(events),
                       env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert p.stdout.strip() == "422", p.stderr
    before = json.loads(
        run(
            ["worker", "--once", "--now", (t0 + timedelta(minutes=29)).isoformat(), "--json"], env
        ).stdout
    )
    assert (before["processed"], before["cases_opened"]) == (1, 0)
    after = json.loads(
        run(
            ["worker", "--once", "--now", (t0 + timedelta(minutes=30)).isoformat(), "--json"], env
        ).stdout
    )
    assert after["cases_opened"] == 1
    dead = json.loads(run(["inbox", "failed", "--json"], env).stdout)
    assert len(dead) == 1
    assert dead[0]["error"] == DEAD_REASON
    assert "1 deliveries queued" in run(["inbox", "replay", "--id", str(dead[0]["id"])], env).stdout
    again = json.loads(
        run(
            ["worker", "--once", "--now", (t0 + timedelta(hours=1)).isoformat(), "--json"], env
        ).stdout
    )
    assert (again["processed"], again["failed"]) == (0, 1)
