"""The report drawn for people (issue 15): one self-contained HTML page with server-drawn SVG
charts, in English or Simplified Chinese with Babel's formatting, and the same page as PDF."""

from __future__ import annotations

from reclaim.adapters.reports.mail import ReportPages
from reclaim.adapters.reports.render import render_html, render_pdf

__all__ = ["ReportPages", "render_html", "render_pdf"]
