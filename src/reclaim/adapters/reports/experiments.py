"""The report's "Experiments" section: per experiment, a chart of each variant's difference
from the control with its confidence sequence, the variants' figures, and the decision with
its evidence in the report's language (``evidence.py``)."""

from __future__ import annotations

from typing import Any

from reclaim.adapters.reports.charts import Interval, intervals
from reclaim.adapters.reports.evidence import evidence_text
from reclaim.adapters.reports.words import Speaker
from reclaim.services.experiment_view import Decision, ExperimentView


def _meta(say: Speaker, view: ExperimentView, zone: str) -> str:
    e = view.experiment
    what = say("whole_flows") if e.target == "flow" else say("step_of", step=e.target)
    since = say.instant(e.started_at, zone)
    when = (
        say("running_since", at=since)
        if e.stopped_at is None
        else say("stopped_on", since=since, at=say.instant(e.stopped_at, zone))
    )
    return f"{say(e.kind)} · {what} · {when}"


def experiment_blocks(say: Speaker, views: tuple[ExperimentView, ...], zone: str) -> list[Any]:
    """What the page shows of each experiment, worded in the report's locale."""
    blocks = []
    for view in views:
        against = {c.variant: c for c in view.comparisons}
        rows = []
        for arm in view.arms:
            c = against.get(arm.key)
            runs = ", ".join(f"{k}={v}" for k, v in arm.overrides.items())
            if not runs and arm.flow_version is not None:
                runs = f"{say('flow')} v{arm.flow_version}"
            rows.append(
                {
                    "key": arm.key if c is not None else f"{arm.key} ({say('control')})",
                    "changes": runs,
                    "cases": say.number(arm.cases),
                    "recovered": say.number(arm.recovered),
                    "rate": say.share(arm.rate),
                    "difference": "–" if c is None else say.points(c.result.difference),
                    "sequence": "–"
                    if c is None or not c.result.tested
                    else f"{say.points(c.result.low)} … {say.points(c.result.high)}",
                    "p": "–" if c is None else say.number(round(c.result.p_value, 3)),
                }
            )
        chart = intervals(
            [
                Interval(
                    f"{c.variant} − {c.control}",
                    c.result.difference,
                    c.result.low if c.result.tested else None,
                    c.result.high if c.result.tested else None,
                    say.points(c.result.difference),
                )
                for c in view.comparisons
            ],
            title=f"{say('experiments')}: {view.experiment.name}",
        )
        verdict = say(f"verdict_{view.decision}", winner=view.winner or "")
        blocks.append(
            {
                "name": view.experiment.name,
                "meta": _meta(say, view, zone),
                "chart": chart,
                "rows": rows,
                "split": say("split", p=say.number(round(view.srm_p, 4))),
                "verdict": verdict,
                "broken": view.decision is Decision.SAMPLE_RATIO_MISMATCH,
                "evidence": evidence_text(say, view),
            }
        )
    return blocks
