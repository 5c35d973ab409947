"""`tpi audit` and `tpi audit verify`: read the audit trail and prove it matches the records."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store

audit_app = typer.Typer(help="The audit trail: every write and disclosure, hash-chained.\n\nExamples:\n\n\b\n"
                        "tpi audit --patient P001\ntpi audit verify", invoke_without_command=True)


def _about_patient(record: str, patient_id: str) -> bool:
    from tpi_cli.models import split_visit_id

    parts = split_visit_id(record)
    return record == patient_id or (parts is not None and parts[0] == patient_id)


def _events(store, patient: str | None) -> Iterator[dict[str, Any]]:
    """The trail's events, oldest first, read as they come; only PATIENT's (and their visits') when given."""
    from tpi_cli import audit
    from tpi_cli.errors import InputError

    for number, event in store.audit_events():
        if not isinstance(event, dict):
            raise InputError(f"audit: line {number} of the trail is not an event; `tpi audit verify` checks it")
        if patient is None or (audit.record_kind(str(event.get("action"))) in ("patient", "visit")
                               and _about_patient(str(event.get("record")), patient)):
            yield event


@audit_app.callback()
@console.friendly
def show(
    ctx: typer.Context,
    patient: Annotated[str | None, typer.Option("--patient", help="Only events about this patient and their visits.")]
    = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", help="Show the last N events (0: all). Tables default to a screenful; --json to all.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON on stdout.")] = False,
) -> None:
    """List the audit trail, oldest first: who wrote or disclosed what, when.

    Examples:

    \b
    tpi audit --patient P001
    tpi audit --limit 0 | grep visit.void
    tpi audit --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from tpi_cli.errors import InputError

    if limit is None:
        limit = 0 if as_json else 50
    if limit < 0:
        raise InputError(f"--limit: give a number of audit events to show, or 0 for all (not {limit})")
    store = open_store()
    if patient is not None and not store.has_patient(patient):
        raise InputError(f"patient: no patient with id {patient!r}; `tpi patient list` lists them")
    # read twice rather than held: every line is checked before the first is printed, and a clinic's trail of
    # 50,000 events is never in memory (the trail only grows: the second reading stops where the first did)
    total = sum(1 for _ in _events(store, patient))
    first = total - limit if limit and total > limit else 0
    events = itertools.islice(_events(store, patient), first, total)
    note = f"showing the last {limit} of {total} audit events; --limit 0 shows all" if first else None
    if as_json:
        console.print_json_records(events)
    elif not total:
        console.info("No audit events yet.")
    else:
        console.table(f"{total} audit events (oldest first)", ["seq", "at", "by", "action", "record", "digest"],
                      [[str(e.get("seq")), str(e.get("at")), str(e.get("by")), str(e.get("action")),
                        str(e.get("record")), str(e.get("digest"))[:12]] for e in events], note=note)
        return
    if note:
        console.info(note)


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
