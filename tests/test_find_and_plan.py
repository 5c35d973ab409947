"""Find and plan: patient find, suggestions for an unknown id, tpi due, relative dates, visits by period."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpi_cli.dates import parse_date, parse_follow_up

TODAY = dt.date.today()


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("text", "expected"), [
    ("today", TODAY), ("Yesterday", TODAY - dt.timedelta(days=1)), ("2026-01-05", dt.date(2026, 1, 5)),
    ("3d", TODAY - dt.timedelta(days=3)), ("6w", TODAY - dt.timedelta(weeks=6)), ("0d", TODAY),
])
def test_a_date_is_a_calendar_date_a_word_or_a_time_ago(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["20260105", "2026-W01-1", "2026-02-30", "-3d", "3 days", "tomorrow", "", "3y",
                                  "05/01/2026", "1e3d", "3.5w", "2026-1-5", "12345d"])
def test_anything_else_is_refused_naming_the_formats(text):
    with pytest.raises(ValueError, match="YYYY-MM-DD, today, yesterday"):
        parse_date(text)


@pytest.mark.parametrize(("text", "visit", "expected"), [
    ("6w", dt.date(2026, 1, 5), dt.date(2026, 2, 16)), ("10d", dt.date(2026, 1, 5), dt.date(2026, 1, 15)),
    ("3m", dt.date(2026, 1, 5), dt.date(2026, 4, 5)), ("1m", dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
    ("1m", dt.date(2028, 1, 31), dt.date(2028, 2, 29)), ("2026-03-01", dt.date(2026, 1, 5), dt.date(2026, 3, 1)),
])
def test_a_follow_up_span_counts_from_the_visit_date(text, visit, expected):
    assert parse_follow_up(text, visit) == expected


@given(st.text(max_size=12))
@settings(max_examples=300)
def test_the_date_parser_accepts_or_refuses_and_never_crashes(text):
    try:
        parse_date(text)
        parse_follow_up(text, TODAY)
    except ValueError:
        pass


def test_log_visit_takes_yesterday_and_a_follow_up_in_weeks(log, patient):
    record = log("--site", "QL:left", "--pain-before", "5", "--pain-after", "2", "--date", "yesterday",
                 "--follow-up", "6w")
    assert record["date"] == ago(1)
    assert record["follow_up"] == (TODAY - dt.timedelta(days=1) + dt.timedelta(weeks=6)).isoformat()


@pytest.mark.parametrize(("args", "flag"), [(("--date", "tomorow"), "--date"), (("--follow-up", "6 weeks"), "--follow-up"),
                                            (("--date", "20260105"), "--date")])
def test_a_date_flag_that_is_not_a_date_is_bad_input_naming_flag_and_formats(tpi, patient, args, flag):
    result = tpi("log-visit", "--patient", "P001", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2",
                 *args)
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {flag}: ") and "YYYY-MM-DD" in result.stderr
    assert json.loads(tpi("visits", "--json").stdout) == []


def test_visits_since_and_until_bound_the_period(tpi, log, patient):
    for days in (100, 40, 2):
        log("--site", "QL:left", "--pain-before", "5", "--pain-after", "2", "--date", ago(days))
    dates = lambda *args: [v["date"] for v in json.loads(tpi("visits", *args, "--json").stdout)]
    assert dates("--since", "6w") == [ago(40), ago(2)][::-1]
    assert dates("--until", ago(40)) == [ago(40), ago(100)]
    assert dates("--since", ago(40), "--until", ago(40)) == [ago(40)]
    assert tpi("visits", "--since", "last week").exit_code == 2


@pytest.fixture
def people(tpi):
    for pid, name in (("P001", "Ana María Núñez"), ("P002", "Zoë Łukasz-Nguyễn"), ("P010", "Nuñez Bo"),
                      ("X7", "Mary O'Brien")):
        assert tpi("patient", "add", "--id", pid, "--name", name, "--dob", "1970-01-01").exit_code == 0


@pytest.mark.parametrize(("text", "ids"), [
    ("nunez", ["P001", "P010"]), ("NÚÑEZ", ["P001", "P010"]), ("ana nunez", ["P001"]), ("núñez ana", ["P001"]),
    ("lukasz", ["P002"]), ("nguyen", ["P002"]), ("ZOE", ["P002"]), ("p00", ["P001", "P002"]),
    ("x7", ["X7"]), ("obrien", ["X7"]), ("o'brien", ["X7"]), ("mar", ["P001", "X7"]),
])
def test_patient_find_ignores_case_and_accents_and_matches_every_word(tpi, people, text, ids):
    result = tpi("patient", "find", text, "--json")
    assert [p["id"] for p in json.loads(result.stdout)] == ids


def test_patient_find_puts_the_exact_id_first_and_says_when_nothing_matches(tpi, people):
    assert tpi("patient", "find", "P010").stdout.splitlines()[1].startswith("P010\t")
    missing = tpi("patient", "find", "nobody")
    assert missing.exit_code == 1 and "No patient matches" in missing.stderr and missing.stdout == ""
    assert tpi("patient", "find", "  ").exit_code == 2


@pytest.mark.parametrize(("typed", "suggested"), [("nunez", "P001, P010"), ("P01", "P010, P001"), ("p002", "P002")])
def test_an_unknown_patient_id_suggests_ids_without_names(tpi, people, typed, suggested):
    for command in (("log-visit", "--patient", typed, "--site", "QL:left", "--pain-before", "5", "--pain-after", "2"),
                    ("visits", "--patient", typed)):
        result = tpi(*command)
        assert result.exit_code == 2
        assert f"did you mean {suggested}?" in result.stderr
        assert "Núñez" not in result.stderr and "Brien" not in result.stderr


def visit(tpi, pid, days, *extra):
    result = tpi("log-visit", "--patient", pid, "--pain-before", "6", "--pain-after", "2", "--date", ago(days),
                 "--override-reason", "test", *extra, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_due_lists_follow_ups_due_or_past_without_a_later_visit(tpi, people):
    visit(tpi, "P001", 50, "--site", "UT:left", "--follow-up", ago(8))  # due 8 days ago
    visit(tpi, "P002", 60, "--site", "QL:left", "--follow-up", ago(20))
    visit(tpi, "P002", 10, "--site", "QL:left")  # answered by a later visit
    visit(tpi, "X7", 3, "--site", "QL:right", "--follow-up", "5d")  # due in 2 days
    due = json.loads(tpi("due", "--json").stdout)
    assert [d["patient_id"] for d in due] == ["P001"]
    assert due[0]["days_until"] == -8 and due[0]["last_visit"] == "P001-V1"
    # Medicare's 42 days at the same site (settings payer.medicare.same_site_days)
    assert due[0]["repeat_eligible"] == (TODAY - dt.timedelta(days=50) + dt.timedelta(days=42)).isoformat()
    assert [d["patient_id"] for d in json.loads(tpi("due", "--within", "2", "--json").stdout)] == ["P001", "X7"]
    table = tpi("due", "--within", "7").stdout.splitlines()
    assert table[0].split("\t")[:4] == ["patient", "name", "follow-up", "due"]
    assert "8 days late" in table[1] and "in 2 days" in table[2]
    assert tpi("due", "--within", "-1").exit_code == 2


def test_due_lists_the_last_visit_as_stored_and_refuses_a_damaged_visits_file(tpi, people, store_path):
    logged = visit(tpi, "P001", 50, "--site", "UT:left:2", "--site", "QL:bilateral", "--follow-up", ago(8))
    [due] = json.loads(tpi("due", "--json").stdout)
    assert (due["last_visit"], due["last_visit_date"], due["sites"]) == (logged["id"], logged["date"], logged["sites"])
    path = store_path / "visits" / "p-P001.json"
    data = json.loads(path.read_text())
    next(iter(data["visits"].values()))["pain_after"] = 11  # readable JSON, not a valid visit: damage
    path.write_text(json.dumps(data))
    for args in (("--json",), ()):
        result = tpi("due", *args)
        assert result.exit_code == 3 and result.stdout == "" and str(path) in result.stderr


def test_due_says_when_nothing_is_due(tpi, people):
    result = tpi("due")
    assert result.exit_code == 0 and result.stdout == "" and "No follow-ups due" in result.stderr


SITE_CHOICES = [{"muscle": "upper trapezius", "side": "left"}, {"muscle": "levator scapulae", "side": "bilateral"},
                {"muscle": "quadratus lumborum", "side": "right"}, {"muscle": "rhomboid major", "side": "left"}]
PAYER_RULE_WORDS = ("days at the same location", "per rolling 12 months")


def payer_rule_warnings(patient, sites, history, day, profile_settings):
    from tpi_cli.clinical.safety import check_payer
    from tpi_cli.models import Visit

    candidate = Visit.model_construct(id="P1-V99", patient_id="P1", date=day, sites=sites, agents=[],
                                      prior_relief=None, functional_scores=[], home_exercise=True, ultrasound=False)
    recent = [v for v in history if day - dt.timedelta(days=365) < v.date <= day]
    warnings = check_payer(patient, candidate, recent, profile_settings).warnings
    return [w for w in warnings if any(word in w for word in PAYER_RULE_WORDS)]


@given(
    st.lists(st.tuples(st.integers(1, 700), st.lists(st.sampled_from(range(4)), min_size=1, max_size=3, unique=True)),
             min_size=1, max_size=7),
    st.lists(st.sampled_from(range(4)), min_size=1, max_size=3, unique=True),
    st.sampled_from(["medicare", "commercial", "none"]),
)
@settings(max_examples=200, deadline=None)
def test_the_repeat_date_is_the_first_day_the_payer_checks_stay_silent(history_spec, site_spec, payer):
    """`tpi due`'s date and the checks at log time agree: silent on that day, a warning the day before."""
    from tpi_cli.clinical.repeat import earliest_repeat
    from tpi_cli.models import Patient, Site, Visit
    from tpi_cli.settings import Settings

    patient = Patient(id="P1", name="A", dob=dt.date(1960, 1, 1), payer=payer)
    history = [Visit.model_validate({"id": f"P1-V{n}", "patient_id": "P1", "date": ago(days), "pain_before": 5,
                                     "pain_after": 2, "sites": [SITE_CHOICES[i] | {"points": 1} for i in sites]})
               for n, (days, sites) in enumerate(history_spec, start=1)]
    sites = [Site.model_validate(SITE_CHOICES[i] | {"points": 1}) for i in site_spec]
    profile_settings = Settings()
    repeat = earliest_repeat(patient, sites, history, profile_settings)
    assert payer_rule_warnings(patient, sites, history, repeat.date, profile_settings) == []
    day_before = repeat.date - dt.timedelta(days=1)
    if day_before > max(v.date for v in history):
        assert payer_rule_warnings(patient, sites, history, day_before, profile_settings)
