"""``reclaim store key add|list|revoke|rotate`` as an operator runs them: real processes on
the embedded SQLite database; the keys they print are then tried for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import cli_env
from helpers import run_cli as run
from reclaim.bootstrap import bootstrap
from reclaim.config import Settings
from reclaim.errors import AuthError
from reclaim.services.stores import authenticate


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "keys.sqlite3")


def flat(text: str) -> str:
    """Output as one line (the narrow terminal wraps messages)."""
    return " ".join(text.split())


def works(env: dict[str, str], token: str, scope: str = "events:write") -> bool:
    rt = bootstrap(Settings(database_url=env["RECLAIM_DATABASE_URL"]))
    try:
        authenticate(uow=rt.uow(), token=token, scope=scope, now=rt.clock())
        return True
    except AuthError:
        return False
    finally:
        rt.close()


def test_keys_are_added_listed_revoked_and_rotated(env: dict[str, str]) -> None:
    run(["init"], env)
    store = json.loads(
        run(
            ["store", "add", "--name", "Shop", "--platform", "custom", "--currency", "EUR",
             "--timezone", "Europe/Paris", "--domain", "shop.example", "--json"],
            env,
        ).stdout
    )  # fmt: skip
    first = store["api_key"].split("_")[1]

    added = json.loads(
        run(["store", "key", "add", store["id"], "--scope", "events:write", "--json"], env).stdout
    )
    assert set(added) == {"prefix", "api_key", "scopes"}
    assert added["scopes"] == ["events:write"]
    assert added["api_key"].startswith(f"rk_{added['prefix']}_")
    assert works(env, added["api_key"])
    shown = run(["store", "key", "add", store["id"]], env).stdout
    assert "shown once" in shown and "rk_" in shown

    bad = run(["store", "key", "add", store["id"], "--scope", "cases:delete"], env, ok=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "valid scopes: events:write, cases:read, cases:write" in flat(bad.stderr)

    listed = json.loads(run(["store", "key", "list", store["id"], "--json"], env).stdout)
    assert len(listed) == 3 and listed[0]["prefix"] == first
    assert {tuple(k["scopes"]) for k in listed} == {
        ("events:write",),
        ("events:write", "cases:read", "cases:write"),
    }
    assert all(k["revoked_at"] is None and "api_key" not in k for k in listed)
    table = run(["store", "key", "list", store["id"]], env).stdout
    for k in listed:
        assert k["prefix"] in table
    for secret in (store["api_key"], added["api_key"]):
        assert secret.split("_", 2)[2] not in table

    revoked = run(["store", "key", "revoke", first], env)
    assert first in revoked.stdout and "revoked" in revoked.stdout
    assert not works(env, store["api_key"])
    again = run(["store", "key", "revoke", store["api_key"]], env, ok=False)
    assert again.returncode == 2 and "revoked already" in flat(again.stderr)
    unknown = run(["store", "key", "revoke", "0badc0de"], env, ok=False)
    assert unknown.returncode == 2 and "no API key with prefix 0badc0de" in flat(unknown.stderr)

    rotated = json.loads(run(["store", "key", "rotate", added["api_key"], "--json"], env).stdout)
    assert rotated["revoked"] == added["prefix"] and rotated["scopes"] == ["events:write"]
    assert not works(env, added["api_key"]) and works(env, rotated["api_key"])
    after = {
        k["prefix"]: k
        for k in json.loads(run(["store", "key", "list", store["id"], "--json"], env).stdout)
    }
    assert after[first]["revoked_at"] and after[added["prefix"]]["revoked_at"]
    assert after[rotated["prefix"]]["revoked_at"] is None
    table = run(["store", "key", "list", store["id"]], env).stdout
    assert rotated["prefix"] in table and added["prefix"] in table
