"""What a simulation run shows: Reclaim's cases next to the ground truth, and the traffic.

Cases are read through Reclaim's own cases API (as any client would); counts of the facts
Reclaim keeps are read straight from its database (read-only SQL, a test harness's right).
Everything in :func:`summarise`'s result is deterministic for a seed except ``database``
(a path); store ids and API keys are random by design and are left out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import text

from reclaim.bootstrap import Runtime
from reclaim.domain.outcomes import consent_label, not_sent_label, step_words
from reclaim.sim.driver import DemoStore, DriveStats
from reclaim.sim.model import CheckoutSnap, Delivery, OrderSnap, PaymentSnap
from reclaim.sim.traffic import Plan
from reclaim.sim.truth import ExpectedCase
from reclaim.sim.world import STORE, to_eur

KINDS = ("abandoned_checkout", "pending_order", "failed_payment")
STATUSES = ("open", "recovered", "cancelled", "lost", "suppressed", "expired")
MAX_DETAILS = 40


@dataclass(frozen=True, slots=True)
class ActualCase:
    store: str
    id: int
    kind: str
    subject: str
    status: str
    customer: str | None
    currency: str
    recovered_value: Decimal | None
    recovered_order: str | None
    close_reason: str | None
    holdout: bool = False
    attribution: str | None = None
    flow_state: str | None = None
    # the case API's why_not_sent: None once a message went
    why_code: str | None = None
    why_outcome: str | None = None


def fetch_cases(client: httpx.Client, stores: dict[str, DemoStore]) -> list[ActualCase]:
    """Every case of every demo store, through ``GET /api/v1/cases``."""
    out: list[ActualCase] = []
    for key, store in sorted(stores.items()):
        cursor: int | None = None
        while True:
            params: dict[str, Any] = {"limit": 500}
            if cursor is not None:
                params["cursor"] = cursor
            r = client.get(
                "/api/v1/cases", params=params, headers={"Authorization": f"Bearer {store.api_key}"}
            )
            r.raise_for_status()
            page = r.json()
            for c in page["cases"]:
                subject = {
                    "abandoned_checkout": c["checkout_id"],
                    "pending_order": c["order_id"],
                    "failed_payment": c["payment_intent_id"],
                }[c["kind"]]
                value = c["recovered_value"]
                why = c.get("why_not_sent") or {}
                out.append(
                    ActualCase(
                        store=key,
                        id=c["id"],
                        kind=c["kind"],
                        subject=subject or "",
                        status=c["status"],
                        customer=(c["email"] or c["phone"] or None),
                        currency=c["currency"],
                        recovered_value=Decimal(value) if value is not None else None,
                        recovered_order=c["recovered_order_id"],
                        close_reason=c["close_reason"],
                        holdout=bool(c["holdout"]),
                        attribution=c["attribution"],
                        flow_state=c["flow_state"],
                        why_code=why.get("code"),
                        why_outcome=why.get("outcome"),
                    )
                )
            cursor = page["next_cursor"]
            if cursor is None:
                break
    return out


def _by_kind_status(items: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        row = Counter(status for k, status in items if k == kind)
        table[kind] = {s: row[s] for s in STATUSES if row[s]} | {"total": sum(row.values())}
    return table


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


def _revenue(rows: list[tuple[str, str, str, Decimal]]) -> tuple[dict[str, str], str, int]:
    """(per currency, in EUR, distinct orders) from (store, order key, currency, value) rows."""
    distinct: dict[tuple[str, str], tuple[str, Decimal]] = {}
    for store, order, currency, value in rows:
        distinct[(store, order)] = (currency, value)
    per: defaultdict[str, Decimal] = defaultdict(Decimal)
    for currency, value in distinct.values():
        per[currency] += value
    eur = sum((to_eur(v, c) for c, v in per.items()), Decimal(0))
    return (
        {c: str(v) for c, v in sorted(per.items())},
        str(eur.quantize(Decimal("0.01"))),
        len(distinct),
    )


def truth_recovered(expected: Iterable[ExpectedCase]) -> tuple[dict[str, str], str, int]:
    """The ground truth's recovered revenue (per currency, in EUR) and orders, counted as
    Reclaim's are: one order that recovers several cases (a customer's abandoned checkout and
    the failed payment of the order they then paid) is one order, its revenue counted once; a
    recovery by no order (a payment on a payments-only store) counts per case."""
    return _revenue(
        [
            (
                c.store,
                c.recovered_order or f"{c.how}:{c.subject}",
                c.currency,
                c.recovered_value or Decimal(0),
            )
            for c in expected
            if c.status == "recovered"
        ]
    )


def _reclaim_counts(rt: Runtime) -> dict[str, Any]:
    def rows(sql: str) -> dict[str, int]:
        with rt.engine.connect() as conn:
            return {str(k): int(v) for k, v in conn.execute(text(sql)).all()}

    return {
        "checkouts": rows("SELECT state, count(*) FROM checkouts GROUP BY state ORDER BY state"),
        "checkouts_ignored": rows(
            "SELECT ignore_reason, count(*) FROM checkouts WHERE ignore_reason IS NOT NULL"
            " GROUP BY ignore_reason ORDER BY ignore_reason"
        ),
        "orders": rows(
            "SELECT CASE WHEN paid_at IS NOT NULL THEN 'paid' WHEN cancelled_at IS NOT NULL"
            " THEN 'cancelled' ELSE 'unpaid' END AS s, count(*) FROM orders GROUP BY s ORDER BY s"
        ),
        "payments": rows(
            "SELECT CASE WHEN succeeded THEN 'succeeded' ELSE 'failed' END AS s, count(*)"
            " FROM payment_attempts GROUP BY s ORDER BY s"
        ),
        "inbox": rows("SELECT status, count(*) FROM inbox GROUP BY status ORDER BY status"),
    }


def _simulated(deliveries: Iterable[Delivery]) -> dict[str, Any]:
    """Distinct checkouts, orders and payment attempts the stores produced (their last state)."""
    checkouts: dict[tuple[str, str], CheckoutSnap] = {}
    orders: dict[tuple[str, str], OrderSnap] = {}
    payments: dict[tuple[str, str], PaymentSnap] = {}
    for d in deliveries:
        if d.role != "event":
            continue
        for f in d.facts:
            if isinstance(f, CheckoutSnap):
                k = (f.store, f.checkout_id)
                if k not in checkouts or f.updated_at >= checkouts[k].updated_at:
                    checkouts[k] = f
            elif isinstance(f, OrderSnap):
                k = (f.store, f.order_id)
                if k not in orders or f.updated_at >= orders[k].updated_at:
                    orders[k] = f
            else:
                payments[(f.store, f.attempt_id)] = f
    order_status = Counter(o.status for o in orders.values())
    return {
        "checkouts": {
            "total": len(checkouts),
            "with_contact": sum(c.contact for c in checkouts.values()),
            "by_store": dict(sorted(Counter(s for s, _ in checkouts).items())),
        },
        "orders": {
            "total": len(orders),
            "paid": order_status["paid"],
            "unpaid": order_status["pending"] + order_status["failed"],
            "cancelled": order_status["cancelled"],
            "by_store": dict(sorted(Counter(s for s, _ in orders).items())),
        },
        "payments": {
            "attempts": len(payments),
            "failed": sum(not p.succeeded for p in payments.values()),
            "succeeded": sum(p.succeeded for p in payments.values()),
        },
    }


def summarise(
    *,
    plan: Plan,
    expected: list[ExpectedCase],
    actual: list[ActualCase],
    drive: DriveStats,
    rt: Runtime,
    stores: dict[str, DemoStore],
    database: str,
    sent: Iterable[Delivery] | None = None,
) -> dict[str, Any]:
    """``sent``: the deliveries actually made (default: the plan's)."""
    cfg, st = plan.config, plan.stats
    sim = _simulated(plan.deliveries if sent is None else sent)
    reclaim = _reclaim_counts(rt)
    deliveries = {}
    for key in sorted(stores):
        platform = STORE[key].platform
        deliveries[platform] = {
            "requests": drive.requests[key],
            "events": sum(drive.answers[(key, s)] for s in ("accepted", "duplicate", "rejected")),
            "accepted": drive.answers[(key, "accepted")],
            "duplicate": drive.answers[(key, "duplicate")],
            "rejected": drive.answers[(key, "rejected")],
            "retries_sent": drive.roles[(key, "retry")],
            "bad_sent": drive.roles[(key, "rejected")],
        }
    recovered = [a for a in actual if a.status == "recovered"]
    revenue, revenue_eur, recovered_orders = _revenue(
        [
            (
                a.store,
                a.recovered_order or f"case-{a.id}",
                a.currency,
                a.recovered_value or Decimal(0),
            )
            for a in recovered
        ]
    )
    want_revenue, want_revenue_eur, want_orders = truth_recovered(expected)
    non_customers = {a.key for a in plan.actors if a.kind != "customer"}
    behaviour = {
        "sessions": st["sessions"],
        "outcomes": _prefixed(st, "outcome:"),
        "abandonment_reasons": _prefixed(st, "reason:"),
        "abandon_stage": _prefixed(st, "abandon_stage:"),
        "declines": _prefixed(st, "decline:"),
        "decline_fixed": _prefixed(st, "fix:"),
        "pay_later_never_paid": st["pay_later_never_paid"],
        "organic_returns": st["organic_returns"],
        "restarted_checkouts": st["restarts"],
        "repeat_visits": st["repeat_visits"],
        "late_deliveries": st["deliveries:late"],
        "retried_deliveries": st["deliveries:retried"],
    }
    return {
        "seed": cfg.seed,
        "days": cfg.days,
        "customers": cfg.customers,
        "start": cfg.start.isoformat().replace("+00:00", "Z"),
        "end": cfg.end.isoformat().replace("+00:00", "Z"),
        "deliveries": deliveries,
        "checkouts": {**sim["checkouts"], "reclaim": reclaim["checkouts"]},
        "orders": {**sim["orders"], "reclaim": reclaim["orders"]},
        "payments": {**sim["payments"], "reclaim": reclaim["payments"]},
        "inbox": reclaim["inbox"],
        "cases": _by_kind_status([(a.kind, a.status) for a in actual]),
        "expected_cases": _by_kind_status([(c.kind, c.status) for c in expected]),
        "mismatches": compare(expected, actual, plan.stories),
        "recovered_orders": recovered_orders,
        "recovered_revenue": revenue,
        "recovered_revenue_eur": revenue_eur,
        "expected_recovered_orders": want_orders,
        "expected_recovered_revenue": want_revenue,
        "expected_recovered_revenue_eur": want_revenue_eur,
        "filtered": {
            "bots": st["actors:bots"],
            "bot_sessions": st["bot_sessions"],
            "staff_test_sessions": st["staff_sessions"],
            "backlog_checkouts": st["backlog_checkouts"],
            "reclaim_ignored_checkouts": reclaim["checkouts_ignored"],
            "cases_for_bots_or_tests": sum(
                1 for a in actual if a.customer and a.customer.lower() in non_customers
            ),
        },
        "worker": {
            "runs": drive.ticks,
            "processed": drive.processed,
            "ignored": drive.ignored,
            "failed": drive.failed,
            "cases_opened": drive.opened,
        },
        "unexpected_answers": drive.unexpected[:20],
        "behaviour": behaviour,
        "database": database,
        "stores": [
            {
                "platform": STORE[k].platform,
                "name": STORE[k].name,
                "currency": STORE[k].currency,
                "timezone": STORE[k].timezone,
                "domain": STORE[k].domain,
            }
            for k in sorted(stores)
        ],
    }


# -- why cases got no message (issue 14) ---------------------------------------------------------

_CLOSED = {
    "recovered": "recovered first",
    "cancelled": "cancelled first",
    "lost": "lost first",
    "expired": "expired first",
    "suppressed": "suppressed",
}
_WHY_DETAIL = {
    "holdout": "on purpose: their recoveries are compared with the messaged cases'",
    "not_due_yet": "the simulation ended before it",
}
_HELD_BACK_DETAIL = {
    "quiet_hours": "postponed, not dropped: sent once they end, unless the case closed first",
    "frequency_cap": "postponed: the customer had a message shortly before",
}


def _most_first(counts: Counter[str]) -> str:
    return ", ".join(
        f"{what} {n}" for what, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def no_message(actual: Iterable[ActualCase], step_outcomes: dict[str, int]) -> dict[str, Any]:
    """Why cases got no message, in the case API's words (``why_not_sent``, one reason per
    case), and the steps the worker held back or postponed on the way (its step outcomes:
    a case refused by consent for its first step may be refused again for its second).

    ``by_reason`` and ``held_back_steps`` are the counts, by ``why_not_sent`` code; ``reasons``
    and ``held_back`` the same rows in words (``label``, count, ``detail``), as the demo's
    console and report show them."""
    cases = list(actual)
    silent = [a for a in cases if a.why_code is not None]
    by_code: Counter[str] = Counter(a.why_code for a in silent if a.why_code)
    reasons = []
    for code, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
        mine = [a for a in silent if a.why_code == code]
        if code == "consent":
            detail = _most_first(Counter(consent_label(a.why_outcome or "") for a in mine))
        elif code == "closed":
            detail = _most_first(Counter(_CLOSED.get(a.status, a.status) for a in mine))
        elif code in _WHY_DETAIL:
            detail = _WHY_DETAIL[code]
        else:
            detail = _most_first(
                Counter(step_words(a.why_outcome).label for a in mine if a.why_outcome)
            )
        reasons.append({"code": code, "label": not_sent_label(code), "cases": n, "detail": detail})
    steps: dict[str, Counter[str]] = {}
    for outcome, n in step_outcomes.items():
        if outcome == "sent" or not n:
            continue
        code = step_words(outcome).code
        label = consent_label(outcome) if code == "consent" else step_words(outcome).label
        steps.setdefault(code, Counter())[label] += n
    held_back = [
        {
            "code": code,
            "label": not_sent_label(code),
            "steps": sum(by.values()),
            "detail": _HELD_BACK_DETAIL.get(code) or _most_first(by),
        }
        for code, by in sorted(steps.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    ]
    return {
        "cases": len(silent),
        "of": len(cases),
        "by_reason": dict(by_code.most_common()),
        "reasons": reasons,
        "held_back_steps": {r["code"]: r["steps"] for r in held_back},
        "held_back": held_back,
    }


def _prefixed(counter: Counter[str], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): v for k, v in sorted(counter.items()) if k.startswith(prefix)}


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
