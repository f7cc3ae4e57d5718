"""The store simulator (SPEC S15): a cross-border store group's traffic, in accelerated time,
through Reclaim's real HTTP API and worker, with real emails to a real SMTP server whose
customers react to them, and the ground truth to compare against.

    from reclaim.sim import SimConfig, simulate
    result = simulate(SimConfig(customers=300, days=3, seed=7),
                      database_url="sqlite:////tmp/demo.sqlite3")
    result.summary["mismatches"], result.summary["lift"], result.summary["true_effect"]

Modules: :mod:`~reclaim.sim.world` (countries, stores, people), :mod:`~reclaim.sim.behaviour`
(the published and assumed distributions, responses to messages included),
:mod:`~reclaim.sim.traffic` (sessions and the delivery plan), :mod:`~reclaim.sim.storefronts`
and :mod:`~reclaim.sim.payloads` (each platform's webhooks), :mod:`~reclaim.sim.truth` (the
cases SPEC S2 calls for), :mod:`~reclaim.sim.effect` (potential outcomes, the true effect,
the lift's interval), :mod:`~reclaim.sim.mailbox` and :mod:`~reclaim.sim.emails` (the SMTP
server, and an email as a customer reads it), :mod:`~reclaim.sim.customers` (what customers
do with their email), :mod:`~reclaim.sim.driver` (HTTP, clock, worker),
:mod:`~reclaim.sim.summary`, :mod:`~reclaim.sim.impact` and :mod:`~reclaim.sim.report` (the
figures and the HTML report).
"""

from reclaim.sim.run import SimulationResult, simulate
from reclaim.sim.traffic import Plan, SimConfig, build_plan

__all__ = ["Plan", "SimConfig", "SimulationResult", "build_plan", "simulate"]
