"""Operators' suppression lists (SPEC S5), on SQLite and PostgreSQL: look an address up, add
one (its flows stop and nothing more is sent), take it off, import a list from another tool
(addresses or their SHA-256 hashes); addresses travel in bodies, never in URLs."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from helpers import MONDAY, checkout_event, client, make_store, post_events
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.cli import main
from reclaim.entrypoints.worker import run_once
from reclaim.sim.mailbox import Mailbox

T0 = MONDAY  # 10:00 in Berlin


@pytest.fixture
def rt(mail_rt: Runtime) -> Runtime:
    return mail_rt


def call(c: TestClient, key: str, path: str, body: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return c.post(path, content=raw, headers={"Authorization": f"Bearer {key}"})


def test_an_address_added_by_the_operator_gets_nothing_more(rt: Runtime, box: Mailbox) -> None:
    store = make_store(rt, postal_address="Boutique, Paris")
    c = client(rt)
    body = checkout_event(T0, email="Ana@Example.com", accepts_marketing=True)
    assert post_events(c, store.api_key, body).status_code == 202
    run_once(rt, T0 + timedelta(minutes=31))  # the case is open, its reminder due at 1 h
    who = {"channel": "email", "address": " ana@example.COM "}
    check = call(c, store.api_key, "/api/v1/suppressions/check", who)
    assert check.status_code == 200 and check.json() == {
        "suppressed": False,
        "reason": None,
        "since": None,
    }
    added = call(c, store.api_key, "/api/v1/suppressions", who)
    assert added.json() == {"suppressed": True, "new": True, "flows_stopped": 1}
    assert call(c, store.api_key, "/api/v1/suppressions", who).json()["new"] is False
    found = call(c, store.api_key, "/api/v1/suppressions/check", who).json()
    assert found == {"suppressed": True, "reason": "manual", "since": "2026-05-04T08:00:00Z"}
    run_once(rt, T0 + timedelta(hours=1))
    assert box.received == []
    removed = call(c, store.api_key, "/api/v1/suppressions/remove", who).json()
    assert removed == {"removed": True, "was": found}
    assert call(c, store.api_key, "/api/v1/suppressions/check", who).json()["suppressed"] is False
    again = call(c, store.api_key, "/api/v1/suppressions/remove", who).json()
    assert again["removed"] is False
    run_once(rt, T0 + timedelta(hours=2))
    assert box.received == []  # the stopped flow stays stopped


def test_bad_input_names_the_field(rt: Runtime) -> None:
    store = make_store(rt)
    c = client(rt)
    wrong = [
        ({"channel": "fax", "address": "x@y.example"}, "channel"),
        ({"channel": "email", "address": "no-at-sign"}, "address"),
        ({"channel": "sms", "address": "0151 2345"}, "address"),
        ({"channel": "email"}, "address"),
    ]
    for body, field in wrong:
        r = call(c, store.api_key, "/api/v1/suppressions/check", body)
        assert r.status_code == 422 and r.json()["field"] == field, (body, r.text)
    r = call(c, store.api_key, "/api/v1/suppressions", b"not json")
    assert r.status_code == 422 and "JSON" in r.text
    # A phone written with spaces and dashes is the same number.
    sms = {"channel": "sms", "address": "+49 151-2345 6789"}
    assert call(c, store.api_key, "/api/v1/suppressions", sms).json()["new"] is True
    plain = {"channel": "sms", "address": "+4915123456789"}
    assert call(c, store.api_key, "/api/v1/suppressions/check", plain).json()["suppressed"]


def test_a_list_from_another_tool_is_imported_from_the_cli(rt: Runtime, tmp_path: Path) -> None:
    store = make_store(rt)
    hashed = hashlib.sha256(b"hidden@example.org").hexdigest()
    good = tmp_path / "list.csv"
    good.write_text(
        "# exported 2026-04-30\nfirst@example.org,unsubscribed\n\nSecond@Example.org\n"
        f"{hashed.upper()}\n",
        encoding="utf-8",
    )
    env = {"RECLAIM_DATABASE_URL": rt.settings.database_url}
    args = ["suppressions", "import", "--store", store.id, str(good)]
    out = CliRunner().invoke(main, args, env=env)
    assert out.exit_code == 0, out.output
    assert "3 entries read, 3 new" in out.output
    assert "3 entries read, 0 new" in CliRunner().invoke(main, args, env=env).output
    for address in ("second@example.org", "hidden@example.org"):
        check = ["suppressions", "check", "--store", store.id, address]
        shown = CliRunner().invoke(main, check, env=env)
        assert shown.exit_code == 0 and "suppressed (imported)" in shown.output, shown.output
    bad = tmp_path / "bad.txt"
    bad.write_text("ok@example.org\nnot an address\n", encoding="utf-8")
    refused = CliRunner().invoke(main, [*args[:-1], str(bad)], env=env)
    assert refused.exit_code == 2 and "line 2" in refused.output
    check = ["suppressions", "check", "--store", store.id, "ok@example.org"]
    assert "not suppressed" in CliRunner().invoke(main, check, env=env).output  # all or nothing
    removed = ["suppressions", "remove", "--store", store.id, "first@example.org"]
    assert "removed (it was imported" in CliRunner().invoke(main, removed, env=env).output
    add = ["suppressions", "add", "--store", store.id, "first@example.org"]
    assert "added; 0 running flows stopped" in CliRunner().invoke(main, add, env=env).output
    assert "already suppressed" in CliRunner().invoke(main, add, env=env).output
    check = ["suppressions", "check", "--store", store.id, "first@example.org"]
    assert "suppressed (manual) since 2026" in CliRunner().invoke(main, check, env=env).output
