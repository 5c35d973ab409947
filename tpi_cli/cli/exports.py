"""`tpi export fhir|csv`: hand visits to the EHR and to spreadsheets."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store

export_app = typer.Typer(help="Export visits: FHIR R4 for the EHR, CSV for spreadsheets.\n\n"
                         "Examples:\n\n\b\ntpi export fhir --patient P001 -o p001.json\n"
                         "tpi export csv --since 2026-01-01 -o visits-2026.csv", no_args_is_help=True)

PatientOpt = Annotated[str | None, typer.Option("--patient", help="Only this patient.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Visits from this date (YYYY-MM-DD).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Visits up to this date (YYYY-MM-DD).")]


def _out(help_text: str):
    return Annotated[str, typer.Option("-o", "--output", help=help_text)]


def _write(data: Iterable[bytes], output: str) -> None:
    if output == "-":
        for piece in data:
            sys.stdout.buffer.write(piece)
        sys.stdout.flush()
        return
    from tpi_cli.files import write_output

    path = write_output(data, Path(output), Path(output).name)
    console.info(f"Wrote {path}")


@export_app.command("fhir")
@console.friendly
def fhir(output: _out("FILE.json to write (replacing it), or - for stdout."), patient: PatientOpt = None,
         since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Write one FHIR R4 Bundle of patients, encounters, procedures, medications and pain scores.

    Example:

    \b
    tpi export fhir --patient P001 --since 2026-01-01 -o p001.json
    """
    from tpi_cli.documents import fhir_export

    period = console.date_option("--since", since), console.date_option("--until", until)
    _write(fhir_export(open_store(), patient, *period), output)


@export_app.command("csv")
@console.friendly
def csv(output: _out("FILE.csv to write (replacing it), or - for stdout."), patient: PatientOpt = None,
        since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Write one CSV row per visit (UTF-8), with the patient's columns; `tpi import` reads it back.

    Example:

    \b
    tpi export csv --since 2026-01-01 -o visits-2026.csv
    """
    from tpi_cli.documents import csv_export

    period = console.date_option("--since", since), console.date_option("--until", until)
    _write(csv_export(open_store(), patient, *period), output)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
