"""Table cells of the PDFs: text wrapped to its column exactly as ReportLab's own simpleSplit wraps it."""

from __future__ import annotations

from hypothesis import example, given, settings
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



# a cell's text: Latin, Greek and Cyrillic (more than one 256-glyph subset of the face), the characters PDF
# strings escape, spaces, no-break spaces and line breaks
CELL_TEXT = st.text(alphabet=st.sampled_from(
    list("aeimnoWw10%-→ÑéØ ()\\\n\u00a0—·") + [chr(c) for c in range(0x391, 0x3a9)]
    + [chr(c) for c in range(0x410, 0x450)] + [chr(c) for c in range(0x100, 0x17f)]), max_size=30)
WIDTHS = [60.0, 120.0, 200.0]


def rendered(table) -> bytes:
    from tpi_cli.pdf.common import Page, render

    page = Page(clinic="Clinic", clinic_lines="", patient_line="Ana", footer="", page_label="Page {page} of {pages}",
                size=9)
    return render([table], page, STYLES, title="t", author="a", subject="s")


def reportlab_table(cells: list[list[object]], header: bool, padding: float):
    """The table as ReportLab builds and draws it: a cell style per cell, set by TableStyle commands, and
    every line of text through canvas.drawString."""
    from reportlab.platypus import Table, TableStyle

    from tpi_cli.pdf.common import FONT, FONT_BOLD, INK, RULE, SHADE

    table = Table(cells, colWidths=WIDTHS, repeatRows=1 if header else 0, hAlign="LEFT")
    size, leading = STYLES.cell.fontSize, STYLES.cell.leading
    commands = [("GRID", (0, 0), (-1, -1), 0.5, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONT", (0, 0), (-1, -1), FONT, size, leading), ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), padding), ("RIGHTPADDING", (0, 0), (-1, -1), padding)]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), SHADE), ("FONT", (0, 0), (-1, 0), FONT_BOLD, size, leading)]
    table.setStyle(TableStyle(commands))
    return table


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(CELL_TEXT, min_size=3, max_size=3), min_size=1, max_size=120), header=st.booleans())
@example(rows=[[f"2026-01-{n % 28 + 1:02d}", "upper trapezius L; levator scapulae R " * (n % 3), "(\\) Ωмé"]
               for n in range(150)], header=True)  # over three pages: split twice, the header row repeated
def test_a_grid_is_written_byte_for_byte_as_reportlab_builds_and_draws_it(rows, header):
    # grid shares cell styles and writes plain-text lines itself: the PDF must be exactly ReportLab's own,
    # over page breaks (a repeated header row), wrapped and multi-line cells and every subset of the face
    table = grid(rows, WIDTHS, STYLES, header=header, padding=2.5)
    cells = [list(row) for row in table._cellvalues]
    assert rendered(table) == rendered(reportlab_table(cells, header, 2.5))
