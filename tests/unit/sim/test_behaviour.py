"""The simulator's distributions reproduce the figures they are documented to follow."""

from __future__ import annotations

import math
import random
from collections import Counter
from statistics import median, quantiles

import pytest

from reclaim.sim import behaviour as bh

N = 40_000


def test_baymard_reason_shares_hold_with_several_answers_each() -> None:
    rng = random.Random(1)
    counts: Counter[str] = Counter()
    answers = 0
    for _ in range(N):
        reasons = bh.sample_reasons(rng)
        assert reasons  # everyone gives at least one reason
        assert len(set(reasons)) == len(reasons)
        counts.update(reasons)
        answers += len(reasons)
    for r in bh.ABANDONMENT_REASONS:
        # 4 standard errors at N=40 000 is under 1 percentage point for every share
        assert abs(counts[r.code] / N - r.share) < 4 * math.sqrt(r.share * (1 - r.share) / N), r
    assert answers / N == pytest.approx(sum(r.share for r in bh.ABANDONMENT_REASONS), abs=0.02)


def test_reason_draw_probabilities_undo_the_at_least_one_conditioning() -> None:
    q = bh._reason_probabilities()
    none = math.prod(1 - x for x in q)
    for r, p in zip(bh.ABANDONMENT_REASONS, q, strict=True):
        assert p / (1 - none) == pytest.approx(r.share, rel=1e-9)


def test_abandonment_rates_add_up_to_baymards_average() -> None:
    overall = bh.NO_CONTACT_SHARE + (1 - bh.NO_CONTACT_SHARE) * bh.ABANDON_WITH_CONTACT
    assert overall == pytest.approx(0.7022)
    assert abs(bh.ABANDON_WITH_CONTACT - 0.62775) < 1e-12


def test_the_furthest_step_a_reason_implies_is_where_the_shopper_left() -> None:
    assert bh.stage_for(("account_creation",)) == "contact"
    assert bh.stage_for(("account_creation", "extra_costs")) == "shipping"
    assert bh.stage_for(("extra_costs", "card_declined")) == "payment"


def test_decline_shares_are_a_distribution_and_conditioning_keeps_them() -> None:
    assert sum(d.share for d in bh.DECLINES) == pytest.approx(1.0)
    assert {d.decline_code for d in bh.DECLINES} >= {
        "insufficient_funds",
        "generic_decline",
        "do_not_honor",
        "expired_card",
        "authentication_required",
        "fraudulent",
        "processing_error",
        "currency_not_supported",
    }
    rng = random.Random(2)
    q = bh.quick_fix_share()
    assert q == pytest.approx(0.3035)
    quick = Counter(bh.sample_decline(rng, fixed_quickly=True).decline_code for _ in range(N))
    slow = Counter(bh.sample_decline(rng, fixed_quickly=False).decline_code for _ in range(N))
    assert quick["fraudulent"] == 0  # a card reported as fraudulent is never fixed
    for d in bh.DECLINES:
        mixed = q * quick[d.decline_code] / N + (1 - q) * slow[d.decline_code] / N
        assert mixed == pytest.approx(d.share, abs=0.01), d.decline_code


def test_quick_declines_among_card_payers_match_the_walk_aways() -> None:
    rate = bh.quick_decline_rate(0.93)
    walk_aways = bh.ABANDON_WITH_CONTACT * 0.10
    fixed = (1 - bh.ABANDON_WITH_CONTACT) * 0.93 * rate
    assert fixed / (fixed + walk_aways) == pytest.approx(bh.quick_fix_share())
    assert 0.05 < rate < 0.12


def test_pay_later_delays_follow_olists_boleto_figures() -> None:
    rng = random.Random(3)
    drawn = [bh.pay_later_delay(rng, "boleto") for _ in range(N)]
    paid = [d.total_seconds() / 3600 for d in drawn if d is not None]
    assert (N - len(paid)) / N == pytest.approx(bh.NEVER_PAID["boleto"], abs=0.01)
    assert median(paid) == pytest.approx(29.6, rel=0.03)
    assert quantiles(paid, n=10)[-1] == pytest.approx(68.0, rel=0.04)


def test_later_fixes_and_returns_are_not_instant() -> None:
    rng = random.Random(4)
    fixes = [bh.later_fix_delay(rng).total_seconds() for _ in range(2000)]
    returns = [bh.return_delay(rng).total_seconds() for _ in range(2000)]
    assert min(fixes) >= 1800 and min(returns) >= 3600
    assert median(returns) / 3600 == pytest.approx(bh.RETURN_MEDIAN_H, rel=0.1)


def test_hourly_activity_has_a_value_per_hour_peaking_in_the_evening() -> None:
    assert len(bh.HOURLY) == 24
    assert max(range(24), key=lambda h: bh.HOURLY[h]) in (19, 20)
    assert bh.HOURLY[4] < 0.1


def test_pending_order_reminders_win_back_the_seeds_15_to_25_percent() -> None:
    """Seed 000: mature sellers win back 15–25 % of pending orders with reminders after 1 h,
    24 h and 72 h; the three steps together persuade that share of the unpaid ones."""
    stay = 1.0
    for step in ("reminder", "reminder_2", "last_call"):
        stay *= 1 - bh.step_uplift("pending_order", step, decline=None, returning=False)
    assert 0.15 <= 1 - stay <= 0.25
