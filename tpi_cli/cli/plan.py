"""`tpi due`: follow-ups due today (or within days) and from when the payer allows a repeat."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from tpi_cli.cli import console
from tpi_cli.cli.context import open_store


def _when(days: int) -> str:
    if days == 0:
        return "today"
    return f"in {console.counted(days, 'day')}" if days > 0 else f"{console.counted(-days, 'day')} late"


@console.friendly
def due(
    within: Annotated[int, typer.Option("--within", help="Also follow-ups due in the next DAYS days.",
                                        metavar="DAYS")] = 0,
    limit: console.LimitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List patients whose follow-up is due or past with no later visit, soonest first.

    Each comes with the first date their payer profile allows a repeat injection at the same sites
    (same-site interval and sessions per year).

    Examples:

    \b
    tpi due
    tpi due --within 7 --json
    """
    from tpi_cli.planning import due_follow_ups

    today = dt.date.today()
    found = due_follow_ups(open_store(), within, today)
    shown, note = console.limited(found, limit, "follow-up", default=0 if as_json else 100)
    if as_json:
        console.print_json([item.as_json(today) for item in shown])
        if note:
            console.info(note)
        return
    if not found:
        console.info(f"No follow-ups due{f' in the next {within} days' if within else ' today or earlier'}.")
        return
    from tpi_cli.cli.visit import site_text

    rows = []
    for item in shown:
        row = item.as_json(today)
        eligible = row["repeat_eligible"] or "—"
        rows.append([row["patient_id"], row["name"], row["follow_up"], _when(row["days_until"]), row["last_visit"],
                     site_text(row["sites"]), eligible if eligible > today.isoformat() else f"{eligible} (now)",
                     row["repeat_rule"] or ""])
    console.table(f"{console.counted(len(found), 'follow-up')} due",
                  ["patient", "name", "follow-up", "due", "last visit", "sites", "repeat from", "rule"], rows,
                  note=note)


def register(app: typer.Typer) -> None:
    app.command("due")(due)
