"""Safety and payer checks for a visit, as pure functions over the patient, the visit and its history.

Each check returns findings: a *refusal* stops the visit unless the clinician gives an override
reason; a *warning* is stored on the record. Limits come from the settings (defaults and sources in
tpi_cli/settings.py and tpi_cli/vocab/drug_table.py, from clinical-reference.md).

Every message is chart language: what was found and why it matters, with the source that gives its
number or "clinic policy" — never a command-line flag or an instruction to whoever is typing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from tpi_cli import vocab
from tpi_cli.clinical.doses import (
    AnestheticDose,
    anesthetic_doses,
    combined_fraction,
    dosing_weight,
    has_steroid,
    percent_text,
    steroid_mpe,
    unsold_strength,
)
from tpi_cli.errors import InputError
from tpi_cli.models import Patient, Visit, side_pairs
from tpi_cli.settings import Settings
from tpi_cli.vocab.codes import ICD10_CM_START

YEAR = dt.timedelta(days=365)
ADULT_AGE = 18  # clinical-reference.md §4 and §9: a patient under 18 needs a recorded weight
BUPIVACAINE_MIN_AGE = 12  # Marcaine label: not recommended under 12 (clinical-reference.md §9)

# check names, as stored in a visit's `overrides`
LOCAL_ANESTHETIC_DOSE = "local anesthetic dose"
DAILY_DOSE = "daily dose"
AGE = "age"
ALLERGY = "allergy"
STEROID_EXPOSURE = "steroid exposure"

LA_LIMIT_SOURCE = "the labels: doses of local anesthetics add up"


class Finding(NamedTuple):
    check: str
    message: str


@dataclass
class Assessment:
    refusals: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Facts(NamedTuple):
    """What the checks ask of a visit about its sites and agents."""

    pairs: frozenset[tuple[str, str]]  # side_pairs of its sites
    steroid: bool  # a steroid among its agents
    mpe: float  # steroid_mpe of its agents
    regions: frozenset[str]  # the body regions of its sites


def _facts_of(visit: Visit) -> Facts:
    muscles = vocab.muscles()
    return Facts(frozenset(side_pairs(visit.sites)), has_steroid(visit.agents), steroid_mpe(visit.agents),
                 frozenset(muscles[s.muscle].region for s in visit.sites))


class VisitFacts:
    """Facts of visits, each made once while the visit is kept: every new visit of a patient is checked against
    the patient's year of earlier visits, which would otherwise be taken apart again for each new one (an import).

    Keyed by the visit object itself (held here, so its id is never another's): a visit is not changed once built.
    """

    def __init__(self) -> None:
        self._known: dict[int, tuple[Visit, Facts]] = {}

    def __call__(self, visit: Visit) -> Facts:
        known = self._known.get(id(visit))
        if known is not None and known[0] is visit:
            return known[1]
        facts = _facts_of(visit)
        self._known[id(visit)] = (visit, facts)
        return facts

    def keep_only(self, visits: Iterable[Visit]) -> None:
        """Forget every visit but VISITS (those still to be asked about)."""
        kept = {id(visit) for visit in visits}
        if len(self._known) > len(kept):
            self._known = {key: known for key, known in self._known.items() if key in kept}


def _in_trailing_year(history: Sequence[Visit], day: dt.date) -> list[Visit]:
    start = day - YEAR
    return [v for v in history if start < v.date <= day]


def counted(history: Sequence[Visit]) -> list[Visit]:
    """Visits the checks count: a voided visit (entered in error) counts for nothing."""
    return [v for v in history if getattr(v, "voided", None) is None]


def same_day(history: Sequence[Visit], visit: Visit) -> list[Visit]:
    return [v for v in history if v.date == visit.date and v.id != visit.id]


def age_on(dob: dt.date, day: dt.date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def payer_profile(patient: Patient, settings: Settings) -> str:
    return patient.payer or settings["payer.default"]


# --- doses -----------------------------------------------------------------------------------------


def check_anesthetic_dose(patient: Patient, visit: Visit, earlier_today: Sequence[Visit],
                          settings: Settings) -> Assessment:
    """The additive local anesthetic load of VISIT and EARLIER_TODAY (the patient's other visits that day)."""
    result = Assessment()
    own = anesthetic_doses(visit.agents, patient.weight_kg, settings)
    if not own:
        return result
    age = age_on(patient.dob, visit.date)
    weight, assumed = dosing_weight(patient.weight_kg, settings)
    if assumed and age < ADULT_AGE:
        raise InputError(
            f"weight: {patient.id} is {age} years old and has no weight recorded; a child's local anesthetic "
            "limit is set by weight (the labels: reduce doses for children), so record the weight first "
            f"(tpi patient update {patient.id} --weight-kg KG)"
        )
    if assumed:
        result.warnings.append(
            f"No weight recorded: local anesthetic limits computed for an assumed {weight:g} kg (clinic policy; "
            "the labels' absolute caps are for a healthy normal-sized adult)."
        )
    agents = [agent for v in earlier_today for agent in v.agents] + list(visit.agents)
    # the visit's own doses, computed above, are the day's when it is the only visit that day
    doses = anesthetic_doses(agents, patient.weight_kg, settings) if earlier_today else own
    total = combined_fraction(doses)
    refuse_at = settings["limits.anesthetic_refuse_pct"] / 100
    warn_at = settings["limits.anesthetic_warn_pct"] / 100
    day = f" over {len(earlier_today) + 1} visits on {visit.date.isoformat()}" if earlier_today else ""
    if total > refuse_at + 1e-9:
        result.refusals.append(Finding(
            LOCAL_ANESTHETIC_DOSE,
            f"{_dose_figures(doses, total, refuse_at, weight, assumed)}{day}; over the reference limit",
        ))
    elif total > warn_at + 1e-9:
        result.warnings.append(
            f"Local anesthetic near the reference limit: {_dose_figures(doses, total, warn_at, weight, assumed)}"
            f"{day}; warned above {warn_at:.0%} (clinic policy)."
        )
    result.refusals += _daily_caps(agents, visit, earlier_today, settings)
    return result


def _daily_caps(agents, visit: Visit, earlier_today: Sequence[Visit], settings: Settings) -> list[Finding]:
    """Caps per 24 hours over every visit of the day (bupivacaine 400 mg, Marcaine label)."""
    findings = []
    totals: dict[str, float] = {}
    for agent in agents:
        if agent.dose_mg is not None:
            totals[agent.drug] = totals.get(agent.drug, 0.0) + agent.dose_mg
    for drug, mg in sorted(totals.items()):
        cap = settings.drug_limit(drug, "max_mg_24h")
        if cap and mg > cap + 1e-9:
            visits = f" over {len(earlier_today) + 1} visits" if earlier_today else ""
            findings.append(Finding(
                DAILY_DOSE,
                f"{drug} {mg:g} mg on {visit.date.isoformat()}{visits} is over {cap:g} mg per 24 hours "
                f"({vocab.drugs()[drug].source})",
            ))
    return findings


def _dose_figures(doses: Sequence[AnestheticDose], total: float, threshold: float, weight: float,
                  assumed: bool) -> str:
    """'lidocaine 250 mg is 111% of 225 mg max for 50 kg (4.5 mg/kg × 50 kg; reference limit from …)'."""
    kg = f" for {weight:g} kg{' (assumed)' if assumed else ''}"
    sources = "; ".join(dict.fromkeys(vocab.drugs()[d.drug].source for d in doses))
    if len(doses) == 1:
        dose = doses[0]
        return (f"{dose.label} {dose.dose_mg:g} mg is {percent_text(total, threshold)} of {dose.limit.max_mg:g} mg "
                f"max{kg} ({dose.limit.basis}; reference limit from {sources})")
    parts = " + ".join(f"{d.label} {d.dose_mg:g} mg ({percent_text(d.fraction)} of {d.limit.max_mg:g} mg)"
                       for d in doses)
    return (f"{parts} = {percent_text(total, threshold)} of the combined reference limit{kg} "
            f"({LA_LIMIT_SOURCE}; limits from {sources})")


def check_strengths(visit: Visit, settings: Settings) -> None:
    """A strength no product is sold in is a likely slip (Kenalog 40%, lidocaine 5%): bad input, not a dose."""
    slips = [why for agent in visit.agents if (why := unsold_strength(agent.drug, agent.concentration, settings))]
    if slips:
        raise InputError("agent: " + "; ".join(dict.fromkeys(slips)))


def check_age(patient: Patient, visit: Visit, settings: Settings) -> Assessment:
    result = Assessment()
    age = age_on(patient.dob, visit.date)
    given = {agent.drug for agent in visit.agents}
    if "bupivacaine" in given and age < BUPIVACAINE_MIN_AGE:
        result.refusals.append(Finding(
            AGE, f"bupivacaine in a patient aged {age}: the Marcaine label does not recommend it under "
                 f"{BUPIVACAINE_MIN_AGE} years",
        ))
    elderly = settings["limits.elderly_age"]
    if elderly and age >= elderly and any(vocab.drugs()[d].is_local_anesthetic for d in given):
        result.warnings.append(
            f"Patient aged {age}: labels ask for reduced doses in elderly or debilitated patients "
            f"(local anesthetic labels; warned from {elderly}, clinic policy)."
        )
    return result


# --- allergies -------------------------------------------------------------------------------------


def check_allergies(patient: Patient, visit: Visit) -> Assessment:
    result = Assessment()
    if not patient.allergies:
        return result
    given = frozenset(agent.drug for agent in visit.agents)
    with_epinephrine = any(agent.epinephrine for agent in visit.agents)
    for allergy in patient.allergies:
        refusals, warnings = _allergy_findings(allergy, given, with_epinephrine)
        result.refusals += refusals
        result.warnings += warnings
    return result


@lru_cache(maxsize=4096)
def _allergy_findings(allergy: str, given: frozenset[str], with_epinephrine: bool
                      ) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """(refusals, warnings) for one recorded ALLERGY: the same for every visit giving the same drugs."""
    refusals: list[Finding] = []
    warnings: list[str] = []
    match = vocab.allergy_match(allergy)
    refused = sorted(match.refused_drugs() & given)
    for drug in refused:
        drug_class = vocab.drugs()[drug].drug_class
        why = ("ester local anesthetics cross-react through PABA (Nesacaine label)" if drug_class == "ester"
               else "tpi refuses any drug of a recorded allergy or its class (clinic policy)")
        refusals.append(Finding(
            ALLERGY, f"{drug} ({drug_class}) matches the recorded allergy {allergy!r}; {why}",
        ))
    named_amides = {d for d in match.named if vocab.drugs()[d].drug_class == "amide"}
    if named_amides and "amide" not in match.classes:
        others = sorted(d for d in given if vocab.drugs()[d].drug_class == "amide" and d not in named_amides)
        if others:
            warnings.append(
                f"Recorded allergy {allergy!r} ({', '.join(sorted(named_amides))}, an amide): "
                f"{', '.join(others)} is also an amide; true cross-reactivity among amides is uncommon, "
                "but the Naropin label contraindicates it with amide-type hypersensitivity."
            )
    # clinical-reference.md §4: epinephrine solutions and Novocain hold sulfite; multi-dose vials paraben.
    if "sulfite" in match.excipients and (with_epinephrine or "procaine" in given):
        warnings.append(
            f"Recorded allergy {allergy!r}: epinephrine solutions and procaine (Novocain) contain sulfite "
            "(labels)."
        )
    if "epinephrine" in match.excipients and with_epinephrine:
        warnings.append(f"Recorded allergy {allergy!r}: an agent was given with epinephrine.")
    if "paraben" in match.excipients and any(vocab.drugs()[d].is_local_anesthetic for d in given):
        warnings.append(
            f"Recorded allergy {allergy!r}: multi-dose local anesthetic vials contain methylparaben "
            "(labels); single-dose vials are preservative-free."
        )
    if not match.known:
        warnings.append(unreadable_allergy(allergy))
    return tuple(refusals), tuple(warnings)


def unreadable_allergy(allergy: str) -> str:
    """The warning for allergy text naming nothing tpi knows (kept as typed, never checked)."""
    close = vocab.allergy_suggestions(allergy)
    hint = f"; closest known names: {', '.join(close)}" if close else ""
    return (f"Recorded allergy {allergy!r} names no drug, brand, class or excipient tpi knows, so tpi cannot "
            f"check the agents against it{hint}.")


def allergy_notes(allergies: Sequence[str]) -> list[str]:
    """Warnings for a patient's allergy list: those tpi cannot check (for `patient add` and `update`)."""
    return [unreadable_allergy(a) for a in allergies if not vocab.allergy_match(a).known]


# --- other precautions -----------------------------------------------------------------------------


def check_bleeding_risk(patient: Patient) -> Assessment:
    result = Assessment()
    if patient.anticoagulated:
        result.warnings.append(
            "Anticoagulated patient: bruising and bleeding are more likely; ASRA-ANTICOAG-2018 classes trigger "
            "point injection as a low bleeding risk procedure."
        )
    return result


def check_steroid(patient: Patient, visit: Visit, recent: Sequence[Visit], settings: Settings,
                  facts: VisitFacts | None = None) -> Assessment:
    """RECENT: the patient's other visits in the 365 days up to this one."""
    result = Assessment()
    facts = facts or VisitFacts()
    own = facts(visit)
    if not own.steroid:
        return result
    this_visit = own.mpe
    per_visit = settings["limits.steroid_visit_warn_mpe"]
    if per_visit and this_visit > per_visit:
        result.warnings.append(
            f"Steroid this visit: {this_visit:g} mg MPE, above {per_visit:g} mg MPE per visit (clinic policy; "
            "Benzon 2024 multisociety guideline: lower doses give similar benefit)."
        )
    year = round(this_visit + sum(facts(v).mpe for v in recent), 1)
    summary = f"{year:g} mg MPE in the 365 days to {visit.date.isoformat()} ({this_visit:g} mg this visit)"
    refuse = settings["limits.steroid_refuse_mpe"]
    warn, early = settings["limits.steroid_warn_mpe"], settings["limits.steroid_early_mpe"]
    if refuse and year > refuse:
        result.refusals.append(Finding(
            STEROID_EXPOSURE, f"{summary} is over the clinic's limit of {refuse:g} mg (clinic policy)",
        ))
    elif warn and year > warn:
        result.warnings.append(
            f"Steroid exposure: {summary}, above {warn:g} mg MPE per year (Kang 2012: lower bone density in "
            "post-menopausal women; Kerezoudis 2018; both epidural)."
        )
    elif early and year > early:
        result.warnings.append(f"Steroid exposure: {summary}, above {early:g} mg (clinic policy early warning).")

    interval = settings["limits.steroid_site_interval_days"]
    here = own.pairs
    for past in recent:
        days = (visit.date - past.date).days
        if 0 <= days < interval and (earlier := facts(past)).steroid:
            for muscle, side in sorted(here & earlier.pairs):
                result.warnings.append(
                    f"Steroid into {side} {muscle} again after {days} days (< {interval} days between steroid "
                    "injections at one site, clinic policy)."
                )
    if patient.diabetic:
        result.warnings.append(
            "Diabetic patient given a steroid: blood glucose peaks about day 1 (Shin 2020) and can stay high "
            "about a week when control is poor (Aleem 2017)."
        )
    if patient.pregnant:
        result.warnings.append(
            "Pregnant patient given a steroid: steroid is avoided in pregnancy."
        )
    return result


def check_pregnancy_anesthetic(patient: Patient, visit: Visit) -> Assessment:
    result = Assessment()
    others = sorted({a.drug for a in visit.agents if vocab.drugs()[a.drug].is_local_anesthetic} - {"lidocaine"})
    if patient.pregnant and others:
        result.warnings.append(
            f"Pregnant patient given {', '.join(others)}: lidocaine is preferred in pregnancy."
        )
    return result


def check_pneumothorax(visit: Visit) -> Assessment:
    result = Assessment()
    risky = [site for site in visit.sites if vocab.muscles()[site.muscle].pneumothorax]
    if not risky:
        return result
    names = ", ".join(f"{s.side} {s.muscle}" for s in risky)
    why = vocab.hazards()["pneumothorax"].clinician
    if visit.ultrasound:
        result.warnings.append(f"Pneumothorax risk site ({names}), under ultrasound guidance: {why}.")
    else:
        result.warnings.append(
            f"PNEUMOTHORAX RISK: {names} injected without ultrasound guidance; {why}; ultrasound or a "
            "tangential approach over a rib lowers the risk."
        )
    sides = {side for site in risky for side in (("left", "right") if site.side == "bilateral" else (site.side,))}
    if {"left", "right"} <= sides:
        result.warnings.append(
            "BILATERAL PNEUMOTHORAX RISK: chest-wall, neck or upper-back sites on both sides in one session; "
            "a pneumothorax on both sides at once is life-threatening, and bilateral pneumothoraces after "
            "trapezius injections are reported."
        )
    return result


def check_hazards(patient: Patient, visit: Visit) -> Assessment:
    """Structures besides the pleura within needle reach (clinical-reference.md §9), one warning each."""
    result = Assessment()
    at: dict[str, list[str]] = {}
    for site in visit.sites:
        for hazard in vocab.muscles()[site.muscle].hazards:
            if hazard != "pneumothorax":
                at.setdefault(hazard, []).append(f"{site.side} {site.muscle}")
    for name, sites in at.items():
        hazard = vocab.hazards()[name]
        extra = ("; the patient is anticoagulated" if patient.anticoagulated and name == "femoral bundle and "
                 "retroperitoneum" else "")
        result.warnings.append(
            # anatomy without a figure to cite; the vocabulary keeps each hazard's source for maintainers
            f"{name.capitalize()} near {', '.join(sites)}: {hazard.clinician}{extra}."
        )
    return result


# --- payer rules -----------------------------------------------------------------------------------


def check_payer(patient: Patient, visit: Visit, recent: Sequence[Visit], settings: Settings,
                facts: VisitFacts | None = None) -> Assessment:
    """RECENT: the patient's other visits in the 365 days up to this one."""
    result = Assessment()
    facts = facts or VisitFacts()
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

    here = facts(visit).pairs
    last_injected: dict[tuple[str, str], dt.date] = {}
    for past in recent:
        for pair in facts(past).pairs & here:
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
                    f"for ≥ {bar_weeks} weeks."
                )
            elif relief.pct < bar_pct or relief.weeks < bar_weeks:
                result.warnings.append(
                    f"{name}: repeat criteria not met: {relief_against_bar(relief.pct, relief.weeks, bar_pct, bar_weeks)}."
                )
            if not visit.functional_scores:
                result.warnings.append(
                    f"{name}: repeat injection without a functional score on a validated scale; the payer wants "
                    "improved function documented."
                )
        if rules["requires_home_exercise"] and visit.home_exercise is not True:
            result.warnings.append(
                f"{name}: repeat injection without a home exercise or rehab programme on record; the payer wants one."
            )

    if visit.ultrasound and not rules["covers_ultrasound"]:
        result.warnings.append(f"{name} does not cover ultrasound guidance (76942; called investigational).")
    if not visit.agents:
        result.warnings += _dry_needling(name, profile, rules, visit, recent)
    elif all(a.drug == "saline" for a in visit.agents) and not rules["covers_saline"]:
        result.warnings.append(f"{name} does not cover saline-only injections (eviCore CMM-202 excludes them).")
    regions = sorted(facts(visit).regions)
    if rules["single_region"] and len(regions) > 1:
        result.warnings.append(
            f"{name}: {len(regions)} anatomical regions in one session ({', '.join(regions)}); the LCD-2024 "
            "billing article does not cover injections into several regions in one session."
        )
    result.warnings += _per_region(name, rules, visit, recent, regions, facts)
    return result


# NCD 30.3.3 covers dry needling for chronic (≥ 12 weeks) nonspecific low back pain.
LOW_BACK_PAIN_CODES = ("M54.5", "M54.50", "M54.51", "M54.59")


def _dry_needling(name: str, profile: str, rules, visit: Visit, recent: Sequence[Visit]) -> list[str]:
    if rules["covers_dry_needling"]:
        return []
    per_90, per_year = rules["dry_needling_lbp_visits_90_days"], rules["dry_needling_visits_per_year"]
    source = "LCD-2024" if profile == "medicare" else "eviCore CMM-202"
    if not per_90:
        return [f"{name} does not cover dry needling (20560/20561; {source})."]
    if not any(code in LOW_BACK_PAIN_CODES for code in visit.diagnoses):
        return [(f"{name}: dry needling is not covered as a trigger point injection ({source}); CMS NCD 30.3.3 "
                 "covers it (20560/20561) only for chronic low back pain (≥ 12 weeks, nonspecific).")]
    dry = [v for v in recent if not v.agents] + [visit]
    in_90 = len({v.date for v in dry if (visit.date - v.date).days < 90})
    in_year = len({v.date for v in dry})
    found = []
    if in_90 > per_90:
        found.append(f"{name}: dry needling visit {in_90} in 90 days; NCD 30.3.3 covers {per_90} in 90 days, "
                     "8 more only with documented improvement.")
    if in_year > per_year:
        found.append(f"{name}: dry needling visit {in_year} in 365 days; NCD 30.3.3 covers at most {per_year} a year.")
    return found


def _per_region(name: str, rules, visit: Visit, recent: Sequence[Visit], regions: list[str],
                facts: VisitFacts) -> list[str]:
    """Sessions counted per body region (eviCore CMM-202): the interval and the yearly count."""
    interval, per_year = rules["region_interval_days"], rules["sessions_per_region_per_year"]
    found = []
    if not (interval or per_year):
        return found
    # each earlier session's regions once, not once per region of this visit
    sessions = [(v.date, facts(v).regions) for v in recent if v.date != visit.date]
    for region in regions:
        days = {day for day, where in sessions if region in where}
        if interval and days:
            last = max(days)
            gap = (visit.date - last).days
            if gap < interval:
                found.append(f"{name}: another session in the {region} region {gap} days ago ({last.isoformat()}); "
                             f"the profile wants at least {interval} days between sessions in a body region "
                             "(eviCore CMM-202).")
        if per_year and len(days) + 1 > per_year:
            found.append(f"{name}: {len(days) + 1} sessions in the {region} region in the 365 days to "
                         f"{visit.date.isoformat()}; the profile allows {per_year} per body region a year "
                         "(eviCore CMM-202).")
    return found


def relief_against_bar(pct: int, weeks: int, bar_pct: int, bar_weeks: int) -> str:
    """'relief 40% (< 50%) for 3 weeks (< 6)' — clinical-reference.md §7 wording."""
    pct_text = f"relief {pct}% ({'<' if pct < bar_pct else '≥'} {bar_pct}%)"
    weeks_text = f"for {weeks} weeks ({'<' if weeks < bar_weeks else '≥'} {bar_weeks})"
    return f"{pct_text} {weeks_text}"


def check_documentation(visit: Visit) -> Assessment:
    result = Assessment()
    if visit.consent is None:
        result.warnings.append("Consent not documented.")
    if not visit.diagnoses:
        result.warnings.append(
            "No diagnosis (ICD-10-CM) recorded: the claim and the LCD-2024 billing article need the indication."
        )
    elif visit.date < ICD10_CM_START:
        result.warnings.append(
            f"Visit dated before {ICD10_CM_START.isoformat()}, when ICD-10-CM took effect: its codes were not checked."
        )
    return result


def assess(patient: Patient, visit: Visit, history: Sequence[Visit], settings: Settings,
           facts: VisitFacts | None = None) -> Assessment:
    """Every check, in the order a clinician reads them: refusals first, then warnings.

    HISTORY: the patient's other visits (at least those of the trailing year); voided ones count for nothing.
    FACTS: what is known of HISTORY's visits already, when the patient's visits are checked one after another.
    """
    facts = facts or VisitFacts()
    check_strengths(visit, settings)
    if visit.diagnoses:
        from tpi_cli.clinical.diagnoses import check_diagnoses

        check_diagnoses(list(visit.diagnoses), visit.date)
    combined = Assessment()
    history = counted(history)
    recent = _in_trailing_year(history, visit.date)
    for part in (
        check_allergies(patient, visit),
        check_age(patient, visit, settings),
        check_anesthetic_dose(patient, visit, same_day(recent, visit), settings),
        check_steroid(patient, visit, recent, settings, facts),
        check_bleeding_risk(patient),
        check_pregnancy_anesthetic(patient, visit),
        check_pneumothorax(visit),
        check_hazards(patient, visit),
        check_payer(patient, visit, recent, settings, facts),
        check_documentation(visit),
    ):
        combined.refusals += part.refusals
        combined.warnings += part.warnings
    return combined
