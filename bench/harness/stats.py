"""Timing helpers: the quantiles the benchmarks report, each with its own definition kept."""

from __future__ import annotations

import math
from collections.abc import Sequence


def quantiles(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and the maximum, in milliseconds."""
    lat = sorted(latencies)
    if not lat:
        return float("nan"), float("nan"), float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return 1000 * lat[len(lat) // 2], 1000 * p99, 1000 * lat[-1]


def quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1)]
