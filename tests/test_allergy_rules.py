"""Allergy matching (clinical-reference.md §4 and §9): classes, amide-to-amide, sulfite spellings, unknown text."""

from __future__ import annotations

import json

import pytest

from tpi_cli.clinical.safety import assess
from tpi_cli.models import Patient, Visit
from tpi_cli.parsing import parse_agent, parse_site
from tpi_cli.settings import Settings


def patient(**fields) -> Patient:
    return Patient.model_validate({"id": "P1", "name": "T", "dob": "1960-01-01", "weight_kg": 60, "payer": "none",
                                   **fields})


def visit(*agents: str) -> Visit:
    return Visit.model_validate({
        "id": "P1-V1", "patient_id": "P1", "date": "2026-06-01", "consent": "verbal",
        "sites": [parse_site("QL:left").model_dump()], "agents": [parse_agent(a).model_dump() for a in agents],
        "pain_before": 7, "pain_after": 2,
    })


def check(p: Patient, v: Visit):
    return assess(p, v, [], Settings())


def refused(result, name: str) -> bool:
    return any(f.check == name for f in result.refusals)


def warned(result, fragment: str) -> bool:
    return any(fragment in w for w in result.warnings)


@pytest.mark.parametrize(
    ("allergy", "agent", "refuse"),
    [
        ("PABA", "chloroprocaine 2% 2 mL", True),
        ("para-aminobenzoic acid", "procaine 1% 2 mL", True),
        ("Para-aminobenzoic acid (PABA)", "chloroprocaine 2% 2 mL", True),
        ("esters", "procaine 1% 2 mL", True),
        ("benzocaine", "chloroprocaine 2% 2 mL", True),
        ("tetracaine", "procaine 1% 2 mL", True),
        ("Novocain", "chloroprocaine 2% 2 mL", True),
        ("PABA", "lidocaine 1% 2 mL", False),
        ("lidocaine", "lidocaine 1% 2 mL", True),
        ("lidocaine", "bupivacaine 0.25% 2 mL", False),
        ("Marcaine", "bupivacaine 0.25% 2 mL", True),
        ("amide", "ropivacaine 0.2% 2 mL", True),
        ("amide", "chloroprocaine 2% 2 mL", False),
    ],
)
def test_allergy_classes_and_names(allergy, agent, refuse):
    assert refused(check(patient(allergies=[allergy]), visit(agent)), "allergy") == refuse


@pytest.mark.parametrize("allergy", ["lidocaine", "Xylocaine", "lidocaine (hives)"])
def test_a_named_amide_warns_for_the_other_amides(allergy):
    result = check(patient(allergies=[allergy]), visit("bupivacaine 0.25% 2 mL", "ropivacaine 0.2% 2 mL"))
    assert not result.refusals
    assert warned(result, "bupivacaine, ropivacaine is also an amide")
    assert warned(result, "Naropin label")


def test_an_amide_class_allergy_does_not_also_warn_amide_to_amide():
    result = check(patient(allergies=["amide"]), visit("bupivacaine 0.25% 2 mL"))
    assert refused(result, "allergy") and not warned(result, "also an amide")


@pytest.mark.parametrize("allergy", ["sulfite", "sulphite", "sulfites", "bisulfite", "metabisulfite",
                                     "sodium metabisulphite"])
def test_sulfite_spellings_warn_about_epinephrine_solutions(allergy):
    result = check(patient(allergies=[allergy]), visit("lidocaine 1% with epinephrine 3 mL"))
    assert warned(result, "contain sulfite") and not warned(result, "cannot check")
    assert not warned(check(patient(allergies=[allergy]), visit("lidocaine 1% 3 mL")), "sulfite")


def test_sulfa_drugs_are_not_sulfite():
    result = check(patient(allergies=["sulfa"]), visit("lidocaine 1% with epinephrine 3 mL"))
    assert not warned(result, "sulfite") and not warned(result, "cannot check")


@pytest.mark.parametrize(("allergy", "closest"), [("lidocain", "lidocaine"), ("bupivicaine", "bupivacaine"),
                                                   ("metabisulfate", "metabisulfite")])
def test_allergy_text_tpi_cannot_read_is_warned_with_the_closest_names(allergy, closest):
    result = check(patient(allergies=[allergy]), visit("lidocaine 1% 2 mL"))
    assert warned(result, f"Recorded allergy {allergy!r} names no drug") and warned(result, closest)
    assert warned(result, "tpi cannot check")


def test_unknown_allergy_is_kept_as_typed(tpi):
    result = tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1980-01-01", "--weight-kg", "60",
                 "--allergy", "lidocain")
    assert result.exit_code == 0
    assert json.loads(tpi("patient", "show", "P1", "--json").stdout)["allergies"] == ["lidocain"]
    record = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "lidocaine 1% 2 mL",
                 "--pain-before", "5", "--pain-after", "2", "--json")
    assert any("closest known names: lidocaine" in w for w in json.loads(record.stdout)["warnings"])


def test_paba_allergy_refuses_chloroprocaine_through_the_cli(tpi):
    tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1980-01-01", "--weight-kg", "60",
        "--allergy", "PABA")
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "chloroprocaine 2% 2 mL",
                 "--pain-before", "5", "--pain-after", "2")
    assert result.exit_code == 1 and "allergy check" in result.stderr
    assert json.loads(tpi("visits", "--json").stdout) == []
