"""Real-time mode: the simulation waits for the wall clock, at the chosen speed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reclaim.sim.pacing import Pacer

T0 = datetime(2026, 5, 4, tzinfo=UTC)


class Wall:
    """A wall clock that only moves when slept on (or by hand)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_each_instant_waits_until_the_wall_clock_reaches_it() -> None:
    wall = Wall()
    pace = Pacer(1.0, sleep=wall.sleep, monotonic=wall.monotonic)
    pace(T0)  # the first instant starts the clocks together
    pace(T0 + timedelta(seconds=30))
    assert wall.slept == [30.0]
    wall.now += 50  # the run fell behind (a slow request): no sleep, it catches up
    pace(T0 + timedelta(seconds=60))
    assert wall.slept == [30.0]
    pace(T0 + timedelta(seconds=90))
    assert wall.slept == [30.0, 10.0]


def test_speed_plays_that_many_simulated_seconds_per_real_one() -> None:
    wall = Wall()
    pace = Pacer(3600.0, sleep=wall.sleep, monotonic=wall.monotonic)
    pace(T0)
    pace(T0 + timedelta(hours=2))
    assert wall.slept == [2.0]
    pace(T0 + timedelta(hours=2))  # the same instant again: no wait
    assert wall.slept == [2.0]
