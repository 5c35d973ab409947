"""The `tpi` command line: thin typer commands that parse, call the core and render.

One module per command group; heavy libraries (reportlab, fhir.resources) are imported inside the
commands that need them, so `tpi log-visit` starts as fast as the stack allows.
"""

from __future__ import annotations

import os

# Third-party pydantic plugins (observability hooks) would see every record tpi validates, which is
# patient data; tpi loads none. Skipping their discovery also saves ~6 ms per command (measured).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

import gc
import importlib
import sys
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, get_type_hints

from tpi_cli import collector

collector.spaced_for_start_up()  # before typer, rich and pydantic are imported

import typer

from tpi_cli import __version__
from tpi_cli.cli.context import state

# Each command and the module that registers it, in the order `tpi --help` lists them.
COMMAND_MODULES = {
    "patient": "patient", "log-visit": "visit", "visits": "visit", "visit": "visit", "handout": "documents",
    "report": "documents", "export": "exports", "import": "data", "config": "config", "demo": "demo",
    "due": "plan", "protocol": "protocol", "store": "store", "audit": "audit", "muscles": "vocabulary",
    "drugs": "vocabulary", "backup": "backup",
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tpi {__version__}")
        raise typer.Exit()


def main_options(
    store: Annotated[
        str | None,
        typer.Option("--store", help="Store folder, or postgresql://USER@HOST[:PORT]/DB for a shared database "
                     "(default: $TPI_STORE, else your user data folder).", show_default=False),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """tpi: trigger point injection log, handouts and reports."""
    state.store_location = store


@cache
def build_app(command: str | None = None) -> typer.Typer:
    """The tpi app; given COMMAND, with only the module that holds it.

    Typer builds every registered command's options on each run (~20 ms for all of them, measured),
    so `main` registers just the one being run; help and unknown commands get them all.
    """
    app = typer.Typer(
        name="tpi",
        help="Log trigger point injections, print aftercare handouts and procedure reports.\n\n"
        "Examples:\n\n\b\n"
        "tpi patient add --id P001 --name 'Ana María Núñez' --dob 1968-04-02\n"
        "tpi log-visit --patient P001 --site 'upper trapezius:left:2' --agent 'lidocaine 1% 3 mL' --pain 7/2\n"
        "tpi log-visit --like last -p P001 --pain 6/2\n"
        "tpi handout --patient P001",
        no_args_is_help=True,
        # --install-completion/--show-completion, and the shell's completion requests, run without a
        # command on the line: a command that is run builds no completion machinery (start-up time).
        add_completion=command is None,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(main_options)
    modules = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else COMMAND_MODULES.values()
    for name in dict.fromkeys(modules):
        importlib.import_module(f"tpi_cli.cli.{name}").register(app)
    if command in COMMAND_MODULES:
        # a module registers several commands (visit: log-visit, visits, visit …); typer would build them all
        app.registered_commands = [info for info in app.registered_commands if info.name == command]
        app.registered_groups = [info for info in app.registered_groups if info.name == command]
        for info in [app.registered_callback, *app.registered_commands]:
            _resolve_annotations(info.callback)
    return app


def _resolve_annotations(function: Callable[..., Any]) -> None:
    """Replace FUNCTION's annotations, strings under `from __future__ import annotations`, by what they name.

    Typer evaluates each string again every time it reads the signature (log-visit's ~50 options, ~10
    times a run: ~3 ms); evaluated once here, it reads the objects themselves.
    """
    function.__annotations__.update(get_type_hints(function, include_extras=True))


def command_index(argv: list[str]) -> int | None:
    """Where in ARGV the command is (after the global options), or None for help, version or nothing."""
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--store":
            index += 2
        elif arg.startswith("--store="):
            index += 1
        elif arg.startswith("-"):
            return None
        else:
            return index
    return None


def command_in(argv: list[str]) -> str | None:
    """The command ARGV runs, or None for help, version or nothing."""
    index = command_index(argv)
    return None if index is None else argv[index]


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


GLOBAL_OPTIONS = ("--store",)


def misplaced_global_option(argv: list[str]) -> str | None:
    """A global option written after the command (`tpi visits --store X`), which click knows only before it."""
    index = command_index(argv)
    if index is None:
        return None
    after = argv[index + 1:]
    return next((arg.split("=")[0] for arg in after if arg.split("=")[0] in GLOBAL_OPTIONS), None)


def main() -> None:
    argv = sys.argv[1:]
    option = misplaced_global_option(argv)
    if option is not None:
        command = command_in(argv)
        sys.stderr.write(f"error: {option} is a global option: put it before the command, "
                         f"e.g. tpi {option} PATH {command} ...\n")
        raise SystemExit(2)
    try:
        build_app(command_in(argv))()
    finally:
        # The process ends here and the OS frees its memory: frozen objects are left out of the
        # interpreter's last full garbage collection at exit, a tenth of log-visit's run (measured).
        gc.freeze()
