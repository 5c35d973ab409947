"""Start-up floor 2: floor 1 plus reportlab laying out one page with a TTF font.

The 100-visit progress review and the handout are measured against this (goal ≤ 1.20× each).
Usage: python tests/benchmarks/floor_pdf.py STORE_FOLDER
"""

import io
import runpy
import sys
from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate

runpy.run_path(str(Path(__file__).with_name("floor_cli.py")), run_name="__main__")
font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
pdfmetrics.registerFont(TTFont("DejaVu", str(font)))
style = ParagraphStyle("body", fontName="DejaVu", fontSize=12)
SimpleDocTemplate(io.BytesIO(), pagesize=letter).build(
    [Paragraph("Ana María Núñez · upper trapezius · lidocaine 30 mg", style)] * 20
)
sys.stdout.flush()
