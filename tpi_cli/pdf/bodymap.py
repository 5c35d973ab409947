"""The body map: where each site was injected, on four figures, with no mark hiding another.

Front and back of the whole body, and the head and neck drawn large in front and from behind (a jaw,
temple or base-of-skull site would not fit on the head of a whole-body figure). Positions come from
the vocabulary's ``map`` (tpi_cli/vocab/muscle_table.py). A site is one numbered mark per side, its
number the row of the note's sites table. A mark whose spot is taken, or would cover another site's
spot, moves to the nearest free place and points back to its spot with a line.

The front views show the patient's left on the viewer's right; the back views on the viewer's left.
``place_marks`` is the geometry alone (no drawing), so tests can check positions rather than pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from reportlab.graphics.shapes import Circle, Drawing, Ellipse, Line, Polygon, PolyLine, String

from tpi_cli import vocab
from tpi_cli.models import Site
from tpi_cli.pdf import tagging
from tpi_cli.pdf.common import ACCENT, FONT, FONT_BOLD, INK, MUTED, SHADE

Point = tuple[float, float]

# One side of the whole-body silhouette, from the neck down the outside of the arm, back up its inside, down
# the side of the trunk and the outside of the leg, and up its inside to the crotch (coordinates as in `map`).
_BODY = [
    (0.09, 0.115), (0.10, 0.150), (0.40, 0.172), (0.53, 0.195), (0.60, 0.28), (0.66, 0.38), (0.74, 0.49),
    (0.78, 0.545), (0.71, 0.555), (0.63, 0.495), (0.55, 0.39), (0.47, 0.30), (0.43, 0.27), (0.37, 0.40),
    (0.41, 0.52), (0.37, 0.71), (0.31, 0.925), (0.35, 0.985), (0.13, 0.985), (0.14, 0.925), (0.11, 0.72),
    (0.03, 0.56), (0.0, 0.55),
]
_BODY_HEAD = (0.062, 0.115, 0.058)  # centre y, radius x (half-widths), radius y (heights)
_BODY_HALF = 0.23  # the half-width as a fraction of the height: a body's proportions

# The head and neck figures, in head heights (crown to chin = 1), one side from the crown down.
_HEAD = [(0.0, 0.0), (0.13, 0.01), (0.25, 0.06), (0.34, 0.16), (0.39, 0.3), (0.4, 0.45), (0.38, 0.6),
         (0.35, 0.72), (0.3, 0.82), (0.21, 0.93), (0.1, 0.99), (0.0, 1.0)]
# seen from behind the skull ends at its base, above the neck, with the mastoid at its side
_HEAD_BACK = [(0.0, 0.0), (0.13, 0.01), (0.25, 0.06), (0.34, 0.16), (0.39, 0.3), (0.4, 0.45), (0.38, 0.6),
              (0.33, 0.7), (0.27, 0.75), (0.14, 0.74), (0.0, 0.73)]
_NECK = [(0.0, 0.7), (0.2, 0.7), (0.22, 0.9), (0.25, 1.17), (0.5, 1.3), (0.7, 1.38), (0.79, 1.48), (0.81, 1.62),
         (0.0, 1.62)]
_HEAD_WIDE = 0.81  # the widest point (the shoulders): the head figures are scaled to fit the panel with it
_HEAD_TALL = 1.62

VIEWS = ("front", "head front", "head back", "back")
RADIUS = 5.5  # a mark's radius (pt); smaller only when a panel could not hold every mark at this size
_GAP = 1.2  # between two marks


class Panel(NamedTuple):
    view: str
    left: float
    bottom: float
    right: float
    top: float
    cx: float  # the figure's midline
    origin: float  # the figure's top (crown)
    scale_x: float  # pt per unit of the view's x
    scale_y: float  # pt per unit of the view's y
    figure: tuple[tuple[Point, ...], ...]  # its outlines, drawn in order: a site lies within one of them
    head: tuple[Point, ...]  # the head's outline

    def point(self, x: float, y: float) -> Point:
        return self.cx + x * self.scale_x, self.origin - y * self.scale_y

    def contains(self, p: Point, radius: float = 0) -> bool:
        return self.left + radius <= p[0] <= self.right - radius and self.bottom + radius <= p[1] <= self.top - radius


class Mark(NamedTuple):
    number: int  # the site's row in the sites table
    muscle: str
    side: str  # left | right | midline (a bilateral site has a mark on each side)
    view: str
    anchor: Point  # the muscle's spot on the figure
    centre: Point  # where the mark is drawn (the anchor unless it had to move)
    radius: float

    @property
    def moved(self) -> bool:
        return math.dist(self.anchor, self.centre) > 0.01


def panels(width: float, height: float) -> dict[str, Panel]:
    """The four figures side by side: front body, head front, head back, back body."""
    # the head figures get the most width: their sites lie closest together
    shares = {"front": 0.2, "head front": 0.3, "head back": 0.3, "back": 0.2}
    figure_top = height - 14  # below the view's title
    figure_bottom = 12  # above the R / L letters
    result = {}
    right = 0.0
    for view in VIEWS:
        left, right = right, right + shares[view] * width
        panel_w = right - left
        cx = (left + right) / 2
        if view in ("front", "back"):
            tall = figure_top - figure_bottom
            half = min(_BODY_HALF * tall, (panel_w - 24) / (2 * max(x for x, _ in _BODY)))
            y, rx, ry = _BODY_HEAD
            head = tuple((cx + rx * half * math.cos(a), figure_top - y * tall + ry * tall * math.sin(a))
                         for a in (i * math.pi / 18 for i in range(36)))
            body = _mirror(_BODY, cx, figure_top, half, tall)
            result[view] = Panel(view, left, 0, right, height, cx, figure_top, half, tall, (body, head), head)
        else:
            unit = min((panel_w - 12) / (2 * _HEAD_WIDE), (figure_top - figure_bottom) / _HEAD_TALL)
            shape = _HEAD if view == "head front" else _HEAD_BACK
            head = _mirror(shape, cx, figure_top, unit, unit)
            neck = _mirror(_NECK, cx, figure_top, unit, unit)  # drawn first: its top lies under the head
            result[view] = Panel(view, left, figure_top - _HEAD_TALL * unit - 4, right, height, cx, figure_top,
                                 unit, unit, (neck, head), head)
    return result


def _mirror(side: Sequence[Point], cx: float, top: float, sx: float, sy: float) -> tuple[Point, ...]:
    right = [(cx + x * sx, top - y * sy) for x, y in side]
    left = [(cx - x * sx, top - y * sy) for x, y in reversed(side)]
    return tuple(right + left)


def inside(p: Point, outlines: Sequence[Sequence[Point]]) -> bool:
    """P within one of OUTLINES (polygons; even-odd rule)."""
    return any(_in_polygon(p, outline) for outline in outlines)


def _in_polygon(p: Point, polygon: Sequence[Point]) -> bool:
    x, y = p
    result = False
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def _to_segment(p: Point, a: Point, b: Point) -> float:
    """The distance from P to the segment AB."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length))
    return math.dist(p, (a[0] + t * dx, a[1] + t * dy))


def _anchors(sites: Sequence[Site], layout: dict[str, Panel]) -> list[tuple[int, str, str, str, Point]]:
    found = []
    for number, site in enumerate(sites, start=1):
        muscle = vocab.muscles()[site.muscle]
        panel = layout[muscle.map_view]
        for side in ("left", "right") if site.side == "bilateral" else (site.side,):
            if side == "midline":
                x = 0.0
            else:
                # the patient's left is on the viewer's right in a front view, on the viewer's left from behind
                toward_viewer_right = (side == "left") == ("front" in muscle.map_view)
                x = muscle.map_x if toward_viewer_right else -muscle.map_x
            found.append((number, site.muscle, side, muscle.map_view, panel.point(x, muscle.map_y)))
    return found


def place_marks(sites: Sequence[Site], width: float, height: float) -> list[Mark]:
    """Every mark of SITES with its anchor and where it is drawn: no two marks overlap, none covers a spot."""
    layout = panels(width, height)
    anchors = _anchors(sites, layout)
    marks: list[Mark] = []
    for view in VIEWS:
        mine = [a for a in anchors if a[3] == view]
        radius = RADIUS
        while True:
            centres = _place([a[4] for a in mine], layout[view], radius)
            if centres is not None:
                break
            radius *= 0.85  # a panel that cannot hold every mark at this size: smaller marks, never overlapping
        marks += [Mark(n, muscle, side, view, anchor, centre, radius)
                  for (n, muscle, side, _, anchor), centre in zip(mine, centres, strict=True)]
    return sorted(marks, key=lambda m: (m.number, m.side))


def _place(anchors: list[Point], panel: Panel, radius: float) -> list[Point] | None:
    """Centres for marks at ANCHORS in PANEL, in order, or None when the panel cannot hold them at RADIUS.

    A mark sits on its anchor when it overlaps no mark seated before it and covers no other site's spot.
    The others move out, away from the middle of the panel's sites, to the free place that is nearest and
    whose line back to the anchor crosses the fewest other lines; no line runs under a mark if it can help it.
    """
    centres: list[Point | None] = [None] * len(anchors)
    for index, anchor in enumerate(anchors):
        seated = [c for c in centres if c is not None]
        if (panel.contains(anchor, radius) and all(math.dist(anchor, c) >= 2 * radius + _GAP for c in seated)
                and all(math.dist(anchor, a) >= radius + 1.5 for a in _others(anchors, anchor))):
            centres[index] = anchor
    middle = (sum(a[0] for a in anchors) / len(anchors), sum(a[1] for a in anchors) / len(anchors)) if anchors \
        else (panel.cx, panel.origin)
    for index in sorted((i for i, c in enumerate(centres) if c is None), key=lambda i: -math.dist(anchors[i], middle)):
        anchor = anchors[index]
        placed = [(anchors[i], c) for i, c in enumerate(centres) if c is not None]
        away = (anchor[0] - middle[0], anchor[1] - middle[1])
        if math.hypot(*away) < radius:
            away = (1.0 if anchor[0] >= panel.cx else -1.0, 0.0)
        chosen = None
        for strict in (True, False):
            pool, first_ring = [], None
            for ring, c in _candidates(anchor, panel, radius):
                # the rule against lines under marks gives way before a mark would land far from its spot
                if (first_ring is not None and ring > first_ring + 3) or (strict and first_ring is None and ring > 16):
                    break
                if _free(c, anchor, _others(anchors, anchor), placed, panel, radius, strict):
                    first_ring = ring if first_ring is None else first_ring
                    pool.append(c)
            if pool:
                heading = math.atan2(away[1], away[0])
                chosen = min(pool, key=lambda c: _cost(c, anchor, heading, placed, radius))
                break
        if chosen is None:
            return None
        centres[index] = chosen
    return [c for c in centres if c is not None]


def _others(anchors: list[Point], anchor: Point) -> list[Point]:
    """Other sites' spots (a spot shared with ANCHOR is its own: the same muscle named twice over the years)."""
    return [a for a in anchors if math.dist(a, anchor) > 0.01]


def _free(c: Point, anchor: Point, others: list[Point], placed: list[tuple[Point, Point]], panel: Panel,
          radius: float, strict: bool) -> bool:
    if any(math.dist(c, p) < 2 * radius + _GAP for _, p in placed):
        return False
    # a line never crosses the midline: a mark stays on its side's half of the figure
    if abs(anchor[0] - panel.cx) > 0.01 and (c[0] - panel.cx) * (anchor[0] - panel.cx) < radius:
        return False
    if any(math.dist(c, a) < radius + 1.5 for a in others):
        return False
    # the line back to the anchor runs under no mark, and the mark sits on no earlier line
    return not strict or not (any(_to_segment(p, anchor, c) < radius + 0.5 for _, p in placed)
                              or any(_to_segment(c, a, p) < radius + 0.5 for a, p in placed if math.dist(a, p) > 0.01))


def _cost(c: Point, anchor: Point, heading: float, placed: list[tuple[Point, Point]], radius: float) -> float:
    crossings = sum(_crosses(anchor, c, a, p) for a, p in placed if math.dist(a, p) > 0.01)
    turn = abs(math.remainder(math.atan2(c[1] - anchor[1], c[0] - anchor[0]) - heading, 2 * math.pi))
    return math.dist(anchor, c) + 12 * radius * crossings + 2 * radius * turn


def _crosses(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether the segments AB and CD cross (touching at an end does not count)."""
    def turn(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return turn(a, b, c) * turn(a, b, d) < 0 and turn(c, d, a) * turn(c, d, b) < 0


def _candidates(anchor: Point, panel: Panel, radius: float):
    """(ring, centre) on rings around the anchor, nearest first, within the panel."""
    step = radius * 0.8
    reach = math.hypot(panel.right - panel.left, panel.top - panel.bottom)
    ring = 1
    while ring * step <= reach:
        distance = ring * step
        count = max(8, int(2 * math.pi * distance / step))
        for k in range(count):
            angle = k * 2 * math.pi / count
            c = (anchor[0] + distance * math.cos(angle), anchor[1] + distance * math.sin(angle))
            if panel.contains(c, radius):
                yield ring, c
        ring += 1


def body_map(sites: Sequence[Site], width: float = 504, height: float = 290) -> Drawing:
    """The drawing: four figures with the sites' marks numbered as in the sites table."""
    drawing = Drawing(width, height)
    layout = panels(width, height)
    titles = {"front": "Front", "head front": "Head and neck, front", "head back": "Head and neck, back",
              "back": "Back"}
    for view, panel in layout.items():
        drawing.add(String(panel.cx, height - 9, titles[view], fontName=FONT_BOLD, fontSize=8, fillColor=INK,
                           textAnchor="middle"))
        for shape in _figure(panel):
            drawing.add(shape)
        # the patient's sides under each figure, so a reader never mirrors the map
        reach = max(abs(x - panel.cx) for outline in panel.figure for x, _ in outline)
        y = panel.bottom + 2
        for x, patient_side in ((panel.cx - reach, "R"), (panel.cx + reach, "L")):
            label = patient_side if "front" in view else {"R": "L", "L": "R"}[patient_side]
            drawing.add(String(x, y, label, fontName=FONT_BOLD, fontSize=7, fillColor=MUTED, textAnchor="middle"))
    captions = ["R and L are the patient's right and left: in the front views the",
                "patient's left is on your right; in the back views on your left.",
                "Each mark is numbered as in the sites table, one per side injected.",
                "A mark set off its spot points to it with a line."]
    middle = layout["head front"].right
    for line_number, caption in enumerate(captions):
        drawing.add(String(middle, layout["head front"].bottom - 18 - 10 * line_number, caption, fontName=FONT,
                           fontSize=7, fillColor=MUTED, textAnchor="middle"))
    marks = place_marks(sites, width, height)
    for mark in marks:
        if mark.moved:
            drawing.add(Line(*mark.anchor, *mark.centre, strokeColor=ACCENT, strokeWidth=0.6))
            drawing.add(Circle(*mark.anchor, 1.4, fillColor=ACCENT, strokeColor=None))
    for mark in marks:
        size = 6.5 * mark.radius / RADIUS
        drawing.add(Circle(*mark.centre, mark.radius, fillColor=ACCENT, strokeColor=SHADE, strokeWidth=0.6))
        drawing.add(String(mark.centre[0], mark.centre[1] - size * 0.36, str(mark.number), fontName=FONT_BOLD,
                           fontSize=size, fillColor=SHADE, textAnchor="middle"))
    return tagging.figure(drawing, alt_text(sites))


def alt_text(sites: Sequence[Site]) -> str:
    """What the map shows, for a reader who cannot see it: each numbered site, its side and its figure."""
    views = {"front": "front of the body", "head front": "head and neck, front", "head back": "head and neck, back",
             "back": "back of the body"}
    sides = {"bilateral": "left and right", "midline": "midline"}
    marked = [f"{number} {site.muscle}, {sides.get(site.side, site.side)} ({views[vocab.muscles()[site.muscle].map_view]})"
              for number, site in enumerate(sites, start=1)]
    return (f"Body map: {len(sites)} site{'s' if len(sites) != 1 else ''} marked on figures of the front, head and "
            f"neck, and back, numbered as in the sites table, sides the patient's own: {'; '.join(marked)}.")


def _polygon(points: Sequence[Point]) -> Polygon:
    return Polygon([c for p in points for c in p], fillColor=SHADE, strokeColor=MUTED, strokeWidth=0.8)


def _figure(panel: Panel) -> list:
    line = {"strokeColor": MUTED, "strokeWidth": 0.5}
    shapes = [_polygon(outline) for outline in panel.figure]
    if panel.view in ("front", "back"):
        return shapes
    ear_y, ear_x = 0.52, 0.41
    for sign in (-1, 1):
        x, y = panel.point(sign * ear_x, ear_y)
        shapes.append(Ellipse(x, y, 0.05 * panel.scale_x, 0.1 * panel.scale_y, fillColor=SHADE, strokeColor=MUTED,
                              strokeWidth=0.8))
    if panel.view == "head front":
        for sign in (-1, 1):
            x, y = panel.point(sign * 0.15, 0.45)
            shapes.append(Ellipse(x, y, 0.06 * panel.scale_x, 0.022 * panel.scale_y, fillColor=None, **line))
            shapes.append(Line(*panel.point(sign * 0.07, 1.3), *panel.point(sign * 0.6, 1.34), **line))  # clavicle
        shapes.append(PolyLine([c for p in (panel.point(0, 0.47), panel.point(0.035, 0.63), panel.point(0, 0.65))
                                for c in p], **line))
        shapes.append(Line(*panel.point(-0.1, 0.79), *panel.point(0.1, 0.79), **line))
    else:
        shapes.append(Line(*panel.point(0, 0.76), *panel.point(0, _HEAD_TALL), strokeDashArray=[2, 2], **line))
    return shapes
