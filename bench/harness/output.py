"""Output: the console, the run's headline, the machine table, the JSON file, scratch space."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def make_console(width: int) -> Console:
    """A wide table in a log file too; a terminal keeps its own width."""
    return Console(width=None if sys.stdout.isatty() else width)


console = make_console(150)


def headline(out: Console, name: str, info: dict[str, str]) -> None:
    """The first line of a run: the benchmark, its arguments, the date."""
    out.print(f"[bold]{name}[/] {' '.join(sys.argv[1:])}  ({info['date']})")


def machine_table(out: Console, info: dict[str, str]) -> None:
    """The table every report starts with (:func:`bench.harness.machine.machine`)."""
    t = Table(title="Machine", show_header=False)
    for k, v in info.items():
        t.add_row(k, v)
    out.print(t)


def write_json(path: Path, info: dict[str, str], args: argparse.Namespace, **results: Any) -> None:
    """The machine, the run's arguments (but ``--json``) and its results, as JSON."""
    payload = {
        "machine": info,
        "args": {k: v for k, v in vars(args).items() if k != "json"},
        **results,
    }
    path.write_text(json.dumps(payload, indent=2, default=str))


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary directory (SQLite files, keys), removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
