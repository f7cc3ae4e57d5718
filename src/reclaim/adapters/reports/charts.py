"""The report's charts as inline SVG, drawn here on the server: no JavaScript, so the PDF
(WeasyPrint) shows exactly what the HTML page shows.

Each chart is rows of a label, a bar or a point, and the figure written beside it. Labels and
figures are escaped; the numbers only place shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 680
LABEL = 200  # the label column
FIGURE = 130  # the figure column, right
ROW = 26
PLOT = WIDTH - LABEL - FIGURE
INK, BAR, BAND, GOOD, BAD, MUTED = "#1f2933", "#3b6ea5", "#d8ead2", "#2f855a", "#c53030", "#7b8794"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float | None  # None: nothing to draw (no data)
    figure: str  # the text beside the bar


@dataclass(frozen=True, slots=True)
class Interval:
    label: str
    value: float | None
    low: float | None
    high: float | None
    figure: str


def _svg(height: int, body: list[str], title: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'font-size="12" fill="{INK}">'
    )
    # Safe: every text in ``body`` went through escape() (_label, _figure, the band's label);
    # the rest is numbers and constants.
    svg = head + f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    return Markup(svg)  # noqa: S704


def _label(y: float, text: str) -> str:
    return f'<text x="{LABEL - 8}" y="{y:.1f}" text-anchor="end">{escape(text)}</text>'


def _figure(y: float, text: str) -> str:
    return f'<text x="{WIDTH - FIGURE + 8}" y="{y:.1f}">{escape(text)}</text>'


def bars(rows: Sequence[Bar], *, title: str, top: float | None = None) -> Markup:
    """Horizontal bars from zero, scaled to ``top`` (default: the largest value)."""
    most = top if top else max((r.value or 0.0 for r in rows), default=0.0) or 1.0
    body: list[str] = []
    for i, r in enumerate(rows):
        y = i * ROW + 4
        length = 0.0 if r.value is None else max(0.0, min(1.0, r.value / most)) * PLOT
        body.append(_label(y + 14, r.label))
        body.append(
            f'<rect x="{LABEL}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" '
            f'fill="{BAR}" rx="2"/>'
        )
        body.append(_figure(y + 14, r.figure))
    return _svg(len(rows) * ROW + 8, body, title)


def rates_against_band(
    rows: Sequence[Bar], *, band: tuple[float, float], title: str, band_label: str
) -> Markup:
    """Rates (0–1) as bars over the benchmark ``band``, shaded; the axis goes to 50 % or the
    largest rate."""
    top = max([0.5, *(r.value or 0.0 for r in rows)])
    height = len(rows) * ROW + 28

    def x(v: float) -> float:
        return LABEL + min(1.0, v / top) * PLOT

    body = [
        f'<rect x="{x(band[0]):.1f}" y="0" width="{x(band[1]) - x(band[0]):.1f}" '
        f'height="{height - 20}" fill="{BAND}"/>',
        f'<text x="{(x(band[0]) + x(band[1])) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="11">{escape(band_label)}</text>',
    ]
    for i, r in enumerate(rows):
        y = i * ROW + 4
        length = 0.0 if r.value is None else x(r.value) - LABEL
        body.append(_label(y + 14, r.label))
        body.append(
            f'<rect x="{LABEL}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" '
            f'fill="{BAR}" rx="2"/>'
        )
        body.append(_figure(y + 14, r.figure))
    body.append(f'<line x1="{LABEL}" y1="0" x2="{LABEL}" y2="{height - 20}" stroke="{MUTED}"/>')
    return _svg(height, body, title)


def intervals(rows: Sequence[Interval], *, title: str) -> Markup:
    """Points with error bars on an axis around zero (a dashed line): a difference of rates
    and its interval. The axis spans at least ± 10 points."""
    ends = [v for r in rows for v in (r.low, r.high, r.value) if v is not None]
    low = min([-0.1, *ends])
    high = max([0.1, *ends])
    height = len(rows) * ROW + 24

    def x(v: float) -> float:
        return LABEL + (v - low) / (high - low) * PLOT

    zero = x(0.0)
    body = [
        f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height - 18}" stroke="{MUTED}" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{zero:.1f}" y="{height - 4}" text-anchor="middle" fill="{MUTED}" '
        'font-size="11">0</text>',
    ]
    for i, r in enumerate(rows):
        y = i * ROW + 4
        mid = y + ROW / 2 - 2
        body.append(_label(y + 14, r.label))
        if r.value is not None and r.low is not None and r.high is not None:
            colour = GOOD if r.low > 0 else BAD if r.high < 0 else BAR
            body.append(
                f'<line x1="{x(r.low):.1f}" y1="{mid:.1f}" x2="{x(r.high):.1f}" y2="{mid:.1f}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
            for end in (r.low, r.high):
                body.append(
                    f'<line x1="{x(end):.1f}" y1="{mid - 6:.1f}" x2="{x(end):.1f}" '
                    f'y2="{mid + 6:.1f}" stroke="{colour}" stroke-width="2"/>'
                )
            body.append(f'<circle cx="{x(r.value):.1f}" cy="{mid:.1f}" r="4.5" fill="{colour}"/>')
        body.append(_figure(y + 14, r.figure))
    return _svg(height, body, title)
