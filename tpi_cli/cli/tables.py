"""Listings that fit where they are shown.

Piped or redirected, a listing is tab-separated rows under a header line, one record a line, so
`grep`, `cut` and spreadsheets read it. In a terminal it is a table that wraps only on spaces; when
the terminal is too narrow for every column without breaking a word, each record becomes a block of
"key: value" lines instead, so no column (sites, allergies, doses) is ever dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

# A wrapping column narrower than this is technically readable but useless (one word a line).
MIN_WRAP_WIDTH = 12
# Between two columns: one space of padding and the (blank) divider; no outer edge.
COLUMN_GAP = 2


@dataclass(frozen=True)
class Column:
    name: str
    wrap: bool = False  # free text (sites, names, meanings) may wrap on spaces; ids, dates, codes never
    min_width: int = MIN_WRAP_WIDTH  # a wrapping column narrower than this makes the listing stack instead


def tsv_cell(text: str) -> str:
    """TEXT on one TSV cell: a tab or line break inside would split the record, so they are escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_tsv(out: TextIO, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
    out.write("\t".join(tsv_cell(c.name) for c in columns) + "\n")
    out.writelines("\t".join(tsv_cell(cell) for cell in row) + "\n" for row in rows)


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def minimum_width(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> int:
    """The narrowest a table of ROWS can be without breaking a word or squeezing free text."""
    total = COLUMN_GAP * (len(columns) - 1)
    for index, column in enumerate(columns):
        cells = [row[index] for row in rows]
        if column.wrap:
            widest_line = max((len(line) for cell in cells for line in cell.splitlines()), default=0)
            width = max(max((_longest_word(cell) for cell in cells), default=0),
                        min(column.min_width, widest_line))
        else:
            width = max((len(line) for cell in cells for line in cell.splitlines()), default=0)
        total += max(width, len(column.name))
    return total


def render(console: Console, title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    """ROWS as a table on CONSOLE (a terminal), or as key: value blocks when it is too narrow."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if minimum_width(columns, rows) <= console.width:
        grid = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                     show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
        for column in columns:
            grid.add_column(column.name, no_wrap=not column.wrap, overflow="fold")
        for row in rows:
            grid.add_row(*(Text(cell) for cell in row))
        console.print(grid)
        return
    if title:
        console.print(Text(title, style="italic"))
    blocks = Table.grid(padding=(0, 1))
    blocks.add_column(no_wrap=True)
    blocks.add_column(overflow="fold")
    for number, row in enumerate(rows):
        if number:
            blocks.add_row("", "")
        for index, (column, cell) in enumerate(zip(columns, row, strict=True)):
            style = "bold" if index == 0 else ""
            blocks.add_row(Text(f"{column.name}:", style="dim" if index else "bold"), Text(cell, style=style))
    console.print(blocks)


def show(console: Console, title: str | None, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
    """The one way listings are printed: TSV on a pipe or file, row by row as ROWS come; a table that fits in a
    terminal."""
    if console.is_terminal:
        render(console, title, columns, list(rows))
    else:
        write_tsv(sys.stdout, columns, rows)
