"""Fonts that print any name: one embedded TrueType face per script, chosen character by character.

The faces ship in tpi_cli/fonts (subsets made by tools/subset_fonts.py, licences beside them); no font
of the machine is used and every font is embedded (ReportLab embeds TrueType only, so no CID fonts).
A face is read the first time a text needs it, so a Latin-only PDF never loads the CJK fonts.

- Latin (with Vietnamese), Greek (with polytonic), Cyrillic: tpi Sans (DejaVu Sans).
- Arabic, Hebrew, Devanagari, Thai: Noto Sans faces, shaped with HarfBuzz (``uharfbuzz``) through
  ReportLab's own shaping (``ParagraphStyle(shaping=1)``), which also draws each right-to-left word
  right to left. ReportLab's word reordering needs ``rlbidi`` (not on PyPI), so a run of right-to-left
  words inside our left-to-right documents is put in display order here: the Unicode bidi rule for a
  left-to-right paragraph. A right-to-left text longer than a line keeps its words in order within
  each line, but its lines follow the typed order of the whole run reversed (names fit on a line).
- Chinese, Japanese, Korean: one face per language. A name with kana is Japanese, one with hangul
  Korean; a name of han characters only is printed with the Chinese face (the most common case in US
  clinics; a Japanese name is usually typed with kana or romanised). A character the chosen face lacks
  is taken from the other CJK faces, so no character is ever dropped for a face's sake.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
BASE = "tpi-sans"
BASE_BOLD = "tpi-sans-bold"
SCRIPT_FONTS = ("arabic", "hebrew", "devanagari", "thai", "chinese", "japanese", "korean")
CJK_BY_LANGUAGE = {"zh": "chinese", "ja": "japanese", "ko": "korean"}
COMPLEX = ("arabic", "hebrew", "devanagari", "thai")  # need shaping (joining, conjuncts, marks)
RTL = ("arabic", "hebrew")

_SCRIPT_RANGES = (
    ("arabic", ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ("hebrew", ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))),
    ("devanagari", ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF))),
    ("thai", ((0x0E00, 0x0E7F),)),
    ("hangul", ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF))),
    ("kana", ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))),
    ("han", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2FFFF), (0xF900, 0xFAFF), (0x3000, 0x303F),
             (0xFF00, 0xFF65), (0xFFA0, 0xFFEF))),
)
# Below it no character needs a script face. A regular expression over the ranges took ~15 ms to compile
# (sre expands every range of the basic plane), as long as a handout's own text work: each character is
# looked up instead, and most text is ASCII.
_FIRST_SCRIPT_CHAR = chr(min(low for _, spans in _SCRIPT_RANGES for low, _ in spans))
_JOINERS = {0x200C, 0x200D}  # zero-width (non-)joiners shape with the script around them
_COMPLEX_CHARS = re.compile(
    "[" + "".join(f"\\U{low:08X}-\\U{high:08X}" for name, spans in _SCRIPT_RANGES if name in COMPLEX
                  for low, high in spans) + "]"
)


def script_of(char: str) -> str | None:
    """The script a character needs a face for (None: the base face prints it)."""
    code = ord(char)
    for name, spans in _SCRIPT_RANGES:
        for low, high in spans:
            if low <= code <= high:
                return name
    return None


def needs_script_font(raw: str) -> bool:
    return not raw.isascii() and any(script_of(c) is not None for c in raw if c >= _FIRST_SCRIPT_CHAR)


def needs_shaping(markup: str) -> bool:
    return _COMPLEX_CHARS.search(markup) is not None


@cache
def _true_type() -> type:
    from reportlab.pdfbase.ttfonts import TTFont

    class TrueType(TTFont):
        """A TrueType face whose text, once each of its characters has a code in the document's first subset,
        is split with str.translate: ReportLab's splitString looks every character up in Python (a tenth of
        drawing a 100-visit review). Text with a character new to the document still goes through it, and
        that gives the new characters their codes (tests/test_pdf_fonts.py holds both to the same result)."""

        def splitString(self, text, doc, encoding="utf-8"):
            state = self.state.get(doc)
            codes = getattr(state, "tpi_codes", None)
            if codes is not None and type(text) is str and text and codes[0].issuperset(text):
                return [(0, text.translate(codes[1]).encode("latin-1"))]
            split = super().splitString(text, doc, encoding)
            if type(text) is str:
                state = self.state[doc]
                if codes is None:
                    codes = state.tpi_codes = (set(), {})
                    text = "".join(map(chr, state.assignments)) + text  # the codes given before
                known, table = codes
                for char in set(text).difference(known):
                    code = state.assignments.get(ord(char))
                    if code is not None and code < 256:  # a code in the first subset
                        known.add(char)
                        table[ord(char)] = chr(code)
            return split

    return TrueType


@cache
def register_base() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics

    TrueType = _true_type()
    pdfmetrics.registerFont(TrueType(BASE, str(FONTS_DIR / f"{BASE}.ttf")))
    pdfmetrics.registerFont(TrueType(BASE_BOLD, str(FONTS_DIR / f"{BASE_BOLD}.ttf")))
    for bold, italic, name in ((0, 0, BASE), (1, 0, BASE_BOLD), (0, 1, BASE), (1, 1, BASE_BOLD)):
        addMapping(BASE, bold, italic, name)


@cache
def script_font(script: str) -> str:
    """The registered font name for SCRIPT's face (read from disk on first use)."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics

    name = f"tpi-{script}"
    pdfmetrics.registerFont(_true_type()(name, str(FONTS_DIR / f"{name}.ttf")))
    # one weight ships per script: <b> around such a name prints it in the regular face, never as boxes
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(name, bold, italic, name)
    return name


@cache
def _covers(script: str) -> frozenset[int]:
    from reportlab.pdfbase import pdfmetrics

    return frozenset(pdfmetrics.getFont(script_font(script)).face.charToGlyph)


def cjk_language(raw: str) -> str:
    """ja when the text has kana, ko when it has hangul, else zh (han only: see the module's note)."""
    scripts = {script_of(c) for c in raw}
    return "ja" if "kana" in scripts else "ko" if "hangul" in scripts else "zh"


def _face(char: str, script: str | None, language: str) -> str | None:
    if script is None:
        return None
    if script in ("han", "kana", "hangul"):
        preferred = CJK_BY_LANGUAGE[language]
        order = [preferred] + [s for s in ("chinese", "japanese", "korean") if s != preferred]
        for face in order:
            if ord(char) in _covers(face):
                return face
        return preferred
    return script


def _escape(raw: str) -> str:
    return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _visual_words(raw: str) -> list[str]:
    """Words and the spaces between them in display order: right-to-left words of a run swap places.

    Each word stays in typed order: HarfBuzz shapes it right to left as a whole.
    """
    tokens = re.split(r"(\s+)", raw)
    rtl = [bool(token.strip()) and _is_rtl_word(token) for token in tokens]
    out: list[str] = []
    index = 0
    while index < len(tokens):
        if not rtl[index]:
            out.append(tokens[index])
            index += 1
            continue
        end = index
        while end + 2 < len(tokens) and rtl[end + 2] and not tokens[end + 1].strip():
            end += 2
        out.extend(reversed(tokens[index:end + 1]))
        index = end + 1
    return out


def typed_order(shown: str) -> str:
    """The text as typed from SHOWN, the plain text of `markup`'s words in display order.

    Swapping the right-to-left words of each run is its own inverse, so the same swap restores them.
    """
    return "".join(_visual_words(shown))


def _is_rtl_word(token: str) -> bool:
    return any(script_of(c) in RTL for c in token)


def markup(value: object) -> str:
    """Paragraph markup that prints VALUE literally, each script in a face that has its glyphs."""
    raw = "" if value is None else str(value)
    if not needs_script_font(raw):
        return _escape(raw)
    language = cjk_language(raw)
    words = _visual_words(raw) if any(script_of(c) in RTL for c in raw) else [raw]
    out: list[str] = []
    for word in words:
        run: list[str] = []
        run_face: str | None = None
        for char in word:
            script = script_of(char)
            if script is None and (ord(char) in _JOINERS or (run_face in COMPLEX and not char.isspace()
                                                              and _continues(char))):
                face = run_face  # marks, joiners and digits inside a word keep the word's face
            else:
                face = _face(char, script, language)
            if face != run_face and run:
                out.append(_run(run, run_face))
                run = []
            run_face = face
            run.append(char)
        if run:
            out.append(_run(run, run_face))
    return "".join(out)


def _continues(char: str) -> bool:
    import unicodedata

    return unicodedata.category(char).startswith("M")


def _run(chars: list[str], face: str | None) -> str:
    body = _escape("".join(chars))
    return f'<font name="{script_font(face)}">{body}</font>' if face else body
