"""`tpi handout` and `tpi report`: the PDFs that go home with the patient, into the chart and to payers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tpi_cli.cli import complete, console, progress
from tpi_cli.cli.context import open_store
from tpi_cli.collector import paused
from tpi_cli.errors import InputError

OutOpt = Annotated[Path | None, typer.Option("-o", "--output", help="Write this file (replacing it), or - for "
                                             "stdout. Default: <patient id>-<date>-<kind>.pdf here, never replacing "
                                             "a file.")]


def _written(store, document, output: Path | None) -> None:
    import hashlib
    import sys

    from tpi_cli.documents import record_disclosure

    digest = hashlib.sha256(document.data).hexdigest()
    if output is not None and str(output) == "-":
        # `-o -`: the PDF on stdout for a pipe or a redirect, never sprayed onto a terminal
        if sys.stdout.isatty():
            raise InputError("-o -: stdout is a terminal; redirect it (> file.pdf) or give -o FILE.pdf")
        try:
            sys.stdout.buffer.write(document.data)
            sys.stdout.flush()
        finally:
            # written whole or cut short by the reader, the PDF has left tpi: account for it either way
            record_disclosure(store, document.kind, "-", digest)
        return
    from tpi_cli.files import write_output

    path = write_output(document.data, output, document.default_name)
    record_disclosure(store, document.kind, str(path.resolve()), digest)
    console.info(f"Wrote {path}")


# Each command runs with the cycle collector paused, to its end (main freezes what is left at exit).
# A PDF command makes tens of thousands of objects that live until the process ends (reportlab's modules,
# the fonts, the pydantic validators) and few cycles: the collector's passes over them freed next to nothing
# yet took ~45 ms of the ~400 ms of `tpi report`. Resumed right after the build, its first pass rescanned
# everything the build had made (~30 ms of `tpi handout`, in recording the handout).


@console.friendly
@paused()
def handout(
    visit: Annotated[str | None, typer.Option("--visit", help="Visit id, e.g. P001-V3.",
                                                         autocompletion=complete.visit_ids)] = None,
    patient: Annotated[str | None, typer.Option("--patient", help="Patient id: their latest visit.",
                                                           autocompletion=complete.patient_ids)] = None,
    output: OutOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="Language: en or es.")] = "en",
    large_print: Annotated[bool, typer.Option("--large-print", help="16 pt type instead of 12 pt.")] = False,
) -> None:
    """Print the patient's aftercare handout for a visit as a PDF.

    Example:

    \b
    tpi handout --patient P001 --lang es --large-print
    """
    from tpi_cli.documents import handout as make
    from tpi_cli.documents import record_handout_given

    store = open_store()
    document = make(store, visit_id=visit, patient_id=patient, lang=lang, large_print=large_print)
    _written(store, document, output)
    # written, then recorded: the procedure note says a handout was given only once one exists
    record_handout_given(store, document.visit_id, lang, large_print)
    if not store.settings().get("clinic.phone"):
        console.warnings([("clinic.phone is not set, so the handout has no number to call; set it with "
                          "`tpi config set clinic.phone '(555) 010-2000'`")])


@console.friendly
@paused()
def report(
    visit: Annotated[str | None, typer.Option("--visit", help="Visit id: the visit summary (procedure note).",
                                                         autocompletion=complete.visit_ids)] = None,
    patient: Annotated[str | None, typer.Option("--patient", help="Patient id: the progress review.",
                                                           autocompletion=complete.patient_ids)] = None,
    since: Annotated[str | None, typer.Option("--since", help="Progress review from this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Progress review up to this date (YYYY-MM-DD).")] = None,
    output: OutOpt = None,
) -> None:
    """Print a visit summary (--visit) or a progress review over many visits (--patient) as a PDF.

    Examples:

    \b
    tpi report --visit P001-V3
    tpi report --patient P001 --since 2026-01-01
    """
    from tpi_cli import documents

    if (visit is None) == (patient is None):
        raise InputError("give --visit VISIT_ID (visit summary) or --patient ID (progress review)")
    store = open_store()
    if visit is not None:
        if since or until:
            raise InputError("--since and --until go with --patient (the progress review)")
        _written(store, documents.visit_summary(store, visit), output)
    else:
        period = console.date_option("--since", since), console.date_option("--until", until)
        with progress.shown("Building the progress review"):
            review = documents.progress_review(store, patient, *period)
        _written(store, review, output)


def register(app: typer.Typer) -> None:
    app.command("handout")(handout)
    app.command("report")(report)
