"""A report as the scheduled email shows it (the ``ReportRenderer`` port): the subject and a
plain-text summary in the report's locale (the headline figures and the top reasons), beside
the HTML page and its PDF that ``render`` draws."""

from __future__ import annotations

from reclaim.adapters.reports.render import render_html, render_pdf
from reclaim.adapters.reports.words import Speaker
from reclaim.services.reports import Report

_REASONS_SHOWN = 3


class ReportPages:
    """Implements ``ReportRenderer``."""

    def html(self, report: Report) -> str:
        return render_html(report)

    def pdf(self, report: Report) -> bytes:
        return render_pdf(report)

    def summary(self, report: Report) -> tuple[str, str]:
        return summary(report)


def summary(report: Report) -> tuple[str, str]:
    """(subject, text) of the report's email, in its locale."""
    say = Speaker(report.locale, report.currency)
    p, rev, total, lift = report.period, report.revenue, report.total, report.lift
    span = say.span(p.start, p.end)
    subject = say("mail_subject", store=report.store_name, period=span)
    lines = [
        say("mail_title", store=report.store_name, period=span, zone=p.timezone),
        "",
        f"{say('recovered_revenue')}: {say.money(rev.total)}",
        f"{say('attributed')}: {say.money(rev.attributed)}",
        f"{say('net')}: {say.money(rev.net)}",
        f"{say('recovery_rate')}: {say.share(total.rate)} "
        f"({say('of_cases', k=say.number(total.recovered), n=say.number(total.opened))})",
    ]
    if lift.holdout == 0:
        lines.append(f"{say('lift')}: {say('no_holdout')}")
    else:
        shown = say.points(lift.value)
        if lift.ci is not None:
            interval = say("interval_is", low=say.points(lift.ci[0]), high=say.points(lift.ci[1]))
            shown += f" ({interval})"
        lines.append(f"{say('lift')}: {shown}")
        if not lift.enough_data and lift.needed_per_arm:
            lines.append(say("not_enough", n=say.number(lift.needed_per_arm)))
    if report.reasons:
        top = ", ".join(
            f"{say(r.reason)} {say.share(r.share)}" for r in report.reasons[:_REASONS_SHOWN]
        )
        lines.append(f"{say('reasons')}: {top}")
    lines += ["", say("mail_attached"), say("method")]
    return subject, "\n".join(lines) + "\n"
