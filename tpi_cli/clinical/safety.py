"""Safety and payer checks for a visit, as pure functions over the patient, the visit and its history.

Each check returns findings: a *refusal* stops the visit unless the clinician gives an override
reason; a *warning* is stored on the record. Limits come from the settings (defaults and sources in
tpi_cli/settings.py and tpi_cli/vocab/drugs.toml, from clinical-reference.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from tpi_cli import vocab
from tpi_cli.clinical.doses import AnestheticDose, anesthetic_doses, combined_fraction, has_steroid, steroid_mpe
from tpi_cli.models import Patient, Visit, side_pairs
from tpi_cli.settings import Settings

YEAR = dt.timedelta(days=365)

# check names, as stored in a visit's `overrides`
LOCAL_ANESTHETIC_DOSE = "local anesthetic dose"
ALLERGY = "allergy"
STEROID_EXPOSURE = "steroid exposure"


class Finding(NamedTuple):
    check: str
    message: str


@dataclass
class Assessment:
    refusals: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _in_trailing_year(history: Sequence[Visit], day: dt.date) -> list[Visit]:
    start = day - YEAR
    return [v for v in history if start < v.date <= day]


def payer_profile(patient: Patient, settings: Settings) -> str:
    return patient.payer or settings["payer.default"]


# --- the checks ------------------------------------------------------------------------------------


def check_anesthetic_dose(patient: Patient, visit: Visit, settings: Settings) -> Assessment:
    result = Assessment()
    doses = anesthetic_doses(visit.agents, patient.weight_kg, settings)
    if not doses:
        return result
    if patient.weight_kg is None:
        result.warnings.append(
            "No weight recorded: local anesthetic checked against the absolute reference limit only; "
            "record it with `tpi patient update ID --weight-kg KG`."
        )
    total = combined_fraction(doses)
    refuse_at = settings["limits.anesthetic_refuse_pct"] / 100
    warn_at = settings["limits.anesthetic_warn_pct"] / 100
    if total > refuse_at + 1e-9:
        result.refusals.append(Finding(LOCAL_ANESTHETIC_DOSE, f"{_dose_figures(doses, total, patient)}; over the "
                                                              "reference limit"))
    elif total > warn_at + 1e-9:
        result.warnings.append(f"Local anesthetic near the reference limit: {_dose_figures(doses, total, patient)}.")
    return result


def _dose_figures(doses: Sequence[AnestheticDose], total: float, patient: Patient) -> str:
    """'lidocaine 250 mg is 111% of 225 mg max for 50 kg (4.5 mg/kg × 50 kg; reference limit from …)'."""
    weight = f" for {patient.weight_kg:g} kg" if patient.weight_kg is not None else ""
    sources = "; ".join(dict.fromkeys(vocab.drugs()[d.drug].source for d in doses))
    if len(doses) == 1:
        dose = doses[0]
        return (f"{dose.label} {dose.dose_mg:g} mg is {total:.0%} of {dose.limit.max_mg:g} mg max{weight}"
                f" ({dose.limit.basis}; reference limit from {sources})")
    parts = " + ".join(f"{d.label} {d.dose_mg:g} mg ({d.fraction:.0%} of {d.limit.max_mg:g} mg)" for d in doses)
    return f"{parts} = {total:.0%} of the combined reference limit{weight} (doses add up; limits from {sources})"


def check_allergies(patient: Patient, visit: Visit) -> Assessment:
    result = Assessment()
    given = {agent.drug for agent in visit.agents}
    with_epinephrine = any(agent.epinephrine for agent in visit.agents)
    for allergy in patient.allergies:
        for drug in sorted(vocab.drug_names_matching(allergy) & given):
            drug_class = vocab.drugs()[drug].drug_class
            result.refusals.append(Finding(
                ALLERGY, f"{drug} ({drug_class}) matches the recorded allergy {allergy!r}",
            ))
        lowered = allergy.lower()
        # clinical-reference.md §4: epinephrine solutions and Novocain hold sulfite; multi-dose vials paraben.
        if "sulfite" in lowered and (with_epinephrine or "procaine" in given):
            result.warnings.append(
                f"Recorded allergy {allergy!r}: epinephrine solutions and procaine (Novocain) contain sulfite."
            )
        if "paraben" in lowered and any(vocab.drugs()[d].is_local_anesthetic for d in given):
            result.warnings.append(
                f"Recorded allergy {allergy!r}: multi-dose anesthetic vials contain methylparaben; "
                "use a preservative-free single-dose vial."
            )
    return result


def check_bleeding_risk(patient: Patient) -> Assessment:
    result = Assessment()
    if patient.anticoagulated:
        # ASRA-ANTICOAG-2018 rates TPI low bleeding risk: flag, never block.
        result.warnings.append(
            "Anticoagulated patient: bruising and bleeding more likely (TPI is low bleeding risk, "
            "ASRA 2018); hold pressure 10 minutes."
        )
    return result


def check_steroid(patient: Patient, visit: Visit, recent: Sequence[Visit], settings: Settings) -> Assessment:
    """RECENT: the patient's other visits in the 365 days up to this one."""
    result = Assessment()
    if not has_steroid(visit.agents):
        return result
    this_visit = steroid_mpe(visit.agents)
    year = this_visit + sum(steroid_mpe(v.agents) for v in recent)
    year = round(year, 1)
    summary = f"{year:g} mg MPE in the 365 days to {visit.date.isoformat()} ({this_visit:g} mg this visit)"
    refuse = settings["limits.steroid_refuse_mpe"]
    high, warn = settings["limits.steroid_high_mpe"], settings["limits.steroid_warn_mpe"]
    if refuse and year > refuse:
        result.refusals.append(Finding(STEROID_EXPOSURE, f"{summary} is over the clinic's limit of {refuse:g} mg"))
    elif year > high:
        result.warnings.append(
            f"Steroid exposure: {summary}, above {high:g} mg (proposed yearly cap, Brown-Beresford 2022)."
        )
    elif year > warn:
        result.warnings.append(f"Steroid exposure: {summary}, above {warn:g} mg (Brown-Beresford 2022).")

    interval = settings["limits.steroid_site_interval_days"]
    here = side_pairs(visit.sites)
    for past in recent:
        days = (visit.date - past.date).days
        if 0 <= days < interval and has_steroid(past.agents):
            for muscle, side in sorted(here & side_pairs(past.sites)):
                result.warnings.append(
                    f"Steroid into {side} {muscle} again after {days} days (< {interval} days between steroid "
                    "injections at one site)."
                )
    if patient.diabetic:
        result.warnings.append(
            "Diabetic patient given a steroid: blood sugar rises for 2-5 days (Shin 2020); "
            "check it more often for 3-5 days."
        )
    if patient.pregnant:
        result.warnings.append("Pregnant patient given a steroid: avoid steroid in pregnancy; prefer lidocaine alone.")
    return result


def check_pregnancy_anesthetic(patient: Patient, visit: Visit) -> Assessment:
    result = Assessment()
    others = sorted({a.drug for a in visit.agents if vocab.drugs()[a.drug].is_local_anesthetic} - {"lidocaine"})
    if patient.pregnant and others:
        result.warnings.append(f"Pregnant patient given {', '.join(others)}: lidocaine is preferred in pregnancy.")
    return result


def check_pneumothorax(visit: Visit) -> Assessment:
    result = Assessment()
    risky = [site for site in visit.sites if vocab.muscles()[site.muscle].pneumothorax]
    if not risky:
        return result
    names = ", ".join(f"{s.side} {s.muscle}" for s in risky)
    if visit.ultrasound:
        result.warnings.append(f"Pneumothorax risk site ({names}), under ultrasound guidance.")
    else:
        result.warnings.append(
            f"PNEUMOTHORAX RISK: {names} without ultrasound guidance; use ultrasound or a tangential "
            "approach over a rib, and tell the patient the breathing warning signs."
        )
    return result


def check_payer(patient: Patient, visit: Visit, recent: Sequence[Visit], settings: Settings) -> Assessment:
    """RECENT: the patient's other visits in the 365 days up to this one."""
    result = Assessment()
    profile = payer_profile(patient, settings)
    rules = settings.payer(profile)
    name = "Medicare (LCD 2024)" if profile == "medicare" else f"{profile} payer profile"

    if any(v.date == visit.date for v in recent):
        result.warnings.append(
            f"Another visit on {visit.date.isoformat()}: billing counts one session a day (one 20552/20553)."
        )
    sessions = {v.date for v in recent} | {visit.date}
    if rules["sessions_per_year"] and len(sessions) > rules["sessions_per_year"]:
        result.warnings.append(
            f"{name}: {len(sessions)} sessions in the 365 days to {visit.date.isoformat()}; the profile allows "
            f"{rules['sessions_per_year']} per rolling 12 months."
        )

    here = side_pairs(visit.sites)
    last_injected: dict[tuple[str, str], dt.date] = {}
    for past in recent:
        for pair in side_pairs(past.sites) & here:
            last_injected[pair] = max(past.date, last_injected.get(pair, past.date))
    repeat_pairs = set(last_injected)
    if rules["same_site_days"]:
        for (muscle, side), last in sorted(last_injected.items()):
            days = (visit.date - last).days
            if days < rules["same_site_days"]:
                result.warnings.append(
                    f"{name}: {side} {muscle} was injected {days} days ago ({last.isoformat()}); the profile "
                    f"wants at least {rules['same_site_days']} days at the same location."
                )
    if repeat_pairs:
        bar_pct, bar_weeks = rules["min_relief_pct"], rules["min_relief_weeks"]
        if bar_pct or bar_weeks:
            relief = visit.prior_relief
            if relief is None:
                result.warnings.append(
                    f"{name}: repeat injection without recorded prior relief; the payer wants ≥ {bar_pct}% relief "
                    f"for ≥ {bar_weeks} weeks (--prior-relief-pct, --prior-relief-weeks)."
                )
            elif relief.pct < bar_pct or relief.weeks < bar_weeks:
                result.warnings.append(
                    f"{name}: repeat criteria not met: {relief_against_bar(relief.pct, relief.weeks, bar_pct, bar_weeks)}."
                )
            if not visit.functional_scores:
                result.warnings.append(
                    f"{name}: repeat injection without a functional score; record one (--function NDI=24)."
                )
        if rules["requires_home_exercise"] and visit.home_exercise is not True:
            result.warnings.append(
                f"{name}: repeat injection needs a home exercise or rehab programme on record (--home-exercise)."
            )

    if visit.ultrasound and not rules["covers_ultrasound"]:
        result.warnings.append(f"{name} does not cover ultrasound guidance (76942; called investigational).")
    if not visit.agents and not rules["covers_dry_needling"]:
        result.warnings.append(f"{name} does not cover dry needling (20560/20561).")
    regions = sorted({vocab.muscles()[s.muscle].region for s in visit.sites})
    if rules["single_region"] and len(regions) > 1:
        result.warnings.append(
            f"{name}: {len(regions)} anatomical regions in one session ({', '.join(regions)}); the payer "
            "does not cover injections into several regions in one session."
        )
    return result


def relief_against_bar(pct: int, weeks: int, bar_pct: int, bar_weeks: int) -> str:
    """'relief 40% (< 50%) for 3 weeks (< 6)' — clinical-reference.md §7 wording."""
    pct_text = f"relief {pct}% ({'<' if pct < bar_pct else '≥'} {bar_pct}%)"
    weeks_text = f"for {weeks} weeks ({'<' if weeks < bar_weeks else '≥'} {bar_weeks})"
    return f"{pct_text} {weeks_text}"


def check_documentation(visit: Visit) -> Assessment:
    result = Assessment()
    if visit.consent is None:
        result.warnings.append(
            "Consent not documented: give --consent verbal|written or set `tpi config set consent.default`."
        )
    if "M79.1" in visit.diagnoses:
        result.warnings.append("M79.1 is not billable since FY2023; use M79.10, M79.11, M79.12 or M79.18.")
    return result


def assess(patient: Patient, visit: Visit, history: Sequence[Visit], settings: Settings) -> Assessment:
    """Every check, in the order a clinician reads them: refusals first, then warnings."""
    combined = Assessment()
    recent = _in_trailing_year(history, visit.date)
    for part in (
        check_allergies(patient, visit),
        check_anesthetic_dose(patient, visit, settings),
        check_steroid(patient, visit, recent, settings),
        check_bleeding_risk(patient),
        check_pregnancy_anesthetic(patient, visit),
        check_pneumothorax(visit),
        check_payer(patient, visit, recent, settings),
        check_documentation(visit),
    ):
        combined.refusals += part.refusals
        combined.warnings += part.warnings
    return combined
