"""Reclaim against the ground truth: cases matched one by one (missing, unexpected, ending
otherwise), then every figure of the summary that has a counterpart in the truth.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reclaim.sim.cases import KINDS, STATUSES, ActualCase
from reclaim.sim.truth import ExpectedCase

MAX_DETAILS = 40


def compare(
    expected: list[ExpectedCase], actual: list[ActualCase], stories: dict[tuple[str, str], str]
) -> dict[str, Any]:
    """Cases matched on (store, kind, subject): missing, unexpected, different final status."""
    want = {(c.store, c.kind, c.subject): c for c in expected}
    have: dict[tuple[str, str, str], ActualCase] = {}
    duplicates = 0
    for a in actual:
        key = (a.store, a.kind, a.subject)
        if key in have:
            duplicates += 1
        have[key] = a
    missing: Counter[str] = Counter()
    unexpected: Counter[str] = Counter()
    status: Counter[str] = Counter()
    details: list[dict[str, str]] = []

    def note(key: tuple[str, str, str], exp: str, act: str) -> None:
        store, kind, subject = key
        details.append(
            {
                "store": store,
                "kind": kind,
                "subject": subject,
                "expected": exp,
                "actual": act,
                "story": stories.get((store, subject), ""),
            }
        )

    for key in sorted(want.keys() | have.keys()):
        w, h = want.get(key), have.get(key)
        if h is None:
            assert w is not None
            missing[key[1]] += 1
            note(key, w.status, "no case")
        elif w is None:
            unexpected[key[1]] += 1
            note(key, "no case", h.status)
        elif w.status != h.status:
            status[key[1]] += 1
            note(
                key,
                f"{w.status} ({w.how})" if w.how else w.status,
                f"{h.status} ({h.close_reason})" if h.close_reason else h.status,
            )
    total = sum(missing.values()) + sum(unexpected.values()) + sum(status.values()) + duplicates
    return {
        # ``total`` becomes ``cases`` + ``figures`` once :func:`compare_figures` has run.
        "total": total,
        "cases": total,
        "figures": 0,
        "opened": sum(missing.values()) + sum(unexpected.values()) + duplicates,
        "missing": {k: missing[k] for k in KINDS},
        "unexpected": {k: unexpected[k] for k in KINDS},
        "status": {k: status[k] for k in KINDS},
        "duplicate_cases": duplicates,
        "details": details[:MAX_DETAILS],
    }


# -- Reclaim's figures against the ground truth's ------------------------------------------------

FIGURE_KINDS = {
    "abandoned_checkout": "abandoned checkout",
    "pending_order": "pending order",
    "failed_payment": "failed payment",
}


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure the demo compares: Reclaim's value, the ground truth's, and ``reclaim -
    truth`` (counts are integers; money is a :class:`~decimal.Decimal`, written as a string)."""

    figure: str
    reclaim: int | Decimal
    truth: int | Decimal

    @property
    def difference(self) -> int | Decimal:
        return self.reclaim - self.truth

    def to_json(self) -> dict[str, Any]:
        def out(v: int | Decimal) -> int | str:
            return str(v) if isinstance(v, Decimal) else v

        return {
            "figure": self.figure,
            "reclaim": out(self.reclaim),
            "truth": out(self.truth),
            "difference": out(self.difference),
        }


def figures(s: dict[str, Any]) -> list[Figure]:
    """Every figure of summary ``s`` that has a counterpart in the ground truth, in the order
    the demo shows them. Checks that count what should never happen (emails after a payment,
    cases that ended otherwise than the simulator decided) are figures whose truth is 0."""
    deliveries = s["deliveries"].values()
    rows = [
        Figure(
            "deliveries refused",
            sum(d["rejected"] for d in deliveries),
            sum(d["bad_sent"] for d in deliveries),
        )
    ]
    got, want = s["cases"], s["expected_cases"]
    rows += [
        Figure(f"cases: {label}", got[kind]["total"], want[kind]["total"])
        for kind, label in FIGURE_KINDS.items()
    ]
    for status in STATUSES:
        mine = sum(got[k].get(status, 0) for k in FIGURE_KINDS)
        theirs = sum(want[k].get(status, 0) for k in FIGURE_KINDS)
        if mine or theirs:
            rows.append(Figure(f"cases {status}", mine, theirs))
    rows.append(Figure("recovered orders", s["recovered_orders"], s["expected_recovered_orders"]))
    rows.append(
        Figure(
            "recovered revenue (EUR, demo rates)",
            Decimal(s["recovered_revenue_eur"]),
            Decimal(s["expected_recovered_revenue_eur"]),
        )
    )
    mine_by, theirs_by = s["recovered_revenue"], s["expected_recovered_revenue"]
    for currency in sorted(mine_by.keys() | theirs_by.keys()):
        rows.append(
            Figure(
                f"recovered revenue in {currency}",
                Decimal(mine_by.get(currency, "0")),
                Decimal(theirs_by.get(currency, "0")),
            )
        )
    if "checks" in s:
        rows.append(Figure("emails that should not have gone", s["checks"]["total"], 0))
    if "outcome_disagreements" in s:
        rows.append(
            Figure(
                "cases that ended otherwise than the simulator decided",
                s["outcome_disagreements"]["total"],
                0,
            )
        )
    return rows


def compare_figures(s: dict[str, Any]) -> None:
    """Put every compared figure in ``s["comparison"]`` and count each one that differs in
    ``s["mismatches"]``: ``total`` = ``cases`` (missing, extra or ending otherwise, one by
    one) + ``figures`` (figures with a difference)."""
    rows = figures(s)
    s["comparison"] = [f.to_json() for f in rows]
    m = s["mismatches"]
    m["figures"] = sum(1 for f in rows if f.difference != 0)
    m["total"] = m["cases"] + m["figures"]
