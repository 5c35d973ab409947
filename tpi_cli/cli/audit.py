"""`tpi audit` and `tpi audit verify`: read the audit trail and prove it matches the records."""

from __future__ import annotations

from typing import Annotated

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store

audit_app = typer.Typer(help="The audit trail: every write and disclosure, hash-chained.\n\nExamples:\n\n\b\n"
                        "tpi audit --patient P001\ntpi audit verify", invoke_without_command=True)


def _about_patient(record: str, patient_id: str) -> bool:
    from tpi_cli.models import split_visit_id

    parts = split_visit_id(record)
    return record == patient_id or (parts is not None and parts[0] == patient_id)


@audit_app.callback()
@console.friendly
def show(
    ctx: typer.Context,
    patient: Annotated[str | None, typer.Option("--patient", help="Only events about this patient and their visits.")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON on stdout.")] = False,
) -> None:
    """List the audit trail, oldest first: who wrote or disclosed what, when.

    Examples:

    \b
    tpi audit --patient P001
    tpi audit --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from tpi_cli import audit
    from tpi_cli.errors import InputError

    store = open_store()
    if patient is not None and not store.has_patient(patient):
        raise InputError(f"patient: no patient with id {patient!r}; `tpi patient list` lists them")
    events = []
    for number, event in store.audit_events():
        if not isinstance(event, dict):
            raise InputError(f"audit: line {number} of the trail is not an event; `tpi audit verify` checks it")
        if patient is None or (audit.record_kind(str(event.get("action"))) in ("patient", "visit")
                               and _about_patient(str(event.get("record")), patient)):
            events.append(event)
    if as_json:
        console.print_json(events)
        return
    if not events:
        console.info("No audit events yet.")
        return
    console.table(f"{len(events)} audit events (oldest first)", ["seq", "at", "by", "action", "record", "digest"],
                  [[str(e.get("seq")), str(e.get("at")), str(e.get("by")), str(e.get("action")), str(e.get("record")),
                    str(e.get("digest"))[:12]] for e in events])


@audit_app.command("verify")
@console.friendly
def verify() -> None:
    """Recompute the hash chain and every record's digest: exit 0 when they agree, 1 naming each difference.

    Example:

    \b
    tpi audit verify
    """
    result = open_store().verify_audit()
    records = ", ".join(console.counted(count, kind) for kind, count in sorted(result.records.items()))
    if result.problems:
        for problem in result.problems:
            console.stderr.print(f"[bold red]audit:[/] {console.escape(problem)}")
        console.stderr.print(f"audit verify found {len(result.problems)} difference(s) "
                             f"({result.events} events; {records or 'no records'})")
        raise typer.Exit(code=1)
    console.info(f"audit trail verified: {result.events} events ({console.counted(result.disclosures, 'disclosure')}), "
                 f"{records or 'no records'}; head {result.head.seq} {result.head.hash[:16]}")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
