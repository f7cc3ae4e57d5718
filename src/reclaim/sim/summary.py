"""What a simulation run shows: Reclaim's cases next to the ground truth, and the traffic.

Cases are read through Reclaim's own cases API (as any client would); counts of the facts
Reclaim keeps are read straight from its database (read-only SQL, a test harness's right).
Everything in :func:`summarise`'s result is deterministic for a seed except ``database``
(a path); store ids and API keys are random by design and are left out.

The cases themselves are read by :mod:`~reclaim.sim.cases`, matched and compared figure by
figure in :mod:`~reclaim.sim.comparison`; why cases got no message is in
:mod:`~reclaim.sim.unsent`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from reclaim.bootstrap import Runtime
from reclaim.sim.cases import KINDS, STATUSES, ActualCase
from reclaim.sim.comparison import compare
from reclaim.sim.driver import DemoStore, DriveStats
from reclaim.sim.model import CheckoutSnap, Delivery, OrderSnap, PaymentSnap
from reclaim.sim.traffic import Plan
from reclaim.sim.truth import ExpectedCase
from reclaim.sim.world import STORE, to_eur


def _by_kind_status(items: list[tuple[str, str]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for kind in KINDS:
        row = Counter(status for k, status in items if k == kind)
        table[kind] = {s: row[s] for s in STATUSES if row[s]} | {"total": sum(row.values())}
    return table


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


def _prefixed(counter: Counter[str], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): v for k, v in sorted(counter.items()) if k.startswith(prefix)}
