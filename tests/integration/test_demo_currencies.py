"""The demo's cross-border stores take orders in their customers' currencies (issue 15): each
store is given the demo's fixed exchange rates (sim/world.py ``store_rates``), so its report
converts that revenue into its totals and names each currency converted, instead of leaving
it "not in the totals"."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from reclaim.adapters.db.tables import cases, stores
from reclaim.bootstrap import bootstrap
from reclaim.config import Settings
from reclaim.services.reports import build_report, report_json
from reclaim.sim import SimConfig
from reclaim.sim.run import simulate
from reclaim.sim.world import RATES, store_rates


def test_store_rates_cross_the_demo_rates_through_the_euro() -> None:
    usd = store_rates("USD")
    assert "USD" not in usd and set(usd) == set(RATES) - {"USD"}
    assert usd["EUR"] == Decimal("1.08") and usd["GBP"] == Decimal("1.27059")  # 1.08 / 0.85
    assert store_rates("JPY")["EUR"] == Decimal("164")


def test_a_small_demo_reports_other_currencies_converted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    config = SimConfig(customers=120, days=2, seed=4, holdout=0.2, response_scale=8)
    result = simulate(config, database_url=url)
    rt = bootstrap(Settings(database_url=url))
    try:
        with rt.engine.connect() as conn:
            theirs = dict(
                conn.execute(
                    stores.select().with_only_columns(stores.c.id, stores.c.currency)
                ).all()
            )
            recovered = (
                conn.execute(cases.select().where(cases.c.status == "recovered")).mappings().all()
            )
        assert {s.id for s in result.stores.values()} == set(theirs)
        foreign = {
            (r["store_id"], r["currency"])
            for r in recovered
            if r["currency"] != theirs[r["store_id"]]
        }
        assert foreign, "the run recovered no case in another currency: pick another seed"
        converted: set[str] = set()
        for store_id in {s for s, _ in foreign}:
            report = build_report(
                uow=rt.reader(), store_id=store_id, now=config.end + timedelta(days=1),
                start=config.start.date() - timedelta(days=1), end=config.end.date(),
            )  # fmt: skip
            rows = report_json(report)["revenue"]["conversions"]
            assert rows and all(r["rate"] is not None for r in rows), rows
            assert all(Decimal(r["converted"]) > 0 for r in rows if r["what"] == "revenue")
            converted |= {r["currency"] for r in rows}
        assert {c for _, c in foreign} <= converted
    finally:
        rt.close()
