"""`reclaim demo` as a user runs it: the simulator's traffic over real HTTP into a real Reclaim.

Three real subprocesses (seed 3 twice, seed 4 once) run side by side; every test below reads
their output.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reclaim.entrypoints.demo import fresh_database
from reclaim.sim import SimConfig, build_plan

RECLAIM = [sys.executable, "-m", "reclaim"]
CUSTOMERS = 60
KINDS = ("abandoned_checkout", "pending_order", "failed_payment")
KEYS = {
    "checkouts",
    "orders",
    "payments",
    "cases",
    "deliveries",
    "recovered_orders",
    "recovered_revenue",
    "recovered_revenue_eur",
    "expected_cases",
    "mismatches",
    "database",
    "seed",
    "days",
    "filtered",
    "behaviour",
}


def start(tmp: Path, name: str, seed: int) -> tuple[subprocess.Popen[str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env["RECLAIM_CONFIG"] = str(tmp / "absent.toml")
    folder = tmp / name
    args = [
        "demo",
        "--json",
        "--dir",
        str(folder),
        "--customers",
        str(CUSTOMERS),
        "--seed",
        str(seed),
    ]
    proc = subprocess.Popen(
        RECLAIM + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return proc, folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("demo")
    procs = {
        "a": start(tmp, "a", 3),
        "b": start(tmp, "b", 3),
        "other": start(tmp, "other", 4),
    }
    out: dict[str, Any] = {}
    for name, (proc, folder) in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        out[name] = {"code": proc.returncode, "stdout": stdout, "stderr": stderr, "folder": folder}
    yield out


def summary(run: dict[str, Any]) -> dict[str, Any]:
    assert run["code"] == 0, run["stderr"]
    data: dict[str, Any] = json.loads(run["stdout"])
    return data


def without_path(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "database"}


def test_exits_zero_with_one_json_object_holding_every_key(runs: dict[str, Any]) -> None:
    data = summary(runs["a"])
    assert data.keys() >= KEYS
    assert (data["seed"], data["days"], data["customers"]) == (3, 3, CUSTOMERS)
    assert Path(data["database"]) == (runs["a"]["folder"] / "reclaim.sqlite3").resolve()
    assert set(data["cases"]) == set(KINDS) == set(data["expected_cases"])
    assert set(data["deliveries"]) == {"shopify", "woocommerce", "stripe", "custom"}
    for platform, d in data["deliveries"].items():
        assert d["rejected"] == d["bad_sent"] == 1, platform  # only the deliberately bad one
        assert d["events"] == d["accepted"] + d["duplicate"] + d["rejected"], platform
        assert d["duplicate"] >= d["retries_sent"], platform
    assert data["unexpected_answers"] == []
    assert all(isinstance(v, str) for v in data["recovered_revenue"].values())
    assert data["checkouts"]["total"] > CUSTOMERS  # sessions, returns, bots, staff, backlog
    assert data["worker"] == {**data["worker"], "runs": 3 * 96, "failed": 0}
    # The files next to the database: the summary, and the stores' API keys (private).
    folder = runs["a"]["folder"]
    assert json.loads((folder / "summary.json").read_text()) == data
    stores = json.loads((folder / "stores.json").read_text())
    assert sorted(s["platform"] for s in stores) == ["custom", "shopify", "stripe", "woocommerce"]
    assert all(s["api_key"].startswith("rk_") for s in stores)
    assert (folder / "stores.json").stat().st_mode & 0o077 == 0


def test_same_seed_same_summary_other_seed_other_summary(runs: dict[str, Any]) -> None:
    a, b, other = summary(runs["a"]), summary(runs["b"]), summary(runs["other"])
    assert without_path(a) == without_path(b)
    assert without_path(a) != without_path(other)
    assert a["cases"] != other["cases"] or a["checkouts"] != other["checkouts"]


def test_no_case_for_a_bot_or_a_test_order(runs: dict[str, Any]) -> None:
    """Checked on the database itself, against the plan's own bots and merchant staff."""
    data = summary(runs["a"])
    assert data["filtered"]["cases_for_bots_or_tests"] == 0
    plan = build_plan(SimConfig(customers=CUSTOMERS, seed=3))
    outsiders = {a.email.lower() for a in plan.actors if a.kind != "customer"}
    assert any(a.is_bot for a in plan.actors) and any(a.is_staff for a in plan.actors)
    with sqlite3.connect(data["database"]) as db:
        emails = {row[0] for row in db.execute("SELECT email FROM cases WHERE email IS NOT NULL")}
        ignored = dict(
            db.execute(
                "SELECT ignore_reason, count(*) FROM checkouts WHERE ignore_reason IS NOT NULL"
                " GROUP BY ignore_reason"
            ).fetchall()
        )
    assert emails and not emails & outsiders
    assert ignored.get("bot", 0) >= 1 and ignored.get("test", 0) >= 1


def test_pending_and_failed_payment_cases_match_the_ground_truth(runs: dict[str, Any]) -> None:
    for name in ("a", "other"):
        data = summary(runs[name])
        for kind in ("pending_order", "failed_payment"):
            assert data["cases"][kind] == data["expected_cases"][kind], (name, kind)
            m = data["mismatches"]
            assert (m["missing"][kind], m["unexpected"][kind], m["status"][kind]) == (0, 0, 0)


def test_checkout_cases_match_the_ground_truth_except_on_the_stripe_store(
    runs: dict[str, Any],
) -> None:
    """Shopify, WooCommerce and the custom site: exact. The Stripe store's known gaps are
    in docs/demo.md ("Mismatches found"); this keeps the other three honest meanwhile."""
    for name in ("a", "other"):
        data = summary(runs[name])
        details = data["mismatches"]["details"]
        assert len(details) == data["mismatches"]["total"] - data["mismatches"]["duplicate_cases"]
        assert [d for d in details if d["store"] != "stripe"] == [], name
        assert data["mismatches"]["missing"]["abandoned_checkout"] == 0, name
        assert data["mismatches"]["duplicate_cases"] == 0, name


def test_every_case_matches_the_ground_truth(runs: dict[str, Any]) -> None:
    for name in ("a", "other"):
        data = summary(runs[name])
        assert data["mismatches"]["total"] == 0, data["mismatches"]["details"]
        for kind in KINDS:
            assert data["cases"][kind] == data["expected_cases"][kind], (name, kind)


def test_an_earlier_demos_database_is_replaced_any_other_is_left_alone(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"
    first = fresh_database(earlier)
    first.write_bytes(b"old demo")
    again = fresh_database(earlier)
    assert again == first and not again.exists()  # removed; the simulation makes it anew

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "reclaim.sqlite3").write_bytes(b"a real database")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    p = subprocess.run(
        [*RECLAIM, "demo", "--dir", str(mine)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert p.returncode == 2
    assert "--dir" in p.stderr and "no demo created" in p.stderr
    assert (mine / "reclaim.sqlite3").read_bytes() == b"a real database"
