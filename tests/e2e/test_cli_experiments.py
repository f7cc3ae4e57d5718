"""``reclaim experiment start|status|stop`` end to end (issue 15): real subprocesses on one
SQLite database; the JSON and the table, and every refusal as one line naming its option,
exit 2."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import cli_env, run_cli
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from report_history import make_store


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    path = tmp_path_factory.mktemp("experiments") / "reclaim.sqlite3"
    rt: Runtime = bootstrap(Settings(database_url=f"sqlite:///{path}"))
    init_database(rt)
    store_id = make_store(rt, "Lab")
    rt.close()
    yield path, store_id


def _run(shop: tuple[Path, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return run_cli(["experiment", *args], cli_env(shop[0], COLUMNS="200"), ok=ok)


def test_start_status_and_stop(shop: tuple[Path, str]) -> None:
    _, store_id = shop
    started = _run(
        shop,
        "start",
        "--store",
        store_id,
        "--kind",
        "abandoned_checkout",
        "--name",
        "offer",
        "--step",
        "incentive",
        "--variant",
        "A:2",
        "--variant",
        "B=incentive.value=15,after=48h",
        "--variant",
        "C=incentive=none",
        "--json",
    )
    made = json.loads(started.stdout)
    assert made["status"] == "running" and made["target"] == "incentive"
    assert [(v["key"], v["weight"], v["overrides"]) for v in made["variants"]] == [
        ("A", 2, {}),
        ("B", 1, {"incentive": {"value": "15"}, "after": "48h"}),
        ("C", 1, {"incentive": None}),
    ]
    assert [c["alpha"] for c in made["comparisons"]] == [0.025, 0.025]
    listed = json.loads(_run(shop, "status", "--store", store_id, "--json").stdout)
    assert [e["name"] for e in listed["experiments"]] == ["offer"]
    table = _run(shop, "status", "--store", store_id, "--name", "offer").stdout
    assert "offer" in table and "incentive.value" not in table  # overrides as the flow says
    assert "incentive={'value': '15'}" in table and "keep running" in table
    assert "97.5 % conf. sequence" in table
    flows = json.loads(
        run_cli(["flows", "list", "--store", store_id, "--json"], cli_env(shop[0])).stdout
    )
    ours = [f for f in flows if f["kind"] == "abandoned_checkout"]
    # the store's flow (still the active one) and the versions of B and C
    assert [(f["version"], f["active"]) for f in ours] == [(3, False), (2, False), (1, True)]
    stopped = json.loads(
        _run(shop, "stop", "--store", store_id, "--name", "offer", "--json").stdout
    )
    assert stopped["status"] == "stopped" and stopped["decision"] == "keep running"
    human = _run(shop, "stop", "--store", store_id, "--name", "offer").stdout
    assert "stopped" in human and "decision: keep running" in human
    # Both changes are in the audit log, by the CLI's user; stopping again adds nothing.
    audit = json.loads(
        run_cli(["audit", "list", "--store", store_id, "--json"], cli_env(shop[0])).stdout
    )
    ours = [e for e in audit if e["action"].startswith("experiment.")]
    assert [(e["action"], e["subject"]) for e in ours] == [
        ("experiment.stop", "experiment offer"),
        ("experiment.start", "experiment offer"),
    ]
    assert all(e["actor"].startswith("cli:") for e in ours)
    assert ours[0]["before"] == {"status": "running"} and ours[0]["after"] == {"status": "stopped"}
    assert [v["key"] for v in ours[1]["after"]["variants"]] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--variant", "A"], "--variant: an experiment has 2 to 8 variants"),
        (["--variant", "A", "--variant", "B=after=soon"], "--variant 'B': after must"),
        (["--variant", "A", "--variant", "B:x"], "--variant 'B': the weight"),
        (
            ["--variant", "A", "--variant", "B=colour=red"],
            "--variant 'B': 'colour' cannot be varied",
        ),
        (["--variant", "A", "--variant", "B=after"], "--variant 'B': 'after' is not FIELD=VALUE"),
        (["--variant", "A", "--variant", "B", "--step", "nudge"], "--step: the abandoned_checkout"),
        (["--variant", "A", "--variant", "B=flow=7"], "--variant 'B': an experiment of one step"),
    ],
    ids=[
        "one variant",
        "bad duration",
        "bad weight",
        "unknown field",
        "no value",
        "no step",
        "flow and step",
    ],
)
def test_a_refusal_is_one_line_and_exit_2(
    shop: tuple[Path, str], args: list[str], phrase: str
) -> None:
    _, store_id = shop
    base = ["start", "--store", store_id, "--kind", "abandoned_checkout", "--name", "bad"]
    if "--step" not in args:
        base += ["--step", "reminder"]
    p = _run(shop, *base, *args, ok=False)
    assert p.returncode == 2, p.stdout + p.stderr
    said = " ".join(p.stderr.split())
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert said.startswith("error:") and phrase in said, said
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_names_and_stores_that_do_not_exist(shop: tuple[Path, str]) -> None:
    _, store_id = shop
    for args, phrase in (
        (["status", "--store", "st_nosuchstore0"], "no store"),
        (["stop", "--store", store_id, "--name", "nothing"], "no experiment named 'nothing'"),
    ):
        p = _run(shop, *args, ok=False)
        assert p.returncode == 2 and phrase in " ".join(p.stderr.split()), p.stderr
    a = ["start", "--store", store_id, "--kind", "pending_order", "--name", "twice"]
    _run(shop, *a, "--variant", "A", "--variant", "B")
    again = _run(shop, *a, "--variant", "A", "--variant", "B", ok=False)
    assert again.returncode == 2 and "named 'twice' already" in " ".join(again.stderr.split())
