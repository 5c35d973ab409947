"""`tpi store init|copy|info`: create or upgrade a store, copy a whole store, say which store is in use."""

from __future__ import annotations

from typing import Annotated

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store

store_app = typer.Typer(help="Create, copy and describe stores (a folder, or a shared PostgreSQL database).\n\n"
                        "Examples:\n\n\b\ntpi store info\ntpi store init postgresql://admin@db.clinic.lan/tpi",
                        no_args_is_help=True)

LOCATION_HELP = "A store folder, or postgresql://USER@HOST[:PORT]/DB."


@store_app.command("init")
@console.friendly
def init(location: Annotated[str, typer.Argument(help=LOCATION_HELP, show_default=False)]) -> None:
    """Create the store, or upgrade its schema to this version of tpi.

    A database must be empty or already hold a tpi store; tpi never mixes its tables into another
    application's database.

    Example:

    \b
    tpi store init postgresql://admin@db.clinic.lan/tpi
    """
    from tpi_cli.store import open_store as open_location

    store = open_location(location)
    before, after = store.init()
    if before == after:
        console.info(f"{store.location}: tpi store at schema {after}, nothing to do")
    elif before == 0:
        console.info(f"{store.location}: created a tpi store (schema {after})")
    else:
        console.info(f"{store.location}: upgraded the tpi store from schema {before} to {after}")


@store_app.command("copy")
@console.friendly
def copy(
    source: Annotated[str, typer.Argument(metavar="SRC", help="The store to copy. " + LOCATION_HELP,
                                          show_default=False)],
    target: Annotated[str, typer.Argument(metavar="DST", help="An empty store to copy into. " + LOCATION_HELP,
                                          show_default=False)],
) -> None:
    """Copy every setting, protocol, patient, visit (with amendments) and audit event into an empty store.

    The copy is written in one go and, before it is committed, checked against the source: the count and
    SHA-256 of every record.

    Example:

    \b
    tpi store copy ~/.local/share/tpi postgresql://admin@db.clinic.lan/tpi
    """
    from tpi_cli.store_copy import copy_store

    counts = copy_store(source, target)
    kinds = [console.counted(counts[key], noun) for key, noun in (("patients", "patient"), ("visits", "visit"),
                                                                   ("settings", "setting"), ("protocols", "protocol"),
                                                                   ("events", "audit event"))]
    console.info(f"copied {', '.join(kinds[:-1])} and {kinds[-1]} from {counts['from']} to {counts['to']}; the copy "
                 "matches record for record")


@store_app.command("info")
@console.friendly
def info(as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False) -> None:
    """Say which store is in use, its kind and what it holds.

    Example:

    \b
    tpi --store postgresql://ana@db.clinic.lan/tpi store info --json
    """
    details = open_store().info()
    if as_json:
        console.print_json(details)
        return
    head, backup = details.get("audit_head"), details.get("last_backup")
    shown = {**details, "audit_head": f"event {head['seq']}, hash {head['hash'][:16]}" if head else "no events yet"}
    if "last_backup" in details:
        shown["last_backup"] = (f"{backup.get('at')} to {backup.get('file')}"
                                + ("" if backup.get("encrypted") else " (not encrypted)") if backup else "never")
    console.table("Store", ["", ""], [[key, str(value)] for key, value in shown.items()])


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")
