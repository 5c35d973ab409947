"""Models built from already validated values (models.constructed) are exactly what pydantic itself makes."""

from __future__ import annotations

import datetime as dt

import pytest

from tpi_cli.models import Agent, AgentInput, Patient, Site, Visit, VisitInput, constructed, side_pairs
from tpi_cli.settings import Settings
from tpi_cli.workflow import build_visit


def _entered() -> VisitInput:
    return VisitInput.model_validate_json(
        '{"patient_id": "P1", "date": "2026-03-02", "sites": [{"muscle": "upper trapezius", "side": "left", '
        '"points": 2, "volume_ml": 2.5}], "agents": [{"drug": "lidocaine", "concentration": {"value": 1, '
        '"unit": "%"}, "volume_ml": 2.5, "epinephrine": true}], "pain_before": 7, "pain_after": 2, '
        '"diagnoses": ["m79.12"], "notes": "  kept  ", "needle": " ", "override_reason": "x"}', strict=True)


def test_constructed_is_what_model_construct_makes():
    agent = AgentInput(drug="lidocaine", concentration={"value": 1, "unit": "%"}, volume_ml=3)
    made = constructed(Agent, {**agent.__dict__, "dose_mg": 30.0})
    reference = Agent.model_construct(**dict(agent), dose_mg=30.0)
    assert made == reference and made.__dict__ == reference.__dict__
    assert list(made.__dict__) == list(reference.__dict__)  # field order too: dict(model) iterates it
    assert made.model_fields_set == reference.model_fields_set and made.model_extra is None


def test_a_built_visit_is_the_visit_validation_makes_of_it():
    patient = Patient(id="P1", name="A B", dob=dt.date(1970, 1, 1), weight_kg=70)
    visit = build_visit(patient, _entered(), [], Settings({}), visit_id="P1-V1",
                        recorded_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), recorded_by="me")
    again = Visit.model_validate(visit.model_dump())
    assert visit == again and list(visit.__dict__) == list(again.__dict__)
    assert visit.model_dump_json() == again.model_dump_json()
    assert visit.agents[0].dose_mg == 25.0 and visit.needle is None and visit.notes == "kept"


@pytest.mark.parametrize("sides", [("bilateral",), ("left",), ("right",), ("left", "bilateral"), ("right", "left")])
def test_the_side_pairs_of_sites_are_those_of_each_site(sides):
    """side_pairs spells out Site.side_pairs for speed: the two must never disagree."""
    muscles = ("upper trapezius", "rhomboid major", "levator scapulae")
    sites = [Site(muscle=muscle, side=side, points=1) for muscle, side in zip(muscles, sides, strict=False)]
    assert side_pairs(sites) == {pair for site in sites for pair in site.side_pairs}
