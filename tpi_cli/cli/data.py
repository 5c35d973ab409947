"""`tpi import`: patients and visits from JSON Lines, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tpi_cli.cli import console, progress
from tpi_cli.cli.context import open_store
from tpi_cli.errors import InputError


@console.friendly
def import_file(
    files: Annotated[list[str], typer.Argument(help="A .jsonl file of patient and visit input records, or a .csv "
                                               "that `tpi export csv` wrote; or `fhir FILE`: the Patients of a "
                                               "FHIR Bundle or NDJSON from an EHR.", metavar="[fhir] FILE")],
    allow_duplicates: Annotated[bool, typer.Option(
        "--allow-duplicates", help="Import a visit even when the store (or an earlier line) has one with the "
        "same patient, date, sites, agents and pain.")] = False,
) -> None:
    """Import patients and visits. Every line is checked first; then all are written, or none.

    Examples:

    \b
    tpi import clinic-history.jsonl
    tpi import visits-2026.csv
    tpi import fhir ehr-patients.ndjson
    """
    if len(files) == 2 and files[0] == "fhir":
        _import_fhir(Path(files[1]))
        return
    if len(files) != 1:
        raise InputError("give one FILE (.jsonl or .csv), or `fhir FILE` for an EHR's Patient resources")
    from tpi_cli.workflow import import_file as import_into

    path = Path(files[0])
    with progress.shown("Checking lines") as step:
        result = import_into(open_store(create=True), path, allow_duplicates=allow_duplicates, progress=step)
    skipped = f" ({result.skipped_patients} patients already in the store)" if result.skipped_patients else ""
    console.info(f"Imported {result.patients} patients and {result.visits} visits{skipped}.")


def _import_fhir(path: Path) -> None:
    from tpi_cli.imports.fhir import import_patients

    result = import_patients(open_store(create=True), path)
    notes = [f"{result.already} already in the store, matched by MRN"] if result.already else []
    if result.skipped_resources:
        notes.append(f"{result.skipped_resources} resources that are not Patients left aside")
    console.info(f"Imported {result.patients} patients" + (f" ({'; '.join(notes)})" if notes else "") + ".")


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
