from __future__ import annotations

import json

import pytest


def test_add_list_show_a_patient(tpi):
    result = tpi("patient", "add", "--id", "P-7.a_b", "--name", "Nguyễn Thị Ánh", "--dob", "1959-12-31",
                 "--sex", "female", "--weight-kg", "52.5", "--allergy", "sulfite", "--allergy", "Marcaine",
                 "--anticoagulated", "--payer", "commercial")
    assert result.exit_code == 0, result.stderr
    [listed] = json.loads(tpi("patient", "list", "--json").stdout)
    assert listed == {"id": "P-7.a_b", "name": "Nguyễn Thị Ánh", "dob": "1959-12-31", "sex": "female",
                      "weight_kg": 52.5, "allergies": ["sulfite", "Marcaine"], "anticoagulated": True,
                      "diabetic": False, "pregnant": False, "payer": "commercial", "family": None, "given": [],
                      "mrn": None, "amendments": []}
    shown = tpi("patient", "show", "P-7.a_b")
    assert "Nguyễn Thị Ánh" in shown.stdout and "sulfite, Marcaine" in shown.stdout
    assert json.loads(tpi("patient", "show", "P-7.a_b", "--json").stdout) == listed
    assert "Nguyễn Thị Ánh" in tpi("patient", "list").stdout


def test_payer_is_stored_as_given_or_null(tpi):
    tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01")
    assert json.loads(tpi("patient", "show", "P1", "--json").stdout)["payer"] is None


def test_update_changes_only_what_is_given(tpi, patient):
    result = tpi("patient", "update", "P001", "--weight-kg", "64", "--allergy", "amide", "--diabetic")
    assert result.exit_code == 0, result.stderr
    record = json.loads(tpi("patient", "show", "P001", "--json").stdout)
    assert (record["weight_kg"], record["allergies"], record["diabetic"], record["name"]) == (
        64, ["amide"], True, "Ana María Núñez")
    tpi("patient", "update", "P001", "--remove-allergy", "AMIDE", "--not-diabetic")
    record = json.loads(tpi("patient", "show", "P001", "--json").stdout)
    assert record["allergies"] == [] and record["diabetic"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "has space", "--name", "A", "--dob", "1990-01-01"], "id:"),
        (["--id", "x" * 33, "--name", "A", "--dob", "1990-01-01"], "id:"),
        (["--id", "P9", "--name", "A", "--dob", "2999-01-01"], "future"),
        (["--id", "P9", "--name", "A", "--dob", "1990-02-30"], "dob"),
        (["--id", "P9", "--name", " ", "--dob", "1990-01-01"], "name"),
        (["--id", "P9", "--name", "A", "--dob", "1990-01-01", "--weight-kg", "0"], "weight_kg"),
        (["--id", "P9", "--name", "A", "--dob", "1990-01-01", "--payer", "medicaid"], "payer"),
        (["--id", "P9", "--name", "A", "--dob", "1990-01-01", "--sex", "f"], "sex"),
    ],
)
def test_bad_patients_are_refused_and_nothing_is_written(tpi, args, message, store_path):
    result = tpi("patient", "add", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not store_path.exists()


def test_duplicate_and_unknown_ids(tpi, patient):
    dup = tpi("patient", "add", "--id", "P001", "--name", "Other", "--dob", "1990-01-01")
    assert dup.exit_code == 2 and "already exists" in dup.stderr
    unknown = tpi("patient", "update", "P404", "--weight-kg", "70")
    assert unknown.exit_code == 2 and "no patient with id 'P404'" in unknown.stderr


def test_config_set_and_show(tpi):
    assert tpi("config", "set", "clinic.phone", "(555) 010-2000").exit_code == 0
    settings = json.loads(tpi("config", "show", "--json").stdout)
    assert settings["clinic.phone"] == "(555) 010-2000"
    assert settings["payer.default"] == "medicare"
    assert settings["limits.lidocaine.max_mg"] == 300
    bad = tpi("config", "set", "payer.default", "medicaid")
    assert bad.exit_code == 2 and "payer.default must be one of" in bad.stderr
    unknown = tpi("config", "set", "clinic.fax", "1")
    assert unknown.exit_code == 2 and "unknown setting" in unknown.stderr
    assert "clinic.phone" in tpi("config", "show").stdout


@pytest.mark.parametrize("command", [("patient", "add", "--id", "P9", "--name", "A", "--dob", "1970-01-01"),
                                     ("patient", "update", "P001")])
def test_a_mistyped_allergy_is_kept_as_typed_and_flagged_at_once(tpi, patient, command):
    result = tpi(*command, "--allergy", "lidocain", "--allergy", "sulfite")
    assert result.exit_code == 0, result.stderr
    assert "'lidocain'" in result.stderr and "lidocaine" in result.stderr and "cannot check" in result.stderr
    assert "sulfite" not in result.stderr
    shown = json.loads(tpi("patient", "show", command[2] if command[1] == "update" else "P9", "--json").stdout)
    assert "lidocain" in shown["allergies"]
