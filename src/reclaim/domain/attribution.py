"""Which message earned a recovered sale (SPEC S2).

The last message the customer engaged with before paying wins: an email opened or clicked
within 7 days, an SMS clicked within 24 hours. Anything else is "organic": the customer came
back on their own, and the holdout group (which gets no messages) says how often that happens.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from reclaim.domain.steps import MessageRecord

WINDOWS = {"email": timedelta(days=7), "sms": timedelta(hours=24), "webhook": timedelta(days=7)}


def attribute(messages: Iterable[MessageRecord], *, recovered_at: datetime) -> MessageRecord | None:
    """The message the recovery is attributed to, or ``None`` (organic)."""
    best: tuple[datetime, int, MessageRecord] | None = None
    for m in messages:
        at = m.engaged_at
        window = WINDOWS.get(m.channel)
        if at is None or window is None or not at <= recovered_at <= at + window:
            continue
        key = (at, m.id or 0, m)
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else best[2]
