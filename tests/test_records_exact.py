"""The record is exactly what was entered: amendments change only what they name, input types are taken
strictly, templates are overridden by flags, patients keep their history, imports are idempotent."""

from __future__ import annotations

import json

import pytest

VISIT = {"patient_id": "P001", "date": "2026-09-01",
         "sites": [{"muscle": "upper trapezius", "side": "left", "points": 2}],
         "agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 3}],
         "pain_before": 7, "pain_after": 2}
PATIENT = {"type": "patient", "id": "P001", "name": "Ana María Núñez", "dob": "1968-04-02", "weight_kg": 70,
           "payer": "medicare"}


def write_json(path, record):
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return str(path)


def write_lines(path, records):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return str(path)


def listing(tpi, *args):
    """A --json listing; [] when nothing was ever written (no store was created)."""
    result = tpi(*args, "--json")
    if result.exit_code == 3 and "no tpi store" in result.stderr:
        return []
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def stored_visits(tpi):
    return listing(tpi, "visits")


def stored_patient(tpi, patient_id="P001"):
    return json.loads(tpi("patient", "show", patient_id, "--json").stdout)


# --- 1. amendments change only what they name ------------------------------------------------------


def test_amend_after_changing_every_default_changes_only_the_named_field(tpi, log, patient):
    record = log("--date", "2026-11-01", "--site", "UT:left:2", "--agent", "lidocaine 1% 3 mL",
                 "--pain-before", "7", "--pain-after", "2")
    assert record["consent"] is None and record["clinician"] is None and record["follow_up"] is None
    for key, value in (("consent.default", "written"), ("clinician", "Dr. B"), ("follow_up.default_days", "42"),
                       ("payer.default", "commercial")):
        assert tpi("config", "set", key, value).exit_code == 0
    result = tpi("visit", "amend", record["id"], "--reason", "typo", "--notes", "x", "--json")
    assert result.exit_code == 0, result.stderr
    amended = json.loads(result.stdout)
    assert amended["amendments"][-1]["changes"] == {"notes": {"from": None, "to": "x"}}
    unchanged = {k: v for k, v in amended.items() if k not in ("notes", "amendments")}
    assert unchanged == {k: v for k, v in record.items() if k not in ("notes", "amendments")}


def test_amend_records_the_derived_fields_that_follow(tpi, log, patient):
    record = log("--date", "2026-11-01", "--site", "UT:left:2", "--agent", "lidocaine 1% 3 mL",
                 "--pain-before", "7", "--pain-after", "2")
    result = tpi("visit", "amend", record["id"], "--reason", "volume was 5 mL", "--agent", "lidocaine 1% 5 mL",
                 "--json")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["amendments"][-1]["changes"]
    assert set(changes) <= {"agents", "cpt", "warnings"} and "agents" in changes
    assert changes["agents"]["from"][0]["dose_mg"] == 30 and changes["agents"]["to"][0]["dose_mg"] == 50


def test_log_time_defaults_still_apply_when_logging(tpi, log, patient):
    for key, value in (("consent.default", "written"), ("clinician", "Dr. B"), ("follow_up.default_days", "42")):
        assert tpi("config", "set", key, value).exit_code == 0
    record = log("--date", "2026-11-01", "--site", "UT:left", "--pain-before", "7", "--pain-after", "2")
    assert (record["consent"], record["clinician"], record["follow_up"]) == ("written", "Dr. B", "2026-12-13")


# --- 2. strict input ----------------------------------------------------------------------------------

WRONG_TYPES = [
    ("pain_before", True, "whole number"),
    ("pain_before", "7", "whole number"),
    ("pain_before", 7.5, "whole number"),
    ("pain_after", None, "whole number"),
    ("date", 20260901, "YYYY-MM-DD"),
    ("date", "2026-9-1", "YYYY-MM-DD"),
    ("date", "01/09/2026", "YYYY-MM-DD"),
    ("follow_up", "2026-02-30", "YYYY-MM-DD"),
    ("notes", 5, "text"),
    ("clinician", ["Dr. B"], "text"),
    ("ultrasound", 1, "true or false"),
    ("ultrasound", "yes", "true or false"),
    ("twitch", "false", "true or false"),
    ("consent", "oral", "'verbal' or 'written'"),
    ("diagnoses", "M79.18", "list"),
    ("complications", "bruise", "list"),
    ("sites", [{"muscle": "upper trapezius", "side": "left", "points": True}], "whole number"),
    ("sites", [{"muscle": "upper trapezius", "side": "left", "points": "2"}], "whole number"),
    ("sites", [{"muscle": 5, "side": "left"}], "text"),
    ("agents", [{"drug": "lidocaine", "concentration": {"value": True, "unit": "%"}, "volume_ml": 3}], "number"),
    ("agents", [{"drug": "lidocaine", "concentration": {"value": "1", "unit": "%"}, "volume_ml": 3}], "number"),
    ("agents", [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": "3"}], "number"),
    ("agents", [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 3,
                 "epinephrine": "no"}], "true or false"),
    ("prior_relief", {"pct": "60", "weeks": 8}, "whole number"),
    ("functional_scores", [{"scale": "NDI", "score": True}], "number"),
    ("functional_scores", [{"scale": 5, "score": 20}], "text"),
    ("override_reason", 1, "text"),
]


@pytest.mark.parametrize(("key", "value", "fix"), WRONG_TYPES)
def test_from_file_refuses_wrong_json_types_naming_the_field(tpi, patient, tmp_path, key, value, fix):
    path = write_json(tmp_path / "visit.json", {**VISIT, key: value})
    result = tpi("log-visit", "--from-file", path)
    assert result.exit_code == 2, result.stdout
    assert key in result.stderr and fix in result.stderr
    assert "Input should" not in result.stderr and "Traceback" not in result.stderr
    assert stored_visits(tpi) == []


@pytest.mark.parametrize(("key", "value", "fix"), WRONG_TYPES)
def test_import_refuses_wrong_json_types_naming_the_line_and_field(tpi, tmp_path, key, value, fix):
    path = write_lines(tmp_path / "in.jsonl", [PATIENT, {**VISIT, key: value}])
    result = tpi("import", path)
    assert result.exit_code == 2
    assert "line 2" in result.stderr and key in result.stderr and fix in result.stderr
    assert stored_visits(tpi) == [] and listing(tpi, "patient", "list") == []


@pytest.mark.parametrize(("key", "value"), [("weight_kg", True), ("weight_kg", "70"), ("dob", 19680402),
                                            ("name", 5), ("anticoagulated", 1), ("allergies", "sulfite"),
                                            ("allergies", [5]), ("id", 1), ("sex", "f")])
def test_import_refuses_wrong_json_types_in_patients(tpi, tmp_path, key, value):
    result = tpi("import", write_lines(tmp_path / "in.jsonl", [{**PATIENT, key: value}]))
    assert result.exit_code == 2 and "line 1" in result.stderr and key in result.stderr
    assert listing(tpi, "patient", "list") == []


@pytest.mark.parametrize("text", ["{", "[1, 2]", "1" * 5000, "[" * 100000 + "]" * 100000])
def test_input_files_that_are_not_records_are_bad_input(tpi, patient, tmp_path, text):
    path = tmp_path / "visit.json"
    path.write_text(text, encoding="utf-8")
    for args in (("log-visit", "--from-file", str(path)), ("import", str(path))):
        result = tpi(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr


# --- 3. --from-file as a template ------------------------------------------------------------------


def test_flags_beside_from_file_replace_the_files_values(tpi, patient, tmp_path):
    assert tpi("patient", "add", "--id", "Z0", "--name", "Zed Zero", "--dob", "1980-01-01").exit_code == 0
    path = write_json(tmp_path / "template.json", VISIT)
    result = tpi("log-visit", "--from-file", path, "--patient", "Z0", "--site", "levator:right",
                 "--pain-before", "9", "--date", "2026-10-01", "--notes", "from the template")
    assert result.exit_code == 0, result.stderr
    [stored] = stored_visits(tpi)
    assert stored["patient_id"] == "Z0" and stored["pain_before"] == 9 and stored["date"] == "2026-10-01"
    assert stored["sites"] == [{"muscle": "levator scapulae", "side": "right", "points": 1, "volume_ml": None}]
    assert stored["pain_after"] == 2 and stored["agents"][0]["dose_mg"] == 30  # from the file
    assert "Zed Zero" in result.stderr and "Z0-V1" in result.stderr and "levator scapulae right" in result.stderr


def test_from_file_type_must_be_visit(tpi, patient, tmp_path):
    result = tpi("log-visit", "--from-file", write_json(tmp_path / "v.json", {**VISIT, "type": "cat"}))
    assert result.exit_code == 2 and '"cat"' in result.stderr


# --- 4. patients keep their history ------------------------------------------------------------------


def test_patient_update_keeps_what_it_replaced(tpi, patient):
    assert tpi("patient", "update", "P001", "--allergy", "sulfite").exit_code == 0
    result = tpi("patient", "update", "P001", "--remove-allergy", "SULFITE", "--dob", "1968-04-03",
                 "--reason", "allergy test negative; dob typo")
    assert result.exit_code == 0, result.stderr
    record = stored_patient(tpi)
    assert record["allergies"] == [] and record["dob"] == "1968-04-03"
    first, second = record["amendments"]
    assert first["changes"] == {"allergies": {"from": [], "to": ["sulfite"]}} and first["reason"] is None
    assert second["changes"] == {"allergies": {"from": ["sulfite"], "to": []},
                                 "dob": {"from": "1968-04-02", "to": "1968-04-03"}}
    assert second["reason"] == "allergy test negative; dob typo" and second["by"] and second["at"]


def test_a_date_of_birth_after_a_visit_is_refused(tpi, log, patient):
    log("--date", "2026-01-05", "--site", "UT:left", "--pain-before", "7", "--pain-after", "2")
    result = tpi("patient", "update", "P001", "--dob", "2026-01-06")
    assert result.exit_code == 2 and "2026-01-05" in result.stderr
    assert stored_patient(tpi)["dob"] == "1968-04-02" and stored_patient(tpi)["amendments"] == []
    assert tpi("patient", "update", "P001", "--dob", "2026-01-05").exit_code == 0


@pytest.mark.parametrize("other", ["p001", "P001", "P001 "])
def test_ids_are_unique_ignoring_case(tpi, patient, other):
    result = tpi("patient", "add", "--id", other, "--name", "Someone Else", "--dob", "1990-01-01")
    assert result.exit_code == 2 and "P001" in result.stderr
    assert len(listing(tpi, "patient", "list")) == 1


def test_import_refuses_a_case_variant_of_a_stored_id(tpi, patient, tmp_path):
    result = tpi("import", write_lines(tmp_path / "in.jsonl", [{**PATIENT, "id": "p001"}]))
    assert result.exit_code == 2 and "P001" in result.stderr and "line 1" in result.stderr


@pytest.mark.parametrize("bad_id", [".", "..", "--", "-rf", ".hidden", "a/b", "a b", "", "x" * 33])
def test_path_like_and_option_like_ids_are_refused(tpi, bad_id):
    result = tpi("patient", "add", f"--id={bad_id}", "--name", "X", "--dob", "1990-01-01")
    assert result.exit_code == 2, result.stdout
    assert listing(tpi, "patient", "list") == []


def test_the_same_allergy_twice_is_kept_once(tpi, patient):
    assert tpi("patient", "update", "P001", "--allergy", "Sulfite", "--allergy", "sulfite ").exit_code == 0
    assert stored_patient(tpi)["allergies"] == ["Sulfite"]
    again = tpi("patient", "update", "P001", "--allergy", "SULFITE")
    assert again.exit_code == 2 and "nothing changed" in again.stderr


def test_log_visit_confirmation_names_the_patient_and_date_of_birth(tpi, patient):
    result = tpi("log-visit", "--patient", "P001", "--site", "UT:left", "--pain-before", "7", "--pain-after", "2")
    assert result.exit_code == 0
    assert "Ana María Núñez" in result.stderr and "1968-04-02" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("flag", "value", "limit"), [
    ("--allergy", "a" * 201, "200"), ("--name", "n" * 201, "200"),
])
def test_patient_texts_are_bounded(tpi, patient, flag, value, limit):
    result = tpi("patient", "update", "P001", flag, value)
    assert result.exit_code == 2 and limit in result.stderr


def test_lists_are_bounded(tpi, patient, tmp_path):
    many = {**VISIT, "complications": [f"c{i}" for i in range(51)]}
    result = tpi("log-visit", "--from-file", write_json(tmp_path / "v.json", many))
    assert result.exit_code == 2 and "complications" in result.stderr and "at most 50" in result.stderr
    allergies = [f"--allergy=a{i}" for i in range(51)]
    result = tpi("patient", "update", "P001", *allergies)
    assert result.exit_code == 2 and "at most 50" in result.stderr


def test_notes_up_to_20000_characters_are_kept(tpi, log, patient):
    record = log("--site", "UT:left", "--pain-before", "7", "--pain-after", "2", "--notes", "n" * 20000)
    assert len(record["notes"]) == 20000
    result = tpi("log-visit", "--patient", "P001", "--site", "UT:left", "--pain-before", "7", "--pain-after", "2",
                 "--notes", "n" * 20001)
    assert result.exit_code == 2 and "20000" in result.stderr


# --- 5. imports are idempotent ---------------------------------------------------------------------


def test_importing_the_same_file_twice_is_refused_as_duplicates(tpi, tmp_path):
    path = write_lines(tmp_path / "in.jsonl", [PATIENT, VISIT])
    assert tpi("import", path).exit_code == 0
    again = tpi("import", path)
    assert again.exit_code == 2 and "line 2" in again.stderr and "P001-V1" in again.stderr
    assert "--allow-duplicates" in again.stderr
    assert len(stored_visits(tpi)) == 1
    allowed = tpi("import", path, "--allow-duplicates")
    assert allowed.exit_code == 0, allowed.stderr
    assert len(stored_visits(tpi)) == 2


def test_a_line_repeating_an_earlier_line_is_a_duplicate(tpi, tmp_path):
    reordered = {**VISIT, "sites": list(reversed([{"muscle": "levator scapulae", "side": "left"},
                                                  *VISIT["sites"]]))}
    first = {**VISIT, "sites": [*VISIT["sites"], {"muscle": "levator scapulae", "side": "left"}]}
    result = tpi("import", write_lines(tmp_path / "in.jsonl", [PATIENT, first, {**VISIT, "pain_after": 3}, reordered]))
    assert result.exit_code == 2 and "line 4" in result.stderr and "line 2" in result.stderr
    assert stored_visits(tpi) == []


def test_a_visit_differing_in_pain_is_not_a_duplicate(tpi, tmp_path):
    result = tpi("import", write_lines(tmp_path / "in.jsonl", [PATIENT, VISIT, {**VISIT, "pain_after": 3}]))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("kind", ["cat", "", None, 1, "Visit"])
def test_type_must_be_patient_or_visit(tpi, tmp_path, kind):
    result = tpi("import", write_lines(tmp_path / "in.jsonl", [PATIENT, {**VISIT, "type": kind}]))
    assert result.exit_code == 2 and "line 2" in result.stderr and '"patient" or "visit"' in result.stderr


def test_import_refusal_names_what_to_add_to_the_line(tpi, tmp_path):
    allergic = {**PATIENT, "allergies": ["lidocaine"]}
    result = tpi("import", write_lines(tmp_path / "in.jsonl", [allergic, VISIT]))
    assert result.exit_code == 1 and "line 2" in result.stderr
    assert '"override_reason"' in result.stderr and "--override-reason" not in result.stderr
    overridden = {**VISIT, "override_reason": "tested: tolerated lidocaine 2025"}
    assert tpi("import", write_lines(tmp_path / "in2.jsonl", [allergic, overridden])).exit_code == 0


def test_patient_amendments_are_not_read_from_an_import(tpi, tmp_path):
    stamped = {**PATIENT, "amendments": [{"at": "2026-01-01T00:00:00Z", "by": "x", "reason": None, "changes": {}}]}
    result = tpi("import", write_lines(tmp_path / "in.jsonl", [stamped]))
    assert result.exit_code == 2 and "amendments" in result.stderr


# --- 6. stdout carries only data ----------------------------------------------------------------------


def test_confirmations_go_to_stderr_and_what_was_asked_for_to_stdout(tpi, log, patient):
    record = log("--site", "UT:left", "--pain-before", "7", "--pain-after", "2")
    shown = tpi("visit", "show", record["id"])
    assert "P001-V1" in shown.stdout and shown.stderr == ""
    for args in (("patient", "update", "P001", "--weight-kg", "71"),
                 ("visit", "amend", record["id"], "--reason", "r", "--pain-after", "3")):
        result = tpi(*args)
        assert result.exit_code == 0, result.stderr
        assert "P001" in result.stderr and "P001" not in result.stdout, args


# --- 7. messages name the fix --------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (("--date", "2026-13-01"), "--date: '2026-13-01' is not a date; write YYYY-MM-DD"),
    (("--date", "the 3rd"), "YYYY-MM-DD"),
    (("--follow-up", "2026-02-30"), "YYYY-MM-DD"),
    (("--consent", "oral"), "'verbal' or 'written'"),
    (("--pain-before", "11"), "at most 10"),
])
def test_cli_messages_name_the_fix(tpi, patient, args, expected):
    base = {"--site": "UT:left", "--pain-before": "7", "--pain-after": "2"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    flags = [item for key, value in {**base, **given}.items() for item in (key, value)]
    result = tpi("log-visit", "--patient", "P001", *flags)
    assert result.exit_code == 2
    assert expected in result.stderr
    for raw in ("invalid character", "input is too short", "Input should", "Value error"):
        assert raw not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [("--sex", "f"), ("--dob", "1968-4-2"), ("--payer", "medicaid")])
def test_patient_messages_name_the_fix(tpi, args):
    result = tpi("patient", "add", "--id", "P9", "--name", "X", "--dob", "1990-01-01", *args)
    assert result.exit_code == 2
    assert "Input should" not in result.stderr and result.stderr.startswith("error: ")
    assert ("YYYY-MM-DD" in result.stderr) or ("one of" in result.stderr)
