"""One call that runs a whole simulation against a fresh Reclaim database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from reclaim.sim.driver import (
    DemoStore,
    DriveStats,
    LiveServer,
    ProgressFn,
    SimClock,
    connect_stores,
    drive,
    open_runtime,
)
from reclaim.sim.summary import ActualCase, fetch_cases, summarise
from reclaim.sim.traffic import Plan, SimConfig, build_plan
from reclaim.sim.truth import ExpectedCase, expected_cases


@dataclass(slots=True)
class SimulationResult:
    plan: Plan
    expected: list[ExpectedCase]
    actual: list[ActualCase]
    drive: DriveStats
    summary: dict[str, Any]
    stores: dict[str, DemoStore]


def simulate(
    config: SimConfig,
    *,
    database_url: str,
    progress: ProgressFn | None = None,
    database_label: str | None = None,
) -> SimulationResult:
    """Plan the traffic, run it through Reclaim on ``database_url`` (which should be empty),
    work out the ground truth and compare. Deterministic for ``config.seed``."""
    plan = build_plan(config)
    clock = SimClock(config.start)
    rt = open_runtime(database_url, clock)
    try:
        stores = connect_stores(rt, config)
        with LiveServer(rt) as server:
            stats = drive(rt, clock, plan, stores, server.url, progress=progress)
            with httpx.Client(base_url=server.url, timeout=60) as client:
                actual = fetch_cases(client, stores)
        expected = expected_cases(plan.deliveries, config.ticks(), activated_at=config.start)
        summary = summarise(
            plan=plan,
            expected=expected,
            actual=actual,
            drive=stats,
            rt=rt,
            stores=stores,
            database=database_label or database_url,
        )
    finally:
        rt.close()
    return SimulationResult(plan, expected, actual, stats, summary, stores)
