"""What the messages did, as the summary shows it: messages by channel, what the customers did
with them, the lift Reclaim's holdout measures next to the true effect the simulator knows,
and whether every case ended as its potential outcome says it must.

Reclaim's cases (holdout flag and attribution included) come from its cases API; message counts
from its database (read-only SQL, as the rest of the summary); the rest is the simulator's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text

from reclaim.bootstrap import Runtime
from reclaim.domain.stats import measure
from reclaim.sim.cases import KINDS, ActualCase
from reclaim.sim.customers import Audience
from reclaim.sim.driver import DriveStats
from reclaim.sim.effect import Potential, true_effect

MAX_DETAILS = 20


def _rows(rt: Runtime, sql: str) -> list[tuple[Any, ...]]:
    with rt.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def messages(rt: Runtime, drive: DriveStats, days: int) -> dict[str, Any]:
    """Reclaim's messages by channel and status, the steps it skipped or delayed and why, and
    the emails the simulator's SMTP server received per simulated day."""
    by_channel: dict[str, dict[str, int]] = {}
    for channel, status, n in _rows(
        rt, "SELECT channel, status, count(*) FROM messages GROUP BY channel, status"
    ):
        by_channel.setdefault(str(channel), {})[str(status)] = int(n)
    coupons = _rows(
        rt,
        "SELECT count(*), count(redeemed_at),"
        " count(CASE WHEN push_state = 'pushed' THEN 1 END) FROM coupons",
    )[0]
    return {
        "total": sum(sum(v.values()) for v in by_channel.values()),
        "by_channel": {k: dict(sorted(v.items())) for k, v in sorted(by_channel.items())},
        "step_outcomes": dict(sorted(drive.steps.items())),
        "emails_received": sum(drive.emails_by_day.values()),
        "emails_per_day": [drive.emails_by_day.get(d, 0) for d in range(days)],
        "coupons": {
            "issued": int(coupons[0]),
            "redeemed": int(coupons[1]),
            "created_on_the_store": int(coupons[2]),
        },
    }


def customers(audience: Audience) -> dict[str, Any]:
    """What the simulated customers did with their email."""
    c = audience.counts
    return {
        "emails_read": c["emails"],
        "opens": c["opens"],
        "restore_clicks": c["restore_clicks"],
        "product_clicks": c["product_clicks"],
        "unsubscribes": c["unsubscribes:one_click"] + c["unsubscribes:page"],
        "unsubscribes_one_click": c["unsubscribes:one_click"],
        "bought_because_of_a_message": {k: c[f"bought:{k}"] for k in KINDS},
        "coupons_used": c["coupons_used"],
        "persuaded_too_late": c["persuaded_too_late"] + c["persuaded_after_end"],
        "persuaded_by_another_step": c["persuaded_by_another_step"],
        "hold_end_notices": c["hold_end_notices"],
    }


def checks(audience: Audience) -> dict[str, Any]:
    """SPEC S2/S5 promises the customers' mailboxes can check (all counts should be 0)."""
    c = audience.counts
    kinds = (
        "after_payment",
        "after_cancelled",
        "after_lost",
        "after_unsubscribe",
        "marketing_without_consent",
        "unknown_recipient",
        "no_case",
        "redirect_offsite",
        "pixel_failed",
        "unsubscribe_page",
        "unsubscribe_failed",
        "no_restore_link",
        "no_unsubscribe_link",
    )
    counts = {k: c[f"violation:{k}"] for k in kinds}
    counts["other"] = sum(v for k, v in c.items() if k.startswith("violation:")) - sum(
        counts.values()
    )
    return {"total": sum(counts.values()), **counts, "details": audience.violations[:MAX_DETAILS]}


def effect(
    potentials: Sequence[Potential],
    actual: Sequence[ActualCase],
    bought: Mapping[tuple[str, str, str], datetime] | None = None,
) -> dict[str, Any]:
    """Lift (messaged − held out, from Reclaim's cases) with its Newcombe interval, the true
    effect (mean of y1 − y0 over the cases the simulator knows), both per kind too, and the
    cases whose outcome is not the one their arm's potential outcome says.

    ``bought``: the purchases messages caused, by case. A customer's purchase also settles
    their other opportunities (SPEC S2: a purchase of overlapping items recovers a case, and
    prevents one from opening): such knock-on effects on *another* case are counted apart
    ("spillover", "prevented"), since a case's own arm does not decide them.
    """
    have = {(a.store, a.kind, a.subject): a for a in actual}
    by_customer: dict[tuple[str, str], list[datetime]] = {}
    pots = {(p.store, p.kind, p.subject): p for p in potentials}
    for key, at in (bought or {}).items():
        p = pots.get(key)
        if p is not None:
            by_customer.setdefault((p.store, p.customer), []).append(at)
    overall = measure((a.holdout, a.status == "recovered") for a in actual)
    per_kind: dict[str, Any] = {}
    for kind in KINDS:
        mine = [a for a in actual if a.kind == kind]
        lift = measure((a.holdout, a.status == "recovered") for a in mine)
        kind_pots = [p for p in potentials if p.kind == kind]
        per_kind[kind] = {
            "messaged": lift.messaged,
            "messaged_recovered": lift.messaged_recovered,
            "holdout": lift.holdout,
            "holdout_recovered": lift.holdout_recovered,
            "lift": round(lift.lift, 4),
            "lift_ci": [round(x, 4) for x in lift.interval],
            "true_effect": round(true_effect(kind_pots), 4),
            "y0": sum(p.y0 for p in kind_pots),
            "y1": sum(p.y1 for p in kind_pots),
            "reached": sum(p.reached for p in kind_pots),
        }
    disagree: list[dict[str, str]] = []
    why: Counter[str] = Counter()
    knock_on: Counter[str] = Counter()
    for p in potentials:
        a = have.get((p.store, p.kind, p.subject))
        caused = by_customer.get((p.store, p.customer), [])
        if a is None:
            knock_on["prevented" if caused else "missing"] += 1
            continue
        want = p.y0 if a.holdout else p.y1
        got = a.status == "recovered"
        if want == got:
            continue
        if got and caused and (p.store, p.kind, p.subject) not in (bought or {}):
            knock_on["spillover"] += 1
            continue
        label = f"{'holdout' if a.holdout else 'messaged'}: expected " + (
            "recovered" if want else "not recovered"
        )
        why[label] += 1
        if len(disagree) < MAX_DETAILS:
            disagree.append(
                {
                    "store": p.store,
                    "kind": p.kind,
                    "subject": p.subject,
                    "arm": "holdout" if a.holdout else "messaged",
                    "model": p.why,
                    "reclaim": f"{a.status} ({a.close_reason or a.flow_state})",
                }
            )
    recovered = [a for a in actual if a.status == "recovered"]
    low, high = overall.interval
    return {
        "lift": round(overall.lift, 4),
        "lift_ci": [round(low, 4), round(high, 4)],
        "lift_method": "Newcombe hybrid score interval (95 %), difference of two proportions",
        "true_effect": round(true_effect(potentials), 4),
        "messaged": {"cases": overall.messaged, "recovered": overall.messaged_recovered},
        "holdout": {"cases": overall.holdout, "recovered": overall.holdout_recovered},
        "by_kind": per_kind,
        "attributed": sum(a.attribution == "message" for a in recovered),
        "organic": sum(a.attribution != "message" for a in recovered),
        "potential_outcomes": {
            "cases": len(potentials),
            "recovered_without_messages": sum(p.y0 for p in potentials),
            "recovered_with_messages": sum(p.y1 for p in potentials),
            "reached": sum(p.reached for p in potentials),
            "spillover": knock_on["spillover"],
            "prevented": knock_on["prevented"],
            "missing": knock_on["missing"],
        },
        "outcome_disagreements": {
            "total": sum(why.values()),
            "by_reason": dict(sorted(why.items())),
            "details": disagree,
        },
    }
