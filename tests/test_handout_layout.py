"""The handout as a patient reads it: emergencies first, wording that fits what was done, short, large type."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from tpi_cli.pdf.handout import keep_together


def make(tpi, tmp_path, *visit_flags, patient_flags=(), lang="en", large=False):
    assert tpi("config", "set", "clinic.phone", "(555) 010-2000").exit_code == 0
    assert tpi("patient", "add", "--id", "P1", "--name", "Ana Núñez", "--dob", "1950-03-04", "--weight-kg", "60",
               *patient_flags).exit_code == 0
    result = tpi("log-visit", "--patient", "P1", "--date", "2026-11-20", "--pain-before", "8", "--pain-after", "3",
                 "--follow-up-days", "42", "--override-reason", "test", *visit_flags, "--json")
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "h.pdf"
    args = ["handout", "--visit", json.loads(result.stdout)["id"], "--lang", lang, "-o", str(out)]
    assert tpi(*args, *(["--large-print"] if large else [])).exit_code == 0
    reader = PdfReader(str(out))
    return reader, [page.extract_text().replace("\u00a0", " ") for page in reader.pages]


def test_emergencies_come_first_on_page_one(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "rhomboid major:left", "--agent", "lidocaine 1% 3 mL")
    first = pages[0]
    assert first.index("Call 911 right away") < first.index("What we did today")
    assert "Sudden chest pain or hard breathing, even hours later? Call 911." in first


def test_both_sides_of_the_chest_wall_get_the_stronger_warning(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "rhomboid major:bilateral", "--agent", "lidocaine 1% 3 mL")
    assert "near both lungs" in pages[0]


def test_dry_needling_is_worded_as_dry_needling(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "QL:left:2")
    text = " ".join(" ".join(pages).split())
    assert "Care after dry needling" in text
    assert "shot" not in text.lower().replace("more soreness than a shot", "")
    assert "numb" not in text.lower().replace("feels numb or weak", "")
    assert "metal taste" not in text and "Hives" not in text


def test_epinephrine_makes_the_numbness_last_longer(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "QL:left", "--agent", "lidocaine 1% with epinephrine 5 mL")
    text = "\n".join(pages)
    assert "lidocaine with epinephrine" in text
    assert "about 1 to 2 hours" not in text and "last longer" in text


@pytest.mark.parametrize(("agents", "absent"), [
    (["saline 2 mL"], "feel numb"), (["triamcinolone 40 mg/mL 0.5 mL"], "feel numb"),
])
def test_no_numbness_line_without_a_local_anesthetic(tpi, tmp_path, agents, absent):
    flags = [flag for agent in agents for flag in ("--agent", agent)]
    _, pages = make(tpi, tmp_path, "--site", "QL:left", *flags)
    assert absent not in "\n".join(pages)


def test_blood_thinner_advice_is_safe(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "QL:left", "--agent", "lidocaine 1% 3 mL",
                    patient_flags=("--anticoagulated",))
    text = " ".join(" ".join(pages).split())
    assert "Restart your blood thinner as your prescriber told you." in text
    assert "Do not take ibuprofen, naproxen or aspirin for pain" in text


def test_diary_starts_with_todays_pain_and_is_never_alone_on_a_page(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "QL:left", "--agent", "lidocaine 1% 3 mL")
    diary_page = next(page for page in pages if "Pain diary" in page)
    assert "Before: 8" in diary_page and "After: 3" in diary_page
    assert "Your next visit is on January 1, 2027." in diary_page


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_visit_with_every_optional_section_fits_two_pages(tpi, tmp_path, lang):
    reader, _ = make(tpi, tmp_path, "--site", "UT:left:2", "--agent", "lidocaine 1% 3 mL", "--agent",
                     "triamcinolone 40 mg/mL 0.5 mL", patient_flags=("--anticoagulated", "--diabetic"), lang=lang)
    assert len(reader.pages) <= 2


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_normal_visit_in_large_print_fits_four_pages(tpi, tmp_path, lang):
    reader, _ = make(tpi, tmp_path, "--site", "UT:left:2", "--site", "levator:left", "--site", "QL:right",
                     "--agent", "lidocaine 1% 3 mL", lang=lang, large=True)
    assert len(reader.pages) <= 4


@pytest.mark.parametrize(("large", "minimum"), [(False, 12), (True, 16)])
def test_every_character_is_at_least_12_pt_or_16_in_large_print(tpi, tmp_path, large, minimum):
    reader, _ = make(tpi, tmp_path, "--site", "QL:left", "--agent", "lidocaine 1% 3 mL", large=large)
    sizes = []
    for page in reader.pages:
        page.extract_text(visitor_text=lambda t, cm, tm, font, size: sizes.append(size * tm[0]) if t.strip() else 0)
    assert sizes and min(sizes) >= minimum - 0.01


@pytest.mark.parametrize(("lang", "word"), [("en", "muscles"), ("es", "trapecio superior")])
def test_the_document_language_is_set_and_muscles_are_named_in_it(tpi, tmp_path, lang, word):
    reader, pages = make(tpi, tmp_path, "--site", "UT:left", "--agent", "lidocaine 1% 3 mL", lang=lang)
    assert reader.trailer["/Root"]["/Lang"] == lang
    assert word in pages[0]


def test_numbers_dates_and_phone_numbers_are_never_split():
    assert keep_together("Call (555) 010-2999 on November 25, 2026 if 100.4 °F") == (
        "Call (555)\u00a0010-2999\u00a0on November\u00a025,\u00a02026\u00a0if\u00a0100.4\u00a0°F")
