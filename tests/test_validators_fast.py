"""The record validators made cheaper (they run for every visit read or imported) accept, refuse and make
exactly what they did before: each is held here to its former wording, kept below as the reference."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tpi_cli.models import (
    ICD10_PATTERN,
    MAX_NOTES,
    Agent,
    FunctionalScore,
    Visit,
    VisitInput,
    _VisitFields,
    problems,
)

# --- blank text is no text: a wrap validator inside `| None` (was a before validator outside it) -----------------

BLANK_FIELDS = ("clinician", "needle", "notes", "skin_prep", "blood_loss", "tolerance", "observation", "disposition",
                "conservative_care", "risks_discussed", "anticoagulant")
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class Before(BaseModel):
    """The eleven fields as they were declared, with the validator as it was."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    clinician: Annotated[str, Field(max_length=200)] | None = None
    needle: Annotated[str, Field(max_length=200)] | None = None
    notes: Annotated[str, Field(max_length=MAX_NOTES)] | None = None
    skin_prep: ShortText | None = None
    blood_loss: ShortText | None = None
    tolerance: ShortText | None = None
    observation: ShortText | None = None
    disposition: ShortText | None = None
    conservative_care: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    risks_discussed: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    anticoagulant: ShortText | None = None

    @field_validator(*BLANK_FIELDS, mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value


def test_the_reference_declares_the_blank_fields_as_the_visit_does():
    assert set(Before.model_fields) == set(BLANK_FIELDS)
    before = Before.model_json_schema()["properties"]
    for model in (Visit, VisitInput):
        assert {name: model.model_json_schema()["properties"][name] for name in BLANK_FIELDS} == before


SPACES = "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) + "\u200b\ufeff"
BLANKISH = st.text(st.sampled_from(SPACES + "ab"), max_size=6)
VALUES = st.one_of(st.none(), BLANKISH, st.text(max_size=8), st.integers(), st.booleans(), st.floats(),
                   st.lists(st.text(max_size=2), max_size=2), st.builds(lambda n, c: c * n, st.sampled_from(
                       [199, 200, 201, 1999, 2000, 2001]), st.sampled_from(["x", " ", "é"])))


def outcome(model: type[BaseModel], data: dict[str, Any], name: str, strict: bool = False,
            as_json: bool = False) -> Any:
    """What MODEL makes of NAME in DATA, or the problems it names."""
    try:
        if as_json:
            made = model.model_validate_json(json.dumps(data), strict=strict)
        else:
            made = model.model_validate(data, strict=strict)
    except ValidationError as error:
        return "refused", problems(error)
    return "made", getattr(made, name)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(BLANK_FIELDS), VALUES)
def test_blank_text_is_none_as_before(name, value):
    assert outcome(Visit, {**VISIT, name: value}, name) == outcome(Before, {name: value}, name)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(BLANK_FIELDS), st.one_of(st.none(), BLANKISH, st.text(max_size=8), st.integers()))
def test_blank_text_in_a_strictly_read_input_line_is_none_as_before(name, value):
    expected = outcome(Before, {name: value}, name, strict=True, as_json=True)
    assert outcome(VisitInput, {**INPUT, name: value}, name, strict=True, as_json=True) == expected


# --- ICD-10-CM codes: codes seen well written are known by a look-up -------------------------------------------


def icd10_before(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    codes = []
    for raw in value:
        code = str(raw).strip().upper()
        if not ICD10_PATTERN.match(code):
            raise ValueError(f"{raw!r} is not an ICD-10-CM code; write it like M79.18 or M62.830")
        codes.append(code)
    return list(dict.fromkeys(codes))


def run(check, value):
    try:
        made = check(value)
    except ValueError as error:
        return "refused", str(error)
    return "made", made, [type(code) for code in made] if isinstance(made, list) else type(made)


class Text(str):
    """A str that is not exactly a str: never taken from the known codes."""


CODE_LIKE = st.from_regex(ICD10_PATTERN, fullmatch=True)
CODES = st.one_of(CODE_LIKE, CODE_LIKE.map(str.lower), CODE_LIKE.map(lambda c: f" {c}\t"), st.text(max_size=8),
                  st.integers(), st.none(), CODE_LIKE.map(Text), st.sampled_from(["M79.1", "m79.1", "M79.1\n", "Z99"]),
                  st.lists(CODE_LIKE, max_size=1))


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.lists(CODES, max_size=5), CODES, st.dictionaries(st.text(max_size=2), CODES, max_size=2)))
def test_icd10_codes_are_checked_as_before(value):
    for _ in range(2):  # the second time, the codes seen well written are known
        assert run(_VisitFields._icd10, value) == run(icd10_before, value)


def test_a_code_written_otherwise_is_still_made_well_written_once_a_twin_is_known():
    assert _VisitFields._icd10(["M62.830"]) == ["M62.830"]
    assert _VisitFields._icd10([" m62.830 ", "M62.830", Text("m62.830")]) == ["M62.830"]
    with pytest.raises(ValueError, match="not an ICD-10-CM code"):
        _VisitFields._icd10(["M62.830", "U07.1"])


# --- values computed by validators: set as BaseModel.__setattr__ sets them -------------------------------------


@pytest.mark.parametrize(("agent", "dose"), [
    ({"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 2, "dose_mg": 999}, 20.0),
    ({"drug": "triamcinolone", "concentration": {"value": 40, "unit": "mg/mL"}, "volume_ml": 0.5}, 20.0),
    ({"drug": "saline", "volume_ml": 2, "dose_mg": 5}, None),
])
def test_an_agents_dose_is_computed_and_counted_as_set(agent, dose):
    made = Agent.model_validate(agent)
    assert made.dose_mg == dose and "dose_mg" in made.model_fields_set
    assert made.model_dump(exclude_unset=True)["dose_mg"] == dose


@pytest.mark.parametrize(("scale", "stored"), [("ndi", "NDI"), ("NDI", "NDI"), ("Ndi", "NDI"), ("VAS", "VAS"),
                                               ("vas", "vas")])
def test_a_known_scale_is_stored_in_capitals(scale, stored):
    made = FunctionalScore.model_validate({"scale": scale, "score": 5})
    assert made.scale == stored and made.model_fields_set == {"scale", "score"}


# --- sites: one site names each of its sides once -----------------------------------------------------------------


@pytest.mark.parametrize(("sites", "twice"), [
    ([{"muscle": "upper trapezius", "side": "bilateral"}], None),
    ([{"muscle": "upper trapezius", "side": "left"}], None),
    ([{"muscle": "upper trapezius", "side": "bilateral"}, {"muscle": "upper trapezius", "side": "left"}],
     "upper trapezius left"),
    ([{"muscle": "upper trapezius", "side": "left"}, {"muscle": "upper trapezius", "side": "left"}],
     "upper trapezius left"),
    ([{"muscle": "upper trapezius", "side": "left"}, {"muscle": "upper trapezius", "side": "right"}], None),
])
def test_a_side_listed_twice_is_refused_and_one_site_never_is(sites, twice):
    result = outcome(Visit, {**VISIT, "sites": sites}, "sites")
    if twice is None:
        assert result[0] == "made"
    else:
        assert result == ("refused", [f"{twice} is listed twice; give it once with its total points"])


VISIT = {"id": "P001-V1", "patient_id": "P001", "date": "2026-01-05", "sites": [{"muscle": "upper trapezius",
         "side": "left"}], "pain_before": 6, "pain_after": 2}
INPUT = {key: value for key, value in VISIT.items() if key != "id"}
