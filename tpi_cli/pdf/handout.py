"""The patient's aftercare handout: specific to the visit, plain words, large type, a pain diary.

Order: what can send the patient to the emergency room comes first, in a box of its own on page 1;
then what was done, what to expect and when to call (with the next visit's date), the steroid and
blood-thinner advice, self-care, and the pain diary. Numbers, dates and phone numbers are held together
with non-breaking spaces, so none is split across lines.

Short: a normal visit fits one sheet (two pages; four in large print). Short sections stand side by side
in regular print, left column read first; the text is drawn, and tagged (tagging.py), in reading order,
and the diary never starts a page without some of the text before it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from tpi_cli import vocab
from tpi_cli.models import Patient, Visit
from tpi_cli.pdf import tagging
from tpi_cli.pdf.common import (
    FONT,
    FONT_BOLD,
    MUTED,
    RULE,
    SHADE,
    TEXT_WIDTH,
    WARN,
    Clinic,
    Page,
    Styles,
    make_styles,
    paragraph,
    render,
    text,
)
from tpi_cli.texts import handout_texts

DIARY_WEEKS = 6
PAGE_TALL = 10 * inch  # room enough to measure any one flowable
# needles near these nerves can leave an arm or a leg numb or weak for hours (clinical-reference.md §9)
NUMBING_HAZARDS = {"brachial plexus", "sciatic nerve"}
WIDTH = TEXT_WIDTH
NBSP = "\u00a0"
_MONTHS = {m.lower() for lang in ("en", "es") for m in handout_texts(lang)["dates"]["months"]}


def keep_together(line: str) -> str:
    """LINE with non-breaking spaces where a break would split a number from its neighbour.

    "(555) 010-2999", "November 25, 2026", "100.4 °F", "1 to 3 days" stay on one line.
    """
    tokens = line.split(" ")
    out = tokens[:1]
    for before, after in itertools.pairwise(tokens):
        digits = any(c.isdigit() for c in before), any(c.isdigit() for c in after)
        numeric = any(digits)
        short = (all(digits) or len(before) <= 3 or len(after) <= 4 or before.lower() in _MONTHS
                 or after.lower() in _MONTHS)
        out.append(NBSP if numeric and short else " ")
        out.append(after)
    return "".join(out)


def local_date(day: dt.date, words: dict[str, Any]) -> str:
    dates = words["dates"]
    return keep_together(dates["format"].format(month=dates["months"][day.month - 1], day=day.day, year=day.year))


def drug_name(drug: str, words: dict[str, Any]) -> str:
    return words.get("drugs", {}).get(drug, drug)


def muscle_name(muscle: str, words: dict[str, Any]) -> str:
    return words.get("muscle_names", {}).get(muscle, muscle)


def listing(items: list[str], words: dict[str, Any]) -> str:
    """'X, Y and Z' / 'X, Y y Z' ('X e ibuprofeno': Spanish writes 'e' before an 'i' sound)."""
    if len(items) <= 1:
        return "".join(items)
    last = items[-1]
    sound_i = last.lower().startswith(("i", "í", "hi", "hí")) and not last.lower().startswith(("hia", "hie", "hio"))
    conjunction = words.get("and_before_i", words["and"]) if sound_i else words["and"]
    return f"{', '.join(items[:-1])} {conjunction} {last}"


def _plain(line: str) -> str:
    return text(keep_together(line))


def _bullets(items: list[str], styles: Styles) -> list:
    return [paragraph(item, styles.bullet, bulletText="•") for item in items]


def _section(heading: str, lines: list[str], styles: Styles, bullets: bool = False) -> list:
    """A heading (kept with what follows) and its lines (markup); long sections may break across pages."""
    body = _bullets(lines, styles) if bullets else [paragraph(line, styles.body) for line in lines]
    return [paragraph(text(heading), styles.heading), *body]


def is_dry_needling(visit: Visit) -> bool:
    return not visit.agents


def numb_hours(visit: Visit) -> tuple[float, float] | None:
    """How long the numbness lasts: the longest-acting local anesthetic given (clinical-reference.md §4)."""
    ranges = [vocab.drugs()[a.drug].numb_hours for a in visit.agents if vocab.drugs()[a.drug].is_local_anesthetic]
    ranges = [r for r in ranges if r]
    if not ranges:
        return None
    return max(ranges, key=lambda r: r[1])


def _number(value: float) -> str:
    return f"{value:g}"


def _hazard_keys(visit: Visit) -> list[str]:
    table = vocab.hazards()
    return [key for key in dict.fromkeys(h for site in visit.sites for h in vocab.muscles()[site.muscle].hazards)
            if key in table]


def hazard_lines(visit: Visit, words: dict[str, Any], keys: list[str] | None = None) -> list[str]:
    """The patient's line for each hazard within needle reach of today's sites (clinical-reference.md §9)."""
    translated = words.get("hazards", {})
    return [translated.get(key) or vocab.hazards()[key].handout_en for key in _hazard_keys(visit)
            if keys is None or key in keys]


def _both_lungs(visit: Visit) -> bool:
    """Chest-wall sites on both sides in one session: the stronger warning (clinical-reference.md §9)."""
    sides = {side for site in visit.sites if vocab.muscles()[site.muscle].pneumothorax
             for _, side in site.side_pairs}
    return {"left", "right"} <= sides


def _emergency(visit: Visit, words: dict[str, Any], kind: dict[str, str], styles: Styles) -> list:
    emergency = words["emergency"]
    items = list(emergency["items"])
    if not is_dry_needling(visit):
        items.append(emergency["allergy"])
    if numb_hours(visit):  # local anesthetic toxicity (clinical-reference.md §4): only after a numbing medicine
        items.append(emergency["anesthetic"].format(after=kind["after"]))
    urgent = [line for line in hazard_lines(visit, words) if "911" in line]
    if _both_lungs(visit):
        # the stronger line says all the one-lung line says (chest pain, short breath, hours later, 911)
        one_lung = hazard_lines(visit, words, ["pneumothorax"])
        urgent = [emergency["both_sides"], *(line for line in urgent if line not in one_lung)]
    bullet = ParagraphStyle("warning-bullet", parent=styles.bullet, textColor=WARN, spaceAfter=0)
    cells = [[tagging.heading(paragraph(f"<b>{text(emergency['heading'])}</b>", styles.warning))]]
    cells += [[paragraph(_plain(item), bullet, bulletText="•")] for item in items]
    cells += [[paragraph(f"<b>{_plain(line)}</b>", bullet, bulletText="•")] for line in urgent]
    box = tagging.layout(Table(cells, colWidths=[WIDTH], hAlign="LEFT"))
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 2, WARN), ("LEFTPADDING", (0, 0), (-1, -1), 10),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 10), ("TOPPADDING", (0, 0), (-1, -1), 1),
                             ("TOPPADDING", (0, 0), (-1, 0), 6), ("BOTTOMPADDING", (0, -1), (-1, -1), 8)]))
    # space above and below: the box stands alone, touching no table or heading
    return [Spacer(1, styles.body.fontSize * 0.4), KeepTogether(box), Spacer(1, styles.body.fontSize * 0.4)]


def _points(n: int, words: dict[str, Any]) -> str:
    today = words["today"]
    return today["points_one"] if n == 1 else today["points_many"].format(n=n)


def site_lines(visit: Visit, words: dict[str, Any], lang: str) -> list[str]:
    """One line per muscle, in the order given; left and right of one muscle are merged into one line."""
    today, sides = words["today"], words["sides"]
    by_muscle: dict[str, dict[str, int]] = {}
    for site in visit.sites:
        by_muscle.setdefault(site.muscle, {})[site.side] = site.points
    lines = []
    for name, points in by_muscle.items():
        muscle = vocab.muscles()[name]
        plain = words.get("muscles", {}).get(name, muscle.plain_en) if lang != "en" else muscle.plain_en
        if len(points) == 2:  # left and right given apart
            left, right = points["left"], points["right"]
            side = sides["bilateral"]
            count = (today["each_side"].format(points=_points(left, words)) if left == right
                     else today["left_right"].format(left=_points(left, words), right=_points(right, words)))
        else:
            [(side_key, n)] = points.items()
            side, count = sides[side_key], _points(n, words)
        line = today["site"].format(muscle=muscle_name(name, words), side=side, plain=plain)
        lines.append(f"{text(line)} — {_plain(count)}")
    return lines


def _today(visit: Visit, words: dict[str, Any], kind: dict[str, str], lang: str, styles: Styles) -> list:
    today = words["today"]
    lines = site_lines(visit, words, lang)
    # the heading and the line before the list stay with the list's first line
    intro = ParagraphStyle("intro", parent=styles.body, keepWithNext=1)
    story = [paragraph(text(today["heading"]), styles.heading), paragraph(text(kind["did"]), intro),
             *_bullets(lines, styles)]
    if is_dry_needling(visit):
        story.append(paragraph(text(today["dry"]), styles.body))
        return story
    drugs = list(dict.fromkeys(agent.drug for agent in visit.agents))
    if drugs == ["saline"]:
        story.append(paragraph(text(today["saline_only"]), styles.body))
        return story
    names = []
    for drug in drugs:
        entry = vocab.drugs()[drug]
        name = drug_name(drug, words)
        with_epi = any(a.epinephrine for a in visit.agents if a.drug == drug)
        if entry.is_steroid:
            names.append(today["steroid"].format(drug=name))
        elif entry.is_local_anesthetic:
            names.append(today["anesthetic_epi" if with_epi else "anesthetic"].format(drug=name))
        else:
            names.append(today["saline"] if drug == "saline" else name)
    line = today["medicine" if len(names) == 1 else "medicines"].format(drugs=listing(names, words))
    story.append(paragraph(text(line), styles.body))
    return story


def _expect(visit: Visit, words: dict[str, Any], styles: Styles) -> list:
    expect = words["expect"]
    lines = []
    hours = numb_hours(visit)
    if hours:
        epinephrine = any(a.epinephrine for a in visit.agents if vocab.drugs()[a.drug].is_local_anesthetic)
        key = "wears_off_epi" if epinephrine else "wears_off"
        lines.append(f"{expect[key].format(low=_number(hours[0]), high=_number(hours[1]))} {expect['pain_back']}")
    lines.append(expect["sore_dry" if is_dry_needling(visit) else "sore"])
    return _section(expect["heading"], [_plain(line) for line in lines], styles)


def _call_us(visit: Visit, words: dict[str, Any], styles: Styles) -> list:
    call_us = words["call_us"]
    items = [_plain(i) for i in call_us["items"]]
    if numb_hours(visit) or set(_hazard_keys(visit)) & NUMBING_HAZARDS:
        items.append(_plain(call_us["numb_long"]))
    items += [_plain(line) for line in hazard_lines(visit, words) if "911" not in line]
    return _section(call_us["heading"], items, styles, bullets=True)  # the number is in every page's footer


def _care(patient: Patient, visit: Visit, words: dict[str, Any], kind: dict[str, str], styles: Styles, *,
          heat: bool, no_soak_hours: int) -> list:
    care = words["care"]
    items = [care["ice"]] + ([care["heat"]] if heat else []) + [care["move"], care["no_hard"], kind["works"],
                                                                  care["clean"]]
    if no_soak_hours:
        items.append(care["no_soak"].format(hours=no_soak_hours))
    items.append(care["pain_medicine_thinner" if patient.anticoagulated else "pain_medicine"])
    if numb_hours(visit) or set(_hazard_keys(visit)) & NUMBING_HAZARDS:
        items.append(care["drive"])
    items.append(care["work"])
    return _section(care["heading"], [_plain(i) for i in items], styles, bullets=True)


GUTTER = 14


def _stack_height(flowables: list[Flowable], width: float) -> float:
    height = 0.0
    for index, flowable in enumerate(flowables):
        height += flowable.wrap(width, PAGE_TALL)[1]
        height += (flowable.getSpaceBefore() + flowables[index - 1].getSpaceAfter()) if index else 0
    return height


def _split_stack(flowables: list[Flowable], width: float, height: float) -> tuple[list, list] | None:
    """FLOWABLES cut to fit HEIGHT: (what fits, the rest); a heading never ends the first part.

    None when not even one line under the first heading fits.
    """
    used, fitted = 0.0, []
    for index, flowable in enumerate(flowables):
        space = (flowable.getSpaceBefore() + fitted[-1].getSpaceAfter()) if fitted else 0
        needed = flowable.wrap(width, PAGE_TALL)[1]
        if used + space + needed <= height:
            fitted.append(flowable)
            used += space + needed
            continue
        parts = flowable.split(width, height - used - space) if height - used - space > 0 else []
        first, rest = (parts[:1], [*parts[1:], *flowables[index + 1:]]) if len(parts) == 2 \
            else ([], flowables[index:])
        fitted += first
        while fitted and getattr(fitted[-1].style if hasattr(fitted[-1], "style") else None, "keepWithNext", 0):
            rest.insert(0, fitted.pop())
        return (fitted, rest) if fitted or not flowables else None
    return fitted, []


class _Columns(Flowable):
    """Two sections side by side, read left column first; they may split across pages between lines."""

    def __init__(self, columns: list[list[Flowable]], space_before: float) -> None:
        super().__init__()
        self.columns, self.spaceBefore = columns, space_before

    def _column_width(self, available_width: float) -> float:
        return (available_width - GUTTER) / 2

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        width = self._column_width(available_width)
        self.width = available_width
        self.height = max(_stack_height(column, width) for column in self.columns)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list:
        width = self._column_width(available_width)
        parts = [_split_stack(column, width, available_height) for column in self.columns]
        if any(part is None or (column and not part[0]) for part, column in zip(parts, self.columns, strict=True)):
            return []  # a column would leave only its heading behind: the pair moves on whole
        return [_Columns([part[0] for part in parts], self.spaceBefore), _Columns([part[1] for part in parts], 0)]

    def draw(self) -> None:
        width = self._column_width(self.width)
        for number, column in enumerate(self.columns):
            x, y = number * (width + GUTTER), self.height
            for index, flowable in enumerate(column):
                y -= (flowable.getSpaceBefore() + column[index - 1].getSpaceAfter()) if index else 0
                _, height = flowable.wrap(width, PAGE_TALL)
                y -= height
                flowable.drawOn(self.canv, x, y)


def _two_columns(styles: Styles) -> bool:
    return styles.body.fontSize <= 12


def _side_by_side(columns: list[list], styles: Styles) -> list:
    """Two short sections in two columns, read left column first, so the sheet stays short.

    Large print keeps one column: at 16 pt half a line holds too few words.
    """
    if len(columns) != 2 or not _two_columns(styles):
        return [flowable for column in columns for flowable in column]
    # a column's first heading drops its space above: the pair keeps it
    return [_Columns(columns, styles.heading.spaceBefore)]


def _diary(visit: Visit, words: dict[str, Any], styles: Styles, room: float) -> list:
    """Six weeks as columns, the days of the week as rows: a date at 16 pt fits its cell unbroken.

    The first line is filled in: today's date and the pain before and after the shots. Each day's row has
    ROOM (pt) below the date to write in.
    """
    diary, dates = words["diary"], words["dates"]
    start = visit.date + dt.timedelta(days=1)
    weekdays = [dates["weekdays"][(start + dt.timedelta(days=day)).weekday()] for day in range(7)]
    size = styles.cell.fontSize
    pad = 5
    labels = [diary["week"], diary["today"], *weekdays]
    label_width = max(stringWidth(label, FONT_BOLD, size) for label in labels) + 2 * pad + 1
    # "Relief lasted" on one line when the weeks keep room for a date and a written number beside it
    date_width = stringWidth("12/30", FONT, size) + 2 * pad
    relief_width = stringWidth(diary["relief"], FONT_BOLD, size) + 2 * pad + 1
    if (WIDTH - relief_width) / DIARY_WEEKS >= date_width * 1.4:
        label_width = max(label_width, relief_width)
    week_width = (WIDTH - label_width) / DIARY_WEEKS
    gray = ParagraphStyle("diary-date", parent=styles.cell, textColor=MUTED)
    rows: list[list[Any]] = [[paragraph(text(diary["week"]), styles.cell_bold)]
                             + [paragraph(f"{week + 1}", styles.cell_bold) for week in range(DIARY_WEEKS)]]
    today = diary["today_pain"].format(before=visit.pain_before, after=visit.pain_after)
    rows.append([paragraph(text(diary["today"]), styles.cell_bold),
                 paragraph(f"{_plain(local_date(visit.date, words))} · <b>{_plain(today)}</b>", styles.cell)]
                + [""] * (DIARY_WEEKS - 1))
    for day, weekday in enumerate(weekdays):
        cells = []
        for week in range(DIARY_WEEKS):
            date = start + dt.timedelta(days=week * 7 + day)
            cells.append(paragraph(dates["short"].format(m=date.month, d=date.day), gray))
        rows.append([paragraph(text(weekday), styles.cell_bold), *cells])
    rows.append([paragraph(text(diary["relief"]), styles.cell_bold)] + [""] * DIARY_WEEKS)
    # the printed date, and room to write a number beside it (and under it: ROOM)
    day_height = styles.cell.leading + 3 + room
    table = tagging.headers(Table(rows, colWidths=[label_width] + [week_width] * DIARY_WEEKS,
                                  rowHeights=[None, None] + [day_height] * 7 + [None], hAlign="LEFT"),
                            rows=1, columns=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("BACKGROUND", (0, 1), (0, -1), SHADE),
        ("SPAN", (1, 1), (-1, 1)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), pad), ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return [paragraph(text(diary["heading"]), styles.heading),
            paragraph(f"{_plain(diary['how'])} {_plain(diary['why'])}", styles.body), Spacer(1, 2), table]


# large print: room to write under each date, roomiest first (see _KeptDiary); regular print writes beside it
DIARY_ROOM_LARGE = (0.15 * inch, 0.1 * inch, 0.05 * inch, 0.0)


class _KeptDiary(Flowable):
    """The last line of self-care and the diary, on one page: the diary never stands alone.

    In large print each day's row leaves room to write under the date. When the whole does not fit in
    what is left of a page with that room, it takes less room rather than move on and leave the page
    before it half empty; when it does not fit even with the least, it moves on whole, with full room.
    """

    def __init__(self, before: Flowable, diary: Callable[[float], list], rooms: tuple[float, ...]) -> None:
        super().__init__()
        self.before, self.diary, self.rooms = before, diary, rooms
        self.spaceBefore = before.getSpaceBefore()
        self._made: dict[float, list[Flowable]] = {}
        self.placed: list[tuple[Flowable, float]] = []

    def _with_room(self, room: float) -> list[Flowable]:
        if room not in self._made:
            self._made[room] = [self.before, *self.diary(room)]
        return self._made[room]

    def _placed(self, content: list[Flowable], width: float) -> list[tuple[Flowable, float]]:
        """Each flowable and the height down to its bottom, spaced as a frame spaces them."""
        placed, y = [], 0.0
        for index, flowable in enumerate(content):
            y += max(flowable.getSpaceBefore(), content[index - 1].getSpaceAfter()) if index else 0
            y += flowable.wrap(width, PAGE_TALL)[1]
            placed.append((flowable, y))
        return placed

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        for room in self.rooms:
            self.placed = self._placed(self._with_room(room), available_width)
            if self.placed[-1][1] <= available_height:
                break
        else:
            self.placed = self._placed(self._with_room(self.rooms[0]), available_width)
        self.width, self.height = available_width, self.placed[-1][1]
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list:
        return []  # kept whole: it moves on to the next page

    def draw(self) -> None:
        for flowable, bottom in self.placed:
            flowable.wrap(self.width, PAGE_TALL)
            flowable.drawOn(self.canv, 0, self.height - bottom)


def _extra(patient: Patient, visit: Visit, words: dict[str, Any], styles: Styles) -> list:
    """The steroid and blood-thinner sections, side by side when there are both."""
    sections = []
    if any(vocab.drugs()[a.drug].is_steroid for a in visit.agents):
        steroid = words["steroid"]
        items = [_plain(steroid[key]) for key in ("flush", "sleep", "skin")]
        if patient.diabetic:
            items.append(f"<b>{_plain(steroid['diabetes'])}</b>")
        sections.append(_section(steroid["heading"], items, styles, bullets=True))
    if patient.anticoagulated:
        bleeding = words["bleeding"]
        sections.append(_section(bleeding["heading"], [_plain(bleeding[k]) for k in ("bruise", "press", "swelling")]
                                 + [f"<b>{_plain(bleeding['restart'])}</b>"], styles, bullets=True))
    return _side_by_side(sections, styles)


def build_handout(patient: Patient, visit: Visit, clinic: Clinic, *, lang: str = "en", large_print: bool = False,
                  heat: bool = True, no_soak_hours: int = 48) -> bytes:
    words = handout_texts(lang)
    kind = words["kind"]["dry" if is_dry_needling(visit) else "shots"]
    size = 16 if large_print else 12
    styles = make_styles(size, leading=1.16, minimum=size)
    # a warning's last line never starts a page alone (a bullet of 3 lines or fewer moves on whole)
    styles = dataclasses.replace(
        styles, bullet=ParagraphStyle("bullet-kept", parent=styles.bullet, allowWidows=0, spaceAfter=size * 0.05),
        body=ParagraphStyle("body-kept", parent=styles.body, allowWidows=0),
        heading=ParagraphStyle("heading-close", parent=styles.heading, spaceBefore=size * 0.4))
    footer_parts = [words["questions"].format(phone=clinic.phone)] if clinic.phone else [words["no_phone"]]
    if clinic.after_hours_phone:
        footer_parts.append(words["after_hours"].format(phone=clinic.after_hours_phone))
    footer = _plain(" ".join(footer_parts))
    who = f"<b>{text(words['for'])}:</b> {text(patient.name)} · {text(words['born'])}: {text(local_date(patient.dob, words))}"
    page = Page(
        clinic=clinic.name or "",
        clinic_lines=keep_together(clinic.contact_line),
        patient_line=f"{who} · {text(words['visit_date'])}: {text(local_date(visit.date, words))}",
        later_patient_line=who,
        footer=footer,
        page_label=words["page"],
        size=styles.body.fontSize,
    )

    story: list = [paragraph(text(kind["title"]), styles.title)]
    story += _emergency(visit, words, kind, styles)
    story += _today(visit, words, kind, lang, styles)
    follow = words["follow_up"]
    line = (follow["date"].format(date=local_date(visit.follow_up, words)) if visit.follow_up else follow["none"])
    next_visit = [paragraph(text(follow["heading"]), styles.heading), paragraph(f"<b>{_plain(line)}</b>", styles.body)]
    columns = [_expect(visit, words, styles), _call_us(visit, words, styles)]
    # in two columns the date of the next visit goes under the shorter one; in one, after both
    shorter = min(columns, key=lambda column: _stack_height(column, (WIDTH - GUTTER) / 2))
    (shorter if _two_columns(styles) else columns[1]).extend(next_visit)
    story += _side_by_side(columns, styles)
    story += _extra(patient, visit, words, styles)  # what is particular to this patient, before the routine
    care = _care(patient, visit, words, kind, styles, heat=heat, no_soak_hours=no_soak_hours)
    # the diary never stands alone on a page: when it does not fit, the last line of self-care moves with
    # it, and no more, so the page before is not left half empty
    story += [*care[:-1], _KeptDiary(care[-1], lambda room: _diary(visit, words, styles, room),
                                     DIARY_ROOM_LARGE if large_print else (0.0,))]
    return render(story, page, styles, title=kind["title"], author=clinic.name,
                  subject=f"Aftercare handout, visit {visit.date.isoformat()}", lang=words["lang"])
