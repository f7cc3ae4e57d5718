"""An experiment's evidence follows the report's language (issue 15): a zh-CN report words
the decision rule's numbers and reason in Chinese; an English one keeps the rule's own
sentence."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from reclaim.adapters.reports.evidence import evidence_text
from reclaim.adapters.reports.experiments import experiment_blocks
from reclaim.adapters.reports.words import Speaker
from reclaim.domain.experiments import Experiment, Variant
from reclaim.services.experiment_view import Decision, ExperimentView, standing

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ZH = Speaker("zh-CN", "EUR")
EN = Speaker("en", "EUR")
# Words of the rule's English sentences that must not reach a Chinese report.
ENGLISH = re.compile(r"recovers|beats|points|confidence|claim|split|always-valid|variant|\bof\b")


def _view(**split: tuple[int, int]) -> ExperimentView:
    experiment = Experiment(
        store_id="st_1",
        name="offer",
        kind="abandoned_checkout",
        target="reminder",
        variants=tuple(Variant(k, 1, None, {}) for k in split),
        started_at=T0,
        id=1,
    )
    return standing(experiment, split, versions={}, as_of=T0)


@pytest.mark.parametrize(
    ("split", "decision", "chinese"),
    [
        ({"A": (300, 45), "B": (300, 90), "C": (300, 110)}, Decision.WINNER, "C 胜过 A"),
        ({"A": (300, 110), "B": (300, 45), "C": (300, 50)}, Decision.WINNER, "A 胜过所有版本"),
        ({"A": (50, 10), "B": (50, 30)}, Decision.KEEP_RUNNING, "之前不下结论"),
        (
            {"A": (40000, 8000), "B": (40000, 8000), "C": (40000, 8000)},
            Decision.NO_DIFFERENCE,
            "没有版本胜过 A",
        ),
        ({"A": (300, 45), "B": (300, 60)}, Decision.KEEP_RUNNING, "尚未低于"),
    ],
)
def test_a_chinese_report_words_the_evidence_in_chinese(
    split: dict[str, tuple[int, int]], decision: Decision, chinese: str
) -> None:
    view = _view(**split)
    assert view.decision is decision
    said = evidence_text(ZH, view)
    assert chinese in said, said
    assert not ENGLISH.search(said), said
    # the same numbers as the rule's sentence: each arm's recovered of its cases
    for key, (cases, recovered) in split.items():
        assert f"{key} " in said and f"{cases:,} 个中 {recovered:,} 个" in said, said
    assert evidence_text(EN, view) == view.evidence  # English: the rule's own words


def test_a_broken_split_is_said_in_chinese() -> None:
    fine = _view(A=(150, 30), B=(150, 30))
    odd = standing(fine.experiment, {**dict.fromkeys("AB", (150, 30)), "Z": (3, 0)}, versions={},
                   as_of=T0)  # fmt: skip
    assert odd.decision is Decision.SAMPLE_RATIO_MISMATCH
    said = evidence_text(ZH, odd)
    assert said.startswith("版本间分流异常") and not ENGLISH.search(said), said
    assert f"p = {odd.srm_p:.2g} < 0.001" in said, said  # the split's p, not the rates'


def test_the_reports_experiment_block_carries_it() -> None:
    view = _view(A=(300, 45), B=(300, 90), C=(300, 110))
    [zh] = experiment_blocks(ZH, (view,), "Asia/Shanghai")
    [en] = experiment_blocks(EN, (view,), "Europe/Paris")
    assert zh["evidence"] == evidence_text(ZH, view) and zh["verdict"] == "C 胜出"
    assert en["evidence"] == view.evidence
