"""The patient's aftercare handout: specific to the visit, plain words, large type, a pain diary."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reportlab.lib.units import inch
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from tpi_cli import vocab
from tpi_cli.models import Patient, Visit
from tpi_cli.pdf.common import RULE, SHADE, WARN, Clinic, Page, Styles, make_styles, paragraph, render, text
from tpi_cli.texts import handout_texts

DIARY_WEEKS = 6


def local_date(day: dt.date, words: dict[str, Any]) -> str:
    dates = words["dates"]
    return dates["format"].format(month=dates["months"][day.month - 1], day=day.day, year=day.year)


def drug_name(drug: str, words: dict[str, Any]) -> str:
    return words.get("drugs", {}).get(drug, drug)


def _bullets(items: list[str], styles: Styles) -> list[Paragraph]:
    return [paragraph(item, styles.bullet, bulletText="•") for item in items]


def _section(heading: str, lines: list[str], styles: Styles, bullets: bool = False) -> list[Paragraph]:
    """A heading (kept with what follows) and its lines; long sections may break across pages."""
    body = _bullets(lines, styles) if bullets else [paragraph(line, styles.body) for line in lines]
    return [paragraph(text(heading), styles.heading), *body]


def _today(visit: Visit, words: dict[str, Any], lang: str, styles: Styles) -> list:
    today = words["today"]
    lines = []
    for site in visit.sites:
        muscle = vocab.muscles()[site.muscle]
        points = today["points_one"] if site.points == 1 else today["points_many"].format(n=site.points)
        lines.append(text(today["site"].format(muscle=muscle.name, side=words["sides"][site.side],
                                               plain=words.get("muscles", {}).get(muscle.name, muscle.plain_en)))
                     + f" — {text(points)}")
    story = [paragraph(text(today["heading"]), styles.heading), paragraph(text(today["sites"]), styles.body),
             *_bullets(lines, styles)]
    if not visit.agents:
        story.append(paragraph(text(today["dry"]), styles.body))
        return story
    names = []
    for drug in dict.fromkeys(agent.drug for agent in visit.agents):
        entry = vocab.drugs()[drug]
        name = drug_name(drug, words)
        if entry.is_steroid:
            names.append(today["steroid"].format(drug=name))
        elif entry.is_local_anesthetic:
            names.append(today["anesthetic"].format(drug=name))
        else:
            names.append(today["saline"] if drug == "saline" else name)
    joiner = " and " if lang == "en" else " y "
    story.append(paragraph(text(today["medicine"].format(drugs=joiner.join(names))), styles.body))
    return story


def numb_hours(visit: Visit) -> tuple[float, float] | None:
    """How long the numbness lasts: the longest-acting local anesthetic given (clinical-reference.md §4)."""
    ranges = [vocab.drugs()[a.drug].numb_hours for a in visit.agents if vocab.drugs()[a.drug].is_local_anesthetic]
    ranges = [r for r in ranges if r]
    if not ranges:
        return None
    return max(ranges, key=lambda r: r[1])


def _number(value: float) -> str:
    return f"{value:g}"


def _diary(visit: Visit, words: dict[str, Any], lang: str, styles: Styles, large: bool) -> list:
    diary = words["diary"]
    size = styles.cell.fontSize
    rows = [[paragraph(text(diary["week"]), styles.cell_bold)]
            + [paragraph("", styles.cell) for _ in range(7)]
            + [paragraph(text(diary["relief"]), styles.cell_bold)]]
    start = visit.date + dt.timedelta(days=1)
    for week in range(DIARY_WEEKS):
        row: list[Any] = [paragraph(f"<b>{week + 1}</b>", styles.cell)]
        for day in range(7):
            date = start + dt.timedelta(days=week * 7 + day)
            label = f"{date.month}/{date.day}" if lang == "en" else f"{date.day}/{date.month}"
            row.append(paragraph(f'<font size="{size * 0.75:.1f}" color="#52606d">{label}</font>', styles.cell))
        row.append(paragraph("", styles.cell))
        rows.append(row)
    usable = 7.1 * inch
    first, last = (1.05 if large else 0.85) * inch, 1.45 * inch
    day_width = (usable - first - last) / 7
    row_height = (0.5 if large else 0.34) * inch  # room for one number a day
    table = Table(rows, colWidths=[first] + [day_width] * 7 + [last],
                  rowHeights=[None] + [row_height] * DIARY_WEEKS, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.6, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("BACKGROUND", (0, 1), (0, -1), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return [paragraph(text(diary["heading"]), styles.heading),
            paragraph(f"{text(diary['how'])} {text(diary['why'])}", styles.body), Spacer(1, 2), table]


def build_handout(patient: Patient, visit: Visit, clinic: Clinic, *, lang: str = "en", large_print: bool = False,
                  heat: bool = True, no_soak_hours: int = 48) -> bytes:
    words = handout_texts(lang)
    styles = make_styles(16 if large_print else 12)
    phone = clinic.phone
    footer_parts = [words["questions"].format(phone=phone)] if phone else [words["no_phone"]]
    if clinic.after_hours_phone:
        footer_parts.append(words["after_hours"].format(phone=clinic.after_hours_phone))
    page = Page(
        clinic=clinic.name or "",
        clinic_lines=clinic.contact_line,
        patient_line=(f"<b>{text(words['for'])}:</b> {text(patient.name)} · {text(words['born'])}: "
                      f"{text(local_date(patient.dob, words))} · {text(words['visit_date'])}: "
                      f"{text(local_date(visit.date, words))}"),
        footer=text(" ".join(footer_parts)),
        page_label=words["page"],
        size=styles.body.fontSize,
    )

    story: list = [paragraph(text(words["title"]), styles.title)]
    story += _today(visit, words, lang, styles)

    numb = words["numb"]
    lines = []
    hours = numb_hours(visit)
    if hours:
        lines.append(f"{numb['wears_off'].format(low=_number(hours[0]), high=_number(hours[1]))} {numb['pain_back']}")
    lines.append(f"{numb['sore']} {numb['relief']}")
    story.extend(_section(numb["heading"], [text(line) for line in lines], styles))

    care = words["care"]
    items = [care["ice"]] + ([care["heat"]] if heat else []) + [care["move"], care["no_hard"], care["stretch"],
                                                                  care["clean"]]
    if no_soak_hours:
        items.append(care["no_soak"].format(hours=no_soak_hours))
    story.extend(_section(care["heading"], [text(i) for i in items], styles, bullets=True))

    if any(vocab.drugs()[a.drug].is_steroid for a in visit.agents):
        steroid = words["steroid"]
        items = [text(steroid[key]) for key in ("flush", "sleep", "skin")]
        if patient.diabetic:
            items.append(f"<b>{text(steroid['diabetes'])}</b>")
        story.extend(_section(steroid["heading"], items, styles, bullets=True))

    if patient.anticoagulated:
        bleeding = words["bleeding"]
        story.extend(_section(bleeding["heading"], [text(bleeding[k]) for k in ("bruise", "press", "swelling")],
                              styles, bullets=True))

    if any(vocab.muscles()[s.muscle].pneumothorax for s in visit.sites):
        breathing = words["breathing"]
        box = Table([[paragraph(f"<b>{text(breathing['heading'])}</b>", styles.warning)],
                     [paragraph(text(breathing["text"]), styles.warning)]], colWidths=[7.1 * inch], hAlign="LEFT")
        box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.5, WARN), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                                 ("TOPPADDING", (0, 0), (-1, -1), 4)]))
        story += [Spacer(1, 8), KeepTogether(box)]

    # "when to call us" and "call 911" side by side: both in sight at once, and the sheet stays short
    call_us, call_911 = words["call_us"], words["call_911"]
    column = 3.5 * inch
    calls = Table([[
        [*_section(call_us["heading"], [text(i) for i in call_us["items"]], styles, bullets=True),
         paragraph(f"<b>{text(' '.join(footer_parts))}</b>", styles.body)],
        _section(call_911["heading"], [text(i) for i in call_911["items"]], styles, bullets=True),
    ]], colWidths=[column, column], hAlign="LEFT")
    calls.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0),
                               ("LEFTPADDING", (1, 0), (1, 0), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                               ("LINEBEFORE", (1, 0), (1, 0), 0.8, WARN)]))
    story.append(calls)

    follow = words["follow_up"]
    line = (follow["date"].format(date=local_date(visit.follow_up, words)) if visit.follow_up else follow["none"])
    story.extend(_section(follow["heading"], [f"<b>{text(line)}</b>"], styles))

    story.append(KeepTogether(_diary(visit, words, lang, styles, large_print)))

    return render(story, page, styles, title=words["title"], author=clinic.name,
                  subject=f"Aftercare handout, visit {visit.date.isoformat()}")

