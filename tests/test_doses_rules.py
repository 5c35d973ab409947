"""Dose rules from clinical-reference.md §4 and §9: each at, under and over its limit, through the CLI too."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tpi_cli.clinical.doses import percent_text
from tpi_cli.parsing import parse_agent

TODAY = dt.date.today()


def born(years: int, days: int = 0) -> str:
    """A date of birth making the patient YEARS old today (DAYS later: still YEARS - 1 until then)."""
    return (TODAY.replace(year=TODAY.year - years) + dt.timedelta(days=days)).isoformat()


def add(tpi, pid="P1", dob="1980-01-01", weight: str | None = "50", *extra: str):
    args = ["patient", "add", "--id", pid, "--name", "Test", "--dob", dob, *extra]
    if weight is not None:
        args += ["--weight-kg", weight]
    result = tpi(*args)
    assert result.exit_code == 0, result.stderr


def log(tpi, *args: str, pid="P1"):
    return tpi("log-visit", "--patient", pid, "--site", "QL:left", "--pain-before", "7", "--pain-after", "2",
               "--consent", "verbal", *args, "--json")


def stored(tpi) -> list:
    return json.loads(tpi("visits", "--json").stdout)


# --- epinephrine is only read from a positive statement -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "epinephrine"),
    [
        ("lidocaine 1% epinephrine-free 30 mL", False),
        ("lidocaine 1% epinephrine free 3 mL", False),
        ("lidocaine 1% plain 3 mL", False),
        ("plain lidocaine 1% 3 mL", False),
        ("lidocaine 1% without epi 3 mL", False),
        ("lidocaine 1% without epinephrine 3 mL", False),
        ("lidocaine 1% no epi 3 mL", False),
        ("lidocaine 1% w/o epi 3 mL", False),
        ("lidocaine 1% with epinephrine 3 mL", True),
        ("lidocaine 1% w/ epi 3 mL", True),
        ("lidocaine 1% 1:100,000 3 mL", True),
        ("lidocaine 1% with epinephrine 1:200,000 3 mL", True),
        ("Xylocaine 1% 2 mL", False),
    ],
)
def test_epinephrine_only_from_a_positive_statement(text, epinephrine):
    assert parse_agent(text).epinephrine is epinephrine


def test_with_and_without_epinephrine_at_once_is_bad_input():
    with pytest.raises(ValueError, match="both with and without epinephrine"):
        parse_agent("lidocaine 1% plain with epi 3 mL")


def test_epinephrine_free_lidocaine_is_checked_against_the_plain_limit(tpi):
    add(tpi)  # 50 kg: plain 225 mg; 300 mg is 133% of it (with epinephrine it would be 86% of 350 mg)
    result = log(tpi, "--agent", "lidocaine 1% epinephrine-free 30 mL")
    assert result.exit_code == 1 and "133% of 225 mg" in result.stderr
    assert stored(tpi) == []


# --- strengths sold ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "ok"),
    [
        ("Kenalog 40% 1 mL", False),
        ("Kenalog 40 mg/mL 1 mL", True),
        ("lidocaine 5% 2 mL", False),
        ("lidocaine 1.5% 2 mL", True),
        ("lidocaine 10 mg/mL 2 mL", True),   # = 1 %
        ("bupivacaine 0.75% 1 mL", True),
        ("bupivacaine 0.3% 1 mL", False),
        ("ropivacaine 1% 1 mL", True),
        ("mepivacaine 3% 1 mL", True),
        ("procaine 10% 1 mL", True),
        ("chloroprocaine 1% 1 mL", False),
        ("dexamethasone 4 mg/mL 1 mL", True),
        ("dexamethasone 8 mg/mL 1 mL", False),
        ("betamethasone 6 mg/mL 1 mL", True),
        ("methylprednisolone 40 mg/mL 1 mL", True),
        ("saline 0.9% 2 mL", True),
        ("saline 9% 2 mL", False),
    ],
)
def test_strengths_outside_the_products_sold_are_refused_with_the_list(tpi, agent, ok):
    add(tpi, weight="80")
    result = log(tpi, "--agent", agent)
    if ok:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 2
        assert "not a strength sold for injection" in result.stderr and " comes as " in result.stderr
        assert stored(tpi) == []


def test_kenalog_40_percent_names_the_strengths_sold(tpi):
    add(tpi)
    result = log(tpi, "--agent", "Kenalog 40% 1 mL")
    assert "triamcinolone 40% (400 mg/mL)" in result.stderr and "10, 40, 80 mg/mL" in result.stderr


def test_a_clinic_may_add_a_strength(tpi):
    add(tpi, weight="80")
    assert log(tpi, "--agent", "lidocaine 4% 1 mL").exit_code == 2
    assert tpi("config", "set", "strengths.lidocaine", "4").exit_code == 0
    assert log(tpi, "--agent", "lidocaine 4% 1 mL").exit_code == 0
    assert tpi("config", "set", "strengths.lidocaine", "four").exit_code == 2


# --- same-day visits add up ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earlier_ml", "today_ml", "outcome"),
    [
        # 50 kg, plain lidocaine 225 mg: two earlier visits of EARLIER_ML each, then TODAY_ML of 1 %
        ("5", "5.7", "ok"),       # 157 mg = 69.8 %
        ("5", "5.8", "warn"),     # 158 mg = 70.2 %
        ("5", "12.5", "warn"),    # 225 mg = 100 %
        ("5", "12.6", "refuse"),  # 226 mg
        ("15", "15", "refuse"),   # three visits of 150 mg: 200 %
    ],
)
def test_the_days_visits_add_up(tpi, earlier_ml, today_ml, outcome):
    add(tpi)
    for _ in range(2):
        first = log(tpi, "--agent", f"lidocaine 1% {earlier_ml} mL", "--override-reason", "series")
        assert first.exit_code == 0, first.stderr
    result = log(tpi, "--agent", f"lidocaine 1% {today_ml} mL")
    if outcome == "refuse":
        assert result.exit_code == 1 and "over 3 visits" in result.stderr
        assert len(stored(tpi)) == 2
    else:
        assert result.exit_code == 0, result.stderr
        near = [w for w in json.loads(result.stdout)["warnings"] if "near the reference limit" in w]
        assert bool(near) == (outcome == "warn")


def test_another_days_visit_does_not_add_up(tpi):
    add(tpi)
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    assert log(tpi, "--agent", "lidocaine 1% 15 mL", "--date", yesterday).exit_code == 0
    assert log(tpi, "--agent", "lidocaine 1% 15 mL").exit_code == 0


@pytest.mark.parametrize(("second_ml", "outcome"), [("17.5", "ok"), ("17.6", "refuse")])
def test_bupivacaine_400_mg_per_24_hours(tpi, second_ml, outcome):
    add(tpi, weight="100")  # with epinephrine: 3 mg/kg × 100 = 300 capped at 225 mg per visit
    first = log(tpi, "--agent", "bupivacaine 0.5% with epi 45 mL", "--override-reason", "documented")
    assert first.exit_code == 0, first.stderr  # 225 mg
    result = log(tpi, "--agent", f"bupivacaine 0.5% with epi {second_ml} mL", "--override-reason", "x")
    if outcome == "ok":  # 225 + 175 = 400 mg: at the cap
        assert result.exit_code == 0, result.stderr
    else:
        result = log(tpi, "--agent", f"bupivacaine 0.5% with epi {second_ml} mL")
        assert result.exit_code == 1 and "over 400 mg per 24 hours" in result.stderr


# --- age and weight ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "days", "exit_code"), [(17, 0, 2), (18, 1, 2), (18, 0, 0), (40, 0, 0)])
def test_under_18_without_a_weight_is_refused(tpi, age, days, exit_code):
    add(tpi, dob=born(age, days), weight=None)
    result = log(tpi, "--agent", "lidocaine 1% 2 mL")
    assert result.exit_code == exit_code, result.stderr
    if exit_code:
        assert "no weight recorded" in result.stderr and stored(tpi) == []


def test_a_child_without_weight_may_have_dry_needling(tpi):
    add(tpi, dob=born(10), weight=None)
    assert log(tpi).exit_code == 0


def test_the_seven_year_old_of_the_review_is_refused(tpi):
    add(tpi, dob=born(7), weight=None)
    assert log(tpi, "--agent", "bupivacaine 0.5% 34 mL").exit_code == 2
    tpi("patient", "update", "P1", "--weight-kg", "24")
    result = log(tpi, "--agent", "bupivacaine 0.25% 4 mL")
    assert result.exit_code == 1 and "Marcaine label does not recommend it under 12" in result.stderr


@pytest.mark.parametrize(("age", "days", "refused"), [(11, 0, True), (12, 1, True), (12, 0, False)])
def test_no_bupivacaine_under_12(tpi, age, days, refused):
    add(tpi, dob=born(age, days), weight="40")
    result = log(tpi, "--agent", "bupivacaine 0.25% 2 mL")
    assert (result.exit_code == 1) == refused
    if refused:
        assert "age check" in result.stderr


@pytest.mark.parametrize(("age", "days", "warns"), [(64, 1, False), (65, 0, True), (80, 0, True)])
def test_elderly_dose_warning(tpi, age, days, warns):
    add(tpi, dob=born(age, days))
    record = json.loads(log(tpi, "--agent", "lidocaine 1% 2 mL").stdout)
    assert any("reduced doses in elderly" in w for w in record["warnings"]) == warns


# --- display ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "text"),
    [(1.0, "100%"), (1.004, "100.4%"), (1.0001, "100.1%"), (1.000001, "100.1%"), (0.996, "100%"),
     (1.006, "101%"), (0.7, "70%")],
)
def test_a_fraction_over_the_limit_never_reads_as_the_limit(fraction, text):
    assert percent_text(fraction) == text


def test_a_refusal_just_over_the_limit_shows_it(tpi):
    add(tpi)  # 225 mg limit; 225.9 mg = 100.4 %
    result = log(tpi, "--agent", "lidocaine 0.5% 45.18 mL")
    assert result.exit_code == 1 and "100.4% of 225 mg" in result.stderr and " 100% " not in result.stderr
