"""`tpi export fhir|csv`: hand visits to the EHR and to spreadsheets."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tpi_cli.cli import complete, console, progress
from tpi_cli.cli.context import open_store
from tpi_cli.collector import paused

if TYPE_CHECKING:
    from tpi_cli.store import Store

export_app = typer.Typer(help="Export visits: FHIR R4 for the EHR, CSV for spreadsheets.\n\n"
                         "Examples:\n\n\b\ntpi export fhir --patient P001 -o p001.json\n"
                         "tpi export csv --since 2026-01-01 -o visits-2026.csv", no_args_is_help=True)

PatientOpt = Annotated[str | None, typer.Option("--patient", help="Only this patient.",
                                                         autocompletion=complete.patient_ids)]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Visits from this date (YYYY-MM-DD).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Visits up to this date (YYYY-MM-DD).")]


def _out(help_text: str):
    return Annotated[str, typer.Option("-o", "--output", help=help_text)]


def _write(store: Store, action: str, data: Iterable[bytes], output: str) -> None:
    """Write DATA to OUTPUT (a file, or - for stdout), then record the disclosure in the audit trail."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for piece in data:
            digest.update(piece)
            yield piece

    if output == "-":
        # Written to stdout only once complete: damage found half-way through the store (exit 3) must not leave
        # half an export in a pipe, which the reader could not tell from a whole one. Spooled meanwhile to a
        # nameless 0600 temp file, not to memory (a whole store's FHIR Bundle is hundreds of MB).
        import shutil
        import tempfile

        with tempfile.TemporaryFile() as spool:
            for piece in hashed():
                spool.write(piece)
            spool.seek(0)
            try:
                sys.stdout.flush()
                shutil.copyfileobj(spool, sys.stdout.buffer)
                sys.stdout.flush()
            finally:
                # whole, or cut short by its reader (`| head`), the export has left tpi: an accounted disclosure
                store.audit_disclosure(action, "-", digest.hexdigest())
        return
    from tpi_cli.files import write_output

    path = write_output(hashed(), Path(output), Path(output).name)
    store.audit_disclosure(action, str(path), digest.hexdigest())
    console.info(f"Wrote {path}")


@export_app.command("fhir")
@console.friendly
def fhir(
    output: Annotated[str | None, typer.Option("-o", "--output", help="FILE.json to write (replacing it), or - for "
                                               "stdout.")] = None,
    patient: PatientOpt = None, since: SinceOpt = None, until: UntilOpt = None,
    bundle_type: Annotated[str, typer.Option("--type", help="transaction (an EHR loads it; sending it twice "
                                             "changes nothing) or collection (a plain set of resources).")]
    = "transaction",
    with_documents: Annotated[bool, typer.Option("--with-documents", help="Add each visit's procedure note PDF as "
                                                 "a DocumentReference.")] = False,
    post: Annotated[str | None, typer.Option("--post", help="Send the transaction to this FHIR server base URL "
                                             "(bearer token from TPI_FHIR_TOKEN).", metavar="URL")] = None,
) -> None:
    """Write one FHIR R4 Bundle (US Core 6.1.0) of patients, encounters, procedures, medications, observations
    and amendments, or send it to the EHR's FHIR server.

    Example:

    \b
    tpi export fhir --patient P001 --since 2026-01-01 -o p001.json
    tpi export fhir --post https://ehr.example.org/fhir
    """
    from tpi_cli.documents import fhir_export
    from tpi_cli.errors import InputError

    if bundle_type not in ("transaction", "collection"):
        raise InputError(f"--type: choose transaction or collection, not {bundle_type!r}")
    if post and bundle_type != "transaction":
        raise InputError("--post: a server takes a transaction; leave out --type collection")
    if output is None and post is None:
        raise InputError("give -o FILE.json (or - for stdout), --post URL, or both")
    period = console.date_option("--since", since), console.date_option("--until", until)
    store = open_store()
    with progress.shown("Exporting patients", data_on_stdout=output == "-") as step:
        chunks = fhir_export(store, patient, *period, transaction=bundle_type == "transaction",
                             with_documents=with_documents, progress=step)
        if post is None:
            _write(store, "export.fhir", chunks, output)
            return
        data = b"".join(chunks)
    from tpi_cli.exports.send import post_bundle

    if output is not None:
        _write(store, "export.fhir", [data], output)
    answer = post_bundle(post, data, delivered=lambda: store.audit_disclosure(
        "export.fhir-post", post, hashlib.sha256(data).hexdigest()))
    console.info(f"Sent to {post}: {answer}")


@export_app.command("csv")
@console.friendly
@paused()  # a row's objects live until its patient is written: the collector's passes over them freed nothing
def csv(output: _out("FILE.csv to write (replacing it), or - for stdout."), patient: PatientOpt = None,
        since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Write one CSV row per visit (UTF-8), with the patient's columns; `tpi import` reads it back.

    Example:

    \b
    tpi export csv --since 2026-01-01 -o visits-2026.csv
    """
    from tpi_cli.documents import csv_export

    period = console.date_option("--since", since), console.date_option("--until", until)
    store = open_store()
    with progress.shown("Exporting patients", data_on_stdout=output == "-") as step:
        _write(store, "export.csv", csv_export(store, patient, *period, progress=step), output)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
