"""Experiments between flows or steps (SPEC S12): which variant a case gets, whether the split
came out as designed, and when a difference may be believed by an owner who looks every day.

* :func:`assign`: a stable, weighted assignment by hashing the experiment and the case.
* :func:`srm_p_value`: the sample-ratio-mismatch check (chi-square goodness of fit); below
  :data:`SRM_ALPHA` the split is broken and no result can be trusted.
* :func:`msprt`: a mixture sequential probability ratio test of two recovery rates (Johari,
  Koomen, Pekelis & Walsh, "Always Valid Inference: Continuous Monitoring of A/B Tests",
  Operations Research 70(3), 2022; arXiv:1512.04922): an always-valid p-value and the
  matching confidence sequence, both safe to read after every new case.
* :func:`recommend`: the decision rule, stated in :func:`recommend`'s docstring, with its
  evidence in words.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reclaim.domain.stats import chi_square_sf

SRM_ALPHA = 0.001
"""Below this p-value the split between variants is not chance: something is broken."""

MIN_CASES = 100
"""Cases per arm before the test looks at all."""
MIN_EVENTS = 10
"""Recovered and unrecovered cases (both arms together), each, before the test looks."""
DEFAULT_TAU = 0.05
"""The mixing distribution's standard deviation: differences of about 5 points in recovery
rate (the seeds' benchmark band is 15–25 %) are the ones the test is tuned to find fastest."""


def assign(experiment_id: int, case_key: str, variants: Sequence[tuple[str, int]]) -> str:
    """The variant of ``case_key`` in experiment ``experiment_id``: the first 64 bits of
    SHA-256 of ``"<experiment_id>:<case_key>"`` pick a point in the total weight, and the
    variants take the weight in their order (``[("A", 1), ("B", 1)]`` is an even split).

    The same case always gets the same variant, and another experiment shuffles the cases
    afresh. Changing the weights or their order moves cases: fix them for the experiment's
    life. A variant of weight 0 gets no case.
    """
    total = sum(weight for _, weight in variants)
    if not variants or total <= 0 or any(weight < 0 for _, weight in variants):
        raise ValueError("variants need non-negative weights with a positive total")
    digest = hashlib.sha256(f"{experiment_id}:{case_key}".encode()).digest()
    point = (int.from_bytes(digest[:8], "big") * total) >> 64
    for key, weight in variants:
        if point < weight:
            return key
        point -= weight
    raise AssertionError("unreachable: the point lies below the total weight")


def srm_p_value(observed: Mapping[str, int], weights: Mapping[str, int]) -> float:
    """The p-value of the cases' split ``observed`` (cases per variant) under the design
    ``weights``: Pearson's chi-square goodness of fit, with one degree of freedom fewer than
    the variants of positive weight.

    1.0 with no cases or a single variant; 0.0 when a variant of no weight (or not in the
    design) has cases, which no chance explains.
    """
    if any(n > 0 and weights.get(key, 0) <= 0 for key, n in observed.items()):
        return 0.0
    live = {key: weight for key, weight in weights.items() if weight > 0}
    total = sum(observed.get(key, 0) for key in live)
    if total == 0 or len(live) < 2:
        return 1.0
    weight_sum = sum(live.values())
    statistic = 0.0
    for key, weight in live.items():
        expected = total * weight / weight_sum
        statistic += (observed.get(key, 0) - expected) ** 2 / expected
    return chi_square_sf(statistic, len(live) - 1)


class Verdict(StrEnum):
    KEEP_RUNNING = "keep running"
    A_WINS = "A wins"
    B_WINS = "B wins"
    NO_DIFFERENCE = "no difference"
    SAMPLE_RATIO_MISMATCH = "sample ratio mismatch"


@dataclass(frozen=True, slots=True)
class SequentialResult:
    """One look at an experiment of two variants: A's and B's recoveries and cases."""

    successes_a: int
    n_a: int
    successes_b: int
    n_b: int
    difference: float  # rate A − rate B
    p_value: float  # always valid: the smallest over every look so far
    low: float  # the confidence sequence for rate A − rate B, as narrowed by every look
    high: float
    alpha: float
    tau: float
    tested: bool  # the minimum sample was reached (before, p = 1 and [low, high] = [-1, 1])

    @property
    def rate_a(self) -> float:
        return self.successes_a / self.n_a if self.n_a else 0.0

    @property
    def rate_b(self) -> float:
        return self.successes_b / self.n_b if self.n_b else 0.0

    @property
    def significant(self) -> bool:
        return self.p_value < self.alpha

    @property
    def decision(self) -> str:
        """``"A wins"`` / ``"B wins"`` once the p-value is below alpha, else ``"keep running"``
        (:func:`recommend` adds "no difference" and the sample-ratio check)."""
        if not self.significant:
            return Verdict.KEEP_RUNNING
        return Verdict.A_WINS if self.difference > 0 else Verdict.B_WINS


def _variance(successes: int, n: int) -> float:
    """The variance of one arm's rate, with the rate shrunk to (k + 1) / (n + 2) so that an
    arm with no recoveries (or only recoveries) does not claim to be known exactly."""
    rate = (successes + 1) / (n + 2)
    return rate * (1 - rate) / n


def msprt(
    successes_a: int,
    n_a: int,
    successes_b: int,
    n_b: int,
    *,
    tau: float = DEFAULT_TAU,
    alpha: float = 0.05,
    previous: SequentialResult | None = None,
) -> SequentialResult:
    """The mixture sequential probability ratio test of ``rate A = rate B``, at one look.

    With θ̂ = rate A − rate B and V its estimated variance (each arm's ``p(1 − p)/n``, rates
    shrunk as in :func:`_variance`), the normal approximation θ̂ ~ N(θ, V) and a N(0, τ²)
    mixture over θ give the likelihood ratio against θ = θ0 (Johari et al. 2022, §4):

        Λ(θ0) = √(V / (V + τ²)) · exp(τ² (θ̂ − θ0)² / (2 V (V + τ²)))

    The always-valid p-value is ``min(1, 1 / Λ(0))``, and ``{θ0 : Λ(θ0) < 1/α}`` the
    confidence sequence: θ̂ ± √(2V(V + τ²)/τ² · (ln(1/α) + ½ ln((V + τ²)/V))). Pass the
    ``previous`` look's result to keep the p-value's running minimum and the sequence's
    running intersection: that is what makes them valid however often the owner looks. No
    look counts before :data:`MIN_CASES` per arm and :data:`MIN_EVENTS` recovered and
    unrecovered cases, where the normal approximation would not hold.
    """
    if not (0 <= successes_a <= n_a and 0 <= successes_b <= n_b) or tau <= 0:
        raise ValueError("successes must lie between 0 and the cases; tau must be positive")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be between 0 and 1")
    if previous is not None and (previous.n_a > n_a or previous.n_b > n_b):
        raise ValueError("a look cannot have fewer cases than the look before it")
    difference = (successes_a / n_a if n_a else 0.0) - (successes_b / n_b if n_b else 0.0)
    successes = successes_a + successes_b
    tested = min(n_a, n_b) >= MIN_CASES and min(successes, n_a + n_b - successes) >= MIN_EVENTS
    p_value, low, high = 1.0, -1.0, 1.0
    if tested:
        v = _variance(successes_a, n_a) + _variance(successes_b, n_b)
        t2 = tau * tau
        log_lr = 0.5 * math.log(v / (v + t2)) + t2 * difference**2 / (2 * v * (v + t2))
        p_value = math.exp(-max(0.0, log_lr))
        half = math.sqrt(
            2 * v * (v + t2) / t2 * (math.log(1 / alpha) + 0.5 * math.log((v + t2) / v))
        )
        low, high = max(-1.0, difference - half), min(1.0, difference + half)
    if previous is not None:
        p_value = min(p_value, previous.p_value)
        if max(low, previous.low) <= min(high, previous.high):
            low, high = max(low, previous.low), min(high, previous.high)
        tested = tested or previous.tested
    return SequentialResult(
        successes_a, n_a, successes_b, n_b, difference, p_value, low, high, alpha, tau, tested
    )


@dataclass(frozen=True, slots=True)
class Recommendation:
    verdict: Verdict
    winner: str | None  # the winning variant's name
    evidence: str  # the numbers behind the verdict, in words


def _points(x: float) -> str:
    return f"{x * 100:+.1f}"


def recommend(
    result: SequentialResult,
    *,
    names: tuple[str, str] = ("A", "B"),
    srm_p: float | None = None,
    min_effect: float = 0.02,
    max_per_arm: int | None = None,
) -> Recommendation:
    """What to do with an experiment of two variants, by this rule, in this order:

    1. the split's sample-ratio p-value ``srm_p`` below :data:`SRM_ALPHA`: **sample ratio
       mismatch**, whatever the rates say (assignment or tracking is broken);
    2. fewer than the minimum sample (:data:`MIN_CASES` per arm, :data:`MIN_EVENTS`
       recovered and unrecovered): **keep running**, no claim either way;
    3. the always-valid p-value below alpha: the variant with the higher recovery rate
       **wins**;
    4. the confidence sequence inside ``± min_effect`` (2 points by default): **no
       difference** worth having; or both arms at ``max_per_arm`` (the planned size) without
       a winner: **no difference** found;
    5. otherwise **keep running**.
    """
    name_a, name_b = names
    rates = (
        f"{name_a} recovers {result.rate_a:.1%} ({result.successes_a} of {result.n_a}), "
        f"{name_b} {result.rate_b:.1%} ({result.successes_b} of {result.n_b})"
    ).replace("%", " %")
    if srm_p is not None and srm_p < SRM_ALPHA:
        return Recommendation(
            Verdict.SAMPLE_RATIO_MISMATCH,
            None,
            f"the split between variants is off (p = {srm_p:.2g} < {SRM_ALPHA}): assignment "
            f"or tracking is broken, and no result can be trusted until it is fixed",
        )
    if not result.tested:
        return Recommendation(
            Verdict.KEEP_RUNNING,
            None,
            f"{rates}; no claim before {MIN_CASES} cases per arm and {MIN_EVENTS} "
            f"recovered and {MIN_EVENTS} unrecovered cases",
        )
    level = f"{1 - result.alpha:.0%}".replace("%", " %")
    interval = (
        f"{name_a} − {name_b} = {_points(result.difference)} points, {level} confidence "
        f"sequence {_points(result.low)} to {_points(result.high)} points"
    )
    if result.significant:
        a_wins = result.difference > 0
        return Recommendation(
            Verdict.A_WINS if a_wins else Verdict.B_WINS,
            name_a if a_wins else name_b,
            f"{rates}: {interval}; always-valid p = {result.p_value:.2g} < {result.alpha}",
        )
    if -min_effect < result.low and result.high < min_effect:
        return Recommendation(
            Verdict.NO_DIFFERENCE,
            None,
            f"{rates}: {interval}, inside ±{min_effect * 100:.1f} points: "
            f"any difference is too small to matter",
        )
    if max_per_arm is not None and min(result.n_a, result.n_b) >= max_per_arm:
        return Recommendation(
            Verdict.NO_DIFFERENCE,
            None,
            f"{rates}: {interval}; no difference found at the planned {max_per_arm} "
            f"cases per arm (always-valid p = {result.p_value:.2g})",
        )
    return Recommendation(
        Verdict.KEEP_RUNNING,
        None,
        f"{rates}: {interval}; always-valid p = {result.p_value:.2g}, not below {result.alpha} yet",
    )


# -- the stored experiment (table ``experiments``; its commands and API come with issue 15's
# next part) ------------------------------------------------------------------------------


class ExperimentStatus(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm: its key (``A``, ``B`` …), its weight in :func:`assign`, and what it changes:
    another flow version (``flow_id``), or ``overrides`` of one step (timing, copy, channel,
    incentive) of the experiment's target."""

    key: str
    weight: int
    flow_id: int | None = None
    overrides: Mapping[str, object] | None = None


@dataclass(eq=False)
class Experiment:
    """An A/B/n test of a store's flow (``target`` ``"flow"``) or of one step (``target`` the
    step's key) for cases of ``kind``. Cases opened while it runs are assigned a variant
    (``cases.experiment_id``, ``cases.variant``); ``decision`` keeps the recommendation and
    its evidence when it stops."""

    store_id: str
    name: str
    kind: str
    target: str
    variants: tuple[Variant, ...]
    started_at: datetime
    status: str = ExperimentStatus.RUNNING
    stopped_at: datetime | None = None
    decision: Mapping[str, object] | None = None
    id: int | None = None
