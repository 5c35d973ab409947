"""The body map's geometry: computed positions, not pixels (issue 12 item 5).

No mark may hide another, a head or neck site must land on the drawn head and neck, and the patient's left
must be on the viewer's right in the front views and on the viewer's left from behind.
"""

from __future__ import annotations

import json
import math
import subprocess

import pytest

from tpi_cli import vocab
from tpi_cli.models import Site
from tpi_cli.pdf.bodymap import RADIUS, inside, panels, place_marks
from tpi_cli.vocab.muscle_table import HEAD

WIDTH, HEIGHT = 504, 252  # as on the procedure note: 7 in by 3.5 in
ALL = sorted(vocab.muscles())
HEAD_VIEWS = ("head front", "head back")


def _visits(side: str, size: int) -> list[list[Site]]:
    """Every muscle of the vocabulary, SIZE sites a visit."""
    return [[Site(muscle=name, side=side) for name in ALL[start:start + size]] for start in range(0, len(ALL), size)]


VISITS = [(side, size, sites) for side in ("left", "right", "bilateral") for size in (4, 7, 24, 40)
          for sites in _visits(side, size)]


def _layout():
    return panels(WIDTH, HEIGHT)


@pytest.mark.parametrize(("side", "size", "sites"), VISITS, ids=[f"{s}-{n}-{i}" for i, (s, n, _) in enumerate(VISITS)])
def test_no_mark_overlaps_another_or_covers_another_sites_spot(side, size, sites):
    marks = place_marks(sites, WIDTH, HEIGHT)
    assert len(marks) == sum(2 if site.side == "bilateral" else 1 for site in sites)
    layout = _layout()
    for index, mark in enumerate(marks):
        assert layout[mark.view].contains(mark.centre, mark.radius), mark
        for other in marks[index + 1:]:
            if other.view == mark.view:
                assert math.dist(mark.centre, other.centre) >= mark.radius + other.radius, (mark, other)
            if other.view == mark.view and math.dist(other.anchor, mark.anchor) > 0.01:
                assert math.dist(mark.centre, other.anchor) >= mark.radius, (mark, other)
                assert math.dist(other.centre, mark.anchor) >= other.radius, (mark, other)


@pytest.mark.parametrize(("side", "size", "sites"), VISITS, ids=[f"{s}-{n}-{i}" for i, (s, n, _) in enumerate(VISITS)])
def test_a_moved_mark_stays_on_its_side_of_the_midline(side, size, sites):
    layout = _layout()
    for mark in place_marks(sites, WIDTH, HEIGHT):
        cx = layout[mark.view].cx
        assert (mark.centre[0] - cx) * (mark.anchor[0] - cx) > 0, mark


def test_a_visit_of_up_to_24_sites_keeps_full_size_marks():
    for _, size, sites in VISITS:
        if size <= 24:
            assert {mark.radius for mark in place_marks(sites, WIDTH, HEIGHT)} == {RADIUS}


@pytest.mark.parametrize("name", ALL)
def test_every_muscle_lies_on_its_figure(name):
    muscle = vocab.muscles()[name]
    for side in ("left", "right"):
        (mark,) = place_marks([Site(muscle=name, side=side)], WIDTH, HEIGHT)
        assert mark.view == muscle.map_view
        assert inside(mark.anchor, _layout()[mark.view].figure), (name, side)
        assert not mark.moved, "a site alone is marked on its own spot"


def test_head_and_neck_muscles_are_marked_on_the_large_head_and_neck():
    head_and_neck = [m for m in vocab.muscles().values() if m.region == HEAD or m.level == "cervical"
                     or m.name in ("sternocleidomastoid", "anterior scalene", "middle scalene", "posterior scalene",
                                   "scalenes", "levator scapulae")]
    assert {m.map_view for m in head_and_neck} <= set(HEAD_VIEWS)
    layout = _layout()
    for muscle in head_and_neck:
        for side in ("left", "right"):
            (mark,) = place_marks([Site(muscle=muscle.name, side=side)], WIDTH, HEIGHT)
            outlines = (layout[mark.view].head,) if muscle.region == HEAD else layout[mark.view].figure
            assert inside(mark.centre, outlines), (muscle.name, side)


def test_jaw_and_temple_sites_all_at_once_are_marked_on_the_face_itself():
    face = [name for name, m in vocab.muscles().items() if m.region == HEAD]
    assert {"temporalis", "masseter", "lateral pterygoid", "medial pterygoid"} <= set(face)
    marks = place_marks([Site(muscle=name, side="bilateral") for name in face], WIDTH, HEIGHT)
    head = _layout()["head front"].head
    for mark in marks:
        assert mark.view == "head front" and not mark.moved and inside(mark.centre, [head]), mark


@pytest.mark.parametrize("view", ["front", "head front", "head back", "back"])
def test_the_patients_left_is_on_the_viewers_right_from_the_front_and_on_the_left_from_behind(view):
    cx = _layout()[view].cx
    for name, muscle in vocab.muscles().items():
        if muscle.map_view != view:
            continue
        left, right = (place_marks([Site(muscle=name, side=side)], WIDTH, HEIGHT)[0].anchor[0] for side in
                       ("left", "right"))
        if "front" in view:
            assert right < cx < left, name
        else:
            assert left < cx < right, name


def test_a_bilateral_site_has_one_mark_a_side_with_the_sites_number():
    sites = [Site(muscle="gluteus medius", side="left"), Site(muscle="sternocleidomastoid", side="bilateral")]
    marks = place_marks(sites, WIDTH, HEIGHT)
    assert [(m.number, m.muscle, m.side) for m in marks] == [
        (1, "gluteus medius", "left"), (2, "sternocleidomastoid", "left"), (2, "sternocleidomastoid", "right")]


def test_the_procedure_note_prints_40_long_named_sites_and_its_map(tpi, log, patient, tmp_path):
    names = [name for name, m in vocab.muscles().items() if not m.choices][:40]
    sites = [arg for name in names for arg in ("--site", f"{name}:bilateral:3")]
    visit = log(*sites, "--pain-before", "7", "--pain-after", "2")
    out = tmp_path / "note.pdf"
    result = tpi("report", "--visit", visit["id"], "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Head and neck, front" in text and "rectus capitis posterior minor" in text
    assert json.loads(tpi("visit", "show", visit["id"], "--json").stdout)["sites"][39]["muscle"] == names[39]
