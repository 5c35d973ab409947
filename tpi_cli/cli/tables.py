"""Listings that fit where they are shown.

Piped or redirected, a listing is tab-separated rows under a header line, one record a line, so
`grep`, `cut` and spreadsheets read it. In a terminal it is a table that wraps only on spaces; when
the terminal is too narrow for every column without breaking a word, each record becomes a block of
"key: value" lines instead, so no column (sites, allergies, doses) is ever dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

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


# Rows printed per table: a terminal listing of a whole clinic (50,000 visits) is printed in tables of
# this many rows that share one set of column widths, so its memory stays that of one chunk.
CHUNK_ROWS = 500


def _probe_rows(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    """Two rows holding, per column, the cell with the longest line and the cell with the longest word.

    Rich sizes a column from the widest of its cells' longest lines and longest words only, so a table of
    these two rows gets the same column widths as a table of all ROWS.
    """
    from rich.cells import cell_len

    def line_width(cell: str) -> int:
        return max((cell_len(line) for line in cell.splitlines()), default=0)

    def word_width(cell: str) -> int:
        return max((cell_len(word) for word in cell.split()), default=0)

    columns = list(zip(*rows, strict=True))
    return [[max(cells, key=line_width) for cells in columns], [max(cells, key=word_width) for cells in columns]]


def _grids(console: Console, rows: Sequence[Sequence[str]], make: Callable[[bool], Table],
           fill: Callable[[Table, Sequence[Sequence[str]], bool], None]) -> None:
    """Print ROWS in tables made by MAKE(first chunk?) and filled by FILL(table, rows, first chunk?): one
    table when they are few, else chunks of CHUNK_ROWS whose column widths are those of the whole."""
    if len(rows) <= CHUNK_ROWS:
        grid = make(True)
        fill(grid, rows, True)
        console.print(grid)
        return
    probe = make(True)
    fill(probe, _probe_rows(rows), True)
    # Rich's own layout, as Table.__rich_console__ calls it (the dividers' width is taken off first);
    # tests/test_output.py pins that the chunks print exactly what one table would.
    widths = probe._calculate_column_widths(console, console.options.update_width(console.width - probe._extra_width))
    for start in range(0, len(rows), CHUNK_ROWS):
        grid = make(start == 0)
        for index, (column, width) in enumerate(zip(grid.columns, widths, strict=True)):
            column.width = width - grid._get_padding_width(index)  # a column's width excludes its padding
        fill(grid, rows[start:start + CHUNK_ROWS], start == 0)
        console.print(grid)


def render(console: Console, title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> None:
    """ROWS as a table on CONSOLE (a terminal), or as key: value blocks when it is too narrow."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if minimum_width(columns, rows) <= console.width:
        def table(first: bool) -> Table:
            grid = Table(title=title if first else None, title_justify="left", header_style="bold",
                         box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0),
                         show_header=first)
            for column in columns:
                grid.add_column(column.name, no_wrap=not column.wrap, overflow="fold")
            return grid

        def rows_into(grid: Table, chunk: Sequence[Sequence[str]], first: bool) -> None:
            for row in chunk:
                grid.add_row(*(Text(cell) for cell in row))

        _grids(console, rows, table, rows_into)
        return
    if title:
        console.print(Text(title, style="italic"))

    def blocks(first: bool) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        return grid

    def blocks_into(grid: Table, chunk: Sequence[Sequence[str]], first: bool) -> None:
        for number, row in enumerate(chunk):
            if number or not first:  # a blank line between records, also across chunks
                grid.add_row("", "")
            for index, (column, cell) in enumerate(zip(columns, row, strict=True)):
                style = "bold" if index == 0 else ""
                grid.add_row(Text(f"{column.name}:", style="dim" if index else "bold"), Text(cell, style=style))

    _grids(console, rows, blocks, blocks_into)


def show(console: Console, title: str | None, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
    """The one way listings are printed: TSV on a pipe or file, row by row as ROWS come; a table that fits in a
    terminal."""
    if console.is_terminal:
        render(console, title, columns, list(rows))
    else:
        write_tsv(sys.stdout, columns, rows)
