"""ICD-10-CM codes checked against the code set of the date of service (clinical-reference.md §9)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from tpi_cli.clinical.diagnoses import billable_children, check_diagnosis


@pytest.mark.parametrize(
    ("code", "day", "problem"),
    [
        ("M54.5", "2021-09-30", None),                        # billable the day before its split
        ("M54.5", "2021-10-01", "not billable since 2021-10-01"),
        ("M54.50", "2021-10-01", None),
        ("M54.50", "2021-09-30", "created 2021-10-01"),
        ("M79.1", "2022-09-30", None),
        ("M79.1", "2022-10-01", "M79.10, M79.11, M79.12, M79.18"),
        ("M79.18", "2022-10-01", None),
        ("M79.18", "2022-09-30", "code M79.1"),
        ("M62.83", "2025-01-02", "category header"),
        ("G89.2", "2025-01-02", "category header"),
        ("M79", "2025-01-02", "category header"),
        ("M79.99", "2025-01-02", "not an ICD-10-CM code"),
        ("M62.830", "2025-01-02", None),
        ("M62.838", "2025-01-02", None),
        ("G89.29", "2025-01-02", None),
        ("M79.7", "2025-01-02", None),
        ("M54.2", "2025-01-02", None),
    ],
)
def test_codes_are_checked_on_the_date_of_service(code, day, problem):
    found = check_diagnosis(code, dt.date.fromisoformat(day))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_a_header_lists_its_billable_children():
    assert billable_children("M62.83", dt.date(2025, 1, 2)) == ["M62.830", "M62.831", "M62.838"]
    assert billable_children("G89.2", dt.date(2025, 1, 2)) == ["G89.21", "G89.22", "G89.28", "G89.29"]
    assert "M62.830, M62.831, M62.838" in check_diagnosis("M62.83", dt.date(2025, 1, 2))


def add(tpi):
    assert tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1970-01-01", "--weight-kg", "70",
               "--payer", "none").exit_code == 0


@pytest.mark.parametrize(("code", "exit_code"), [("M79.18", 0), ("M54.5", 2), ("M62.83", 2), ("G89.2", 2),
                                                 ("M79", 2), ("M79.99", 2), ("m79.12", 0)])
def test_log_visit_refuses_codes_that_cannot_be_billed(tpi, code, exit_code):
    add(tpi)
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2",
                 "--consent", "verbal", "--dx", code, "--json")
    assert result.exit_code == exit_code, result.stderr
    if exit_code:
        assert "diagnoses:" in result.stderr
        assert json.loads(tpi("visits", "--json").stdout) == []


def test_an_old_visit_keeps_the_codes_of_its_day(tpi):
    add(tpi)
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2",
                 "--consent", "verbal", "--dx", "M54.5", "--date", "2021-06-01", "--json")
    assert result.exit_code == 0, result.stderr


def test_no_diagnosis_is_a_warning(tpi):
    add(tpi)
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2",
                 "--consent", "verbal", "--json")
    assert any("No diagnosis" in w for w in json.loads(result.stdout)["warnings"])


def test_the_check_never_imports_the_package_module():
    code = ("import sys, datetime; from tpi_cli.clinical.diagnoses import check_diagnosis; "
            "check_diagnosis('M79.18', datetime.date(2025, 1, 2)); print('simple_icd_10_cm' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
