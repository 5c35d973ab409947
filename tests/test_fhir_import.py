"""`tpi import fhir FILE`: an EHR's Patients become tpi patients, matched by MRN, all or nothing."""

from __future__ import annotations

import json

import pytest

MRN_SYSTEM = "urn:oid:1.2.840.99999.1"


def fhir_patient(mrn: str, family: str = "Núñez", given=("Ana", "María"), birth: str = "1968-04-02",
                 gender: str = "female", **extra):
    return {"resourceType": "Patient", "identifier": [{"system": MRN_SYSTEM, "value": mrn},
                                                      {"system": "urn:other", "value": "x"}],
            "name": [{"use": "official", "family": family, "given": list(given)}], "birthDate": birth,
            "gender": gender, **extra}


def bundle(*patients, others=()):
    return json.dumps({"resourceType": "Bundle", "type": "searchset",
                       "entry": [{"resource": p} for p in (*patients, *others)]})


def nothing_stored(tpi) -> bool:
    """No patient was written: the store is empty, or was never made (reads do not create one)."""
    listed = tpi("patient", "list", "--json")
    return listed.exit_code == 3 or json.loads(listed.stdout) == []


@pytest.fixture
def mrn_system(tpi):
    assert tpi("config", "set", "fhir.mrn_system", MRN_SYSTEM).exit_code == 0


def patients(tpi):
    return json.loads(tpi("patient", "list", "--json").stdout)


def test_patients_of_a_bundle_become_tpi_patients(tpi, mrn_system, tmp_path):
    source = tmp_path / "ehr.json"
    source.write_text(bundle(fhir_patient("MRN-1"), fhir_patient("00042", family="Lee", given=("Min",), gender="male"),
                             others=[{"resourceType": "Observation", "status": "final", "code": {"text": "x"}}]))
    result = tpi("import", "fhir", str(source))
    assert result.exit_code == 0, result.stderr
    assert "Imported 2 patients" in result.stderr and "1 resources that are not Patients" in result.stderr
    stored = {p["mrn"]: p for p in patients(tpi)}
    assert stored["MRN-1"]["id"] == "MRN-1" and stored["MRN-1"]["name"] == "Ana María Núñez"
    assert stored["MRN-1"]["family"] == "Núñez" and stored["MRN-1"]["given"] == ["Ana", "María"]
    assert stored["MRN-1"]["dob"] == "1968-04-02" and stored["MRN-1"]["sex"] == "female"
    assert stored["00042"]["sex"] == "male"


def test_reimport_matches_by_mrn_and_adds_nobody(tpi, mrn_system, tmp_path):
    source = tmp_path / "ehr.ndjson"
    source.write_text("\n".join(json.dumps(p) for p in (fhir_patient("A1"), fhir_patient("A2", family="Roe"))))
    assert tpi("import", "fhir", str(source)).exit_code == 0
    again = tpi("import", "fhir", str(source))
    assert again.exit_code == 0 and "Imported 0 patients (2 already in the store" in again.stderr
    assert len(patients(tpi)) == 2


def test_an_mrn_already_used_as_another_id_gets_a_free_id(tpi, mrn_system, tmp_path):
    tpi("patient", "add", "--id", "A1", "--name", "Someone Else", "--dob", "1990-01-01")
    source = tmp_path / "ehr.json"
    source.write_text(json.dumps(fhir_patient("a1")))
    assert tpi("import", "fhir", str(source)).exit_code == 0
    imported = next(p for p in patients(tpi) if p["mrn"] == "a1")
    assert imported["id"] == "P00001"


def test_different_details_for_a_known_mrn_are_refused_not_overwritten(tpi, mrn_system, tmp_path):
    source = tmp_path / "ehr.json"
    source.write_text(bundle(fhir_patient("A1")))
    tpi("import", "fhir", str(source))
    source.write_text(bundle(fhir_patient("A2"), fhir_patient("A1", birth="1968-04-03")))
    result = tpi("import", "fhir", str(source))
    assert result.exit_code == 2 and "entry 2" in result.stderr and "dob" in result.stderr
    assert [p["mrn"] for p in patients(tpi)] == ["A1"]  # all or nothing: A2 was not added either


@pytest.mark.parametrize("resource,expected", [
    ({"resourceType": "Patient", "name": [{"text": "X"}], "birthDate": "1970-01-01"}, "MRN"),
    (fhir_patient("A1", birth="1970"), "birthDate"),
    (fhir_patient("A1", gender="woman"), "sex"),
    ({**fhir_patient("A1"), "birthDate": 19680402}, "not a valid FHIR Patient"),
    ({**fhir_patient("A1"), "name": []}, "no name"),
    (fhir_patient("A1", birth="2999-01-01"), "future"),
    ({"name": "not a resource"}, "resourceType"),
])
def test_bad_input_names_the_entry_and_writes_nothing(tpi, mrn_system, tmp_path, resource, expected):
    source = tmp_path / "ehr.json"
    source.write_text(bundle(fhir_patient("OK1"), resource))
    result = tpi("import", "fhir", str(source))
    assert result.exit_code == 2, result.stderr
    assert "entry 2" in result.stderr and expected in result.stderr
    assert nothing_stored(tpi)


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]\n", "\"just text\"\n"])
def test_files_that_are_not_fhir_are_bad_input(tpi, mrn_system, tmp_path, text):
    source = tmp_path / "ehr.json"
    source.write_text(text)
    result = tpi("import", "fhir", str(source))
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_import_fhir_needs_the_mrn_system(tpi, tmp_path):
    source = tmp_path / "ehr.json"
    source.write_text(bundle(fhir_patient("A1")))
    result = tpi("import", "fhir", str(source))
    assert result.exit_code == 2 and "fhir.mrn_system" in result.stderr
    missing = tpi("import", "fhir", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2


def test_an_exported_bundle_imports_into_another_clinic(tpi, mrn_system, tmp_path, monkeypatch):
    tpi("patient", "add", "--id", "P1", "--name", "Ana María Núñez", "--dob", "1968-04-02", "--mrn", "M-77",
        "--family", "Núñez", "--given", "Ana", "--given", "María", "--sex", "female")
    exported = tmp_path / "b.json"
    assert tpi("export", "fhir", "-o", str(exported)).exit_code == 0
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "other"))
    tpi("config", "set", "fhir.mrn_system", MRN_SYSTEM)
    result = tpi("import", "fhir", str(exported))
    assert result.exit_code == 0, result.stderr
    [patient] = patients(tpi)
    assert (patient["id"], patient["mrn"], patient["name"], patient["given"]) == (
        "M-77", "M-77", "Ana María Núñez", ["Ana", "María"])
