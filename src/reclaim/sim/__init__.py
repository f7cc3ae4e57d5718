"""The store simulator (SPEC S15): a cross-border store group's traffic, in accelerated time,
through Reclaim's real HTTP API and worker, with the ground truth to compare against.

    from reclaim.sim import SimConfig, simulate
    result = simulate(SimConfig(customers=300, days=3, seed=7),
                      database_url="sqlite:////tmp/demo.sqlite3")
    result.summary["mismatches"]

Modules: :mod:`~reclaim.sim.world` (countries, stores, people), :mod:`~reclaim.sim.behaviour`
(the published and assumed distributions), :mod:`~reclaim.sim.traffic` (sessions and the
delivery plan), :mod:`~reclaim.sim.storefronts` and :mod:`~reclaim.sim.payloads` (each
platform's webhooks), :mod:`~reclaim.sim.truth` (the cases SPEC S2 calls for),
:mod:`~reclaim.sim.driver` (HTTP, clock, worker) and :mod:`~reclaim.sim.summary`.
"""

from reclaim.sim.run import SimulationResult, simulate
from reclaim.sim.traffic import Plan, SimConfig, build_plan

__all__ = ["Plan", "SimConfig", "SimulationResult", "build_plan", "simulate"]
