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

from collections.abc import Iterator
from contextlib import contextmanager

from reportlab.graphics.shapes import Drawing
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFObjectReference, PDFString
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable, Paragraph, Table

# a paragraph's element from its style or a style it derives from
STYLE_ROLES = {"title": "H1", "heading": "H2"}


class Element:
    """One structure element: its tag, its children (elements or marked content as (page, MCID))."""

    def __init__(self, tag: str, parent: Element | None = None, alt: str | None = None) -> None:
        self.tag, self.parent, self.alt = tag, parent, alt
        self.scope: str | None = None  # a header cell's: Column or Row
        self.kids: list[Element | tuple[int, int]] = []
        if parent is not None:
            parent.kids.append(self)

    def text_pages(self) -> list[int]:
        return [kid[0] for kid in self.kids if isinstance(kid, tuple)]


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
        page = canvas.getPageNumber()
        owners = self.owners.setdefault(page, [])
        element.kids.append((page, len(owners)))
        canvas.addLiteral(f"/{element.tag} <</MCID {len(owners)}>> BDC")
        owners.append(element)
        self.quiet += 1

    def begin_artifact(self, canvas, kind: str | None = None) -> None:
        canvas.addLiteral(f"/Artifact <</Type /{kind}>> BDC" if kind else "/Artifact BMC")
        self.quiet += 1

    def end(self, canvas) -> None:
        canvas.addLiteral("EMC")
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
            self.begin(canvas, self.element(_paragraph_role(flowable)))
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
        pages = [doc.Reference(page) for page in doc.Pages.pages]
        for index, page in enumerate(doc.Pages.pages):
            page.__NoDefault__ = [*type(page).__NoDefault__, "StructParents"]
            page.StructParents = index
        root = PDFDictionary({"Type": PDFName("StructTreeRoot")})
        root_ref = doc.Reference(root)
        refs: dict[int, PDFObjectReference] = {}
        entries: list[tuple[Element, PDFDictionary]] = []

        def register(element: Element) -> None:
            entry = PDFDictionary({"Type": PDFName("StructElem"), "S": PDFName(element.tag)})
            refs[id(element)] = doc.Reference(entry)
            entries.append((element, entry))
            for kid in element.kids:
                if isinstance(kid, Element):
                    register(kid)

        register(self.root)
        for element, entry in entries:
            entry["P"] = refs[id(element.parent)] if element.parent is not None else root_ref
            text_pages = element.text_pages()
            if text_pages:
                entry["Pg"] = pages[text_pages[0] - 1]
            kids = []
            for kid in element.kids:
                if isinstance(kid, Element):
                    kids.append(refs[id(kid)])
                elif kid[0] == text_pages[0]:
                    kids.append(kid[1])
                else:  # the same element continued on another page
                    kids.append(PDFDictionary({"Type": PDFName("MCR"), "Pg": pages[kid[0] - 1], "MCID": kid[1]}))
            entry["K"] = PDFArray(kids)
            if element.alt:
                entry["Alt"] = PDFString(element.alt)
            if element.scope:
                entry["A"] = PDFDictionary({"O": PDFName("Table"), "Scope": PDFName(element.scope)})
        nums = []
        for index in range(len(pages)):
            nums += [index, PDFArray([refs[id(owner)] for owner in self.owners.get(index + 1, [])])]
        root["K"] = refs[id(self.root)]
        root["ParentTree"] = doc.Reference(PDFDictionary({"Nums": PDFArray(nums)}))
        root["ParentTreeNextKey"] = len(pages)
        catalog = doc.Catalog
        catalog.StructTreeRoot = root_ref
        catalog.MarkInfo = PDFDictionary({"Marked": "true"})
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
    """ReportLab's table render callback: a row per TR, a cell per TH/TD, shading and grid as artifacts."""

    def __call__(self, table: Table, event: str, *args) -> None:
        tagger = getattr(table.canv, "tagger", None)
        if tagger is None:
            return
        canvas, layout_only = table.canv, getattr(table, "_tag_layout", False)
        if event in ("startBG", "startLines"):
            tagger.begin_artifact(canvas)
        elif event in ("endBG", "endLines"):
            tagger.end(canvas)
        elif layout_only:
            return
        elif event == "startRow":
            table._tag_row = Element("TR", table._tag_element)
        elif event == "startCell":
            row, column = args[0], args[1]
            header_rows = max(table.repeatRows if isinstance(table.repeatRows, int) else 0,
                              getattr(table, "_tag_header_rows", 0))
            scope = "Column" if row < header_rows else "Row" if column < getattr(table, "_tag_header_columns", 0) \
                else None
            cell = Element("TH" if scope else "TD", table._tag_row)
            cell.scope = scope
            tagger.begin(canvas, cell)
        elif event == "endCell":
            tagger.end(canvas)


TABLE_CALLBACK = _TableTags()


class SpacedLines(PDFTextObject):
    """Text whose every line ends with a space: where a line broke, text read from the structure tree has
    a space between the words (readers join a paragraph's lines as drawn). A space draws nothing."""

    def _textOut(self, text, TStar=0) -> None:
        if TStar:
            super()._textOut(text)
            text = " "
        super()._textOut(text, TStar)

    def textLine(self, text="") -> None:
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
