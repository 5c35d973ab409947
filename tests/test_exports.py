"""FHIR and CSV exports of real stores, validated and read back."""

from __future__ import annotations

import csv
import io
import json
import stat

import pytest
from fhir.resources.R4B.bundle import Bundle


@pytest.fixture
def clinic(tpi):
    tpi("patient", "add", "--id", "P1", "--name", 'Chloë "Coco" O\'Brien, Jr.', "--dob", "1970-01-02",
        "--weight-kg", "64", "--sex", "female", "--allergy", "sulfite")
    tpi("patient", "add", "--id", "P2", "--name", "王秀英", "--dob", "1980-03-04")
    for args in (
        ["--patient", "P1", "--date", "2026-03-02", "--site", "UT:left:2", "--site", "QL:bilateral:4",
         "--agent", "lidocaine 1% with epinephrine 3 mL", "--agent", "triamcinolone 40 mg/mL 0.5 mL",
         "--dx", "M79.12", "--dx", "M62.830", "--ultrasound", "--clinician", "Dr. Rivera",
         "--complication", "vasovagal, brief", "--notes", "=SUM(A1) looks like a formula",
         "--function", "NDI=22", "--home-exercise", "--consent", "verbal"],
        ["--patient", "P1", "--date", "2026-05-04", "--site", "UT:left", "--agent", "lidocaine 1% 2 mL",
         "--prior-relief-pct", "60", "--prior-relief-weeks", "7", "--consent", "written"],
        ["--patient", "P2", "--date", "2026-04-01", "--site", "glute med:right"],
    ):
        result = tpi("log-visit", *args, "--pain-before", "7", "--pain-after", "3")
        assert result.exit_code == 0, result.stderr
    amend = tpi("visit", "amend", "P1-V2", "--reason", "pain after was 2", "--pain-after", "2")
    assert amend.exit_code == 0, amend.stderr


def export(tpi, kind, *args):
    result = tpi("export", kind, "-o", "-", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout.removeprefix("\ufeff")


def resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_fhir_bundle_validates_and_links_inside_itself(tpi, clinic):
    bundle = json.loads(export(tpi, "fhir"))
    Bundle.model_validate(bundle)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert all(u.startswith("urn:uuid:") for u in urls)

    def refs(node):
        if isinstance(node, dict):
            if "reference" in node:
                yield node["reference"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    assert set(refs(bundle)) <= urls
    assert len(resources(bundle, "Patient")) == 2
    assert len(resources(bundle, "Encounter")) == len(resources(bundle, "Procedure")) == 3
    assert len(resources(bundle, "MedicationAdministration")) == 3
    assert len(resources(bundle, "Observation")) == 3 * 2 + 1  # pain before/after per visit, one weight


def test_fhir_resources_carry_the_codes(tpi, clinic):
    bundle = json.loads(export(tpi, "fhir", "--patient", "P1", "--until", "2026-03-31"))
    [procedure] = resources(bundle, "Procedure")
    assert [c["code"] for c in procedure["code"]["coding"]] == ["20553", "76942"]
    assert {c["system"] for c in procedure["code"]["coding"]} == {"http://www.ama-assn.org/go/cpt"}
    assert [r["coding"][0]["code"] for r in procedure["reasonCode"]] == ["M79.12", "M62.830"]
    assert procedure["reasonCode"][0]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    sites = procedure["bodySite"]
    assert [s["text"] for s in sites] == ["left upper trapezius", "left and right quadratus lumborum"]
    laterality = [s["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] for s in sites]
    assert laterality == ["7771000", "51440002"]
    assert procedure["performer"][0]["actor"]["display"] == "Dr. Rivera"
    assert procedure["complication"] == [{"text": "vasovagal, brief"}]
    meds = resources(bundle, "MedicationAdministration")
    assert [m["medicationCodeableConcept"]["text"] for m in meds] == [
        "lidocaine 1% with epinephrine", "triamcinolone 40 mg/mL"]
    assert meds[0]["dosage"]["dose"] == {"value": 3.0, "unit": "mL", "system": "http://unitsofmeasure.org",
                                         "code": "mL"}
    assert meds[0]["dosage"]["text"].startswith("30 mg")
    assert meds[0]["dosage"]["route"]["coding"][0]["code"] == "78421000"
    pains = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "72514-3"]
    assert [o["valueInteger"] for o in pains] == [7, 3]
    assert all(o["effectiveDateTime"] == "2026-03-02" for o in pains)
    weight = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "29463-7"]
    assert weight[0]["valueQuantity"]["value"] == 64


def test_fhir_ids_are_stable_for_the_same_record(tpi, clinic):
    first = json.loads(export(tpi, "fhir"))
    second = json.loads(export(tpi, "fhir"))
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]


def test_export_files_are_private(tpi, clinic, tmp_path):
    for kind, name in (("fhir", "b.json"), ("csv", "v.csv")):
        assert tpi("export", kind, "-o", str(tmp_path / name)).exit_code == 0
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600


def test_csv_opens_in_a_spreadsheet(tpi, clinic):
    raw = tpi("export", "csv", "-o", "-").stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: spreadsheets read the accents right
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["visit_id"] for r in rows] == ["P1-V1", "P1-V2", "P2-V1"]
    first = rows[0]
    assert first["patient_name"] == 'Chloë "Coco" O\'Brien, Jr.'
    assert first["sites"] == "upper trapezius:left:2; quadratus lumborum:bilateral:4"
    assert first["total_mg_lidocaine"] == "30" and first["total_mg_triamcinolone"] == "20"
    assert (first["pain_before"], first["pain_after"], first["pain_change"]) == ("7", "3", "-4")
    assert first["cpt"] == "20553; 76942"
    assert first["notes"] == "'=SUM(A1) looks like a formula"  # never run as a formula
    assert "Medicare" in first["warnings"]
    assert rows[2]["patient_name"] == "王秀英"


def test_csv_round_trips_through_import(tpi, clinic, tmp_path, monkeypatch):
    exported = tmp_path / "visits.csv"
    assert tpi("export", "csv", "-o", str(exported)).exit_code == 0
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    result = tpi("import", str(exported))
    assert result.exit_code == 0, result.stderr
    again = tmp_path / "again.csv"
    assert tpi("export", "csv", "-o", str(again)).exit_code == 0
    assert again.read_bytes() == exported.read_bytes()
    amended = json.loads(tpi("visit", "show", "P1-V2", "--json").stdout)
    assert amended["amendments"][0]["reason"] == "pain after was 2"
    notes = json.loads(tpi("visit", "show", "P1-V1", "--json").stdout)["notes"]
    assert notes == "=SUM(A1) looks like a formula"
    second = tpi("import", str(exported))
    assert second.exit_code == 2 and "already in the store" in second.stderr


def test_a_bad_csv_row_names_the_line_and_writes_nothing(tpi, clinic, tmp_path, monkeypatch):
    exported = tmp_path / "visits.csv"
    tpi("export", "csv", "-o", str(exported))
    text = exported.read_text(encoding="utf-8-sig").replace("gluteus medius:right:1", "gluteus medial:right:1")
    exported.write_text(text, encoding="utf-8-sig")
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    result = tpi("import", str(exported))
    assert result.exit_code == 2
    assert "line" in result.stderr and "sites" in result.stderr and "gluteus medial" in result.stderr
    assert json.loads(tpi("patient", "list", "--json").stdout) == []


def test_export_filters(tpi, clinic):
    rows = list(csv.DictReader(io.StringIO(export(tpi, "csv", "--since", "2026-04-01"))))
    assert [r["visit_id"] for r in rows] == ["P1-V2", "P2-V1"]
    rows = list(csv.DictReader(io.StringIO(export(tpi, "csv", "--patient", "P2"))))
    assert [r["visit_id"] for r in rows] == ["P2-V1"]
    bad = tpi("export", "csv", "-o", "-", "--since", "2026-05-01", "--until", "2026-01-01")
    assert bad.exit_code == 2
    unknown = tpi("export", "fhir", "-o", "-", "--patient", "NOPE")
    assert unknown.exit_code == 2 and "NOPE" in unknown.stderr
