"""``reclaim report`` end to end (issue 15): each format from a real subprocess over the
hand-built history of tests/report_history.py, and every refusal as one line and exit 2."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import cli_env, run_cli
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from report_history import NOW, build_history, make_store

AT = ["--now", NOW.isoformat()]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """A database with the history, and the ids of its store and of a store with no data."""
    path = tmp_path_factory.mktemp("report") / "reclaim.sqlite3"
    rt: Runtime = bootstrap(Settings(database_url=f"sqlite:///{path}"))
    init_database(rt)
    store_id = build_history(rt)
    empty = make_store(rt, "Empty")
    rt.close()
    yield path, store_id, empty


def _run(
    history: tuple[Path, str, str], *args: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    path, _, _ = history
    return run_cli(["report", *args], cli_env(path, COLUMNS="200"), ok=ok)


def test_json_is_the_reports_numbers(history: tuple[Path, str, str]) -> None:
    p = _run(history, "--store", history[1], "--period", "2026-11", "--format", "json", *AT)
    data = json.loads(p.stdout)
    assert data["recovered_revenue"] == "390.00" and data["currency"] == "EUR"
    assert data["period"]["from"] == "2026-11-01" and data["period"]["to"] == "2026-12-01"
    assert data["cases"]["abandoned_checkout"]["opened"] == 15
    assert (data["lift"]["messaged"], data["lift"]["holdout"]) == (14, 5)
    assert [s["stage"] for s in data["funnel"]] == [
        "cart",
        "checkout",
        "order",
        "paid",
        "shipped",
        "delivered",
    ]


def test_csv_holds_every_table(history: tuple[Path, str, str], tmp_path: Path) -> None:
    out = tmp_path / "november.csv"
    p = _run(
        history,
        "--store",
        history[1],
        "--period",
        "2026-11",
        "--format",
        "csv",
        "--out",
        str(out),
        *AT,
    )
    assert "report written to" in p.stderr and p.stdout == ""
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["table", "key", "field", "value"]
    tables = {r[0] for r in rows[1:]}
    assert {"funnel", "cases", "revenue", "conversions", "lift", "reasons"} <= tables
    assert ["revenue", "EUR", "total", "390.00"] in rows
    assert ["conversions", "revenue:GBP", "rate", ""] in rows


def test_html_is_one_page_in_the_stores_language(history: tuple[Path, str, str]) -> None:
    p = _run(
        history, "--store", history[1], "--from", "2026-11-01", "--to", "2026-12-01", *AT
    )  # html by default
    page = p.stdout
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "€390.00" in page and "Recovery report" in page
    # Each currency apart, named with the figure it belongs to (70 GBP recovered, no rate).
    assert "<td>GBP · Total recovered</td>" in page and "no rate set: not in the totals" in page
    zh = _run(history, "--store", history[1], "--period", "2026-11", "--locale", "zh-CN", *AT)
    assert 'lang="zh-Hans"' in zh.stdout and "挽回报告" in zh.stdout and "€390.00" in zh.stdout


def test_pdf_is_a_pdf(history: tuple[Path, str, str], tmp_path: Path) -> None:
    out = tmp_path / "november.pdf"
    _run(
        history,
        "--store",
        history[1],
        "--period",
        "2026-11",
        "--format",
        "pdf",
        "--out",
        str(out),
        *AT,
    )
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--store", "st_nosuchstore0", "--period", "2026-11"], "no store"),
        (["--store", "{store}", "--period", "2026-11", "--format", "docx"], "--format:"),
        (["--store", "{store}", "--period", "2027-03"], "the period starts in the future"),
        (["--store", "{store}", "--from", "2026-11-08", "--to", "2026-11-01"], "--to:"),
        (["--store", "{store}", "--from", "2026-11-32", "--to", "2026-12-01"], "--from:"),
        (["--store", "{store}"], "--period:"),
        (["--store", "{empty}", "--period", "2026-11"], "no data yet"),
    ],
    ids=[
        "unknown store",
        "bad format",
        "future",
        "from after to",
        "bad date",
        "no period",
        "no data",
    ],
)
def test_a_refusal_is_one_line_and_exit_2(
    history: tuple[Path, str, str], args: list[str], phrase: str
) -> None:
    _, store_id, empty = history
    shown = [a.format(store=store_id, empty=empty) for a in args]
    p = _run(history, *shown, *AT, ok=False)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    said = " ".join(p.stderr.split())
    assert said.startswith("error:") and phrase in said, said
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_store_set_keeps_the_report_settings(history: tuple[Path, str, str]) -> None:
    path, _, empty = history
    env = cli_env(path, COLUMNS="200")
    run_cli(
        [
            "store",
            "set",
            empty,
            "--report-email",
            "Owner@Shop.example",
            "--report-every",
            "month",
            "--fx-rate",
            "USD=0.92",
            "--fx-rate",
            "gbp=1.17",
            "--report-locale",
            "zh-CN",
        ],
        env,
    )
    rt = bootstrap(Settings(database_url=f"sqlite:///{path}"))
    try:
        uow = rt.reader()
        with uow:
            store = uow.stores.get(empty)
            assert store is not None
            s = store.settings
    finally:
        rt.close()
    assert s.report_emails == ("owner@shop.example",)
    assert (s.report_every, s.report_locale) == ("month", "zh-CN")
    assert {k: str(v) for k, v in s.fx_rates.items()} == {"USD": "0.92", "GBP": "1.17"}
    bad = run_cli(["store", "set", empty, "--fx-rate", "USD=-1"], env, ok=False)
    assert bad.returncode == 2 and "--fx-rate" in bad.stderr
    run_cli(["store", "set", empty, "--report-every", "never", "--fx-rate", ""], env)


def test_send_emails_the_report_now(history: tuple[Path, str, str]) -> None:
    """``reclaim report send``: the page, a summary and the PDF, to the address given."""
    from reclaim.sim.mailbox import Mailbox

    path, store_id, _ = history
    with Mailbox() as box:
        env = cli_env(path, COLUMNS="200", RECLAIM_SMTP_URL=box.url)
        args = ["report", "send", "--store", store_id, "--period", "2026-11", *AT]
        p = run_cli([*args, "--to", "me@shop.example"], env)
        assert p.stdout.strip() == "report of 2026-11 sent to me@shop.example"
        [received] = box.take()
        msg = received.parsed()
        assert msg["Subject"] == "Reclaim · Boutique: recovery report, November 2026"
        [pdf] = list(msg.iter_attachments())
        assert pdf.get_content_type() == "application/pdf"
        assert pdf.get_content().startswith(b"%PDF")
        week = run_cli([*args[:-4], "--period", "2026-w46", *AT, "--to", "me@shop.example"], env)
        assert week.stdout.strip() == "report of 2026-W46 sent to me@shop.example"
        # A store of its own: another test of this module gives `empty` a report address.
        quiet = run_cli(
            ["store", "add", "--name", "Quiet", "--platform", "custom", "--currency", "EUR",
             "--timezone", "Europe/Paris", "--domain", "quiet.example", "--json"],
            env,
        )  # fmt: skip
        quiet_id = json.loads(quiet.stdout)["id"]
        nobody = run_cli([*args[:3], quiet_id, "--period", "2026-11", *AT], env, ok=False)
        assert nobody.returncode == 2 and "--to:" in nobody.stderr
        assert "Traceback" not in nobody.stderr
    no_store = run_cli(["report", "--period", "2026-11"], cli_env(path), ok=False)
    assert no_store.returncode == 2 and "--store: name the store" in no_store.stderr
