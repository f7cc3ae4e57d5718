"""`reclaim demo` and `reclaim sim` as a user runs them: the simulator's traffic over real HTTP
into a real Reclaim, whose worker sends real emails to a real SMTP server, whose customers
open, click, unsubscribe and buy.

Three real subprocesses run side by side (seed 4 twice, seed 3 once, smaller); most tests
below read their output. Seed 4 simulates 3 days of 200 customers with half of the cases held
out and an audience 8 times as responsive as the demo's (``--response-scale 8``), so that the
true effect (about 25 percentage points) is well over the half-width of the lift's interval:
"the lift is within its interval of the true effect" is then a real check, which a Reclaim
that recovered nothing through its messages, or a biased holdout, would fail. Of the 8 seeds
tried at this size, 7 pass; seed 1 has an unlucky split whose interval misses, as 1 in 20 must.
"""

from __future__ import annotations

import html
import json
import os
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from reclaim.domain.outcomes import consent_label, not_sent_label, step_words
from reclaim.entrypoints.demo import fresh_database
from reclaim.sim import SimConfig, build_plan

RECLAIM = [sys.executable, "-m", "reclaim"]
CUSTOMERS, DAYS, HOLDOUT, SCALE = 200, 3, 0.5, 8
OTHER_CUSTOMERS = 80  # the other seed's run, smaller: it is not measured for the lift
KINDS = ("abandoned_checkout", "pending_order", "failed_payment")
KEYS = {
    "checkouts",
    "orders",
    "payments",
    "cases",
    "messages",
    "deliveries",
    "recovered_orders",
    "recovered_revenue",
    "recovered_revenue_eur",
    "lift",
    "lift_ci",
    "true_effect",
    "reports",
    "truth",
    "console",
    "expected_cases",
    "mismatches",
    "comparison",
    "expected_recovered_orders",
    "expected_recovered_revenue",
    "expected_recovered_revenue_eur",
    "checks",
    "outcome_disagreements",
    "database",
    "seed",
    "days",
    "filtered",
    "behaviour",
}
VARIABLE = ("database", "reports", "truth", "console")  # paths: the only keys that differ between runs


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLAIM_")}
    env["RECLAIM_CONFIG"] = str(tmp / "absent.toml")
    return env


def start(
    tmp: Path,
    name: str,
    seed: int,
    customers: int = CUSTOMERS,
    days: int = DAYS,
    *,
    as_json: bool = True,
) -> tuple[subprocess.Popen[str], Path]:
    folder = tmp / name
    args = [
        "demo",
        *(["--json"] if as_json else []),
        "--no-serve",
        "--dir",
        str(folder),
        "--customers",
        str(customers),
        "--days",
        str(days),
        "--seed",
        str(seed),
        "--holdout",
        str(HOLDOUT),
        "--response-scale",
        str(SCALE),
    ]
    proc = subprocess.Popen(
        RECLAIM + args,
        env={**clean_env(tmp), "COLUMNS": "200"},  # the tables as wide as they like
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("demo")
    procs = {
        "a": start(tmp, "a", 4),
        "b": start(tmp, "b", 4),
        "other": start(tmp, "other", 3, customers=OTHER_CUSTOMERS, days=2),
        # what a person sees: the tables, not the JSON (its summary.json is next to them)
        "console": start(tmp, "console", 3, customers=OTHER_CUSTOMERS, days=2, as_json=False),
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


def both(runs: dict[str, Any]) -> list[dict[str, Any]]:
    return [summary(runs["a"]), summary(runs["other"])]


def test_exits_zero_with_one_json_object_holding_every_key(runs: dict[str, Any]) -> None:
    data = summary(runs["a"])
    assert data.keys() >= KEYS
    assert (data["seed"], data["days"], data["customers"]) == (4, DAYS, CUSTOMERS)
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
    assert data["worker"] == {**data["worker"], "runs": DAYS * 96, "failed": 0}
    assert isinstance(data["lift"], float) and len(data["lift_ci"]) == 2
    assert data["messages"]["total"] == sum(
        sum(v.values()) for v in data["messages"]["by_channel"].values()
    )
    # The files next to the database: the summary, the report, the stores' API keys (private).
    folder = runs["a"]["folder"]
    assert json.loads((folder / "summary.json").read_text()) == data
    assert Path(data["truth"]) == (folder / "truth.html").resolve()
    assert {k: Path(v) for k, v in data["reports"].items()} == {
        k: (folder / "reports" / f"{k}.html").resolve()
        for k in ("custom", "shopify", "stripe", "woocommerce")
    }
    stores = json.loads((folder / "stores.json").read_text())
    assert sorted(s["platform"] for s in stores) == ["custom", "shopify", "stripe", "woocommerce"]
    assert all(s["api_key"].startswith("rk_") for s in stores)
    assert (folder / "stores.json").stat().st_mode & 0o077 == 0


def test_the_report_is_one_self_contained_html_file_with_three_charts(
    runs: dict[str, Any],
) -> None:
    data = summary(runs["a"])
    page = Path(data["truth"]).read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count("<svg ") == 3
    outside = set(re.findall(r"(?:https?:)?//[\w.-]+", page)) - {"http://www.w3.org"}
    assert outside == set()  # no fonts, scripts, images or styles from anywhere
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert f"{data['true_effect'] * 100:+.1f} points" in page


def test_each_store_s_report_is_the_product_s_own_report_over_the_simulated_days(
    runs: dict[str, Any],
) -> None:
    """Issue 15: the demo tells its story with ``reclaim report``'s page, the same bytes the
    command draws for the store over the simulated days as of the simulation's end; the truth
    page links to each."""
    data = summary(runs["a"])
    folder = runs["a"]["folder"]
    stores = {s["platform"]: s["id"] for s in json.loads((folder / "stores.json").read_text())}
    end = data["end"]
    for platform, path in data["reports"].items():
        page = Path(path).read_text(encoding="utf-8")
        assert "Lift: messaged minus held-out recovery rate" in page, platform
        assert f"href='reports/{platform}.html'" in Path(data["truth"]).read_text("utf-8")
    # one store drawn again by the command (Berlin: its local days are the UTC dates here)
    env = {**clean_env(folder), "RECLAIM_DATABASE_URL": f"sqlite:///{data['database']}"}
    proc = subprocess.run(
        [
            *RECLAIM,
            "report",
            "--store",
            stores["shopify"],
            "--format",
            "html",
            "--now",
            end,
            "--from",
            data["start"][:10],
            "--to",
            _next_day(end[:10]),
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == Path(data["reports"]["shopify"]).read_text(encoding="utf-8")


def _next_day(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def test_same_seed_same_summary_other_seed_other_summary(runs: dict[str, Any]) -> None:
    a, b, other = summary(runs["a"]), summary(runs["b"]), summary(runs["other"])
    strip = lambda d: {k: v for k, v in d.items() if k not in VARIABLE}  # noqa: E731
    assert strip(a) == strip(b)  # emails, clicks and purchases included
    assert strip(a) != strip(other)
    assert a["messages"]["total"] > 0 and a["customers_did"]["opens"] > 0


def test_every_case_the_simulator_knows_of_was_opened_and_ended_as_it_should(
    runs: dict[str, Any],
) -> None:
    for data in both(runs):
        m = data["mismatches"]
        assert m["total"] == 0, m["details"]
        assert (m["missing"], m["unexpected"]) == ({k: 0 for k in KINDS}, {k: 0 for k in KINDS})
        for kind in KINDS:
            assert data["cases"][kind] == data["expected_cases"][kind], kind
        # the ground truth saw messages at work: cases recovered because a customer was
        # persuaded, and pending orders whose hold ran out
        assert sum(data["customers_did"]["bought_because_of_a_message"].values()) > 0


def test_every_compared_figure_shows_reclaim_the_truth_and_their_difference(
    runs: dict[str, Any],
) -> None:
    """Issue 14: the table said 0 mismatches with 81 recovered orders against the truth's 82.
    Every figure compared with the truth has its difference, and the mismatch count counts
    every figure that differs as well as every case."""
    for data in both(runs):
        rows = data["comparison"]
        names = [r["figure"] for r in rows]
        assert len(names) == len(set(names))
        assert {
            "deliveries refused",
            *(f"cases: {k.replace('_', ' ')}" for k in KINDS),
            "cases recovered",
            "recovered orders",
            "recovered revenue (EUR, demo rates)",
            *(f"recovered revenue in {c}" for c in data["recovered_revenue"]),
            "emails that should not have gone",
            "cases that ended otherwise than the simulator decided",
        } <= set(names)
        for r in rows:
            assert r.keys() == {"figure", "reclaim", "truth", "difference"}, r
            mine, truth = Decimal(str(r["reclaim"])), Decimal(str(r["truth"]))
            assert Decimal(str(r["difference"])) == mine - truth, r
        m = data["mismatches"]
        assert m["figures"] == sum(Decimal(str(r["difference"])) != 0 for r in rows)
        assert m["total"] == m["cases"] + m["figures"]
        assert m["total"] == 0, [r for r in rows if Decimal(str(r["difference"])) != 0]
        assert data["recovered_orders"] == data["expected_recovered_orders"]
        assert data["recovered_revenue_eur"] == data["expected_recovered_revenue_eur"]
    page = Path(summary(runs["a"])["truth"]).read_text(encoding="utf-8")
    assert "<th class=n>difference</th>" in page and "<td>recovered orders</td>" in page


def test_no_case_for_a_bot_or_a_test_order(runs: dict[str, Any]) -> None:
    """Checked on the database itself, against the plan's own bots and merchant staff."""
    data = summary(runs["a"])
    assert data["filtered"]["cases_for_bots_or_tests"] == 0
    plan = build_plan(SimConfig(customers=CUSTOMERS, days=DAYS, seed=4))
    outsiders = {a.email.lower() for a in plan.actors if a.kind != "customer"}
    assert any(a.is_bot for a in plan.actors) and any(a.is_staff for a in plan.actors)
    with sqlite3.connect(data["database"]) as db:
        emails = {row[0] for row in db.execute("SELECT email FROM cases WHERE email IS NOT NULL")}
        recipients = {row[0].lower() for row in db.execute("SELECT recipient FROM messages")}
    assert emails and not emails & outsiders
    assert recipients and not recipients & outsiders


def test_no_customer_who_paid_was_messaged_afterwards(runs: dict[str, Any]) -> None:
    """Each email, as it arrived, was about a case still open in the ground truth (which
    learns every payment when Reclaim does); none arrived after its case was recovered."""
    for data in both(runs):
        checks, did = data["checks"], data["customers_did"]
        assert checks["after_payment"] == 0, checks["details"]
        assert (checks["after_cancelled"], checks["after_lost"], checks["no_case"]) == (0, 0, 0)
        assert checks["total"] == 0, checks["details"]
        # every email was read and checked, and customers did pay between steps
        assert (
            did["emails_read"] == data["messages"]["emails_received"] == data["messages"]["total"]
        )
        assert data["messages"]["total"] > 10
        assert sum(did["bought_because_of_a_message"].values()) > 0


def test_no_customer_without_consent_got_a_marketing_message(runs: dict[str, Any]) -> None:
    for data in both(runs):
        assert data["checks"]["marketing_without_consent"] == 0
        refused = {
            k: v for k, v in data["messages"]["step_outcomes"].items() if k.startswith("consent_")
        }
        assert sum(refused.values()) > 5, refused  # Reclaim did hold marketing back
        assert data["checks"]["after_unsubscribe"] == 0


def test_links_lead_to_the_stores_and_unsubscribing_works(runs: dict[str, Any]) -> None:
    for data in both(runs):
        checks, did = data["checks"], data["customers_did"]
        assert checks["redirect_offsite"] == checks["pixel_failed"] == 0
        assert (checks["unsubscribe_page"], checks["unsubscribe_failed"]) == (0, 0)
        assert did["opens"] > 3 and did["restore_clicks"] > 0


def test_each_case_ended_as_its_potential_outcome_says(runs: dict[str, Any]) -> None:
    """Messaged cases end as their "with messages" outcome, held-out ones as "without"."""
    for data in both(runs):
        d = data["outcome_disagreements"]
        assert d["total"] == 0, d["details"]
        po = data["potential_outcomes"]
        # every case of the world without messages was opened, or never needed to be: the
        # customer had bought (because of a message about another case) before it was due
        assert po["missing"] == 0
        assert po["cases"] - po["prevented"] == sum(data["cases"][k]["total"] for k in KINDS)
        assert po["recovered_with_messages"] > po["recovered_without_messages"]
        did = data["customers_did"]
        assert (did["persuaded_too_late"], did["persuaded_by_another_step"]) == (0, 0)


def test_the_lift_is_within_its_interval_of_the_true_effect(runs: dict[str, Any]) -> None:
    for data in (summary(runs["a"]),):
        low, high = data["lift_ci"]
        truth = data["true_effect"]
        assert low <= data["lift"] <= high
        assert low <= truth <= high, (data["seed"], data["lift"], data["lift_ci"], truth)
        # a real check: the interval is narrow next to the effect, and excludes no effect
        assert truth > 0.15 and high - low < 0.4 and low > 0
        held = data["holdout"]["cases"] / (data["holdout"]["cases"] + data["messaged"]["cases"])
        assert 0.35 < held < 0.65  # --holdout 0.5, by Reclaim's hash


# -- in a store owner's words (issue 14) -----------------------------------------------------------

JARGON = (r"\bpp\b", r"\bCI\b", r"SPEC", r"(?i)potential")


def console(runs: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """What ``reclaim demo`` printed (tables), its summary.json, and its report's text."""
    run = runs["console"]
    assert run["code"] == 0, run["stderr"]
    folder = run["folder"]
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text())
    page = (folder / "truth.html").read_text(encoding="utf-8")
    return run["stdout"], data, page


def flat(text: str) -> str:
    """The tables' cells in one line: rules, borders and runs of spaces as one space."""
    return " ".join(re.sub(r"[│┃┏┓┗┛┡┩└┘┌┐├┤┼╇╈╋━─┳┻┬┴]", " ", text).split())


def test_the_demo_says_it_in_a_store_owners_words(runs: dict[str, Any]) -> None:
    """Issue 14: "'pp', 'CI', 'SPEC S2's rules, replayed', 'outcomes off their potential'
    mean nothing to a store owner". None of them in the console, the report's text, or the
    summary's human-facing strings; the lift says how many points higher, and the interval
    how sure we are."""
    stdout, data, page = console(runs)
    words = html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S))
    human = [r["figure"] for r in data["comparison"]]
    none = data.get("no_message", {})
    human += [f"{r['label']} {r['detail']}" for r in none.get("reasons", [])]
    human += [f"{r['label']} {r['detail']}" for r in none.get("held_back", [])]
    for where, text in (("console", stdout), ("report", words), ("summary", "\n".join(human))):
        for jargon in JARGON:
            found = re.search(jargon, text)
            assert found is None, (where, jargon, text[max(found.start() - 80, 0) :][:160])
    low, high = (round(x * 100, 1) for x in data["lift_ci"])
    for text in (flat(stdout), " ".join(words.split())):
        assert f"{data['lift'] * 100:+.1f} points" in text
        assert f"we are 95 % sure the true lift is between {low:+.1f} and {high:+.1f} points" in (
            text
        )


def test_the_demo_says_why_cases_got_no_message(runs: dict[str, Any]) -> None:
    """Issue 14: why cases got no message was only in summary.json. The console and the report
    show it, by reason in plain words, with the counts of summary.json and of the database."""
    stdout, data, page = console(runs)
    text, report = flat(stdout), " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "Why some cases got no message" in text and "Why some cases got no message" in report
    none = data["no_message"]
    with sqlite3.connect(data["database"]) as db:
        silent = db.execute(
            "SELECT count(*) FROM cases c WHERE NOT EXISTS"
            " (SELECT 1 FROM messages m WHERE m.case_id = c.id)"
        ).fetchone()[0]
    assert none["cases"] == silent > 0
    assert sum(none["by_reason"].values()) == silent
    assert none["by_reason"]["holdout"] == data["holdout"]["cases"] > 0  # every one held out
    for code, n in none["by_reason"].items():
        label = not_sent_label(code)
        assert f"{label} {n} " in text, (label, n)
        assert f"{label} {n} " in report, (label, n)
    # the messages held back along the way: consent by rule (EU shoppers without an opt-in
    # …), quiet hours, the frequency cap, with the worker's own counts
    outcomes = data["messages"]["step_outcomes"]
    consent = {k: v for k, v in outcomes.items() if k.startswith("consent_")}
    assert sum(consent.values()) > 0
    assert f"{not_sent_label('consent')} {sum(consent.values())} " in text
    for outcome, n in consent.items():
        assert f"{consent_label(outcome)} {n}" in text, outcome
        assert f"{consent_label(outcome)} {n}" in report, outcome
    for outcome in ("waiting_quiet_hours", "waiting_frequency_cap"):
        if outcomes.get(outcome):
            label = not_sent_label(step_words(outcome).code)
            assert f"{label} {outcomes[outcome]} " in text, outcome


def test_an_earlier_demos_database_is_replaced_any_other_is_left_alone(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier"
    first = fresh_database(earlier)
    first.write_bytes(b"old demo")
    again = fresh_database(earlier)
    assert again == first and not again.exists()  # removed; the simulation makes it anew

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "reclaim.sqlite3").write_bytes(b"a real database")
    p = subprocess.run(
        [*RECLAIM, "demo", "--dir", str(mine)],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert p.returncode == 2
    assert "--dir" in p.stderr and "no demo created" in p.stderr
    assert (mine / "reclaim.sqlite3").read_bytes() == b"a real database"


# -- serving, and watching live -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lines_of(stream: IO[str]) -> queue.Queue[str]:
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            q.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_for(q: queue.Queue[str], pattern: str, seen: list[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if re.search(pattern, line):
            return line
    raise AssertionError(f"never printed {pattern!r}: {''.join(seen)[-2000:]}")


def test_the_demo_serves_its_data_until_interrupted(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "served"
    args = ["demo", "--dir", str(folder), "--customers", "20", "--days", "1", "--port", str(port)]
    proc = subprocess.Popen(
        [*RECLAIM, *args],
        env={**clean_env(tmp_path), "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    try:
        out, seen = lines_of(proc.stdout), []
        wait_for(out, r"Serving the demo's data", seen)
        signin = wait_for(out, rf"console: http://127.0.0.1:{port}/console +sign in as ", seen)
        email, password = re.search(r"sign in as (\S+), password (\S+)", signin).groups()  # type: ignore[union-attr]
        wait_for(out, rf"curl -H 'Authorization: Bearer rk_\S+' http://127.0.0.1:{port}/api", seen)
        key = json.loads((folder / "stores.json").read_text())[0]["api_key"]
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # the server starts listening just after it says so
            try:
                r = httpx.get(f"{base}/api/v1/cases", headers={"Authorization": f"Bearer {key}"})
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert r.status_code == 200 and "cases" in r.json()
        assert httpx.get(f"{base}/api/v1/cases").status_code == 401
        # The console it prints takes the sign-in it prints.
        with httpx.Client(base_url=base) as browser:
            form = browser.get("/console/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
            login = {"email": email, "password": password, "csrf": token}
            assert browser.post("/console/login", data=login).status_code == 303
            assert browser.get("/console/dashboard").status_code == 200
        assert json.loads((folder / "console.json").read_text())["email"] == email
        assert any("reports/shopify.html" in line for line in seen)
        assert any("truth.html" in line for line in seen)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0


def test_sim_in_real_time_can_be_watched_through_the_api(tmp_path: Path) -> None:
    """``--realtime --speed 20000``: a simulated day in about 4 s, the API on a fixed port."""
    port = free_port()
    args = ["sim", "--days", "1", "--customers", "15", "--seed", "2", "--json", "--realtime"]
    args += ["--speed", "20000", "--port", str(port), "--dir", str(tmp_path / "rt")]
    proc = subprocess.Popen(
        [*RECLAIM, *args],
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        err, seen = lines_of(proc.stderr), []
        line = wait_for(err, rf"Bearer rk_\S+' http://127.0.0.1:{port}/api/v1/cases", seen)
        key = line.split("Bearer ", 1)[1].split("'", 1)[0]
        r = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/cases", headers={"Authorization": f"Bearer {key}"}
        )
        assert r.status_code == 200  # while the simulation runs
        stdout = proc.stdout.read()
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0
    data = json.loads(stdout)
    assert (data["days"], data["customers"], data["mismatches"]["total"]) == (1, 15, 0)
    assert data["worker"]["runs"] == 96
