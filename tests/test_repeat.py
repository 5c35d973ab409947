"""Repeat in one line: log-visit --like / --protocol, --pain 7/2, short flags, several sites in one --site."""

from __future__ import annotations

import datetime as dt
import json

import pytest

TODAY = dt.date.today()
FIRST = ("-s", "UT:left:2,UT:right:2,levator:left,levator:right", "-a", "lidocaine 1% 4 mL",
         "-a", "triamcinolone 40 mg/mL 0.5 mL", "--dx", "M79.18", "--consent", "written", "--follow-up", "6w",
         "--needle", "27G 1.25 in", "--ultrasound", "--pain", "7/2", "--notes", "first visit", "--twitch",
         "--complication", "brief vasovagal", "--prior-relief-pct", "60", "--prior-relief-weeks", "8",
         "--function", "NDI=20", "--home-exercise", "--override-reason", "test")


def run(tpi, *args: str, expect: int = 0):
    result = tpi(*args)
    assert result.exit_code == expect, result.stderr
    return result


def logged(tpi, *args: str) -> dict:
    return json.loads(run(tpi, "log-visit", *args, "--json").stdout)


@pytest.fixture
def first(tpi, patient):
    return logged(tpi, "-p", "P001", "--date", "50d", *FIRST)


def test_like_last_copies_the_protocol_and_nothing_of_the_day(tpi, first):
    command = "--like last -p P001 --pain 6/2 --override-reason test"
    again = logged(tpi, *command.split())
    for key in ("sites", "agents", "diagnoses", "needle", "ultrasound", "consent"):
        assert again[key] == first[key], key
    assert again["date"] == TODAY.isoformat()
    assert again["follow_up"] == (TODAY + dt.timedelta(weeks=6)).isoformat()  # the interval, from today
    assert (again["pain_before"], again["pain_after"]) == (6, 2)
    assert again["notes"] is None and again["twitch"] is None and again["complications"] == []
    assert again["prior_relief"] is None and again["functional_scores"] == [] and again["home_exercise"] is None


def test_the_typical_repeat_visit_fits_in_40_characters(tpi, first):
    command = "--like last -p P001 --pain 6/2"
    assert len(command) <= 40
    again = json.loads(tpi("log-visit", *command.split(), "--json").stdout)
    assert len(again["sites"]) == 4 and [a["drug"] for a in again["agents"]] == ["lidocaine", "triamcinolone"]
    assert again["diagnoses"] == ["M79.18"] and again["consent"] == "written" and again["follow_up"]


def test_flags_given_replace_what_was_copied(tpi, first):
    again = logged(tpi, "--like", "P001-V1", "--pain", "5/1", "-s", "QL:left", "--dx", "M54.50", "--no-ultrasound",
                   "--consent", "verbal", "--follow-up-days", "10", "--override-reason", "test")
    assert again["patient_id"] == "P001"  # a visit id names its patient
    assert again["sites"] == [{"muscle": "quadratus lumborum", "side": "left", "points": 1, "volume_ml": None}]
    assert again["agents"] == first["agents"]
    assert again["diagnoses"] == ["M54.50"] and again["ultrasound"] is False and again["consent"] == "verbal"
    assert again["follow_up"] == (TODAY + dt.timedelta(days=10)).isoformat()
    dry = logged(tpi, "--like", "last", "-p", "P001", "--pain", "5/1", "-a", "none", "--override-reason", "test")
    assert dry["agents"] == [] and dry["sites"] == again["sites"]


def test_like_last_skips_a_voided_visit(tpi, first):
    wrong = logged(tpi, "-p", "P001", "-s", "QL:left", "--pain", "3/1", "--override-reason", "test")
    run(tpi, "visit", "void", wrong["id"], "--reason", "wrong patient")
    again = logged(tpi, "--like", "last", "-p", "P001", "--pain", "6/2", "--override-reason", "test")
    assert again["sites"] == first["sites"]
    assert run(tpi, "log-visit", "--like", wrong["id"], "--pain", "6/2", expect=2).stderr.count("voided") == 1


@pytest.mark.parametrize(("args", "message"), [
    (("--like", "last", "--pain", "6/2"), "give the patient too"),
    (("--like", "P001-V9", "--pain", "6/2"), "no visit with id 'P001-V9'"),
    (("--like", "last", "-p", "P001", "--pain", "6/2", "--pain-before", "6"), "not both"),
    (("--like", "last", "-p", "P001", "--pain", "6-2"), "BEFORE/AFTER"),
    (("--like", "last", "-p", "P001", "--pain", "6/"), "BEFORE/AFTER"),
    (("--like", "last", "-p", "P001", "--pain", "11/2"), "pain_before"),
    (("--like", "last", "--protocol", "neck", "-p", "P001", "--pain", "6/2"), "not both"),
    (("--protocol", "neck", "-p", "P001", "--pain", "6/2"), "no protocol named 'neck'"),
    (("-p", "P001", "-s", "UT:left,,QL:left", "--pain", "6/2"), "empty site"),
])
def test_bad_repeat_input_is_refused_and_nothing_is_written(tpi, first, args, message):
    result = run(tpi, "log-visit", *args, expect=2)
    assert message in result.stderr
    assert len(json.loads(tpi("visits", "--json").stdout)) == 1


def test_like_last_for_a_patient_without_visits_says_to_log_the_first_in_full(tpi, patient):
    result = run(tpi, "log-visit", "--like", "last", "-p", "P001", "--pain", "6/2", expect=2)
    assert "no visit yet" in result.stderr


def test_several_sites_in_one_flag_and_short_flags(tpi, patient):
    record = logged(tpi, "-p", "P001", "-s", "UT:left:2, levator:left", "-s", "QL:right", "-a", "lidocaine 1% 2 mL",
                    "--pain", "7/2")
    assert [(s["muscle"], s["side"], s["points"]) for s in record["sites"]] == [
        ("upper trapezius", "left", 2), ("levator scapulae", "left", 1), ("quadratus lumborum", "right", 1)]


def test_a_protocol_is_saved_listed_shown_and_logged(tpi, patient):
    run(tpi, "protocol", "save", "neck", "-s", "UT:left:2,levator:left", "-a", "lidocaine 1% 3 mL", "--dx", "M79.18",
        "--consent", "verbal", "--follow-up", "6w")
    shown = json.loads(run(tpi, "protocol", "show", "neck", "--json").stdout)
    assert shown["follow_up_days"] == 42 and shown["diagnoses"] == ["M79.18"]
    assert [p["name"] for p in json.loads(run(tpi, "protocol", "list", "--json").stdout)] == ["neck"]
    assert run(tpi, "protocol", "list").stdout.splitlines()[1].startswith("neck\t")
    record = logged(tpi, "--protocol", "neck", "-p", "P001", "--pain", "7/3", "--date", "yesterday")
    assert record["follow_up"] == (TODAY - dt.timedelta(days=1) + dt.timedelta(days=42)).isoformat()
    assert record["agents"][0]["dose_mg"] == 30 and record["consent"] == "verbal"
    run(tpi, "protocol", "save", "neck", "-s", "QL:left")  # replaced, not added
    assert json.loads(run(tpi, "protocol", "show", "neck", "--json").stdout)["sites"][0]["muscle"] == \
        "quadratus lumborum"
    assert "protocol.save" in run(tpi, "audit").stdout
    assert run(tpi, "audit", "verify").exit_code == 0


def test_a_protocol_is_saved_from_a_visit(tpi, first):
    run(tpi, "protocol", "save", "neck4", "--like", first["id"], "--needle", "25G 1.5 in")
    shown = json.loads(run(tpi, "protocol", "show", "neck4", "--json").stdout)
    assert shown["sites"] == first["sites"] and shown["needle"] == "25G 1.5 in" and shown["follow_up_days"] == 42
    assert "dose_mg" not in shown["agents"][0]


@pytest.mark.parametrize(("args", "message"), [
    (("bad name", "-s", "QL:left"), "name:"),
    (("neck", "-s", "trapezius:left"), "names several muscles"),
    (("neck", "-a", "lidocaine 1% 3 mL"), "give the sites"),
    (("neck", "-s", "QL:left", "--follow-up", "3m"), "--follow-up: '3m' is not an interval"),
    (("neck", "-s", "QL:left", "--dx", "banana"), "ICD-10-CM"),
])
def test_a_bad_protocol_is_refused_and_nothing_is_saved(tpi, patient, args, message):
    result = run(tpi, "protocol", "save", *args, expect=2)
    assert message in result.stderr
    assert json.loads(tpi("protocol", "list", "--json").stdout) == []
