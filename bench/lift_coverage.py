"""``python -m bench.lift_coverage``: how often the reported lift's 95 % interval contains the
simulator's true effect (issue 15: at least 90 % of 50 seeded runs).

Each run is a whole simulation (:func:`reclaim.sim.simulate`: real HTTP, the real worker,
simulated time) on a fresh SQLite database, small enough to run many: by default 150
customers over 3 days, half of the cases held out, and an audience 8 times as responsive as
the demo's (``--response-scale``), as the end-to-end demo test does, so that the effect is
well away from zero and a biased holdout or a wrong interval shows. ``true_effect`` is the
mean of ``y1 − y0`` over the run's cases (both outcomes known by construction); ``lift`` and
``lift_ci`` are Reclaim's, from its cases and their holdout flags (Newcombe's interval).
Progress is printed after each run; ``--json`` prints the runs and the figure at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def one_run(
    seed: int, *, customers: int, days: int, holdout: float, scale: float
) -> dict[str, Any]:
    """One seeded simulation; its lift, interval, true effect and whether one holds the other."""
    from reclaim.sim import SimConfig, simulate

    config = SimConfig(
        customers=customers, days=days, seed=seed, holdout=holdout, response_scale=scale
    )
    with tempfile.TemporaryDirectory(prefix="lift-coverage-") as folder:
        started = time.perf_counter()
        result = simulate(config, database_url=f"sqlite:///{Path(folder) / 'sim.sqlite3'}")
        took = time.perf_counter() - started
    s = result.summary
    low, high = s["lift_ci"]
    return {
        "seed": seed,
        "lift": s["lift"],
        "lift_ci": [low, high],
        "true_effect": s["true_effect"],
        "covered": low <= s["true_effect"] <= high,
        "excludes_zero": low > 0 or high < 0,
        "messaged": s["messaged"]["cases"],
        "holdout": s["holdout"]["cases"],
        "mismatches": s["mismatches"]["total"],
        "seconds": round(took, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lift_coverage", description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="seeded runs (default 50)")
    parser.add_argument("--first-seed", type=int, default=1, help="seeds first..first+runs-1")
    parser.add_argument("--customers", type=int, default=150)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--holdout", type=float, default=0.5)
    parser.add_argument("--response-scale", type=float, default=8.0)
    parser.add_argument(
        "--budget-s", type=float, default=None, help="stop starting runs after this many seconds"
    )
    parser.add_argument("--json", action="store_true", help="print the runs as JSON at the end")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the server's and worker's lines would drown the progress
    runs: list[dict[str, Any]] = []
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.runs):
        if args.budget_s is not None and time.perf_counter() - started > args.budget_s:
            print(f"budget of {args.budget_s:.0f} s spent: stopping after {len(runs)} runs")
            break
        r = one_run(
            seed,
            customers=args.customers,
            days=args.days,
            holdout=args.holdout,
            scale=args.response_scale,
        )
        runs.append(r)
        k = sum(x["covered"] for x in runs)
        low, high = r["lift_ci"]
        print(
            f"seed {seed:>3}: lift {r['lift']:+.3f} [{low:+.3f}, {high:+.3f}] "
            f"true {r['true_effect']:+.3f} {'covered' if r['covered'] else 'MISSED '} "
            f"n={r['messaged']}+{r['holdout']} mismatches {r['mismatches']} "
            f"({r['seconds']:.0f} s) — {k}/{len(runs)} covered",
            flush=True,
        )
    k = sum(x["covered"] for x in runs)
    n = len(runs)
    share = k / n if n else 0.0
    print(
        f"\n{k} of {n} runs ({share:.0%}) have the true effect inside the reported 95 % "
        f"interval; {sum(x['excludes_zero'] for x in runs)} intervals exclude zero; "
        f"{sum(x['mismatches'] for x in runs)} mismatches with the ground truth; "
        f"{time.perf_counter() - started:.0f} s"
    )
    if args.json:
        json.dump({"covered": k, "runs": n, "share": share, "each": runs}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
