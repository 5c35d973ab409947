"""Terminal output in one place: data on stdout, messages on stderr, errors as one line and an exit code."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import os
import sys
from collections.abc import Callable, Collection, Iterable
from typing import Annotated, Any

import typer
from rich.console import Console

from tpi_cli.errors import InputError, StoreError, TpiError

stdout = Console(highlight=False, soft_wrap=False, emoji=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def fail(error: TpiError) -> typer.Exit:
    """Print ERROR as one plain line on stderr; return the Exit to raise."""
    stderr.print(f"[bold red]error:[/] {escape(str(error))}")
    return typer.Exit(code=error.exit_code)


def escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the domain's errors into one line and the documented exit code: never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TpiError as error:
            raise fail(error) from None
        except ValueError as error:
            # pydantic's ValidationError is a ValueError; pydantic is imported only where it is used
            from pydantic import ValidationError

            if not isinstance(error, ValidationError):
                raise
            from tpi_cli.models import problems

            raise fail(InputError("; ".join(problems(error)))) from None
        except (KeyboardInterrupt, typer.Abort):  # Ctrl-C, also at a prompt
            stderr.print("interrupted: nothing was saved")
            raise typer.Exit(code=130) from None
        except BrokenPipeError:
            # the reader of stdout went away (`tpi visits --json | head`): stop quietly, as Unix tools do
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(code=0) from None
        except OSError as error:
            # Last resort for a file operation the code did not expect to fail (disk full, a folder made
            # unreadable meanwhile): still the documented exit 3 naming the path, not a traceback.
            raise fail(StoreError(file_problem(error))) from None

    return wrapper


def file_problem(error: OSError) -> str:
    """An OSError as one line naming the file(s), e.g. 'cannot use /x/y: No space left on device'."""
    paths = " → ".join(str(p) for p in (error.filename, error.filename2) if p is not None)
    reason = error.strerror or str(error)
    return f"cannot use {paths}: {reason}" if paths else f"a file operation failed: {reason}"


def as_input_error(parse: Callable[[str], Any], text: str) -> Any:
    """PARSE(TEXT), with a ValueError turned into bad input (exit 2)."""
    try:
        return parse(text)
    except ValueError as error:
        raise InputError(str(error)) from None


def date_option(flag: str, value: str | None) -> dt.date | None:
    """A date option's date (YYYY-MM-DD, today, yesterday, 3m …: tpi_cli/dates.py), or bad input naming the flag."""
    if value is None:
        return None
    from tpi_cli.dates import parse_date

    try:
        return parse_date(value)
    except ValueError as error:
        raise InputError(f"{flag}: {error}") from None


def counted(number: int, noun: str) -> str:
    """'1 patient', '2 patients': a count as a person would write it (NOUN takes an s)."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def print_json(data: Any) -> None:
    """DATA (a model, a list of models, or records already in their JSON shape) as JSON on stdout."""
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [item.model_dump(mode="json") if hasattr(item, "model_dump") else item for item in data]
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def json_item(record: dict[str, Any]) -> bytes:
    """RECORD (in its JSON shape) as one item of the array print_json_items prints, laid out as print_json lays out
    a list's items."""
    from pydantic_core import to_json

    return to_json(record, indent=2).replace(b"\n", b"\n  ")


def print_json_items(items: Iterable[bytes]) -> None:
    """ITEMS (each made by json_item) as one JSON array on stdout, written item by item: a listing of 50,000
    visits is never one string in memory."""
    out = sys.stdout
    first = True
    for item in items:
        out.write("[\n  " if first else ",\n  ")
        out.write(item.decode())
        first = False
    out.write("[]\n" if first else "\n]\n")


def print_json_records(records: Iterable[dict[str, Any]]) -> None:
    """RECORDS (in their JSON shape) as one JSON array on stdout, laid out as print_json lays out a list, written
    record by record: a listing of 50,000 records is never one string in memory."""
    print_json_items(map(json_item, records))


def info(message: str) -> None:
    """MESSAGE on stderr exactly as given: user text such as a clinic named 'Clinic [/] x' is never markup."""
    stderr.print(message, markup=False)


def styled(markup: str) -> None:
    """Rich MARKUP on stderr; any user text inside must go through :func:`escape`."""
    stderr.print(markup)


def warnings(lines: list[str]) -> None:
    if lines:
        stderr.print(warning_lines(lines))


def warning_lines(warnings: list[str]) -> str:
    return "\n".join(f"[yellow]⚠[/] {escape(w)}" for w in warnings)


# Columns whose text may wrap on spaces; the others (ids, dates, codes) stay on one line.
WRAPPING_COLUMNS = {"sites", "doses", "name", "allergies", "aliases", "brands", "source", "meaning", "notes",
                    "risks", "value", "due", "CPT", "rule"}


# Columns whose own narrowest readable width differs from tables.MIN_WRAP_WIDTH: free text that needs
# room to be read, and a list of codes that may go one a line.
COLUMN_MIN_WIDTHS = {"meaning": 24, "CPT": 5}


def table(title: str | None, columns: list[str], rows: list[list[str]], note: str | None = None) -> None:
    """A listing on stdout (see cli/tables.py); NOTE (e.g. how many more there are) goes to stderr."""
    from tpi_cli.cli import tables

    spec = [tables.Column(name, wrap=name in WRAPPING_COLUMNS, min_width=COLUMN_MIN_WIDTHS.get(name, tables.MIN_WRAP_WIDTH))
            for name in columns]
    tables.show(stdout, title, spec, rows)
    if note:
        stderr.print(note)


LimitOpt = Annotated[int | None, typer.Option(
    "--limit", help="Show at most N (0: all). Tables default to a screenful; --json to all.", show_default=False)]
# a reference list (the vocabulary) is shown whole unless asked
AllLimitOpt = Annotated[int | None, typer.Option("--limit", help="Show at most N (0, the default: all).",
                                                 show_default=False)]


def limited(records: Collection[Any], limit: int | None, noun: str, default: int) -> tuple[Iterable[Any], str | None]:
    """The first LIMIT records (DEFAULT when not given; 0 is all) and, when some are left out, a note saying so.

    RECORDS may be a store's listing, read once as it is printed: all of them are given back as they are.
    """
    if limit is None:
        limit = default
    if limit < 0:
        raise InputError(f"--limit: give a number of {noun}s to show, or 0 for all (not {limit})")
    if not limit or len(records) <= limit:
        return records, None
    return list(itertools.islice(records, limit)), f"showing {limit} of {len(records)} {noun}s; --limit 0 shows all"


def panel(body: str, title: str, style: str = "green", *, asked: bool = False) -> None:
    """A boxed text: the output itself when ASKED for (`show`), else a message on stderr (a confirmation)."""
    from rich.panel import Panel

    # wrap inside the box even on stderr (soft-wrapped for one-line messages): else long warnings are cut off
    (stdout if asked else stderr).print(Panel(body, title=title, border_style=style, expand=False), soft_wrap=False)


