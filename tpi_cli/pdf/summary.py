"""The visit summary: the procedure note for the chart and for payers."""

from __future__ import annotations

from reportlab.lib.units import inch
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

from tpi_cli import vocab
from tpi_cli.clinical.coding import CPT_WORDING, suggest_cpt
from tpi_cli.clinical.doses import anesthetic_doses, combined_fraction, percent_text, reference_limit, steroid_mpe
from tpi_cli.clinical.hcpcs import steroid_lines
from tpi_cli.clinical.outcomes import pain_change_category, percent_change
from tpi_cli.clinical.safety import payer_profile
from tpi_cli.models import Patient, Visit
from tpi_cli.parsing import format_concentration, format_number
from tpi_cli.pdf import tagging
from tpi_cli.pdf.bodymap import body_map
from tpi_cli.pdf.common import (
    WIDTH,
    Clinic,
    Page,
    Styles,
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
from tpi_cli.vocab.codes import ICD10_DESCRIPTIONS


def _weight_text(visit: Visit, patient: Patient) -> str:
    weight = weight_on(visit, patient)
    if weight is None:
        return "not recorded"
    if patient.weight_kg is not None and patient.weight_kg != weight:
        return f"{weight:g} kg at this visit (now {patient.weight_kg:g} kg)"
    return f"{weight:g} kg"


def _yes_no(value: bool | None, yes: str = "yes", no: str = "no") -> str:
    return "not recorded" if value is None else yes if value else no


def _heading(title: str, styles: Styles) -> Paragraph:
    return paragraph(text(title), styles.heading)


def _facts(rows: list[tuple[str, str]], styles: Styles) -> Table:
    """Label-value rows; values are markup (already escaped)."""
    cells = [[paragraph(text(label), styles.cell_bold), paragraph(value, styles.cell)] for label, value in rows]
    table = tagging.headers(Table(cells, colWidths=[1.6 * inch, WIDTH - 1.6 * inch], hAlign="LEFT"), columns=1)
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _labelled(rows: list[tuple[str, str]], styles: Styles) -> list:
    """Label: value paragraphs that flow onto the next page (a table row cannot split, a paragraph can)."""
    return [paragraph(f"<b>{text(label)}:</b> {value}", styles.body) for label, value in rows]


def _anticoagulant(visit: Visit) -> str:
    if visit.anticoagulant is None and visit.anticoagulant_last_dose is None and visit.inr is None:
        return "not recorded at this visit"
    parts = [text(visit.anticoagulant or "drug not named"),
             f"last dose {text(visit.anticoagulant_last_dose)}" if visit.anticoagulant_last_dose else
             "last dose not recorded",
             f"INR {visit.inr:g}" if visit.inr is not None else "INR not recorded"]
    return " · ".join(parts)


def _status(visit: Visit, styles: Styles) -> list:
    """The marks a reader must see first: voided, amended, signed or not."""
    marks = []
    if visit.voided is not None:
        marks.append(f"<b>VOIDED</b> {visit.voided.at:%Y-%m-%d %H:%M} UTC by {text(visit.voided.by)}: "
                     f"{text(visit.voided.reason)}. Entered in error: not a record of care.")
    if visit.amendments:
        last = visit.amendments[-1]
        marks.append(f"<b>AMENDED</b> {len(visit.amendments)} time{'s' if len(visit.amendments) != 1 else ''}, "
                     f"last {last.at:%Y-%m-%d %H:%M} UTC by {text(last.by)} (see Amendments).")
    marks.append(f"<b>Signed</b> by {text(visit.signed.name)} {visit.signed.at:%Y-%m-%d %H:%M} UTC."
                 if visit.signed is not None else "<b>NOT SIGNED</b>: this note awaits the clinician's signature.")
    style = styles.warning if visit.voided or visit.amendments or visit.signed is None else styles.body
    return [paragraph(" ".join(marks), style)]


def _addenda_and_signature(visit: Visit, styles: Styles) -> list:
    story = [_heading("Addenda", styles)]
    story += [paragraph(f"<b>{a.at:%Y-%m-%d %H:%M} UTC, {text(a.by)}:</b> {text(a.text)}", styles.body)
              for a in visit.addenda] or [paragraph("None.", styles.body)]
    story.append(_heading("Signature", styles))
    if visit.signed is not None:
        story.append(paragraph(f"Electronically signed by <b>{text(visit.signed.name)}</b> (user "
                               f"{text(visit.signed.by)}) on {visit.signed.at:%Y-%m-%d at %H:%M} UTC.", styles.body))
    else:
        story.append(paragraph("Not signed.", styles.warning))
    return story


def _agents_table(patient: Patient, visit: Visit, settings: Settings, styles: Styles) -> list:
    rows = [["Drug", "Concentration", "Volume", "Dose", "% of reference limit", "MPE"]]
    for agent in visit.agents:
        drug = vocab.drugs()[agent.drug]
        conc = format_concentration(agent.concentration) if agent.concentration is not None else "—"
        share, mpe = "—", "—"
        if drug.is_local_anesthetic and agent.dose_mg is not None:
            limit = reference_limit(agent.drug, weight_on(visit, patient), agent.epinephrine, settings)
            share = f"{percent_text(agent.dose_mg / limit.max_mg)} of {limit.max_mg:g} mg ({limit.basis})"
        if drug.is_steroid:
            mpe = f"{steroid_mpe([agent]):g} mg"
        name = agent.drug + (" with epinephrine" if agent.epinephrine else "") + f" ({drug.drug_class})"
        dose = f"{agent.dose_mg:g} mg" if agent.dose_mg is not None else "—"
        rows.append([name, conc, f"{format_number(agent.volume_ml)} mL", dose, share, mpe])
    story = [grid(rows, [1.6 * inch, 1.1 * inch, 0.72 * inch, 0.6 * inch, 2.38 * inch, 0.6 * inch], styles)]
    doses = anesthetic_doses(visit.agents, weight_on(visit, patient), settings)
    if len(doses) > 1:
        story.append(paragraph(f"Local anesthetics together: {percent_text(combined_fraction(doses))} of the "
                               "combined reference limit (doses add up: Σ dose / limit).", styles.small))
    if weight_on(visit, patient) is None and doses:
        story.append(paragraph("No weight recorded: limits are the absolute maxima.", styles.small))
    return story


def build_visit_summary(patient: Patient, visit: Visit, history: list[Visit], settings: Settings,
                        clinic: Clinic) -> bytes:
    styles = make_styles(9.5)
    page = Page(clinic=clinic.name or "Trigger point injection record", clinic_lines=clinic.contact_line,
                patient_line=patient_line(patient, visit.date), footer="", page_label="Page {page} of {pages}",
                size=styles.body.fontSize)
    dry = not visit.agents
    story: list = [paragraph("Dry Needling — Procedure Note" if dry else "Trigger Point Injection — Procedure Note",
                             styles.title)]
    story += _status(visit, styles)

    clock = visit.procedure_time.strftime("%H:%M") if visit.procedure_time else "time not recorded"
    risks = [name for name, on in (("anticoagulated", patient.anticoagulated), ("diabetic", patient.diabetic),
                                   ("pregnant", patient.pregnant)) if on]
    story.append(_facts([
        ("Patient", (f"{text(patient.name)} · ID {text(patient.id)} · born {long_date(patient.dob)} · "
                    f"{text(patient.sex)}")),
        ("Weight", _weight_text(visit, patient)),
        ("Allergies", text(", ".join(patient.allergies)) or "none recorded"),
        ("Risks", ", ".join(risks) or "none recorded"),
        ("Anticoagulant", _anticoagulant(visit)),
        ("Payer profile", text(payer_profile(patient, settings))),
        ("Date · time · clinician", f"{long_date(visit.date)} · {clock} · {text(visit.clinician or 'not recorded')}"),
        ("Visit ID", text(visit.id)),
    ], styles))

    story.append(_heading("Indication and diagnoses (ICD-10-CM)", styles))
    if visit.diagnoses:
        story.append(grid([["Code", "Description"]] + [[code, ICD10_DESCRIPTIONS.get(code, "")]
                                                        for code in visit.diagnoses],
                          [1.0 * inch, WIDTH - 1.0 * inch], styles))
    else:
        story.append(paragraph("No diagnosis recorded.", styles.warning))
    story.append(_heading("Medical necessity and consent", styles))
    story += _labelled([
        ("Trigger-point findings", text(", ".join(visit.findings)) if visit.findings else "not recorded"),
        ("Conservative care tried", text(visit.conservative_care or "not recorded")),
        ("Consent", text(visit.consent or "not documented")),
        ("Risks discussed", text(visit.risks_discussed or "not recorded")),
    ], styles)

    story.append(_heading("Sites", styles))
    # the map the page's full width (40 sites do not fit beside a table, nor a legible head), and before the
    # table: a map cannot split across pages and a table can, so a long list leaves no half-empty page
    story += [body_map(visit.sites, width=WIDTH, height=3.5 * inch), Spacer(1, 4)]
    site_rows = [["#", "Muscle", "Side", "Points", "Volume", "Region"]]
    for number, site in enumerate(visit.sites, start=1):
        muscle = vocab.muscles()[site.muscle]
        region = muscle.region + (" · pleura nearby" if muscle.pneumothorax else "")
        volume = f"{format_number(site.volume_ml)} mL" if site.volume_ml is not None else "—"
        site_rows.append([str(number), site.muscle, site.side, str(site.points), volume, region])
    story.append(grid(site_rows, [0.3 * inch, 2.3 * inch, 0.8 * inch, 0.6 * inch, 0.8 * inch, 2.2 * inch], styles))
    if visit.agents and all(site.volume_ml is None for site in visit.sites):
        story.append(paragraph("Volume per site not recorded.", styles.small))
    if any(site.side == "bilateral" and site.volume_ml is not None for site in visit.sites):
        story.append(paragraph("A bilateral site's volume and points are over both sides together.", styles.small))

    story.append(_heading("Agents", styles))
    if visit.agents:
        story += _agents_table(patient, visit, settings, styles)
    else:
        story.append(paragraph("No injectate: dry needling.", styles.body))

    story.append(_heading("Procedure", styles))
    pct = percent_change(visit.pain_before, visit.pain_after)
    change = visit.pain_after - visit.pain_before
    pain = f"{visit.pain_before} → {visit.pain_after} on the 0-10 numeric rating scale ({change:+d} points"
    pain += f", {pct:+.0f}%; {pain_change_category(visit.pain_before, visit.pain_after)})" if pct is not None else "; % not defined from a baseline of 0)"
    relief = (f"{visit.prior_relief.pct}% for {visit.prior_relief.weeks} weeks" if visit.prior_relief
              else "not recorded")
    scores = ", ".join(f"{s.scale} {s.score:g}" for s in visit.functional_scores) or "not recorded"
    handouts = "; ".join(f"{g.at:%Y-%m-%d %H:%M} UTC ({g.lang}{', large print' if g.large_print else ''})"
                         for g in visit.handout_given) or "not recorded"
    story += _labelled([
        ("Time-out", _yes_no(visit.time_out, "done", "not done")),
        ("Skin prep", text(visit.skin_prep or "not recorded")),
        ("Needle", text(visit.needle or "not recorded")),
        ("Guidance", "ultrasound" if visit.ultrasound else "landmark (no ultrasound)"),
        ("Aspiration", _yes_no(visit.aspiration, "aspirated before each injection, no blood", "not done")),
        ("Twitch response", _yes_no(visit.twitch, "local twitch response seen", "none seen")),
        ("Blood loss", text(visit.blood_loss or "not recorded")),
        ("Complications", text("; ".join(visit.complications) or "none recorded")),
        ("Tolerance", text(visit.tolerance or "not recorded")),
        ("Pain before → after", pain),
        ("Post-procedure check", text(visit.observation or "not recorded")),
        ("Disposition", text(visit.disposition or "not recorded")),
        ("Aftercare handout", handouts),
        ("Follow-up", long_date(visit.follow_up) if visit.follow_up else "not set"),
        ("Previous injection", f"relief {text(relief)}"),
        ("Function", text(scores)),
        ("Home exercise / rehab", _yes_no(visit.home_exercise, "takes part", "does not take part")),
    ], styles)
    if visit.observation is None and any(vocab.muscles()[site.muscle].pneumothorax for site in visit.sites):
        story.append(paragraph("Chest-wall, neck or upper-back sites: no post-procedure check (breathing, breath "
                               "sounds) recorded.", styles.warning))
    story.append(_heading("Notes", styles))
    story.append(paragraph(text(visit.notes or "—"), styles.body))

    story.append(_heading("Billing (CPT)", styles))
    rule = suggest_cpt(visit.sites, visit.agents, visit.ultrasound).rule
    story.append(grid([["Code", "Meaning (our wording)"]] + [[code, CPT_WORDING.get(code, "")] for code in visit.cpt],
                      [1.0 * inch, WIDTH - 1.0 * inch], styles))
    story.append(paragraph(f"Rule: {text(rule)}. One 20552/20553 per day; left and right of a muscle count as two.",
                           styles.small))
    hcpcs = steroid_lines(visit.agents, visit.steroid_vial_ml)
    if hcpcs:
        rows = [["HCPCS", "Units", "For"]]
        for line in hcpcs:
            code = f"{line.code}-{line.modifier}" if line.modifier else line.code
            what = (f"{line.wasted_mg:g} mg {line.drug} discarded from the single-dose vial" if line.modifier == "JW"
                    else f"{line.mg:g} mg {line.drug}" + (", none discarded" if line.modifier == "JZ" else ""))
            rows.append([code, str(line.units), what])
        story.append(grid(rows, [1.0 * inch, 0.6 * inch, WIDTH - 1.6 * inch], styles))
        if visit.steroid_vial_ml is None:
            story.append(paragraph("JW/JZ: vial size not recorded.", styles.small))
        story.append(paragraph("J-codes and units from the HCPCS descriptors; check them with the payer.", styles.small))

    story.append(_heading("Safety checks", styles))
    if visit.overrides:
        story.append(grid([["Check overridden", "Reason given"]] + [[o.check, o.reason] for o in visit.overrides],
                          [2.0 * inch, WIDTH - 2.0 * inch], styles))
    if visit.warnings:
        story += [paragraph(text(w), styles.bullet, bulletText="•") for w in visit.warnings]
    if not visit.overrides and not visit.warnings:
        story.append(paragraph("No warnings.", styles.body))
    earlier = [v for v in history if v.date < visit.date]
    if earlier:
        story.append(paragraph(f"Previous visits on record: {len(earlier)}; last {long_date(earlier[0].date)}.",
                               styles.small))

    closing = [_heading("Amendments", styles)]
    if visit.amendments:
        # paragraphs, not table rows: a long change (a 20,000-character note) flows onto the next page
        for amendment in visit.amendments:
            closing.append(paragraph(f"<b>{amendment.at:%Y-%m-%d %H:%M} UTC, {text(amendment.by)}:</b> "
                                     f"{text(amendment.reason)}", styles.body))
            closing += [paragraph(f"{text(key)}: {text(_short(change.get('from')))} → {text(_short(change.get('to')))}",
                                  styles.bullet, bulletText="–") for key, change in amendment.changes.items()]
    else:
        closing.append(paragraph("None: this is the record as first logged.", styles.body))
    recorded = visit.recorded_at.strftime("%Y-%m-%d %H:%M UTC") if visit.recorded_at else "unknown"
    closing += [Spacer(1, 6), paragraph(f"Logged {recorded} by {text(visit.recorded_by or 'unknown')} with tpi. "
                                        "Dose limits are reference limits, not evidence-based maxima (ASRA 2020).",
                                        styles.small)]
    closing += _addenda_and_signature(visit, styles)
    # the signature never stands alone on a last page: it stays with the amendments and addenda it attests
    story.append(KeepTogether(closing))
    return render(story, page, styles, title=f"Procedure note {visit.id}", author=clinic.name,
                  subject=f"Trigger point injection, {visit.date.isoformat()}")


def _short(value: object) -> str:
    """A changed value in a few words: lists of sites and agents by their main word."""
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict) and "muscle" in item:
                volume = f" {format_number(item['volume_ml'])} mL" if item.get("volume_ml") is not None else ""
                parts.append(f"{item['muscle']} {item.get('side', '')} ×{item.get('points', 1)}{volume}")
            elif isinstance(item, dict):
                main = item.get("drug") or item.get("scale")
                extra = item.get("side") or (f"{item['volume_ml']:g} mL" if "volume_ml" in item else item.get("score"))
                parts.append(f"{main} {extra}".strip())
            else:
                parts.append(str(item))
        return ", ".join(parts) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return "—" if value is None else str(value)
