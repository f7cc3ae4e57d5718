"""An experiment's evidence in the report's language (issue 15).

The decision rule (``domain.experiments.recommend`` and ``services.experiment_view``) words
its evidence in English, and that sentence is what the API and a stopped experiment keep.
A report in another language says the same thing from the same numbers: each comparison's
rates, difference, confidence sequence and always-valid p-value, and the rule's reason,
worded here. English reports show the rule's own sentence unchanged.
"""

from __future__ import annotations

from reclaim.adapters.reports.words import Speaker
from reclaim.domain.experiments import MIN_CASES, MIN_EVENTS, SRM_ALPHA
from reclaim.services.experiment_view import Comparison, Decision, ExperimentView

MIN_EFFECT = 0.02  # recommend()'s default: a difference inside ± 2 points is too small

_ZH = {
    "rates": "{a} 挽回率 {rate_a}（{n_a} 个中 {s_a} 个），{b} {rate_b}（{n_b} 个中 {s_b} 个）",
    "srm": "版本间分流异常（p = {p} < {limit}）：分配或追踪出了问题，修复之前任何结果都不可信",
    "untested": "{rates}；每组满 {cases} 个案例、挽回与未挽回各至少 {events} 个之前不下结论",
    "interval": "{a} − {b} = {diff}，{level} 置信序列 {low} 至 {high}",
    "wins": "{rates}：{interval}；始终有效 p = {p} < {alpha}",
    "too_small": "{rates}：{interval}，在 ±{min} 以内：差异太小，没有实际意义",
    "waiting": "{rates}：{interval}；始终有效 p = {p}，尚未低于 {alpha}",
    "best": "{best} 胜过 {control}，且是胜过对照组的版本中挽回率最高的：{details}",
    "control_best": "{control} 胜过所有版本：{details}",
    "none_better": "没有版本胜过 {control}：{details}",
    "join": "；",
}
WORDS = {"zh-CN": _ZH}


def evidence_text(say: Speaker, view: ExperimentView) -> str:
    """``view``'s evidence in ``say``'s locale (the rule's own sentence in English)."""
    words = WORDS.get(say.locale)
    if words is None or not view.comparisons:
        return view.evidence
    said = [_comparison(say, words, c, view.srm_p) for c in view.comparisons]
    first = view.comparisons[0]
    if first.decision is Decision.SAMPLE_RATIO_MISMATCH or len(said) == 1:
        return said[0]
    details = words["join"].join(said)
    control = view.control
    if view.decision is Decision.WINNER and view.winner == control:
        return words["control_best"].format(control=control, details=details)
    if view.decision is Decision.WINNER and view.winner is not None:
        return words["best"].format(best=view.winner, control=control, details=details)
    if view.decision is Decision.NO_DIFFERENCE:
        return words["none_better"].format(control=control, details=details)
    return details


def _p(say: Speaker, value: float) -> str:
    """As the rule says it (two significant digits); a tiny one as 3.3e-06, not 0."""
    return f"{value:.2g}" if value < 0.001 else say.number(float(f"{value:.2g}"))


def _comparison(say: Speaker, words: dict[str, str], c: Comparison, srm_p: float) -> str:
    r = c.result
    if c.decision is Decision.SAMPLE_RATIO_MISMATCH:
        return words["srm"].format(p=_p(say, srm_p), limit=say.number(SRM_ALPHA))
    p = _p(say, r.p_value)
    rates = words["rates"].format(
        a=c.variant,
        b=c.control,
        rate_a=say.share(r.rate_a),
        rate_b=say.share(r.rate_b),
        s_a=say.number(r.successes_a),
        n_a=say.number(r.n_a),
        s_b=say.number(r.successes_b),
        n_b=say.number(r.n_b),
    )
    if not r.tested:
        return words["untested"].format(rates=rates, cases=MIN_CASES, events=MIN_EVENTS)
    interval = words["interval"].format(
        a=c.variant,
        b=c.control,
        diff=say.points(r.difference),
        level=say.share(1 - r.alpha).replace(".0", ""),
        low=say.points(r.low),
        high=say.points(r.high),
    )
    alpha = say.number(r.alpha)
    if r.significant:
        return words["wins"].format(rates=rates, interval=interval, p=p, alpha=alpha)
    if c.decision is Decision.NO_DIFFERENCE:
        return words["too_small"].format(
            rates=rates, interval=interval, min=say.points(MIN_EFFECT).lstrip("+")
        )
    return words["waiting"].format(rates=rates, interval=interval, p=p, alpha=alpha)
