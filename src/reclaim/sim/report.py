"""The demo's HTML report: one self-contained file (inline CSS and SVG, no scripts, fonts or
other external assets) with the run's figures and three charts: recovery by case kind
(messaged against held back), emails per simulated day, and the measured lift with the range
we are 95 % sure it lies in, next to what the simulator built in; and why cases got no
message. Written for a store owner: plain words, the technical terms in the notes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

KIND_LABELS = {
    "abandoned_checkout": "Abandoned checkout",
    "pending_order": "Pending order",
    "failed_payment": "Failed payment",
}
MESSAGED, HELD_OUT, TRUTH = "#2563eb", "#9ca3af", "#dc2626"
CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2933;margin:2rem auto;
max-width:60rem;padding:0 1rem}h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;
margin:2rem 0 .5rem}p.lead{color:#52606d;margin:0 0 1rem}table{border-collapse:collapse;
width:100%;margin:.5rem 0}td,th{padding:.3rem .6rem;border-bottom:1px solid #e4e7eb;
text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.8rem}
.kpi{border:1px solid #e4e7eb;border-radius:8px;padding:.7rem .9rem}.kpi b{display:block;
font-size:1.35rem}.kpi span{color:#52606d;font-size:.85rem}svg{max-width:100%;height:auto}
.note{color:#52606d;font-size:.85rem}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def points(x: float) -> str:
    """A difference of two rates, in (percentage) points."""
    return f"{x * 100:+.1f} points"


def sure(interval: Sequence[float]) -> str:
    low, high = interval
    return (
        f"we are 95 % sure the true lift is between {low * 100:+.1f} and {high * 100:+.1f} points"
    )


def _store_links(s: dict[str, Any]) -> str:
    """Links to each store's own report (``reclaim report``'s page, written by the demo)."""
    reports = s.get("reports") or {}
    if not reports:
        return ""
    links = " · ".join(f"<a href='reports/{_e(key)}.html'>{_e(key)}</a>" for key in sorted(reports))
    return (
        "<p class='lead'>What Reclaim tells each store's owner is its own report: "
        f"{links}. This page adds what only the simulator knows: the true effect of the "
        "messages and every figure against the ground truth.</p>"
    )


def render(summary: dict[str, Any], *, elapsed_s: float | None = None) -> str:
    """The report for a simulation summary (:func:`reclaim.sim.simulate`'s)."""
    s = summary
    took = f", simulated in {elapsed_s:.0f} s" if elapsed_s is not None else ""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>Reclaim demo against the truth, seed {_e(s['seed'])}</title>"
        f"<style>{CSS}</style></head>",
        "<body><h1>Reclaim demo: the simulation against its ground truth</h1>",
        _store_links(s),
        f"<p class='lead'>Four simulated shops, {_e(s['customers'])} customers over "
        f"{_e(s['days'])} days ({_e(s['start'][:10])} to {_e(s['end'][:10])}); "
        f"{_e(round(s['holdout_share'] * 100))} % of cases get no message on purpose, to "
        f"measure what the messages are worth. Seed {_e(s['seed'])}{_e(took)}.</p>",
        _kpis(s),
        "<h2>Recovery by kind of case</h2>",
        _recovery_chart(s),
        "<p class='note'>Share of cases recovered: with messages (blue) and held back without "
        "(grey); n is the number of cases.</p>",
        "<h2>Emails per simulated day</h2>",
        _per_day_chart(s["messages"]["emails_per_day"]),
        "<h2>What the messages add</h2>",
        f"<p>{_e(_lift_sentence(s))}</p>",
        _lift_chart(s),
        "<p class='note'>Blue dot: how many points more often a case recovers with messages "
        "than without, measured on the cases held back; the bar: the range we are 95 % sure "
        "the true lift lies in (Newcombe's interval for a difference of two proportions). Red "
        "diamond: what the simulator built in (over every case, its outcome with messages "
        "minus its outcome without).</p>",
        "<h2>Why some cases got no message</h2>",
        _no_message(s),
        "<h2>Figures</h2>",
        _tables(s),
        "<h2>Checked against what really happened in the simulation</h2>",
        _comparison(s),
        "<p class='note'>Difference: Reclaim's figure minus the simulation's. The mismatches "
        "count every figure that differs and every case missing, extra or ending otherwise "
        "than the simulation says. A messaged case must end as the simulator decided for a "
        "customer who got the messages, a held-back case as for one who did not.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _kpis(s: dict[str, Any]) -> str:
    eur = s["recovered_revenue_eur"]
    low, high = s["lift_ci"]
    items = [
        (f"{s['checkouts']['total']}", "checkouts"),
        (f"{sum(k['total'] for k in s['cases'].values())}", "cases opened"),
        (f"{s['messages']['total']}", "messages sent"),
        (f"{s['recovered_orders']}", f"orders won back (EUR {eur})"),
        (
            points(s["lift"]),
            f"what messages add: 95 % sure between {low * 100:+.1f} and {high * 100:+.1f}",
        ),
        (points(s["true_effect"]), "what the simulator built in"),
    ]
    cells = "".join(f"<div class='kpi'><b>{_e(v)}</b><span>{_e(k)}</span></div>" for v, k in items)
    return f"<div class='grid'>{cells}</div>"


def _recovery_chart(s: dict[str, Any]) -> str:
    w, h, left, top, bottom = 640, 252, 48, 28, 44
    plot_h = h - top - bottom
    kinds = list(KIND_LABELS)
    group = (w - left - 16) / len(kinds)
    bar = group / 4
    out = [_svg_open(w, h, "Recovery rate by case kind, with messages and held back")]
    for frac in (0, 0.25, 0.5, 0.75, 1.0):
        y = top + plot_h * (1 - frac)
        out.append(f"<line x1='{left}' x2='{w - 8}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e4e7eb'/>")
        out.append(_text(left - 6, y + 4, f"{frac:.0%}", anchor="end"))
    for i, kind in enumerate(kinds):
        k = s["by_kind"][kind]
        x0 = left + i * group + (group - 2 * bar - 6) / 2
        for j, (n, rec, colour) in enumerate(
            (
                (k["messaged"], k["messaged_recovered"], MESSAGED),
                (k["holdout"], k["holdout_recovered"], HELD_OUT),
            )
        ):
            rate = rec / n if n else 0.0
            x = x0 + j * (bar + 6)
            y = top + plot_h * (1 - rate)
            out.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar:.1f}' "
                f"height='{top + plot_h - y:.1f}' fill='{colour}'>"
                f"<title>{_e(KIND_LABELS[kind])}: {rec}/{n}</title></rect>"
            )
            out.append(_text(x + bar / 2, y - 4, f"{rate:.0%}", anchor="middle", size=11))
            out.append(_text(x + bar / 2, top + plot_h + 14, f"n={n}", anchor="middle", size=10))
        out.append(
            _text(x0 + bar + 3, h - 10, KIND_LABELS[kind], anchor="middle", size=12, bold=True)
        )
    for j, (label, colour) in enumerate((("messaged", MESSAGED), ("held back", HELD_OUT))):
        lx = w - 170 + j * 85
        out.append(f"<rect x='{lx}' y='2' width='10' height='10' fill='{colour}'/>")
        out.append(_text(lx + 14, 11, label, size=11))
    out.append("</svg>")
    return "".join(out)


def _per_day_chart(per_day: Sequence[int]) -> str:
    w, h, left, top, bottom = 640, 200, 40, 12, 28
    plot_h = h - top - bottom
    peak = max(max(per_day, default=0), 1)
    width = (w - left - 8) / max(len(per_day), 1)
    out = [_svg_open(w, h, "Emails received per simulated day")]
    for frac in (0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        out.append(f"<line x1='{left}' x2='{w - 8}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e4e7eb'/>")
        out.append(_text(left - 6, y + 4, f"{round(peak * frac)}", anchor="end"))
    for day, n in enumerate(per_day):
        bh = plot_h * n / peak
        x = left + day * width
        out.append(
            f"<rect x='{x + 1:.1f}' y='{top + plot_h - bh:.1f}' width='{max(width - 2, 1):.1f}' "
            f"height='{bh:.1f}' fill='{MESSAGED}'><title>day {day + 1}: {n}</title></rect>"
        )
        if len(per_day) <= 10 or day % 5 == 0:
            out.append(_text(x + width / 2, h - 10, f"{day + 1}", anchor="middle", size=10))
    out.append("</svg>")
    return "".join(out)


def _lift_chart(s: dict[str, Any]) -> str:
    rows = [("All cases", s["lift"], s["lift_ci"], s["true_effect"])]
    for kind, label in KIND_LABELS.items():
        k = s["by_kind"][kind]
        if k["messaged"] or k["holdout"]:
            rows.append((label, k["lift"], k["lift_ci"], k["true_effect"]))
    w, left, right, row_h, top = 640, 150, 24, 34, 10
    h = top + row_h * len(rows) + 44
    lo = float(min(-0.1, *(r[2][0] for r in rows), *(r[3] for r in rows)))
    hi = float(max(0.3, *(r[2][1] for r in rows), *(r[3] for r in rows)))

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (w - left - right)

    out = [_svg_open(w, h, "Measured lift with its 95 % interval, and the true effect")]
    axis_y = top + row_h * len(rows) + 4
    tick = 0.1 if hi - lo <= 1.0 else 0.25
    v = round(lo / tick) * tick
    while v <= hi + 1e-9:
        out.append(
            f"<line x1='{x(v):.1f}' x2='{x(v):.1f}' y1='{top}' y2='{axis_y}' "
            f"stroke='{'#9aa5b1' if abs(v) < 1e-9 else '#e4e7eb'}'/>"
        )
        out.append(_text(x(v), axis_y + 16, f"{v * 100:+.0f}", anchor="middle", size=10))
        v += tick
    for i, (label, lift, (low, high), truth) in enumerate(rows):
        y = top + row_h * i + row_h / 2
        out.append(_text(left - 10, y + 4, label, anchor="end", size=12, bold=i == 0))
        out.append(
            f"<line x1='{x(low):.1f}' x2='{x(high):.1f}' y1='{y:.1f}' y2='{y:.1f}' "
            f"stroke='{MESSAGED}' stroke-width='6' stroke-linecap='round' opacity='.35'>"
            f"<title>95 % sure between {points(low)} and {points(high)}</title></line>"
        )
        out.append(
            f"<circle cx='{x(lift):.1f}' cy='{y:.1f}' r='5' fill='{MESSAGED}'>"
            f"<title>messages add {points(lift)}</title></circle>"
        )
        tx, ty = x(truth), y
        out.append(
            f"<path d='M{tx:.1f} {ty - 7:.1f}L{tx + 6:.1f} {ty:.1f}L{tx:.1f} {ty + 7:.1f}"
            f"L{tx - 6:.1f} {ty:.1f}Z' fill='{TRUTH}'><title>simulator {points(truth)}</title>"
            "</path>"
        )
    out.append(_text(w - right, h - 2, "points", anchor="end", size=10))
    out.append("</svg>")
    return "".join(out)


def _svg_open(w: int, h: float, label: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {w} {h:.0f}' width='{w}' "
        f"height='{h:.0f}' role='img' aria-label='{_e(label)}' "
        "font-family='system-ui,sans-serif'>"
    )


def _text(
    x: float, y: float, label: str, *, anchor: str = "start", size: int = 11, bold: bool = False
) -> str:
    weight = " font-weight='600'" if bold else ""
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' "
        f"fill='#3e4c59'{weight}>{_e(label)}</text>"
    )


def _tables(s: dict[str, Any]) -> str:
    def row(*cells: object, head: bool = False) -> str:
        tag = "th" if head else "td"
        return (
            "<tr>"
            + "".join(
                f"<{tag}{' class=n' if i else ''}>{_e(c)}</{tag}>" for i, c in enumerate(cells)
            )
            + "</tr>"
        )

    kinds = [
        row("kind", "cases", "messaged", "recovered", "held back", "recovered", head=True),
        *(
            row(
                KIND_LABELS[k],
                s["cases"][k]["total"],
                v["messaged"],
                v["messaged_recovered"],
                v["holdout"],
                v["holdout_recovered"],
            )
            for k, v in s["by_kind"].items()
        ),
    ]
    m, c = s["messages"], s["customers_did"]
    channels = ", ".join(f"{ch} {sum(v.values())}" for ch, v in m["by_channel"].items()) or "none"
    figures = [
        row("what", "how many", head=True),
        row(
            "checkouts (with contact)",
            f"{s['checkouts']['total']} ({s['checkouts']['with_contact']})",
        ),
        row("messages by channel", channels),
        row("emails opened / restore clicks", f"{c['opens']} / {c['restore_clicks']}"),
        row("unsubscribes", c["unsubscribes"]),
        row(
            "coupons issued / created on the store / redeemed",
            f"{m['coupons']['issued']} / {m['coupons']['created_on_the_store']}"
            f" / {m['coupons']['redeemed']}",
        ),
        row("orders won back", s["recovered_orders"]),
        row("their value (EUR, other currencies at fixed demo rates)", s["recovered_revenue_eur"]),
        row(
            "recovered cases: thanks to a message / on their own",
            f"{s['attributed']} / {s['organic']}",
        ),
        row("what messages add", f"{points(s['lift'])}; {sure(s['lift_ci'])}"),
        row("what the simulator built in", points(s["true_effect"])),
        row("mismatches with the simulation", s["mismatches"]["total"]),
        row("emails that should not have gone", s["checks"]["total"]),
    ]
    revenue = [row("currency", "recovered", head=True)] + [
        row(cur, amount) for cur, amount in s["recovered_revenue"].items()
    ]
    return (
        f"<table>{''.join(kinds)}</table><table>{''.join(figures)}</table>"
        f"<table>{''.join(revenue)}</table>"
    )


def _lift_sentence(s: dict[str, Any]) -> str:
    msg, held = s["messaged"], s["holdout"]

    def rate(recovered: int, cases: int) -> str:
        return f"{recovered} of {cases}" + (f" ({recovered / cases:.0%})" if cases else "")

    return (
        f"{rate(msg['recovered'], msg['cases'])} messaged cases recovered, against "
        f"{rate(held['recovered'], held['cases'])} held back without messages: "
        f"{abs(s['lift']) * 100:.1f} points {'less' if s['lift'] < 0 else 'more'} often "
        f"({points(s['lift'])}); {sure(s['lift_ci'])}. The simulator, which knows what "
        f"every customer would have done, says {points(s['true_effect'])}."
    )


def _no_message(s: dict[str, Any]) -> str:
    """Why cases got no message (one reason per case), then the messages held back or
    postponed on the way (per planned message)."""
    none = s["no_message"]

    def table(rows: list[dict[str, Any]], count: str, head: str) -> str:
        out = [f"<tr><th>{_e(head)}</th><th class=n>{_e(count)}</th><th>detail</th></tr>"]
        out += [
            f"<tr><td>{_e(r['label'])}</td><td class=n>{_e(r[count])}</td>"
            f"<td>{_e(r['detail'])}</td></tr>"
            for r in rows
        ]
        return f"<table>{''.join(out)}</table>"

    return (
        f"<p>{_e(none['cases'])} of {_e(none['of'])} cases got no message; each is counted once, "
        "for the reason its page in the API gives.</p>"
        + table(none["reasons"], "cases", "reason")
        + "<p class='note'>Messages held back or postponed on the way, counted per message a "
        "flow planned (a case can be held back for its first reminder and again for its "
        "second):</p>" + table(none["held_back"], "steps", "reason")
    )


def _signed(d: object) -> str:
    text = str(d)
    return text if text.startswith("-") or not text.strip("0.") else f"+{text}"


def _comparison(s: dict[str, Any]) -> str:
    """Every compared figure: Reclaim's, the truth's, their difference; then the mismatches."""
    m = s["mismatches"]
    rows = [
        "<tr><th>figure</th><th class=n>Reclaim</th><th class=n>simulation</th>"
        "<th class=n>difference</th></tr>"
    ]
    cells = [
        *((r["figure"], r["reclaim"], r["truth"], r["difference"]) for r in s["comparison"]),
        ("cases missing / extra / differing", m["cases"], 0, m["cases"]),
    ]
    for figure, mine, truth, diff in cells:
        rows.append(
            f"<tr><td>{_e(figure)}</td><td class=n>{_e(mine)}</td><td class=n>{_e(truth)}</td>"
            f"<td class=n>{_e(_signed(diff))}</td></tr>"
        )
    rows.append(f"<tr><th>mismatches</th><td></td><td></td><th class=n>{_e(m['total'])}</th></tr>")
    return f"<table>{''.join(rows)}</table>"
