"""Tagged PDF: a structure tree in reading order, so a screen reader reads the document as it is meant.

ReportLab writes no structure of its own. While a document is drawn, every flowable the canvas draws
(a paragraph, a table cell, a figure) is wrapped in marked content with its own number on the page
(``/P <</MCID 3>> BDC … EMC``) and gets an element in the tree: H1 for a title, H2 for a heading, P,
L and LI for bulleted lines, Table, TR, TH and TD for tables, Figure with its Alt text for a drawing.
The tree's order is the drawing order, which the documents keep in reading order. Rules, shading, table
grids and what repeats on every page after the first (the header, the footer, "Page x of y") are
marked as artifacts, outside the tree.

Hooks: ``Flowable._drawOn`` (what every flowable's ``drawOn`` calls) and ReportLab's table render
callback; they act only on a canvas that carries a ``Tagger``, so any other drawing is untouched.
``finish`` then writes the tree with ReportLab's own PDF objects. Each drawn line ends with a space
(``SpacedLines``): readers of the tree join a paragraph's lines as drawn, and "wears off" at a line's
end would otherwise run into "in about" on the next.

Right-to-left words are drawn in display order (see fonts.py): readers that follow the tree in drawing
order, as poppler does, read them reversed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

from reportlab.graphics.shapes import Drawing
from reportlab.pdfbase.pdfdoc import PDFDictionary, PDFObject, PDFString
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable, Paragraph, Table

from tpi_cli.pdf.fonts import typed_order

# a paragraph's element from its style or a style it derives from
STYLE_ROLES = {"title": "H1", "heading": "H2"}


# Hebrew, Arabic (with its supplement and extended blocks) and their presentation forms
_TAG = re.compile(r"<[^>]*>")
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


class Element(PDFObject):
    """One structure element: its tag, its children (elements, or marked content as (page, MCID)).

    It writes itself (``format``): a 100-visit review has some 2,000 table cells, and building a
    PDFDictionary for each took longer than drawing them.
    """

    __RefOnly__ = 1  # always an indirect object: the parent tree and the children point at it
    scope: str | None = None  # a header cell's: Column or Row
    actual: str | None = None  # the text as typed, when the drawn glyphs are not in reading order
    tree: _Tree  # set when the document is written (``finish``), with the element's object number
    number: int

    def __init__(self, tag: str, parent: Element | None = None, alt: str | None = None) -> None:
        self.tag, self.parent, self.alt = tag, parent, alt
        self.kids: list[Element | tuple[int, int]] = []
        if parent is not None:
            parent.kids.append(self)

    def format(self, document) -> bytes:
        pages = self.tree.page_numbers
        parent = self.parent if self.parent is not None else self.tree
        out = f"<< /Type /StructElem /S /{self.tag} /P {parent.number} 0 R"
        first = None
        kids = []
        for kid in self.kids:
            if type(kid) is not tuple:
                kids.append(f"{kid.number} 0 R")
                continue
            if first is None:
                first = kid[0]
                out += f" /Pg {pages[first - 1]} 0 R"
            if kid[0] == first:
                kids.append(str(kid[1]))
            else:  # the same element continued on another page
                kids.append(f"<< /Type /MCR /Pg {pages[kid[0] - 1]} 0 R /MCID {kid[1]} >>")
        out += f" /K [{' '.join(kids)}]"
        if self.scope:
            out += f" /A << /O /Table /Scope /{self.scope} >>"
        if not (self.alt or self.actual):
            return (out + " >>").encode("ascii")
        alt = b" /Alt " + PDFString(self.alt).format(document) if self.alt else b""
        actual = b" /ActualText " + PDFString(self.actual).format(document) if self.actual else b""
        return out.encode("ascii") + alt + actual + b" >>"


class _Tree(PDFObject):
    """The structure tree root with its parent tree: for each page, the element of each MCID."""

    __RefOnly__ = 1
    number: int  # set when the document is written, with its pages' object numbers

    def __init__(self, root: Element, owners: dict[int, list[Element]], page_numbers: list[int]) -> None:
        self.root, self.owners, self.page_numbers = root, owners, page_numbers

    def format(self, document) -> bytes:
        nums = " ".join(f"{index} [{' '.join(f'{owner.number} 0 R' for owner in self.owners.get(index + 1, []))}]"
                        for index in range(len(self.page_numbers)))
        return (f"<< /Type /StructTreeRoot /K {self.root.number} 0 R "
                f"/ParentTree << /Nums [{nums}] >> /ParentTreeNextKey {len(self.page_numbers)} >>").encode("ascii")


class Tagger:
    """The structure of one document as it is drawn on a canvas (``canvas.tagger``)."""

    def __init__(self) -> None:
        self.root = Element("Document")
        self.parent = self.root
        self.owners: dict[int, list[Element]] = {}  # page number → the element of each MCID on it
        self.quiet = 0  # inside marked content or an artifact: what is drawn belongs to it
        self._list: Element | None = None  # the list the next bulleted line joins

    # --- marked content ----------------------------------------------------------------------------

    def begin(self, canvas, element: Element) -> None:
        page = canvas._pageNumber
        owners = self.owners.get(page)
        if owners is None:
            owners = self.owners[page] = []
        mcid = len(owners)
        element.kids.append((page, mcid))
        canvas._code.append(f"/{element.tag} <</MCID {mcid}>> BDC")  # addLiteral, without its str()
        owners.append(element)
        self.quiet += 1

    def begin_artifact(self, canvas, kind: str | None = None) -> None:
        canvas._code.append(f"/Artifact <</Type /{kind}>> BDC" if kind else "/Artifact BMC")
        self.quiet += 1

    def end(self, canvas) -> None:
        canvas._code.append("EMC")
        self.quiet -= 1

    @contextmanager
    def artifact(self, canvas, kind: str | None = None) -> Iterator[None]:
        """What is drawn inside is decoration (or KIND: Pagination), outside the structure tree."""
        self.begin_artifact(canvas, kind)
        try:
            yield
        finally:
            self.end(canvas)

    def element(self, tag: str, alt: str | None = None) -> Element:
        """A new element under the current parent; a bulleted line joins the list just before it."""
        if tag == "LI":
            if self._list is None or self._list.parent is not self.parent or self.parent.kids[-1] is not self._list:
                self._list = Element("L", self.parent)
            return Element("LI", self._list)
        return Element(tag, self.parent, alt)

    # --- flowables -----------------------------------------------------------------------------------

    def draw(self, flowable: Flowable, canvas, draw) -> None:
        if isinstance(flowable, Paragraph):
            element = self.element(_paragraph_role(flowable))
            typed = flowable.text  # None in the second part of a paragraph split across pages
            if isinstance(typed, str) and _RIGHT_TO_LEFT.search(typed):
                # Hebrew and Arabic are drawn in display order (Arabic as shaped forms): the element
                # carries the text as typed, which screen readers read instead of the glyphs
                element.actual = typed_order(html.unescape(_TAG.sub("", typed)))
            self.begin(canvas, element)
            draw(flowable, canvas)
            self.end(canvas)
        elif isinstance(flowable, Table):
            if flowable._renderCB is None:
                flowable._renderCB = TABLE_CALLBACK
            if getattr(flowable, "_tag_layout", False):  # a box around text: its text is tagged as text
                draw(flowable, canvas)
                return
            outer = self.parent
            self.parent = flowable._tag_element = self.element("Table")
            draw(flowable, canvas)
            self.parent = outer
        elif isinstance(flowable, Drawing):
            self.begin(canvas, self.element("Figure", alt=getattr(flowable, "_alt", None)))
            draw(flowable, canvas)
            self.end(canvas)
        else:  # a container (columns, a kept group): what it holds is tagged as it is drawn
            draw(flowable, canvas)

    # --- the tree in the PDF ---------------------------------------------------------------------------

    def finish(self, canvas) -> None:
        """Write the tree, the parent tree and the catalog's entries into CANVAS's document."""
        doc = canvas._doc
        for index, page in enumerate(doc.Pages.pages):
            page.__NoDefault__ = [*type(page).__NoDefault__, "StructParents"]
            page.StructParents = index
        numbers, names, objects = doc.idToObjectNumberAndVersion, doc.numberToId, doc.idToObject
        tree = _Tree(self.root, self.owners, [numbers[page.__InternalName__][0] for page in doc.Pages.pages])
        doc.Catalog.StructTreeRoot = tree
        doc.Reference(tree)  # before the elements: the document element points back at it
        tree.number = numbers[tree.__InternalName__][0]
        # each element gets the next object number and its name as doc.Reference gives them, without
        # Reference's checks for objects registered before (for 2,000 cells they cost more than the writing)
        number = doc.objectcounter
        stack = [self.root]
        while stack:
            element = stack.pop()
            number += 1
            element.tree, element.number = tree, number
            name = element.__InternalName__ = f"R{number}"
            numbers[name], names[number], objects[name] = (number, 0), name, element
            stack.extend(kid for kid in reversed(element.kids) if type(kid) is Element)
        doc.objectcounter = number
        doc.Catalog.MarkInfo = PDFDictionary({"Marked": "true"})
        canvas.setViewerPreference("DisplayDocTitle", "true")


def _paragraph_role(paragraph: Paragraph) -> str:
    role = getattr(paragraph, "_tag", None)
    if role:
        return role
    if paragraph.bulletText:
        return "LI"
    style = paragraph.style
    while style is not None:
        if style.name in STYLE_ROLES:
            return STYLE_ROLES[style.name]
        style = style.parent
    return "P"


# --- what the documents say about their flowables ---------------------------------------------------


def figure(drawing: Drawing, alt: str) -> Drawing:
    """DRAWING as a Figure whose Alt text says what it shows."""
    drawing._alt = alt
    return drawing


def heading(paragraph: Paragraph) -> Paragraph:
    """PARAGRAPH read as a heading whatever its style (e.g. the emergency box's first line)."""
    paragraph._tag = "H2"
    return paragraph


def layout(table: Table) -> Table:
    """TABLE only draws a box around its text: the text is tagged as paragraphs and lists, not cells."""
    table._tag_layout = True
    return table


def headers(table: Table, rows: int = 0, columns: int = 0) -> Table:
    """TABLE's first ROWS rows and first COLUMNS columns are header cells (TH) for the cells they head."""
    table._tag_header_rows, table._tag_header_columns = rows, columns
    return table


class _TableTags:
    """ReportLab's table render callback: a row per TR, a cell per TH/TD, shading and grid as artifacts.

    Called for every cell: what a table needs is worked out once, at its start.
    """

    def __call__(self, table: Table, event: str, *args) -> None:
        # the events of every cell first: the others come once a row or once a table
        if event == "startCell":
            state = table._tag_state
            if state is not None:
                cell = Element("TD", table._tag_row)
                if args[0] < state[0] or args[1] < state[1]:
                    cell.tag, cell.scope = "TH", "Column" if args[0] < state[0] else "Row"
                state[2].begin(table.canv, cell)
        elif event == "endCell":
            if table._tag_state is not None:
                table._tag_state[2].end(table.canv)
        elif event == "startRow":
            if table._tag_state is not None:
                table._tag_row = Element("TR", table._tag_element)
        elif event == "startTable":
            tagger = table._tag_tagger = getattr(table.canv, "tagger", None)
            table._tag_state = None if tagger is None or getattr(table, "_tag_layout", False) else (
                max(table.repeatRows if isinstance(table.repeatRows, int) else 0, getattr(table, "_tag_header_rows", 0)),
                getattr(table, "_tag_header_columns", 0), tagger)
        elif table._tag_tagger is not None:
            if event in ("startBG", "startLines"):
                table._tag_tagger.begin_artifact(table.canv)
            elif event in ("endBG", "endLines"):
                table._tag_tagger.end(table.canv)


TABLE_CALLBACK = _TableTags()


class SpacedLines(PDFTextObject):
    """Text whose every line ends with a space: where a line broke, text read from the structure tree has
    a space between the words (readers join a paragraph's lines as drawn). A space draws nothing."""

    def _textOut(self, text, TStar=0) -> None:
        if not TStar:
            super()._textOut(text)
        elif type(text) is str:
            super()._textOut(text + " ", TStar)
        else:  # shaped text carries its glyphs' positions: the space is drawn after it
            super()._textOut(text)
            super()._textOut(" ", TStar)

    def textLine(self, text="") -> None:
        if type(text) is str:
            super().textLine(text + " ")
        else:
            super()._textOut(text)
            super().textLine(" ")

_untagged_draw_on = Flowable._drawOn


def _draw_on(flowable: Flowable, canvas) -> None:
    tagger = getattr(canvas, "tagger", None)
    if tagger is None or tagger.quiet:
        _untagged_draw_on(flowable, canvas)
    else:
        tagger.draw(flowable, canvas, _untagged_draw_on)


Flowable._drawOn = _draw_on
