"""Intervals for what a report measures (SPEC S12): a recovery rate, and the lift of messaged
cases over held-out ones.

* :func:`wilson`: Wilson's score interval for one proportion.
* :func:`newcombe`: Newcombe's hybrid score interval (Newcombe 1998, method 10: the Wilson
  intervals of each rate, combined) for the difference of two independent proportions, the
  lift's 95 % interval. It keeps its coverage near 95 % for small samples and rates near 0,
  where the textbook Wald interval does not.
* :class:`Lift` / :func:`measure`: counts of messaged and held-out cases, recovered or not.

Pure functions of counts: the simulator's demo and the product's reports share them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for ``k`` successes out of ``n`` (``(0, 1)`` when n = 0)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``k1/n1 − k2/n2`` (method 10 of Newcombe 1998)."""
    p1 = k1 / n1 if n1 else 0.0
    p2 = k2 / n2 if n2 else 0.0
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


@dataclass(frozen=True, slots=True)
class Lift:
    messaged: int
    messaged_recovered: int
    holdout: int
    holdout_recovered: int

    @property
    def messaged_rate(self) -> float:
        return self.messaged_recovered / self.messaged if self.messaged else 0.0

    @property
    def holdout_rate(self) -> float:
        return self.holdout_recovered / self.holdout if self.holdout else 0.0

    @property
    def lift(self) -> float:
        return self.messaged_rate - self.holdout_rate

    @property
    def interval(self) -> tuple[float, float]:
        return newcombe(
            self.messaged_recovered, self.messaged, self.holdout_recovered, self.holdout
        )


def measure(cases: Iterable[tuple[bool, bool]]) -> Lift:
    """The lift from ``(held out?, recovered?)`` per case."""
    counts = [0, 0, 0, 0]
    for held_out, recovered in cases:
        i = 2 if held_out else 0
        counts[i] += 1
        counts[i + 1] += int(recovered)
    return Lift(*counts)
