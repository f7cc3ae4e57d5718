"""Why cases got no message (issue 14): the case API's one reason per case, and the steps the
worker held back or postponed on the way, in the words the demo's console and report use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from reclaim.domain.outcomes import consent_label, not_sent_label, step_words
from reclaim.sim.cases import ActualCase

_CLOSED = {
    "recovered": "recovered first",
    "cancelled": "cancelled first",
    "lost": "lost first",
    "expired": "expired first",
    "suppressed": "suppressed",
}
_WHY_DETAIL = {
    "holdout": "on purpose: their recoveries are compared with the messaged cases'",
    "not_due_yet": "the simulation ended before it",
}
_HELD_BACK_DETAIL = {
    "quiet_hours": "postponed, not dropped: sent once they end, unless the case closed first",
    "frequency_cap": "postponed: the customer had a message shortly before",
}


def _most_first(counts: Counter[str]) -> str:
    return ", ".join(
        f"{what} {n}" for what, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def no_message(actual: Iterable[ActualCase], step_outcomes: dict[str, int]) -> dict[str, Any]:
    """Why cases got no message, in the case API's words (``why_not_sent``, one reason per
    case), and the steps the worker held back or postponed on the way (its step outcomes:
    a case refused by consent for its first step may be refused again for its second).

    ``by_reason`` and ``held_back_steps`` are the counts, by ``why_not_sent`` code; ``reasons``
    and ``held_back`` the same rows in words (``label``, count, ``detail``), as the demo's
    console and report show them."""
    cases = list(actual)
    silent = [a for a in cases if a.why_code is not None]
    by_code: Counter[str] = Counter(a.why_code for a in silent if a.why_code)
    reasons = []
    for code, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
        mine = [a for a in silent if a.why_code == code]
        if code == "consent":
            detail = _most_first(Counter(consent_label(a.why_outcome or "") for a in mine))
        elif code == "closed":
            detail = _most_first(Counter(_CLOSED.get(a.status, a.status) for a in mine))
        elif code in _WHY_DETAIL:
            detail = _WHY_DETAIL[code]
        else:
            detail = _most_first(
                Counter(step_words(a.why_outcome).label for a in mine if a.why_outcome)
            )
        reasons.append({"code": code, "label": not_sent_label(code), "cases": n, "detail": detail})
    steps: dict[str, Counter[str]] = {}
    for outcome, n in step_outcomes.items():
        if outcome == "sent" or not n:
            continue
        code = step_words(outcome).code
        label = consent_label(outcome) if code == "consent" else step_words(outcome).label
        steps.setdefault(code, Counter())[label] += n
    held_back = [
        {
            "code": code,
            "label": not_sent_label(code),
            "steps": sum(by.values()),
            "detail": _HELD_BACK_DETAIL.get(code) or _most_first(by),
        }
        for code, by in sorted(steps.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    ]
    return {
        "cases": len(silent),
        "of": len(cases),
        "by_reason": dict(by_code.most_common()),
        "reasons": reasons,
        "held_back_steps": {r["code"]: r["steps"] for r in held_back},
        "held_back": held_back,
    }
