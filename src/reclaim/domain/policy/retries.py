"""Retry backoff (SPEC S5): when a transiently failed send is tried again, and when it is given
up.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from fractions import Fraction

from reclaim.domain.policy.timing import _aware
from reclaim.errors import InvalidInput

RETRY_FIRST = timedelta(minutes=30)
RETRY_MAX = timedelta(hours=8)
RETRY_GIVE_UP = timedelta(hours=72)
_JITTER_SHARE = Fraction(1, 10)


def retry_delay(attempts: int, *, seed: str | None = None) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 min, 1 h, 2 h, 4 h, then 8 h.

    With a ``seed`` (e.g. the message id) a deterministic jitter of up to 10 % of the delay is
    added, in whole seconds, so messages that failed together do not all retry together; the
    8 h cap applies before it.
    """
    if attempts < 1:
        raise InvalidInput("attempts counts the attempts made, at least 1", field="attempts")
    delay = min(RETRY_FIRST * (1 << (min(attempts, 6) - 1)), RETRY_MAX)
    if seed is None:
        return delay
    digest = hashlib.sha256(f"{seed}:{attempts}".encode()).digest()
    share = Fraction(int.from_bytes(digest[:8], "big"), 2**64) * _JITTER_SHARE
    return delay + timedelta(seconds=int(share * int(delay.total_seconds())))


def retry_at(
    first_attempt_at: datetime, attempts: int, *, now: datetime, seed: str | None = None
) -> datetime | None:
    """When to try a transiently failed send again, or None to give up.

    ``attempts`` is the number of attempts made so far, the failed one included. The retry is
    ``now`` + :func:`retry_delay` (so always ≥ 30 min after ``now``); None when that would be
    more than 72 h after ``first_attempt_at`` (SPEC S5: give up after 72 h). With no jitter
    the attempts fall at 0, 0.5, 1.5, 3.5, 7.5, 15.5, … 71.5 h: 13 in all.
    """
    _aware(first_attempt_at, "first_attempt_at")
    _aware(now, "now")
    retry = now + retry_delay(attempts, seed=seed)
    if retry - first_attempt_at > RETRY_GIVE_UP:
        return None
    return retry
