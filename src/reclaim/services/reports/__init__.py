"""Reports (issue 15): a period's funnel, recovery by case kind, revenue in the store's
currency, the lift of messaging over the holdout with its uncertainty, and why customers
abandoned. :func:`build_report` reads the aggregates through the ``ReportReader`` port and
composes a :class:`Report`; :func:`report_json` and :func:`report_rows` give its JSON and
CSV forms (the HTML and PDF are drawn by ``adapters/reports``)."""

from __future__ import annotations

from reclaim.services.reports.build import SALES_KINDS, build_report
from reclaim.services.reports.export import CSV_HEADER, report_json, report_rows
from reclaim.services.reports.model import (
    BENCHMARK,
    ENOUGH_HALF_WIDTH,
    FUNNEL_STAGES,
    BreakdownRow,
    Conversion,
    KindFigures,
    LiftFigures,
    ReasonShare,
    Report,
    Revenue,
    Stage,
    Timing,
)
from reclaim.services.reports.period import Period, resolve

__all__ = [
    "BENCHMARK",
    "CSV_HEADER",
    "ENOUGH_HALF_WIDTH",
    "FUNNEL_STAGES",
    "SALES_KINDS",
    "BreakdownRow",
    "Conversion",
    "KindFigures",
    "LiftFigures",
    "Period",
    "ReasonShare",
    "Report",
    "Revenue",
    "Stage",
    "Timing",
    "build_report",
    "report_json",
    "report_rows",
    "resolve",
]
