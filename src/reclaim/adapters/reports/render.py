"""A :class:`~reclaim.services.reports.Report` as one self-contained HTML page (inline CSS,
inline SVG charts, no script, no remote resource) and as PDF: WeasyPrint prints that same
page, so the two always agree."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reclaim.adapters.reports.charts import Bar, Interval, bars, intervals, rates_against_band
from reclaim.adapters.reports.experiments import experiment_blocks
from reclaim.adapters.reports.words import Speaker
from reclaim.services.reports import BENCHMARK, LiftFigures, Report


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("reclaim.adapters.reports", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _lift_row(say: Speaker, x: LiftFigures) -> dict[str, Any]:
    ci = x.ci
    return {
        "label": say(x.scope),
        "messaged": f"{say.number(x.messaged_recovered)} / {say.number(x.messaged)}",
        "holdout": f"{say.number(x.holdout_recovered)} / {say.number(x.holdout)}",
        "value": say.points(x.value),
        "interval": "–" if ci is None else f"{say.points(ci[0])} … {say.points(ci[1])}",
        "per_case": "–" if x.revenue_per_case is None else say.money(_d(x.revenue_per_case)),
        "per_case_ci": None
        if x.revenue_ci is None
        else f"{say.money(_d(x.revenue_ci[0]))} … {say.money(_d(x.revenue_ci[1]))}",
        "enough": x.enough_data,
        "needed": x.needed_per_arm,
    }


def _d(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def context(report: Report) -> dict[str, Any]:
    """What the page shows, worded and formatted in the report's locale."""
    say = Speaker(report.locale, report.currency)
    p, rev = report.period, report.revenue
    funnel = bars(
        [
            Bar(
                say(s.stage),
                float(s.count),
                say.number(s.count)
                + ("" if s.conversion is None else f" · {say.share(s.conversion)}"),
            )
            for s in report.funnel
        ],
        title=say("funnel"),
    )
    kinds = [*report.kinds, report.total]
    recovery = rates_against_band(
        [
            Bar(
                say(k.kind),
                k.rate,
                f"{say.share(k.rate)} ({say.number(k.recovered)}/{say.number(k.opened)})",
            )
            for k in kinds
        ],
        band=BENCHMARK,
        title=say("recovery"),
        band_label=f"{say.share(BENCHMARK[0])}–{say.share(BENCHMARK[1])}",
    )
    lifts = [*report.lift_by_kind, report.lift]
    lift_chart = intervals(
        [
            Interval(
                say(x.scope),
                x.value,
                None if x.ci is None else x.ci[0],
                None if x.ci is None else x.ci[1],
                say.points(x.value),
            )
            for x in lifts
        ],
        title=say("lift_title"),
    )
    reasons = (
        bars(
            [
                Bar(say(r.reason), r.share, f"{say.share(r.share)} ({r.cases})")
                for r in report.reasons
            ],
            title=say("reasons"),
            top=max((r.share or 0.0 for r in report.reasons), default=1.0) or 1.0,
        )
        if report.reasons
        else None
    )
    return {
        "say": say,
        "report": report,
        "lang": say.lang,
        "period": say("period", start=say.day(p.start), end=say.day(p.end), zone=p.timezone),
        "generated": say("generated", at=say.instant(report.generated_at, p.timezone)),
        "cards": [
            (say("recovered_revenue"), say.money(rev.total)),
            (say("attributed"), say.money(rev.attributed)),
            (say("net"), say.money(rev.net)),
            (say("recovery_rate"), say.share(report.total.rate)),
            (say("lift"), say.points(report.lift.value)),
        ],
        "funnel_chart": funnel,
        "recovery_chart": recovery,
        "kinds": kinds,
        "lift_chart": lift_chart,
        "lifts": [_lift_row(say, x) for x in lifts],
        "no_holdout": report.lift.holdout == 0,
        "experiments": experiment_blocks(say, report.experiments, p.timezone),
        "reasons_chart": reasons,
        "money_rows": [
            (say("attributed"), say.money(rev.attributed)),
            (say("organic"), say.money(rev.organic)),
            (say("total"), say.money(rev.total)),
            (say("refunded_money"), f"{say.money(rev.refunded)} ({rev.refunded_cases})"),
            (say("coupons_redeemed"), say.number(rev.coupons_redeemed)),
            (say("coupon_cost"), say.money(rev.coupon_cost)),
            (say("net"), say.money(rev.net)),
            (say("messages_sent"), say.number(rev.messages_sent)),
            (say("per_message"), say.money(rev.per_message)),
        ]
        + (
            [(say("coupons_unknown"), say.number(rev.coupons_unknown))]
            if rev.coupons_unknown
            else []
        ),
        "conversions": [
            (
                # One row per currency and per figure: recovered revenue, coupon discounts.
                f"{c.currency} · {say('coupon_cost' if c.what == 'coupons' else 'total')}",
                say.money(c.amount, c.currency),
                say("no_rate")
                if c.rate is None
                else f"{say('converted_at', rate=say.number(c.rate))}: {say.money(c.converted)}",
            )
            for c in rev.conversions
        ],
    }


def render_html(report: Report) -> str:
    return _environment().get_template("report.html").render(context(report))


def render_pdf(report: Report) -> bytes:
    """The HTML page printed by WeasyPrint (imported here: it loads Pango when imported)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(report)).write_pdf()
    return pdf
