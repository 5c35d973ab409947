"""What the commands do, as plain functions over a Store: add patients, log, amend and import visits.

The CLI only parses options, calls these and renders the result; a test or another program can call
them without typer. Errors are the typed exceptions of :mod:`tpi_cli.errors`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ValidationError

from tpi_cli.clinical.coding import cpt_codes
from tpi_cli.clinical.necessity import findings_warning
from tpi_cli.clinical.safety import YEAR, VisitFacts, assess, payer_profile
from tpi_cli.collector import paused
from tpi_cli.dates import now
from tpi_cli.errors import InputError, RefusedError
from tpi_cli.files import TextLines, read_text_lines
from tpi_cli.forked import shared_map
from tpi_cli.lookup import require_patient, require_visit
from tpi_cli.models import (
    PATIENT_ID_PATTERN,
    Addendum,
    Agent,
    Amendment,
    Override,
    Patient,
    Signature,
    Visit,
    VisitInput,
    Voided,
    constructed,
    format_visit_id,
    input_json,
    problems,
    split_visit_id,
)
from tpi_cli.settings import Settings
from tpi_cli.store import Encoded, Progress, Store, encoded

# The keys of a stored visit that a person entered (the rest tpi derives).
ENTERED_VISIT_KEYS = tuple(k for k in VisitInput.model_fields if k != "override_reason")


# Characters that never print: C0 controls but tab and line breaks, DEL and C1 controls. Stored, they would
# make the record differ from every document that shows it (a PDF draws them as nothing, or a space).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Half of a UTF-16 pair: a JSON "\ud800" escape, or how Python carries a command-line byte that is not UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str) -> str | None:
    if found := _SURROGATE.search(text):
        code = ord(found.group())
        if 0xDC80 <= code <= 0xDCFF:
            return (f"holds the byte 0x{code - 0xDC00:02X}, which is not UTF-8 text; set the terminal (or file) to "
                    "UTF-8 and type it again")
        return f"holds \\u{code:04x}, half of a UTF-16 pair and not a character; remove it"
    if found := _UNPRINTABLE.search(text):
        return f"holds the control character U+{ord(found.group()):04X}, which does not print; remove it"
    return None


def unprintable(value: Any, where: str = "") -> str | None:
    """The first text in VALUE (JSON-shaped input) that cannot be stored as typed, as "field: why", or None.

    pydantic would take such text silently (a control character) or fail with a message about raw data that
    names no field (a byte that is not UTF-8), so input is looked at before it is validated.
    """
    if isinstance(value, str):
        problem = _text_problem(value)
        return f"{where or 'text'}: {problem}" if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (problem := _text_problem(key)):
                return f"a key of {where or 'the record'} {problem}"
            if found := unprintable(item, f"{where}.{key}" if where else str(key)):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := unprintable(item, f"{where}.{index}" if where else str(index)):
                return found
    return None


@contextlib.contextmanager
def _input_errors(what: str) -> Iterator[None]:
    """A record that does not validate as one InputError naming WHAT and every problem."""
    try:
        yield
    except ValidationError as error:
        raise InputError(f"{what}: " + "; ".join(problems(error))) from None
    except RecursionError:
        raise InputError(f"{what}: nested too deeply to be a tpi record") from None


def validated(model: type, data: dict[str, Any], what: str, *, strict: bool = True):
    """MODEL validated from DATA (JSON-shaped), or InputError with one line per problem.

    STRICT takes JSON's types as they are (the input records); only the CSV reader, whose cells are all
    text, converts them.
    """
    if problem := unprintable(data):
        raise InputError(f"{what}: {problem}")
    if strict:
        return _validated_text(model, input_json(data), what)
    with _input_errors(what):
        return model.model_validate(data)


def _validated_text(model: type, text: str, what: str):
    """MODEL from TEXT, the JSON of an input record, taken strictly as `validated` takes it; InputError naming WHAT."""
    with _input_errors(what):
        return model.model_validate_json(text, strict=True)


class _RepeatedKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; a key given twice is refused (json.loads and pydantic keep the last)."""
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key)
            seen.add(key)
    return record


def parse_json(text: str, what: str) -> Any:
    """The JSON value of TEXT, or InputError naming WHAT (a line or a file) and where the JSON breaks.

    A key given twice in one object is refused: which of two pain scores was meant is not for tpi to guess.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _RepeatedKey as error:
        raise InputError(f"{what}: \"{error.args[0]}\" is given twice in one record; keep the one you mean") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{what}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    except RecursionError:
        raise InputError(f"{what}: nested too deeply to be a tpi record") from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        raise InputError(f"{what}: not a tpi record ({error})") from None


# --- patients ----------------------------------------------------------------------------------------


def same_id(store: Store, patient_id: str) -> str | None:
    """The stored patient id equal to PATIENT_ID ignoring case: their visit files would collide on the
    case-insensitive file systems of macOS and Windows."""
    wanted = patient_id.casefold()
    return next((doc["id"] for doc in store.patient_records() if doc["id"].casefold() == wanted), None)


def add_patient(store: Store, patient: Patient) -> Patient:
    with store.transaction():
        existing = same_id(store, patient.id)
        if existing is not None:
            raise InputError(f"id: patient {existing} already exists (ids are the same ignoring case); "
                             f"change it with `tpi patient update {existing}` or choose another id")
        require_unique_mrn(store, patient)
        store.add_patient(patient)
    return patient


def require_unique_mrn(store: Store, patient: Patient) -> None:
    """An MRN names one patient: the EHR and `tpi import fhir` match patients on it."""
    if patient.mrn is None:
        return
    for other in store.patient_records():
        if other.get("mrn") == patient.mrn and other["id"] != patient.id:
            raise InputError(f"mrn: {patient.mrn} is already the MRN of patient {other['id']}; check the number")


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {key: {"from": before.get(key), "to": after[key]} for key in after if before.get(key) != after[key]}


def update_patient(
    store: Store, patient_id: str, changes: dict[str, Any], *, add_allergies: Iterable[str] = (),
    remove_allergies: Iterable[str] = (), reason: str | None = None, user: str | None = None,
) -> Patient:
    """Change a patient's details, keeping what was replaced (who, when, why) in ``amendments``.

    Allergies are given as operations, applied to the list read under the store lock: two terminals
    adding allergies at once both keep theirs.
    """
    add_allergies, remove_allergies = list(add_allergies), list(remove_allergies)
    if not changes and not add_allergies and not remove_allergies:
        raise InputError("nothing to update: give at least one flag, e.g. --weight-kg 70")
    if reason is not None and not reason.strip():
        raise InputError("--reason: say why, or leave the flag out")
    with store.transaction():
        patient = require_patient(store, patient_id)
        before = patient.model_dump(mode="json", exclude={"amendments"})
        allergies = list(patient.allergies)
        for item in remove_allergies:
            matches = [a for a in allergies if a.casefold() == item.strip().casefold()]
            if not matches:
                raise InputError(f"--remove-allergy: {item!r} is not recorded; recorded: "
                                 f"{', '.join(allergies) or 'none'}")
            allergies.remove(matches[0])
        data = {**before, **changes, "allergies": allergies + [a.strip() for a in add_allergies]}
        updated = validated(Patient, data, "patient")
        after = updated.model_dump(mode="json", exclude={"amendments"})
        diff = _changes(before, after)
        if not diff:
            raise InputError(f"nothing changed: patient {patient.id} already has these values")
        if "dob" in diff:
            _dob_before_visits(store, updated)
        require_unique_mrn(store, updated)
        amendment = Amendment(at=now(), by=user or store.user(), reason=reason.strip() if reason else None,
                              changes=diff)
        updated = updated.model_copy(update={"amendments": [*patient.amendments, amendment]})
        store.replace_patient(updated)
    return updated


def _dob_before_visits(store: Store, patient: Patient) -> None:
    dates = [doc["date"] for doc in store.visit_records(patient.id)]
    if dates and min(dates) < patient.dob.isoformat():
        raise InputError(f"dob: date of birth {patient.dob.isoformat()} is after {patient.id}'s visit of "
                         f"{min(dates)}; check the year")


# --- visits ------------------------------------------------------------------------------------------


def build_visit(
    patient: Patient,
    entered: VisitInput,
    history: list[Visit],
    settings: Settings,
    *,
    visit_id: str,
    recorded_at: dt.datetime,
    recorded_by: str,
    earlier_overrides: Iterable[Override] = (),
    how_to_override: str = 'to proceed anyway give --override-reason "why"',
    facts: VisitFacts | None = None,
) -> Visit:
    """The stored visit for ENTERED as given: doses, CPT and the safety checks' findings.

    Log-time defaults are not applied here (see :func:`with_log_defaults`): an amendment rebuilds a
    visit through this and must not pick up today's settings. Raises RefusedError when a check
    refuses and no override reason was given; HOW_TO_OVERRIDE ends its message. FACTS: what is known of
    HISTORY's visits already (see :class:`~tpi_cli.clinical.safety.VisitFacts`).
    """
    if entered.date < patient.dob:
        raise InputError(f"date: visit date {entered.date.isoformat()} is before {patient.id}'s date of birth "
                         f"{patient.dob.isoformat()}; check the year")
    agents = [Agent.from_input(agent) for agent in entered.agents]
    # ENTERED is validated and the derived values are computed here, so no second validation.
    visit = constructed(Visit, {
        **entered.__dict__, "id": visit_id, "agents": agents, "weight_kg": patient.weight_kg,
        "cpt": cpt_codes(entered.sites, agents, entered.ultrasound),
        "recorded_at": recorded_at, "recorded_by": recorded_by, "warnings": [], "overrides": [], "amendments": [],
        "signed": None, "addenda": [], "voided": None, "handout_given": [],
    })
    facts = facts or VisitFacts()
    assessment = assess(patient, visit, history, settings, facts)
    overrides: list[Override] = []
    if assessment.refusals:
        earlier = {o.check: o.reason for o in earlier_overrides}
        unresolved = [f for f in assessment.refusals if not entered.override_reason and f.check not in earlier]
        if unresolved:
            lines = [f"refused by the {f.check} check: {f.message}." for f in unresolved]
            raise RefusedError(
                " ".join(lines) + f" Nothing was saved; {how_to_override}."
            )
        for finding in assessment.refusals:
            reason = entered.override_reason or earlier[finding.check]
            if finding.check not in {o.check for o in overrides}:
                overrides.append(Override(check=finding.check, reason=reason))
    warnings = [f"Overridden ({f.check}): {f.message}." for f in assessment.refusals] + assessment.warnings
    necessity = findings_warning(patient, visit, history, payer_profile(patient, settings),
                                 lambda each: facts(each).pairs)
    warnings += [necessity] if necessity else []
    visit.warnings, visit.overrides = warnings, overrides  # the visit was built here: no copy needed
    return visit


def with_log_defaults(entered: VisitInput, settings: Settings) -> VisitInput:
    """ENTERED with the clinic's defaults for what was not given: at logging only, never in an amendment."""
    defaults: dict[str, Any] = {}
    if entered.consent is None and settings["consent.default"]:
        defaults["consent"] = settings["consent.default"]
    if entered.clinician is None and settings["clinician"]:
        defaults["clinician"] = settings["clinician"]
    if entered.follow_up is None and settings["follow_up.default_days"]:
        defaults["follow_up"] = entered.date + dt.timedelta(days=settings["follow_up.default_days"])
    return entered.model_copy(update=defaults) if defaults else entered


def log_visit(store: Store, entered: VisitInput, user: str | None = None, *, sign: bool = False) -> Visit:
    """Store a new visit; with SIGN, sign it at once (refused before anything is written without a clinician)."""
    with store.transaction():
        patient = require_patient(store, entered.patient_id)
        every = store.visits(patient.id, voided=True)  # a voided visit keeps its number
        settings = Settings(store.settings())
        if sign:
            signer_name(settings)
        visit = build_visit(
            patient, with_log_defaults(entered, settings), [v for v in every if v.voided is None], settings,
            visit_id=format_visit_id(patient.id, store.next_visit_number(patient.id)), recorded_at=now(),
            recorded_by=user or store.user(),
        )
        store.add_visit(visit)
        if sign:
            visit = _signed(store, visit, settings, user)
    return visit


# --- signatures, addenda, voids ----------------------------------------------------------------------


def signer_name(settings: Settings) -> str:
    name = settings["clinician"]
    if not name:
        raise InputError("clinician: no clinician is configured to sign as; set one with "
                         "`tpi config set clinician 'Dr. Jane Doe'`")
    return name


def _require_not_voided(visit: Visit, doing: str) -> None:
    if visit.voided is not None:
        raise InputError(f"visit: {visit.id} was voided ({visit.voided.reason}); a voided visit cannot be {doing}")


def _signed(store: Store, visit: Visit, settings: Settings, user: str | None) -> Visit:
    signature = Signature(at=now(), by=user or store.user(), name=signer_name(settings))
    signed = visit.model_copy(update={"signed": signature})
    store.replace_visit(signed, action="visit.sign")
    return signed


def sign_visit(store: Store, visit_id: str, user: str | None = None) -> Visit:
    """Attest a visit note as the configured clinician. Amending it later returns it to unsigned."""
    with store.transaction():
        visit = require_visit(store, visit_id)
        _require_not_voided(visit, "signed")
        if visit.signed is not None:
            raise InputError(f"visit: {visit.id} is already signed by {visit.signed.name} "
                             f"({visit.signed.at:%Y-%m-%d %H:%M} UTC); add to it with `tpi visit addendum`")
        return _signed(store, visit, Settings(store.settings()), user)


def add_addendum(store: Store, visit_id: str, text: str, user: str | None = None) -> Visit:
    """Add dated text to a visit, signed or not; what was recorded (and signed) stays as it was."""
    if not text.strip():
        raise InputError("text: give the addendum's text, e.g. --text \"patient called: numbness resolved\"")
    with store.transaction():
        visit = require_visit(store, visit_id)
        _require_not_voided(visit, "added to")
        addendum = validated(Addendum, {"at": now(), "by": user or store.user(), "text": text.strip()}, "addendum")
        updated = visit.model_copy(update={"addenda": [*visit.addenda, addendum]})
        store.replace_visit(updated, action="visit.addendum")
    return updated


def void_visit(store: Store, visit_id: str, reason: str, user: str | None = None) -> Visit:
    """Mark a visit entered in error: it stays in the store, its audit and `visit show`, and nowhere else."""
    if not reason.strip():
        raise InputError("reason: say why the visit is void, e.g. --reason \"logged for the wrong patient\"")
    with store.transaction():
        visit = require_visit(store, visit_id)
        _require_not_voided(visit, "voided again")
        voided = validated(Voided, {"at": now(), "by": user or store.user(), "reason": reason.strip()}, "void")
        updated = visit.model_copy(update={"voided": voided})
        store.replace_visit(updated, action="visit.void")
    return updated


def entered_values(visit: Visit) -> dict[str, Any]:
    """What a person entered for VISIT, shaped as a visit input."""
    data = visit.model_dump(mode="json", include=set(ENTERED_VISIT_KEYS))
    data["agents"] = [a.model_dump(mode="json", exclude={"dose_mg"}) for a in visit.agents]
    return data


def amend_visit(
    store: Store, visit_id: str, changes: dict[str, Any], reason: str, *,
    override_reason: str | None = None, user: str | None = None,
) -> Visit:
    """Change entered values of a visit, keeping the old values, who, when and why."""
    if not reason.strip():
        raise InputError("reason: say why the visit is amended, e.g. --reason \"wrong side recorded\"")
    if not changes:
        raise InputError("nothing to amend: give the flags to change, e.g. --pain-after 3")
    if "patient_id" in changes:
        raise InputError("patient: a visit cannot move to another patient; log it again for the right patient")
    with store.transaction():
        original = require_visit(store, visit_id)
        _require_not_voided(original, "amended")
        patient = require_patient(store, original.patient_id)
        if original.weight_kg is not None:  # check against the weight of the visit's day, not today's
            patient = patient.model_copy(update={"weight_kg": original.weight_kg})
        entered = validated(
            VisitInput, {**entered_values(original), **changes, "override_reason": override_reason}, "visit"
        )
        history = [v for v in store.visits(patient.id) if v.id != original.id]  # voided ones left out
        rebuilt = build_visit(
            patient, entered, history, Settings(store.settings()),
            visit_id=original.id, recorded_at=original.recorded_at or now(),
            recorded_by=original.recorded_by or store.user(), earlier_overrides=original.overrides,
        )
        kept = {"amendments", "addenda", "signed", "voided", "handout_given"}
        before = original.model_dump(mode="json", exclude=kept)
        after = rebuilt.model_dump(mode="json", exclude=kept)
        diff = _changes(before, after)
        if not diff:
            raise InputError("nothing changed: the amended values are the same as the recorded ones")
        if original.signed is not None:  # nothing changes under a signature: the amended note is unsigned
            diff["signed"] = {"from": original.signed.model_dump(mode="json"), "to": None}
        amendment = Amendment(at=now(), by=user or store.user(), reason=reason.strip(), changes=diff)
        amended = rebuilt.model_copy(update={"amendments": [*original.amendments, amendment],
                                             "addenda": original.addenda, "handout_given": original.handout_given})
        store.replace_visit(amended, action="visit.amend")
    return amended


# --- import ------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    patients: int
    visits: int
    skipped_patients: int


def record_kind(record: dict[str, Any]) -> str | None:
    """"patient" or "visit": as the record's "type" says, else by its keys; None when it cannot be told.

    Raises InputError for a "type" that is neither.
    """
    if "type" in record:
        kind = record["type"]
        if kind not in ("patient", "visit"):
            raise InputError(f'type: must be "patient" or "visit" (got {json.dumps(kind, ensure_ascii=False)})')
        return kind
    if "patient_id" in record:
        return "visit"
    if "name" in record and "dob" in record:
        return "patient"
    return None


def read_json_lines(source: TextLines) -> Iterator[tuple[int, tuple[str, tuple[TextLines, Any] | None]]]:
    """(line number, (text, how to read it again or None)) for each non-blank line of a JSON Lines file, read as
    they come."""
    found = False
    for number, line, where in source:
        if not line.strip():
            continue
        yield number, (line, None if where is None else (source, where))
        found = True
    if not found:
        raise InputError(f"import: {source.path} holds no records")


def import_file(store: Store, path: Path, user: str | None = None, *, allow_duplicates: bool = False,
                progress: Progress | None = None) -> ImportResult:
    """Import a JSON Lines file of input records, or a CSV that `tpi export csv` wrote.

    PROGRESS(what, done, total) is told of each line checked and each visit written.
    """
    # a clinic history is many long-lived objects and no cycles: the collector would rescan them again
    # and again (45% of a 50,000-visit import, measured)
    # the file stays open until the import ends: a visit line's text is read again from it (see TextLines)
    with paused(), contextlib.ExitStack() as open_files:
        pending: dict[int, _VisitEntry] = {}
        try:
            if path.suffix.lower() == ".csv":
                patients, visits = _csv_entries(path)
            else:
                source = open_files.enter_context(TextLines(path, "import"))
                patients, visits = _json_lines_entries(read_json_lines(source), progress, texts=True, pending=pending)
            return _import(store, patients, visits, user, allow_duplicates, progress, pending)
        except (InputError, RefusedError) as error:
            raise _first_unreadable(pending) or error from None


def import_records(store: Store, records: list[tuple[int, dict[str, Any]]], user: str | None = None, *,
                   allow_duplicates: bool = False) -> ImportResult:
    """Validate every record, run the safety checks in date order, then write all or nothing.

    RECORDS are (line number, record) pairs. Errors name the line.
    """
    with paused():
        return _import(store, *_json_lines_entries(records), user, allow_duplicates)


@cache
def _visit_line() -> type[VisitInput]:
    """A visit input as a line of a JSON Lines file may carry it: with "type": "visit" or without a type."""
    from pydantic import create_model

    return create_model("VisitLine", __base__=VisitInput, type=(Literal["visit"], "visit"))


# The end of a key in JSON text: its closing quote, then the colon. Each key written ends so exactly once; a
# string's text may end so too (an escaped quote, a value starting with a colon), never less often.
_KEY_END = re.compile(r'"\s*:')


def _visit_from_line(text: str) -> VisitInput | None:
    """The visit on a line of a JSON Lines file, validated straight from its text (no parse into dicts and back:
    a tenth of an import), or None when the line is anything else: that line is read the full way, which takes
    a patient, or names the problem exactly as it always has. A line taken here is one the full way takes whole,
    as the same visit (tests/test_import_lines.py holds the two to each other on hostile lines)."""
    if '"patient_id"' not in text or "\\u" in text or "\t" in text or _UNPRINTABLE.search(text):
        return None  # escapes, tabs and unprintable text are looked at the full way (see `unprintable`)
    try:
        visit = _visit_line().model_validate_json(text, strict=True)
        # pydantic keeps the last of a key given twice: the keys it took must be every key written, else the
        # line is parsed again to find out (a colon in a text is counted as a key end, never the other way)
        if _keys_taken(visit) != _key_ends(text):
            json.loads(text, object_pairs_hook=_unique_keys)
        return visit
    except Exception:  # noqa: BLE001 - whatever it is, the full reading meets it again and reports it
        return None


def _key_ends(text: str) -> int:
    """How many times TEXT holds a key's end (see _KEY_END): counted as plain '":' when no quote is followed by
    white space (a key's end then has no space before its colon), which is 5x faster than the pattern."""
    if '" ' in text or '"\t' in text or '"\n' in text or '"\r' in text:
        return len(_KEY_END.findall(text))
    return text.count('":')


def _keys_taken(visit: VisitInput) -> int:
    """How many keys the objects of VISIT's line gave: each object of a visit line is one of these models."""
    count = len(visit.model_fields_set)
    for site in visit.sites:
        count += len(site.model_fields_set)
    for agent in visit.agents:
        count += len(agent.model_fields_set)
        if agent.concentration is not None:
            count += len(agent.concentration.model_fields_set)
    for score in visit.functional_scores:
        count += len(score.model_fields_set)
    if visit.prior_relief is not None:
        count += len(visit.prior_relief.model_fields_set)
    return count


@cache
def _visit_key() -> type:
    """Where a visit line belongs: its patient and date, read as the full visit reads them (the same types,
    pattern, whitespace stripping and strictness) and nothing else of the line. Made on first use: a model class
    costs 4 ms to define, which a command that imports nothing would pay (log-visit imports this module)."""
    from pydantic import BaseModel, ConfigDict, Field

    class VisitKey(BaseModel):
        model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, strict=True)

        patient_id: Annotated[str, Field(pattern=PATIENT_ID_PATTERN)]
        date: dt.date
        type: Literal["visit"] = "visit"

    return VisitKey


def _placed(text: str) -> Any:
    """The patient and date of a visit line, or None when the line is not plainly a visit (read the full way)."""
    if '"patient_id"' not in text:
        return None
    try:
        return _visit_key().model_validate_json(text)
    except Exception:  # noqa: BLE001 - whatever it is, the full reading meets it and reports it
        return None


def _visit_of_line(line: int, text: str) -> VisitInput:
    """The visit on a visit line, or InputError exactly as the full reading words it."""
    entered = _visit_from_line(text)
    if entered is not None:
        return entered
    kind, data = _kind_and_data(line, parse_json(text, f"line {line}"))
    if kind != "visit":  # never: a line read as a visit's key has "patient_id" and no other "type"
        raise InputError(f"line {line}: cannot be read both as a visit and as a {kind}")
    return validated(VisitInput, data, f"line {line}")


def _kind_and_data(line: int, record: Any) -> tuple[str | None, dict[str, Any]]:
    """What RECORD, the JSON value of line LINE, is (see record_kind) and its data without "type"."""
    if not isinstance(record, dict):
        raise InputError(f"line {line}: expected a JSON object")
    try:
        kind = record_kind(record)
    except InputError as error:
        raise InputError(f"line {line}: {error}") from None
    data = dict(record)
    data.pop("type", None)
    return kind, data


@dataclass(slots=True)
class _VisitEntry:
    """A visit line, placed. A JSON Lines visit keeps its text and only its patient and date are read at first: the
    whole line is validated once, when its patient's turn comes. A 50,000-visit import holds 50,000 short texts, not
    50,000 models (5.5 KB each, measured), and validates each line once, not twice (a tenth of the import)."""

    line: int
    patient_id: str
    date: dt.date
    entered: VisitInput | None = None
    # the line's text, or where to read it again (a line of a file is not held: TextLines.again)
    text: str | tuple[TextLines, tuple[int, int, int]] | None = None
    restored: dict[str, Any] | None = None  # id, warnings, overrides, amendments… of an exported record
    lax: bool = False  # TEXT holds a CSV row's record, validated the lax way, and RESTORED (see _csv_entries)

    @classmethod
    def of(cls, line: int, checked: VisitInput, **kept: Any) -> _VisitEntry:
        return cls(line, checked.patient_id, checked.date, **kept)

    def visit_input(self) -> VisitInput:
        if self.entered is not None:
            return self.entered
        text = self.text
        if isinstance(text, tuple):
            source, where = text
            text = source.again(where)
            if text is None:
                raise InputError(f"line {self.line}: {source.path} changed while it was being imported; import it "
                                 "again")
        if self.lax:  # a CSV row's: its record, validated as it was on reading, and what restores it
            kept = json.loads(text or "{}")
            self.restored = kept["restored"]
            return validated(VisitInput, kept["visit"], f"line {self.line}", strict=False)
        entered = _visit_of_line(self.line, text or "")
        if (entered.patient_id, entered.date) != (self.patient_id, self.date):  # never: both read it the same way
            raise InputError(f"line {self.line}: patient_id and date read two ways; import it with `tpi log-visit "
                             "--from-file`")
        return entered


def _first_unreadable(pending: dict[int, _VisitEntry]) -> InputError | None:
    """The first of the PENDING visit lines (not yet validated) that does not validate, in the file's order.

    An import names the first line it cannot read, whatever else it found after it: a refusal, an unknown
    patient, or a bad line that a patient's turn met first. Only called once the import is refused.
    """
    for line in sorted(pending):
        try:
            pending[line].visit_input()
        except InputError as error:
            return error
    return None


def _json_lines_entries(records: Iterable[tuple[int, Any]], progress: Progress | None = None, *, texts: bool = False,
                        pending: dict[int, _VisitEntry] | None = None,
                        ) -> tuple[list[tuple[int, Patient]], list[_VisitEntry]]:
    """Patients and visits of RECORDS, (line number, record) pairs, or with TEXTS (line number, JSON text): a
    line that is plainly a visit is only placed (see _VisitEntry) and added to PENDING."""
    patients: list[tuple[int, Patient]] = []
    visits: list[_VisitEntry] = []
    for line, record in records:
        if progress is not None:
            progress("Checking lines", line, None)
        if texts:
            record, kept = record
            key = _placed(record)
            if key is not None:
                entry = _VisitEntry(line, key.patient_id, key.date, text=kept or record)
                visits.append(entry)
                if pending is not None:
                    pending[line] = entry
                continue
            record = parse_json(record, f"line {line}")
        kind, data = _kind_and_data(line, record)
        if kind == "patient":
            if data.pop("amendments", []):  # an empty list, as `patient show --json` prints it, says nothing
                raise InputError(f"line {line}: amendments is computed by tpi and cannot be given; remove it")
            patients.append((line, _validated_line(Patient, data, line)))
        elif kind == "visit":
            visits.append(_VisitEntry.of(line, validated(VisitInput, data, f"line {line}"), text=input_json(data)))
        else:
            raise InputError(
                f"line {line}: cannot tell a patient from a visit; a visit has patient_id, a patient has name "
                "and dob (or give \"type\")"
            )
    return patients, visits


def _csv_entries(path: Path) -> tuple[list[tuple[int, Patient]], list[_VisitEntry]]:
    """The patients and visits of a CSV that `tpi export csv` wrote, its rows read as they come. Each visit row is
    validated now and kept as the JSON text of its record, validated again the same way when its patient's turn
    comes (50,000 models held at once took 690 MB); a patient is kept once, and again on a row that differs."""
    from tpi_cli.exports import spreadsheet

    rows = spreadsheet.read(read_text_lines(path, "import", encoding="utf-8-sig", newline=""))
    patients: list[tuple[int, Patient]] = []
    first_rows: dict[str, tuple[int, Patient]] = {}
    visits: list[_VisitEntry] = []
    while True:
        try:
            row = next(rows, None)
        except ValueError as error:
            raise InputError(f"import: {path}: {error}") from None
        if row is None:
            break
        line, cells = row
        try:
            patient, visit, restored = spreadsheet.read_row(cells)
        except ValueError as error:
            raise InputError(f"line {line}: {error}") from None
        # CSV cells are text: the reader converts them, so these are validated the lax way
        checked = _validated_line(Patient, patient, line, strict=False)
        first = first_rows.setdefault(checked.id.casefold(), (line, checked))
        if first[0] == line or _details(first[1]) != _details(checked):  # _import names the two lines
            patients.append((line, checked))
        if visit is not None:  # a row without a visit is a patient without visits
            entered = _validated_line(VisitInput, visit, line, strict=False)
            # its record and its own id, weight and overrides, as one text (read by visit_input)
            visits.append(_VisitEntry.of(line, entered, text=input_json({"visit": visit, "restored": restored}),
                                         lax=True))
    if not first_rows:
        raise InputError(f"import: {path} holds no rows")
    return patients, visits


def _details(patient: Patient) -> dict[str, Any]:
    """What a patient record says, without the history of how it came to say it."""
    return patient.model_dump(exclude={"amendments"})


def _import(store: Store, patient_lines: list[tuple[int, Patient]], entries: list[_VisitEntry],
            user: str | None, allow_duplicates: bool = False, progress: Progress | None = None,
            pending: dict[int, _VisitEntry] | None = None) -> ImportResult:
    """PENDING: the visit lines not validated yet, each let go of once it is."""
    patients: dict[str, tuple[int, Patient]] = {}
    for line, patient in patient_lines:
        earlier = patients.get(patient.id.casefold())
        if earlier is not None and _details(earlier[1]) != _details(patient):
            raise InputError(f"line {line}: patient {patient.id} differs from line {earlier[0]} "
                             f"({earlier[1].id}; ids are the same ignoring case)")
        patients.setdefault(patient.id.casefold(), (line, patient))

    with store.transaction():
        known = {p.id: p for p in store.patients()}
        known_ids = {pid.casefold(): pid for pid in known}
        new_patients = []
        skipped = 0
        for line, patient in patients.values():
            stored_id = known_ids.get(patient.id.casefold())
            if stored_id is not None:
                if stored_id != patient.id or _details(known[stored_id]) != _details(patient):
                    raise InputError(
                        f"line {line}: id: patient {stored_id} already exists with other details; "
                        f"change it with `tpi patient update {stored_id}`"
                    )
                skipped += 1
                continue
            new_patients.append(patient)
            known[patient.id] = patient
            known_ids[patient.id.casefold()] = patient.id

        by_patient: dict[str, list[_VisitEntry]] = {}
        for entry in entries:
            if entry.patient_id not in known:
                raise InputError(
                    f"line {entry.line}: patient_id: no patient {entry.patient_id!r} in the store or the file"
                )
            by_patient.setdefault(entry.patient_id, []).append(entry)
        # shared with a forked copy only when the entries are places in a file: the copy would copy, page by page,
        # every text or model it read (a CSV's rows are held as texts; as models, 50,000 took 690 MB and the copy
        # 440 more)
        shareable = store.kind == "tinydb" and all(entry.entered is None and not entry.lax for entry in entries)
        entries.clear()  # held by patient from here on, each patient's let go once written

        settings = Settings(store.settings())
        stamp, who = now(), user or store.user()
        total = sum(len(group) for group in by_patient.values())

        def checked(pid: str) -> list[Visit]:
            """PID's visits, checked in date order against that patient's history only."""
            group = by_patient[pid]
            stored = store.visits(pid, voided=True)  # a voided visit keeps its id and number
            # each visit needs only the trailing year of the patient's visits: kept as a window
            window = [v for v in stored if v.voided is None]
            taken = {pid: {v.id for v in stored}}
            numbers = {pid: store.next_visit_number(pid)}
            # what each visit is (see duplicate_key) → where it already is: a stored visit id or a line
            seen = {duplicate_key(v): f"the stored visit {v.id}" for v in window}
            facts = VisitFacts()
            visits = []
            for entry in sorted(group, key=lambda e: (e.date, e.line)):
                entered = entry.visit_input()
                # a restored record whose id is taken is reported as that, below
                restoring_taken = entry.restored is not None and entry.restored["id"] in taken[pid]
                if not allow_duplicates and not restoring_taken:
                    key = duplicate_key(entered)
                    if key in seen:
                        raise InputError(
                            f"line {entry.line}: duplicate: this visit (same patient, date, sites, agents and "
                            f"pain) is already {seen[key]}; remove the line, or import with --allow-duplicates "
                            "if it is a second visit"
                        )
                    seen[key] = f"on line {entry.line}"
                start = entered.date - YEAR
                window = [v for v in window if v.date > start]
                facts.keep_only(window)
                try:
                    visit = _entry_visit(entry, entered, known[pid], window, settings, numbers, taken, stamp, who,
                                         facts)
                except (InputError, RefusedError) as error:
                    raise type(error)(f"line {entry.line}: {error}") from None
                window.append(visit)
                visits.append(visit)
            return visits

        done = 0

        def built(share: bool) -> Iterator[Visit | Encoded]:
            """Each patient's visits as they are checked: one patient's models in memory at a time, handed to the
            store as they come. With a second core and enough visits to be worth it, a forked copy of this
            process checks and encodes some of the patients' visits meanwhile (see tpi_cli.forked)."""
            nonlocal done
            order = list(by_patient)
            results = shared_map(checked, order, sent=lambda visits: [encoded(v) for v in visits],
                                 share=share and total >= SHARED_FROM_VISITS)
            with contextlib.closing(results):
                for pid, (_, visits) in zip(order, results, strict=True):
                    group = by_patient.pop(pid)  # let go of once written
                    if pending is not None:  # each line checked, by either process: no longer pending
                        for entry in group:
                            pending.pop(entry.line, None)
                    done += len(visits)
                    if progress is not None:
                        progress("Checking and writing visits", done, total)
                    yield from visits

        # A folder store stages each patient's file as their visits come. A PostgreSQL store streams the batch
        # into COPY on its one connection, which the checks above cannot read through meanwhile: built first
        # (as models, which COPY takes).
        if store.kind != "tinydb":
            store.write_batch(new_patients, list(built(False)))
        else:
            visits = built(shareable)
            try:
                store.write_batch(new_patients, visits)
            finally:
                visits.close()  # a write that failed half way: the copy, if any, is ended and waited for now
    return ImportResult(patients=len(new_patients), visits=done, skipped_patients=skipped)


# An import shares its checks with a forked copy from this many visits on: below it the fork and the copy's first
# touches of memory cost more than they save.
SHARED_FROM_VISITS = 1000


def _entry_visit(entry: _VisitEntry, entered: VisitInput, patient: Patient, window: list[Visit], settings: Settings,
                 numbers: dict[str, int], taken: dict[str, set[str]], stamp: dt.datetime, who: str,
                 facts: VisitFacts) -> Visit:
    """The stored visit for ENTRY: a new id, or the id and history of an exported record."""
    pid = patient.id
    restored = entry.restored
    if restored is None:
        visit = build_visit(patient, with_log_defaults(entered, settings), window, settings,
                            visit_id=format_visit_id(pid, numbers[pid]), recorded_at=stamp, recorded_by=who,
                            how_to_override=_LINE_OVERRIDE, facts=facts)
        numbers[pid] += 1
        taken[pid].add(visit.id)
        return visit
    parts = split_visit_id(restored["id"])
    if parts is None or parts[0] != pid:
        raise InputError(f"visit_id: {restored['id']!r} is not a visit id of patient {pid}")
    if restored["id"] in taken[pid]:
        raise InputError(f"visit_id: {restored['id']} is already in the store or the file")
    if not isinstance(restored["overrides"], list):
        raise InputError("overrides: expected the JSON list tpi exports")
    overrides = [validated(Override, o, "overrides") for o in restored["overrides"]]
    weight = restored["weight_kg"]
    if weight is not None and not (isinstance(weight, float) and 0 < weight <= 400):
        raise InputError(f"visit_weight_kg: {weight!r} must be more than 0 and at most 400 kg")
    # checked and stored with the visit's own weight of that day (as amendments are), not today's; what tpi
    # computes or records about the writing (CPT, warnings, recorded_at/by) is made here, never read
    visit = build_visit(patient.model_copy(update={"weight_kg": weight}), entered, window, settings,
                        visit_id=restored["id"], recorded_at=stamp, recorded_by=who, earlier_overrides=overrides,
                        how_to_override=_LINE_OVERRIDE, facts=facts)
    numbers[pid] = max(numbers[pid], parts[1] + 1)
    taken[pid].add(visit.id)
    return visit


_LINE_OVERRIDE = 'to proceed anyway add "override_reason": "why" to the line'


def duplicate_key(visit: VisitInput | Visit) -> tuple:
    """What makes two visits the same visit: patient, date, sites, agents and pain (order aside)."""
    sites = sorted((s.muscle, s.side, s.points) for s in visit.sites)
    agents = sorted((a.drug, a.concentration.value if a.concentration else 0.0,
                     a.concentration.unit if a.concentration else "", a.volume_ml, a.epinephrine)
                    for a in visit.agents)
    return (visit.patient_id, visit.date, tuple(sites), tuple(agents), visit.pain_before, visit.pain_after)


def _validated_line(model: type, data: dict[str, Any], line: int, *, strict: bool = True):
    return validated(model, data, f"line {line}", strict=strict)
