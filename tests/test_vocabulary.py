"""Muscle vocabulary (clinical-reference.md §9): one entry per muscle, group words asked about, hazards, CPT."""

from __future__ import annotations

import json

import pytest

from tpi_cli import vocab
from tpi_cli.cli import visit as visit_cli
from tpi_cli.clinical.coding import suggest_cpt
from tpi_cli.clinical.safety import assess
from tpi_cli.models import Patient, Visit
from tpi_cli.parsing import parse_agent, parse_site
from tpi_cli.settings import Settings

LIDO = [parse_agent("lidocaine 1% 2 mL")]


def log(tpi, *sites: str, extra=()):
    args = ["log-visit", "--patient", "P1", "--pain-before", "6", "--pain-after", "2", "--consent", "verbal",
            "--agent", "lidocaine 1% 2 mL", *extra, "--json"]
    for site in sites:
        args += ["--site", site]
    return tpi(*args)


@pytest.fixture
def patient(tpi):
    assert tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1970-01-01", "--weight-kg", "70",
               "--payer", "medicare").exit_code == 0


@pytest.mark.parametrize(
    ("word", "choices"),
    [
        ("trapezius", ["upper trapezius", "middle trapezius", "lower trapezius"]),
        ("rhomboid", ["rhomboid major", "rhomboid minor"]),
        ("erector spinae", ["longissimus cervicis", "longissimus thoracis", "iliocostalis lumborum"]),
        ("multifidus", ["cervical multifidus", "thoracic multifidus", "lumbar multifidus"]),
        ("glute", ["gluteus maximus", "gluteus medius", "gluteus minimus"]),
        ("serratus", ["serratus anterior", "serratus posterior superior"]),
        ("pec", ["pectoralis major", "pectoralis minor"]),
        ("scalenes", ["anterior scalene", "middle scalene", "posterior scalene"]),
        ("hamstrings", ["biceps femoris", "semitendinosus", "semimembranosus"]),
        ("iliopsoas", ["psoas major", "iliacus"]),
        ("paraspinals", ["cervical multifidus", "thoracic multifidus", "lumbar multifidus"]),
        ("lumbar paraspinals", ["lumbar multifidus", "lumbar longissimus", "iliocostalis lumborum"]),
        ("suboccipitals", ["rectus capitis posterior major", "obliquus capitis inferior"]),
        ("adductors", ["adductor longus", "adductor brevis", "adductor magnus"]),
        ("obliques", ["external oblique", "internal oblique"]),
        ("forearm extensors", ["extensor carpi radialis brevis", "extensor digitorum"]),
        ("forearm flexors", ["flexor carpi radialis", "flexor carpi ulnaris"]),
    ],
)
def test_group_words_are_refused_with_the_choices(tpi, patient, word, choices):
    result = log(tpi, f"{word}:left")
    assert result.exit_code == 2
    assert "names several muscles" in result.stderr
    for choice in choices:
        assert choice in result.stderr
    assert json.loads(tpi("visits", "--json").stdout) == []


def test_a_spine_group_asks_for_the_level_too():
    with pytest.raises(vocab.AmbiguousTermError, match="at which level"):
        vocab.find_muscle("multifidus")


@pytest.mark.parametrize("word", ["LT", "LS"])
def test_side_and_level_abbreviations_are_not_muscle_aliases(word):
    with pytest.raises(vocab.UnknownTermError):
        vocab.find_muscle(word)


def test_a_group_name_in_a_visit_file_is_refused(tpi, patient, tmp_path):
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"patient_id": "P1", "date": "2026-01-05", "pain_before": 5, "pain_after": 2,
                                "sites": [{"muscle": "scalenes", "side": "left"}]}))
    result = tpi("log-visit", "--from-file", str(path))
    assert result.exit_code == 2 and "anterior scalene" in result.stderr


def test_a_stored_group_name_from_an_earlier_version_still_reads():
    visit = Visit.model_validate({"id": "P1-V1", "patient_id": "P1", "date": "2025-01-05", "pain_before": 5,
                                  "pain_after": 2, "sites": [{"muscle": "lumbar paraspinals", "side": "left"}]})
    assert visit.sites[0].muscle == "lumbar paraspinals"


@pytest.mark.parametrize(
    "name",
    ["lateral pterygoid", "medial pterygoid", "posterior scalene", "sternalis", "coracobrachialis", "pronator teres",
     "supinator", "flexor carpi radialis", "internal oblique", "transversus abdominis", "levator ani",
     "pelvic floor", "obturator internus", "adductor brevis", "adductor magnus", "sartorius", "gracilis",
     "vastus intermedius", "tibialis posterior", "longissimus thoracis", "lumbar longissimus",
     "longissimus cervicis", "iliocostalis cervicis", "iliocostalis thoracis", "iliocostalis lumborum"],
)
def test_the_muscles_the_review_found_missing_are_entries(name):
    assert not vocab.find_muscle(name).choices


def test_anterior_and_middle_scalene_are_two_sites(tpi, patient):
    result = log(tpi, "anterior scalene:left", "middle scalene:left")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("sites", "count", "code"),
    [
        (["upper trapezius:left", "middle trapezius:left", "lower trapezius:left"], 1, "20552"),
        (["upper trapezius:left", "middle trapezius:right"], 2, "20552"),
        (["upper trapezius:bilateral", "lower trapezius:bilateral"], 2, "20552"),
        (["upper trapezius:left", "upper trapezius:right", "levator:left"], 3, "20553"),
        (["thoracic longissimus:left", "lumbar longissimus:left"], 1, "20552"),  # one longissimus thoracis
        (["lumbar multifidus:left", "thoracic multifidus:left", "QL:left"], 2, "20552"),
        (["anterior scalene:left", "middle scalene:left", "posterior scalene:left"], 3, "20553"),
        (["biceps femoris:left", "semitendinosus:left", "semimembranosus:left"], 3, "20553"),
    ],
)
def test_cpt_counts_anatomical_muscles_and_sides(sites, count, code):
    suggestion = suggest_cpt([parse_site(s) for s in sites], LIDO, False)
    assert suggestion.codes == [code]
    assert suggestion.rule.startswith(f"{count} muscle")


def test_the_cpt_rule_says_when_parts_are_one_muscle():
    sites = [parse_site(s) for s in ("upper trapezius:left", "middle trapezius:left", "lower trapezius:left")]
    assert "count as one muscle, trapezius" in suggest_cpt(sites, LIDO, False).rule


def _visit(*sites: str, ultrasound=False) -> Visit:
    return Visit.model_validate({"id": "P1-V1", "patient_id": "P1", "date": "2026-06-01", "pain_before": 5,
                                 "pain_after": 2, "consent": "verbal", "ultrasound": ultrasound,
                                 "sites": [parse_site(s).model_dump() for s in sites],
                                 "agents": [a.model_dump() for a in LIDO]})


def _warnings(*sites: str, anticoagulated=False, payer="none") -> list[str]:
    patient = Patient(id="P1", name="A", dob="1970-01-01", weight_kg=70, payer=payer,
                      anticoagulated=anticoagulated)
    return assess(patient, _visit(*sites), [], Settings()).warnings


@pytest.mark.parametrize(
    ("site", "hazard"),
    [
        ("rectus capitis posterior major:left", "Vertebral artery near left rectus capitis posterior major"),
        ("cervical multifidus:right", "Vertebral artery"),
        ("anterior scalene:left", "Brachial plexus near left anterior scalene"),
        ("SCM:left", "Carotid and jugular near left sternocleidomastoid"),
        ("piriformis:right", "Sciatic nerve near right piriformis"),
        ("obturator internus:right", "Sciatic nerve"),
        ("psoas major:left", "Femoral bundle and retroperitoneum near left psoas major"),
        ("iliacus:left", "Femoral bundle and retroperitoneum"),
        ("QL:left", "Kidney near left quadratus lumborum"),
    ],
)
def test_hazards_besides_the_pleura_are_warned_in_chart_language(site, hazard):
    found = [w for w in _warnings(site) if hazard in w]
    assert found and "clinical-reference" not in found[0] and found[0].endswith(".")


def test_iliopsoas_bleeding_when_anticoagulated_is_said():
    assert any("the patient is anticoagulated" in w for w in _warnings("psoas major:left", anticoagulated=True))


def test_sites_without_hazards_warn_of_none():
    assert not [w for w in _warnings("gluteus medius:left", "gastrocnemius:right") if " near " in w]


@pytest.mark.parametrize(
    ("sites", "stronger"),
    [
        (["upper trapezius:left"], False),
        (["upper trapezius:left", "rhomboid major:left"], False),
        (["upper trapezius:left", "rhomboid major:right"], True),
        (["pectoralis major:bilateral"], True),
        (["upper trapezius:left", "QL:right"], False),
    ],
)
def test_chest_wall_sites_on_both_sides_get_a_stronger_warning(sites, stronger):
    assert any(w.startswith("BILATERAL PNEUMOTHORAX RISK") for w in _warnings(*sites)) == stronger


def test_thoracic_paraspinals_carry_the_pneumothorax_flag_and_lumbar_do_not():
    for name in ("thoracic multifidus", "longissimus thoracis", "iliocostalis thoracis"):
        assert vocab.find_muscle(name).pneumothorax
    for name in ("lumbar multifidus", "lumbar longissimus", "iliocostalis lumborum", "cervical multifidus"):
        assert not vocab.find_muscle(name).pneumothorax


def test_every_hazard_has_a_chart_warning_and_a_plain_handout_line():
    used = {h for m in vocab.muscles().values() for h in m.hazards}
    assert used <= set(vocab.hazards())
    for hazard in vocab.hazards().values():
        assert hazard.clinician and hazard.handout_en and hazard.source
        sentences = hazard.handout_en.replace("?", ".").split(". ")
        assert all(len(sentence.split()) <= 15 for sentence in sentences)  # clinical-reference.md §6


def test_every_entry_is_complete():
    for muscle in vocab.muscles().values():
        assert muscle.region and muscle.plain_en and muscle.anatomical
        assert muscle.level in (None, "cervical", "thoracic", "lumbar")
        for choice in muscle.choices:
            assert not vocab.muscles()[choice].choices
    from tpi_cli.vocab.muscle_table import GROUPS

    for choices in GROUPS.values():
        assert all(c in vocab.muscles() and not vocab.muscles()[c].choices for c in choices)


def test_neck_shoulder_and_upper_back_session_is_one_region():
    warnings = _warnings("upper trapezius:left", "levator scapulae:left", "rhomboid major:left", payer="medicare")
    assert not any("anatomical regions" in w for w in warnings)


def test_guided_prompt_offers_the_muscles_of_a_group_word(tpi, patient, monkeypatch):
    monkeypatch.setattr(visit_cli, "stdin_is_terminal", lambda: True)
    answers = "P1\ntrapezius:left:2\n2\n\n\n6\n2\n"
    result = tpi("log-visit", "--consent", "verbal", "--json", input=answers)
    assert result.exit_code == 0, result.stderr
    assert "1. upper trapezius" in result.stderr and "3. lower trapezius" in result.stderr
    # the question goes to stderr too: stdout holds the record (CliRunner also echoes the typed answers there)
    assert "Muscle (1-3" in result.stderr and "Muscle (" not in result.stdout
    record = json.loads(result.stdout[result.stdout.index("{"):])
    assert record["sites"] == [{"muscle": "middle trapezius", "side": "left", "points": 2, "volume_ml": None}]


def test_tpi_muscles_lists_entries_not_group_names(tpi):
    result = tpi("muscles", "--json")
    assert result.exit_code == 0
    names = [m["name"] for m in json.loads(result.stdout)]
    assert "upper trapezius" in names and "scalenes" not in names and "lumbar paraspinals" not in names
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("trapezius", ["upper trapezius", "middle trapezius", "lower trapezius"]),
     ("UT", ["upper trapezius"]), ("scalene", ["anterior scalene", "middle scalene", "posterior scalene"]),
     ("pterygoid", ["lateral pterygoid", "medial pterygoid"])],
)
def test_tpi_muscles_text_finds_entries_and_group_choices(tpi, text, expected):
    result = tpi("muscles", text, "--json")
    assert result.exit_code == 0
    assert [m["name"] for m in json.loads(result.stdout)] == expected


def test_tpi_muscles_json_has_the_fields_a_note_needs(tpi):
    [entry] = json.loads(tpi("muscles", "QL", "--json").stdout)
    assert entry == {"name": "quadratus lumborum", "aliases": ["QL", "quadratus"], "region": "lumbar",
                     "level": "lumbar", "anatomical": "quadratus lumborum", "paired": True, "pneumothorax": False,
                     "hazards": ["kidney"], "plain_en": "low back, above the hip bone"}


def test_tpi_muscles_unknown_text_is_bad_input_with_suggestions(tpi):
    result = tpi("muscles", "levatr scapulae")
    assert result.exit_code == 2 and "levator scapulae" in result.stderr


def test_tpi_drugs_lists_strengths_sold_and_the_reference_limits(tpi):
    records = {d["name"]: d for d in json.loads(tpi("drugs", "--json").stdout)}
    assert records["bupivacaine"]["strengths"] == [0.25, 0.5, 0.75]
    assert records["bupivacaine"]["max_mg_24h"] == 400
    assert records["procaine"]["max_mg_kg"] == 7 and "AAFP-2014" in records["procaine"]["source"]
    assert records["triamcinolone"]["strengths"] == [10, 40, 80] and "max_mg" not in records["triamcinolone"]
    table = tpi("drugs")
    assert table.exit_code == 0 and "Xylocaine" in table.stdout
