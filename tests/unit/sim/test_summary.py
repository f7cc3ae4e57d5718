"""The demo compares every figure it shows with the ground truth's: Reclaim's value, the
truth's and their difference, and its mismatch count counts every difference (issue 14: the
table said 0 mismatches with 81 recovered orders against the truth's 82)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console

from reclaim.entrypoints.demo_tables import _checks
from reclaim.sim.cases import ActualCase
from reclaim.sim.comparison import compare, compare_figures, figures
from reclaim.sim.report import _comparison
from reclaim.sim.summary import truth_recovered
from reclaim.sim.truth import ExpectedCase
from reclaim.sim.unsent import no_message

KINDS = ("abandoned_checkout", "pending_order", "failed_payment")
T = datetime(2026, 5, 11, 19, 3, tzinfo=UTC)


def summary(**changes: Any) -> dict[str, Any]:
    """A summary whose figures all agree with the truth, with ``changes`` applied."""
    cases = {
        "abandoned_checkout": {"open": 216, "recovered": 50, "cancelled": 11, "total": 277},
        "pending_order": {"recovered": 6, "cancelled": 11, "total": 17},
        "failed_payment": {"open": 11, "recovered": 15, "total": 26},
    }
    s: dict[str, Any] = {
        "deliveries": {
            p: {"requests": 700, "rejected": 1, "bad_sent": 1}
            for p in ("shopify", "woocommerce", "stripe", "custom")
        },
        "cases": cases,
        "expected_cases": copy.deepcopy(cases),
        "recovered_orders": 70,
        "expected_recovered_orders": 70,
        "recovered_revenue_eur": "8397.38",
        "expected_recovered_revenue_eur": "8397.38",
        "recovered_revenue": {"EUR": "2268.38", "JPY": "55070"},
        "expected_recovered_revenue": {"EUR": "2268.38", "JPY": "55070"},
        "checks": {"total": 0},
        "outcome_disagreements": {"total": 0},
        "potential_outcomes": {"spillover": 0, "prevented": 0},
        "mismatches": compare([], [], {}),
    }
    s.update(changes)
    return s


def differs(row: dict[str, Any]) -> bool:
    return Decimal(str(row["difference"])) != 0


def test_every_figure_has_reclaim_truth_and_their_difference() -> None:
    s = summary()
    compare_figures(s)
    rows = s["comparison"]
    assert [r["figure"] for r in rows] == [
        "deliveries refused",
        "cases: abandoned checkout",
        "cases: pending order",
        "cases: failed payment",
        "cases open",
        "cases recovered",
        "cases cancelled",
        "recovered orders",
        "recovered revenue (EUR, demo rates)",
        "recovered revenue in EUR",
        "recovered revenue in JPY",
        "emails that should not have gone",
        "cases that ended otherwise than the simulator decided",
    ]
    for r in rows:
        assert r.keys() == {"figure", "reclaim", "truth", "difference"}
        assert Decimal(r["difference"]) == Decimal(r["reclaim"]) - Decimal(r["truth"]) == 0
    assert rows[5] == {"figure": "cases recovered", "reclaim": 71, "truth": 71, "difference": 0}
    assert rows[8]["difference"] == "0.00"
    assert (s["mismatches"]["total"], s["mismatches"]["figures"]) == (0, 0)


def test_the_mismatch_count_counts_every_figure_that_differs() -> None:
    """The run of issue 14: no case differed, but orders and revenue did."""
    s = summary(
        recovered_orders=81,
        expected_recovered_orders=82,
        recovered_revenue_eur="9346.35",
        expected_recovered_revenue_eur="9423.25",
        recovered_revenue={"EUR": "2580.88", "JPY": "70070", "USD": "1.00"},
        expected_recovered_revenue={"EUR": "2657.78", "JPY": "70070"},
    )
    compare_figures(s)
    assert {r["figure"]: r["difference"] for r in s["comparison"] if differs(r)} == {
        "recovered orders": -1,
        "recovered revenue (EUR, demo rates)": "-76.90",
        "recovered revenue in EUR": "-76.90",
        "recovered revenue in USD": "1.00",  # a currency only one side has
    }
    m = s["mismatches"]
    assert (m["cases"], m["figures"], m["total"]) == (0, 4, 4)


def test_cases_and_checks_that_differ_are_counted_too() -> None:
    s = summary(checks={"total": 2}, outcome_disagreements={"total": 1})
    s["cases"] = copy.deepcopy(s["cases"])
    s["cases"]["pending_order"] = {"recovered": 17, "total": 17}
    s["mismatches"] = {**s["mismatches"], "cases": 11, "total": 11}
    compare_figures(s)
    assert {r["figure"]: r["difference"] for r in s["comparison"] if differs(r)} == {
        "cases recovered": 11,
        "cases cancelled": -11,
        "emails that should not have gone": 2,
        "cases that ended otherwise than the simulator decided": 1,
    }
    assert (s["mismatches"]["figures"], s["mismatches"]["total"]) == (4, 15)
    assert len(figures(s)) == len(s["comparison"])


def test_the_table_and_the_report_show_each_figure_with_its_difference() -> None:
    s = summary(recovered_orders=81, expected_recovered_orders=82)
    compare_figures(s)
    console = Console(width=120, record=True, color_system=None)
    console.print(_checks(s))
    text = console.export_text()
    for r in s["comparison"]:
        line = next(x for x in text.splitlines() if f" {r['figure']} " in x)
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        difference = str(r["difference"])
        if Decimal(difference) > 0:
            difference = f"+{difference}"
        assert cells == [r["figure"], str(r["reclaim"]), str(r["truth"]), difference], line
    assert re.search(r"│ mismatches +│ +│ +│ +1 │", text)
    assert "1 figures differ, 0 cases do" in " ".join(text.split())

    page = _comparison(s)
    assert page.count("<tr>") == len(s["comparison"]) + 3  # head, cases one by one, total
    assert "<td>recovered orders</td><td class=n>81</td><td class=n>82</td>" in page
    assert "<td class=n>-1</td>" in page and "<th class=n>1</th>" in page


def case(kind: str, subject: str, order: str | None, value: str, how: str) -> ExpectedCase:
    return ExpectedCase(
        store="custom",
        kind=kind,
        subject=subject,
        customer="alessandro@example.org",
        occurred_at=T,
        opened_at=T,
        items=frozenset({"PLT-SET"}),
        value=Decimal(value),
        currency="EUR",
        status="recovered",
        closed_at=T,
        how=how,
        recovered_value=Decimal(value),
        recovered_order=order,
    )


def test_the_truth_counts_one_order_that_recovered_two_cases_once() -> None:
    """The cause of 81 against 82 (seed 7): a customer's abandoned checkout and the failed
    payment of the order they then paid were both recovered by that order; the truth counted
    two orders and the revenue twice."""
    both = [
        case("abandoned_checkout", "c-10115", "o-20124", "76.90", "customer_purchase"),
        case("failed_payment", "o-20124", "o-20124", "76.90", "payment_succeeded"),
    ]
    assert truth_recovered(both) == ({"EUR": "76.90"}, "76.90", 1)
    by_payment = [  # a payments-only store: no order, each case on its own
        case("abandoned_checkout", "cs1", None, "10.00", "customer_purchase"),
        case("failed_payment", "pi1", None, "10.00", "payment_succeeded"),
    ]
    assert truth_recovered(by_payment) == ({"EUR": "20.00"}, "20.00", 2)


def actual(
    n: int, status: str = "open", code: str | None = None, outcome: str | None = None
) -> ActualCase:
    return ActualCase(
        store="shopify",
        id=n,
        kind="abandoned_checkout",
        subject=f"c{n}",
        status=status,
        customer=None,
        currency="EUR",
        recovered_value=None,
        recovered_order=None,
        close_reason=None,
        holdout=code == "holdout",
        why_code=code,
        why_outcome=outcome,
    )


def test_why_cases_got_no_message_in_plain_words() -> None:
    """Issue 14: one reason per case, from the case API's why_not_sent, in the words of
    reclaim.domain.outcomes; and the steps held back on the way, from the worker's outcomes."""
    eu, declined = "consent_eu_marketing_needs_opt_in", "consent_marketing_opted_out"
    cases = [
        actual(1),  # messaged
        actual(2, code="holdout"),
        actual(3, code="holdout"),
        actual(4, code="consent", outcome=eu),
        actual(5, code="consent", outcome=eu),
        actual(6, code="consent", outcome=declined),
        actual(7, "recovered", code="closed"),
        actual(8, code="quiet_hours", outcome="waiting_quiet_hours"),
    ]
    steps = {"sent": 9, eu: 5, declined: 1, "waiting_quiet_hours": 4, "suppressed": 1}
    none = no_message(cases, steps)
    assert (none["cases"], none["of"]) == (7, 8)
    assert none["by_reason"] == {"consent": 3, "holdout": 2, "closed": 1, "quiet_hours": 1}
    assert [(r["label"], r["cases"], r["detail"]) for r in none["reasons"]] == [
        ("no consent to marketing messages", 3, "EU rules need an opt-in 2, customer declined 1"),
        (
            "held back to measure what messages add",
            2,
            "on purpose: their recoveries are compared with the messaged cases'",
        ),
        ("closed before the first message was due", 1, "recovered first 1"),
        ("waiting for quiet hours to end", 1, "quiet hours 1"),
    ]
    assert none["held_back_steps"] == {"consent": 6, "quiet_hours": 4, "suppressed": 1}
    assert [(r["label"], r["steps"]) for r in none["held_back"]] == [
        ("no consent to marketing messages", 6),
        ("waiting for quiet hours to end", 4),
        ("address on the suppression list", 1),
    ]
    assert none["held_back"][0]["detail"] == "EU rules need an opt-in 5, customer declined 1"


def test_no_figure_is_cut_at_80_columns() -> None:
    """At a plain terminal's width (and when piped) every figure shows whole; labels wrap."""
    s = summary(
        recovered_revenue={"MXN": "17050.87", "JPY": "55070"},
        expected_recovered_revenue={"MXN": "17050.87", "JPY": "55070"},
    )
    compare_figures(s)
    console = Console(width=80, record=True, color_system=None)
    console.print(_checks(s))
    text = console.export_text()
    assert "…" not in "".join(text.split("difference: ")[0])
    for r in s["comparison"]:
        assert f" {r['reclaim']} │" in text and f" {r['truth']} │" in text, (r, text)
