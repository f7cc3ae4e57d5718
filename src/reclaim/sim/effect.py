"""The causal effect of Reclaim's messages, known by construction, and the lift measured by the
holdout (SPEC S12, S15).

**Potential outcomes.** Every case the simulator knows of (the ground truth of the traffic
*without* any message) gets two outcomes, fixed before anything is sent:

* ``y0``, recovered without messages: what the planned traffic does by itself (the shopper
  comes back on their own, pays the boleto, fixes the card later), read off that ground truth;
* ``y1``, recovered with messages: ``y0``, or persuaded by one of the flow's messages. One
  uniform ``u`` per case (a hash of the seed and the case: common random numbers, the same in
  both worlds) against the cumulative chance of the flow's steps, each step's chance being
  :func:`reclaim.sim.behaviour.step_uplift`: the customer is persuaded by the first step ``k``
  with ``u < 1 − Π_{j≤k}(1 − h_j)``, provided that step's message can reach them in time.

"Can reach them" is the simulator's own reading of SPEC S3/S5, never Reclaim's code: marketing
needs consent (:mod:`reclaim.sim.consent`), customers who will unsubscribe are never persuaded,
and the step is expected (its delay from the flow, pushed out of the email quiet hours in the
customer's time zone, the worker's tick) at least :data:`MARGIN` before the simulation ends and
before the case would close without messages (a cancelled order, a newer checkout). So a
customer without consent, or whose case closes first, has ``y1 = y0``.

A messaged customer follows ``y1`` (buys only after opening and clicking the message that
persuaded them); a held-out one, who gets nothing, follows ``y0``. Then

* ``true_effect`` = mean over cases of ``y1 − y0``;
* ``lift`` = recovery rate of messaged cases − that of held-out cases (from Reclaim's cases,
  holdout flag included), with a 95 % **Newcombe hybrid score interval** (Newcombe 1998,
  method 10: Wilson intervals of each rate, combined) for the difference of two independent
  proportions.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from reclaim.adapters.flows import default_flow
from reclaim.domain.flows import Anchor, Flow
from reclaim.sim import behaviour as bh
from reclaim.sim.consent import country_told, may_market
from reclaim.sim.people import Actor
from reclaim.sim.storefronts import Checkout
from reclaim.sim.truth import ExpectedCase
from reclaim.sim.world import STORE

#: A step counts as reaching the customer in time when it is expected this long before the
#: end of the simulation and before the case would close: the read delay of a persuaded
#: customer (at most 6 h), the checkout, the webhook and a few worker ticks.
MARGIN = timedelta(hours=8)
QUIET_START, QUIET_END = time(22), time(7)  # email quiet hours, customer's local time (S5)


def unit(*parts: object) -> float:
    """A uniform number in [0, 1) from the parts: the same parts, the same number."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@cache
def flow_for(kind: str, holdout: float) -> Flow:
    """Reclaim's default flow for ``kind`` with the simulation's holdout share."""
    from dataclasses import replace

    return replace(default_flow(kind), holdout=holdout)


def out_of_quiet_hours(at: datetime, timezone: str) -> datetime:
    """``at``, or the end of the email quiet hours (07:00 local) it falls in."""
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    if QUIET_END <= local.time() < QUIET_START:
        return at
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    opens = datetime.combine(day, QUIET_END, tzinfo=zone)
    return max(at, opens.astimezone(at.tzinfo))


def next_tick(at: datetime, start: datetime, tick: timedelta) -> datetime:
    """The first worker run at or after ``at``."""
    n = math.ceil((at - start) / tick)
    return start + tick * max(n, 1)


@dataclass(frozen=True, slots=True)
class Potential:
    """One case's two outcomes (see the module docstring)."""

    store: str
    kind: str
    subject: str
    customer: str
    y0: bool
    y1: bool
    u: float
    reached: bool  # consent (or a transactional flow), and not a customer who unsubscribes
    persuaded_by: str | None  # the step whose message makes the customer buy (y1 > y0)
    persuaded_at: int | None  # its position among the case's messages (0: the first)
    expected_steps: tuple[tuple[str, datetime], ...]  # (step, expected send) in time
    why: str

    @property
    def effect(self) -> int:
        return int(self.y1) - int(self.y0)


def unsubscriber(seed: int, store: str, customer: str) -> bool:
    """Will this customer unsubscribe from the first marketing email they get?"""
    return unit(seed, "unsubscribe", store, customer) < bh.UNSUBSCRIBE_SHARE


def potential_outcomes(
    cases: Iterable[ExpectedCase],
    *,
    actors: dict[tuple[str, str], Actor],
    checkouts: dict[tuple[str, str], Checkout],
    seed: int,
    start: datetime,
    end: datetime,
    tick: timedelta,
    holdout: float,
    scale: float = 1.0,
) -> list[Potential]:
    """Both outcomes of every case of the no-message ground truth, in its order."""
    out: list[Potential] = []
    for case in cases:
        actor = actors[(case.store, case.customer)]
        co = checkouts.get((case.store, case.subject))
        out.append(
            _potential(case, actor, co, seed, start, end, tick, flow_for(case.kind, holdout), scale)
        )
    return out


def _potential(
    case: ExpectedCase,
    actor: Actor,
    co: Checkout | None,
    seed: int,
    start: datetime,
    end: datetime,
    tick: timedelta,
    flow: Flow,
    scale: float,
) -> Potential:
    y0 = case.status == "recovered"
    u = unit(seed, "persuaded", case.store, case.kind, case.subject)
    platform = STORE[case.store].platform
    marketing = any(s.purpose == "marketing" for s in flow.steps)
    country_known = country_told(platform, co.stage if co is not None else None)
    reached = (
        not marketing or may_market(actor, platform, country_known=country_known)
    ) and not unsubscriber(seed, case.store, case.customer)
    deadline = end - MARGIN
    if case.status != "recovered" and case.closed_at is not None:
        deadline = min(deadline, case.closed_at - MARGIN)
    expected: list[tuple[str, datetime]] = []
    sent = case.opened_at
    stay = 1.0
    persuaded: tuple[str, int] | None = None
    why = "recovered without messages" if y0 else "not persuaded"
    for position, step in enumerate(flow.steps):
        if step.anchor is Anchor.HOLD_END:
            continue  # the cancellation notice: it persuades nobody
        due = max(case.occurred_at + step.after, sent)
        sent = next_tick(out_of_quiet_hours(due, actor.timezone), start, tick)
        if sent > deadline:
            break
        expected.append((step.key, sent))
        h = bh.step_uplift(
            case.kind,
            step.key,
            decline=co.decline if co else None,
            returning=actor.orders_before > 0,
            scale=scale,
        )
        stay *= 1 - h
        if persuaded is None and u < 1 - stay:
            persuaded = (step.key, position)
    if not reached:
        why = "recovered without messages" if y0 else "not reached (consent, unsubscribed)"
        persuaded = None
    y1 = y0 or persuaded is not None
    if y1 and not y0:
        assert persuaded is not None
        why = f"persuaded by {persuaded[0]}"
    return Potential(
        store=case.store,
        kind=case.kind,
        subject=case.subject,
        customer=case.customer,
        y0=y0,
        y1=y1,
        u=u,
        reached=reached,
        persuaded_by=None if y0 or persuaded is None else persuaded[0],
        persuaded_at=None if y0 or persuaded is None else persuaded[1],
        expected_steps=tuple(expected),
        why=why,
    )


def true_effect(potentials: Sequence[Potential]) -> float:
    """Mean of ``y1 − y0`` over the cases (0 when there are none)."""
    if not potentials:
        return 0.0
    return sum(p.effect for p in potentials) / len(potentials)
