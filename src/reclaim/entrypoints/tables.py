"""Tables for the terminal in which an id or a code is never cut (issue 14).

Rich shrinks a table that is wider than the terminal and ends what no longer fits with an
ellipsis: ``st_37a87…``, ``4T5H-…``, which an operator can neither read nor copy. Here the
key columns (ids, codes, SKUs) are as wide as their longest value, and every other column
folds onto more lines instead of losing its end.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

Cell = str | Text


def print_table(
    console: Console,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    keys: Collection[str] = (),
    title: str | None = None,
) -> None:
    """Print ``rows`` under ``headers``; the ``keys`` columns are never cut. Plain strings
    are shown as they are (no console markup); pass a ``Text`` to style a cell."""
    wanted = [
        max([cell_len(header), *(_width(row[i]) for row in rows)])
        for i, header in enumerate(headers)
    ]
    widths = _fit(wanted, [h in keys for h in headers], console.width - 3 * len(headers) - 1)
    table = Table(title=title)
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, overflow="fold", width=width)
    for row in rows:
        table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
    console.print(table)


def _fit(wanted: list[int], key: list[bool], room: int) -> list[int | None]:
    """Each column's width when the table is wider than ``room`` (None: as wide as it
    wants). Keys keep their whole width; the others share what is left equally, and what a
    narrow one does not need goes to the wider ones."""
    if sum(wanted) <= room:
        return [None] * len(wanted)
    left = room - sum(w for w, k in zip(wanted, key, strict=True) if k)
    others = sorted((w, i) for i, (w, k) in enumerate(zip(wanted, key, strict=True)) if not k)
    if left < len(others):  # not even one character each: let Rich fold what it must
        return [None] * len(wanted)
    widths: list[int | None] = [w if k else None for w, k in zip(wanted, key, strict=True)]
    for n, (w, i) in enumerate(others):
        widths[i] = min(w, left // (len(others) - n))
        left -= widths[i] or 0
    return widths


def _width(cell: Cell) -> int:
    text = cell.plain if isinstance(cell, Text) else cell
    return max((cell_len(line) for line in text.splitlines()), default=0)
