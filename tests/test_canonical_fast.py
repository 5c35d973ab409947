"""The canonical JSON that batch writes make with orjson is byte for byte the canonical JSON of the audit trail
(json.dumps sorted, compact, UTF-8), which `audit verify` recomputes: any difference would be a false alarm of
tampering on an untouched store."""

from __future__ import annotations

import math
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tpi_cli import audit, models

texts = st.text(st.characters(exclude_categories=("Cs",)))  # a lone surrogate is never UTF-8 text
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False),  # where the two write floats differently
    st.sampled_from([1e-4, 1e-5, 9.99e-5, 1e-7, 5e-324, 1e15, 1e16, 1e21, -0.0, 0.0, 1e-05, 123456.789]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_the_fast_canonical_json_is_the_canonical_json(value):
    assert audit.canonical_written(value) == audit.canonical(value)


@pytest.mark.parametrize("value", [1e-5, 0.00001234, 1e-7, {"b": 1e-6, "a": [2e-5]}, 2**64, {1: "x"}])
def test_what_orjson_writes_its_own_way_is_written_the_json_way(value):
    assert audit.canonical_written(value) == audit.canonical(value)


def _bounded(metadata) -> bool:
    """A bound among METADATA, or among the metadata of a Field(...) in it."""
    return any(getattr(m, bound, None) is not None or _bounded(getattr(m, "metadata", ()))
               for m in metadata for bound in ("gt", "ge", "lt", "le"))


def _floats(annotation, bounded: bool) -> typing.Iterator[tuple[bool, typing.Any]]:
    """(bounded, part) for each float in ANNOTATION, and each model it names (as (False, model))."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *metadata = typing.get_args(annotation)
        yield from _floats(inner, bounded or _bounded(metadata))
    elif annotation is float:
        yield bounded, float
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield False, annotation
    else:
        for arg in typing.get_args(annotation):
            yield from _floats(arg, bounded)


def _float_fields(model: type[BaseModel], seen: set) -> typing.Iterator[tuple[str, bool]]:
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        for bounded, part in _floats(info.annotation, _bounded(info.metadata)):
            if part is float:
                yield f"{model.__name__}.{name}", bounded
            else:
                yield from _float_fields(part, seen)


def test_every_float_a_stored_record_holds_is_bounded_so_none_is_nan_or_infinite():
    """canonical_written needs finite floats (orjson writes NaN as null): every float field of a stored record is
    bounded, which refuses NaN and the infinities; a float field added without bounds fails here."""
    found = dict(_float_fields(models.Visit, set())) | dict(_float_fields(models.Patient, set()))
    assert {"Visit.inr", "Agent.dose_mg", "Patient.weight_kg", "Site.volume_ml", "Concentration.value"} <= set(found)
    unbounded = {name for name, bounded in found.items() if not bounded}
    # computed as round(concentration × volume, 3), both bounded
    assert unbounded == {"Agent.dose_mg"}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_record_refuses_nan_and_infinity(bad):
    with pytest.raises(ValidationError):
        models.Patient.model_validate({"id": "P1", "name": "A", "dob": "1970-01-01", "weight_kg": bad})
    with pytest.raises(ValidationError):
        models.Concentration.model_validate({"value": bad, "unit": "%"})
