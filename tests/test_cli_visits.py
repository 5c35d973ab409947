from __future__ import annotations

import json

import pytest

from tpi_cli.cli import visit as visit_cli


def stored_visits(tpi, patient="P001"):
    result = tpi("visits", "--patient", patient, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_log_visit_stores_doses_cpt_and_prints_a_confirmation(tpi, patient):
    result = tpi("log-visit", "--patient", "P001", "--date", "2026-11-02", "--site", "upper trapezius:left:2",
                 "--site", "levator:left", "--agent", "lidocaine 1% 3 mL", "--pain-before", "7",
                 "--pain-after", "2", "--dx", "m79.12", "--consent", "verbal")
    assert result.exit_code == 0, result.stderr
    assert "P001-V1" in result.stderr
    assert "lidocaine 30 mg" in result.stderr
    assert "7 → 2" in result.stderr
    assert "20552" in result.stderr
    assert "PNEUMOTHORAX" in result.stderr
    [stored] = stored_visits(tpi)
    assert stored["sites"] == [
        {"muscle": "upper trapezius", "side": "left", "points": 2, "volume_ml": None},
        {"muscle": "levator scapulae", "side": "left", "points": 1, "volume_ml": None},
    ]
    assert stored["agents"] == [{"drug": "lidocaine", "concentration": {"value": 1.0, "unit": "%"},
                                 "volume_ml": 3.0, "epinephrine": False, "dose_mg": 30.0}]
    assert stored["diagnoses"] == ["M79.12"]
    assert stored["cpt"] == ["20552"]
    assert stored["consent"] == "verbal"


def test_json_prints_the_stored_record_and_nothing_else(tpi, patient):
    result = tpi("log-visit", "--patient", "P001", "--site", "QL:bilateral:4", "--site", "glute med:right",
                 "--agent", "bupivacaine 0.25% 4 mL", "--pain-before", "8", "--pain-after", "3", "--ultrasound",
                 "--json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["cpt"] == ["20553", "76942"]
    assert record["agents"][0]["dose_mg"] == 10.0
    for key in ("id", "patient_id", "date", "clinician", "sites", "agents", "pain_before", "pain_after",
                "diagnoses", "needle", "twitch", "complications", "notes", "prior_relief", "functional_scores",
                "home_exercise", "consent", "ultrasound", "cpt", "warnings", "overrides", "follow_up",
                "amendments"):
        assert key in record


def test_no_agent_is_dry_needling(log, patient):
    record = log("--site", "UT:left", "--site", "UT:right", "--site", "levator:left", "--pain-before", "5",
                 "--pain-after", "3")
    assert record["agents"] == [] and record["cpt"] == ["20561"]
    assert any("dry needling" in w for w in record["warnings"])


def test_consent_defaults_from_config_and_is_never_invented(tpi, log, patient):
    record = log("--site", "QL:left", "--pain-before", "5", "--pain-after", "3")
    assert record["consent"] is None
    assert any("Consent not documented" in w for w in record["warnings"])
    assert tpi("config", "set", "consent.default", "written").exit_code == 0
    record = log("--site", "QL:right", "--pain-before", "5", "--pain-after", "3")
    assert record["consent"] == "written"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "UT:left", "--pain-before", "11", "--pain-after", "2"], "pain_before: must be at most 10"),
        (["--site", "UT:left", "--pain-before", "5", "--pain-after", "2", "--date", "2999-01-01"], "future"),
        (["--site", "UT:left", "--pain-before", "5", "--pain-after", "2", "--date", "2026-02-30"], "date"),
        (["--site", "trapz:left", "--pain-before", "5", "--pain-after", "2"], "unknown muscle"),
        (["--site", "UT:left", "--agent", "lidocaine 1%", "--pain-before", "5", "--pain-after", "2"], "volume"),
        (["--site", "UT:left", "--pain-before", "5", "--pain-after", "2", "--dx", "M79-18"], "ICD-10-CM"),
        (["--site", "UT:left", "--pain-before", "5", "--pain-after", "2", "--prior-relief-pct", "50"],
         "--prior-relief-weeks"),
        (["--site", "UT:left", "--site", "UT:bilateral", "--pain-before", "5", "--pain-after", "2"], "twice"),
        (["--site", "UT:left", "--pain-before", "5", "--pain-after", "2", "--date", "2026-11-01",
          "--follow-up", "2026-10-01"], "before the visit date"),
        (["--site", "UT:left", "--pain-before", "5", "--pain-after", "2", "--consent", "implied"], "consent"),
        (["--site", "UT:left", "--pain-before", "5", "--pain-after", "2", "--date", "1960-01-01"],
         "before P001's date of birth"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tpi, patient, args, message):
    result = tpi("log-visit", "--patient", "P001", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert stored_visits(tpi) == []


def test_unknown_patient_is_bad_input(tpi, patient):
    result = tpi("log-visit", "--patient", "NOPE", "--site", "UT:left", "--pain-before", "5", "--pain-after", "2")
    assert result.exit_code == 2
    assert "no patient with id 'NOPE'" in result.stderr


def test_missing_values_without_a_terminal_are_named(tpi, patient):
    result = tpi("log-visit", "--patient", "P001", "--site", "UT:left")
    assert result.exit_code == 2
    assert "missing --pain-before, --pain-after" in result.stderr


def test_guided_prompts_ask_for_what_is_missing_and_ask_again_after_a_mistake(tpi, patient, monkeypatch):
    monkeypatch.setattr(visit_cli, "stdin_is_terminal", lambda: True)
    answers = (
        "P001\n"
        "trapz:left\n"              # unknown muscle: asked again
        "upper trapezius:left:2\n"
        "levator:left\n"
        "\n"                        # sites done
        "lidocaine 1% 3 mL\n"
        "\n"                        # agents done
        "eleven\n"                  # not a number: asked again
        "7\n"
        "2\n"
    )
    result = tpi("log-visit", "--consent", "verbal", "--json", input=answers)
    assert result.exit_code == 0, result.stderr
    assert "did you mean 'upper trapezius'" in result.stderr
    # the questions go to stderr; CliRunner echoes the typed answers to stdout, a terminal would not
    assert "Pain before" in result.stderr and "Pain before" not in result.stdout
    record = json.loads(result.stdout[result.stdout.index("{"):])
    assert [s["muscle"] for s in record["sites"]] == ["upper trapezius", "levator scapulae"]
    assert record["pain_before"] == 7 and record["pain_after"] == 2


def test_from_file_takes_a_visit_input_record(tpi, patient, tmp_path):
    path = tmp_path / "visit.json"
    path.write_text(json.dumps({
        "patient_id": "P001", "date": "2026-10-01",
        "sites": [{"muscle": "QL", "side": "left", "points": 3}],
        "agents": [{"drug": "Xylocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 4}],
        "pain_before": 6, "pain_after": 2, "consent": "written", "functional_scores": [{"scale": "ODI", "score": 38}],
    }))
    result = tpi("log-visit", "--from-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["sites"][0]["muscle"] == "quadratus lumborum"
    assert record["agents"][0]["drug"] == "lidocaine" and record["agents"][0]["dose_mg"] == 40


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dose_mg": 30}, "dose_mg is computed by tpi"),
        ({"colour": "red"}, "unknown key 'colour'"),
        ({"pain_after": 12}, "pain_after"),
    ],
)
def test_from_file_refuses_bad_records(tpi, patient, tmp_path, change, message):
    record = {"patient_id": "P001", "date": "2026-10-01", "sites": [{"muscle": "QL", "side": "left"}],
              "pain_before": 6, "pain_after": 2, **change}
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(record))
    result = tpi("log-visit", "--from-file", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert stored_visits(tpi) == []


def test_follow_up_days_counts_from_the_visit_date(log, patient):
    record = log("--date", "2026-11-01", "--site", "QL:left", "--pain-before", "5", "--pain-after", "3",
                 "--follow-up-days", "42")
    assert record["follow_up"] == "2026-12-13"


def test_visits_are_listed_newest_first(tpi, log, patient):
    log("--date", "2026-01-05", "--site", "QL:left", "--pain-before", "5", "--pain-after", "3")
    log("--date", "2026-06-05", "--site", "QL:left", "--pain-before", "5", "--pain-after", "3")
    log("--date", "2026-03-05", "--site", "QL:left", "--pain-before", "5", "--pain-after", "3")
    assert [v["date"] for v in stored_visits(tpi)] == ["2026-06-05", "2026-03-05", "2026-01-05"]
    table = tpi("visits").stdout
    assert table.index("2026-06-05") < table.index("2026-01-05")


def test_visit_show(tpi, log, patient):
    record = log("--site", "QL:left", "--pain-before", "5", "--pain-after", "3")
    shown = tpi("visit", "show", record["id"], "--json")
    assert json.loads(shown.stdout) == record
    assert "quadratus lumborum left" in tpi("visit", "show", record["id"]).stdout
    missing = tpi("visit", "show", "P001-V99")
    assert missing.exit_code == 2 and "no visit" in missing.stderr


def test_amend_keeps_the_original_values_who_when_and_why(tpi, log, patient):
    record = log("--date", "2026-11-01", "--site", "UT:left:2", "--agent", "lidocaine 1% 3 mL",
                 "--pain-before", "7", "--pain-after", "2")
    result = tpi("visit", "amend", record["id"], "--reason", "wrong side recorded", "--site", "UT:right:2",
                 "--json")
    assert result.exit_code == 0, result.stderr
    amended = json.loads(result.stdout)
    assert amended["sites"][0]["side"] == "right"
    [amendment] = amended["amendments"]
    assert amendment["reason"] == "wrong side recorded"
    assert amendment["by"]
    assert amendment["changes"]["sites"]["from"][0]["side"] == "left"
    assert amendment["changes"]["sites"]["to"][0]["side"] == "right"
    assert amended["id"] == record["id"] and amended["recorded_at"] == record["recorded_at"]
    assert len(stored_visits(tpi)) == 1


def test_amend_recomputes_doses_and_needs_a_reason(tpi, log, patient):
    record = log("--site", "UT:left:2", "--agent", "lidocaine 1% 3 mL", "--pain-before", "7", "--pain-after", "2")
    result = tpi("visit", "amend", record["id"], "--reason", "volume was 5 mL", "--agent", "lidocaine 1% 5 mL",
                 "--json")
    amended = json.loads(result.stdout)
    assert amended["agents"][0]["dose_mg"] == 50
    assert amended["amendments"][0]["changes"]["agents"]["from"][0]["dose_mg"] == 30
    blank = tpi("visit", "amend", record["id"], "--reason", " ", "--pain-after", "3")
    assert blank.exit_code == 2 and "reason" in blank.stderr
    same = tpi("visit", "amend", record["id"], "--reason", "typo", "--pain-after", "2")
    assert same.exit_code == 2 and "nothing changed" in same.stderr


@pytest.mark.parametrize(("reason", "code", "saved"), [("allergist cleared it", 0, 1), ("", 1, 0)])
def test_guided_entry_asks_for_an_override_reason_instead_of_losing_the_answers(tpi, monkeypatch, reason, code,
                                                                                saved):
    monkeypatch.setattr(visit_cli, "stdin_is_terminal", lambda: True)
    tpi("patient", "add", "--id", "P5", "--name", "A", "--dob", "1990-01-01", "--weight-kg", "60",
        "--allergy", "Marcaine")
    answers = "P404\nP5\nQL:left\n\nbupivacaine 0.25% 3 mL\n\n8\n3\n" + reason + "\n"
    result = tpi("log-visit", "--consent", "verbal", input=answers)
    assert result.exit_code == code, result.stderr
    assert "no patient with id 'P404'" in result.stderr
    assert "refused" in result.stderr and "allergy" in result.stderr
    visits = json.loads(tpi("visits", "--json").stdout)
    assert len(visits) == saved
    if saved:
        assert visits[0]["overrides"] == [{"check": "allergy", "reason": "allergist cleared it"}]


def test_the_visits_table_shows_the_newest_and_says_how_many_more(tpi, log, patient):
    for day in ("2026-01-05", "2026-02-05", "2026-03-05"):
        log("--date", day, "--site", "QL:left", "--pain-before", "5", "--pain-after", "3")
    result = tpi("visits", "--limit", "2")
    assert "showing 2 of 3 visits" in result.stderr
    assert "2026-03-05" in result.stdout and "2026-01-05" not in result.stdout
    assert "2026-01-05" in tpi("visits", "--limit", "0").stdout
    assert len(json.loads(tpi("visits", "--limit", "1", "--json").stdout)) == 1
    assert len(json.loads(tpi("visits", "--json").stdout)) == 3  # --json without --limit is everything


def test_stopping_at_a_prompt_saves_nothing(tpi, patient, monkeypatch):
    monkeypatch.setattr(visit_cli, "stdin_is_terminal", lambda: True)
    result = tpi("log-visit", input="P001\n")  # input ends: as Ctrl-D at the site prompt
    assert result.exit_code == 130
    assert "nothing was saved" in result.stderr
    assert json.loads(tpi("visits", "--json").stdout) == []


def test_amended_follow_up_days_count_from_the_new_date(tpi, log, patient):
    record = log("--date", "2026-11-01", "--site", "QL:left", "--pain-before", "5", "--pain-after", "3")
    result = tpi("visit", "amend", record["id"], "--reason", "wrong day", "--date", "2026-10-01",
                 "--follow-up-days", "10", "--json")
    assert json.loads(result.stdout)["follow_up"] == "2026-10-11"
    result = tpi("visit", "amend", record["id"], "--reason", "later review", "--follow-up-days", "20", "--json")
    assert json.loads(result.stdout)["follow_up"] == "2026-10-21"


@pytest.mark.parametrize(
    ("option", "text", "message"),
    [
        ("--agent", "lidocaine 1% -3 mL", "minus sign"),
        ("--agent", "lidocaine -1% 3 mL", "minus sign"),
        ("--agent", "lidocaine 1% 3 mL mL", "without its own amount"),
        ("--agent", "lidocaine 1% % 3 mL", "without its own amount"),
        ("--agent", "lidocaine 1% 3 mL xyz", "'xyz' is not part of a drug name"),
        ("--agent", "lidocaine 1% 3 mLx", "put a space after the unit"),
        ("--agent", "lidocaine 1% 2,5 mL", "decimal comma"),
        ("--site", "UT:left:-2", "whole number"),
        ("--site", "UT left 2.5", "whole number"),
        ("--function", "NDI=2,5", "decimal comma"),
    ],
)
def test_text_that_could_be_misread_exits_2_and_stores_nothing(tpi, patient, option, text, message):
    given = {"--site": "UT:left:2", "--agent": "lidocaine 1% 3 mL", "--function": "NDI=24", option: text}
    args = [part for pair in given.items() for part in pair]
    result = tpi("log-visit", "--patient", "P001", *args, "--pain-before", "6", "--pain-after", "2")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert stored_visits(tpi) == []
