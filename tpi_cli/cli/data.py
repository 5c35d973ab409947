"""`tpi import`: patients and visits from JSON Lines, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store
from tpi_cli.errors import InputError, StoreError


def read_json_lines(path: Path) -> list[tuple[int, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"import: {path} does not exist") from None
    except UnicodeDecodeError:
        raise InputError(f"import: {path} is not UTF-8 text") from None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror or error}") from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise InputError(f"line {number}: not valid JSON ({error.msg} at column {error.colno})") from None
    if not records:
        raise InputError(f"import: {path} holds no records")
    return records


@console.friendly
def import_file(
    path: Annotated[Path, typer.Argument(help="A .jsonl file of patient and visit input records.",
                                         metavar="FILE")],
) -> None:
    """Import patients and visits. Every line is checked first; then all are written, or none.

    Example: tpi import clinic-history.jsonl
    """
    from tpi_cli.workflow import import_records

    records = read_json_lines(path)
    result = import_records(open_store(), records)
    skipped = f" ({result.skipped_patients} patients already in the store)" if result.skipped_patients else ""
    console.info(f"Imported {result.patients} patients and {result.visits} visits{skipped}.")


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
