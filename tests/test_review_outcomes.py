"""The progress review's figures come from the outcome rules (clinical-reference.md §7 and §9), read off the PDF."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader


def review_text(tpi, tmp_path, visits, *, patient="P1") -> str:
    """Log VISITS (date, pain before, pain after, extra flags) for a 70 kg patient, print the review, extract it."""
    result = tpi("patient", "add", "--id", patient, "--name", "Ana Núñez", "--dob", "1960-05-06", "--weight-kg", "70")
    assert result.exit_code == 0, result.stderr
    for day, before, after, *flags in visits:
        result = tpi("log-visit", "--patient", patient, "--date", day, "--site", "QL:left", "--consent", "verbal",
                     "--home-exercise", "--pain-before", str(before), "--pain-after", str(after), *flags)
        assert result.exit_code == 0, result.stderr
    out = tmp_path / "review.pdf"
    result = tpi("report", "--patient", patient, "--until", "2026-12-31", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return " ".join(" ".join(page.extract_text() for page in PdfReader(str(out)).pages).split())


@pytest.mark.parametrize(
    ("visits", "shown", "never"),
    [
        pytest.param([("2026-03-02", 5, 8)], ["5→8 (+60%) worse", "rose by 60% (worse)", "; worse)"],
                     ["fell by -", "no meaningful change"], id="pain 5 to 8 is worse"),
        pytest.param([("2026-03-02", 8, 2)], ["8→2 (-75%)", "fell by 75%", "substantial (≥ 50%)",
                                              "immediate response 8 → 2, -75% (substantial (≥ 50%))"],
                     ["worse"], id="pain 8 to 2 is substantial"),
        pytest.param([("2026-01-05", 8, 2, "--function", "NDI=40"), ("2026-02-20", 6, 2, "--function", "NDI=39")],
                     ["NOT MET NDI 40 → 39 (-1; lower is better, smallest important change 7.5): no meaningful change",
                      "-1 no meaningful change"], ["improved"], id="NDI 40 to 39 is not improved"),
        pytest.param([("2026-01-05", 8, 2, "--function", "NDI=40"), ("2026-02-20", 6, 2, "--function", "NDI=30")],
                     ["met NDI 40 → 30 (-10; lower is better, smallest important change 7.5): improved",
                      "-10 improved"], ["NOT MET NDI"], id="NDI 40 to 30 is improved"),
        pytest.param([("2026-01-05", 8, 2, "--function", "LEFS=40"), ("2026-02-20", 6, 2, "--function", "LEFS=50")],
                     ["met LEFS 40 → 50 (+10; higher is better, smallest important change 9): improved",
                      "+10 improved"], ["NOT MET LEFS", "worse"], id="LEFS 40 to 50 is improved"),
        pytest.param([("2026-01-05", 8, 2, "--function", "XYZ=40"), ("2026-02-20", 6, 2, "--function", "XYZ=10")],
                     ["unknown XYZ 40 → 10: tpi does not know this scale's direction", "cannot judge"],
                     ["improved"], id="an unknown scale cannot be judged"),
    ],
)
def test_review_judges_pain_and_function_by_the_outcome_rules(tpi, tmp_path, visits, shown, never):
    text = review_text(tpi, tmp_path, visits)
    for fact in shown:
        assert fact in text, fact
    for fact in never:
        assert fact not in text, fact


RELIEF = ("--prior-relief-pct", "50", "--prior-relief-weeks", "6")


@pytest.mark.parametrize(
    ("next_pain", "status", "measured", "verdict"),
    [
        pytest.param(6, "NOT MET", " 0% relief: pain 6 before the visit of 2026-02-20 against index pain 6 before the "
                     "first injection on 2026-01-05", "criteria: not met", id="back at baseline contradicts 50%"),
        pytest.param(7, "NOT MET", "-17% relief: pain 7 before the visit of 2026-02-20 against index pain 6",
                     "criteria: not met", id="above baseline contradicts 50%"),
        pytest.param(3, "met", "50% relief: pain 3 before the visit of 2026-02-20 against index pain 6 before the "
                     "first injection on 2026-01-05", "criteria: met", id="data agree with 50%"),
    ],
)
def test_a_reported_relief_is_checked_against_the_next_visits_pain(tpi, tmp_path, next_pain, status, measured,
                                                                    verdict):
    # function improved (NDI 40 → 30) and home exercise done: the relief alone decides the verdict
    text = review_text(tpi, tmp_path, [("2026-01-05", 6, 2, "--function", "NDI=40"),
                                       ("2026-02-20", next_pain, 2, "--function", "NDI=30", *RELIEF)])
    assert f"Relief from the last injection {status} relief 50% (≥ 50%) for 6 weeks (≥ 6)" in text
    assert measured in text
    assert verdict in text
    assert ("contradicts the reported relief" in text) is (status == "NOT MET")


def test_responders_are_counted_by_sustained_relief_and_the_immediate_response_apart(tpi, tmp_path):
    # every injection takes the pain to 1 within minutes, but only the third visit comes back with less pain
    text = review_text(tpi, tmp_path, [("2026-01-05", 8, 1), ("2026-02-20", 7, 1), ("2026-04-10", 4, 1),
                                       ("2026-06-01", 3, 1)])
    assert "Immediate responders" in text and "4 of 4 (100%)" in text
    # against the index pain 8: 7 is 12%, 4 is 50%, 3 is 62%
    assert "2 of 3 follow-up visits ≥ 30%, 2 ≥ 50%" in text
    assert "Responders 2 of 3 ≥ 30% 2 ≥ 50%" in text


def test_a_dose_just_over_its_limit_never_reads_100_percent(tpi, tmp_path):
    # lidocaine 301 mg against the 300 mg absolute limit is 100.33%, allowed only with an override reason
    flags = ("--agent", "lidocaine 1% 30.1 mL", "--override-reason", "documented tolerance, monitored")
    text = review_text(tpi, tmp_path, [("2026-03-02", 6, 2, *flags)])
    assert "lidocaine 301 mg (100.4%)" in text and "301 mg (100%)" not in text
    summary = tmp_path / "summary.pdf"
    [visit] = json.loads(tpi("visits", "--patient", "P1", "--json").stdout)
    assert tpi("report", "--visit", visit["id"], "-o", str(summary)).exit_code == 0
    summary_text = " ".join(" ".join(p.extract_text() for p in PdfReader(str(summary)).pages).split())
    assert "100.4% of 300 mg" in summary_text and "100% of" not in summary_text


def test_muscle_table_names_its_figure_the_immediate_response_not_a_lasting_one(tpi, tmp_path):
    text = review_text(tpi, tmp_path, [("2026-03-02", 8, 0)])
    assert "Mean immediate reduction (5-15 min) at those visits" in text
    assert "(largest immediate reduction)" in text
    assert "best response" not in text
