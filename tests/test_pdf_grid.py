"""Table cells of the PDFs: text wrapped to its column exactly as ReportLab's own simpleSplit wraps it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.lib.utils import simpleSplit

from tpi_cli.pdf.common import grid, make_styles

STYLES = make_styles(9)
PADDING = 6
# Latin words (tpi Sans prints them), with runs of spaces, tabs and line breaks the shortcut must leave alone
WORDS = st.text(alphabet=st.sampled_from("aeimnoWw10%-→ÑéØ"), min_size=0, max_size=14)
TEXTS = st.lists(st.tuples(WORDS, st.sampled_from([" ", " ", " ", "  ", "\t", "\n", " \n"])), max_size=12).map(
    lambda parts: "".join(word + gap for word, gap in parts))


def wrapped(raw: str, width: float) -> str:
    lines = simpleSplit(raw, STYLES.cell.fontName, STYLES.cell.fontSize, width - 2 * PADDING - 1)
    return "\n".join(lines) or raw


@settings(max_examples=300, deadline=None)
@given(raw=TEXTS, width=st.floats(min_value=20, max_value=400))
def test_a_cell_is_wrapped_as_simple_split_wraps_it(raw, width):
    # grid takes a short cut for text that fits on one line: it must never differ from simpleSplit
    table = grid([[raw]], [width], STYLES, header=False, padding=PADDING)
    assert table._cellvalues[0][0] == wrapped(raw, width)


def test_text_exactly_at_the_column_edge_is_wrapped_as_simple_split_wraps_it():
    from reportlab.pdfbase.pdfmetrics import stringWidth

    raw = "upper trapezius L; levator scapulae R"
    exact = stringWidth(raw, STYLES.cell.fontName, STYLES.cell.fontSize) + 2 * PADDING + 1
    for width in (exact - 0.02, exact - 0.005, exact, exact + 0.005, exact + 0.02):
        table = grid([[raw]], [width], STYLES, header=False, padding=PADDING)
        assert table._cellvalues[0][0] == wrapped(raw, width), width
