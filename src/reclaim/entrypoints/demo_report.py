"""The demo's pages: the product's own report (exactly ``reclaim report --format html``) of
each demo store over the simulated days, and the simulator's comparison with its ground truth
(``truth.html``, what the product cannot know: the true effect, every figure against the
truth, the mailbox checks)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from reclaim.bootstrap import bootstrap, report_html
from reclaim.config import load_settings
from reclaim.errors import NotFound
from reclaim.services.reports import build_report
from reclaim.sim import SimulationResult
from reclaim.sim.report import render

REPORTS = "reports"  # <dir>/reports/<platform>.html
TRUTH = "truth.html"


def write_pages(
    folder: Path, database_url: str, result: SimulationResult, *, elapsed_s: float
) -> tuple[dict[str, str], str]:
    """Write each store's report and the truth page; their paths (by platform) and the
    truth page's. The reports cover the simulated days in each store's time zone, as of the
    simulation's end; a store that saw nothing at all (a short run) has none."""
    config = result.plan.config
    end = config.end
    pages = folder / REPORTS
    pages.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    rt = bootstrap(load_settings(database_url=database_url), clock=lambda: end)
    try:
        for key, store in sorted(result.stores.items()):
            with rt.reader() as uow:
                found = uow.stores.get(store.id)
            assert found is not None
            tz = ZoneInfo(found.timezone)
            try:
                made = build_report(
                    uow=rt.reader(),
                    store_id=store.id,
                    now=end,
                    start=config.start.astimezone(tz).date(),
                    end=end.astimezone(tz).date() + timedelta(days=1),
                )
            except NotFound:  # a short run in which the store saw nothing: no report
                continue
            path = pages / f"{key}.html"
            path.write_text(report_html(made), encoding="utf-8")
            written[key] = str(path)
    finally:
        rt.close()
    truth = folder / TRUTH
    page = render({**result.summary, "reports": written}, elapsed_s=elapsed_s)
    truth.write_text(page, encoding="utf-8")
    return written, str(truth)
