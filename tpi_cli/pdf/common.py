"""What every tpi PDF shares: fonts that print any name, styles, the page header and footer.

Fonts ship inside the package (tpi_cli/fonts, with their licence): DejaVu Sans covers Latin,
Greek, Cyrillic and Vietnamese; CJK runs switch to reportlab's built-in CID fonts. The standard PDF
fonts cover Latin-1 only, and no font of the machine is ever used.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
# reportlab's built-in CID fonts (Adobe Asian font packs, no file needed) for CJK runs
CJK_FONTS = {"zh": "STSong-Light", "ja": "HeiseiMin-W3", "ko": "HYSMyeongJo-Medium"}

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
ACCENT = colors.HexColor("#0b6e99")
WARN = colors.HexColor("#b42318")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#eef2f6")


@cache
def register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(FONTS_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
    for bold, italic, name in ((0, 0, FONT), (1, 0, FONT_BOLD), (0, 1, FONT), (1, 1, FONT_BOLD)):
        addMapping(FONT, bold, italic, name)
    for name in CJK_FONTS.values():
        pdfmetrics.registerFont(UnicodeCIDFont(name))


# --- text that prints as typed ------------------------------------------------------------------


def escape(raw: str) -> str:
    """Paragraph markup for RAW printed literally (xml.sax.saxutils would import urllib: 9 ms)."""
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cjk_kind(char: str) -> str | None:
    code = ord(char)
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "kana"
    if (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF):
        return "han"
    return None


def text(value: object) -> str:
    """Paragraph markup that prints VALUE literally: escaped, with CJK runs in a CJK font."""
    raw = "" if value is None else str(value)
    kinds = [_cjk_kind(c) for c in raw]
    if not any(kinds):
        return escape(raw)
    language = "ja" if "kana" in kinds else "ko" if "hangul" in kinds else "zh"
    out, run, run_font = [], [], None
    for char, kind in zip(raw, kinds, strict=True):
        font = CJK_FONTS[language] if kind else None
        if font != run_font and run:
            out.append(_run(run, run_font))
            run = []
        run_font = font
        run.append(char)
    if run:
        out.append(_run(run, run_font))
    return "".join(out)


def _run(chars: list[str], font: str | None) -> str:
    body = escape("".join(chars))
    return f'<font name="{font}">{body}</font>' if font else body


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


def make_styles(size: float) -> Styles:
    register_fonts()
    leading = size * 1.3
    body = ParagraphStyle("body", fontName=FONT, fontSize=size, leading=leading, textColor=INK,
                          alignment=TA_LEFT, spaceAfter=size * 0.25)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=size * 0.85, leading=size * 1.1, textColor=MUTED),
        title=ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=size * 1.5,
                             leading=size * 1.8, textColor=ACCENT, spaceAfter=size * 0.4),
        heading=ParagraphStyle("heading", parent=body, fontName=FONT_BOLD, fontSize=size * 1.15,
                               leading=size * 1.45, textColor=ACCENT, spaceBefore=size * 0.5,
                               spaceAfter=size * 0.2, keepWithNext=1),
        bullet=ParagraphStyle("bullet", parent=body, leftIndent=size * 1.2, bulletIndent=size * 0.3,
                              bulletFontName=FONT, bulletFontSize=size, spaceAfter=size * 0.15),
        cell=ParagraphStyle("cell", parent=body, fontSize=size * 0.9, leading=size * 1.1, spaceAfter=0),
        cell_bold=ParagraphStyle("cell_bold", parent=body, fontName=FONT_BOLD, fontSize=size * 0.9,
                                 leading=size * 1.1, spaceAfter=0),
        warning=ParagraphStyle("warning", parent=body, textColor=WARN),
    )


def grid(rows: Sequence[Sequence[object]], widths: Sequence[float], styles: Styles,
         header: bool = True, padding: float = 6, extra: Sequence[tuple] = ()) -> Table:
    """A table whose cells print any text, header row shaded.

    Cells are plain text wrapped to the column (fast, and never read as markup); text with CJK
    characters becomes a paragraph so it can switch to a CJK font.
    """
    from reportlab.lib.utils import simpleSplit

    def cell(value: object, style: ParagraphStyle, width: float) -> object:
        if isinstance(value, Paragraph):
            return value
        raw = "" if value is None else str(value)
        if any(_cjk_kind(c) for c in raw):
            return Paragraph(text(raw), style)
        # plain text, wrapped here: tables re-measure paragraph cells each time they split across pages
        return "\n".join(simpleSplit(raw, style.fontName, style.fontSize, width - 2 * padding - 1)) or raw

    cells = [[cell(value, styles.cell_bold if header and i == 0 else styles.cell, widths[j])
              for j, value in enumerate(row)] for i, row in enumerate(rows)]
    table = Table(cells, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    size = styles.cell.fontSize
    commands = [("GRID", (0, 0), (-1, -1), 0.5, RULE), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONT", (0, 0), (-1, -1), FONT, size, styles.cell.leading), ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), padding), ("RIGHTPADDING", (0, 0), (-1, -1), padding)]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), SHADE), ("FONT", (0, 0), (-1, 0), FONT_BOLD, size,
                                                                styles.cell.leading)]
    table.setStyle(TableStyle(commands + list(extra)))
    return table


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


def _numbered_canvas(page: Page, styles: Styles) -> type[Canvas]:
    class NumberedCanvas(Canvas):
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
                self.drawRightString(width - 0.7 * inch - PAD, 0.4 * inch,
                                     page.page_label.format(page=number, pages=total))
                super().showPage()
            super().save()

    return NumberedCanvas


PAD = 6  # the frame's own padding: header and footer line up with the text


def _header(page: Page, styles: Styles) -> list[Paragraph]:
    head = ParagraphStyle("head", parent=styles.body, fontName=FONT_BOLD, textColor=ACCENT, spaceAfter=0)
    paragraphs = [Paragraph(text(page.clinic), head)] if page.clinic else []
    if page.clinic_lines:
        paragraphs.append(Paragraph(text(page.clinic_lines), styles.small))
    paragraphs.append(Paragraph(page.patient_line, ParagraphStyle("who", parent=styles.body, spaceAfter=0)))
    return paragraphs


def _footer(page: Page, styles: Styles) -> Paragraph | None:
    if not page.footer:
        return None
    return Paragraph(page.footer, ParagraphStyle("foot", parent=styles.body, fontName=FONT_BOLD, spaceAfter=0))


def _height(paragraphs: Sequence[Paragraph], width: float) -> float:
    return sum(p.wrap(width, 10 * inch)[1] for p in paragraphs)


def render(story: list, page: Page, styles: Styles, *, title: str, author: str, subject: str) -> bytes:
    """The PDF bytes of STORY on Letter pages with PAGE's header and footer on each."""
    margin = 0.7 * inch
    width = letter[0] - 2 * margin - 2 * PAD
    header, footer = _header(page, styles), _footer(page, styles)
    header_height = _height(header, width)
    footer_height = _height([footer], width) if footer else 0
    label_height = styles.small.leading
    top_edge, bottom_edge = 0.45 * inch, 0.4 * inch

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        x, y = doc.leftMargin + PAD, doc.pagesize[1] - top_edge
        for paragraph in header:
            _, h = paragraph.wrap(width, 10 * inch)
            paragraph.drawOn(canvas, x, y - h)
            y -= h
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.8)
        canvas.line(x, y - 4, x + width, y - 4)
        if footer:
            _, h = footer.wrap(width, 10 * inch)
            footer.drawOn(canvas, x, bottom_edge + label_height + 2)
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=letter, leftMargin=margin, rightMargin=margin,
        topMargin=top_edge + header_height + 12, bottomMargin=bottom_edge + label_height + footer_height + 10,
        title=title, author=author or "tpi", subject=subject, creator="tpi", invariant=1,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate, canvasmaker=_numbered_canvas(page, styles))
    return buffer.getvalue()


def long_date(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"
