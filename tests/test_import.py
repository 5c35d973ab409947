from __future__ import annotations

import json


def write_lines(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


PATIENT = {"type": "patient", "id": "P1", "name": "Иван Петров", "dob": "1970-05-05", "weight_kg": 80}
VISIT = {"patient_id": "P1", "date": "2026-09-01", "sites": [{"muscle": "upper trapezius", "side": "left"}],
         "agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 3}],
         "pain_before": 7, "pain_after": 2, "consent": "verbal"}


def counts(tpi):
    listed = tpi("patient", "list", "--json")
    if listed.exit_code == 3 and "no tpi store" in listed.stderr:  # nothing was ever written
        return (0, 0)
    return (len(json.loads(listed.stdout)),
            len(json.loads(tpi("visits", "--json").stdout)))


def test_import_writes_patients_and_visits(tpi, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [PATIENT, VISIT, {**VISIT, "date": "2026-07-01"}])
    result = tpi("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "Imported 1 patients and 2 visits" in result.stderr
    visits = json.loads(tpi("visits", "--json").stdout)
    # checked and numbered in date order
    assert [(v["id"], v["date"]) for v in visits] == [("P1-V2", "2026-09-01"), ("P1-V1", "2026-07-01")]
    assert visits[0]["agents"][0]["dose_mg"] == 30


def test_one_bad_line_names_the_line_and_field_and_writes_nothing(tpi, tmp_path):
    bad = {**VISIT, "pain_after": 14}
    path = write_lines(tmp_path / "in.jsonl", [PATIENT, VISIT, bad])
    result = tpi("import", str(path))
    assert result.exit_code == 2
    assert "line 3" in result.stderr and "pain_after" in result.stderr
    assert counts(tpi) == (0, 0)


def test_a_visit_for_an_unknown_patient_is_bad_input(tpi, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [PATIENT, {**VISIT, "patient_id": "P2"}])
    result = tpi("import", str(path))
    assert result.exit_code == 2 and "line 2" in result.stderr and "P2" in result.stderr
    assert counts(tpi) == (0, 0)


def test_invalid_json_and_unknown_record_kinds(tpi, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(PATIENT) + "\n{not json}\n")
    result = tpi("import", str(path))
    assert result.exit_code == 2 and "line 2" in result.stderr
    write_lines(path, [PATIENT, {"hello": 1}])
    result = tpi("import", str(path))
    assert result.exit_code == 2 and "line 2" in result.stderr


def test_a_refused_line_stops_the_import_unless_it_carries_an_override(tpi, tmp_path):
    light = {**PATIENT, "weight_kg": 40}
    heavy_dose = {**VISIT, "agents": [{"drug": "lidocaine", "concentration": {"value": 2, "unit": "%"},
                                       "volume_ml": 12}]}
    path = write_lines(tmp_path / "in.jsonl", [light, VISIT, heavy_dose])
    result = tpi("import", str(path))
    assert result.exit_code == 1
    assert "line 3" in result.stderr and "local anesthetic dose" in result.stderr
    assert counts(tpi) == (0, 0)
    write_lines(path, [light, VISIT, {**heavy_dose, "override_reason": "documented by Dr. X"}])
    assert tpi("import", str(path)).exit_code == 0
    visits = json.loads(tpi("visits", "--json").stdout)
    assert visits[0]["overrides"] == [{"check": "local anesthetic dose", "reason": "documented by Dr. X"}]


def test_reimporting_the_same_patient_is_skipped_but_a_conflict_is_refused(tpi, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [PATIENT])
    assert tpi("import", str(path)).exit_code == 0
    assert tpi("import", str(path)).exit_code == 0
    write_lines(path, [{**PATIENT, "name": "Someone Else"}])
    result = tpi("import", str(path))
    assert result.exit_code == 2 and "already exists with other details" in result.stderr


def test_a_visit_before_the_patients_birth_names_its_line(tpi, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [PATIENT, {**VISIT, "date": "1960-01-01"}])
    result = tpi("import", str(path))
    assert result.exit_code == 2 and "line 2: date:" in result.stderr
