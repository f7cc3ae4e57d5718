"""What ``reclaim demo`` and ``reclaim sim`` print about a run: the summary's tables for a
store owner, and where the run's files and API keys are."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from reclaim.sim import SimulationResult
from reclaim.sim.report import points, sure

KIND_LABELS = {
    "abandoned_checkout": "abandoned checkout",
    "pending_order": "pending order",
    "failed_payment": "failed payment",
}
PLATFORM_LABELS = {
    "shopify": "Shopify",
    "woocommerce": "WooCommerce",
    "stripe": "Stripe",
    "custom": "custom (API)",
}

# -- the tables ---------------------------------------------------------------------------------
#
# Written for a store owner: plain words first, the technical detail one level down (a
# caption, or summary.json).


def more_often(x: float) -> str:
    """``11.7 points more often``, ``2.0 points less often``."""
    return f"{abs(x) * 100:.1f} points {'less' if x < 0 else 'more'} often"


def _rate(recovered: int, cases: int) -> str:
    return f"{recovered} of {cases}" + (f" ({recovered / cases:.0%})" if cases else "")


def show(console: Console, result: SimulationResult, elapsed: float) -> None:
    tables(console, result.summary, elapsed)
    _where(console, result)


def tables(console: Console, s: dict[str, Any], elapsed: float | None = None) -> None:
    """Everything the demo prints about a run but where its files are."""
    took = f"; took {elapsed:.1f} s" if elapsed is not None else ""
    console.print(
        f"\n[bold]Reclaim demo[/bold]: 4 simulated shops, {s['customers']} customers over "
        f"{s['days']} days ({s['start'][:10]} → {s['end'][:10]}); "
        f"{s['holdout_share']:.0%} of cases get no message on purpose, to measure what the "
        f"messages are worth. Seed {s['seed']}; Reclaim's worker ran every 15 simulated "
        f"minutes ({s['worker']['runs']} runs){took}.",
        highlight=False,
    )
    console.print(_headline(s))
    console.print(_kinds(s))
    console.print(_no_message(s))
    if s["no_message"]["held_back"]:
        console.print(_held_back(s))
    console.print(_checks(s))
    if s["mismatches"]["details"]:
        console.print(_mismatches(s))
    if s["checks"]["details"]:
        console.print(Panel(json.dumps(s["checks"]["details"], indent=1), title="mailbox checks"))
    if s["unexpected_answers"]:
        console.print(Panel("\n".join(s["unexpected_answers"]), title="unexpected HTTP answers"))


def _headline(s: dict[str, Any]) -> Table:
    t = Table(
        title="What happened", title_justify="left", show_header=False, caption_justify="left"
    )
    t.add_column("", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    t.add_column("", style="dim")
    outcomes = s["behaviour"]["outcomes"]
    abandoned = outcomes.get("abandoned", 0) + outcomes.get("no_contact", 0)
    cases = s["cases"]
    m, c = s["messages"], s["customers_did"]
    channels = ", ".join(f"{ch} {sum(v.values())}" for ch, v in m["by_channel"].items()) or "none"
    t.add_row(
        "checkouts started",
        str(s["checkouts"]["total"]),
        f"{s['checkouts']['with_contact']} with an email address or phone number",
    )
    t.add_row(
        "checkouts abandoned",
        str(abandoned),
        f"{outcomes.get('no_contact', 0)} before the shopper gave an email address or phone",
    )
    t.add_row(
        "recovery cases",
        str(sum(k["total"] for k in cases.values())),
        ", ".join(f"{KIND_LABELS[k]} {v['total']}" for k, v in cases.items()),
    )
    t.add_row("messages sent", str(m["total"]), f"by channel: {channels}")
    t.add_row(
        "emails opened",
        str(c["opens"]),
        f"{c['restore_clicks'] + c['product_clicks']} clicks, {c['unsubscribes']} unsubscribes, "
        f"{c['coupons_used']} coupons used",
    )
    k = m["coupons"]
    t.add_row(
        "coupons",
        str(k["issued"]),
        f"{k['created_on_the_store']} created in the shops, "
        f"{k['issued'] - k['created_on_the_store']} for the owner to import, "
        f"{k['redeemed']} used",
    )
    t.add_row(
        "orders won back",
        str(s["recovered_orders"]),
        f"EUR {s['recovered_revenue_eur']} (other currencies at fixed demo rates)",
    )
    t.add_row(
        "thanks to a message",
        f"{s['attributed']} of {s['attributed'] + s['organic']}",
        f"recovered cases whose customer had opened or clicked a message; "
        f"{s['organic']} came back on their own",
    )
    msg, held = s["messaged"], s["holdout"]
    t.add_row(
        "what messages add",
        points(s["lift"]),
        f"{_rate(msg['recovered'], msg['cases'])} messaged cases recovered, "
        f"{_rate(held['recovered'], held['cases'])} held back: {more_often(s['lift'])}; "
        f"{sure(s['lift_ci'])}",
    )
    t.add_row(
        "the simulator's answer",
        points(s["true_effect"]),
        "what the simulator built in: how much more often a case recovers with messages "
        "than without",
    )
    t.caption = (
        "points: percentage points, the difference between two recovery rates · 95 % sure: "
        "Newcombe's interval for a difference of two proportions"
    )
    return t


def _kinds(s: dict[str, Any]) -> Table:
    t = Table(title="By kind of case", title_justify="left", caption_justify="left")
    t.add_column("kind")
    for col in (
        "cases",
        "recovered\nwith messages",
        "recovered\nheld back",
        "messages\nadd",
        "95 % sure\nbetween",
        "simulator",
    ):
        t.add_column(col, justify="right", no_wrap=True)
    for kind, label in KIND_LABELS.items():
        got, k = s["cases"][kind], s["by_kind"][kind]
        both = k["messaged"] and k["holdout"]
        t.add_row(
            label,
            str(got["total"]),
            _rate(k["messaged_recovered"], k["messaged"]),
            _rate(k["holdout_recovered"], k["holdout"]),
            f"{k['lift'] * 100:+.1f}" if both else "—",
            f"{k['lift_ci'][0] * 100:+.0f} and {k['lift_ci'][1] * 100:+.0f}" if both else "—",
            f"{k['true_effect'] * 100:+.1f}",
        )
    t.caption = (
        "in points: recovery rate with messages minus the rate without · 95 % sure: the range "
        "the true lift lies in · simulator: what it built in"
    )
    return t


def _no_message(s: dict[str, Any]) -> Table:
    """Why cases got no message: one reason per case, in the case API's words."""
    none = s["no_message"]
    t = Table(
        title=f"Why some cases got no message ({none['cases']} of {none['of']})",
        title_justify="left",
        show_header=False,
        caption_justify="left",
    )
    t.add_column("", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    t.add_column("", style="dim")
    for r in none["reasons"]:
        t.add_row(r["label"], str(r["cases"]), r["detail"])
    t.caption = "each case once, for the reason its page in the API gives (why_not_sent)"
    return t


def _held_back(s: dict[str, Any]) -> Table:
    """The steps the worker held back or postponed, messaged cases' included."""
    t = Table(
        title="Messages held back or postponed on the way",
        title_justify="left",
        show_header=False,
        caption_justify="left",
    )
    t.add_column("", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    t.add_column("", style="dim")
    for r in s["no_message"]["held_back"]:
        t.add_row(r["label"], str(r["steps"]), r["detail"])
    t.caption = (
        "counted per message a flow planned: a case can be held back for its first reminder "
        "and again for its second"
    )
    return t


def _checks(s: dict[str, Any]) -> Table:
    """Every figure compared with the ground truth: Reclaim's, the truth's, the difference
    (Reclaim − truth); the mismatches count each figure that differs and each case that does."""
    t = Table(
        title="Checked against what really happened in the simulation",
        title_justify="left",
        caption_justify="left",
    )
    # Figures are never cut: their columns are as wide as their longest value, and the
    # label column wraps instead (at 80 columns a revenue showed as "8397…").
    rows = [(str(r["reclaim"]), str(r["truth"])) for r in s["comparison"]]
    widths = [
        max([len(col), *(len(r[i]) for r in rows)])
        for i, col in enumerate(("Reclaim", "simulation"))
    ]
    t.add_column("figure", overflow="fold")
    for col, width in zip(("Reclaim", "simulation"), widths, strict=True):
        t.add_column(col, justify="right", no_wrap=True, min_width=width)
    t.add_column("difference", justify="right", no_wrap=True)
    m, po = s["mismatches"], s["potential_outcomes"]
    for row, (ours, theirs) in zip(s["comparison"], rows, strict=True):
        t.add_row(row["figure"], ours, theirs, _difference(row["difference"]))
    t.add_row("cases missing / extra / differing", str(m["cases"]), "0", _difference(m["cases"]))
    t.add_row("[bold]mismatches[/bold]", "", "", _bad(m["total"]))
    sent = sum(v["requests"] for v in s["deliveries"].values())
    t.caption = (
        "difference: Reclaim's figure minus the simulation's · deliveries refused: of "
        f"{sent} webhooks and events, the simulation sent these bad on purpose · recovered "
        "orders: distinct paid orders (one can recover several cases) · emails that should "
        "not have gone: after a payment or an unsubscribe, without consent, or with links "
        "off the shop's site · ended otherwise: a messaged case must end as the simulator "
        "decided for a customer who got the messages, a held-back case as for one who did "
        "not; a purchase also settles the customer's other cases: "
        f"{po['spillover']} recovered that way, {po['prevented']} never opened · cases: "
        "each matched with the simulation's own replay of when a case opens and how it ends "
        "(contact details, no bot or test order, no purchase since, …) · mismatches: "
        f"{m['figures']} figures differ, {m['cases']} cases do"
    )
    return t


def _difference(d: int | str) -> str:
    """``+3``, ``-76.90``; zero as ``0`` (or ``0.00``), a non-zero one in red."""
    if Decimal(d) == 0:
        return str(d).lstrip("+-")
    text = str(d) if str(d).startswith("-") else f"+{d}"
    return f"[bold red]{text}[/bold red]"


def _bad(n: int) -> str:
    return f"[bold red]{n}[/bold red]" if n else "0"


def _mismatches(s: dict[str, Any]) -> Table:
    t = Table(title="Mismatches (first 40)", title_justify="left")
    t.add_column("store", no_wrap=True)
    t.add_column("kind", no_wrap=True)
    t.add_column("subject", overflow="fold")  # whole: an id cut short cannot be looked up
    t.add_column("truth → Reclaim")
    t.add_column("what the shopper did", overflow="fold")
    for d in s["mismatches"]["details"]:
        t.add_row(
            d["store"],
            d["kind"].split("_")[0],
            d["subject"],
            f"{d['expected']} → {d['actual']}",
            d["story"],
        )
    return t


def _where(console: Console, result: SimulationResult) -> None:
    s = result.summary
    console.print("\n[bold]Where it is[/bold]")
    lines = [
        f"database: {s['database']}",
        "reports:  each store's own report (reclaim report, the simulated days):",
        *(f"  {PLATFORM_LABELS[k]:<13} {path}" for k, path in sorted(s["reports"].items())),
        f"truth:    {s['truth']} (the simulation against its ground truth)",
        "API keys (also in stores.json next to the reports):",
    ]
    for key, store in sorted(result.stores.items()):
        lines.append(f"  {PLATFORM_LABELS[key]:<13} {store.api_key}")
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)
