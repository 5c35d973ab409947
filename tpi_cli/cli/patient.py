"""`tpi patient add|update|list|show`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tpi_cli.cli import complete, console
from tpi_cli.cli.context import open_store

if TYPE_CHECKING:
    from tpi_cli.models import Patient

patient_app = typer.Typer(help="Register patients and keep their weight, allergies and risks current.\n\n"
                          "Examples:\n\n\b\ntpi patient add --id P001 --name 'Ana María Núñez' --dob 1968-04-02\n"
                          "tpi patient list\ntpi patient show P001",
                          no_args_is_help=True)

IdOpt = Annotated[str, typer.Option("--id", help="Patient id: letters, digits, . _ - (up to 32), e.g. P001.")]
NameOpt = Annotated[str, typer.Option("--name", help="Full name as it should print on handouts.")]
DobOpt = Annotated[str, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")]
SexOpt = Annotated[str | None, typer.Option("--sex", help="female, male, other or unknown.")]
WeightOpt = Annotated[float | None, typer.Option("--weight-kg", help="Weight in kg (dose limits use it).")]
AllergyOpt = Annotated[list[str] | None, typer.Option("--allergy", help="An allergy (drug, brand or class: "
                                                     "'lidocaine', 'amide', 'sulfite'); repeat for more.")]
AnticoagOpt = Annotated[bool | None, typer.Option("--anticoagulated/--not-anticoagulated",
                                                  help="Takes an anticoagulant or antiplatelet drug.")]
DiabeticOpt = Annotated[bool | None, typer.Option("--diabetic/--not-diabetic", help="Has diabetes.")]
PregnantOpt = Annotated[bool | None, typer.Option("--pregnant/--not-pregnant", help="Is pregnant.")]
PayerOpt = Annotated[str | None, typer.Option("--payer", help="Payer profile: medicare, commercial or none.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
MrnOpt = Annotated[str | None, typer.Option("--mrn", help="The EHR's medical record number (FHIR exports and "
                                             "`tpi import fhir` match on it).")]
FamilyOpt = Annotated[str | None, typer.Option("--family", help="Family name, for systems that need the parts of "
                                                "a name (FHIR); --name stays the printed form.")]
GivenOpt = Annotated[list[str] | None, typer.Option("--given", help="A given name, in order; repeat for a middle "
                                                     "name.")]


def _given(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@patient_app.command("add")
@console.friendly
def add(
    patient_id: IdOpt, name: NameOpt, dob: DobOpt, sex: SexOpt = None, weight_kg: WeightOpt = None,
    allergy: AllergyOpt = None, anticoagulated: AnticoagOpt = None, diabetic: DiabeticOpt = None,
    pregnant: PregnantOpt = None, payer: PayerOpt = None, mrn: MrnOpt = None, family: FamilyOpt = None,
    given: GivenOpt = None, as_json: JsonOpt = False,
) -> None:
    """Register a patient.

    Example:

    \b
    tpi patient add --id P001 --name 'Ana María Núñez' --dob 1968-04-02 --weight-kg 64 --allergy sulfite --payer medicare
    """
    from tpi_cli.models import Patient
    from tpi_cli.workflow import add_patient, validated

    data = _given(id=patient_id, name=name, dob=dob, sex=sex, weight_kg=weight_kg, allergies=allergy or None,
                  anticoagulated=anticoagulated, diabetic=diabetic, pregnant=pregnant, payer=payer, mrn=mrn,
                  family=family, given=given or None)
    patient = add_patient(open_store(create=True), validated(Patient, data, "patient"))
    if as_json:
        console.print_json(patient)
    else:
        console.info(f"Added patient {patient.id}.")
    _warn_unreadable_allergies(allergy or ())


@patient_app.command("update")
@console.friendly
def update(
    patient_id: Annotated[str, typer.Argument(help="The patient's id.", metavar="ID",
                                                         autocompletion=complete.patient_ids)],
    name: Annotated[str | None, typer.Option("--name", help="Full name.")] = None,
    dob: Annotated[str | None, typer.Option("--dob", help="Date of birth, YYYY-MM-DD.")] = None,
    sex: SexOpt = None, weight_kg: WeightOpt = None, allergy: AllergyOpt = None,
    remove_allergy: Annotated[list[str] | None, typer.Option("--remove-allergy",
                                                             help="Remove a recorded allergy.")] = None,
    anticoagulated: AnticoagOpt = None, diabetic: DiabeticOpt = None, pregnant: PregnantOpt = None,
    payer: PayerOpt = None, mrn: MrnOpt = None, family: FamilyOpt = None, given: GivenOpt = None,
    as_json: JsonOpt = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the details change (kept with the "
                                               "old values).")] = None,
) -> None:
    """Change a patient's details (weight, allergies, risks change over time).

    The replaced values are kept in the record's amendments, with who, when and the --reason.

    Example:

    \b
    tpi patient update P001 --weight-kg 61 --allergy bupivacaine --not-pregnant
    """
    from tpi_cli.workflow import update_patient

    changes = _given(name=name, dob=dob, sex=sex, weight_kg=weight_kg, anticoagulated=anticoagulated,
                     diabetic=diabetic, pregnant=pregnant, payer=payer, mrn=mrn, family=family,
                     given=given or None)
    patient = update_patient(open_store(), patient_id, changes, add_allergies=allergy or (),
                             remove_allergies=remove_allergy or (), reason=reason)
    if as_json:
        console.print_json(patient)
    else:
        console.info(f"Updated patient {patient.id}: {', '.join(patient.amendments[-1].changes)}.")
    _warn_unreadable_allergies(allergy or ())


def _warn_unreadable_allergies(typed: Sequence[str]) -> None:
    """Say at once when an allergy just typed names nothing tpi can check (a slip like 'lidocain')."""
    from tpi_cli.clinical.safety import allergy_notes

    console.warnings(allergy_notes(typed))


def _risks(patient: Patient) -> str:
    flags = [name for name, on in (("anticoagulated", patient.anticoagulated), ("diabetic", patient.diabetic),
                                   ("pregnant", patient.pregnant)) if on]
    return ", ".join(flags)


@patient_app.command("list")
@console.friendly
def list_patients(limit: console.LimitOpt = None, as_json: JsonOpt = False) -> None:
    """List patients by id.

    Examples:

    \b
    tpi patient list
    tpi patient list --limit 0 | cut -f1,2
    """
    store = open_store()
    records = store.patient_records()
    shown, note = console.limited(records, limit, "patient", default=0 if as_json else 100)
    if as_json:
        console.print_json(shown)
        if note:
            console.info(note)
        return
    if not records:
        console.info("No patients yet. Add one with `tpi patient add --id P001 --name NAME --dob YYYY-MM-DD`.")
        return
    console.table(console.counted(len(records), "patient"), *patient_rows(shown), note=note)


def patient_rows(records: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The patients table, from stored records (no models built for a long list)."""
    rows = []
    for p in records:
        risks = ", ".join(flag for flag in ("anticoagulated", "diabetic", "pregnant") if p.get(flag))
        rows.append([p["id"], p["name"], p["dob"], p.get("sex") or "unknown",
                     f"{p['weight_kg']:g}" if p.get("weight_kg") else "—", ", ".join(p.get("allergies") or []) or "—",
                     risks or "—", p.get("payer") or "(default)"])
    return ["id", "name", "born", "sex", "kg", "allergies", "risks", "payer"], rows


@patient_app.command("find")
@console.friendly
def find(
    text: Annotated[str, typer.Argument(help="Part of a name or id; case and accents do not matter.", metavar="TEXT")],
    limit: console.LimitOpt = None, as_json: JsonOpt = False,
) -> None:
    """Find patients by name or id: every word must match, case and accents aside.

    Examples:

    \b
    tpi patient find nunez
    tpi patient find 'ana mar'
    tpi patient find P00 --json
    """
    from tpi_cli.lookup import find_patients

    found = find_patients(open_store().patient_records(), text)
    shown, note = console.limited(found, limit, "match", default=0 if as_json else 100)
    if as_json:
        console.print_json(shown)
        if note:
            console.info(note)
        return
    if not found:
        console.info(f"No patient matches {console.escape(text)!r}.")
        raise typer.Exit(code=1)
    console.table(f"{len(found)} match{'es' if len(found) != 1 else ''}", *patient_rows(shown), note=note)


@patient_app.command("show")
@console.friendly
def show(
    patient_id: Annotated[str, typer.Argument(help="The patient's id.", metavar="ID",
                                                         autocompletion=complete.patient_ids)], as_json: JsonOpt = False,
) -> None:
    """Show a patient and their visits.

    Example:

    \b
    tpi patient show P001
    """
    from tpi_cli.cli.visit import visit_rows
    from tpi_cli.lookup import require_patient

    store = open_store()
    patient = require_patient(store, patient_id)
    if as_json:
        console.print_json(patient)
        return
    weight = f"{patient.weight_kg:g} kg" if patient.weight_kg else "not recorded"
    lines = [
        f"[bold]{console.escape(patient.name)}[/]  ({patient.id})",
        f"Born {patient.dob.isoformat()} · {patient.sex} · weight {weight}",
        f"Allergies: {console.escape(', '.join(patient.allergies) or 'none recorded')}",
        f"Risks: {_risks(patient) or 'none recorded'} · payer: {patient.payer or '(clinic default)'}",
    ]
    for amendment in patient.amendments:
        why = f": {console.escape(amendment.reason)}" if amendment.reason else ""
        lines.append(f"[dim]Updated {amendment.at:%Y-%m-%d %H:%M} UTC by {console.escape(amendment.by)}{why} "
                     f"({', '.join(amendment.changes)})[/]")
    console.panel("\n".join(lines), title="Patient", style="cyan", asked=True)
    visits = store.visit_records(patient.id)
    if visits:
        console.table("Visits (newest first)", *visit_rows(visits))
    else:
        console.info("No visits yet.")


def register(app: typer.Typer) -> None:
    app.add_typer(patient_app, name="patient")
