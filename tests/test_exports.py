"""Exports of real stores (CSV here; FHIR in test_fhir.py), read back."""

from __future__ import annotations

import csv
import io
import json
import stat

import pytest


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
    assert not (tmp_path / "empty").exists()


def test_export_filters(tpi, clinic):
    rows = list(csv.DictReader(io.StringIO(export(tpi, "csv", "--since", "2026-04-01"))))
    assert [r["visit_id"] for r in rows] == ["P1-V2", "P2-V1"]
    rows = list(csv.DictReader(io.StringIO(export(tpi, "csv", "--patient", "P2"))))
    assert [r["visit_id"] for r in rows] == ["P2-V1"]
    bad = tpi("export", "csv", "-o", "-", "--since", "2026-05-01", "--until", "2026-01-01")
    assert bad.exit_code == 2
    unknown = tpi("export", "fhir", "-o", "-", "--patient", "NOPE")
    assert unknown.exit_code == 2 and "NOPE" in unknown.stderr
