"""Outcome judgements (clinical-reference.md §7 and §9): worse is worse, function per scale, sustained relief."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tpi_cli.clinical.outcomes import (
    days_since_same_site,
    function_change,
    immediate_response,
    immpact_category,
    index_relief,
    pain_change_category,
)
from tpi_cli.models import Visit, side_pairs


@pytest.mark.parametrize(
    ("before", "after", "category"),
    [(5, 8, "worse"), (0, 3, "worse"), (5, 5, "no meaningful change (< 10%)"), (10, 9, "minimal (10-30%)"),
     (10, 7, "moderate (≥ 30%)"), (10, 5, "substantial (≥ 50%)"), (0, 0, "not defined (baseline 0)")],
)
def test_a_rise_in_pain_is_worse(before, after, category):
    assert pain_change_category(before, after) == category


def test_a_negative_reduction_is_worse():
    assert immpact_category(-60.0) == "worse"


@pytest.mark.parametrize(
    ("scale", "first", "last", "verdict"),
    [
        ("NDI", 24, 23, "no meaningful change"), ("NDI", 24, 16.5, "improved"), ("NDI", 24, 16.6,
                                                                                  "no meaningful change"),
        ("NDI", 20, 27.5, "worse"),
        ("ODI", 40, 30, "improved"), ("ODI", 40, 31, "no meaningful change"), ("ODI", 30, 40, "worse"),
        ("PSFS", 4, 6, "improved"), ("PSFS", 4, 5.9, "no meaningful change"), ("PSFS", 6, 4, "worse"),
        ("LEFS", 40, 50, "improved"), ("LEFS", 40, 48, "no meaningful change"), ("LEFS", 50, 40, "worse"),
        ("PDI", 30, 10, "cannot judge"), ("my scale", 1, 9, "cannot judge"),
    ],
)
def test_function_is_judged_against_each_scales_minimal_change_and_direction(scale, first, last, verdict):
    assert function_change(scale, first, last).verdict == verdict


def test_an_unknown_scale_can_be_judged_when_its_direction_and_change_are_given():
    assert function_change("PDI", 30, 20, minimal_change=9, higher_is_better=False).verdict == "improved"


def visit(n: int, day: str, before: int, after: int) -> Visit:
    return Visit.model_validate({"id": f"P1-V{n}", "patient_id": "P1", "date": day, "pain_before": before,
                                 "pain_after": after, "sites": [{"muscle": "QL", "side": "left"}]})


def test_sustained_relief_is_against_the_index_pain_with_both_dates():
    series = [visit(1, "2026-01-05", 8, 2), visit(2, "2026-02-20", 4, 1), visit(3, "2026-04-10", 6, 2)]
    first, second = index_relief(series)
    assert (first.index_date, first.measured_date) == (dt.date(2026, 1, 5), dt.date(2026, 2, 20))
    assert first.relief_pct == 50 and second.relief_pct == 25
    assert "50% relief" in first.text() and "2026-01-05" in first.text() and "2026-02-20" in first.text()


def test_relief_from_an_index_pain_of_0_is_undefined():
    [relief] = index_relief([visit(1, "2026-01-05", 0, 0), visit(2, "2026-02-20", 3, 1)])
    assert relief.relief_pct is None and "not defined" in relief.text()


def test_the_5_to_15_minute_score_is_the_immediate_response():
    assert immediate_response(visit(1, "2026-01-05", 8, 2)).startswith("immediate response 8 → 2, -75%")


# one side (or none) of each muscle: a visit lists a muscle and side once
SITES = st.tuples(st.sampled_from([None, "left", "right", "bilateral"]), st.sampled_from([None, "left", "right"]),
                  st.sampled_from([None, "left", "bilateral"])).filter(any).map(
    lambda sides: [{"muscle": m, "side": s} for m, s in zip(("QL", "upper trapezius", "levator scapulae"), sides,
                                                            strict=True) if s])


@given(st.lists(st.tuples(st.integers(0, 40), SITES), min_size=1, max_size=12))
def test_days_since_the_same_site_is_to_the_latest_earlier_visit_with_a_shared_muscle_and_side(picks):
    visits = [Visit.model_validate({"id": f"P1-V{n}", "patient_id": "P1", "pain_before": 5, "pain_after": 2,
                                    "date": (dt.date(2026, 1, 1) + dt.timedelta(days=offset)).isoformat(),
                                    "sites": sites})
              for n, (offset, sites) in enumerate(picks, start=1)]
    found = days_since_same_site(visits)
    for visit in visits:
        here = side_pairs(visit.sites)
        earlier = [(visit.date - past.date).days for past in visits
                   if past.date < visit.date and here & side_pairs(past.sites)]
        assert found[visit.id] == (min(earlier) if earlier else None)


def test_bilateral_is_the_same_site_as_either_side_and_the_same_day_is_not_earlier():
    def at(n, day, side):
        return Visit.model_validate({"id": f"P1-V{n}", "patient_id": "P1", "date": day, "pain_before": 5,
                                     "pain_after": 2, "sites": [{"muscle": "QL", "side": side}]})

    visits = [at(1, "2026-01-05", "bilateral"), at(2, "2026-01-05", "left"), at(3, "2026-03-02", "right"),
              at(4, "2026-03-09", "left")]
    assert days_since_same_site(visits) == {"P1-V1": None, "P1-V2": None, "P1-V3": 56, "P1-V4": 63}
