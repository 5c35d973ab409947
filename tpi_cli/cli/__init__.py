"""The `tpi` command line: thin typer commands that parse, call the core and render.

One module per command group; heavy libraries (reportlab, fhir.resources) are imported inside the
commands that need them, so `tpi log-visit` starts as fast as the stack allows.
"""

from __future__ import annotations

import os

# Third-party pydantic plugins (observability hooks) would see every record tpi validates, which is
# patient data; tpi loads none. Skipping their discovery also saves ~6 ms per command (measured).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from pathlib import Path
from typing import Annotated

import typer

from tpi_cli import __version__
from tpi_cli.cli import config, data, demo, documents, exports, patient, visit
from tpi_cli.cli.context import state

app = typer.Typer(
    name="tpi",
    help="Log trigger point injections, print aftercare handouts and procedure reports.\n\n"
    "Example: tpi log-visit --patient P001 --site 'upper trapezius:left:2' "
    "--agent 'lidocaine 1% 3 mL' --pain-before 7 --pain-after 2",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tpi {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Store folder (default: $TPI_STORE, else your user data folder).",
                     show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """tpi: trigger point injection log, handouts and reports."""
    state.store_path = store


patient.register(app)
visit.register(app)
documents.register(app)
exports.register(app)
data.register(app)
config.register(app)
demo.register(app)


def main() -> None:
    app()
