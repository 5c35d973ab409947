"""A body map: front and back outlines with the injected sites marked, from the vocabulary's coordinates.

Coordinates (tpi_cli/vocab/muscle_table.py) give one side of the body: x is the distance from the
midline as a fraction of the half-width, y the distance from the top of the head as a fraction of the
height. The front view shows the patient's left on the viewer's right; the back view on the left.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Ellipse, Polygon, String

from tpi_cli import vocab
from tpi_cli.models import Site
from tpi_cli.pdf.common import ACCENT, FONT, FONT_BOLD, INK, MUTED, SHADE

# One side of the silhouette, from the neck down the outside of the arm, back up its inside, down the
# side of the trunk and the outside of the leg, and up its inside to the crotch (x, y as above).
_OUTLINE = [
    (0.09, 0.115), (0.10, 0.150), (0.40, 0.172), (0.53, 0.195), (0.60, 0.28), (0.66, 0.38), (0.74, 0.49),
    (0.78, 0.545), (0.71, 0.555), (0.63, 0.495), (0.55, 0.39), (0.47, 0.30), (0.43, 0.27), (0.37, 0.40),
    (0.41, 0.52), (0.37, 0.71), (0.31, 0.925), (0.35, 0.985), (0.13, 0.985), (0.14, 0.925), (0.11, 0.72),
    (0.03, 0.56), (0.0, 0.55),
]


def _silhouette(cx: float, top: float, half: float, height: float) -> list:
    right = [(cx + x * half, top - y * height) for x, y in _OUTLINE]
    left = [(cx - x * half, top - y * height) for x, y in reversed(_OUTLINE)]
    points = [coordinate for point in right + left for coordinate in point]
    body = Polygon(points, fillColor=SHADE, strokeColor=MUTED, strokeWidth=0.8)
    head = Ellipse(cx, top - 0.062 * height, 0.115 * half, 0.058 * height, fillColor=SHADE, strokeColor=MUTED,
                   strokeWidth=0.8)
    return [body, head]


def body_map(sites: Sequence[Site], width: float = 300, height: float = 250) -> tuple[Drawing, list[str]]:
    """The drawing and its legend: '1 upper trapezius (left)', numbered as marked."""
    drawing = Drawing(width, height)
    figure_height = height - 26
    half = width * 0.21
    top = height - 14
    centres = {"front": width * 0.25, "back": width * 0.75}
    for view, cx in centres.items():
        drawing.add(String(cx, height - 10, view.capitalize(), fontName=FONT_BOLD, fontSize=8, fillColor=INK,
                           textAnchor="middle"))
        for shape in _silhouette(cx, top - 4, half, figure_height - 8):
            drawing.add(shape)
        # the patient's sides, so a reader never mirrors the map
        left_x = cx + half * 0.9 if view == "front" else cx - half * 0.9
        right_x = cx - half * 0.9 if view == "front" else cx + half * 0.9
        for x, label in ((left_x, "L"), (right_x, "R")):
            drawing.add(String(x, 4, label, fontName=FONT, fontSize=7, fillColor=MUTED, textAnchor="middle"))
    legend = []
    for number, site in enumerate(sites, start=1):
        muscle = vocab.muscles()[site.muscle]
        cx = centres[muscle.map_view]
        sides = ("left", "right") if site.side == "bilateral" else (site.side,)
        for side in sides:
            if side == "midline":
                x = cx
            else:
                toward_viewer_right = (side == "left") == (muscle.map_view == "front")
                x = cx + muscle.map_x * half if toward_viewer_right else cx - muscle.map_x * half
            y = top - 4 - muscle.map_y * (figure_height - 8)
            drawing.add(Circle(x, y, 5.2, fillColor=ACCENT, strokeColor=None))
            drawing.add(String(x, y - 2.4, str(number), fontName=FONT_BOLD, fontSize=6.5, fillColor=SHADE,
                               textAnchor="middle"))
        legend.append(f"{number} {site.muscle} ({site.side}, {site.points} point{'s' if site.points != 1 else ''})")
    return drawing, legend
