"""What every tpi PDF shares: fonts that print any name, styles, the page header and footer.

Fonts: see tpi_cli/pdf/fonts.py (every face embedded, one per script, loaded when a text needs it).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import letter
from reportlab.lib.rl_accel import fp_str
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import getFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from tpi_cli.clinical.safety import age_on
from tpi_cli.models import Patient, Visit
from tpi_cli.pdf import fonts
from tpi_cli.pdf.tagging import SpacedLines, Tagger

FONT = fonts.BASE
FONT_BOLD = fonts.BASE_BOLD

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
ACCENT = colors.HexColor("#0b6e99")
WARN = colors.HexColor("#b42318")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#eef2f6")


def register_fonts() -> None:
    from reportlab.graphics import shapes
    from reportlab.platypus.tables import CellStyle

    fonts.register_base()
    # a table sets its cells' font even when they hold paragraphs, and a drawing starts in its default
    # font; reportlab's default is Helvetica, which would be listed in the PDF without being embedded
    CellStyle.fontname = FONT
    shapes.STATE_DEFAULTS["fontName"] = FONT


# --- text that prints as typed ------------------------------------------------------------------


def escape(raw: str) -> str:
    """Paragraph markup for RAW printed literally (xml.sax.saxutils would import urllib: 9 ms)."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text(value: object) -> str:
    """Paragraph markup that prints VALUE literally, each script in an embedded face that has it."""
    return fonts.markup(value)


def paragraph(markup: str, style: ParagraphStyle, **kwargs) -> Paragraph:
    """A Paragraph, shaped by HarfBuzz when it holds Arabic, Hebrew, Devanagari or Thai."""
    if fonts.needs_shaping(markup):
        style = _shaped(style)
    return Paragraph(markup, style, **kwargs)


_SHAPED: dict[int, ParagraphStyle] = {}


def _shaped(style: ParagraphStyle) -> ParagraphStyle:
    shaped = _SHAPED.get(id(style))
    if shaped is None or shaped.parent is not style:
        shaped = _SHAPED[id(style)] = ParagraphStyle(f"{style.name}-shaped", parent=style, shaping=1)
    return shaped


# --- styles ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    title: ParagraphStyle
    heading: ParagraphStyle
    bullet: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    warning: ParagraphStyle


def make_styles(size: float, leading: float = 1.3, minimum: float = 0) -> Styles:
    """Styles for SIZE-point body text; no style smaller than MINIMUM (a patient's sheet: 12 pt)."""
    register_fonts()
    leading = size * leading
    small_size, cell_size = max(size * 0.85, minimum), max(size * 0.9, minimum)
    body = ParagraphStyle("body", fontName=FONT, fontSize=size, leading=leading, textColor=INK,
                          alignment=TA_LEFT, spaceAfter=size * 0.25)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=small_size, leading=small_size * 1.25, textColor=MUTED),
        title=ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=size * 1.5,
                             leading=size * 1.8, textColor=ACCENT, spaceAfter=size * 0.4),
        heading=ParagraphStyle("heading", parent=body, fontName=FONT_BOLD, fontSize=size * 1.15,
                               leading=size * 1.45, textColor=ACCENT, spaceBefore=size * 0.5,
                               spaceAfter=size * 0.2, keepWithNext=1),
        bullet=ParagraphStyle("bullet", parent=body, leftIndent=size * 1.2, bulletIndent=size * 0.3,
                              bulletFontName=FONT, bulletFontSize=size, spaceAfter=size * 0.1),
        cell=ParagraphStyle("cell", parent=body, fontSize=cell_size, leading=cell_size * 1.2, spaceAfter=0),
        cell_bold=ParagraphStyle("cell_bold", parent=body, fontName=FONT_BOLD, fontSize=cell_size,
                                 leading=cell_size * 1.2, spaceAfter=0),
        warning=ParagraphStyle("warning", parent=body, textColor=WARN),
    )


def grid(rows: Sequence[Sequence[object]], widths: Sequence[float], styles: Styles,
         header: bool = True, padding: float = 6) -> Table:
    """A table whose cells print any text, header row shaded.

    Cells are plain text wrapped to the column (fast, and never read as markup); text in another
    script becomes a paragraph so it can switch to that script's face.
    """
    from reportlab.platypus.tables import CellStyle, _setCellStyle

    def cell(value: object, style: ParagraphStyle, width: float) -> object:
        if isinstance(value, Paragraph):
            return value
        raw = "" if value is None else str(value)
        if fonts.needs_script_font(raw):
            return paragraph(text(raw), style)
        # plain text, wrapped here: tables re-measure paragraph cells each time they split across pages
        room = width - 2 * padding - 1
        font, size = getFont(style.fontName), style.fontSize
        # most cells fit on one line as given: what simpleSplit returns for them, without measuring each
        # word (a third of a 100-visit review's table work); near the edge, simpleSplit's own sum decides
        if font.stringWidth(raw, size) < room - 0.01 and raw == " ".join(raw.split()):
            return raw
        return "\n".join(_simple_split(raw, font, size, room)) or raw

    cells = [[cell(value, styles.cell_bold if header and i == 0 else styles.cell, widths[j])
              for j, value in enumerate(row)] for i, row in enumerate(rows)]
    # every body cell shares one cell style (and the header row another), set as TableStyle commands over the
    # whole table would set each cell's own copy: 2,000 cells made 2,000 styles and 16,000 settings
    def cell_style(font: str) -> CellStyle:
        style = CellStyle(font)
        for op, *values in (("VALIGN", "TOP"), ("FONT", font, styles.cell.fontSize, styles.cell.leading),
                            ("TEXTCOLOR", INK), ("TOPPADDING", 2), ("BOTTOMPADDING", 3), ("LEFTPADDING", padding),
                            ("RIGHTPADDING", padding)):
            _setCellStyle([[style]], 0, 0, op, values)
        return style

    body, head = cell_style(FONT), cell_style(FONT_BOLD)
    columns = len(widths)
    cell_styles = [[head if header and i == 0 else body] * columns for i in range(len(cells))]
    # a row of plain text is as tall as ReportLab works out each time the table is wrapped or split across
    # pages (its lines times the leading, plus the padding); a row with a paragraph is left to ReportLab
    pads, leading = body.bottomPadding + body.topPadding, body.leading
    heights = [max(leading * (value.count("\n") + 1) + pads for value in row)
               if all(type(value) is str for value in row) else None for row in cells]
    table = _Grid(cells, colWidths=list(widths), rowHeights=heights, repeatRows=1 if header else 0, hAlign="LEFT",
                  normalizedData=1, cellStyles=cell_styles)
    commands = [("GRID", (0, 0), (-1, -1), 0.5, RULE)]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(commands))
    return table


def _simple_split(raw: str, font, size: float, room: float) -> list[str]:
    """ReportLab's simpleSplit(raw, font, size, room), word for word and sum for sum, measuring with the
    font itself rather than through a lambda and pdfmetrics' font lookup for every word."""
    lines = []
    space = font.stringWidth(" ", size)
    for line in raw.split("\n"):
        words: list[str] = []
        width = -space
        for word in line.split():
            measured = font.stringWidth(word, size)
            if width + space + measured <= room or not words:
                words.append(word)
                width = width + space + measured
            else:
                lines.append(" ".join(words))
                words, width = [word], measured
        if words:
            lines.append(" ".join(words))
    return lines


class _Grid(Table):
    """A table whose plain-text cells are written as the document's canvas would draw them line by line.

    A 100-visit review has some 2,000 cells: through ``drawString`` each line costs a text object, a width
    measured and thrown away and a dozen calls. The same operators are written here directly, so the page
    is byte for byte the same (tests/test_pdf_grid.py holds it to the full path).
    """

    def _drawCell(self, cellval, cellstyle, pos, size) -> None:
        canvas = self.canv
        if (type(cellval) is not str or not isinstance(canvas, _TaggedCanvas) or cellstyle.alignment != "LEFT"
                or cellstyle.valign != "TOP" or cellstyle.direction or cellstyle.shaping or cellstyle.href
                or cellstyle.destination):
            super()._drawCell(cellval, cellstyle, pos, size)
            return
        current = self._curcellstyle
        if current is not cellstyle:
            if current is None or cellstyle.color != current.color:
                canvas.setFillColor(cellstyle.color)
            if (current is None or cellstyle.leading != current.leading or cellstyle.fontname != current.fontname
                    or cellstyle.fontsize != current.fontsize):
                canvas.setFont(cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
            self._curcellstyle = cellstyle
        (column, row), (_, height) = pos, size
        canvas.draw_lines(column + cellstyle.leftPadding, row + height - cellstyle.topPadding - cellstyle.fontsize,
                          cellval.split("\n"), cellstyle.leading)


# --- pages -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    after_hours_phone: str
    address: str

    @property
    def contact_line(self) -> str:
        return " · ".join(part for part in (self.address, self.phone) if part)


@dataclass(frozen=True)
class Page:
    """What goes on every page: the clinic, who the sheet is for, and the footer."""

    clinic: str
    clinic_lines: str  # address · phone
    patient_line: str  # name, date of birth, visit date: never hand a sheet to the wrong person
    footer: str  # e.g. the phone number on every handout page
    page_label: str  # "Page {page} of {pages}"
    size: float
    # pages after the first show only this (name and date of birth: the clinic is on page 1, its phone
    # in every footer), leaving more room for the text; None repeats the whole header
    later_patient_line: str | None = None


class _TaggedCanvas(Canvas):
    """A canvas whose drawing is tagged (``tagger``) and whose every text line ends with a space."""

    def __init__(self, *args, **kwargs):
        # the initial font would otherwise be Helvetica, listed in the PDF and never embedded
        super().__init__(*args, **{**kwargs, "initialFontName": FONT})
        self.tagger = Tagger()
        self._subset_names: dict[tuple[str, int], str] = {}  # (font, subset) → its name in this document

    def beginText(self, x: float = 0, y: float = 0, direction=None) -> SpacedLines:
        return SpacedLines(self, x, y, direction)

    def draw_lines(self, x: float, y: float, lines: list[str], leading: float) -> None:
        """What ``drawString(x, y, line)`` draws for each of LINES, LEADING apart, in the current font (tpi's
        faces are TrueType): one text object per line whose text ends with a space (SpacedLines), in one step."""
        font = getFont(self._fontname)
        doc, escape, code, names = self._doc, self._escape, self._code, self._subset_names
        size = f"{fp_str(self._fontsize)} Tf {fp_str(self._leading)} TL"
        for line in lines:
            runs = []
            for subset, text in font.splitString(line + " ", doc):
                # a new text object starts with no subset chosen: each run of one subset names its font
                # (getSubsetInternalName adds the font to the document the first time, then only names it)
                name = names.get((font.fontName, subset))
                if name is None:
                    name = names[font.fontName, subset] = font.getSubsetInternalName(subset, doc)
                runs.append(f"{name} {size} ({escape(text)}) Tj")
            code.append(f"BT 1 0 0 1 {fp_str(x, y)} Tm {' '.join(runs)} T* ET")
            y -= leading


def _numbered_canvas(page: Page, styles: Styles) -> type[Canvas]:
    class NumberedCanvas(_TaggedCanvas):
        """Draws 'Page x of y' once the number of pages is known (ActiveState recipe 576832)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                width, _ = self._pagesize
                self.setFont(FONT, styles.small.fontSize)
                self.setFillColor(MUTED)
                with self.tagger.artifact(self, "Pagination"):
                    self.drawRightString(width - 0.7 * inch - PAD, 0.4 * inch,
                                         page.page_label.format(page=number, pages=total))
                super().showPage()
            self.tagger.finish(self)
            super().save()

    return NumberedCanvas


PAD = 6  # the frame's own padding: header and footer line up with the text
MARGIN = 0.7 * inch
TEXT_WIDTH = letter[0] - 2 * MARGIN - 2 * PAD  # what a flowable may fill


def _header(page: Page, styles: Styles) -> list[Paragraph]:
    head = ParagraphStyle("head", parent=styles.body, fontName=FONT_BOLD, textColor=ACCENT, spaceAfter=0)
    paragraphs = [paragraph(text(page.clinic), head)] if page.clinic else []
    if page.clinic_lines:
        paragraphs.append(paragraph(text(page.clinic_lines), styles.small))
    paragraphs.append(paragraph(page.patient_line, ParagraphStyle("who", parent=styles.body, spaceAfter=0)))
    return paragraphs


def _footer(page: Page, styles: Styles) -> Paragraph | None:
    if not page.footer:
        return None
    return paragraph(page.footer, ParagraphStyle("foot", parent=styles.body, fontName=FONT_BOLD, spaceAfter=0))


def _height(paragraphs: Sequence[Paragraph], width: float) -> float:
    return sum(p.wrap(width, 10 * inch)[1] for p in paragraphs)


@contextmanager
def _furniture(canvas: Canvas, repeated: bool) -> Iterator[None]:
    """A header or footer: read where it first appears, page furniture where it repeats."""
    if repeated:
        with canvas.tagger.artifact(canvas, "Pagination"):
            yield
    else:
        yield


def render(story: list, page: Page, styles: Styles, *, title: str, author: str, subject: str,
           lang: str = "en") -> bytes:
    """The PDF bytes of STORY on Letter pages with PAGE's header and footer on each."""
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    margin, width = MARGIN, TEXT_WIDTH
    header, footer = _header(page, styles), _footer(page, styles)
    later_header = header if page.later_patient_line is None else [
        paragraph(page.later_patient_line, ParagraphStyle("who", parent=styles.body, spaceAfter=0))]
    footer_height = _height([footer], width) if footer else 0
    label_height = styles.small.leading
    top_edge, bottom_edge = 0.45 * inch, 0.4 * inch
    bottom = bottom_edge + label_height + footer_height + 10

    def template(name: str, lines: list[Paragraph], following: str) -> PageTemplate:
        # wrapped once: each page draws them as they are (wrapping them again for every page gave the same)
        heights = [line.wrap(width, 10 * inch)[1] for line in lines]
        top = top_edge + sum(heights) + 12

        def decorate(canvas: Canvas, doc: BaseDocTemplate) -> None:
            canvas.saveState()
            x, y = margin + PAD, letter[1] - top_edge
            # page 1's header is read first; on later pages it repeats and is page furniture
            with _furniture(canvas, name != "First"):
                for paragraph, h in zip(lines, heights, strict=True):
                    paragraph.drawOn(canvas, x, y - h)
                    y -= h
            with canvas.tagger.artifact(canvas):
                canvas.setStrokeColor(RULE)
                canvas.setLineWidth(0.8)
                canvas.line(x, y - 4, x + width, y - 4)
            canvas.restoreState()

        def foot(canvas: Canvas, doc: BaseDocTemplate) -> None:
            # drawn after the page's text, so text extraction and screen readers meet it last
            if footer:  # wrapped once, for its height
                with _furniture(canvas, canvas.getPageNumber() > 1):
                    footer.drawOn(canvas, margin + PAD, bottom_edge + label_height + 2)

        frame = Frame(margin, bottom, letter[0] - 2 * margin, letter[1] - top - bottom, id=name)
        return PageTemplate(id=name, frames=[frame], onPage=decorate, onPageEnd=foot, autoNextPageTemplate=following)

    buffer = io.BytesIO()
    doc = BaseDocTemplate(buffer, pagesize=letter, leftMargin=margin, rightMargin=margin, title=title,
                          author=author or "tpi", subject=subject, creator="tpi", invariant=1, lang=lang)
    doc.addPageTemplates([template("First", header, "Later"), template("Later", later_header, "Later")])
    doc.build(story, canvasmaker=_numbered_canvas(page, styles))
    return buffer.getvalue()


def long_date(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


# --- what the procedure note and the progress review share (here, so a review never imports the note) ---

WIDTH = 7.0 * inch


def patient_line(patient: Patient, day: dt.date, label: str = "Visit") -> str:
    return (f"<b>{text(patient.name)}</b> · ID {text(patient.id)} · born {long_date(patient.dob)} "
            f"(age {age_on(patient.dob, day)}) · {label} {long_date(day)}")


def weight_on(visit: Visit, patient: Patient) -> float | None:
    """The weight the visit was logged with (records from before tpi kept it: today's weight)."""
    return visit.weight_kg if visit.weight_kg is not None else patient.weight_kg
