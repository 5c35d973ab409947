"""Safety and payer checks: each rule at, just under and just over its limit."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tpi_cli.clinical.safety import assess
from tpi_cli.models import Patient, Visit
from tpi_cli.parsing import parse_agent, parse_site
from tpi_cli.settings import Settings

DAY = dt.date(2026, 6, 1)


def patient(**fields) -> Patient:
    return Patient.model_validate({"id": "P1", "name": "Test Patient", "dob": "1960-01-01", "weight_kg": 50,
                                   "payer": "none", **fields})


_numbers = iter(range(1, 10_000))


def visit(*agents: str, sites=("QL:left",), day=DAY, **fields) -> Visit:
    return Visit.model_validate({
        "id": f"P1-V{next(_numbers)}", "patient_id": "P1", "date": day, "consent": "verbal",
        "sites": [parse_site(s).model_dump() for s in sites],
        "agents": [parse_agent(a).model_dump() for a in agents],
        "pain_before": 7, "pain_after": 2, **fields,
    })


def check(p: Patient, v: Visit, history=(), settings: Settings | None = None):
    return assess(p, v, list(history), settings or Settings())


def refused(result, name: str) -> bool:
    return any(f.check == name for f in result.refusals)


def warned(result, fragment: str) -> bool:
    return any(fragment in w for w in result.warnings)


# --- local anesthetic dose --------------------------------------------------------------------------
# lidocaine plain: 4.5 mg/kg (225 mg at 50 kg), ≤ 300 mg; with epinephrine 7 mg/kg, ≤ 500 mg (Xylocaine label)


@pytest.mark.parametrize(
    ("agent", "weight", "outcome"),
    [
        ("lidocaine 1% 15.7 mL", 50, "ok"),          # 157 mg = 69.8% of 225
        ("lidocaine 1% 15.8 mL", 50, "warn"),        # 158 mg = 70.2%
        ("lidocaine 1% 22.5 mL", 50, "warn"),        # 225 mg = 100%: at the limit
        ("lidocaine 1% 22.6 mL", 50, "refuse"),      # 226 mg
        ("lidocaine 2% 15 mL", 80, "warn"),          # 300 mg: 4.5 × 80 = 360 capped at 300
        ("lidocaine 2% 15.1 mL", 80, "refuse"),      # 302 mg over the 300 mg cap
        ("lidocaine 1% with epinephrine 35 mL", 50, "warn"),    # 350 mg = 7 mg/kg × 50
        ("lidocaine 1% with epinephrine 35.1 mL", 50, "refuse"),
        ("bupivacaine 0.5% 25 mL", 50, "warn"),      # 125 mg = 2.5 mg/kg × 50
        ("bupivacaine 0.5% 25.2 mL", 50, "refuse"),
        ("ropivacaine 0.5% 30 mL", 50, "warn"),      # 150 mg = 3 mg/kg × 50
        ("ropivacaine 0.5% 30.2 mL", 50, "refuse"),
        ("procaine 2% 17.5 mL", 50, "warn"),         # 350 mg = min(10 × 50 = 500, 350)
        ("procaine 2% 17.6 mL", 50, "refuse"),
    ],
)
def test_local_anesthetic_reference_limits(agent, weight, outcome):
    result = check(patient(weight_kg=weight), visit(agent))
    assert refused(result, "local anesthetic dose") == (outcome == "refuse")
    assert warned(result, "near the reference limit") == (outcome == "warn")


def test_refusal_message_gives_the_figures_and_source():
    result = check(patient(weight_kg=50), visit("lidocaine 2% 12.5 mL"))
    [finding] = result.refusals
    assert "lidocaine 250 mg is 111% of 225 mg max for 50 kg" in finding.message
    assert "4.5 mg/kg × 50 kg" in finding.message and "Xylocaine label" in finding.message


def test_two_anesthetics_add_up():
    # lidocaine 100 mg / 225 = 44% + bupivacaine 50 mg / 125 = 40% → 84%: warned, not refused
    result = check(patient(weight_kg=50), visit("lidocaine 1% 10 mL", "bupivacaine 0.25% 20 mL"))
    assert not result.refusals
    assert warned(result, "84% of the combined reference limit")
    # lidocaine 150 mg (67%) + bupivacaine 50 mg (40%) = 107%: refused though each is under its own limit
    result = check(patient(weight_kg=50), visit("lidocaine 1% 15 mL", "bupivacaine 0.25% 20 mL"))
    assert refused(result, "local anesthetic dose")
    assert "107% of the combined reference limit" in result.refusals[0].message


@pytest.mark.parametrize(
    ("volume", "outcome"),
    [("22.5", "warn"), ("22.6", "refuse"), ("15.7", "ok")],  # assumed 50 kg: 4.5 mg/kg × 50 = 225 mg
)
def test_without_weight_an_adult_is_checked_at_the_assumed_weight_and_told_so(volume, outcome):
    result = check(patient(weight_kg=None), visit(f"lidocaine 1% {volume} mL"))
    assert warned(result, "assumed 50 kg (clinic policy")
    assert refused(result, "local anesthetic dose") == (outcome == "refuse")
    if outcome == "refuse":
        assert "50 kg (assumed)" in result.refusals[0].message


def test_the_assumed_weight_is_a_clinic_setting():
    settings = Settings({"limits.assumed_weight_kg": 60.0})  # 4.5 × 60 = 270 mg
    assert not check(patient(weight_kg=None), visit("lidocaine 1% 26 mL"), settings=settings).refusals
    assert refused(check(patient(weight_kg=None), visit("lidocaine 1% 27.1 mL"), settings=settings),
                   "local anesthetic dose")


def test_clinic_can_change_the_limits():
    settings = Settings({"limits.bupivacaine.max_mg_kg": 2.0})
    assert refused(check(patient(weight_kg=50), visit("bupivacaine 0.5% 21 mL"), settings=settings),
                   "local anesthetic dose")  # 105 mg > 100 mg
    assert not check(patient(weight_kg=50), visit("bupivacaine 0.5% 21 mL")).refusals


def test_saline_and_steroids_are_not_local_anesthetic_doses():
    result = check(patient(), visit("saline 10 mL", "triamcinolone 40 mg/mL 1 mL"))
    assert not result.refusals and not warned(result, "reference limit")


# --- allergy -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allergy", "agent", "refuse"),
    [
        ("lidocaine", "lidocaine 1% 2 mL", True),
        ("Xylocaine", "lidocaine 1% 2 mL", True),
        ("Marcaine", "bupivacaine 0.25% 2 mL", True),
        ("amide", "ropivacaine 0.2% 2 mL", True),
        ("amide local anesthetics", "mepivacaine 1% 2 mL", True),
        ("amide", "procaine 1% 2 mL", False),
        ("ester", "procaine 1% 2 mL", True),
        ("esters", "chloroprocaine 2% 2 mL", True),
        ("ester", "lidocaine 1% 2 mL", False),
        ("Kenalog", "triamcinolone 40 mg/mL 1 mL", True),
        ("corticosteroids", "dexamethasone 4 mg/mL 1 mL", True),
        ("penicillin", "lidocaine 1% 2 mL", False),
    ],
)
def test_allergy_by_name_brand_or_class(allergy, agent, refuse):
    assert refused(check(patient(allergies=[allergy]), visit(agent)), "allergy") == refuse


def test_sulfite_allergy_warns_about_epinephrine_solutions():
    result = check(patient(allergies=["sulfite"]), visit("lidocaine 1% with epinephrine 3 mL"))
    assert not result.refusals and warned(result, "sulfite")


# --- bleeding, steroids, pregnancy, pneumothorax -------------------------------------------------------


def test_anticoagulation_is_a_warning_never_a_refusal():
    result = check(patient(anticoagulated=True), visit("lidocaine 1% 3 mL"))
    assert not result.refusals and warned(result, "Anticoagulated")


def steroid_visit(day: dt.date, mg_triamcinolone: float, site="QL:left") -> Visit:
    return visit(f"triamcinolone 40 mg/mL {mg_triamcinolone / 40:g} mL", sites=(site,), day=day)


@pytest.mark.parametrize(
    ("history_mg", "today_mg", "warning"),
    [
        (120, 40, None),              # 160 mg MPE
        (160, 40, None),              # 200: at the published figure, not above it
        (160, 40.4, "above 200 mg"),  # 200.4 (Kang 2012; Kerezoudis 2018)
    ],
)
def test_steroid_exposure_over_365_days(history_mg, today_mg, warning):
    history = [steroid_visit(DAY - dt.timedelta(days=200), history_mg, "glute med:left")]
    result = check(patient(), steroid_visit(DAY, today_mg), history)
    assert not result.refusals
    if warning is None:
        assert not warned(result, "Steroid exposure")
    else:
        assert warned(result, warning) and warned(result, "Kang 2012")
        assert not warned(result, "Brown-Beresford")


@pytest.mark.parametrize(("year_mg", "warns"), [(120, False), (120.4, True)])
def test_an_earlier_steroid_warning_is_clinic_policy(year_mg, warns):
    settings = Settings({"limits.steroid_early_mpe": 120.0})
    history = [steroid_visit(DAY - dt.timedelta(days=200), 80, "glute med:left")]
    result = check(patient(), steroid_visit(DAY, year_mg - 80), history, settings=settings)
    assert warned(result, "clinic policy early warning") == warns


@pytest.mark.parametrize(("mg", "warns"), [(40, False), (80, False), (80.4, True)])
def test_steroid_per_visit_warning(mg, warns):
    result = check(patient(), steroid_visit(DAY, mg))
    assert warned(result, "per visit (clinic policy") == warns


def test_steroid_history_counts_only_the_trailing_year():
    inside = steroid_visit(DAY - dt.timedelta(days=364), 180, "glute med:left")
    outside = steroid_visit(DAY - dt.timedelta(days=365), 180, "glute med:right")
    assert warned(check(patient(), steroid_visit(DAY, 40), [inside]), "220 mg MPE")
    assert not warned(check(patient(), steroid_visit(DAY, 40), [outside]), "Steroid exposure")


def test_dexamethasone_counts_in_methylprednisolone_equivalents():
    result = check(patient(), visit("dexamethasone 10 mg/mL 2.5 mL"))  # 25 mg × 4/0.75 = 133.3 mg MPE
    assert warned(result, "133.3 mg MPE, above 80 mg MPE per visit")


def test_a_clinic_may_configure_a_steroid_refusal():
    settings = Settings({"limits.steroid_refuse_mpe": 100.0})
    assert refused(check(patient(), steroid_visit(DAY, 120), settings=settings), "steroid exposure")
    assert not check(patient(), steroid_visit(DAY, 100), settings=settings).refusals


def test_same_site_steroid_sooner_than_three_months():
    earlier = steroid_visit(DAY - dt.timedelta(days=89), 20)
    assert warned(check(patient(), steroid_visit(DAY, 20), [earlier]), "after 89 days")
    earlier = steroid_visit(DAY - dt.timedelta(days=90), 20)
    assert not warned(check(patient(), steroid_visit(DAY, 20), [earlier]), "Steroid into")


def test_diabetes_and_pregnancy_with_a_steroid():
    assert warned(check(patient(diabetic=True), steroid_visit(DAY, 20)), "blood glucose peaks about day 1")
    assert not warned(check(patient(diabetic=True), visit("lidocaine 1% 2 mL")), "blood glucose")
    assert warned(check(patient(pregnant=True), steroid_visit(DAY, 20)), "Pregnant patient given a steroid")
    assert warned(check(patient(pregnant=True), visit("bupivacaine 0.25% 2 mL")), "lidocaine is preferred")


@pytest.mark.parametrize("site", ["upper trapezius:left", "rhomboid major:right", "pec major:left",
                                  "serratus anterior:left", "anterior scalene:right", "supraspinatus:left",
                                  "intercostals:left", "thoracic multifidus:left", "longissimus thoracis:left",
                                  "iliocostalis thoracis:right", "middle trapezius:left", "lower trapezius:left",
                                  "posterior scalene:left", "sternalis:left", "serratus posterior inferior:left"])
def test_pneumothorax_risk_sites(site):
    assert warned(check(patient(), visit("lidocaine 1% 2 mL", sites=(site,))), "PNEUMOTHORAX RISK")
    guided = check(patient(), visit("lidocaine 1% 2 mL", sites=(site,), ultrasound=True))
    assert warned(guided, "under ultrasound guidance") and not warned(guided, "PNEUMOTHORAX RISK")


def test_low_back_sites_carry_no_pneumothorax_warning():
    assert not warned(check(patient(), visit("lidocaine 1% 2 mL", sites=("QL:left", "glute med:right"))),
                      "neumothorax")


# --- payer rules ---------------------------------------------------------------------------------------


def earlier_visit(days_before: int, site="QL:left") -> Visit:
    return visit("lidocaine 1% 2 mL", sites=(site,), day=DAY - dt.timedelta(days=days_before))


@pytest.mark.parametrize(
    ("payer", "previous_sessions", "warns"),
    [("medicare", 2, False), ("medicare", 3, True), ("commercial", 10, False), ("none", 10, False)],
)
def test_sessions_per_rolling_year(payer, previous_sessions, warns):
    history = [earlier_visit(300 - 25 * i, "glute med:left") for i in range(previous_sessions)]
    result = check(patient(payer=payer), visit("lidocaine 1% 2 mL"), history)
    assert warned(result, "sessions in the 365 days") == warns


@pytest.mark.parametrize(
    ("payer", "days", "warns"),
    [("medicare", 41, True), ("medicare", 42, False), ("commercial", 1, False), ("none", 1, False)],
)
def test_same_muscle_and_side_sooner_than_the_interval(payer, days, warns):
    result = check(patient(payer=payer), visit("lidocaine 1% 2 mL"), [earlier_visit(days)])
    assert warned(result, "was injected") == warns


def test_the_other_side_is_not_a_repeat():
    result = check(patient(payer="medicare"), visit("lidocaine 1% 2 mL"), [earlier_visit(10, "QL:right")])
    assert not warned(result, "was injected") and not warned(result, "repeat")


@pytest.mark.parametrize(
    ("payer", "relief", "message"),
    [
        ("medicare", None, "without recorded prior relief"),
        ("medicare", {"pct": 49, "weeks": 6}, "relief 49% (< 50%) for 6 weeks (≥ 6)"),
        ("medicare", {"pct": 50, "weeks": 5}, "relief 50% (≥ 50%) for 5 weeks (< 6)"),
        ("medicare", {"pct": 50, "weeks": 6}, None),
        ("commercial", {"pct": 40, "weeks": 3}, "relief 40% (< 50%) for 3 weeks (< 6)"),
        ("none", None, None),
    ],
)
def test_repeat_injection_needs_documented_relief(payer, relief, message):
    v = visit("lidocaine 1% 2 mL", prior_relief=relief, home_exercise=True,
              functional_scores=[{"scale": "NDI", "score": 20}])
    result = check(patient(payer=payer), v, [earlier_visit(70)])
    if message is None:
        assert not warned(result, "relief") and not warned(result, "criteria")
    else:
        assert warned(result, message)


@pytest.mark.parametrize(("payer", "warns"), [("medicare", True), ("commercial", True), ("none", False)])
def test_repeat_injection_without_home_exercise(payer, warns):
    v = visit("lidocaine 1% 2 mL", prior_relief={"pct": 60, "weeks": 8}, home_exercise=False)
    assert warned(check(patient(payer=payer), v, [earlier_visit(70)]), "home exercise") == warns


@pytest.mark.parametrize(("payer", "warns"), [("medicare", True), ("commercial", False), ("none", False)])
def test_ultrasound_coverage(payer, warns):
    assert warned(check(patient(payer=payer), visit("lidocaine 1% 2 mL", ultrasound=True)),
                  "does not cover ultrasound") == warns


@pytest.mark.parametrize(
    ("payer", "dx", "warning"),
    [("medicare", [], "only for chronic low back pain"), ("medicare", ["M54.50"], None),
     ("commercial", ["M54.50"], "does not cover dry needling"), ("none", [], None)],
)
def test_dry_needling_coverage(payer, dx, warning):
    result = check(patient(payer=payer), visit(diagnoses=dx))
    assert warned(result, "dry needling") == (warning is not None)
    if warning:
        assert warned(result, warning)


@pytest.mark.parametrize(("earlier", "warns"), [(11, False), (12, True)])
def test_medicare_dry_needling_for_low_back_pain_counts_12_visits_in_90_days(earlier, warns):
    history = [visit(sites=("QL:left",), day=DAY - dt.timedelta(days=1 + 7 * i), diagnoses=["M54.50"])
               for i in range(earlier)]
    result = check(patient(payer="medicare"), visit(diagnoses=["M54.50"]), history)
    assert warned(result, "NCD 30.3.3 covers 12 in 90 days") == warns


@pytest.mark.parametrize(("earlier", "warns"), [(19, False), (20, True)])
def test_medicare_dry_needling_is_at_most_20_a_year(earlier, warns):
    history = [visit(day=DAY - dt.timedelta(days=100 + 12 * i), diagnoses=["M54.50"]) for i in range(earlier)]
    result = check(patient(payer="medicare"), visit(diagnoses=["M54.50"]), history)
    assert warned(result, "at most 20 a year") == warns


def test_commercial_does_not_cover_saline():
    assert warned(check(patient(payer="commercial"), visit("saline 2 mL")), "saline-only")
    assert not warned(check(patient(payer="medicare"), visit("saline 2 mL")), "saline-only")


@pytest.mark.parametrize(("days", "warns"), [(59, True), (60, False)])
def test_commercial_counts_two_months_between_sessions_in_a_body_region(days, warns):
    other_muscle_same_region = earlier_visit(days, "lumbar multifidus:right")
    result = check(patient(payer="commercial"), visit("lidocaine 1% 2 mL"), [other_muscle_same_region])
    assert warned(result, "between sessions in a body region") == warns


@pytest.mark.parametrize(("earlier", "warns"), [(3, False), (4, True)])
def test_commercial_allows_4_sessions_per_body_region_a_year(earlier, warns):
    history = [earlier_visit(70 + 70 * i) for i in range(earlier)]
    assert warned(check(patient(payer="commercial"), visit("lidocaine 1% 2 mL"), history),
                  "per body region a year") == warns


@pytest.mark.parametrize(("payer", "warns"), [("medicare", True), ("commercial", False), ("none", False)])
def test_several_regions_in_one_session(payer, warns):
    v = visit("lidocaine 1% 2 mL", sites=("UT:left", "QL:left"))  # cervical and lumbar
    assert warned(check(patient(payer=payer), v), "anatomical regions") == warns
    one_region = visit("lidocaine 1% 2 mL", sites=("QL:left", "lumbar multifidus:left"))
    assert not warned(check(patient(payer=payer), one_region), "anatomical regions")


def test_payer_default_applies_to_patients_without_one():
    p = patient(payer=None)
    assert warned(check(p, visit("lidocaine 1% 2 mL", ultrasound=True)), "Medicare")
    assert not warned(check(p, visit("lidocaine 1% 2 mL", ultrasound=True),
                            settings=Settings({"payer.default": "none"})), "ultrasound")


def test_a_second_visit_the_same_day_is_a_warning():
    result = check(patient(), visit("lidocaine 1% 2 mL"), [earlier_visit(0, "glute med:left")])
    assert warned(result, "one session a day") and not result.refusals


# --- through the command line --------------------------------------------------------------------------


def test_refused_visit_exits_1_and_writes_nothing(tpi):
    tpi("patient", "add", "--id", "P1", "--name", "Light", "--dob", "1990-01-01", "--weight-kg", "50")
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "lidocaine 2% 12.5 mL",
                 "--pain-before", "7", "--pain-after", "2")
    assert result.exit_code == 1
    assert "local anesthetic dose" in result.stderr
    assert "lidocaine 250 mg is 111% of 225 mg max for 50 kg" in result.stderr
    assert "--override-reason" in result.stderr
    assert json.loads(tpi("visits", "--json").stdout) == []


def test_override_records_the_check_and_reason_and_shows_them(tpi):
    tpi("patient", "add", "--id", "P1", "--name", "Light", "--dob", "1990-01-01", "--weight-kg", "50",
        "--allergy", "amide")
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "lidocaine 2% 12.5 mL",
                 "--pain-before", "7", "--pain-after", "2", "--override-reason", "ASA discussed; observed 30 min")
    assert result.exit_code == 0, result.stderr
    assert "Override (allergy)" in result.stderr and "Override (local anesthetic dose)" in result.stderr
    record = json.loads(tpi("visits", "--json").stdout)[0]
    assert record["overrides"] == [
        {"check": "allergy", "reason": "ASA discussed; observed 30 min"},
        {"check": "local anesthetic dose", "reason": "ASA discussed; observed 30 min"},
    ]
    assert any(w.startswith("Overridden (local anesthetic dose)") for w in record["warnings"])


def test_override_reason_is_harmless_when_nothing_is_refused(tpi):
    tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01", "--weight-kg", "70")
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "lidocaine 1% 3 mL",
                 "--pain-before", "7", "--pain-after", "2", "--override-reason", "n/a", "--json")
    assert json.loads(result.stdout)["overrides"] == []


def test_amend_runs_the_checks_too(tpi):
    tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01", "--weight-kg", "50")
    record = json.loads(tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "lidocaine 1% 3 mL",
                            "--pain-before", "7", "--pain-after", "2", "--json").stdout)
    result = tpi("visit", "amend", record["id"], "--reason", "volume", "--agent", "lidocaine 2% 12.5 mL")
    assert result.exit_code == 1 and "local anesthetic dose" in result.stderr
    assert json.loads(tpi("visit", "show", record["id"], "--json").stdout)["agents"][0]["volume_ml"] == 3
    result = tpi("visit", "amend", record["id"], "--reason", "volume", "--agent", "lidocaine 2% 12.5 mL",
                 "--override-reason", "documented", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["overrides"][0]["check"] == "local anesthetic dose"


def test_config_thresholds_reach_the_checks(tpi):
    tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01", "--weight-kg", "50")
    assert tpi("config", "set", "limits.anesthetic_warn_pct", "10").exit_code == 0
    result = tpi("log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "lidocaine 1% 3 mL",
                 "--pain-before", "7", "--pain-after", "2", "--json")
    assert any("near the reference limit" in w for w in json.loads(result.stdout)["warnings"])
