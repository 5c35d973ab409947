"""The patient's aftercare handout: specific to the visit, plain words, large type, a pain diary.

Order: what can send the patient to the emergency room comes first, in a box of its own on page 1;
then what was done, what to expect, when to call, self-care, the follow-up and the diary. Numbers,
dates and phone numbers are held together with non-breaking spaces, so none is split across lines.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from tpi_cli import vocab
from tpi_cli.models import Patient, Visit
from tpi_cli.pdf.common import (
    FONT_BOLD,
    RULE,
    SHADE,
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
WIDTH = 7.1 * inch
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
    """'X, Y and Z' / 'X, Y y Z'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {words['and']} {items[-1]}"


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


def hazard_lines(visit: Visit, words: dict[str, Any]) -> list[str]:
    """The patient's line for each hazard within needle reach of today's sites (clinical-reference.md §9)."""
    translated = words.get("hazards", {})
    return [translated.get(key) or vocab.hazards()[key].handout_en for key in _hazard_keys(visit)]


def _both_lungs(visit: Visit) -> bool:
    """Chest-wall sites on both sides in one session: the stronger warning (clinical-reference.md §9)."""
    sides = {side for site in visit.sites if vocab.muscles()[site.muscle].pneumothorax
             for _, side in site.side_pairs}
    return {"left", "right"} <= sides


def _emergency(visit: Visit, words: dict[str, Any], kind: dict[str, str], styles: Styles) -> list:
    emergency = words["emergency"]
    items = list(emergency["items"])
    if not is_dry_needling(visit):
        items += [item.format(after=kind["after"]) for item in emergency["medicine_items"]]
    urgent = [line for line in hazard_lines(visit, words) if "911" in line]
    if _both_lungs(visit):
        urgent.insert(0, emergency["both_sides"])
    bullet = ParagraphStyle("warning-bullet", parent=styles.bullet, textColor=WARN, spaceAfter=0)
    cells = [[paragraph(f"<b>{text(emergency['heading'])}</b>", styles.warning)]]
    cells += [[paragraph(_plain(item), bullet, bulletText="•")] for item in items]
    cells += [[paragraph(f"<b>{_plain(line)}</b>", bullet, bulletText="•")] for line in urgent]
    box = Table(cells, colWidths=[WIDTH], hAlign="LEFT")
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 2, WARN), ("LEFTPADDING", (0, 0), (-1, -1), 10),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 10), ("TOPPADDING", (0, 0), (-1, -1), 1),
                             ("TOPPADDING", (0, 0), (-1, 0), 6), ("BOTTOMPADDING", (0, -1), (-1, -1), 8)]))
    # space above and below: the box stands alone, touching no table or heading
    return [Spacer(1, styles.body.fontSize * 0.6), KeepTogether(box), Spacer(1, styles.body.fontSize * 0.6)]


def _today(visit: Visit, words: dict[str, Any], kind: dict[str, str], lang: str, styles: Styles) -> list:
    today = words["today"]
    lines = []
    for site in visit.sites:
        muscle = vocab.muscles()[site.muscle]
        points = today["points_one"] if site.points == 1 else today["points_many"].format(n=site.points)
        plain = words.get("muscles", {}).get(muscle.name, muscle.plain_en) if lang != "en" else muscle.plain_en
        line = today["site"].format(muscle=muscle_name(muscle.name, words), side=words["sides"][site.side],
                                    plain=plain)
        lines.append(f"{text(line)} — {_plain(points)}")
    story = [paragraph(text(today["heading"]), styles.heading), paragraph(text(kind["did"]), styles.body),
             *_bullets(lines, styles)]
    if is_dry_needling(visit):
        story.append(paragraph(text(today["dry"]), styles.body))
        return story
    names = []
    for drug in dict.fromkeys(agent.drug for agent in visit.agents):
        entry = vocab.drugs()[drug]
        name = drug_name(drug, words)
        with_epi = any(a.epinephrine for a in visit.agents if a.drug == drug)
        if entry.is_steroid:
            names.append(today["steroid"].format(drug=name))
        elif entry.is_local_anesthetic:
            names.append(today["anesthetic_epi" if with_epi else "anesthetic"].format(drug=name))
        else:
            names.append(today["saline"] if drug == "saline" else name)
    story.append(paragraph(text(today["medicine"].format(drugs=listing(names, words))), styles.body))
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
    if numb_hours(visit) or any("numb" in line.lower() or "dormid" in line.lower()
                                for line in hazard_lines(visit, words)):
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
    if numb_hours(visit) or any(vocab.hazards()[h].handout_en.count("numb") for h in _hazard_keys(visit)):
        items.append(care["drive"])
    items.append(care["work"])
    return _section(care["heading"], [_plain(i) for i in items], styles, bullets=True)


def _side_by_side(columns: list[list]) -> list:
    """Two short sections in two columns (read left column first): the sheet stays short."""
    table = Table([columns], colWidths=[WIDTH / 2] * 2, hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0),
                               ("LEFTPADDING", (1, 0), (1, 0), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                               ("TOPPADDING", (0, 0), (-1, -1), 0)]))
    return [table]


def _diary(visit: Visit, words: dict[str, Any], lang: str, styles: Styles, large: bool) -> list:
    diary = words["diary"]
    size = styles.cell.fontSize
    label_width = max(stringWidth(word, FONT_BOLD, size) for word in (diary["week"], diary["today"])) + 14
    rows = [[paragraph(text(diary["week"]), styles.cell_bold)]
            + [paragraph("", styles.cell) for _ in range(7)]
            + [paragraph(text(diary["relief"]), styles.cell_bold)]]
    today = diary["today_pain"].format(before=visit.pain_before, after=visit.pain_after)
    rows.append([paragraph(f"<b>{text(diary['today'])}</b>", styles.cell),
                 paragraph(f"{_plain(local_date(visit.date, words))} · <b>{_plain(today)}</b>", styles.cell)]
                + [""] * 7)
    start = visit.date + dt.timedelta(days=1)
    short = words["dates"]["short"]
    for week in range(DIARY_WEEKS):
        row: list[Any] = [paragraph(f"<b>{week + 1}</b>", styles.cell)]
        for day in range(7):
            date = start + dt.timedelta(days=week * 7 + day)
            label = short.format(m=date.month, d=date.day)
            row.append(paragraph(f'<font color="#52606d">{label}</font>', styles.cell))
        row.append(paragraph("", styles.cell))
        rows.append(row)
    relief_width = max(1.45 * inch, stringWidth(diary["relief"], FONT_BOLD, size) / 2 + 14)
    day_width = (WIDTH - label_width - relief_width) / 7
    row_height = (0.44 if large else 0.27) * inch  # room for one number a day
    table = Table(rows, colWidths=[label_width] + [day_width] * 7 + [relief_width],
                  rowHeights=[None, None] + [row_height] * DIARY_WEEKS, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("BACKGROUND", (0, 1), (0, -1), SHADE),
        ("SPAN", (1, 1), (-1, 1)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return [paragraph(f"<b>{text(diary['heading'])}</b>", styles.body),
            paragraph(f"{_plain(diary['how'])} {_plain(diary['why'])}", styles.body), Spacer(1, 2), table]


def build_handout(patient: Patient, visit: Visit, clinic: Clinic, *, lang: str = "en", large_print: bool = False,
                  heat: bool = True, no_soak_hours: int = 48) -> bytes:
    words = handout_texts(lang)
    kind = words["kind"]["dry" if is_dry_needling(visit) else "shots"]
    size = 16 if large_print else 12
    styles = make_styles(size, leading=1.18, minimum=size)
    footer_parts = [words["questions"].format(phone=clinic.phone)] if clinic.phone else [words["no_phone"]]
    if clinic.after_hours_phone:
        footer_parts.append(words["after_hours"].format(phone=clinic.after_hours_phone))
    footer = _plain(" ".join(footer_parts))
    page = Page(
        clinic=clinic.name or "",
        clinic_lines=keep_together(clinic.contact_line),
        patient_line=(f"<b>{text(words['for'])}:</b> {text(patient.name)} · {text(words['born'])}: "
                      f"{text(local_date(patient.dob, words))} · {text(words['visit_date'])}: "
                      f"{text(local_date(visit.date, words))}"),
        footer=footer,
        page_label=words["page"],
        size=styles.body.fontSize,
    )

    story: list = [paragraph(text(kind["title"]), styles.title)]
    story += _emergency(visit, words, kind, styles)
    story += _today(visit, words, kind, lang, styles)
    story += _expect(visit, words, styles)
    story += _call_us(visit, words, styles)
    story += _care(patient, visit, words, kind, styles, heat=heat, no_soak_hours=no_soak_hours)

    extra = []
    if any(vocab.drugs()[a.drug].is_steroid for a in visit.agents):
        steroid = words["steroid"]
        items = [_plain(steroid[key]) for key in ("flush", "sleep", "skin")]
        if patient.diabetic:
            items.append(f"<b>{_plain(steroid['diabetes'])}</b>")
        extra.append(_section(steroid["heading"], items, styles, bullets=True))
    if patient.anticoagulated:
        bleeding = words["bleeding"]
        extra.append(_section(bleeding["heading"], [_plain(bleeding[k]) for k in ("bruise", "press", "swelling")]
                              + [f"<b>{_plain(bleeding['restart'])}</b>"], styles, bullets=True))
    story += _side_by_side(extra) if len(extra) == 2 else [flowable for section in extra for flowable in section]

    follow = words["follow_up"]
    line = (follow["date"].format(date=local_date(visit.follow_up, words)) if visit.follow_up else follow["none"])
    # the follow-up date goes with the diary (bring it to that visit), so the diary never stands alone
    story.append(KeepTogether([paragraph(text(follow["heading"]), styles.heading),
                               paragraph(f"<b>{_plain(line)}</b>", styles.body),
                               *_diary(visit, words, lang, styles, large_print)]))

    return render(story, page, styles, title=kind["title"], author=clinic.name,
                  subject=f"Aftercare handout, visit {visit.date.isoformat()}", lang=words["lang"])
