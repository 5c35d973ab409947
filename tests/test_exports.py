"""Exports of real stores (CSV here; FHIR in test_fhir.py), read back."""

from __future__ import annotations

import csv
import io
import json
import re
import stat

import pytest


def nothing_stored(tpi) -> bool:
    """No patient was written: the store is empty, or was never made (reads do not create one)."""
    listed = tpi("patient", "list", "--json")
    return listed.exit_code == 3 or json.loads(listed.stdout) == []


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


AUDIT_KEYS = ("recorded_at", "recorded_by", "amendments", "signed", "addenda", "handout_given")


def stored(tpi):
    """Every patient and visit as stored, without what the import records anew about the writing itself."""
    # a patient's amendments (the history of `patient update`) are not a CSV column: the file carries
    # the patient as they are now
    patients = [{k: v for k, v in p.items() if k != "amendments"}
                for p in json.loads(tpi("patient", "list", "--json").stdout)]
    visits = json.loads(tpi("visits", "--json").stdout)
    return ([{k: v for k, v in patient.items() if k != "amendments"} for patient in patients],
            [{k: v for k, v in visit.items() if k not in AUDIT_KEYS} for visit in visits])


def test_csv_round_trip_keeps_every_record_exact(tpi, clinic, tmp_path, monkeypatch):
    assert tpi("patient", "update", "P1", "--weight-kg", "70.123456789").exit_code == 0  # after the visits
    tpi("patient", "add", "--id", "P3", "--name", "No Visits Yet", "--dob", "2001-02-03", "--mrn", "007")
    before = stored(tpi)
    exported = tmp_path / "visits.csv"
    assert tpi("export", "csv", "-o", str(exported)).exit_code == 0
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    result = tpi("import", str(exported))
    assert result.exit_code == 0, result.stderr
    after = stored(tpi)
    assert after == before
    [p1] = [p for p in after[0] if p["id"] == "P1"]
    assert p1["weight_kg"] == 70.123456789  # full precision
    assert {v["id"]: v["weight_kg"] for v in after[1] if v["patient_id"] == "P1"} == {"P1-V1": 64, "P1-V2": 64}
    assert [p["id"] for p in after[0]] == ["P1", "P2", "P3"]  # the patient without visits came back too
    second = tpi("import", str(exported))
    assert second.exit_code == 2 and "already in the store" in second.stderr


def test_csv_never_takes_computed_or_audit_fields_from_the_file(tpi, clinic, tmp_path, monkeypatch):
    exported = tmp_path / "visits.csv"
    tpi("export", "csv", "-o", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    for row in rows:
        row.update(recorded_by="mallory", recorded_at="2001-01-01T00:00:00+00:00", warnings="",
                   cpt="99999", amendments='[{"at": "2001-01-01T00:00:00Z", "by": "x", "reason": "y", "changes": {}}]')
    forged = tmp_path / "forged.csv"
    with forged.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    assert tpi("import", str(forged)).exit_code == 0
    visit = json.loads(tpi("visit", "show", "P1-V1", "--json").stdout)
    assert visit["recorded_by"] != "mallory" and not visit["recorded_at"].startswith("2001")
    assert visit["cpt"] == ["20553", "76942"] and visit["amendments"] == []
    assert any("Medicare" in w for w in visit["warnings"])


HOSTILE = ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "'=text", "''twice",
           "a\rb\r\nc\nd", "\tTab", "\rCR first", "007", "1E5", "TRUE"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_guarded_in_the_sheet_and_comes_back_exactly(tpi, tmp_path, monkeypatch, text):
    assert tpi("patient", "add", "--id", "1E5", "--name", text, "--dob", "1970-01-01", "--mrn", "007",
               "--allergy", text, "--family", text).exit_code == 0
    result = tpi("log-visit", "--patient", "1E5", "--date", "2026-03-02", "--site", "UT:left", "--pain-before", "5",
                 "--pain-after", "2", "--notes", text, "--needle", text, "--clinician", text, "--complication", text,
                 "--function", "+cmd|' /C calc'!A0=3")
    assert result.exit_code == 0, result.stderr
    exported = tmp_path / "v.csv"
    assert tpi("export", "csv", "-o", str(exported)).exit_code == 0
    [row] = csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"), newline=""))
    for column, cell in row.items():
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            assert re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cell), (column, cell)  # only plain numbers
    assert row["patient_id"] == "'1E5" and row["patient_mrn"] == "'007"  # a spreadsheet keeps them as text
    before = stored(tpi)
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    imported = tpi("import", str(exported))
    assert imported.exit_code == 0, imported.stderr
    after = stored(tpi)
    assert after == before
    assert after[1][0]["notes"] == text.strip() and after[0][0]["name"] == text.strip()


@pytest.mark.parametrize("size", [131_073, 2_000_000])
def test_a_huge_csv_cell_is_one_line_of_bad_input(tpi, clinic, tmp_path, monkeypatch, size):
    exported = tmp_path / "visits.csv"
    tpi("export", "csv", "-o", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    rows[0]["notes"] = "x" * size
    huge = tmp_path / "huge.csv"
    with huge.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    result = tpi("import", str(huge))
    assert result.exit_code == 2, result.stderr
    assert "line 2" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert nothing_stored(tpi)


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


def test_a_column_tpi_does_not_read_is_refused_not_dropped(tpi, clinic, tmp_path, monkeypatch):
    exported = tmp_path / "visits.csv"
    tpi("export", "csv", "-o", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    for row in rows:
        row["prior_relief_pct"] = "60"  # an older export's column
    edited = tmp_path / "edited.csv"
    with edited.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    result = tpi("import", str(edited))
    assert result.exit_code == 2 and "prior_relief_pct" in result.stderr
    assert nothing_stored(tpi)


def test_every_key_a_person_enters_has_its_csv_column():
    from tpi_cli.exports.spreadsheet import PATIENT_COLUMNS, VISIT_COLUMNS
    from tpi_cli.models import Patient, VisitInput

    carried = {key for kind, key in VISIT_COLUMNS.values() if kind != "computed"} | {"sites", "agents"}
    assert set(VisitInput.model_fields) - {"patient_id", "override_reason"} <= carried
    patient_keys = {key for _, key in PATIENT_COLUMNS.values()}
    assert set(Patient.model_fields) - {"amendments"} <= patient_keys
