"""`tpi muscles [TEXT]` and `tpi drugs`: the vocabulary a site or an agent may name, with its aliases."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tpi_cli.cli import console
from tpi_cli.errors import InputError

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the entries as JSON on stdout.")]


def muscle_record(muscle) -> dict[str, Any]:
    return {"name": muscle.name, "aliases": list(muscle.aliases), "region": muscle.region, "level": muscle.level,
            "anatomical": muscle.anatomical, "paired": muscle.paired, "pneumothorax": muscle.pneumothorax,
            "hazards": list(muscle.hazards), "plain_en": muscle.plain_en}


def list_muscles(
    text: Annotated[str | None, typer.Argument(help="Part of a name or alias, or a group word (trapezius).",
                                               show_default=False)] = None,
    limit: console.AllLimitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the muscles a site may name, with their aliases, region, level, CPT muscle and risks.

    A group word (trapezius, glute, paraspinals …) lists the muscles it may mean.

    Examples:

    \b
    tpi muscles
    tpi muscles trap
    tpi muscles paraspinals --json
    """
    from tpi_cli import vocab

    if text is None:
        found = [m for m in vocab.muscles().values() if not m.choices]
    else:
        found = vocab.muscles_matching(text)
        if not found:
            try:
                vocab.find_muscle(text)
            except ValueError as error:
                raise InputError(f"muscle: {error}") from None
        if vocab.group_choices(text):
            console.info(f"{text!r} names several muscles; a site names one of these:")
    shown, note = console.limited(found, limit, "muscle", default=0)
    if as_json:
        console.print_json([muscle_record(m) for m in shown])
        if note:
            console.info(note)
        return
    rows = [[m.name, ", ".join(m.aliases) or "—", m.region, m.level or "—",
             m.anatomical if m.anatomical != m.name else "—", ", ".join(m.hazards) or "—"] for m in shown]
    console.table(console.counted(len(found), "muscle"),
                  ["muscle", "aliases", "region", "level", "CPT counts as", "risks"], rows, note=note)


def drug_record(drug, settings) -> dict[str, Any]:
    from tpi_cli.clinical.doses import strengths_sold

    limits = {field: settings.drug_limit(drug.name, field)
              for field in ("max_mg_kg", "max_mg", "max_mg_kg_epi", "max_mg_epi", "max_mg_24h")}
    return {"name": drug.name, "class": drug.drug_class, "brands": list(drug.brands),
            "strengths": list(strengths_sold(drug.name, settings)), "unit": drug.unit,
            **{field: value for field, value in limits.items() if value is not None},
            "numb_hours": list(drug.numb_hours) if drug.numb_hours else None, "mpe_per_mg": drug.mpe_per_mg,
            "source": drug.source}


def list_drugs(limit: console.AllLimitOpt = None, as_json: JsonOpt = False) -> None:
    """List the drugs an agent may name: brands, strengths sold and reference limits with their sources.

    These are the reference values; `tpi config show` lists what this clinic changed (limits.*, strengths.*).

    Examples:

    \b
    tpi drugs
    tpi drugs --json
    """
    from tpi_cli import vocab
    from tpi_cli.settings import Settings

    settings = Settings()
    every = list(vocab.drugs().values())
    shown, note = console.limited(every, limit, "drug", default=0)
    records = [drug_record(drug, settings) for drug in shown]
    if as_json:
        console.print_json(records)
        if note:
            console.info(note)
        return
    rows = []
    for r in records:
        plain = (f"{r['max_mg_kg']:g} mg/kg, ≤ {r['max_mg']:g} mg" if "max_mg" in r else "—")
        epi = (f"{r['max_mg_kg_epi']:g} mg/kg, ≤ {r['max_mg_epi']:g} mg" if "max_mg_epi" in r else "—")
        strengths = ", ".join(f"{v:g}" for v in r["strengths"]) + f" {r['unit']}"
        rows.append([r["name"], r["class"], ", ".join(r["brands"]) or "—", strengths, plain, epi, r["source"]])
    console.table(console.counted(len(every), "drug"), ["drug", "class", "brands", "strengths", "limit",
                                                        "with epinephrine", "source"], rows, note=note)


def register(app: typer.Typer) -> None:
    app.command("muscles")(console.friendly(list_muscles))
    app.command("drugs")(console.friendly(list_drugs))
