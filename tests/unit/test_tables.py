"""Terminal tables in which ids and codes are never cut (issue 14)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from reclaim.entrypoints.tables import print_table


def shown(width: int, rows: list[tuple[str, ...]], **kw: object) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    print_table(console, ("id", "name", "timezone", "domain", "sending"), rows, **kw)  # type: ignore[arg-type]
    return console.export_text()


ROW = (
    "st_37a87c0ffee1",
    "Boutique des Quatre Saisons",
    "America/Argentina/Buenos_Aires",
    "boutique-des-quatre-saisons.example.com",
    "on",
)


def test_keys_stay_whole_and_the_table_fits_at_80_columns() -> None:
    text = shown(80, [ROW], keys=("id",))
    assert "st_37a87c0ffee1" in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    # Nothing else is lost either: the other cells fold onto more lines.
    flat = "".join(line.split("│")[3].strip() for line in text.splitlines() if "│" in line)
    assert flat == "America/Argentina/Buenos_Aires"


def test_a_table_that_fits_is_left_alone() -> None:
    text = shown(200, [ROW], keys=("id",))
    assert all(cell in text for cell in ROW)
    assert len(text.splitlines()) == 5  # top, header, rule, the row, bottom


def test_cells_are_not_console_markup() -> None:
    row = ("st_1", "[red]Shop[/red]", "UTC", "shop.example", "on")
    text = shown(120, [row, (*row[:4], Text("paused", style="red"))], keys=("id",))  # type: ignore[list-item]
    assert "[red]Shop[/red]" in text and "paused" in text
