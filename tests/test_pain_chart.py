"""The review's pain chart draws each visit's scores where the 0-10 scale and the dates put them."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.graphics.shapes import Circle, PolyLine, Rect, String

from tpi_cli.models import Visit
from tpi_cli.pdf.common import register_fonts
from tpi_cli.pdf.review import pain_chart

register_fonts()
LEFT, BOTTOM = 34, 30  # the plot area's lower left corner in the drawing


def visit(n: int, day: dt.date, before: int, after: int) -> Visit:
    return Visit.model_validate({"id": f"P1-V{n}", "patient_id": "P1", "date": day.isoformat(), "pain_before": before,
                                 "pain_after": after, "sites": [{"muscle": "QL", "side": "left"}]})


def lines(drawing) -> list[list[tuple[float, float]]]:
    polylines = [shape for shape in drawing.contents if isinstance(shape, PolyLine)]
    return [list(zip(line.points[::2], line.points[1::2], strict=True)) for line in polylines]


def plot_size(drawing) -> tuple[float, float]:
    return drawing.width - 150, drawing.height - 48


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 10), st.integers(0, 10)), min_size=1, max_size=60,
                unique_by=lambda item: item[0]))
def test_each_score_is_drawn_at_its_height_on_the_0_to_10_scale_in_date_order(series):
    start = dt.date(2010, 1, 1)
    visits = [visit(n, start + dt.timedelta(days=offset), before, after)
              for n, (offset, before, after) in enumerate(sorted(series), start=1)]
    drawing = pain_chart(visits)
    width, height = plot_size(drawing)
    before, after = lines(drawing)
    for drawn, scores in ((before, [v.pain_before for v in visits]), (after, [v.pain_after for v in visits])):
        assert [round(y, 6) for _, y in drawn] == [round(BOTTOM + height * s / 10, 6) for s in scores]
        xs = [x for x, _ in drawn]
        assert xs == sorted(xs) and all(LEFT <= x <= LEFT + width for x in xs)
    if len(visits) > 1:  # the first and last visits are the ends of the date axis
        assert before[0][0] == pytest.approx(LEFT) and before[-1][0] == pytest.approx(LEFT + width)
    else:  # one visit sits in the middle of a month either side
        assert before[0][0] == pytest.approx(LEFT + width / 2)


def test_visits_are_marked_up_to_40_and_the_legend_names_both_lines():
    start = dt.date(2024, 1, 1)
    few = pain_chart([visit(n, start + dt.timedelta(days=30 * n), 7, 2) for n in range(1, 4)])
    many = pain_chart([visit(n, start + dt.timedelta(days=7 * n), 7, 2) for n in range(1, 42)])
    marks = [shape for shape in few.contents if isinstance(shape, Circle | Rect)]
    assert len(marks) == 2 * 3 + 2  # a dot and a square per visit, and one of each in the legend
    assert len([shape for shape in many.contents if isinstance(shape, Circle | Rect)]) == 2
    texts = {shape.text for shape in few.contents if isinstance(shape, String)}
    assert {"before injection", "5-15 min after", "Visit date", "Pain (0-10 numeric rating scale)"} <= texts
    assert {str(score) for score in range(0, 11, 2)} <= texts
    assert "Jan 31 2024" in texts and "Mar 31 2024" in texts  # the first and last visit dates head the axis
