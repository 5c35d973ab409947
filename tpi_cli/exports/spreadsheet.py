"""CSV export (one row per visit, the patient's columns beside it; a patient without visits gets a row of
their own) and reading it back for `tpi import`.

UTF-8 with a byte-order mark so spreadsheets detect the encoding; the csv module quotes commas, quotes
and line breaks (a carriage return inside text stays one). A text cell a spreadsheet would run as a
formula (= + - @ tab CR), or would turn into a number or date (an id such as 007 or 1E5), or that starts
with an apostrophe itself, gets one leading apostrophe: spreadsheets show the cell as the text, and
reading the file back removes exactly that one. Lists of text are JSON arrays (their items may hold any
character), numbers are written in full precision.

Reading takes what a person entered (and the visit's own weight, its override reasons and its id); what
tpi computes (doses, CPT, warnings) or records about the writing itself (recorded_at/by, amendments,
signature, addenda) is never taken from a file: the import computes and records those anew.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic_core import to_jsonable_python

from tpi_cli import vocab
from tpi_cli.clinical.doses import dose_by_drug
from tpi_cli.models import Patient, Visit
from tpi_cli.parsing import format_agent, format_number, format_site, parse_agent, parse_site

# A cell may hold a 20,000-character note, JSON-escaped; anything far beyond is not a tpi export, and the
# csv module's own limit (131,072) would end in a traceback rather than a message.
FIELD_SIZE_LIMIT = 1_000_000

DOSE_DRUGS = [name for name, drug in vocab.drugs().items() if drug.drug_class != "other"]

# column → (kind, the record key it carries). Kinds: id and text (guarded text), int, float, bool, date,
# list (JSON array), json (any JSON), sites and agents (their typed form), computed (export only).
PATIENT_COLUMNS: dict[str, tuple[str, str]] = {
    "patient_id": ("id", "id"), "patient_name": ("text", "name"), "patient_dob": ("date", "dob"),
    "patient_sex": ("text", "sex"), "patient_weight_kg": ("float", "weight_kg"),
    "patient_allergies": ("list", "allergies"), "patient_anticoagulated": ("bool", "anticoagulated"),
    "patient_diabetic": ("bool", "diabetic"), "patient_pregnant": ("bool", "pregnant"),
    "patient_payer": ("text", "payer"), "patient_mrn": ("id", "mrn"), "patient_family": ("text", "family"),
    "patient_given": ("list", "given"),
}
VISIT_COLUMNS: dict[str, tuple[str, str]] = {
    "date": ("date", "date"), "procedure_time": ("date", "procedure_time"), "clinician": ("text", "clinician"),
    "sites": ("sites", "sites"), "agents": ("agents", "agents"),
    **{f"total_mg_{drug}": ("computed", "") for drug in DOSE_DRUGS},
    "pain_before": ("int", "pain_before"), "pain_after": ("int", "pain_after"), "pain_change": ("computed", ""),
    "diagnoses": ("list", "diagnoses"), "cpt": ("computed", ""), "ultrasound": ("bool", "ultrasound"),
    "needle": ("text", "needle"), "twitch": ("bool", "twitch"), "complications": ("list", "complications"),
    "notes": ("text", "notes"), "follow_up": ("date", "follow_up"), "prior_relief": ("json", "prior_relief"),
    "functional_scores": ("json", "functional_scores"), "home_exercise": ("bool", "home_exercise"),
    "consent": ("text", "consent"), "time_out": ("bool", "time_out"), "skin_prep": ("text", "skin_prep"),
    "aspiration": ("bool", "aspiration"), "blood_loss": ("text", "blood_loss"), "tolerance": ("text", "tolerance"),
    "observation": ("text", "observation"), "disposition": ("text", "disposition"),
    "findings": ("list", "findings"), "conservative_care": ("text", "conservative_care"),
    "risks_discussed": ("text", "risks_discussed"), "anticoagulant": ("text", "anticoagulant"),
    "anticoagulant_last_dose": ("text", "anticoagulant_last_dose"), "inr": ("float", "inr"),
    "steroid_vial_ml": ("float", "steroid_vial_ml"),
    # the visit's own record beside what was entered: its weight of that day, the reasons given for overrides
    "visit_weight_kg": ("float", "weight_kg"), "overrides": ("json", "overrides"),
    # what tpi computed or recorded: shown to the reader, never read back
    "warnings": ("computed", ""), "amendments": ("computed", ""), "signed": ("computed", ""),
    "addenda": ("computed", ""), "handout_given": ("computed", ""), "recorded_at": ("computed", ""),
    "recorded_by": ("computed", ""),
}
COLUMNS = ["visit_id", *PATIENT_COLUMNS, *VISIT_COLUMNS]
REQUIRED = ("visit_id", "patient_id", "patient_name", "patient_dob", "date", "sites", "pain_before", "pain_after")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
# what a spreadsheet reads as a number, date, time or truth value rather than text
_COERCED = re.compile(r"[0-9.,eE+\-/: %$]+|true|false", re.IGNORECASE)


def _guard(text: str) -> str:
    if text and (text.startswith(_FORMULA_START) or _COERCED.fullmatch(text)):
        return "'" + text
    return text


def _unguard(text: str) -> str:
    return text.removeprefix("'")


# json.dumps(value, ensure_ascii=False) without building an encoder for every cell
_encode_json = json.JSONEncoder(ensure_ascii=False).encode


# The cell of a text, of a list of texts, of a number, and the typed form of a site or an agent, by what they are
# made of: a clinic's visits repeat a few of each (clinicians, needles, codes, volumes), and each is written the
# same every time. Bounded (so many, so long): beyond it each is written anew.
_TEXTS_KEPT = 4096
_LONGEST_KEPT = 100
_text_cells: dict[str, str] = {}
_list_cells: dict[tuple[str, ...], str] = {}
_number_texts: dict[float, str] = {}
_site_texts: dict[tuple[Any, ...], str] = {}
_agent_texts: dict[tuple[Any, ...], str] = {}


def _kept(texts: dict[Any, str], key: Any, text: str) -> str:
    if len(texts) < _TEXTS_KEPT and len(text) <= _LONGEST_KEPT:
        texts[key] = text
    return text


def _text_cell(value: Any) -> str:
    if type(value) is not str:  # equal keys of other types have other texts (1, 1.0, True)
        return _guard(str(value))
    return _text_cells.get(value) or _kept(_text_cells, value, _guard(value))


def _bool_cell(value: Any) -> str:
    return "yes" if value else "no"


def _json_cell(value: Any) -> str:
    if value == []:
        return ""
    if type(value) is list and all(type(item) is str for item in value):
        key = tuple(value)
        return _list_cells.get(key) or _kept(_list_cells, key, _encode_json(value))
    return _encode_json(value)


def _number_text(value: float) -> str:
    if not value or math.isnan(value):  # 0.0 and -0.0 are equal keys with texts of their own; NaN is no key
        return format_number(value)
    return _number_texts.get(value) or _kept(_number_texts, value, format_number(value))


# how a cell of each kind is written from its (not None) JSON value; int and date: as they are
_WRITE = {"id": _text_cell, "text": _text_cell, "float": _number_text, "bool": _bool_cell, "list": _json_cell,
          "json": _json_cell, "int": str, "date": str}


def _plan(columns: dict[str, tuple[str, str]]) -> list[tuple[str | None, Any]]:
    """(record key, writer) per column, in order; (None, None) for a column filled from the model."""
    return [(None, None) if kind in ("computed", "sites", "agents") else (key, _WRITE[kind])
            for kind, key in columns.values()]


_PATIENT_PLAN = _plan(PATIENT_COLUMNS)
_VISIT_PLAN = _plan(VISIT_COLUMNS)
_AT = {column: index for index, column in enumerate(VISIT_COLUMNS)}
_TOTAL_AT = {drug: _AT[f"total_mg_{drug}"] for drug in DOSE_DRUGS}
_NO_VISIT = [""] * len(VISIT_COLUMNS)


def _cells(plan: list[tuple[str | None, Any]], record: dict[str, Any]) -> list[str]:
    return ["" if key is None or (value := record.get(key)) is None else write(value) for key, write in plan]


def patient_cells(patient: Patient) -> list[str]:
    """The row of a patient without visits, in COLUMNS order; every row of theirs begins with these cells."""
    return ["", *_cells(_PATIENT_PLAN, patient.model_dump(mode="json"))]


# A visit's row is written from the model's own values, which are their JSON values already (text, numbers, true or
# false, lists of text; a date's str() is its JSON text), except the fields below: each of those is dumped alone by
# pydantic (models within, times of day and instants as pydantic writes them); a dump of the whole visit cost a
# third of the export. tests/test_csv_rows.py holds the row equal to one written from the whole JSON dump.
_DUMPED = frozenset({"procedure_time", "prior_relief", "functional_scores", "overrides", "amendments", "signed",
                     "addenda", "handout_given", "recorded_at"})
_VISIT_OWN_PLAN = [(key, write) if key not in _DUMPED else (None, None) for key, write in _VISIT_PLAN]
_VISIT_DUMPED_PLAN = [(index, key, write) for index, (key, write) in enumerate(_VISIT_PLAN) if key in _DUMPED]


def _site_text(site: Any) -> str:
    key = (site.muscle, site.side, site.points, site.volume_ml)
    return _site_texts.get(key) or _kept(_site_texts, key, format_site(site))


def _agent_text(agent: Any) -> str:
    concentration = agent.concentration
    key = (agent.drug, None if concentration is None else (concentration.value, concentration.unit), agent.epinephrine,
           agent.volume_ml)
    return _agent_texts.get(key) or _kept(_agent_texts, key, format_agent(agent))


def row(patient: list[str], visit: Visit) -> list[str]:
    """The cells of one row in COLUMNS order: the PATIENT's cells (patient_cells) and VISIT's."""
    fields = visit.__dict__
    # None and [] are their own JSON values, and most of these fields hold one of them
    record = {key: value if value is None or value == [] else to_jsonable_python(value)
              for key in _DUMPED for value in (fields[key],)}
    if fields["procedure_time"] is not None:  # written by its field's own serializer (HH:MM)
        record["procedure_time"] = visit.model_dump(mode="json", include={"procedure_time"})["procedure_time"]
    cells = _cells(_VISIT_OWN_PLAN, fields)
    for index, key, write in _VISIT_DUMPED_PLAN:
        value = record[key]
        if value is not None:
            cells[index] = write(value)
    cells[_AT["sites"]] = "; ".join([_site_text(s) for s in visit.sites])
    cells[_AT["agents"]] = "; ".join([_agent_text(a) for a in visit.agents])
    for drug, mg in dose_by_drug(visit.agents).items():
        if drug in _TOTAL_AT:
            cells[_TOTAL_AT[drug]] = _number_text(mg)
    cells[_AT["pain_change"]] = str(visit.pain_after - visit.pain_before)
    cells[_AT["cpt"]] = "; ".join(visit.cpt)
    cells[_AT["warnings"]] = _guard("\n".join(visit.warnings))
    for column in ("amendments", "signed", "addenda", "handout_given"):
        value = record[column]
        cells[_AT[column]] = "" if value is None else _json_cell(value)
    cells[_AT["recorded_at"]] = record["recorded_at"] or ""
    cells[_AT["recorded_by"]] = _guard(visit.recorded_by or "")
    return [_guard(visit.id), *patient[1:], *cells]


def csv_header() -> bytes:
    """The CSV's first piece: the BOM and the header row."""
    return _csv_text([COLUMNS]).encode("utf-8-sig")


def patient_rows(patient: Patient, visits: list[Visit]) -> bytes:
    """PATIENT's rows of the CSV: one per visit, or the patient's cells alone when there is none."""
    patient_row = patient_cells(patient)
    return _csv_text([row(patient_row, visit) for visit in visits] or [patient_row + _NO_VISIT]).encode("utf-8")


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


# --- reading an export back ----------------------------------------------------------------------------


def _value(kind: str, text: str, column: str) -> Any:
    """The JSON-typed value of one cell (as a JSON Lines record would carry it); ValueError names the column."""
    if kind in ("id", "text"):
        return _unguard(text) if text != "" else None
    if text.strip() == "":
        return [] if kind == "list" else None
    text = text.strip()
    if kind == "int":
        if not re.fullmatch(r"-?[0-9]+", text):
            raise ValueError(f"{column}: {text!r} is not a whole number")
        return int(text)
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{column}: {text!r} is not a number") from None
    if kind == "bool":
        if text.lower() in ("yes", "true"):
            return True
        if text.lower() in ("no", "false"):
            return False
        raise ValueError(f"{column}: {text!r} is not yes or no")
    if kind in ("list", "json"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{column}: not the JSON tpi exports") from None
        if kind == "list" and not isinstance(value, list):
            raise ValueError(f"{column}: expected a JSON list like [\"a\", \"b\"]")
        return value
    return text  # date


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _record(columns: dict[str, tuple[str, str]], cells: dict[str, str]) -> dict[str, Any]:
    record = {}
    for column, (kind, key) in columns.items():
        if kind in ("computed", "sites", "agents") or column not in cells:
            continue
        value = _value(kind, cells[column], column)
        if value is not None and value != []:
            record[key] = value
    return record


def read_row(cells: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """(patient record, visit input record or None, the visit's own id/weight/overrides or None) from one
    exported row; ValueError names the column."""
    patient = _record(PATIENT_COLUMNS, cells)
    if not cells.get("visit_id", "").strip():
        if any(cells.get(column, "").strip() for column in ("date", "sites", "agents", "pain_before")):
            raise ValueError("visit_id: a row with a visit needs its visit id (a row without one is a patient "
                             "without visits)")
        return patient, None, None
    visit = _record(VISIT_COLUMNS, cells)
    try:
        visit["sites"] = [parse_site(s).model_dump() for s in _split(cells.get("sites", ""))]
    except ValueError as error:
        raise ValueError(f"sites: {error}") from None
    try:
        visit["agents"] = [parse_agent(a).model_dump() for a in _split(cells.get("agents", ""))]
    except ValueError as error:
        raise ValueError(f"agents: {error}") from None
    visit["patient_id"] = patient.get("id")
    restored = {"id": _unguard(cells["visit_id"].strip()), "weight_kg": visit.pop("weight_kg", None),
                "overrides": visit.pop("overrides", None) or []}
    return patient, visit, restored


def read(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, cells) for each data row of an exported CSV, its LINES read as they come (with their line ends:
    newline=""); ValueError when it is not one."""
    lines = iter(lines)
    first = next(lines, "")
    reader = csv.DictReader(itertools.chain([first.removeprefix("\ufeff")], lines))
    previous = csv.field_size_limit(FIELD_SIZE_LIMIT)
    start = 1
    try:
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"not a tpi CSV export: missing column(s) {', '.join(missing)}")
        # a column this tpi does not read would be dropped without a word (an older export's layout, a
        # column added by hand): refused instead
        unknown = [c for c in reader.fieldnames or [] if c not in COLUMNS]
        if unknown:
            raise ValueError(f"column(s) {', '.join(unknown)} are not ones this tpi reads; remove them, or export "
                             "the data again with this tpi")
        start = reader.line_num + 1  # a row may span lines (line breaks inside quotes): name its first line
        for cells in reader:
            yield start, {c: cells.get(c) or "" for c in COLUMNS if c in cells}
            start = reader.line_num + 1
    except csv.Error as error:
        raise ValueError(f"line {start}: not readable as CSV ({error}); no tpi cell is that long or "
                         "shaped so") from None
    finally:
        csv.field_size_limit(previous)
