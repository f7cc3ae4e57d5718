"""Experiments (issue 15): stable weighted assignment, the sample-ratio-mismatch check, and an
always-valid test that an owner who looks every day cannot be fooled by."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from reclaim.domain.experiments import (
    MIN_CASES,
    SRM_ALPHA,
    Recommendation,
    SequentialResult,
    Verdict,
    assign,
    msprt,
    recommend,
    srm_p_value,
)

EVEN = [("A", 1), ("B", 1)]

# -- assign -------------------------------------------------------------------------------------


def test_assignment_is_pinned_so_running_experiments_never_reshuffle() -> None:
    assert [assign(7, f"case-{i}", EVEN) for i in range(8)] == list("BABBABAB")
    assert [assign(8, f"case-{i}", EVEN) for i in range(8)] == list("ABBABBAB")
    three = [("A", 1), ("B", 2), ("C", 7)]
    assert [assign(7, f"case-{i}", three) for i in range(8)] == list("CCCCBCCC")


def test_the_same_case_always_gets_the_same_variant() -> None:
    for i in range(200):
        key = f"cs_{i:05d}"
        assert len({assign(42, key, EVEN) for _ in range(3)}) == 1


@pytest.mark.parametrize(
    "variants", [[("A", 1), ("B", 1)], [("A", 1), ("B", 2), ("C", 7)], [("A", 9), ("B", 1)]]
)
def test_shares_follow_the_weights_over_100k_cases(variants: list[tuple[str, int]]) -> None:
    counts = Counter(assign(3, f"case-{i}", variants) for i in range(100_000))
    total = sum(weight for _, weight in variants)
    for key, weight in variants:
        assert abs(counts[key] / 100_000 - weight / total) < 0.006, (key, counts)


def test_another_experiment_shuffles_the_cases_afresh() -> None:
    same = sum(assign(1, f"case-{i}", EVEN) == assign(2, f"case-{i}", EVEN) for i in range(20_000))
    assert abs(same / 20_000 - 0.5) < 0.015


def test_a_variant_of_weight_zero_gets_no_case() -> None:
    variants = [("A", 1), ("paused", 0), ("B", 1)]
    assert {assign(5, f"case-{i}", variants) for i in range(2000)} == {"A", "B"}


@pytest.mark.parametrize("variants", [[], [("A", 0)], [("A", 2), ("B", -1)]])
def test_assignment_needs_a_positive_total_weight(variants: list[tuple[str, int]]) -> None:
    with pytest.raises(ValueError):
        assign(1, "case-1", variants)


# -- srm_p_value --------------------------------------------------------------------------------


def test_an_exact_split_has_p_one() -> None:
    assert srm_p_value({"A": 500, "B": 500}, {"A": 1, "B": 1}) == pytest.approx(1.0)
    assert srm_p_value({"A": 250, "B": 750}, {"A": 1, "B": 3}) == pytest.approx(1.0)


def test_a_lopsided_split_by_pearson_s_chi_square() -> None:
    # Expected 4850 each: χ² = 2 · 150² / 4850, one degree of freedom.
    statistic = 2 * 150**2 / 4850
    p = srm_p_value({"A": 5000, "B": 4700}, {"A": 1, "B": 1})
    assert p == pytest.approx(math.erfc(math.sqrt(statistic / 2)), rel=1e-12)
    assert p == pytest.approx(0.0023187814543, rel=1e-9)
    assert p > SRM_ALPHA
    # Three variants: two degrees of freedom, p = exp(-χ²/2).
    observed = {"A": 1100, "B": 1000, "C": 900}
    statistic = (100**2 + 0 + 100**2) / 1000
    assert srm_p_value(observed, {"A": 1, "B": 1, "C": 1}) == pytest.approx(
        math.exp(-statistic / 2), rel=1e-12
    )
    assert srm_p_value({"A": 5300, "B": 4700}, {"A": 1, "B": 1}) < SRM_ALPHA


def test_srm_edges() -> None:
    assert srm_p_value({}, {"A": 1, "B": 1}) == 1.0
    assert srm_p_value({"A": 10}, {"A": 1}) == 1.0
    assert srm_p_value({"A": 10, "B": 0}, {"A": 1, "B": 1}) < 0.01
    assert srm_p_value({"A": 10, "paused": 1}, {"A": 1, "paused": 0}) == 0.0
    assert srm_p_value({"A": 10, "stranger": 1}, {"A": 1, "B": 1}) == 0.0


# -- msprt --------------------------------------------------------------------------------------


def test_no_look_counts_before_the_minimum_sample() -> None:
    early = msprt(30, 99, 5, 99)
    assert (early.p_value, early.low, early.high, early.tested) == (1.0, -1.0, 1.0, False)
    assert early.decision == "keep running"
    few_events = msprt(4, 150, 5, 150)  # 9 recoveries in all
    assert (few_events.p_value, few_events.tested) == (1.0, False)


def test_one_look_by_the_mixture_likelihood_ratio() -> None:
    result = msprt(60, 200, 40, 200, tau=0.05)
    ra, rb = 61 / 202, 41 / 202
    v = ra * (1 - ra) / 200 + rb * (1 - rb) / 200
    t2 = 0.05**2
    ratio = math.sqrt(v / (v + t2)) * math.exp(t2 * 0.1**2 / (2 * v * (v + t2)))
    half = math.sqrt(2 * v * (v + t2) / t2 * (math.log(20) + 0.5 * math.log((v + t2) / v)))
    assert result.difference == pytest.approx(0.1)
    assert result.p_value == pytest.approx(min(1.0, 1 / ratio), rel=1e-12)
    assert result.p_value == pytest.approx(0.32872, abs=1e-5)
    assert (result.low, result.high) == pytest.approx((0.1 - half, 0.1 + half), rel=1e-12)
    assert (result.rate_a, result.rate_b, result.tested) == (0.3, 0.2, True)


def test_the_p_value_is_below_alpha_exactly_when_the_sequence_leaves_out_zero() -> None:
    for sa, sb in [(60, 40), (70, 40), (75, 40), (80, 40), (40, 80)]:
        result = msprt(sa, 200, sb, 200)
        assert result.significant == (not result.low <= 0.0 <= result.high), (sa, sb)


def test_swapping_the_arms_mirrors_the_result() -> None:
    ab, ba = msprt(80, 300, 50, 300), msprt(50, 300, 80, 300)
    assert ba.difference == pytest.approx(-ab.difference)
    assert ba.p_value == pytest.approx(ab.p_value)
    assert (ba.low, ba.high) == pytest.approx((-ab.high, -ab.low))


def test_the_previous_look_keeps_the_smallest_p_and_narrows_the_sequence() -> None:
    first = msprt(80, 200, 40, 200)
    later = msprt(90, 300, 70, 300, previous=first)
    alone = msprt(90, 300, 70, 300)
    assert later.p_value == first.p_value < alone.p_value
    assert later.low == max(first.low, alone.low)
    assert later.high == min(first.high, alone.high)
    assert later.decision == first.decision == "A wins"


def test_a_look_with_fewer_cases_than_the_last_is_refused() -> None:
    with pytest.raises(ValueError):
        msprt(10, 150, 10, 150, previous=msprt(20, 200, 20, 200))
    with pytest.raises(ValueError):
        msprt(10, 5, 1, 5)


def _run(seed: int, rate_a: float, rate_b: float, days: int, per_day: int) -> int | None:
    """Cases arrive daily to both arms; the owner looks every day. The day of the first
    significant look, or None."""
    rng = random.Random(seed)
    sa = sb = n = 0
    result: SequentialResult | None = None
    for day in range(1, days + 1):
        for _ in range(per_day):
            n += 1
            sa += rng.random() < rate_a
            sb += rng.random() < rate_b
        result = msprt(sa, n, sb, n, previous=result)
        if result.significant:
            return day
    return None


def test_daily_peeking_at_no_difference_is_wrong_at_most_5_percent_of_the_time() -> None:
    # 200 A/A experiments, both arms recovering 20 %, 30 cases per arm a day for 60 days.
    false_positives = sum(_run(seed, 0.2, 0.2, 60, 30) is not None for seed in range(200))
    assert false_positives <= 10, false_positives  # ≤ 5 %; it is 3 of 200 (1.5 %)


def test_a_real_difference_is_found() -> None:
    # B recovers 25 %, A 15 %: every one of 50 experiments finds it within 60 days.
    days = [_run(1000 + seed, 0.15, 0.25, 60, 30) for seed in range(50)]
    assert None not in days
    assert sorted(d for d in days if d is not None)[25] <= 15


# -- recommend ----------------------------------------------------------------------------------


def test_a_winner_with_its_evidence() -> None:
    result = msprt(30, 200, 60, 200)
    assert recommend(result, names=("control", "short")) == Recommendation(
        Verdict.B_WINS,
        "short",
        f"control recovers 15.0 % (30 of 200), short 30.0 % (60 of 200): control − short = "
        f"-15.0 points, 95 % confidence sequence {result.low * 100:+.1f} to "
        f"{result.high * 100:+.1f} points; always-valid p = {result.p_value:.2g} < 0.05",
    )
    assert result.p_value < 0.05
    assert recommend(msprt(60, 200, 30, 200)).verdict == Verdict.A_WINS


def test_a_sample_ratio_mismatch_overrules_everything() -> None:
    verdict = recommend(msprt(30, 200, 60, 200), srm_p=0.0002)
    assert verdict == Recommendation(
        Verdict.SAMPLE_RATIO_MISMATCH,
        None,
        "the split between variants is off (p = 0.0002 < 0.001): assignment or tracking is "
        "broken, and no result can be trusted until it is fixed",
    )
    assert recommend(msprt(30, 200, 60, 200), srm_p=0.2).verdict == Verdict.B_WINS


def test_no_claim_before_the_minimum_sample() -> None:
    assert recommend(msprt(5, 50, 6, 50)) == Recommendation(
        Verdict.KEEP_RUNNING,
        None,
        f"A recovers 10.0 % (5 of 50), B 12.0 % (6 of 50); no claim before {MIN_CASES} "
        "cases per arm and 10 recovered and 10 unrecovered cases",
    )


def test_no_difference_when_the_sequence_rules_out_any_that_matters() -> None:
    tight = msprt(2000, 10_000, 2010, 10_000)
    assert tight.low > -0.02 and tight.high < 0.02
    assert recommend(tight).verdict == Verdict.NO_DIFFERENCE
    assert recommend(tight, min_effect=0.01).verdict == Verdict.KEEP_RUNNING


def test_no_difference_at_the_planned_size_else_keep_running() -> None:
    wide = msprt(210, 1000, 200, 1000)
    assert recommend(wide).verdict == Verdict.KEEP_RUNNING
    assert recommend(wide, max_per_arm=1000).verdict == Verdict.NO_DIFFERENCE
    assert recommend(wide, max_per_arm=1001).verdict == Verdict.KEEP_RUNNING
    assert recommend(wide).evidence == (
        "A recovers 21.0 % (210 of 1000), B 20.0 % (200 of 1000): A − B = +1.0 points, "
        f"95 % confidence sequence {wide.low * 100:+.1f} to {wide.high * 100:+.1f} points; "
        "always-valid p = 1, not below 0.05 yet"
    )
