"""Revenue per case with a bootstrap interval that stays fast for a million cases, the sample
size a lift needs, and the chi-square tail (issue 15)."""

from __future__ import annotations

import math
import random
import time

import pytest

from reclaim.domain.stats import (
    Z95,
    bootstrap_mean_difference,
    chi_square_sf,
    needed_per_arm,
    regularized_gamma_q,
)

# -- bootstrap_mean_difference ------------------------------------------------------------------


def test_arms_that_cannot_vary_give_their_exact_difference() -> None:
    assert bootstrap_mean_difference([10.0], 0, [4.0], 0) == (6.0, 6.0)
    assert bootstrap_mean_difference([], 30, [], 70) == (0.0, 0.0)
    assert bootstrap_mean_difference([25.0] * 200, 0, [], 5) == (25.0, 25.0)


def test_one_value_and_one_zero_against_nothing_recovered() -> None:
    # A resample of A is {0, 0}, {0, 10} or {10, 10}: means 0, 5, 10 with 1/4, 1/2, 1/4.
    assert bootstrap_mean_difference([10.0], 1, [], 3) == (0.0, 10.0)
    assert bootstrap_mean_difference([], 3, [10.0], 1) == (-10.0, 0.0)


def test_an_arm_without_cases_leaves_the_difference_unknown() -> None:
    assert bootstrap_mean_difference([], 0, [5.0], 10) == (-math.inf, math.inf)
    assert bootstrap_mean_difference([5.0], 10, [], 0) == (-math.inf, math.inf)


@pytest.mark.parametrize("kwargs", [{"level": 0.0}, {"level": 1.0}, {"resamples": 0}])
def test_bad_arguments_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        bootstrap_mean_difference([1.0], 1, [1.0], 1, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bootstrap_mean_difference([1.0], -1, [1.0], 1)


def _skewed(rng: random.Random, m: int) -> list[float]:
    return [round(rng.lognormvariate(3.5, 1.0), 2) for _ in range(m)]


def test_the_same_seed_gives_the_same_interval_and_another_seed_another() -> None:
    rng = random.Random(3)
    a, b = _skewed(rng, 80), _skewed(rng, 60)
    first = bootstrap_mean_difference(a, 420, b, 440, seed=7)
    assert bootstrap_mean_difference(a, 420, b, 440, seed=7) == first
    assert bootstrap_mean_difference(a, 420, b, 440, seed=8) != first


def _plain_bootstrap(
    a: list[float], b: list[float], seed: int, resamples: int
) -> tuple[float, float]:
    """Resampling case by case, the textbook way."""
    rng = random.Random(seed)
    diffs = sorted(
        math.fsum(rng.choices(a, k=len(a))) / len(a) - math.fsum(rng.choices(b, k=len(b))) / len(b)
        for _ in range(resamples)
    )
    return diffs[int(0.025 * (resamples - 1))], diffs[int(0.975 * (resamples - 1))]


@pytest.mark.parametrize("m", [30, 150])  # below and above the exact-sum limit (100 picks)
def test_it_agrees_with_resampling_case_by_case(m: int) -> None:
    rng = random.Random(m)
    a, b = _skewed(rng, m), _skewed(rng, m // 2)
    n = 400
    fast = bootstrap_mean_difference(a, n - len(a), b, n - len(b), seed=1, resamples=4000)
    plain = _plain_bootstrap(
        a + [0.0] * (n - len(a)), b + [0.0] * (n - len(b)), seed=2, resamples=4000
    )
    width = plain[1] - plain[0]
    # Two Monte Carlo estimates of the same quantiles: each end within 6 % of the width.
    assert abs(fast[0] - plain[0]) < 0.06 * width
    assert abs(fast[1] - plain[1]) < 0.06 * width


def test_a_million_cases_take_well_under_a_second_and_match_the_normal_interval() -> None:
    rng = random.Random(11)
    a, b = _skewed(rng, 60_000), _skewed(rng, 50_000)
    a_zeros, b_zeros = 440_000, 450_000
    started = time.perf_counter()
    low, high = bootstrap_mean_difference(a, a_zeros, b, b_zeros)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0

    def mean_var(values: list[float], n: int) -> tuple[float, float]:
        mean = math.fsum(values) / n
        return mean, (math.fsum(v * v for v in values) / n - mean * mean) / n

    mean_a, var_a = mean_var(a, len(a) + a_zeros)
    mean_b, var_b = mean_var(b, len(b) + b_zeros)
    half = Z95 * math.sqrt(var_a + var_b)
    centre = mean_a - mean_b
    assert abs(low - (centre - half)) < 0.05 * 2 * half
    assert abs(high - (centre + half)) < 0.05 * 2 * half


def test_the_95_percent_interval_covers_the_true_difference_90_to_99_percent_of_the_time() -> None:
    # 200 synthetic histories, 500 cases per arm: A recovers 25 %, B 15 %, order values
    # log-normal (μ 3.5, σ 0.8). The true difference in revenue per case is known.
    order_mean = math.exp(3.5 + 0.8**2 / 2)
    truth = (0.25 - 0.15) * order_mean
    covered = 0
    for run in range(200):
        rng = random.Random(run)
        a = [rng.lognormvariate(3.5, 0.8) for _ in range(500) if rng.random() < 0.25]
        b = [rng.lognormvariate(3.5, 0.8) for _ in range(500) if rng.random() < 0.15]
        low, high = bootstrap_mean_difference(
            a, 500 - len(a), b, 500 - len(b), seed=run, resamples=1000
        )
        covered += low <= truth <= high
    assert 180 <= covered <= 198, covered


# -- needed_per_arm -----------------------------------------------------------------------------


def test_cases_needed_per_arm_by_the_normal_approximation() -> None:
    # z² (0.2·0.8 + 0.1·0.9) / 0.05² = 3.8415 · 100 = 384.1 → 385.
    assert needed_per_arm(0.2, 0.1, 0.05) == 385
    assert needed_per_arm(0.5, 0.5, 0.25, z=1.0) == 8  # (0.25 + 0.25) / 0.0625
    assert needed_per_arm(0.2, 0.1, 0.10) == 97  # a quarter as many for twice the width


def test_rates_without_variance_use_the_worst_case() -> None:
    assert needed_per_arm(0.0, 0.0, 0.1) == math.ceil(Z95**2 * 0.5 / 0.01) == 193
    assert needed_per_arm(1.0, 0.0, 0.1) == 193


@pytest.mark.parametrize(("p", "q", "h"), [(0.2, 0.1, 0.0), (1.2, 0.1, 0.05), (0.2, -0.1, 0.05)])
def test_needed_per_arm_refuses_nonsense(p: float, q: float, h: float) -> None:
    with pytest.raises(ValueError):
        needed_per_arm(p, q, h)


# -- the chi-square tail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statistic", "dof", "p"),
    [
        (3.841458820694124, 1, 0.05),
        (6.634896601021214, 1, 0.01),
        (10.827566170662733, 1, 0.001),
        (5.991464547107979, 2, 0.05),
        (7.814727903251178, 3, 0.05),
        (9.487729036781154, 4, 0.05),
        (18.307038053275146, 10, 0.05),
        (2.705543454095404, 1, 0.10),
    ],
)
def test_chi_square_critical_values(statistic: float, dof: int, p: float) -> None:
    assert chi_square_sf(statistic, dof) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("x", [0.01, 0.5, 1.0, 2.5, 7.0, 20.0, 60.0])
def test_chi_square_matches_its_closed_forms(x: float) -> None:
    assert chi_square_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-12)
    assert chi_square_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-12)
    closed3 = math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    assert chi_square_sf(x, 3) == pytest.approx(closed3, rel=1e-12)
    assert chi_square_sf(x, 4) == pytest.approx((1 + x / 2) * math.exp(-x / 2), rel=1e-12)


@pytest.mark.parametrize("x", [5.0, 30.0, 49.0, 51.0, 70.0, 150.0])
def test_the_incomplete_gamma_for_a_large_integer_a(x: float) -> None:
    # Q(n, x) = e^(-x) Σ_{k<n} x^k / k! for an integer n: both of its branches at a = 50.
    closed = math.fsum(math.exp(-x + k * math.log(x) - math.lgamma(k + 1)) for k in range(50))
    assert regularized_gamma_q(50, x) == pytest.approx(closed, rel=1e-10)


def test_chi_square_edges() -> None:
    assert chi_square_sf(0.0, 3) == 1.0
    assert chi_square_sf(-1.0, 3) == 1.0
    assert regularized_gamma_q(2.0, 0.0) == 1.0
    assert chi_square_sf(1e4, 1) == 0.0
    with pytest.raises(ValueError):
        chi_square_sf(1.0, 0)
    with pytest.raises(ValueError):
        regularized_gamma_q(0.0, 1.0)
