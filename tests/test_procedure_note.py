"""Procedure-note fields (clinical-reference.md §1): stored exactly as given, null when not given."""

from __future__ import annotations

import json

import pytest


def test_procedure_time_is_stored_as_typed_and_null_when_not_given(log, patient):
    without = log("--site", "UT:left", "--pain-before", "7", "--pain-after", "2")
    assert without["procedure_time"] is None
    with_time = log("--site", "UT:left", "--pain-before", "7", "--pain-after", "2", "--time", "14:05")
    assert with_time["procedure_time"] == "14:05"


@pytest.mark.parametrize("text", ["14.05", "25:00", "14:60", "2pm", "14:05:30", "", "-1:00", "1405"])
def test_a_time_that_is_not_hh_mm_is_refused_naming_the_field(tpi, patient, text):
    result = tpi("log-visit", "--patient", "P001", "--site", "UT:left", "--pain-before", "7", "--pain-after", "2",
                 "--time", text)
    assert result.exit_code == 2
    assert "procedure_time" in result.stderr and "HH:MM" in result.stderr
    assert json.loads(tpi("visits", "--json").stdout) == []


def test_amending_the_time_records_from_and_to(tpi, log, patient):
    visit = log("--site", "UT:left", "--pain-before", "7", "--pain-after", "2", "--time", "9:30")
    assert visit["procedure_time"] == "09:30"
    result = tpi("visit", "amend", visit["id"], "--reason", "clock was wrong", "--time", "10:15", "--json")
    assert result.exit_code == 0, result.stderr
    amended = json.loads(result.stdout)
    assert amended["procedure_time"] == "10:15"
    assert amended["amendments"][-1]["changes"] == {"procedure_time": {"from": "09:30", "to": "10:15"}}


def test_a_time_in_an_input_file_must_be_text(tpi, patient, tmp_path):
    record = {"patient_id": "P001", "sites": [{"muscle": "upper trapezius", "side": "left"}],
              "pain_before": 7, "pain_after": 2, "date": "2026-11-02", "procedure_time": 930}
    path = tmp_path / "v.json"
    path.write_text(json.dumps(record))
    result = tpi("log-visit", "--from-file", str(path))
    assert result.exit_code == 2 and "procedure_time" in result.stderr
    record["procedure_time"] = "09:30"
    path.write_text(json.dumps(record))
    result = tpi("log-visit", "--from-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["procedure_time"] == "09:30"


NOTE_FLAGS = ["--time-out", "--prep", "chlorhexidine", "--aspiration", "--blood-loss", "minimal", "--tolerance",
              "well", "--observation", "20 min, breath sounds equal", "--disposition", "home, ambulatory",
              "--finding", "taut band", "--finding", "Referred pain", "--conservative-care", "PT 8 weeks",
              "--risks-discussed", "bleeding, infection, pneumothorax", "--anticoagulant", "apixaban",
              "--last-dose", "2026-11-01 08:00", "--inr", "1.1", "--steroid-vial-ml", "1"]


def test_procedure_note_fields_are_stored_as_typed(log, patient):
    visit = log("--date", "2026-11-02", "--site", "UT:left", "--pain-before", "7", "--pain-after", "2", *NOTE_FLAGS)
    assert {key: visit[key] for key in ("time_out", "skin_prep", "aspiration", "blood_loss", "tolerance",
                                        "observation", "disposition", "findings", "conservative_care",
                                        "risks_discussed", "anticoagulant", "anticoagulant_last_dose", "inr",
                                        "steroid_vial_ml")} == {
        "time_out": True, "skin_prep": "chlorhexidine", "aspiration": True, "blood_loss": "minimal",
        "tolerance": "well", "observation": "20 min, breath sounds equal", "disposition": "home, ambulatory",
        "findings": ["taut band", "referred pain"], "conservative_care": "PT 8 weeks",
        "risks_discussed": "bleeding, infection, pneumothorax", "anticoagulant": "apixaban",
        "anticoagulant_last_dose": "2026-11-01 08:00", "inr": 1.1, "steroid_vial_ml": 1.0}


def test_procedure_note_fields_are_null_when_not_given_even_after_an_amendment(tpi, log, patient):
    visit = log("--site", "UT:left", "--pain-before", "7", "--pain-after", "2")
    keys = ("time_out", "skin_prep", "aspiration", "blood_loss", "tolerance", "observation", "disposition",
            "conservative_care", "risks_discussed", "anticoagulant", "anticoagulant_last_dose", "inr",
            "steroid_vial_ml", "procedure_time")
    assert all(visit[key] is None for key in keys) and visit["findings"] == []
    result = tpi("visit", "amend", visit["id"], "--reason", "add prep", "--prep", "povidone-iodine", "--json")
    amended = json.loads(result.stdout)
    assert amended["skin_prep"] == "povidone-iodine"
    assert all(amended[key] is None for key in keys if key != "skin_prep")
    assert list(amended["amendments"][-1]["changes"]) == ["skin_prep"]


@pytest.mark.parametrize(("flags", "field"), [
    (["--finding", "tender"], "findings"),
    (["--last-dose", "yesterday"], "anticoagulant_last_dose"),
    (["--last-dose", "2026-02-30"], "anticoagulant_last_dose"),
    (["--last-dose", "2026-11-03"], "anticoagulant last dose"),
    (["--inr", "40"], "inr"),
    (["--steroid-vial-ml", "0"], "steroid_vial_ml"),
])
def test_bad_procedure_note_values_are_refused_naming_the_field(tpi, patient, flags, field):
    result = tpi("log-visit", "--patient", "P001", "--date", "2026-11-02", "--site", "UT:left", "--pain-before", "7",
                 "--pain-after", "2", *flags)
    assert result.exit_code == 2, result.stderr
    assert field in result.stderr
    assert json.loads(tpi("visits", "--json").stdout) == []


@pytest.mark.parametrize(("findings", "warned"), [([], True), (["taut band"], True),
                                                  (["taut band", "referred pain"], False)])
def test_a_first_medicare_injection_with_fewer_than_two_findings_is_warned(log, patient, findings, warned):
    flags = [flag for finding in findings for flag in ("--finding", finding)]
    visit = log("--site", "UT:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "7", "--pain-after", "2",
                *flags)
    assert any("at least 2 trigger-point findings" in w for w in visit["warnings"]) is warned
    assert not any("--" in w for w in visit["warnings"])


def test_dry_needling_and_repeats_are_not_judged_on_findings(log, patient):
    dry = log("--date", "2026-09-01", "--site", "UT:left", "--pain-before", "7", "--pain-after", "2")
    assert not any("trigger-point findings" in w for w in dry["warnings"])
    log("--date", "2026-09-02", "--site", "UT:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "7",
        "--pain-after", "2", "--finding", "taut band", "--finding", "local twitch")
    repeat = log("--date", "2026-11-02", "--site", "UT:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "7",
                 "--pain-after", "2")
    assert not any("trigger-point findings" in w for w in repeat["warnings"])


def test_printing_a_handout_records_it_on_the_visit(tpi, log, patient, tmp_path):
    visit = log("--site", "UT:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "7", "--pain-after", "2")
    assert visit["handout_given"] == []
    assert tpi("handout", "--patient", "P001", "--lang", "es", "-o", str(tmp_path / "h.pdf")).exit_code == 0
    stored = json.loads(tpi("visit", "show", visit["id"], "--json").stdout)
    assert [(g["lang"], g["large_print"]) for g in stored["handout_given"]] == [("es", False)]
    amended = json.loads(tpi("visit", "amend", visit["id"], "--reason", "x", "--pain-after", "3", "--json").stdout)
    assert len(amended["handout_given"]) == 1 and "handout_given" not in amended["amendments"][-1]["changes"]


@pytest.mark.parametrize("notes_words", [0, 60, 120, 180, 240, 300, 360, 420])
def test_the_signature_block_never_stands_alone_on_a_page(tpi, log, patient, tmp_path, notes_words):
    # notes of growing length move the page break through the note's last sections
    from pypdf import PdfReader

    flags = ["--notes", " ".join(["tenderness"] * notes_words)] if notes_words else []
    visit = log("--site", "UT:left", "--pain-before", "7", "--pain-after", "2", *flags)
    out = tmp_path / "note.pdf"
    assert tpi("report", "--visit", visit["id"], "-o", str(out)).exit_code == 0
    pages = [page.extract_text() for page in PdfReader(str(out)).pages]
    signed_page = next(text for text in pages if "Not signed." in text)
    assert "Amendments" in signed_page and "Addenda" in signed_page
