"""The progress review: how a patient has done over many visits, for the follow-up and the payer."""

from __future__ import annotations

import datetime as dt
import itertools

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import inch

from tpi_cli.clinical.doses import anesthetic_doses, combined_fraction, dose_by_drug, percent_text, steroid_mpe
from tpi_cli.clinical.outcomes import (
    RESPONDER_PCT,
    days_since_same_site,
    function_change,
    immediate_response,
    immpact_category,
    index_relief,
    muscle_outcomes,
    percent_change,
    responders,
    sessions_in_year,
    steroid_mpe_in_year,
)
from tpi_cli.clinical.safety import payer_profile, relief_against_bar
from tpi_cli.models import FUNCTION_SCALES, Patient, Visit
from tpi_cli.pdf import tagging
from tpi_cli.pdf.common import (
    ACCENT,
    FONT,
    FONT_BOLD,
    INK,
    MUTED,
    RULE,
    WARN,
    WIDTH,
    Clinic,
    Page,
    grid,
    long_date,
    make_styles,
    paragraph,
    patient_line,
    render,
    text,
    weight_on,
)
from tpi_cli.settings import Settings

SUBSTANTIAL_PCT = 50.0  # IMMPACT-2008 "substantial"; RESPONDER_PCT (30) is "moderate"


def _short_date(day: dt.date) -> str:
    return day.strftime("%Y-%m-%d")


def pain_chart(visits: list[Visit], width: float = WIDTH, height: float = 2.1 * inch) -> Drawing:
    """Pain before and after each injection by visit date: two lines over a 0-10 scale with dated ticks.

    Drawn from lines and strings: reportlab's LinePlot and Legend widgets, which drew the same chart, took ~10 ms
    of a review to import and lay out, a tenth of all the review's own work."""
    drawing = Drawing(width, height)
    left, bottom, plot_width, plot_height = 34, 30, width - 150, height - 48
    days = [v.date.toordinal() for v in visits]
    low, high = min(days), max(days)
    if low == high:
        low, high = low - 15, high + 15
    span = high - low

    def x_of(day: float) -> float:
        return left + plot_width * (day - low) / span

    def y_of(score: float) -> float:
        return bottom + plot_height * score / 10

    label = {"fontName": FONT, "fontSize": 7, "fillColor": MUTED}
    for score in range(0, 11, 2):  # the 0-10 scale: a grid line, a tick and its number every 2 points
        y = y_of(score)
        if score:
            drawing.add(Line(left, y, left + plot_width, y, strokeColor=GRID, strokeWidth=1))
        drawing.add(Line(left - 5, y, left, y, strokeColor=RULE, strokeWidth=1))
        drawing.add(String(left - 7, y - 2.5, str(score), textAnchor="end", **label))
    # six dates spread over the period; a tick says its day and year: "Nov 2 2026" is never read as a day of
    # the month or a year '26
    for day in sorted({low + round(span * i / 5) for i in range(6)}):
        x = x_of(day)
        drawing.add(Line(x, bottom, x, bottom - 5, strokeColor=RULE, strokeWidth=1))
        drawing.add(String(x, bottom - 12, dt.date.fromordinal(day).strftime("%b %-d %Y"), textAnchor="middle",
                           **label))
    drawing.add(Line(left, bottom, left, bottom + plot_height, strokeColor=RULE, strokeWidth=1))
    drawing.add(Line(left, bottom, left + plot_width, bottom, strokeColor=RULE, strokeWidth=1))

    xs = [x_of(day) for day in days]
    series = ((WARN, "before injection", [v.pain_before for v in visits], _dot),
              (ACCENT, "5-15 min after", [v.pain_after for v in visits], _square))
    for index, (colour, name, scores, marker) in enumerate(series):
        points = [coordinate for x, score in zip(xs, scores, strict=True) for coordinate in (x, y_of(score))]
        drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=1.4, strokeLineJoin=1))
        if len(visits) <= 40:  # past that, markers crowd the line
            for x, score in zip(xs, scores, strict=True):
                drawing.add(marker(x, y_of(score), colour))
        # the legend: each line's colour and mark, then what it shows
        key_x, key_y = width - 105, height - 24 - 16 * index
        drawing.add(Line(key_x, key_y + 2.5, key_x + 16, key_y + 2.5, strokeColor=colour, strokeWidth=1.4))
        drawing.add(marker(key_x + 8, key_y + 2.5, colour))
        drawing.add(String(key_x + 21, key_y, name, fontName=FONT, fontSize=8, fillColor=INK))
    drawing.add(String(4, height - 10, "Pain (0-10 numeric rating scale)", fontName=FONT_BOLD, fontSize=8,
                       fillColor=INK))
    drawing.add(String(left + plot_width / 2, 2, "Visit date", fontName=FONT_BOLD, fontSize=8, fillColor=INK,
                       textAnchor="middle"))
    scores = "; ".join(f"{_short_date(v.date)} {v.pain_before} before, {v.pain_after} after" for v in visits)
    return tagging.figure(drawing, "Line chart of pain on the 0-10 numeric rating scale by visit date, before "
                                   f"injection and 5-15 minutes after: {scores}.")


GRID = colors.HexColor("#e4e7eb")
MARK = 4.5  # a marker's width, points


def _dot(x: float, y: float, colour: colors.Color) -> Circle:
    return Circle(x, y, MARK / 2, fillColor=colour, strokeColor=colour, strokeWidth=0.5)


def _square(x: float, y: float, colour: colors.Color) -> Rect:
    return Rect(x - MARK / 2, y - MARK / 2, MARK, MARK, fillColor=colour, strokeColor=colour, strokeWidth=0.5)


SCORES_PER_ROW = 24


def _function_trend(visits: list[Visit]) -> dict[str, list[tuple[dt.date, float]]]:
    trend: dict[str, list[tuple[dt.date, float]]] = {}
    for visit in visits:
        for score in visit.functional_scores:
            trend.setdefault(score.scale, []).append((visit.date, score.score))
    return trend


def build_progress_review(patient: Patient, visits: list[Visit], every: list[Visit], settings: Settings,
                          clinic: Clinic, *, since: dt.date | None, until: dt.date) -> bytes:
    """VISITS (the period, oldest first) against EVERY visit of the patient (oldest first)."""
    styles = make_styles(9)
    first, last = visits[0], visits[-1]
    period = f"{long_date(since or first.date)} to {long_date(until)}"
    page = Page(clinic=clinic.name or "Trigger point injection record", clinic_lines=clinic.contact_line,
                patient_line=patient_line(patient, last.date, "latest visit"), footer="",
                page_label="Page {page} of {pages}", size=styles.body.fontSize)

    stats = responders(visits)
    profile = payer_profile(patient, settings)
    rules = settings.payer(profile)
    payer_name = "Medicare" if profile == "medicare" else profile.capitalize()
    sessions = sessions_in_year(every, until)
    mpe_year = steroid_mpe_in_year(every, until)
    relief_visit = next((v for v in reversed(every) if v.prior_relief and v.date <= until), None)
    trend = _function_trend(visits)
    upto = [v for v in every if v.date <= until]
    # sustained relief (§9): pain before each later visit against the index pain before the first injection
    reliefs = dict(zip((v.id for v in upto[1:]), index_relief(upto), strict=True))
    in_period = {v.id for v in visits}
    period_reliefs = [r for key, r in reliefs.items() if key in in_period]
    judged_reliefs = [r for r in period_reliefs if r.relief_pct is not None]

    # --- repeat criteria of the payer profile -----------------------------------------------------------
    criteria: list[tuple[str, bool | None, str]] = []
    bar_pct, bar_weeks = rules["min_relief_pct"], rules["min_relief_weeks"]
    if bar_pct or bar_weeks:
        if relief_visit is None:
            criteria.append(("Relief from the last injection", None, "not recorded"))
        else:
            pct, weeks = relief_visit.prior_relief.pct, relief_visit.prior_relief.weeks
            met = pct >= bar_pct and weeks >= bar_weeks
            detail = f"{relief_against_bar(pct, weeks, bar_pct, bar_weeks)}, reported {long_date(relief_visit.date)}"
            # the reported relief against the data: sustained relief measured at that visit
            measured = reliefs.get(relief_visit.id)
            if measured is not None:
                detail += f"; measured: {measured.text()}"
                if met and (measured.relief_pct is None or measured.relief_pct < bar_pct):
                    met = False
                    detail += (" — the pain is back at or above the index pain, which contradicts the reported "
                               "relief" if measured.measured_pain >= measured.index_pain
                               else " — which contradicts the reported relief")
            criteria.append(("Relief from the last injection", met, detail))
    if rules["requires_home_exercise"]:
        criteria.append(("Home exercise / rehab", last.home_exercise is True,
                         "takes part" if last.home_exercise else "not recorded at the latest visit"))
    if trend:
        changes = [function_change(scale, pts[0][1], pts[-1][1]) for scale, pts in trend.items() if len(pts) > 1]
        if changes:
            judged = [c for c in changes if c.verdict != "cannot judge"]
            ok = any(c.verdict == "improved" for c in judged) if judged else None
            criteria.append(("Function on a validated scale", ok, "; ".join(c.detail for c in changes)))
        else:
            criteria.append(("Function on a validated scale", None, "one score only: no trend yet"))
    else:
        criteria.append(("Function on a validated scale", None, "no functional score recorded"))
    if rules["sessions_per_year"]:
        criteria.append(("Sessions in the last 365 days", sessions < rules["sessions_per_year"],
                         (f"{sessions} of {rules['sessions_per_year']} allowed; a next session would be "
                         f"number {sessions + 1}")))
    decided = [c for c in criteria if c[1] is not None]
    all_met = bool(decided) and all(c[1] for c in decided) and len(decided) == len(criteria)

    # --- plain-language summary ---------------------------------------------------------------------------
    mean_pct = stats.mean_pct
    summary = [f"{len(visits)} visit{'s' if len(visits) != 1 else ''} from {period}."]
    if mean_pct is not None:
        moved = f"fell by {-mean_pct:.0f}%" if mean_pct < 0 else f"rose by {mean_pct:.0f}% (worse)" if mean_pct > 0 \
            else "did not change"
        summary.append(f"Immediate response (5-15 minutes after, mostly the anesthetic; not relief): pain {moved} "
                       f"on average ({stats.mean_change:+.1f} points; {immpact_category(-mean_pct)}).")
    moderate = sum(r.relief_pct >= RESPONDER_PCT for r in judged_reliefs)
    substantial = sum(r.relief_pct >= SUBSTANTIAL_PCT for r in judged_reliefs)
    if judged_reliefs:
        summary.append(f"Sustained-relief responders (pain before the next visit against the index pain before the "
                       f"first injection): {moderate} of {len(judged_reliefs)} follow-up visits ≥ 30%, "
                       f"{substantial} ≥ 50%; latest: {judged_reliefs[-1].text()}.")
    else:
        summary.append("Sustained relief: not measurable yet (it needs a visit after the first injection).")
    if bar_pct or bar_weeks or rules["sessions_per_year"]:
        refused = any(ok is False for _, ok, _ in criteria)
        verdict = "met" if all_met else "not met" if refused else "not yet documented"
        summary.append(f"{payer_name} repeat-injection criteria: {verdict}.")
    if mpe_year:
        summary.append(f"Steroid in the last 12 months: {mpe_year:g} mg methylprednisolone equivalent.")

    story: list = [paragraph("Progress Review — Trigger Point Injections", styles.title),
                   paragraph(f"<b>Period:</b> {period} · <b>Payer profile:</b> {text(profile)}", styles.body),
                   paragraph(" ".join(summary), styles.body)]

    story += [paragraph("Repeat-injection criteria", styles.heading),
              grid([["Criterion", "Status", "Detail"]]
                   + [[name, "met" if ok else "NOT MET" if ok is False else "unknown", detail]
                      for name, ok, detail in criteria],
                   [2.0 * inch, 0.8 * inch, WIDTH - 2.8 * inch], styles)]

    story += [paragraph("Pain over time", styles.heading), pain_chart(visits)]

    story.append(paragraph("Sustained relief (responders: ≥ 30% moderate, ≥ 50% substantial)", styles.heading))
    if period_reliefs:
        story.append(grid(
            [["Measured before the visit of", "Pain then", "Index pain (first injection)", "Relief", "Responder"]]
            + [[_short_date(r.measured_date), str(r.measured_pain), f"{r.index_pain} on {_short_date(r.index_date)}",
                f"{r.relief_pct:.0f}%" if r.relief_pct is not None else "not defined (index pain 0)",
                "—" if r.relief_pct is None else "substantial (≥ 50%)" if r.relief_pct >= SUBSTANTIAL_PCT
                else "moderate (≥ 30%)" if r.relief_pct >= RESPONDER_PCT else "no"]
               for r in period_reliefs]
            + [["Responders", "", "", f"{moderate} of {len(judged_reliefs)} ≥ 30%", f"{substantial} ≥ 50%"]],
            [1.6 * inch, 0.8 * inch, 1.9 * inch, 1.2 * inch, WIDTH - 5.5 * inch], styles))
    else:
        story.append(paragraph("Not measurable yet: sustained relief needs a visit after the first injection.",
                               styles.body))

    anesthetic_rows = [["Visits", "Immediate responders (≥ 30%, ≥ 2 points)", "Mean change", "Sessions in 365 days",
                        "Steroid, 12 months"]]
    anesthetic_rows.append([
        str(stats.visits),
        f"{stats.responders} of {stats.defined} ({stats.share:.0%})" if stats.share is not None else "not defined",
        f"{stats.mean_change:+.1f} points ({mean_pct:+.0f}%)" if mean_pct is not None else "—",
        f"{sessions}" + (f" of {rules['sessions_per_year']}" if rules["sessions_per_year"] else ""),
        f"{mpe_year:g} mg MPE",
    ])
    story += [paragraph("Immediate response (5-15 minutes after injection; mostly the anesthetic, not relief)",
                        styles.heading),
              grid(anesthetic_rows, [0.6 * inch, 2.2 * inch, 1.5 * inch, 1.3 * inch, 1.4 * inch], styles),
              paragraph(f"Latest visit ({_short_date(last.date)}): {immediate_response(last)}.", styles.small)]

    rows = [["Date", "Sites", "CPT", "Local anesthetic (% of limit)", "MPE", "Pain", "Next pre",
             "Prior relief", "Function", "HEP", "Days same site"]]
    next_pre = {a.id: b.pain_before for a, b in itertools.pairwise(upto)}
    same_site_days = days_since_same_site(every)
    for visit in visits:
        doses = anesthetic_doses(visit.agents, weight_on(visit, patient), settings)
        la = ", ".join(f"{drug} {mg:g} mg" for drug, mg in dose_by_drug(visit.agents).items()
                       if any(d.drug == drug for d in doses))
        la = f"{la} ({percent_text(combined_fraction(doses))})" if doses else ("dry needling" if not visit.agents else "—")
        pct = percent_change(visit.pain_before, visit.pain_after)
        since_days = same_site_days[visit.id]
        rows.append([
            _short_date(visit.date),
            "; ".join(f"{s.muscle} {s.side[0].upper() if s.side != 'bilateral' else 'bilat'}" for s in visit.sites),
            " ".join(visit.cpt), la, f"{steroid_mpe(visit.agents):g}" if steroid_mpe(visit.agents) else "—",
            f"{visit.pain_before}→{visit.pain_after}" + (f" ({pct:+.0f}%)" if pct is not None else "")
            + (" worse" if visit.pain_after > visit.pain_before else ""),
            str(next_pre.get(visit.id, "—")),
            f"{visit.prior_relief.pct}% / {visit.prior_relief.weeks} wk" if visit.prior_relief else "—",
            ", ".join(f"{s.scale} {s.score:g}" for s in visit.functional_scores) or "—",
            {True: "yes", False: "no", None: "—"}[visit.home_exercise],
            str(since_days) if since_days is not None else "first",
        ])
    story += [paragraph("Visits", styles.heading),
              grid(rows, [0.72 * inch, 1.34 * inch, 0.46 * inch, 1.1 * inch, 0.36 * inch, 0.62 * inch, 0.42 * inch,
                          0.56 * inch, 0.54 * inch, 0.34 * inch, 0.48 * inch], make_styles(8), padding=2.5)]
    complications = [(v.date, c) for v in visits for c in v.complications]
    if complications:
        story.append(paragraph("Complications: " + text("; ".join(f"{_short_date(d)} {c}" for d, c in complications)),
                               styles.body))

    outcomes = muscle_outcomes(visits)
    best = max((o for o in outcomes if o.mean_reduction_pct is not None), key=lambda o: o.mean_reduction_pct,
               default=None)
    story += [paragraph("Muscles", styles.heading),
              grid([["Muscle", "Visits injected", "Mean immediate reduction (5-15 min) at those visits"]]
                   + [[o.muscle + (" (largest immediate reduction)" if best and o is best else ""), str(o.visits),
                       f"{o.mean_reduction_pct:.0f}%" if o.mean_reduction_pct is not None else "not defined"]
                      for o in outcomes],
                   [2.6 * inch, 1.2 * inch, WIDTH - 3.8 * inch], styles)]

    story.append(paragraph("Function", styles.heading))
    if trend:
        rows = [["Scale", "Range", "Scores over time", "Change", "Direction"]]
        for scale, points in trend.items():
            bounds = FUNCTION_SCALES.get(scale)
            change = points[-1][1] - points[0][1]
            direction = function_change(scale, points[0][1], points[-1][1]).verdict if len(points) > 1 else "—"
            scores = [f"{_short_date(d)}: {s:g}" for d, s in points]
            # a row per SCORES_PER_ROW scores: a table row cannot break across pages, and a patient seen
            # every week for years has more scores than one page holds
            for start in range(0, len(scores), SCORES_PER_ROW):
                shown = ", ".join(scores[start:start + SCORES_PER_ROW])
                rows.append([scale, f"{bounds[0]:g}-{bounds[1]:g}" if bounds else "—", shown, f"{change:+g}",
                             direction] if start == 0 else [f"{scale} (cont.)", "", shown, "", ""])
        story.append(grid(rows, [0.6 * inch, 0.6 * inch, 4.1 * inch, 0.7 * inch, 1.0 * inch], styles))
    else:
        story.append(paragraph("No functional scores recorded.", styles.body))

    story.append(paragraph(
        "Sustained relief: pain before a later visit against the index pain before the first injection; responder "
        "≥ 30% (moderate), ≥ 50% (substantial) (IMMPACT 2008). Immediate responder: ≥ 30% and ≥ 2-point reduction "
        "5-15 minutes after (Farrar 2001), mostly the anesthetic. Function: change against each scale's smallest "
        "important change (NDI 7.5, ODI 10, PSFS 2, LEFS 9). Percent change is not defined "
        "from a baseline of 0. Next visit pre: the pain score before the following injection, the best measure "
        "of how long relief lasted. MPE: methylprednisolone equivalents.", styles.small))
    return render(story, page, styles, title=f"Progress review {patient.id}", author=clinic.name,
                  subject=f"Trigger point injections {period}")
