"""Rebuild the fonts shipped in tpi_cli/fonts from Debian's font packages (needs fontTools).

    python tools/subset_fonts.py            # writes tpi_cli/fonts/*.ttf

ReportLab embeds TrueType (glyf) fonts only, so every source is a TTF. Each font is cut down to the
characters a name or a handout can need (the CJK faces to the national standard character sets), and
renamed: the OFL's reserved names (Nanum) and the IPA licence (Article 3.1(4)) forbid a modified font
to keep the original name. To go back to an original font, install the Debian package named below and
point FONT_FILES in tpi_cli/pdf/fonts.py at it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

OUT = Path(__file__).resolve().parent.parent / "tpi_cli" / "fonts"
TRUETYPE = Path("/usr/share/fonts/truetype")


def ranges(*spans: tuple[int, int]) -> set[int]:
    return {code for low, high in spans for code in range(low, high + 1)}


def national_set(codec: str, leads: range = range(0x81, 0xFF)) -> set[int]:
    """Every character of a two-byte national standard (GB 2312, Big5, JIS X 0208, KS X 1001)."""
    chars = set()
    for lead in leads:
        for trail in range(0x40, 0xFF):
            try:
                text = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            chars.update(ord(c) for c in text)
    return chars


COMMON = ranges((0x20, 0x7E), (0xA0, 0xFF), (0x2000, 0x206F), (0x3000, 0x303F), (0xFF00, 0xFFEF))
LATIN_GREEK_CYRILLIC = ranges(
    (0x20, 0x24F), (0x250, 0x2FF), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x52F), (0x1E00, 0x1EFF),
    (0x1F00, 0x1FFF),  # Greek Extended: polytonic Greek
    (0x2000, 0x206F), (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2500, 0x257F),
    (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x2700, 0x27BF), (0xFB00, 0xFB06),
)

# (output file, source, face index in a collection, new family name, characters, Debian package)
FONTS = [
    ("tpi-sans.ttf", "dejavu/DejaVuSans.ttf", None, "tpi Sans", LATIN_GREEK_CYRILLIC, "fonts-dejavu-core"),
    ("tpi-sans-bold.ttf", "dejavu/DejaVuSans-Bold.ttf", None, "tpi Sans Bold", LATIN_GREEK_CYRILLIC,
     "fonts-dejavu-core"),
    ("tpi-arabic.ttf", "noto/NotoSansArabic-Regular.ttf", None, "tpi Arabic", None, "fonts-noto-core"),
    ("tpi-hebrew.ttf", "noto/NotoSansHebrew-Regular.ttf", None, "tpi Hebrew", None, "fonts-noto-core"),
    ("tpi-devanagari.ttf", "noto/NotoSansDevanagari-Regular.ttf", None, "tpi Devanagari", None, "fonts-noto-core"),
    ("tpi-thai.ttf", "noto/NotoSansThai-Regular.ttf", None, "tpi Thai", None, "fonts-noto-core"),
    ("tpi-japanese.ttf", "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", None, "tpi Japanese Gothic",
     COMMON | ranges((0x3040, 0x30FF), (0x31F0, 0x31FF)) | national_set("euc_jp"), "fonts-ipafont-gothic"),
    # GB 2312 (simplified) and Big5 level 1 (the 5,401 frequent traditional characters, lead bytes A4-C6):
    # the whole of Big5 would double the size for rare characters
    ("tpi-chinese.ttf", "arphic/uming.ttc", 0, "tpi Chinese Ming", COMMON | national_set("gb2312")
     | national_set("big5", range(0xA1, 0xC7)), "fonts-arphic-uming"),
    ("tpi-korean.ttf", "nanum/NanumGothic.ttf", None, "tpi Korean Gothic",
     COMMON | ranges((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7A3)) | national_set("euc_kr"), "fonts-nanum"),
]


OPTIONAL_LIGATURES = {"liga", "dlig", "hlig", "aalt", "salt"}


def _features(font: TTFont) -> set[str]:
    return {record.FeatureTag for table in ("GSUB", "GPOS") if table in font
            for record in font[table].table.FeatureList.FeatureRecord}


def rename(font: TTFont, family: str) -> None:
    postscript = family.replace(" ", "-")
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (2, 17):
            record.string = "Regular"
        elif record.nameID in (3, 4):
            record.string = family
        elif record.nameID == 6:
            record.string = postscript


def build(name: str, source: str, index: int | None, family: str, chars: set[int] | None) -> int:
    path = Path(source) if source.startswith("/") else TRUETYPE / source
    font = TTCollection(str(path)).fonts[index] if index is not None else TTFont(str(path))
    options = subset.Options()
    # Keep what a script needs (Arabic joining, Devanagari conjuncts, marks, kerning) but no optional
    # ligature: a ligature glyph extracts as a presentation form, not as the letters typed.
    options.layout_features = sorted(_features(font) - OPTIONAL_LIGATURES)
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.glyph_names = False
    options.hinting = False  # printed, not shown on a screen at small sizes: hinting is dead weight
    options.drop_tables += ["EBDT", "EBLC", "EBSC", "BDF ", "FFTM", "TSI0", "TSI1", "TSI2", "TSI3", "TSI5"]
    subsetter = subset.Subsetter(options)
    if chars is None:
        subsetter.populate(unicodes=font.getBestCmap().keys())
    else:
        subsetter.populate(unicodes=chars & set(font.getBestCmap()))
    subsetter.subset(font)
    rename(font, family)
    font.save(str(OUT / name))
    return (OUT / name).stat().st_size


def main() -> None:
    for name, source, index, family, chars, package in FONTS:
        size = build(name, source, index, family, chars)
        print(f"{name}: {size / 1e6:.2f} MB (from {package})", file=sys.stderr)


if __name__ == "__main__":
    main()
