"""The run of a benchmark that seeds and measures one fresh database at a time: the headline,
each of ``--db``'s databases made and dropped around ``bench_db``, the results' table, the
elapsed time and the ``--json`` file."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from bench.harness import db as harness_db
from bench.harness.machine import machine
from bench.harness.output import console, headline, scratch, write_json


def run_each_db(
    name: str,
    db_name: str,
    args: argparse.Namespace,
    bench_db: Callable[[str, str, argparse.Namespace], Any],
    report: Callable[[dict[str, str], Sequence[Any], argparse.Namespace], None],
) -> None:
    """``bench_db(db, url, args)`` on a fresh database named ``db_name`` for each of
    ``args.dbs``; then ``report(machine, results, args)``. Results are dataclasses."""
    info = machine(args.pg, args.dbs)
    headline(console, name, info)
    began = time.perf_counter()
    results = []
    with scratch(f"reclaim-{name.replace('.', '-')}-") as workdir:
        for db in args.dbs:
            with harness_db.database(db, db_name, pg_admin=args.pg, workdir=workdir) as url:
                results.append(bench_db(db, url, args))
    report(info, results, args)
    console.print(f"finished in {time.perf_counter() - began:.0f} s")
    if args.json:
        write_json(args.json, info, args, results=[asdict(r) for r in results])
