"""A store record that is readable JSON but not a valid record is damage: exit 3 naming the file and the
record, for listings (also --json), shows and writes alike; the file is never rewritten; never a traceback."""

from __future__ import annotations

import json

import pytest

# A value of the wrong JSON type for each kind of field (none that pydantic's lax mode would coerce).
NOT_TEXT, NOT_NUMBER, NOT_BOOL, NOT_LIST, NOT_DATE, NOT_OBJECT = 5, "x", "maybe", "x", "2026-13-45", 5

PATIENT_FIELDS = {
    "id": NOT_TEXT, "name": NOT_TEXT, "dob": NOT_DATE, "sex": NOT_TEXT, "weight_kg": NOT_NUMBER,
    "allergies": NOT_LIST, "anticoagulated": NOT_BOOL, "diabetic": NOT_BOOL, "pregnant": NOT_BOOL, "payer": NOT_TEXT,
}
PATIENT_REQUIRED = ("id", "name", "dob")

VISIT_FIELDS = {
    "id": NOT_TEXT, "patient_id": NOT_TEXT, "date": NOT_DATE, "clinician": NOT_TEXT, "sites": NOT_LIST,
    "pain_before": NOT_NUMBER, "pain_after": NOT_NUMBER, "diagnoses": NOT_LIST, "ultrasound": NOT_BOOL,
    "needle": NOT_TEXT, "twitch": NOT_BOOL, "complications": NOT_LIST, "notes": NOT_TEXT, "follow_up": NOT_DATE,
    "prior_relief": NOT_OBJECT, "functional_scores": NOT_LIST, "home_exercise": NOT_BOOL, "consent": NOT_TEXT,
    "agents": NOT_LIST, "weight_kg": NOT_NUMBER, "cpt": NOT_LIST, "warnings": NOT_LIST, "overrides": NOT_LIST,
    "amendments": NOT_LIST, "recorded_at": NOT_DATE,
}
VISIT_REQUIRED = ("id", "patient_id", "date", "sites", "pain_before", "pain_after")
# values inside nested records
VISIT_NESTED = {
    "sites.muscle": ("sites", 0, "muscle", NOT_TEXT), "sites.side": ("sites", 0, "side", "up"),
    "sites.points": ("sites", 0, "points", NOT_NUMBER), "agents.drug": ("agents", 0, "drug", NOT_TEXT),
    "agents.volume_ml": ("agents", 0, "volume_ml", NOT_NUMBER),
    "agents.concentration": ("agents", 0, "concentration", NOT_OBJECT),
}


@pytest.fixture
def stored(tpi, patient, log, store_path):
    log("--site", "UT:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "6", "--pain-after", "2",
        "--dx", "M79.18", "--notes", "first")
    return store_path


def _edit(path, table, change):
    data = json.loads(path.read_text())
    doc = next(iter(data[table].values()))
    change(doc)
    path.write_text(json.dumps(data))
    return path.read_bytes()


def _assert_damage(tpi, path, before, commands, record_words):
    for args in commands:
        result = tpi(*args)
        assert result.exit_code == 3, (args, result.exit_code, result.stdout, result.stderr)
        message = " ".join(result.stderr.split())
        assert str(path) in message.replace("\n", "") or str(path) in result.stderr.replace("\n", ""), message
        assert "damaged" in message and all(word in message for word in record_words), message
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert path.read_bytes() == before


PATIENT_READS = (["patient", "list", "--json"], ["patient", "show", "P001", "--json"],
                 ["log-visit", "--patient", "P001", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2"])


@pytest.mark.parametrize(("field", "value"), sorted(PATIENT_FIELDS.items()))
def test_a_stored_patient_field_of_the_wrong_type_is_damage(tpi, stored, field, value):
    main = stored / "tpi.json"
    before = _edit(main, "patients", lambda doc: doc.__setitem__(field, value))
    commands = [c for c in PATIENT_READS if field != "id" or "P001" not in c]
    _assert_damage(tpi, main, before, commands, ["patient record 1", field])


@pytest.mark.parametrize("field", PATIENT_REQUIRED)
def test_a_stored_patient_without_a_required_field_is_damage(tpi, stored, field):
    main = stored / "tpi.json"
    before = _edit(main, "patients", lambda doc: doc.pop(field))
    commands = [c for c in PATIENT_READS if field != "id" or "P001" not in c]
    _assert_damage(tpi, main, before, commands, ["patient record 1", field])


VISIT_READS = (["visits", "--json", "--limit", "0"], ["visit", "show", "P001-V1", "--json"],
               ["log-visit", "--patient", "P001", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2"],
               # exports read each visits file straight from its text: damage is named the same way there
               ["export", "csv", "-o", "-"], ["export", "fhir", "-o", "-"])


def _visit_commands(field):
    # a visit whose id is gone cannot be looked up by it, but every listing and every write still sees it
    return [c for c in VISIT_READS if field not in ("id", "patient_id") or "P001-V1" not in c]


@pytest.mark.parametrize(("field", "value"), sorted(VISIT_FIELDS.items()))
def test_a_stored_visit_field_of_the_wrong_type_is_damage(tpi, stored, field, value):
    shard = stored / "visits" / "p-P001.json"
    before = _edit(shard, "visits", lambda doc: doc.__setitem__(field, value))
    _assert_damage(tpi, shard, before, _visit_commands(field), ["visit record 1", field])


@pytest.mark.parametrize("field", VISIT_REQUIRED)
def test_a_stored_visit_without_a_required_field_is_damage(tpi, stored, field):
    shard = stored / "visits" / "p-P001.json"
    before = _edit(shard, "visits", lambda doc: doc.pop(field))
    _assert_damage(tpi, shard, before, _visit_commands(field), ["visit record 1", field])


@pytest.mark.parametrize("name", sorted(VISIT_NESTED))
def test_a_stored_visit_with_a_bad_nested_value_is_damage(tpi, stored, name):
    shard = stored / "visits" / "p-P001.json"
    key, index, inner, value = VISIT_NESTED[name]
    before = _edit(shard, "visits", lambda doc: doc[key][index].__setitem__(inner, value))
    _assert_damage(tpi, shard, before, VISIT_READS, ["visit record 1 (P001-V1)", key])


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"key": "limits.lidocaine.max_mg", "value": "300"}, ["limits.lidocaine.max_mg", "number"]),
        ({"key": "limits.lidocaine.max_mg", "value": float("nan")}, ["limits.lidocaine.max_mg", "finite"]),
        ({"key": "limits.lidocaine.max_mg", "value": 0}, ["limits.lidocaine.max_mg", "more than 0"]),
        ({"key": "limits.lidocaine.max_mg", "value": True}, ["limits.lidocaine.max_mg", "number"]),
        ({"key": "follow_up.default_days", "value": 99999999}, ["follow_up.default_days", "at most 365"]),
        ({"key": "follow_up.default_days", "value": 7.5}, ["follow_up.default_days", "whole number"]),
        ({"key": "clinic.name", "value": 5}, ["clinic.name", "text"]),
        ({"key": "consent.default", "value": "shouted"}, ["consent.default", "one of"]),
        ({"key": "handout.heat", "value": "yes"}, ["handout.heat", "true or false"]),
        ({"key": "no.such.setting", "value": 1}, ["no.such.setting"]),
        ({"key": 5, "value": 1}, ["setting record 1"]),
        ({"value": 1}, ["setting record 1"]),
        ({"key": "clinic.name"}, ["setting record 1"]),
    ],
)
def test_a_stored_setting_that_is_not_valid_is_damage(tpi, stored, doc, words):
    main = stored / "tpi.json"
    data = json.loads(main.read_text())
    data["settings"] = {"1": doc}
    main.write_text(json.dumps(data))  # NaN is written as the bare word NaN, which json reads back
    before = main.read_bytes()
    commands = (["config", "show", "--json"], ["config", "set", "clinic.phone", "555"],
                ["log-visit", "--patient", "P001", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2"])
    _assert_damage(tpi, main, before, commands, words)


@pytest.mark.parametrize(
    "meta",
    [{}, {"1": {}}, {"1": {"schema_version": "1"}}, {"1": {"schema_version": 0}}, {"1": {"schema_version": True}},
     {"1": {"schema_version": 1}, "2": {"schema_version": 1}}],
)
def test_a_stored_schema_version_that_is_not_valid_is_damage(tpi, stored, meta):
    main = stored / "tpi.json"
    data = json.loads(main.read_text())
    data["meta"] = meta
    main.write_text(json.dumps(data))
    before = main.read_bytes()
    _assert_damage(tpi, main, before, [["patient", "add", "--id", "P2", "--name", "B", "--dob", "1990-01-01"],
                                       ["config", "set", "clinic.phone", "555"]], ["meta", "schema_version"])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"patients": []}', ["patients", "not a table"]),
        ('{"patients": {"one": {"id": "P001"}}}', ["patients record 'one'"]),
        ('{"patients": {"1": 5}}', ["patients record '1'"]),
        ("[1, 2]", ["not a complete tpi store file"]),
        ("[" * 100_000 + "]" * 100_000, ["nested too deeply"]),
        ('{"meta": {"1": {"schema_version": ' + "9" * 5000 + "}}}", ["not usable JSON"]),
        ("\xff\xfe", ["not a complete tpi store file"]),
    ],
)
def test_a_store_file_that_is_not_a_table_of_records_is_damage(tpi, stored, content, words):
    main = stored / "tpi.json"
    main.write_bytes(content.encode("latin-1") if content == "\xff\xfe" else content.encode())
    before = main.read_bytes()
    _assert_damage(tpi, main, before, PATIENT_READS, words)


def test_two_patients_with_one_id_are_damage(tpi, stored):
    main = stored / "tpi.json"
    data = json.loads(main.read_text())
    data["patients"]["2"] = dict(data["patients"]["1"])
    main.write_text(json.dumps(data))
    _assert_damage(tpi, main, main.read_bytes(), PATIENT_READS, ["P001", "stored twice"])


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"visits": []}', ["visits", "not a table"]),
        ('{"visits": {"one": {"id": "P001-V1"}}}', ["visits record 'one'"]),
        ('{"visits": {"1": 5}}', ["visits record '1'"]),
        ('{"visits": {}, "meta": {"1": 5}}', ["meta record '1'"]),
        ("[1, 2]", ["not a complete tpi store file"]),
        ('{"visits": {"1": {"id": "P001-V1"}}', ["not valid JSON"]),
        ("[" * 100_000 + "]" * 100_000, ["nested too deeply"]),
        ("\xff\xfe", ["not a complete tpi store file"]),
    ],
)
def test_a_visits_file_that_is_not_a_table_of_records_is_damage(tpi, stored, content, words):
    shard = stored / "visits" / "p-P001.json"
    shard.write_bytes(content.encode("latin-1") if content == "\xff\xfe" else content.encode())
    _assert_damage(tpi, shard, shard.read_bytes(), VISIT_READS[2:], words)


def test_a_visit_stored_twice_under_one_key_is_read_as_the_json_reader_reads_it(tpi, stored):
    """JSON with a key given twice keeps the last value: the text-first reading may not keep another."""
    shard = stored / "visits" / "p-P001.json"
    text = shard.read_text()
    first = json.loads(text)["visits"]["1"]
    shard.write_text(text.replace('"visits":{', '"visits":{"1":' + json.dumps({**first, "notes": "older"}) + ",", 1))
    exported = tpi("export", "csv", "-o", "-")
    assert exported.exit_code == 0, exported.stderr
    assert ",first," in exported.stdout and "older" not in exported.stdout
    shard.write_text(text.replace('"visits":{', '"visits":{"1":' + json.dumps({**first, "pain_before": "x"}) + ",", 1))
    assert tpi("export", "csv", "-o", "-").exit_code == 0  # the value JSON itself drops is no damage either
