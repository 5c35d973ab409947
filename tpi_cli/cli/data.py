"""`tpi import`: patients and visits from JSON Lines, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store


@console.friendly
def import_file(
    path: Annotated[Path, typer.Argument(help="A .jsonl file of patient and visit input records, or a .csv "
                                         "that `tpi export csv` wrote.", metavar="FILE")],
) -> None:
    """Import patients and visits. Every line is checked first; then all are written, or none.

    Examples:

    \b
    tpi import clinic-history.jsonl
    tpi import visits-2026.csv
    """
    from tpi_cli.workflow import import_file as import_into

    result = import_into(open_store(create=True), path)
    skipped = f" ({result.skipped_patients} patients already in the store)" if result.skipped_patients else ""
    console.info(f"Imported {result.patients} patients and {result.visits} visits{skipped}.")


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
