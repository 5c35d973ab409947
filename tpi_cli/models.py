"""Records: the patient, the visit and what a person enters for a visit (pydantic v2, pure).

The same models validate input, are stored, and are printed by ``--json``
(``model_dump(mode="json")``), so a record has one shape everywhere.
"""

# No `from __future__ import annotations` here: pydantic would evaluate each field's annotation from its text
# (an eval and a compile per field), and rebuilding a deferred model does that again (~6 ms of every command that
# validates a visit, measured); written as objects they are evaluated once, as the class body runs.

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)

from tpi_cli import vocab

# Starts with a letter or digit: an id is also a file name and a command-line word, so never '.', '..',
# '--' or '-rf'.
PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
# ICD-10-CM: a letter, two characters, then an optional dot and up to four more (e.g. M79.18, M62.830).
ICD10_PATTERN = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
EARLIEST_DATE = dt.date(1900, 1, 1)

# Functional scales and their score ranges (clinical-reference.md §7); other named scales are free.
FUNCTION_SCALES: dict[str, tuple[float, float]] = {
    "NDI": (0, 50),
    "ODI": (0, 100),
    "PSFS": (0, 10),
    "PDI": (0, 70),
    "PGIC": (1, 7),
}

Side = Literal["left", "right", "bilateral", "midline"]
Sex = Literal["female", "male", "other", "unknown"]
Payer = Literal["medicare", "commercial", "none"]
Consent = Literal["verbal", "written"]
ConcentrationUnit = Literal["%", "mg/mL"]
PainScore = Annotated[int, Field(ge=0, le=10, description="numeric rating scale, 0-10")]
NonBlank = Annotated[str, Field(min_length=1, max_length=2000)]
# Bounds a PDF can print and a listing can show: a clinic's real records stay far below them.
Allergy = Annotated[str, Field(min_length=1, max_length=200)]
Complication = Annotated[str, Field(min_length=1, max_length=500)]
MAX_ALLERGIES = 50
MAX_COMPLICATIONS = 50
MAX_DIAGNOSES = 12  # a claim carries at most 12 diagnosis codes (CMS-1500 box 21)
MAX_FUNCTIONAL_SCORES = 10
MAX_NOTES = 20000


_CLOCK = re.compile(r"^(?P<h>[01]?[0-9]|2[0-3]):(?P<m>[0-5][0-9])$")


def _clock_time(value: Any) -> Any:
    """A time of day written as HH:MM (24-hour clock); anything else is refused, never guessed."""
    if isinstance(value, dt.time):
        return value
    match = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a time; write it as HH:MM on the 24-hour clock, e.g. 09:30 or 14:05")
    return dt.time(int(match["h"]), int(match["m"]))


# Stored and printed as "HH:MM": the minute the clinician gave, no seconds invented.
ClockTime = Annotated[
    dt.time,
    BeforeValidator(_clock_time),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": "^([01]?[0-9]|2[0-3]):[0-5][0-9]$",
                    "description": "time of day, HH:MM (24-hour clock)"}),
]


# Trigger-point examination findings (clinical-reference.md §1, §9; LCD-2024 asks for at least 2).
FINDINGS = ("taut band", "hypersensitive spot", "local twitch", "referred pain", "reproduces usual pain",
            "palpable nodule")
Finding = Literal["taut band", "hypersensitive spot", "local twitch", "referred pain", "reproduces usual pain",
                  "palpable nodule"]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
_LAST_DOSE = re.compile(r"^\d{4}-\d{2}-\d{2}( ([01][0-9]|2[0-3]):[0-5][0-9])?$")


def _last_dose(value: Any) -> Any:
    """A date, or a date and time, as the clinician wrote it; refused unless it is one of the two forms."""
    if not isinstance(value, str) or not _LAST_DOSE.match(value.strip()):
        raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD or 'YYYY-MM-DD HH:MM'")
    value = value.strip()
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"{value!r} is not a real date; write it as YYYY-MM-DD or 'YYYY-MM-DD HH:MM'") from None
    _not_future(day, "last dose")
    return value


LastDose = Annotated[str, BeforeValidator(_last_dose),
                     WithJsonSchema({"type": "string", "pattern": _LAST_DOSE.pattern,
                                     "description": "YYYY-MM-DD or YYYY-MM-DD HH:MM"})]


def today() -> dt.date:
    return dt.date.today()


def _not_future(value: dt.date, what: str) -> dt.date:
    if value > today():
        raise ValueError(f"{what} {value.isoformat()} is in the future; give today's date or earlier")
    if value < EARLIEST_DATE:
        raise ValueError(f"{what} {value.isoformat()} is before {EARLIEST_DATE.year}; check the year")
    return value


def empty_list() -> Any:
    """A list field's default of []: a fresh list, not a deep copy of a shared one, which pydantic makes of an
    `= []` default on every validation (two per visit read or imported); the schema still says the default."""
    return Field(default_factory=_new_list, json_schema_extra={"default": []})


def _new_list() -> list[Any]:
    # a Python function, not the builtin `list`: pydantic reads a default factory's signature, and a builtin's is
    # parsed from its text by `tokenize`, whose import and one large regex cost every command ~3 ms
    return []


def constructed(cls: type[Any], values: dict[str, Any]) -> Any:
    """CLS from VALUES already validated, holding every field of CLS: the model ``cls.model_construct(**values)``
    makes, without its per-field alias and default look-ups (an import builds 50,000 visits so: 24 -> 9 µs each)."""
    model = cls.__new__(cls)
    fields = {name: values[name] for name in cls.__pydantic_fields__}
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__pydantic_fields_set__", set(fields))
    object.__setattr__(model, "__pydantic_extra__", None)  # every record forbids extra keys
    object.__setattr__(model, "__pydantic_private__", None)
    return model


M = TypeVar("M", bound=BaseModel)


def built(model: type[M]) -> type[M]:
    """MODEL, its validator built now. A model's build is deferred to its first use (a command builds only what it
    validates); an adapter over a model not yet built would generate the model's schema inside its own and leave
    the model to generate it again when it is used itself (~3 ms of log-visit, measured)."""
    model.model_rebuild()
    return model


class Record(BaseModel):
    """Strict about keys: an unknown key is bad input, named in the error."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Override(Record):
    check: str
    reason: NonBlank


class Amendment(Record):
    at: dt.datetime
    by: str
    reason: NonBlank | None
    changes: dict[str, dict[str, Any]]


# --- patient -------------------------------------------------------------------------------------


class Patient(Record):
    id: Annotated[str, Field(pattern=PATIENT_ID_PATTERN, description="letters, digits, . _ - (1-32)")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    dob: dt.date
    sex: Sex = "unknown"
    weight_kg: Annotated[float, Field(gt=0, le=400)] | None = None
    allergies: Annotated[list[Allergy], Field(max_length=MAX_ALLERGIES)] = empty_list()
    anticoagulated: bool = False
    diabetic: bool = False
    pregnant: bool = False
    payer: Payer | None = None
    # For systems that need a name's parts (US Core Patient); `name` stays the printed form, never derived.
    family: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    given: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=5)] = empty_list()
    # The EHR's medical record number, matched on `tpi import fhir`; its system is the fhir.mrn_system setting.
    mrn: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    # every `patient update` keeps what it replaced; computed by tpi, never read from input
    amendments: list[Amendment] = empty_list()

    @field_validator("dob")
    @classmethod
    def _dob_real(cls, value: dt.date) -> dt.date:
        return _not_future(value, "date of birth")

    @field_validator("allergies")
    @classmethod
    def _unique_allergies(cls, value: list[str]) -> list[str]:
        # 'Sulfite' and 'sulfite' are one allergy: keep it once, as first written
        return list({allergy.casefold(): allergy for allergy in reversed(value)}.values())[::-1]


# --- visit parts ---------------------------------------------------------------------------------


class Site(Record):
    muscle: str
    side: Side
    points: Annotated[int, Field(ge=1, le=20)] = 1
    # what was injected here (over both sides when bilateral), mL; null when not given (clinical-reference.md §1)
    volume_ml: Annotated[float, Field(gt=0, le=100)] | None = None

    @field_validator("muscle")
    @classmethod
    def _known_muscle(cls, value: str) -> str:
        # stored records may hold a group name an earlier version accepted; VisitInput refuses it
        return vocab.stored_muscle(value).name

    @model_validator(mode="after")
    def _side_fits_muscle(self) -> Self:
        paired = vocab.muscles()[self.muscle].paired
        if paired and self.side == "midline":
            raise ValueError(f"{self.muscle} is paired: give the side as left, right or bilateral")
        if not paired and self.side != "midline":
            raise ValueError(f"{self.muscle} is a midline muscle: give the side as midline")
        return self

    @property
    def side_pairs(self) -> tuple[tuple[str, str], ...]:
        """(muscle, side) for each side injected: bilateral is left and right."""
        if self.side == "bilateral":
            return ((self.muscle, "left"), (self.muscle, "right"))
        return ((self.muscle, self.side),)


def side_pairs(sites: list[Site]) -> set[tuple[str, str]]:
    """Every (muscle, side) injected at SITES; left and right of a muscle are two."""
    # Site.side_pairs spelled out: the checks ask this of every earlier visit in the year, for each new one
    pairs = set()
    for site in sites:
        if site.side == "bilateral":
            pairs.add((site.muscle, "left"))
            pairs.add((site.muscle, "right"))
        else:
            pairs.add((site.muscle, site.side))
    return pairs


class Concentration(Record):
    value: Annotated[float, Field(gt=0, le=1000)]
    unit: ConcentrationUnit

    @property
    def mg_per_ml(self) -> float:
        # X % = 10·X mg/mL (clinical-reference.md §4)
        return self.value * 10 if self.unit == "%" else self.value


class AgentInput(Record):
    drug: str
    concentration: Concentration | None = None
    volume_ml: Annotated[float, Field(gt=0, le=100)]
    epinephrine: bool = False

    @field_validator("drug")
    @classmethod
    def _known_drug(cls, value: str) -> str:
        return vocab.find_drug(value).name

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        drug = vocab.drugs()[self.drug]
        if self.concentration is None and drug.drug_class != "other":
            raise ValueError(
                f"{self.drug} needs a concentration, e.g. '{self.drug} {drug.strengths[0]:g}{drug.unit} 2 mL'"
            )
        if self.concentration is not None and self.concentration.unit == "%" and self.concentration.value > 100:
            raise ValueError(f"{self.drug} concentration {self.concentration.value:g}% is over 100%")
        if self.epinephrine and not drug.has_epinephrine_form:
            raise ValueError(f"{self.drug} is not made with epinephrine; remove 'with epinephrine'")
        return self


class Agent(AgentInput):
    """An agent as stored: the dose in mg is computed from concentration × volume, never typed."""

    dose_mg: float | None = None

    @model_validator(mode="after")
    def _compute_dose(self) -> Self:
        # what BaseModel.__setattr__ does for a plain field, without its look-ups (once per agent read or imported)
        self.__dict__["dose_mg"] = _dose_mg(self)
        self.__pydantic_fields_set__.add("dose_mg")
        return self

    @classmethod
    def from_input(cls, agent: AgentInput) -> Self:
        """The stored agent for an already validated input (no second validation)."""
        return constructed(cls, {**agent.__dict__, "dose_mg": _dose_mg(agent)})


def _dose_mg(agent: AgentInput) -> float | None:
    if agent.concentration is None or vocab.drugs()[agent.drug].drug_class == "other":
        return None
    return round(agent.concentration.mg_per_ml * agent.volume_ml, 3)


class PriorRelief(Record):
    pct: Annotated[int, Field(ge=0, le=100, description="relief from the previous injection, %")]
    weeks: Annotated[int, Field(ge=0, le=520, description="how many weeks the relief lasted")]


class FunctionalScore(Record):
    scale: Annotated[str, Field(min_length=1, max_length=30)]
    score: Annotated[float, Field(ge=0, le=1000)]

    @model_validator(mode="after")
    def _in_range(self) -> Self:
        known = self.scale.upper()
        if known in FUNCTION_SCALES:
            if known != self.scale:
                self.scale = known
            low, high = FUNCTION_SCALES[known]
            if not low <= self.score <= high:
                raise ValueError(f"{known} scores run from {low:g} to {high:g}, not {self.score:g}")
        return self


class Signature(Record):
    """The clinician's attestation of a visit note: who signed (configured name, OS user) and when."""

    at: dt.datetime
    by: str
    name: str


class Addendum(Record):
    """Dated text added to a visit after the fact; it never changes what was recorded."""

    at: dt.datetime
    by: str
    text: Annotated[str, Field(min_length=1, max_length=20000)]


class HandoutGiven(Record):
    """An aftercare handout printed for the visit: the procedure note says the patient got one."""

    at: dt.datetime
    by: str
    lang: str
    large_print: bool = False


class Voided(Record):
    """A visit entered in error: kept, marked, and left out of listings, checks, reports and exports."""

    at: dt.datetime
    by: str
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


# --- visit ---------------------------------------------------------------------------------------


def _blank_is_none(value: Any, handler: Any) -> Any:
    """Text that is only spaces is no text: None. Wrapped inside `| None` so that pydantic's core passes a null by
    without calling Python: the eleven fields of every visit read or imported are mostly null."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    return handler(value)


BlankIsNone = WrapValidator(_blank_is_none)
OptionalShortText = Annotated[ShortText, BlankIsNone] | None  # the same as Annotated[str, Field(…), BlankIsNone]


def _icd10_code(raw: Any) -> str:
    code = str(raw).strip().upper()
    if not ICD10_PATTERN.match(code):
        raise ValueError(f"{raw!r} is not an ICD-10-CM code; write it like M79.18 or M62.830")
    return code


# Codes already seen well written (stored records hold few distinct ones): a listing checks each visit's codes
# with a look-up instead of a strip, an upper and a match. Bounded: a code not kept is checked in full.
_WELL_WRITTEN_CODES: set[str] = set()
_MAX_KEPT_CODES = 4096


class _VisitFields(Record):
    """What a person enters about a visit (shared by the input record and the stored visit)."""

    patient_id: Annotated[str, Field(pattern=PATIENT_ID_PATTERN)]
    date: dt.date
    clinician: Annotated[str, Field(max_length=200), BlankIsNone] | None = None
    sites: Annotated[list[Site], Field(min_length=1, max_length=40)]
    pain_before: PainScore
    pain_after: PainScore
    diagnoses: Annotated[list[str], Field(max_length=MAX_DIAGNOSES)] = empty_list()
    ultrasound: bool = False
    needle: Annotated[str, Field(max_length=200), BlankIsNone] | None = None
    twitch: bool | None = None
    complications: Annotated[list[Complication], Field(max_length=MAX_COMPLICATIONS)] = empty_list()
    notes: Annotated[str, Field(max_length=MAX_NOTES), BlankIsNone] | None = None
    follow_up: dt.date | None = None
    prior_relief: PriorRelief | None = None
    functional_scores: Annotated[list[FunctionalScore], Field(max_length=MAX_FUNCTIONAL_SCORES)] = empty_list()
    home_exercise: bool | None = None
    consent: Consent | None = None
    # --- procedure-note fields (clinical-reference.md §1): stored as given, null when not given ---
    procedure_time: ClockTime | None = None
    time_out: bool | None = None  # universal-protocol time-out done before the first needle
    skin_prep: OptionalShortText = None  # e.g. "chlorhexidine"
    aspiration: bool | None = None  # aspirated before each injection (no blood)
    blood_loss: OptionalShortText = None  # e.g. "minimal"
    tolerance: OptionalShortText = None  # how the patient tolerated it
    observation: OptionalShortText = None  # post-procedure check, e.g. "20 min, breath sounds equal"
    disposition: OptionalShortText = None  # e.g. "home, ambulatory, with a driver"
    findings: Annotated[list[Finding], Field(max_length=len(FINDINGS))] = empty_list()  # trigger-point exam (LCD: >= 2)
    conservative_care: Annotated[str, Field(min_length=1, max_length=2000), BlankIsNone] | None = None  # what, how long
    risks_discussed: Annotated[str, Field(min_length=1, max_length=2000), BlankIsNone] | None = None  # at consent
    anticoagulant: OptionalShortText = None  # drug name, e.g. "apixaban"
    anticoagulant_last_dose: LastDose | None = None  # "YYYY-MM-DD" or "YYYY-MM-DD HH:MM"
    inr: Annotated[float, Field(ge=0.5, le=15)] | None = None
    steroid_vial_ml: Annotated[float, Field(gt=0, le=100)] | None = None  # single-dose vial size: JW/JZ

    @field_validator("date")
    @classmethod
    def _date_real(cls, value: dt.date) -> dt.date:
        return _not_future(value, "visit date")

    @field_validator("diagnoses", mode="before")
    @classmethod
    def _icd10(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        known = _WELL_WRITTEN_CODES
        codes = []
        for raw in value:
            if type(raw) is str and raw in known:
                codes.append(raw)
                continue
            code = _icd10_code(raw)
            if code == raw and len(known) < _MAX_KEPT_CODES:
                known.add(code)
            codes.append(code)
        return list(dict.fromkeys(codes))

    @field_validator("findings")
    @classmethod
    def _findings_once(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        if self.follow_up is not None and self.follow_up < self.date:
            raise ValueError(
                f"follow-up {self.follow_up.isoformat()} is before the visit date {self.date.isoformat()}"
            )
        if self.anticoagulant_last_dose is not None and self.anticoagulant_last_dose[:10] > self.date.isoformat():
            raise ValueError(f"anticoagulant last dose {self.anticoagulant_last_dose} is after the visit date "
                             f"{self.date.isoformat()}")
        if len(self.sites) == 1:  # one site names each of its sides once
            return self
        seen: set[tuple[str, str]] = set()
        for site in self.sites:
            for muscle, side in site.side_pairs:
                if (muscle, side) in seen:
                    raise ValueError(f"{muscle} {side} is listed twice; give it once with its total points")
                seen.add((muscle, side))
        return self


class VisitInput(_VisitFields):
    """A visit as a person or a file gives it (``--from-file``, ``import``)."""

    agents: Annotated[list[AgentInput], Field(max_length=10)] = empty_list()
    override_reason: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _muscles_named(self) -> Self:
        for site in self.sites:
            choices = vocab.muscles()[site.muscle].choices
            if choices:
                raise vocab.AmbiguousTermError(site.muscle, choices)
        return self

    @model_validator(mode="after")
    def _site_volumes_add_up(self) -> Self:
        problem = site_volume_problem(self.sites, self.agents)
        if problem:
            raise ValueError(problem)
        return self


def site_volume_problem(sites: list[Site], agents: list[AgentInput]) -> str | None:
    """Why the volumes per site cannot stand beside the agents' volumes, or None when they can.

    Volumes per site that do not add up to what the agents hold would put two totals in one note; the sum is
    taken in decimals, as typed (0.1 + 0.2 mL is 0.3 mL).
    """
    given = [site.volume_ml for site in sites if site.volume_ml is not None]
    if not given:
        return None
    if len(given) != len(sites):
        missing = ", ".join(f"{s.muscle} {s.side}" for s in sites if s.volume_ml is None)
        return (f"sites: a volume is given for {len(given)} of {len(sites)} sites (none for {missing}); give every "
                "site its volume, e.g. 'upper trapezius:left:2:1.5mL', or none")
    on_sites = sum(Decimal(repr(volume)) for volume in given)
    if not agents:
        return (f"sites: the volumes per site add up to {_decimal_text(on_sites)} mL but no agent is given (dry "
                "needling injects nothing); give the agents, or no volumes per site")
    in_agents = sum(Decimal(repr(agent.volume_ml)) for agent in agents)
    if on_sites != in_agents:
        return (f"sites: the volumes per site add up to {_decimal_text(on_sites)} mL but the agents to "
                f"{_decimal_text(in_agents)} mL; give volumes per site that add up to the agents' total")
    return None


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


class Visit(_VisitFields):
    """A visit as stored, with what tpi derived from the input."""

    id: str
    agents: list[Agent] = empty_list()
    # the patient's weight when the visit was logged: the dose limits of that day
    weight_kg: Annotated[float, Field(gt=0, le=400)] | None = None
    cpt: list[str] = empty_list()
    warnings: list[str] = empty_list()
    overrides: list[Override] = empty_list()
    amendments: list[Amendment] = empty_list()
    recorded_at: dt.datetime | None = None
    recorded_by: str | None = None
    signed: Signature | None = None
    addenda: list[Addendum] = empty_list()
    voided: Voided | None = None
    handout_given: list[HandoutGiven] = empty_list()


_VISIT_ID = re.compile(r"^(?P<patient>[A-Za-z0-9][A-Za-z0-9._-]{0,31})-V(?P<n>[0-9]+)$")


def format_visit_id(patient_id: str, number: int) -> str:
    """Visit ids are the patient id and the visit's number for that patient: P001-V3."""
    return f"{patient_id}-V{number}"


def split_visit_id(value: str) -> tuple[str, int] | None:
    match = _VISIT_ID.match(value)
    return (match["patient"], int(match["n"])) if match else None


# Keys a person may not give: tpi computes them.
DERIVED_VISIT_KEYS = ("id", "dose_mg", "weight_kg", "cpt", "warnings", "overrides", "amendments", "recorded_at",
                      "recorded_by", "signed", "addenda", "voided", "handout_given")


def _iso(value: Any) -> str:
    """Dates and times tpi itself puts in a record (now(), a stored date) as the JSON text they stand for."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


_input_encoder = json.JSONEncoder(ensure_ascii=False, default=_iso)  # one encoder for every record of an import


def input_json(data: dict[str, Any]) -> str:
    """DATA as the JSON text an input record is validated from, strictly (`model_validate_json(..., strict=True)`:
    true is not 1, "7" is not 7, 5 is not "5"), so that dates are YYYY-MM-DD text, as in the schemas."""
    return _input_encoder.encode(data)


_BOUND_WORDS = {
    "less_than_equal": "at most", "greater_than_equal": "at least", "greater_than": "more than",
    "less_than": "less than",
}
# What to write instead, by pydantic's error type: never pydantic's own wording.
_TYPE_FIXES = {
    "int_type": "must be a whole number, like 7", "int_parsing": "must be a whole number, like 7",
    "int_from_float": "must be a whole number, like 7",
    "float_type": "must be a number, like 2.5", "float_parsing": "must be a number, like 2.5",
    "finite_number": "must be a finite number, like 2.5",
    "string_type": 'must be text in quotes, like "text"',
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "date_type": "is not a date; write it as YYYY-MM-DD", "date_parsing": "is not a date; write it as YYYY-MM-DD",
    "date_from_datetime_parsing": "is not a date; write it as YYYY-MM-DD",
    "date_from_datetime_inexact": "is not a date; write it as YYYY-MM-DD",
    "datetime_type": "is not a date and time; write it as YYYY-MM-DDTHH:MM:SSZ",
    "datetime_parsing": "is not a date and time; write it as YYYY-MM-DDTHH:MM:SSZ",
    "list_type": "must be a list, like [...]",
    "model_type": "must be an object, like {...}", "model_attributes_type": "must be an object, like {...}",
    "dict_type": "must be an object, like {...}",
    "json_invalid": "is not valid JSON",
}


def _shown(value: Any) -> str:
    """VALUE as it was written in JSON, cut short: what the person gave."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(item: Any) -> str:
    kind, ctx = item["type"], item.get("ctx") or {}
    got = f" (got {_shown(item['input'])})" if "input" in item else ""
    if kind == "extra_forbidden":
        key = str(item["loc"][-1])
        if key in DERIVED_VISIT_KEYS:
            return f"{key} is computed by tpi and cannot be given; remove it"
        return f"unknown key {key!r}; remove it or check its spelling"
    if kind == "missing":
        return "is required"
    if kind in _BOUND_WORDS:
        bound = next(iter(ctx.values()), "")
        return f"must be {_BOUND_WORDS[kind]} {bound}{got}"
    if kind == "string_pattern_mismatch":
        return (f"{_shown(item['input'])} may only hold letters, digits, '.', '_' and '-' (1-32 characters) "
                "and must start with a letter or digit")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}{got}"
    if kind in ("string_too_short", "too_short"):
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum <= 1 else f"needs at least {minimum}{got}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters (got {len(item['input'])})"
    if kind == "too_long":
        return f"may hold at most {ctx.get('max_length')} entries (got {ctx.get('actual_length')})"
    if kind in _TYPE_FIXES:
        return _TYPE_FIXES[kind] + got
    message = item["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return message if kind == "value_error" else f"{message}{got}"


def problems(error: ValidationError, prefix: str = "") -> list[str]:
    """One plain line per problem in a pydantic ValidationError: the field, then what to fix."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"] if part != "__root__")
        field = f"{prefix}.{field}".strip(".") if prefix else field
        message = _message(item)
        lines.append(f"{field}: {message}" if field else message)
    return lines
