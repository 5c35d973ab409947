"""`tpi protocol save|list|show`: a clinic's usual procedures, repeated with `log-visit --protocol NAME`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tpi_cli.cli import complete, console
from tpi_cli.cli.context import open_store
from tpi_cli.cli.visit import AgentOpt, ConsentOpt, DxOpt, NeedleOpt, SiteOpt, UltrasoundOpt

protocol_app = typer.Typer(
    help="Save a usual procedure once, then log it with `tpi log-visit --protocol NAME`.\n\nExamples:\n\n\b\n"
    "tpi protocol save neck -s 'UT:left:2,levator:left' -a 'lidocaine 1% 3 mL' --dx M79.18 --follow-up 6w\n"
    "tpi protocol save neck --like P001-V3\ntpi protocol list\ntpi protocol show neck",
    no_args_is_help=True,
)


def _summary(doc: dict[str, Any]) -> list[str]:
    from tpi_cli.cli.visit import site_text
    from tpi_cli.parsing import format_agent

    agents = "; ".join(format_agent(_agent(a)) for a in doc.get("agents") or []) or "none (dry needling)"
    days = doc.get("follow_up_days")
    return [doc["name"], site_text(doc["sites"]), agents, ", ".join(doc.get("diagnoses") or []) or "—",
            doc.get("needle") or "—", {True: "yes", False: "no"}.get(doc.get("ultrasound"), "—"),
            doc.get("consent") or "—", f"{days} days" if days is not None else "—"]


def _agent(stored: dict[str, Any]):
    from tpi_cli.models import AgentInput

    return AgentInput.model_validate(stored)


COLUMNS = ["name", "sites", "agents", "diagnoses", "needle", "ultrasound", "consent", "follow-up"]


@protocol_app.command("save")
@console.friendly
def save(
    name: Annotated[str, typer.Argument(help="Protocol name: letters, digits, . _ - (e.g. neck-4).", metavar="NAME")],
    like: Annotated[str | None, typer.Option("--like", help="Start from this visit's protocol (VISIT_ID); flags "
                                             "given replace what is copied.", metavar="VISIT_ID",
                                             autocompletion=complete.visit_ids)] = None,
    site: SiteOpt = None, agent: AgentOpt = None, dx: DxOpt = None, needle: NeedleOpt = None,
    ultrasound: UltrasoundOpt = None, consent: ConsentOpt = None,
    follow_up: Annotated[str | None, typer.Option("--follow-up", help="Follow-up interval: 10d or 6w.")] = None,
    follow_up_days: Annotated[int | None, typer.Option("--follow-up-days", help="Follow-up in N days.")] = None,
) -> None:
    """Save (or replace) a protocol: sites, agents, diagnoses, needle, ultrasound, consent, follow-up.

    Examples:

    \b
    tpi protocol save neck -s 'UT:left:2,UT:right:2,levator:bilateral' -a 'lidocaine 1% 4 mL' --follow-up 6w
    tpi protocol save low-back --like P001-V3
    """
    from tpi_cli.cli.visit import visit_fields
    from tpi_cli.dates import interval_days
    from tpi_cli.errors import InputError
    from tpi_cli.protocols import from_visit, save_protocol, visit_to_copy

    store = open_store(create=True)  # a clinic may set up its protocols before its first patient
    fields = from_visit(visit_to_copy(store, like, None)) if like is not None else {}
    fields.update(visit_fields(site=site, agent=agent, dx=dx, needle=needle, ultrasound=ultrasound, consent=consent))
    if follow_up is not None and follow_up_days is not None:
        raise InputError("follow-up: give --follow-up or --follow-up-days, not both")
    if follow_up is not None:
        try:
            fields["follow_up_days"] = interval_days(follow_up)
        except ValueError as error:
            raise InputError(f"--follow-up: {error}") from None
    if follow_up_days is not None:
        fields["follow_up_days"] = follow_up_days
    doc, replaced = save_protocol(store, name, fields)
    console.info(f"{'Replaced' if replaced else 'Saved'} protocol {name}. "
                 f"Use it: tpi log-visit --protocol {name} -p ID --pain 7/2")
    console.table(None, COLUMNS, [_summary(doc)])


@protocol_app.command("list")
@console.friendly
def list_protocols(
    limit: console.LimitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List saved protocols.

    Examples:

    \b
    tpi protocol list
    tpi protocol list --json
    """
    docs = open_store().protocols()
    shown, note = console.limited(docs, limit, "protocol", default=0 if as_json else 100)
    if as_json:
        console.print_json(shown)
    elif not docs:
        console.info("No protocols yet. Save one with `tpi protocol save NAME --site … --agent …`.")
    else:
        console.table(console.counted(len(docs), "protocol"), COLUMNS,
                      [_summary(doc) for doc in shown])
    if note and as_json:
        console.info(note)


@protocol_app.command("show")
@console.friendly
def show(
    name: Annotated[str, typer.Argument(help="Protocol name.", metavar="NAME",
                                         autocompletion=complete.protocols)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Show one protocol.

    Example:

    \b
    tpi protocol show neck
    """
    from tpi_cli.errors import InputError

    store = open_store()
    doc = store.protocol(name)
    if doc is None:
        names = ", ".join(p["name"] for p in store.protocols()) or "none saved yet"
        raise InputError(f"protocol: no protocol named {name!r} (saved: {names})")
    if as_json:
        console.print_json(doc)
        return
    console.panel("\n".join(f"{label}: {console.escape(value)}" for label, value in zip(COLUMNS, _summary(doc),
                                                                                         strict=True)),
                  title="Protocol", style="cyan")


def register(app: typer.Typer) -> None:
    app.add_typer(protocol_app, name="protocol")
