"""How ``reclaim demo`` and ``reclaim sim`` drive a simulation: its options checked, the run
timed, real-time pacing (:class:`Pacer`), and the API served on a finished run's database with
the clock stopped at the run's end. What they print and write is the command's
(``reclaim.entrypoints.demo``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reclaim.errors import InvalidInput
from reclaim.sim.driver import DemoStore, ProgressFn
from reclaim.sim.run import SimulationResult, simulate
from reclaim.sim.traffic import SimConfig

# 30 days of 900 customers simulate in about a minute on an idle 2-core machine; with half of
# the cases held out, the lift's 95 % interval of the default run (seed 7) excludes zero and
# holds the true effect (with 600 customers and 10 % held out it was −3.9 to +20.5 points:
# too few held-out cases to tell an effect of +10 points from none). docs/demo.md.
DEMO_CUSTOMERS = 900
DEMO_HOLDOUT = 0.5
DEMO_DAYS = 30


@dataclass(frozen=True, slots=True)
class Options:
    customers: int = DEMO_CUSTOMERS
    days: int = DEMO_DAYS
    seed: int = 7
    holdout: float = 0.10
    response_scale: float = 1.0

    def config(self) -> SimConfig:
        return SimConfig(
            customers=self.customers,
            days=self.days,
            seed=self.seed,
            holdout=self.holdout,
            response_scale=self.response_scale,
        )


def checked_options(
    customers: int, days: int, seed: int, holdout: float, response_scale: float
) -> Options:
    if customers < 1:
        raise InvalidInput("customers must be at least 1", field="customers")
    if not 0 <= holdout <= 0.5:
        raise InvalidInput("holdout must be a share between 0 and 0.5", field="holdout")
    if response_scale < 0:
        raise InvalidInput("response scale must not be negative", field="response_scale")
    return Options(customers, days, seed, holdout, response_scale)


class Pacer:
    """Real-time mode: waits until the wall clock catches up with each simulated instant
    (``speed`` simulated seconds per real second). ``sleep`` and ``monotonic`` are
    parameters so that the pacing can be checked without waiting."""

    def __init__(
        self,
        speed: float = 1.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.speed = speed
        self.sleep = sleep
        self.monotonic = monotonic
        self.origin: tuple[datetime, float] | None = None

    def __call__(self, at: datetime) -> None:
        if self.origin is None:
            self.origin = (at, self.monotonic())
            return
        start, wall = self.origin
        due = wall + (at - start).total_seconds() / self.speed
        wait = due - self.monotonic()
        if wait > 0:
            self.sleep(wait)


def timed_simulation(
    config: SimConfig,
    *,
    database_url: str,
    label: str,
    progress: ProgressFn | None = None,
    pace: Callable[[datetime], None] | None = None,
    port: int = 0,
    ready: Callable[[dict[str, DemoStore], str], None] | None = None,
) -> tuple[SimulationResult, float]:
    """:func:`~reclaim.sim.simulate` on ``database_url`` (shown as ``label``), and the
    seconds it took."""
    began = time.perf_counter()
    result = simulate(
        config,
        database_url=database_url,
        progress=progress,
        database_label=label,
        pace=pace,
        port=port,
        ready=ready,
    )
    return result, time.perf_counter() - began


def serve_stopped(
    database_url: str, result: SimulationResult, *, port: int, ready: Callable[[str], None]
) -> None:
    """Serve the API on a finished run's database at 127.0.0.1:``port`` until Ctrl-C, with
    the clock stopped at the simulation's end (a worker on the wall clock would expire the
    simulated cases, so none runs). ``ready`` is called with the API's URL before it serves."""
    import uvicorn

    from reclaim.bootstrap import bootstrap
    from reclaim.config import load_settings
    from reclaim.entrypoints.api import create_app

    end = result.plan.config.end
    url = f"http://127.0.0.1:{port}"
    # Swagger UI on: the demo serves on the loopback only, and /docs needs nothing from outside
    settings = load_settings(database_url=database_url, public_url=url, api_docs=True)
    rt = bootstrap(settings, clock=lambda: end)
    ready(url)
    config = uvicorn.Config(
        create_app(rt), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()
