"""One call that runs a whole simulation against a fresh Reclaim database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from reclaim.domain.stores import StoreSettings
from reclaim.sim import impact
from reclaim.sim.cases import ActualCase, fetch_cases
from reclaim.sim.comparison import compare_figures
from reclaim.sim.customers import Audience
from reclaim.sim.driver import (
    PLATFORM_API_KEYS,
    DemoStore,
    Drive,
    DriveStats,
    LiveServer,
    ProgressFn,
    SimClock,
    connect_stores,
    loopback_socket,
    open_runtime,
)
from reclaim.sim.effect import Potential, potential_outcomes
from reclaim.sim.mailbox import Mailbox
from reclaim.sim.platform_api import PlatformApi
from reclaim.sim.stripe import Stripe
from reclaim.sim.summary import summarise
from reclaim.sim.traffic import Plan, SimConfig, build_plan
from reclaim.sim.truth import ExpectedCase, GroundTruth, expected_cases
from reclaim.sim.unsent import no_message


@dataclass(slots=True)
class SimulationResult:
    plan: Plan
    expected: list[ExpectedCase]  # the ground truth of what happened (messages included)
    actual: list[ActualCase]
    drive: DriveStats
    summary: dict[str, Any]
    stores: dict[str, DemoStore]
    potentials: list[Potential]  # per case of the traffic without messages: y0, y1
    audience: Audience
    public_url: str


def simulate(
    config: SimConfig,
    *,
    database_url: str,
    progress: ProgressFn | None = None,
    database_label: str | None = None,
    pace: Callable[[datetime], None] | None = None,
    port: int = 0,
    ready: Callable[[dict[str, DemoStore], str], None] | None = None,
) -> SimulationResult:
    """Plan the traffic, work out every case's two potential outcomes, run the traffic through
    Reclaim on ``database_url`` (which should be empty) with its emails going to a real SMTP
    server whose customers react, and compare with the ground truth. Deterministic for
    ``config.seed``. ``pace`` is called with each simulated instant before it is played (the
    real-time mode sleeps there); ``port`` is the API's (0: a free one); ``ready`` is called
    with the stores and the API's URL once it serves, before the first delivery."""
    plan = build_plan(config)
    ticks = config.ticks()
    settings = StoreSettings()
    without = expected_cases(plan.deliveries, ticks, activated_at=config.start)
    actors = {(a.store, a.key): a for a in plan.actors}
    potentials = potential_outcomes(
        without,
        actors=actors,
        checkouts=plan.subjects,
        seed=config.seed,
        start=config.start,
        end=config.end,
        tick=config.tick,
        holdout=config.holdout,
        scale=config.response_scale,
    )
    clock = SimClock(config.start)
    sock = loopback_socket(port)
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with Mailbox() as mailbox, PlatformApi(PLATFORM_API_KEYS) as platform_api:
        rt = open_runtime(database_url, clock, smtp_url=mailbox.url, public_url=public_url)
        for front in plan.fronts.values():
            if isinstance(front, Stripe):
                front.promotions = platform_api
        try:
            stores = connect_stores(rt, config, platform_api=platform_api.url)
            truth = GroundTruth(activated_at=config.start, settings=settings)
            with (
                LiveServer(rt, sock) as server,
                httpx.Client(base_url=server.url, timeout=60) as client,
            ):
                if ready is not None:
                    ready(stores, server.url)
                run = Drive(
                    rt, clock, plan, stores, client, mailbox=mailbox, truth=truth, pace=pace
                )
                audience = Audience(
                    plan=plan,
                    truth=truth,
                    potentials={(p.store, p.kind, p.subject): p for p in potentials},
                    host=run,
                    end=config.end,
                    holdout=config.holdout,
                    hold_period=settings.hold_period,
                )
                run.audience = audience
                stats = run.run(progress=progress)
                actual = fetch_cases(client, stores)
            expected = truth.cases
            summary = summarise(
                plan=plan,
                expected=expected,
                actual=actual,
                drive=stats,
                rt=rt,
                stores=stores,
                database=database_label or database_url,
                sent=run.sent,
            )
            summary["messages"] = impact.messages(rt, stats, config.days)
            summary["no_message"] = no_message(actual, summary["messages"]["step_outcomes"])
            summary["customers_did"] = impact.customers(audience)
            summary["checks"] = impact.checks(audience)
            summary.update(impact.effect(potentials, actual, audience.bought))
            summary["holdout_share"] = config.holdout
            summary["response_scale"] = config.response_scale
            summary["dropped_planned_deliveries"] = stats.dropped
            compare_figures(summary)
        finally:
            rt.close()
    return SimulationResult(
        plan, expected, actual, stats, summary, stores, potentials, audience, public_url
    )
