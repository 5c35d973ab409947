"""The store contract: every test here runs against the TinyDB store and the PostgreSQL store alike.

The `store_kind` fixture selects the store as a user does (TPI_STORE); the tests drive the CLI and
never look at which kind they have, so both kinds must give the same results.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

pytestmark = pytest.mark.usefixtures("store_kind")

TODAY = dt.date.today()


def days_ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def add(tpi, pid="P1", *extra: str):
    result = tpi("patient", "add", "--id", pid, "--name", "Zoë Łukasz-Nguyễn", "--dob", "1960-01-01",
                 "--weight-kg", "50", *extra)
    assert result.exit_code == 0, result.stderr


def log(tpi, *args: str, pid="P1", expect=0):
    result = tpi("log-visit", "--patient", pid, "--pain-before", "7", "--pain-after", "2", *args, "--json")
    assert result.exit_code == expect, result.stderr
    return json.loads(result.stdout) if expect == 0 else result


def visits(tpi, *args: str) -> list[dict]:
    result = tpi("visits", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_patients_are_added_updated_listed_and_shown(tpi):
    add(tpi, "P2")
    add(tpi, "P1", "--allergy", "sulfite")
    assert tpi("patient", "add", "--id", "P1", "--name", "Again", "--dob", "1960-01-01").exit_code == 2
    assert tpi("patient", "update", "P1", "--weight-kg", "61.5").exit_code == 0
    listed = json.loads(tpi("patient", "list", "--json").stdout)
    assert [p["id"] for p in listed] == ["P1", "P2"]
    shown = json.loads(tpi("patient", "show", "P1", "--json").stdout)
    assert shown["weight_kg"] == 61.5 and shown["allergies"] == ["sulfite"]
    assert shown["name"] == "Zoë Łukasz-Nguyễn"


def test_visits_are_numbered_per_patient_and_listed_newest_first(tpi):
    add(tpi, "P1")
    add(tpi, "P2")
    first = log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 2 mL", "--date", days_ago(10))
    second = log(tpi, "--site", "QL:right", "--agent", "lidocaine 1% 2 mL", "--date", days_ago(20))
    other = log(tpi, "--site", "QL:right", "--agent", "lidocaine 1% 2 mL", "--date", days_ago(5), pid="P2")
    assert [first["id"], second["id"], other["id"]] == ["P1-V1", "P1-V2", "P2-V1"]
    assert [v["id"] for v in visits(tpi)] == ["P2-V1", "P1-V1", "P1-V2"]
    assert [v["id"] for v in visits(tpi, "--patient", "P1")] == ["P1-V1", "P1-V2"]
    shown = json.loads(tpi("visit", "show", "P1-V1", "--json").stdout)
    assert shown == first
    assert first["agents"][0]["dose_mg"] == 20


def test_an_amendment_keeps_the_original_values_and_reason(tpi):
    add(tpi)
    logged = log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 2 mL")
    result = tpi("visit", "amend", logged["id"], "--reason", "wrong side", "--site", "QL:right", "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(tpi("visit", "show", logged["id"], "--json").stdout)
    assert shown["sites"][0]["side"] == "right"
    (amendment,) = shown["amendments"]
    assert amendment["reason"] == "wrong side"
    assert amendment["changes"]["sites"]["from"][0]["side"] == "left"
    assert amendment["by"] == logged["recorded_by"]


def test_a_refused_visit_or_amendment_writes_nothing(tpi):
    add(tpi)
    refused = log(tpi, "--site", "QL:left", "--agent", "lidocaine 2% 12.5 mL", expect=1)
    assert "local anesthetic dose" in refused.stderr
    assert visits(tpi) == []
    logged = log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 2 mL")
    result = tpi("visit", "amend", logged["id"], "--reason", "volume", "--agent", "lidocaine 2% 12.5 mL")
    assert result.exit_code == 1
    assert visits(tpi) == [logged]


def test_a_second_visit_the_same_day_is_seen_in_the_history(tpi):
    add(tpi)
    log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 2 mL")
    second = log(tpi, "--site", "glute med:left", "--agent", "lidocaine 1% 2 mL")
    assert any("one session a day" in w for w in second["warnings"])


def test_the_days_stored_visits_add_up_in_the_dose_check(tpi):
    add(tpi)  # 50 kg: lidocaine plain 225 mg
    log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 15 mL")
    refused = log(tpi, "--site", "glute med:left", "--agent", "lidocaine 1% 8 mL", expect=1)
    assert "local anesthetic dose" in refused.stderr and "over 2 visits" in refused.stderr
    assert len(visits(tpi)) == 1
    yesterday = log(tpi, "--site", "glute med:left", "--agent", "lidocaine 1% 8 mL", "--date", days_ago(1))
    assert yesterday["id"] == "P1-V2"


def test_sessions_per_year_count_the_stored_visits(tpi):
    add(tpi, "P1", "--payer", "medicare")
    for days in (300, 200, 100):
        log(tpi, "--site", "glute med:left", "--agent", "lidocaine 1% 2 mL", "--date", days_ago(days))
    fourth = log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 2 mL")
    assert any("sessions in the 365 days" in w for w in fourth["warnings"])


@pytest.mark.parametrize(("days_before", "warns"), [(364, True), (365, False)])
def test_steroid_exposure_counts_stored_visits_of_the_trailing_365_days(tpi, days_before, warns):
    add(tpi)
    # 180 + 40 = 220 mg MPE, above the 200 mg a year of Kang 2012 / Kerezoudis 2018
    log(tpi, "--site", "glute med:left", "--agent", "triamcinolone 40 mg/mL 4.5 mL", "--date",
        days_ago(days_before))
    today = log(tpi, "--site", "QL:left", "--agent", "triamcinolone 40 mg/mL 1 mL")
    assert any("Steroid exposure" in w for w in today["warnings"]) == warns


def test_settings_are_kept_and_reach_the_checks(tpi):
    add(tpi)
    assert tpi("config", "set", "limits.anesthetic_warn_pct", "10").exit_code == 0
    assert tpi("config", "set", "clinic.name", "Clínica Ñandú").exit_code == 0
    shown = tpi("config", "show")
    assert "Clínica Ñandú" in shown.stdout
    logged = log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 3 mL")
    assert any("near the reference limit" in w for w in logged["warnings"])


SITE = {"muscle": "upper trapezius", "side": "left"}


def lidocaine(percent: float, ml: float) -> dict:
    return {"drug": "lidocaine", "concentration": {"value": percent, "unit": "%"}, "volume_ml": ml}


def test_an_import_writes_everything_or_nothing(tpi, tmp_path):
    lines = [
        {"id": "P7", "name": "Imported", "dob": "1970-05-05", "weight_kg": 50},
        {"patient_id": "P7", "date": days_ago(3), "sites": [SITE], "agents": [lidocaine(1, 2)],
         "pain_before": 6, "pain_after": 1},
        {"patient_id": "P7", "date": days_ago(2), "sites": [SITE], "agents": [lidocaine(2, 12.5)],
         "pain_before": 6, "pain_after": 1},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    assert tpi("import", str(path)).exit_code == 1
    # nothing of it stayed: a folder store it started is unmade, a database holds no patient (either way the
    # import of the right lines below finds only what it brings)
    assert tpi("patient", "show", "P7").exit_code in (2, 3)
    path.write_text("\n".join(json.dumps(line) for line in lines[:2]))
    result = tpi("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert [p["id"] for p in json.loads(tpi("patient", "list", "--json").stdout)] == ["P7"]
    assert [v["id"] for v in visits(tpi)] == ["P7-V1"]
    assert log(tpi, "--site", "QL:right", "--agent", "lidocaine 1% 2 mL", pid="P7")["id"] == "P7-V2"


def test_unknown_patient_and_visit_are_bad_input(tpi):
    assert tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01").exit_code == 0
    assert tpi("log-visit", "--patient", "NOPE", "--site", "QL:left", "--agent", "lidocaine 1% 2 mL",
               "--pain-before", "7", "--pain-after", "2").exit_code == 2
    assert tpi("visit", "show", "NOPE-V1").exit_code == 2


def test_protocols_are_saved_replaced_listed_and_audited(tpi):
    add(tpi, "P1")
    for sites in ("UT:left:2,levator:left", "QL:left"):
        result = tpi("protocol", "save", "neck", "-s", sites, "-a", "lidocaine 1% 2 mL", "--follow-up", "6w")
        assert result.exit_code == 0, result.stderr
    assert tpi("protocol", "save", "back", "-s", "QL:right").exit_code == 0
    listed = json.loads(tpi("protocol", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["back", "neck"] and listed[1]["sites"][0]["muscle"] == "quadratus lumborum"
    record = log(tpi, "--protocol", "neck", "--date", days_ago(1))
    assert record["follow_up"] == (TODAY + dt.timedelta(days=41)).isoformat()
    assert tpi("audit", "verify").exit_code == 0


def test_store_info_says_which_kind_and_what_it_holds(tpi, store_kind):
    add(tpi)
    log(tpi, "--site", "QL:left", "--agent", "lidocaine 1% 2 mL")
    info = json.loads(tpi("store", "info", "--json").stdout)
    assert (info["kind"], info["patients"], info["visits"], info["schema_version"]) == (store_kind, 1, 1, 1)
    assert info["audit_head"]["seq"] == 2
