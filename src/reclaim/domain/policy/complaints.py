"""The complaint rate (SPEC S5): when a store's spam complaints raise an alert or pause its
sending.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from reclaim.errors import InvalidInput

ALERT_RATE = 0.001  # 0.1 % (SPEC S5; Gmail's and Yahoo's sender guidance: stay below 0.1 %)
PAUSE_RATE = 0.003  # 0.3 % (Gmail's and Yahoo's 2024 bulk-sender limit: never reach it)
MIN_SENT = 1000


def complaint_state(
    *,
    sent: int,
    complaints: int,
    alert_rate: float = ALERT_RATE,
    pause_rate: float = PAUSE_RATE,
    min_sent: int = MIN_SENT,
) -> Literal["ok", "alert", "pause"]:
    """A store's sending state: "pause" at a complaint rate ≥ ``pause_rate``, "alert" at
    ≥ ``alert_rate``, else "ok".

    The rate is ``complaints / max(sent, min_sent)``: a small sample is measured as if it
    were ``min_sent`` messages. A rate from a handful of messages says little (1 complaint
    in 20 is "5 %"), so below ``min_sent`` it is the complaints alone that count: with the
    defaults one complaint raises an alert (an operator looks) and three pause the store,
    however few messages went out, because three complaints in under a thousand messages is
    already at the 0.3 % line and any smaller denominator is worse. From ``min_sent`` on it is
    the plain rate. Boundaries are exact (rational arithmetic on the rates' decimal text).

    ``complaints`` may exceed ``sent``: feedback loops report late, so complaints about an
    earlier window land in this one. Raises :class:`InvalidInput` for negative counts, rates
    outside (0, 1] or an alert rate above the pause rate.
    """
    bounds = (("sent", sent, 0), ("complaints", complaints, 0), ("min_sent", min_sent, 1))
    for name, value, least in bounds:
        if value < least:
            raise InvalidInput(f"{name} must be at least {least}", field=name)
    alert, pause = Fraction(str(alert_rate)), Fraction(str(pause_rate))
    if not 0 < alert <= pause <= 1:
        raise InvalidInput("rates must satisfy 0 < alert ≤ pause ≤ 1", field="alert_rate")
    rate = Fraction(complaints, max(sent, min_sent))
    if rate >= pause:
        return "pause"
    if rate >= alert:
        return "alert"
    return "ok"
