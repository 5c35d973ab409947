"""The import's shortcuts give what the plain computation gives: facts of earlier visits made once per visit,
limits and strengths made once per settings, an audit event encoded once."""

from __future__ import annotations

import datetime as dt
import itertools
import json

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tpi_cli import audit
from tpi_cli.clinical import doses
from tpi_cli.clinical.safety import VisitFacts, assess, check_allergies
from tpi_cli.models import Patient, Visit
from tpi_cli.settings import Settings

START = dt.date(2012, 1, 1)  # twelve visits a year apart stay in the past
MUSCLES = [("upper trapezius", True), ("quadratus lumborum", True), ("pectoralis major", True),
           ("rhomboid major", True), ("piriformis", True), ("gluteus medius", True), ("lumbar multifidus", True)]
AGENTS = [
    {"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 5.0},
    {"drug": "lidocaine", "concentration": {"value": 2, "unit": "%"}, "volume_ml": 10.0, "epinephrine": True},
    {"drug": "bupivacaine", "concentration": {"value": 0.5, "unit": "%"}, "volume_ml": 20.0},
    {"drug": "triamcinolone", "concentration": {"value": 40, "unit": "mg/mL"}, "volume_ml": 1.0},
    {"drug": "methylprednisolone", "concentration": {"value": 80, "unit": "mg/mL"}, "volume_ml": 1.0},
    {"drug": "procaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 3.0},
]

visit_shape = st.fixed_dictionaries({
    "gap": st.sampled_from([0, 0, 1, 20, 45, 89, 90, 200, 366]),
    "sites": st.lists(st.tuples(st.sampled_from(MUSCLES), st.sampled_from(["left", "right", "bilateral"])),
                      min_size=1, max_size=3, unique_by=lambda s: s[0][0]),
    "agents": st.lists(st.sampled_from(AGENTS), max_size=3),
    "relief": st.sampled_from([None, {"pct": 30, "weeks": 3}, {"pct": 60, "weeks": 8}]),
    "ultrasound": st.booleans(),
    "home_exercise": st.sampled_from([None, True, False]),
    "diagnoses": st.sampled_from([[], ["M79.18"], ["M54.50"]]),
})


def _visits(shapes: list[dict]) -> list[Visit]:
    day, visits = START, []
    for number, shape in enumerate(shapes, start=1):
        day += dt.timedelta(days=shape["gap"])
        visits.append(Visit.model_validate({
            "id": f"P1-V{number}", "patient_id": "P1", "date": day, "pain_before": 6, "pain_after": 2,
            "sites": [{"muscle": muscle, "side": side} for (muscle, _), side in shape["sites"]],
            "agents": shape["agents"], "prior_relief": shape["relief"], "ultrasound": shape["ultrasound"],
            "home_exercise": shape["home_exercise"], "diagnoses": shape["diagnoses"],
        }))
    return visits


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(visit_shape, min_size=1, max_size=12), st.sampled_from(["medicare", "commercial", "none"]),
       st.sampled_from([None, 12.0, 70.0]), st.sampled_from([[], ["lidocaine"], ["sulfite", "ester"]]))
def test_a_patients_visits_checked_in_turn_with_shared_facts_find_what_each_finds_alone(shapes, payer, weight,
                                                                                         allergies):
    patient = Patient.model_validate({"id": "P1", "name": "A", "dob": "1950-01-01", "payer": payer,
                                      "weight_kg": weight, "allergies": allergies})
    visits = _visits(shapes)
    shared, window = VisitFacts(), []
    stored = Settings({"limits.steroid_early_mpe": 30.0})
    for visit in visits:
        window = [v for v in window if v.date > visit.date - dt.timedelta(days=365)]
        shared.keep_only(window)
        try:
            alone = assess(patient, visit, window, Settings({"limits.steroid_early_mpe": 30.0}))
        except Exception as error:  # noqa: BLE001 - the same refusal either way
            alone = repr(error)
        try:
            in_turn = assess(patient, visit, window, stored, shared)
        except Exception as error:  # noqa: BLE001
            in_turn = repr(error)
        assert in_turn == alone
        window.append(visit)


def test_limits_and_strengths_are_made_once_and_only_from_their_own_settings():
    default, lowered = Settings(), Settings({"limits.lidocaine.max_mg": 200.0, "strengths.lidocaine": [3.0]})
    for weight in (None, 10.0, 44.4, 64.4, 70.0, 400.0):
        for epinephrine in (False, True):
            for current in (default, lowered):
                made = doses.reference_limit("lidocaine", weight, epinephrine, current)
                assert made == doses._reference_limit("lidocaine", weight, epinephrine, current)
                assert doses.reference_limit("lidocaine", weight, epinephrine, current) is made
    assert doses.reference_limit("lidocaine", 70.0, False, lowered).max_mg == 200.0
    assert doses.reference_limit("lidocaine", 70.0, False, default).max_mg == 300.0
    assert 3.0 in doses.strengths_sold("lidocaine", lowered) and 3.0 not in doses.strengths_sold("lidocaine", default)
    three = Visit.model_validate({"id": "P1-V1", "patient_id": "P1", "date": START, "pain_before": 6,
                                  "pain_after": 2, "sites": [{"muscle": "piriformis", "side": "left"}],
                                  "agents": [{"drug": "lidocaine", "concentration": {"value": 3, "unit": "%"},
                                              "volume_ml": 2.0}]})
    concentration = three.agents[0].concentration
    assert doses.unsold_strength("lidocaine", concentration, lowered) is None
    assert "not a strength sold" in doses.unsold_strength("lidocaine", concentration, default)


def test_an_allergys_findings_follow_the_drugs_of_each_visit():
    patient = Patient.model_validate({"id": "P1", "name": "A", "dob": "1950-01-01",
                                      "allergies": ["Xylocaine", "sulfite"]})
    shapes = [{"gap": 0, "sites": [(MUSCLES[0], "left")], "agents": agents, "relief": None, "ultrasound": False,
               "home_exercise": None, "diagnoses": []}
              for agents in ([AGENTS[2]], [AGENTS[1]], [AGENTS[2]], [AGENTS[5]], [])]
    found = [check_allergies(patient, visit) for visit in _visits(shapes)]
    assert [len(f.refusals) for f in found] == [0, 1, 0, 0, 0]
    assert found[0] == found[2] and found[0].warnings and not found[4].warnings
    assert any("sulfite" in w for w in found[1].warnings + found[3].warnings)


texts = st.lists(st.sampled_from(['"', "\\", ",", ":", '"prev"', ',"prev":', "hash", "é", "\n", "\x01", "a", " ", "}"]),
                max_size=12).map("".join)


@given(st.lists(st.tuples(st.sampled_from(["visit.import", "patient.import"]), texts), min_size=1, max_size=5),
       texts)
def test_an_events_line_made_from_its_hashed_text_is_its_canonical_line(writes, by):
    head = audit.Head(7, "f" * 64)
    digests = [(action, record, audit.digest(record)) for action, record in writes]
    pairs = list(audit.chain_lines(head, "2026-01-01T00:00:00Z", by, digests))
    for event, line in pairs:
        assert line == audit.line(event)
        assert event["hash"] == audit.event_hash(event)
        assert json.loads(line) == event
    assert [event for event, _ in pairs] == audit.chain(head, "2026-01-01T00:00:00Z", by, digests)
    assert pairs[0][0]["prev"] == head.hash and all(b[0]["prev"] == a[0]["hash"] for a, b in itertools.pairwise(pairs))
