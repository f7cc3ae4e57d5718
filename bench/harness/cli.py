"""Command-line bits every benchmark has: ``--db``, ``--quick``, ``--pg``, ``--json``."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.harness.db import PG_DEFAULT


def parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of ``python -m module``, described by the first paragraph of ``doc``, with
    ``--db`` first."""
    p = argparse.ArgumentParser(
        prog=f"python -m {module}", description=doc.split("\n\n")[0] if doc else None
    )
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    return p


def add_quick(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small numbers: a smoke run")


def add_pg_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pg", default=PG_DEFAULT, help="a PostgreSQL database to connect to")
    p.add_argument("--json", type=Path, help="also write the results here as JSON")


def dbs(args: argparse.Namespace) -> list[str]:
    return ["sqlite", "postgresql"] if args.db == "both" else [args.db]


def ints(text_value: str) -> list[int]:
    return [int(s.replace("_", "")) for s in text_value.split(",") if s.strip()]
