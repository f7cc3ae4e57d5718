"""Benchmarks (not tests): figures, and ratios against a floor measured in the same run.

One package per benchmark, run from the repository root as a module (``python -m
bench.ingest``, ``bench.send``, ``bench.holds``; ``bench.dkim_sign`` is a single module);
what they share lives once in :mod:`bench.harness`. ``docs/benchmarks.md`` has the commands
and the figures measured.
"""
