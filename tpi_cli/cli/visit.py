"""`tpi log-visit`, `tpi visits`, `tpi visit show|amend|sign|addendum|void`."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tpi_cli.cli import complete, console, progress
from tpi_cli.cli.context import open_store
from tpi_cli.collector import paused
from tpi_cli.errors import InputError, RefusedError

if TYPE_CHECKING:
    from tpi_cli.models import Patient, Visit

visit_app = typer.Typer(help="Show, amend, sign, add to or void one visit.\n\nExamples:\n\n\b\ntpi visit show P001-V3\n"
                        "tpi visit amend P001-V3 --reason 'wrong side recorded' --site 'UT:right:2'\n"
                        "tpi visit sign P001-V3",
                        no_args_is_help=True)

# The visit's field flags, shared by log-visit and visit amend.
SiteOpt = Annotated[list[str] | None, typer.Option(
    "--site", "-s", autocompletion=complete.sites, help="MUSCLE[:SIDE[:POINTS[:VOLUME]]], e.g. 'upper trapezius:left:2', 'QL:bilateral:4:3mL' "
    "(VOLUME: mL injected there, both sides when bilateral; given for every site or none); several "
    "separated by commas ('UT:left:2,levator:left') or repeat the flag.")]
AgentOpt = Annotated[list[str] | None, typer.Option(
    "--agent", "-a", autocompletion=complete.drugs, help="As you would write it: 'lidocaine 1% 3 mL', 'bupivacaine 0.25% 2 mL', "
    "'triamcinolone 40 mg/mL 0.5 mL', 'lidocaine 1% with epinephrine 5 mL'. None at all: dry needling.")]
DateOpt = Annotated[str | None, typer.Option("--date", help="Visit date: YYYY-MM-DD, today, yesterday or 3d "
                                             "(3 days ago); default today.")]
PainBeforeOpt = Annotated[int | None, typer.Option("--pain-before", help="Pain 0-10 before the injection.")]
PainAfterOpt = Annotated[int | None, typer.Option("--pain-after", help="Pain 0-10 5-15 min after.")]
DxOpt = Annotated[list[str] | None, typer.Option("--dx", help="ICD-10-CM diagnosis, e.g. M79.18; repeat.")]
UltrasoundOpt = Annotated[bool | None, typer.Option("--ultrasound/--no-ultrasound", help="Ultrasound guided.")]
NeedleOpt = Annotated[str | None, typer.Option("--needle", help="Needle, e.g. '27G 1.25 in'.")]
TwitchOpt = Annotated[bool | None, typer.Option("--twitch/--no-twitch", help="Local twitch response seen.")]
ComplicationOpt = Annotated[list[str] | None, typer.Option("--complication", help="A complication; repeat.")]
ClinicianOpt = Annotated[str | None, typer.Option("--clinician", help="Who injected (default: config).")]
FollowUpOpt = Annotated[str | None, typer.Option("--follow-up", help="Follow-up: YYYY-MM-DD, or 10d, 6w, 3m "
                                                 "after the visit.")]
FollowUpDaysOpt = Annotated[int | None, typer.Option("--follow-up-days", help="Follow-up in N days.")]
NotesOpt = Annotated[str | None, typer.Option("--notes", help="Free-text notes for the procedure note.")]
ReliefPctOpt = Annotated[int | None, typer.Option("--prior-relief-pct", help="Relief from the last injection, %.")]
ReliefWeeksOpt = Annotated[int | None, typer.Option("--prior-relief-weeks", help="Weeks that relief lasted.")]
FunctionOpt = Annotated[list[str] | None, typer.Option("--function", help="Functional score SCALE=SCORE, "
                                                       "e.g. NDI=24, ODI=38, PSFS=4; repeat.")]
HomeExerciseOpt = Annotated[bool | None, typer.Option("--home-exercise/--no-home-exercise",
                                                      help="Takes part in a home exercise or rehab programme.")]
ConsentOpt = Annotated[str | None, typer.Option("--consent", help="verbal or written (default: config).")]
OverrideOpt = Annotated[str | None, typer.Option("--override-reason",
                                                 help="Why to go ahead when a safety check refuses.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the stored record as JSON on stdout.")]
# procedure-note flags (clinical-reference.md §1)
TimeOpt = Annotated[str | None, typer.Option("--time", help="Procedure time HH:MM (24-hour clock), e.g. 14:05.")]
TimeOutOpt = Annotated[bool | None, typer.Option("--time-out/--no-time-out",
                                                  help="Time-out done before the procedure.")]
PrepOpt = Annotated[str | None, typer.Option("--prep", help="Skin prep, e.g. chlorhexidine.")]
AspirationOpt = Annotated[bool | None, typer.Option("--aspiration/--no-aspiration",
                                                    help="Aspirated before each injection, no blood.")]
BloodLossOpt = Annotated[str | None, typer.Option("--blood-loss", help="Blood loss, e.g. minimal.")]
ToleranceOpt = Annotated[str | None, typer.Option("--tolerance", help="How the patient tolerated it, e.g. well.")]
ObservationOpt = Annotated[str | None, typer.Option(
    "--observation", help="Post-procedure check, e.g. '20 min, breath sounds equal, no dyspnea'.")]
DispositionOpt = Annotated[str | None, typer.Option("--disposition", help="Disposition, e.g. 'home, ambulatory'.")]
FindingOpt = Annotated[list[str] | None, typer.Option(
    "--finding", help="Trigger-point finding: taut band, hypersensitive spot, local twitch, referred pain, "
    "reproduces usual pain, palpable nodule; repeat.")]
ConservativeOpt = Annotated[str | None, typer.Option(
    "--conservative-care", help="Conservative care tried, what and how long, e.g. 'PT 8 weeks, NSAIDs'.")]
RisksOpt = Annotated[str | None, typer.Option("--risks-discussed", help="Risks discussed at consent.")]
AnticoagulantOpt = Annotated[str | None, typer.Option("--anticoagulant", help="Anticoagulant or antiplatelet, "
                                                                           "e.g. apixaban.")]
LastDoseOpt = Annotated[str | None, typer.Option("--last-dose", help="Its last dose: YYYY-MM-DD or "
                                                                    "'YYYY-MM-DD HH:MM'.")]
InrOpt = Annotated[float | None, typer.Option("--inr", help="INR, e.g. 2.4.")]
VialOpt = Annotated[float | None, typer.Option("--steroid-vial-ml", help="Size of the single-dose steroid vial "
                                                                      "in mL (for JW/JZ).")]


def procedure_fields(
    *, time: str | None = None, time_out: bool | None = None, prep: str | None = None,
    aspiration: bool | None = None, blood_loss: str | None = None, tolerance: str | None = None,
    observation: str | None = None, disposition: str | None = None, finding: list[str] | None = None,
    conservative_care: str | None = None, risks_discussed: str | None = None, anticoagulant: str | None = None,
    last_dose: str | None = None, inr: float | None = None, steroid_vial_ml: float | None = None,
) -> dict[str, Any]:
    """The procedure-note keys for the flags that were given, as typed (the model validates them)."""
    given = {"procedure_time": time, "time_out": time_out, "skin_prep": prep, "aspiration": aspiration,
             "blood_loss": blood_loss, "tolerance": tolerance, "observation": observation,
             "disposition": disposition, "conservative_care": conservative_care,
             "risks_discussed": risks_discussed, "anticoagulant": anticoagulant,
             "anticoagulant_last_dose": last_dose, "inr": inr, "steroid_vial_ml": steroid_vial_ml}
    fields = {key: value for key, value in given.items() if value is not None}
    if finding:
        fields["findings"] = [f.strip().lower() for f in finding]
    return fields


def visit_fields(
    *, date: str | None = None, site: list[str] | None = None, agent: list[str] | None = None,
    pain_before: int | None = None, pain_after: int | None = None, dx: list[str] | None = None,
    ultrasound: bool | None = None, needle: str | None = None, twitch: bool | None = None,
    complication: list[str] | None = None, clinician: str | None = None, follow_up: str | None = None,
    follow_up_days: int | None = None, notes: str | None = None, prior_relief_pct: int | None = None,
    prior_relief_weeks: int | None = None, function: list[str] | None = None, home_exercise: bool | None = None,
    consent: str | None = None, visit_date: dt.date | None = None,
) -> dict[str, Any]:
    """The visit-input keys for the flags that were given (parsed; bad text is bad input)."""
    from tpi_cli.parsing import parse_agent, parse_function_score, parse_site

    fields: dict[str, Any] = {}
    visit_day = console.date_option("--date", date)
    if visit_day is not None:
        fields["date"] = visit_day.isoformat()
    if site:
        fields["sites"] = [console.as_input_error(parse_site, s).model_dump() for s in split_sites(site)]
    if agent:
        if [a for a in agent if a.strip().lower() in ("none", "dry needling", "dry")] == agent:
            fields["agents"] = []
        else:
            fields["agents"] = [console.as_input_error(parse_agent, a).model_dump() for a in agent]
    for key, value in (("pain_before", pain_before), ("pain_after", pain_after), ("ultrasound", ultrasound),
                       ("needle", needle), ("twitch", twitch), ("clinician", clinician), ("notes", notes),
                       ("home_exercise", home_exercise), ("consent", consent)):
        if value is not None:
            fields[key] = value
    if dx:
        fields["diagnoses"] = dx
    if complication:
        fields["complications"] = complication
    if function:
        fields["functional_scores"] = [console.as_input_error(parse_function_score, f).model_dump()
                                       for f in function]
    if (prior_relief_pct is None) != (prior_relief_weeks is None):
        raise InputError("prior relief: give both --prior-relief-pct and --prior-relief-weeks")
    if prior_relief_pct is not None:
        fields["prior_relief"] = {"pct": prior_relief_pct, "weeks": prior_relief_weeks}
    # a follow-up counts from the visit's date: the one given now, else the recorded one (amend), else today
    base = visit_day or visit_date or dt.date.today()
    if follow_up is not None:
        from tpi_cli.dates import parse_follow_up

        try:
            fields["follow_up"] = parse_follow_up(follow_up, base).isoformat()
        except ValueError as error:
            raise InputError(f"--follow-up: {error}") from None
    if follow_up_days is not None:
        if follow_up is not None:
            raise InputError("follow-up: give --follow-up or --follow-up-days, not both")
        if not 0 <= follow_up_days <= 3650:
            raise InputError("--follow-up-days: give a number of days from 0 to 3650")
        fields["follow_up"] = (base + dt.timedelta(days=follow_up_days)).isoformat()
    return fields


def split_sites(values: list[str]) -> list[str]:
    """Each --site value, split at commas: several sites in one flag."""
    sites = []
    for value in values:
        if re.search(r"[0-9],[0-9]", value):
            raise InputError(f"--site: {value!r} has a decimal comma; commas separate sites, so write decimals with "
                             "a point, e.g. 'UT:left:2:1.5mL'")
        parts = [part.strip() for part in value.split(",")]
        if not all(parts):
            raise InputError(f"--site: {value!r} has an empty site between commas; write e.g. 'UT:left:2,levator:left'")
        sites.extend(parts)
    return sites


_PAIN = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{1,2})\s*$")


def split_pain(pain: str | None, pain_before: int | None, pain_after: int | None) -> tuple[int | None, int | None]:
    """--pain BEFORE/AFTER (e.g. 7/2), short for --pain-before and --pain-after."""
    if pain is None:
        return pain_before, pain_after
    if pain_before is not None or pain_after is not None:
        raise InputError("--pain: give --pain 7/2 or --pain-before and --pain-after, not both")
    match = _PAIN.match(pain)
    if match is None:
        raise InputError(f"--pain: {pain!r} is not BEFORE/AFTER; write two whole numbers 0-10, e.g. --pain 7/2")
    return int(match[1]), int(match[2])


def _no_visits_line(store, patient: str | None, *, unsigned: bool, dated: bool, voided_shown: bool) -> str:
    """Why a listing is empty: an empty to-do or period is not an empty store."""
    if unsigned:
        return "No unsigned visits: every note is signed."
    if dated:
        return "No visits in that period."
    if not voided_shown and store.visit_records(patient, voided=True):
        return "No visits, apart from voided ones (entered in error); --all lists them."
    return "No visits yet. Log one with `tpi log-visit`."


# --- guided prompts ----------------------------------------------------------------------------------


def _ask(label: str, parse, default: str | None = None):
    """Prompt until PARSE accepts the answer; a parse error is shown and asked again."""
    while True:
        answer = typer.prompt(label, default=default, show_default=default is not None, err=True)
        try:
            return parse(answer)
        except (ValueError, InputError) as error:
            console.stderr.print(f"[red]{console.escape(str(error))}[/]")


def _ask_many(label: str, more: str, parse, required: bool) -> list[str]:
    """Ask for LABEL until a blank answer; MORE is the label once one was given."""
    values: list[str] = []
    while True:
        answer = typer.prompt(more if values else label, default="", show_default=False, err=True).strip()
        if not answer:
            if values or not required:
                return values
            console.stderr.print("[red]give at least one[/]")
            continue
        try:
            parse(answer)
        except ValueError as error:
            from tpi_cli.vocab import AmbiguousTermError

            if isinstance(error, AmbiguousTermError):
                answer = _pick_muscle(answer, error)
                if answer is None:
                    continue
                try:
                    parse(answer)
                except ValueError as again:
                    console.stderr.print(f"[red]{console.escape(str(again))}[/]")
                    continue
            else:
                console.stderr.print(f"[red]{console.escape(str(error))}[/]")
                continue
        values.append(answer)


def _pick_muscle(answer: str, error) -> str | None:
    """ANSWER with a group word (trapezius, glute …) replaced by the muscle the person picks; None: ask again."""
    console.stderr.print(f"{console.escape(error.given)} names several muscles; which one was injected?")
    for number, choice in enumerate(error.choices, start=1):
        console.stderr.print(f"  {number}. {console.escape(choice)}")
    pick = typer.prompt(f"Muscle (1-{len(error.choices)}, blank to type the site again)", default="",
                        show_default=False, err=True).strip()
    if pick.isdigit() and 1 <= int(pick) <= len(error.choices):
        return answer.replace(error.given, error.choices[int(pick) - 1], 1)
    if pick:
        console.stderr.print("[red]give the number of one of the muscles listed[/]")
    return None


def _pain(text: str) -> int:
    if not text.strip().isdigit() or not 0 <= int(text) <= 10:
        raise ValueError("pain is a whole number from 0 to 10")
    return int(text)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _known_patient(store, text: str) -> str:
    patient_id = text.strip()
    if not patient_id:
        raise ValueError("give the patient's id, e.g. P001")
    found = store.patient(patient_id)
    if found is None:
        raise ValueError(f"no patient with id {patient_id!r}; add one first with `tpi patient add`")
    # the person at the keyboard checks they have the right patient before answering the rest
    console.stderr.print(patient_line(found))  # patient_line escapes the name itself
    return patient_id


def prompt_missing(store, patient: str | None, site: list[str] | None, agent: list[str] | None,
                   pain_before: int | None, pain_after: int | None, *, sites_copied: bool = False) -> tuple:
    """Ask for the required values that were not given, when a person is at the terminal.

    SITES_COPIED: --like or --protocol gave the sites (and agents), so they are not asked for.
    """
    from tpi_cli.models import site_volume_problem
    from tpi_cli.parsing import parse_agent, parse_site

    missing = [flag for flag, value in (("--patient", patient), ("--site", site or sites_copied),
                                        ("--pain-before", pain_before), ("--pain-after", pain_after))
               if value is None or value == [] or value is False]
    if not missing:
        return patient, site, agent, pain_before, pain_after
    if not stdin_is_terminal():
        raise InputError(f"missing {', '.join(missing)}; give the flags (or run in a terminal to be asked)")
    console.styled("[bold]Log a visit[/] — answer the questions; Ctrl-C to stop without saving.")
    if patient is None:
        patient = _ask("Patient id", lambda text: _known_patient(store, text))
    if not site and not sites_copied:
        ask_agents = agent is None
        while True:
            site = _ask_many("Site (muscle:side:points[:volume], e.g. upper trapezius:left:2 or UT:left:2:1.5mL)",
                             "Another site (blank when done)", parse_site, required=True)
            if ask_agents:
                agent = _ask_many("Agent (e.g. lidocaine 1% 3 mL; blank: none, dry needling)",
                                  "Another agent (blank when done)", parse_agent, required=False)
            # volumes per site that do not add up are asked again now, not refused after every other answer
            try:
                problem = site_volume_problem([parse_site(s) for s in site], [parse_agent(a) for a in agent or []])
            except ValueError:
                problem = None  # an --agent flag that does not parse is refused with the flags, as without prompts
            if problem is None:
                break
            console.stderr.print(f"[red]{console.escape(problem)}[/]; give the sites"
                                 + (" and agents" if ask_agents else "") + " again")
    if pain_before is None:
        pain_before = _ask("Pain before (0-10)", _pain)
    if pain_after is None:
        pain_after = _ask("Pain after (0-10)", _pain)
    return patient, site, agent, pain_before, pain_after


# --- rendering --------------------------------------------------------------------------------------


VISIT_COLUMNS = ["visit", "date", "patient", "sites", "doses", "pain", "CPT", "notes"]


def visit_rows(records: Iterable[dict[str, Any]]) -> tuple[list[str], Iterator[list[str]]]:
    """The visits table, from stored records, row by row: a listing of 50,000 visits builds no models."""
    return VISIT_COLUMNS, map(visit_row, records)


def visit_row(v: dict[str, Any]) -> list[str]:
    """A stored visit record's row of the visits table."""
    sites = site_text(v["sites"])
    totals: dict[str, float] = {}
    for agent in v["agents"]:
        if agent.get("dose_mg") is not None:
            totals[agent["drug"]] = round(totals.get(agent["drug"], 0.0) + agent["dose_mg"], 3)
    doses = ", ".join(f"{drug} {mg:g} mg" for drug, mg in totals.items()) or (
        "dry needling" if not v["agents"] else "saline")
    flags = ("⚠" + str(len(v["warnings"])) if v.get("warnings") else "") + (" ✎" if v.get("amendments") else "") + (
        " signed" if v.get("signed") else "") + (" VOID" if v.get("voided") else "")
    return [v["id"], v["date"], v["patient_id"], sites, doses,
            f"{v['pain_before']}→{v['pain_after']}", " ".join(v.get("cpt", [])), flags.strip()]


def _visit_row_json(record: dict[str, Any]) -> bytes:
    from pydantic_core import to_json

    return to_json(visit_row(record))


_SIDE_MARK = {"left": "L", "right": "R", "midline": "M", "bilateral": "bilat"}


def site_text(sites: list[dict[str, Any]]) -> str:
    """Stored sites in a listing's few words: 'upper trapezius L×2, quadratus lumborum bilat×4'."""
    from tpi_cli.parsing import format_number

    return ", ".join(f"{s['muscle']} {_SIDE_MARK.get(s['side'], s['side'])}×{s['points']}"
                     + (f" {format_number(s['volume_ml'])} mL" if s.get("volume_ml") is not None else "")
                     for s in sites)


def pain_change(visit: Visit) -> str:
    from tpi_cli.clinical.outcomes import percent_change

    pct = percent_change(visit.pain_before, visit.pain_after)
    change = visit.pain_after - visit.pain_before
    pct_text = f", {pct:+.0f}%" if pct is not None else ", % not defined from a baseline of 0"
    return f"{visit.pain_before} → {visit.pain_after} ({change:+d}{pct_text})"


def patient_line(patient: Patient) -> str:
    """Who the record is about, as the clinician checks it: name, id and date of birth."""
    return f"Patient: [bold]{console.escape(patient.name)}[/] ({console.escape(patient.id)}), born {patient.dob.isoformat()}"


def render_visit(visit: Visit, title: str, patient: Patient | None = None, *, asked: bool = False) -> None:
    from tpi_cli.clinical.coding import suggest_cpt
    from tpi_cli.clinical.doses import dose_by_drug
    from tpi_cli.parsing import format_agent, format_number

    esc = console.escape
    lines = [f"[bold]{esc(visit.id)}[/] · patient {esc(visit.patient_id)} · {visit.date.isoformat()}"
             + (f" {visit.procedure_time:%H:%M}" if visit.procedure_time else "")
             + (f" · {esc(visit.clinician)}" if visit.clinician else "")]
    if patient is not None:
        lines.append(patient_line(patient))
    lines.append("Sites: " + esc("; ".join(f"{s.muscle} {s.side} ×{s.points}"
                                           + (f" {format_number(s.volume_ml)} mL" if s.volume_ml is not None else "")
                                           for s in visit.sites)))
    if visit.agents:
        lines.append("Agents: " + esc("; ".join(format_agent(a) + (f" = {a.dose_mg:g} mg" if a.dose_mg else "")
                                                for a in visit.agents)))
        totals = dose_by_drug(visit.agents)
        if totals:
            lines.append("Total dose: " + ", ".join(f"{drug} {mg:g} mg" for drug, mg in totals.items()))
    else:
        lines.append("Agents: none (dry needling)")
    lines.append(f"Pain: {pain_change(visit)}")
    rule = suggest_cpt(visit.sites, visit.agents, visit.ultrasound).rule
    lines.append(f"CPT: [bold]{' + '.join(visit.cpt)}[/] ({esc(rule)})")
    if visit.diagnoses:
        lines.append("Diagnoses: " + ", ".join(visit.diagnoses))
    lines.append(f"Consent: {visit.consent or 'not documented'}"
                 + (f" · follow-up {visit.follow_up.isoformat()}" if visit.follow_up else ""))
    for override in visit.overrides:
        lines.append(f"[magenta]Override ({esc(override.check)}): {esc(override.reason)}[/]")
    if visit.warnings:
        lines.append(console.warning_lines(visit.warnings))
    for amendment in visit.amendments:
        lines.append(f"[dim]Amended {amendment.at:%Y-%m-%d %H:%M} UTC by {esc(amendment.by)}: "
                     f"{esc(amendment.reason)} ({', '.join(amendment.changes)})[/]")
    for addendum in visit.addenda:
        lines.append(f"Addendum {addendum.at:%Y-%m-%d %H:%M} UTC by {esc(addendum.by)}: {esc(addendum.text)}")
    if visit.signed:
        lines.append(f"[bold]Signed[/] by {esc(visit.signed.name)} ({esc(visit.signed.by)}) "
                     f"{visit.signed.at:%Y-%m-%d %H:%M} UTC")
    elif not visit.voided:
        lines.append("[yellow]Not signed[/]" + (" (amended after signing)" if _was_signed(visit) else ""))
    if visit.voided:
        lines.insert(0, f"[bold red]VOID — entered in error[/] ({esc(visit.voided.reason)}; "
                        f"{visit.voided.at:%Y-%m-%d %H:%M} UTC by {esc(visit.voided.by)})")
    lines.extend(recorded_field_lines(visit))
    style = "red" if visit.voided else "yellow" if visit.warnings else "green"
    console.panel("\n".join(lines), title=title, style=style, asked=asked)


def _print_visit(visit: Visit, as_json: bool, title: str) -> None:
    """What a command that changed one visit prints: the record with --json, else its panel."""
    if as_json:
        console.print_json(visit)
    else:
        render_visit(visit, title=title)


def _was_signed(visit: Visit) -> bool:
    return any("signed" in amendment.changes for amendment in visit.amendments)


# Keys render_visit shows in its own lines; every other key of the record is shown by recorded_field_lines.
_RENDERED_KEYS = {"id", "patient_id", "date", "procedure_time", "clinician", "sites", "agents", "pain_before",
                  "pain_after", "cpt", "diagnoses", "consent", "follow_up", "overrides", "warnings", "amendments",
                  "signed", "addenda", "voided"}
_FIELD_LABELS = {"weight_kg": "Weight that day (kg)", "prior_relief": "Prior relief",
                 "functional_scores": "Functional scores", "home_exercise": "Home exercise programme",
                 "recorded_at": "Recorded at (UTC)", "recorded_by": "Recorded by"}


def _field_text(key: str, value: Any) -> str:
    if key == "prior_relief":
        return f"{value['pct']}% for {value['weeks']} weeks"
    if key == "functional_scores":
        return ", ".join(f"{item['scale']} {item['score']:g}" for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_field_text(key, item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_field_text(k, v)}" for k, v in value.items())
    return str(value)


def recorded_field_lines(visit: Visit) -> list[str]:
    """A line for every other recorded field, from the record itself: a key added later shows up too."""
    lines = []
    for key, value in visit.model_dump(mode="json").items():
        if key in _RENDERED_KEYS or value is None or value == [] or value == "":
            continue
        label = _FIELD_LABELS.get(key, key.replace("_", " ").capitalize())
        lines.append(f"{label}: {console.escape(_field_text(key, value))}")
    return lines


# --- commands ----------------------------------------------------------------------------------------


def _read_visit_file(path: Path) -> dict[str, Any]:
    from tpi_cli.files import read_text_file
    from tpi_cli.workflow import parse_json

    text = sys.stdin.read() if str(path) == "-" else read_text_file(path, "--from-file")
    data = parse_json(text, f"--from-file: {path}")
    if not isinstance(data, dict):
        raise InputError(f"--from-file: {path} must hold one JSON object (a visit input record)")
    kind = data.pop("type", "visit")
    if kind != "visit":
        raise InputError(f'--from-file: type: must be "visit" (got {json.dumps(kind, ensure_ascii=False)}); '
                         "a patient is added with `tpi patient add`")
    return data


def log_visit(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Patient id.",
                                                                   autocompletion=complete.patient_ids)] = None,
    like: Annotated[str | None, typer.Option("--like", help="Repeat a visit's protocol: VISIT_ID, or last (the "
                                             "patient's latest visit). Flags given replace what is copied.",
                                             metavar="VISIT_ID|last", autocompletion=complete.like_values)] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", help="Start from a saved protocol "
                                                 "(`tpi protocol list`). Flags given replace what it holds.",
                                                 metavar="NAME", autocompletion=complete.protocols)] = None,
    pain: Annotated[str | None, typer.Option("--pain", help="Pain before/after, e.g. 7/2.",
                                             metavar="BEFORE/AFTER")] = None,
    date: DateOpt = None, site: SiteOpt = None, agent: AgentOpt = None, pain_before: PainBeforeOpt = None,
    pain_after: PainAfterOpt = None, dx: DxOpt = None, ultrasound: UltrasoundOpt = None, needle: NeedleOpt = None,
    twitch: TwitchOpt = None, complication: ComplicationOpt = None, clinician: ClinicianOpt = None,
    follow_up: FollowUpOpt = None, follow_up_days: FollowUpDaysOpt = None, notes: NotesOpt = None,
    prior_relief_pct: ReliefPctOpt = None, prior_relief_weeks: ReliefWeeksOpt = None,
    function: FunctionOpt = None, home_exercise: HomeExerciseOpt = None, consent: ConsentOpt = None,
    override_reason: OverrideOpt = None,
    time: TimeOpt = None, time_out: TimeOutOpt = None, prep: PrepOpt = None,
    aspiration: AspirationOpt = None, blood_loss: BloodLossOpt = None, tolerance: ToleranceOpt = None,
    observation: ObservationOpt = None, disposition: DispositionOpt = None, finding: FindingOpt = None,
    conservative_care: ConservativeOpt = None, risks_discussed: RisksOpt = None, anticoagulant: AnticoagulantOpt = None,
    last_dose: LastDoseOpt = None, inr: InrOpt = None, steroid_vial_ml: VialOpt = None,
    from_file: Annotated[Path | None, typer.Option("--from-file", help="A visit input JSON file "
                                                   "(schemas/visit-input.schema.json); - for stdin.")] = None,
    sign: Annotated[bool, typer.Option("--sign", help="Sign the note at once as the configured clinician.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Log a trigger point injection visit right after the procedure.

    --like and --protocol copy the sites, agents, diagnoses, needle, ultrasound, consent and follow-up
    interval; the date, pain, notes and findings are never copied.

    Examples:

    \b
    tpi log-visit -p P001 -s 'UT:left:2,levator:left' -a 'lidocaine 1% 3 mL' --pain 7/2 --dx M79.18
    tpi log-visit --like last -p P001 --pain 6/2
    tpi log-visit --protocol neck -p P001 --pain 7/3
    tpi log-visit --like P001-V3 --pain 5/1 -s 'UT:right:2'

    Missing required values are asked for when you run it in a terminal.
    """
    from tpi_cli.models import VisitInput
    from tpi_cli.workflow import log_visit as log
    from tpi_cli.workflow import validated

    store = open_store()
    asked = False
    if from_file is not None:
        if like is not None or protocol is not None or pain is not None:
            raise InputError("--from-file: give the file alone, or --like/--protocol/--pain without it")
        # the file is a template: what the flags say replaces what it says
        data = {"date": dt.date.today().isoformat(), "agents": [], **_read_visit_file(from_file)}
        if patient is not None:
            data["patient_id"] = patient
        interval = None
    else:
        copied: dict[str, Any] = {}
        if like is not None or protocol is not None:
            from tpi_cli.protocols import template

            copied, patient = template(store, like=like, protocol=protocol, patient_id=patient)
        pain_before, pain_after = split_pain(pain, pain_before, pain_after)
        given = (patient, site, agent, pain_before, pain_after)
        patient, site, agent, pain_before, pain_after = prompt_missing(store, *given,
                                                                       sites_copied=bool(copied.get("sites")))
        asked = given != (patient, site, agent, pain_before, pain_after)
        interval = copied.pop("follow_up_days", None)
        data = {"patient_id": patient, "date": dt.date.today().isoformat(), "agents": [],
                **{key: value for key, value in copied.items() if value is not None}}
    file_date = None  # a file's date is checked with the record; here it only anchors --follow-up-days
    with contextlib.suppress(TypeError, ValueError):
        file_date = dt.date.fromisoformat(data["date"])
    data.update(visit_fields(
        date=date, site=site, agent=agent, pain_before=pain_before, pain_after=pain_after, dx=dx,
        ultrasound=ultrasound, needle=needle, twitch=twitch, complication=complication, clinician=clinician,
        follow_up=follow_up, follow_up_days=follow_up_days, notes=notes, prior_relief_pct=prior_relief_pct,
        prior_relief_weeks=prior_relief_weeks, function=function, home_exercise=home_exercise, consent=consent,
        visit_date=file_date,
    ))
    if interval is not None and "follow_up" not in data:
        data["follow_up"] = (dt.date.fromisoformat(data["date"]) + dt.timedelta(days=interval)).isoformat()
    if override_reason is not None:
        data["override_reason"] = override_reason
    data.update(procedure_fields(time=time, time_out=time_out, prep=prep, aspiration=aspiration, blood_loss=blood_loss,
                                tolerance=tolerance, observation=observation, disposition=disposition,
                                finding=finding, conservative_care=conservative_care,
                                risks_discussed=risks_discussed, anticoagulant=anticoagulant, last_dose=last_dose,
                                inr=inr, steroid_vial_ml=steroid_vial_ml))
    entered = validated(VisitInput, data, "visit")
    try:
        visit = log(store, entered, sign=sign)
    except RefusedError as refusal:
        if not asked:
            raise
        # A person answering questions should not lose them all to a refusal: ask whether to override.
        console.stderr.print(f"[bold red]{console.escape(str(refusal))}[/]")
        reason = typer.prompt("Override reason (blank to cancel; nothing is saved)", default="",
                              show_default=False, err=True).strip()
        if not reason:
            raise typer.Exit(code=RefusedError.exit_code) from None
        visit = log(store, entered.model_copy(update={"override_reason": reason}), sign=sign)
    if as_json:
        console.print_json(visit)
    else:
        render_visit(visit, title="Visit logged", patient=store.patient(visit.patient_id))


@paused()  # each visits file's records live until the next file is read: the collector's passes over them freed nothing
def list_visits(
    patient: Annotated[str | None, typer.Option("--patient", "-p", help="Only this patient's visits.",
                                                                   autocompletion=complete.patient_ids)] = None,
    since: Annotated[str | None, typer.Option("--since", help="Visits on or after this date (YYYY-MM-DD, "
                                              "yesterday, 3m …).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Visits on or before this date.")] = None,
    limit: console.LimitOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the visits as JSON on stdout.")] = False,
    unsigned: Annotated[bool, typer.Option("--unsigned", help="Only notes waiting for a signature.")] = False,
    include_voided: Annotated[bool, typer.Option("--all", help="Include voided visits (entered in error).")] = False,
) -> None:
    """List visits, newest first. Voided visits are left out unless --all.

    Examples:

    \b
    tpi visits --patient P001
    tpi visits --since 2026-01-01 --until 2026-03-31
    tpi visits --since yesterday
    tpi visits --limit 0 | grep 'upper trapezius' | cut -f1,2
    tpi visits --unsigned
    tpi visits --all --patient P001
    """
    first, last = console.date_option("--since", since), console.date_option("--until", until)
    store = open_store()
    if patient is not None and not store.has_patient(patient):
        from tpi_cli.lookup import unknown_patient

        raise unknown_patient(store, patient)
    # every record is checked before the first is printed: damage is exit 3 with nothing on stdout, never half
    # a JSON array or a listing that silently stops
    # each record is made into its output (its JSON, its row) as it is read: the listing holds that, not the record
    with progress.shown("Reading visits") as step:
        records = store.visit_listing(patient, voided=include_voided, since=first, until=last, unsigned=unsigned,
                                      progress=step, encode=console.json_item if as_json else _visit_row_json)
    shown, note = console.limited(records, limit, "visit", default=0 if as_json else 50)
    if as_json:
        console.print_json_items(shown)  # stored records as they are
        if note:
            console.info(note)
    elif not records:
        console.info(_no_visits_line(store, patient, unsigned=unsigned, dated=bool(first or last),
                                     voided_shown=include_voided))
    else:
        console.table(console.counted(len(records), "visit"), VISIT_COLUMNS, map(json.loads, shown), note=note)


@visit_app.command("show")
@console.friendly
def show(
    visit_id: Annotated[str, typer.Argument(help="Visit id, e.g. P001-V3.", metavar="VISIT_ID", autocompletion=complete.visit_ids)],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Show one visit as stored, with its warnings, overrides and amendments.

    Example:

    \b
    tpi visit show P001-V1
    """
    from tpi_cli.lookup import require_visit

    visit = require_visit(open_store(), visit_id)
    if as_json:
        console.print_json(visit)
    else:
        render_visit(visit, title="Visit", asked=True)


@visit_app.command("amend")
@console.friendly
def amend(
    visit_id: Annotated[str, typer.Argument(help="Visit id, e.g. P001-V3.", metavar="VISIT_ID", autocompletion=complete.visit_ids)],
    reason: Annotated[str, typer.Option("--reason", help="Why the record changes.")],
    date: DateOpt = None, site: SiteOpt = None, agent: AgentOpt = None, pain_before: PainBeforeOpt = None,
    pain_after: PainAfterOpt = None, dx: DxOpt = None, ultrasound: UltrasoundOpt = None, needle: NeedleOpt = None,
    twitch: TwitchOpt = None, complication: ComplicationOpt = None, clinician: ClinicianOpt = None,
    follow_up: FollowUpOpt = None, follow_up_days: FollowUpDaysOpt = None, notes: NotesOpt = None,
    prior_relief_pct: ReliefPctOpt = None, prior_relief_weeks: ReliefWeeksOpt = None,
    function: FunctionOpt = None, home_exercise: HomeExerciseOpt = None, consent: ConsentOpt = None,
    override_reason: OverrideOpt = None,
    time: TimeOpt = None, time_out: TimeOutOpt = None, prep: PrepOpt = None,
    aspiration: AspirationOpt = None, blood_loss: BloodLossOpt = None, tolerance: ToleranceOpt = None,
    observation: ObservationOpt = None, disposition: DispositionOpt = None, finding: FindingOpt = None,
    conservative_care: ConservativeOpt = None, risks_discussed: RisksOpt = None, anticoagulant: AnticoagulantOpt = None,
    last_dose: LastDoseOpt = None, inr: InrOpt = None, steroid_vial_ml: VialOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Correct a visit. The original values stay in the record with who, when and why.

    Given flags replace the recorded values (--site and --agent replace the whole list;
    --agent none removes every agent).

    Example:

    \b
    tpi visit amend P001-V1 --reason 'side recorded wrong' --site 'upper trapezius:right:2'
    """
    from tpi_cli.lookup import require_visit
    from tpi_cli.workflow import amend_visit

    store = open_store()
    original = require_visit(store, visit_id)
    changes = visit_fields(date=date, site=site, agent=agent, pain_before=pain_before, pain_after=pain_after,
                           dx=dx, ultrasound=ultrasound, needle=needle, twitch=twitch, complication=complication,
                           clinician=clinician, follow_up=follow_up, follow_up_days=follow_up_days, notes=notes,
                           prior_relief_pct=prior_relief_pct, prior_relief_weeks=prior_relief_weeks,
                           function=function, home_exercise=home_exercise, consent=consent,
                           visit_date=original.date)
    changes.update(procedure_fields(time=time, time_out=time_out, prep=prep, aspiration=aspiration,
                                    blood_loss=blood_loss,
                                   tolerance=tolerance, observation=observation, disposition=disposition,
                                   finding=finding, conservative_care=conservative_care,
                                   risks_discussed=risks_discussed, anticoagulant=anticoagulant, last_dose=last_dose,
                                   inr=inr, steroid_vial_ml=steroid_vial_ml))
    visit = amend_visit(store, visit_id, changes, reason, override_reason=override_reason)
    _print_visit(visit, as_json, title="Visit amended")


VisitIdArg = Annotated[str, typer.Argument(help="Visit id, e.g. P001-V3.", metavar="VISIT_ID", autocompletion=complete.visit_ids)]


@visit_app.command("sign")
@console.friendly
def sign(visit_id: VisitIdArg, as_json: JsonOpt = False) -> None:
    """Sign a visit note as the configured clinician (`tpi config set clinician NAME`).

    Amending a signed visit returns it to unsigned; the earlier signature stays in the amendment.

    Example:

    \b
    tpi visit sign P001-V3
    """
    from tpi_cli.workflow import sign_visit

    visit = sign_visit(open_store(), visit_id)
    _print_visit(visit, as_json, title="Visit signed")


@visit_app.command("addendum")
@console.friendly
def addendum(
    visit_id: VisitIdArg,
    text: Annotated[str, typer.Option("--text", help="The addendum, dated and kept with the visit.")],
    as_json: JsonOpt = False,
) -> None:
    """Add a dated note to a visit, signed or not; the recorded (and signed) note does not change.

    Example:

    \b
    tpi visit addendum P001-V3 --text 'Called next day: numbness resolved, no bruising.'
    """
    from tpi_cli.workflow import add_addendum

    visit = add_addendum(open_store(), visit_id, text)
    _print_visit(visit, as_json, title="Addendum added")


@visit_app.command("void")
@console.friendly
def void(
    visit_id: VisitIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why the visit was entered in error.")],
    as_json: JsonOpt = False,
) -> None:
    """Void a visit entered in error: it is kept and marked, and left out of listings, checks, reports and exports.

    Example:

    \b
    tpi visit void P001-V3 --reason 'logged for the wrong patient'
    """
    from tpi_cli.workflow import void_visit

    visit = void_visit(open_store(), visit_id, reason)
    _print_visit(visit, as_json, title="Visit voided")


def register(app: typer.Typer) -> None:
    app.command("log-visit")(console.friendly(log_visit))
    app.command("visits")(console.friendly(list_visits))
    app.add_typer(visit_app, name="visit")
