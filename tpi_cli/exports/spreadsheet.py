"""CSV export (one row per visit, the patient's columns beside it) and reading it back for `tpi import`.

UTF-8 with a byte-order mark so spreadsheets detect the encoding; the csv module quotes commas, quotes
and line breaks. Free text that a spreadsheet would run as a formula (= + - @) gets a leading
apostrophe, which reading the file back removes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from tpi_cli import vocab
from tpi_cli.clinical.doses import dose_by_drug
from tpi_cli.models import Patient, Visit
from tpi_cli.parsing import format_agent, format_site, parse_agent, parse_function_score, parse_site

DOSE_DRUGS = [name for name, drug in vocab.drugs().items() if drug.drug_class != "other"]
PATIENT_COLUMNS = ["patient_id", "patient_name", "patient_dob", "patient_sex", "patient_weight_kg",
                   "patient_allergies", "patient_anticoagulated", "patient_diabetic", "patient_pregnant",
                   "patient_payer"]
COLUMNS = (["visit_id"] + PATIENT_COLUMNS + ["date", "clinician", "sites", "agents"]
           + [f"total_mg_{drug}" for drug in DOSE_DRUGS]
           + ["pain_before", "pain_after", "pain_change", "diagnoses", "cpt", "ultrasound", "needle", "twitch",
              "complications", "notes", "follow_up", "prior_relief_pct", "prior_relief_weeks", "functional_scores",
              "home_exercise", "consent", "warnings", "overrides", "amendments", "recorded_at", "recorded_by"])
FREE_TEXT = {"patient_name", "patient_allergies", "clinician", "needle", "complications", "notes", "warnings",
             "overrides", "recorded_by"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _flag(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _lines(items: list[str]) -> str:
    return "\n".join(items)


def row(patient: Patient, visit: Visit) -> dict[str, str]:
    totals = dose_by_drug(visit.agents)
    cells = {
        "visit_id": visit.id,
        "patient_id": patient.id, "patient_name": patient.name, "patient_dob": patient.dob.isoformat(),
        "patient_sex": patient.sex, "patient_weight_kg": _number(patient.weight_kg),
        "patient_allergies": _lines(patient.allergies), "patient_anticoagulated": _flag(patient.anticoagulated),
        "patient_diabetic": _flag(patient.diabetic), "patient_pregnant": _flag(patient.pregnant),
        "patient_payer": patient.payer or "",
        "date": visit.date.isoformat(), "clinician": visit.clinician or "",
        "sites": "; ".join(format_site(s) for s in visit.sites),
        "agents": "; ".join(format_agent(a) for a in visit.agents),
        **{f"total_mg_{drug}": _number(totals.get(drug)) for drug in DOSE_DRUGS},
        "pain_before": str(visit.pain_before), "pain_after": str(visit.pain_after),
        "pain_change": str(visit.pain_after - visit.pain_before),
        "diagnoses": "; ".join(visit.diagnoses), "cpt": "; ".join(visit.cpt),
        "ultrasound": _flag(visit.ultrasound), "needle": visit.needle or "", "twitch": _flag(visit.twitch),
        "complications": _lines(visit.complications), "notes": visit.notes or "",
        "follow_up": visit.follow_up.isoformat() if visit.follow_up else "",
        "prior_relief_pct": str(visit.prior_relief.pct) if visit.prior_relief else "",
        "prior_relief_weeks": str(visit.prior_relief.weeks) if visit.prior_relief else "",
        "functional_scores": "; ".join(f"{s.scale}={s.score:g}" for s in visit.functional_scores),
        "home_exercise": _flag(visit.home_exercise), "consent": visit.consent or "",
        "warnings": _lines(visit.warnings),
        "overrides": _lines([f"{o.check}: {o.reason}" for o in visit.overrides]),
        "amendments": json.dumps([a.model_dump(mode="json") for a in visit.amendments], ensure_ascii=False)
        if visit.amendments else "",
        "recorded_at": visit.recorded_at.isoformat() if visit.recorded_at else "",
        "recorded_by": visit.recorded_by or "",
    }
    return {key: _guard(value) if key in FREE_TEXT else value for key, value in cells.items()}


def _guard(text: str) -> str:
    return "\n".join("'" + line if line.startswith(_FORMULA_START) else line for line in text.split("\n")) \
        if text else text


def _unguard(text: str) -> str:
    return "\n".join(line[1:] if line[:1] == "'" and line[1:2] and line[1] in _FORMULA_START else line
                     for line in text.split("\n"))


def csv_chunks(selection: Iterable[tuple[Patient, list[Visit]]]) -> Iterator[bytes]:
    """The CSV text piece by piece (a patient's rows at a time): header first, with the BOM."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    yield buffer.getvalue().encode("utf-8-sig")
    for patient, visits in selection:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(row(patient, visit) for visit in visits)
        yield buffer.getvalue().encode("utf-8")


# --- reading an export back ----------------------------------------------------------------------------


def _split(text: str, separator: str = "; ") -> list[str]:
    return [part.strip() for part in text.split(separator.strip()) if part.strip()]


def _bool(value: str, column: str) -> bool | None:
    value = value.strip().lower()
    if value == "":
        return None
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise ValueError(f"{column}: {value!r} is not yes or no")


def read_row(cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(patient record, visit input record, stored extras) from one exported row; ValueError names the column."""
    cells = {key: _unguard(value or "") if key in FREE_TEXT else (value or "") for key, value in cells.items()}
    patient = {
        "id": cells["patient_id"], "name": cells["patient_name"], "dob": cells["patient_dob"],
        "sex": cells["patient_sex"] or "unknown",
        "weight_kg": cells["patient_weight_kg"] or None,
        "allergies": [a for a in cells["patient_allergies"].split("\n") if a.strip()],
        "anticoagulated": bool(_bool(cells["patient_anticoagulated"], "patient_anticoagulated")),
        "diabetic": bool(_bool(cells["patient_diabetic"], "patient_diabetic")),
        "pregnant": bool(_bool(cells["patient_pregnant"], "patient_pregnant")),
        "payer": cells["patient_payer"] or None,
    }
    try:
        sites = [parse_site(s).model_dump() for s in _split(cells["sites"])]
    except ValueError as error:
        raise ValueError(f"sites: {error}") from None
    try:
        agents = [parse_agent(a).model_dump() for a in _split(cells["agents"])]
    except ValueError as error:
        raise ValueError(f"agents: {error}") from None
    try:
        scores = [parse_function_score(s).model_dump() for s in _split(cells["functional_scores"])]
    except ValueError as error:
        raise ValueError(f"functional_scores: {error}") from None
    relief = None
    if cells["prior_relief_pct"] or cells["prior_relief_weeks"]:
        relief = {"pct": cells["prior_relief_pct"], "weeks": cells["prior_relief_weeks"]}
    visit = {
        "patient_id": cells["patient_id"], "date": cells["date"], "clinician": cells["clinician"] or None,
        "sites": sites, "agents": agents, "pain_before": cells["pain_before"], "pain_after": cells["pain_after"],
        "diagnoses": _split(cells["diagnoses"]), "ultrasound": bool(_bool(cells["ultrasound"], "ultrasound")),
        "needle": cells["needle"] or None, "twitch": _bool(cells["twitch"], "twitch"),
        "complications": [c for c in cells["complications"].split("\n") if c.strip()],
        "notes": cells["notes"] or None, "follow_up": cells["follow_up"] or None, "prior_relief": relief,
        "functional_scores": scores, "home_exercise": _bool(cells["home_exercise"], "home_exercise"),
        "consent": cells["consent"] or None,
    }
    overrides = []
    for line in filter(str.strip, cells["overrides"].split("\n")):
        check, sep, reason = line.partition(": ")
        if not sep:
            raise ValueError(f"overrides: {line!r} is not 'check: reason'")
        overrides.append({"check": check, "reason": reason})
    try:
        amendments = json.loads(cells["amendments"]) if cells["amendments"].strip() else []
    except json.JSONDecodeError:
        raise ValueError("amendments: not the JSON tpi exports") from None
    extras = {
        "id": cells["visit_id"],
        "warnings": [w for w in cells["warnings"].split("\n") if w.strip()],
        "overrides": overrides, "amendments": amendments,
        "recorded_at": cells["recorded_at"] or None, "recorded_by": cells["recorded_by"] or None,
    }
    return patient, visit, extras


def read(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, cells) for each data row of an exported CSV; ValueError when the header is not ours."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    missing = [c for c in ("visit_id", *PATIENT_COLUMNS, "date", "sites", "agents", "pain_before", "pain_after")
               if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"not a tpi CSV export: missing column(s) {', '.join(missing)}")
    rows = []
    start = reader.line_num + 1  # a row may span lines (line breaks inside quotes): name its first line
    for cells in reader:
        rows.append((start, {c: cells.get(c) or "" for c in COLUMNS}))
        start = reader.line_num + 1
    return rows
