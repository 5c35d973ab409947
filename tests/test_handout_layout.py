"""The handout as a patient reads it: emergencies first, wording that fits what was done, short, large type."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pypdf import PdfReader

from tpi_cli.pdf.handout import keep_together, listing
from tpi_cli.texts import handout_texts


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
    # each drawn line ends with a space (tagging.SpacedLines): lines compare without it
    return reader, ["\n".join(line.rstrip() for line in page.extract_text().replace("\u00a0", " ").split("\n"))
                    for page in reader.pages]


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
    (["saline 2 mL"], "metal taste"), (["triamcinolone 40 mg/mL 0.5 mL"], "metal taste"),
])
def test_no_numbness_or_anesthetic_toxicity_lines_without_a_local_anesthetic(tpi, tmp_path, agents, absent):
    flags = [flag for agent in agents for flag in ("--agent", agent)]
    _, pages = make(tpi, tmp_path, "--site", "QL:left", *flags)
    text = " ".join("\n".join(pages).split())
    assert absent not in text
    assert "Hives all over your body" in text  # an allergy can follow any injection


def test_anesthetic_toxicity_signs_follow_a_numbing_medicine(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "QL:left", "--agent", "bupivacaine 0.25% 4 mL")
    assert "ringing ears with numb lips or a metal taste soon after the shots" in " ".join(pages[0].split())


def test_blood_thinner_advice_is_safe(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "QL:left", "--agent", "lidocaine 1% 3 mL",
                    patient_flags=("--anticoagulated",))
    text = " ".join(" ".join(pages).split())
    assert "Restart your blood thinner as your prescriber told you." in text
    assert "Do not take ibuprofen, naproxen or aspirin for pain" in text


# --- length and layout, case by case ------------------------------------------------------------------

PLAIN = ["levator scapulae", "infraspinatus", "gluteus medius", "gluteus maximus", "latissimus dorsi", "deltoid",
         "tensor fasciae latae", "vastus lateralis", "gastrocnemius", "teres minor", "splenius capitis",
         "lumbar multifidus"]
# chest wall on both sides, and the neck, deep gluteal and groin hazards: every warning line there is
CHEST = ["upper trapezius", "rhomboid major", "levator scapulae", "anterior scalene", "semispinalis capitis",
         "sternocleidomastoid", "quadratus lumborum", "piriformis", "iliacus", "infraspinatus", "gluteus medius",
         "serratus anterior"]


def case_sites(count: int, every_section: bool) -> list[str]:
    """COUNT sites as a clinician logs them: each side apart, some with 2 points."""
    muscles = CHEST if every_section else PLAIN
    sites = [f"{muscle}:{side}" for muscle in muscles for side in ("left", "right")]
    return [site + (":2" if number % 3 == 0 else "") for number, site in enumerate(sites[:count])]


def make_case(tpi, tmp_path, count, every_section, lang, large):
    flags = ["--agent", "lidocaine 1% 8 mL"]
    if every_section:
        flags += ["--agent", "triamcinolone 40 mg/mL 0.5 mL"]
    sites = [flag for site in case_sites(count, every_section) for flag in ("--site", site)]
    assert tpi("config", "set", "clinic.after_hours_phone", "(555) 010-2999").exit_code == 0
    return make(tpi, tmp_path, *sites, *flags, lang=lang, large=large,
                patient_flags=("--diabetic", "--anticoagulated") if every_section else ())


# (sites, steroid + diabetic + anticoagulated + both sides of the chest wall) → most pages (regular, large)
MOST_PAGES = {(1, False): (2, 3), (3, False): (2, 3), (7, False): (2, 3), (24, False): (2, 4),
              (1, True): (2, 4), (3, True): (2, 4), (7, True): (2, 4), (24, True): (3, 5)}
CASES = [(count, every, lang, large) for (count, every) in MOST_PAGES for lang in ("en", "es")
         for large in (False, True)]


def case_id(case) -> str:
    count, every, lang, large = case
    return f"{count}-sites-{'every-section' if every else 'plain'}-{lang}-{'large' if large else 'regular'}"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_handout_length_diary_and_type_size_per_case(tpi, tmp_path, case):
    count, every, lang, large = case
    reader, pages = make_case(tpi, tmp_path, *case)
    assert len(pages) <= MOST_PAGES[count, every][large]
    words = handout_texts(lang)
    diary_heading = words["diary"]["heading"]
    [diary_page] = [page for page in pages if diary_heading in page]
    # never alone: below the patient line, more of the handout comes before the diary
    body = diary_page.split("\n", 1)[1]
    assert body[:body.index(diary_heading)].strip()
    # its first line: today's date and the pain before and after
    today = "20 de noviembre de 2026" if lang == "es" else "November 20, 2026"
    before, after = ("Antes: 8", "Después: 3") if lang == "es" else ("Before: 8", "After: 3")
    table = diary_page[diary_page.index(diary_heading):]
    first_day = words["dates"]["weekdays"][dt.date(2026, 11, 21).weekday()]
    today_label = "\n" + words["diary"]["today"] + "\n"
    first = table[table.index(today_label) + len(today_label):table.index("\n" + first_day + "\n")]
    assert first.split() == [*today.split(), "·", *before.split(), *after.split()]
    # every day of the six weeks printed whole: no date broken across lines
    tokens = table.split()
    for day in range(1, 43):
        date = dt.date(2026, 11, 20) + dt.timedelta(days=day)
        assert words["dates"]["short"].format(m=date.month, d=date.day) in tokens
    sizes = []
    for page in reader.pages:
        page.extract_text(visitor_text=lambda t, cm, tm, font, size: sizes.append(size * tm[0]) if t.strip() else 0)
    assert min(sizes) >= (16 if large else 12) - 0.01
    # the page before the diary's is not left more than half empty (the diary found no room there)
    number = pages.index(diary_page)
    if number:
        assert body_filled(reader.pages[number - 1], words) >= 0.5


def body_filled(page, words) -> float:
    """How much of the room between the header and the footer the page's text takes, from the top."""
    lines: list[tuple[float, str]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            lines.append((tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip()))

    page.extract_text(visitor_text=visit)
    footer = max(y for y, text in lines if text.startswith(words["questions"].split()[0]))
    header = max(y for y, _ in lines)
    body = [y for y, _ in lines if footer + 1 < y < header - 1]
    return (header - min(body)) / (header - footer) if body else 0.0


# large print where the diary, with full room to write under each date, did not fit after the text before
# it and left that page three quarters empty: with less room it fits there
@pytest.mark.parametrize(("muscles", "count", "steroid", "thinner", "lang"), [
    (CHEST, 7, False, False, "es"), (PLAIN, 3, True, False, "es"), (PLAIN, 6, False, True, "es"),
    (PLAIN, 24, False, False, "en"), (CHEST, 4, True, True, "en"),
], ids=["es-7-chest", "es-3-steroid", "es-6-thinner", "en-24-plain", "en-4-every-section"])
def test_large_print_leaves_no_page_half_empty_before_the_diary(tpi, tmp_path, muscles, count, steroid, thinner,
                                                                lang):
    sites = [f"{muscle}:{side}" for muscle in muscles for side in ("left", "right")][:count]
    flags = [flag for site in sites for flag in ("--site", site)] + ["--agent", "lidocaine 1% 8 mL"]
    flags += ["--agent", "triamcinolone 40 mg/mL 0.5 mL"] if steroid else []
    patient = ("--diabetic",) * steroid + ("--anticoagulated",) * thinner
    assert tpi("config", "set", "clinic.after_hours_phone", "(555) 010-2999").exit_code == 0
    reader, pages = make(tpi, tmp_path, *flags, patient_flags=patient, lang=lang, large=True)
    words = handout_texts(lang)
    [diary_page] = [page for page in pages if words["diary"]["heading"] in page]
    number = pages.index(diary_page)
    assert number and body_filled(reader.pages[number - 1], words) >= 0.5
    assert diary_page.split("\n", 1)[1].split(words["diary"]["heading"])[0].strip()  # still never alone


def test_the_worst_case_keeps_every_warning_and_its_emergencies_on_page_one(tpi, tmp_path):
    _, pages = make_case(tpi, tmp_path, 24, True, "en", True)
    first = " ".join(pages[0].split())
    for line in ("We worked near both lungs today.", "Your arm may feel numb or weak", "trouble seeing or talking",
                 "Neck swells fast"):
        assert line in first
    assert first.index("Call 911 right away") < first.index("What we did today")
    rest = " ".join(" ".join(pages).split())
    for line in ("Your leg may feel numb", "New pain in your belly, groin or back?", "Blood in your pee",
                 "Restart your blood thinner as your prescriber told you.", "Check your blood sugar"):
        assert line in rest


def test_each_muscle_is_one_line_with_left_and_right_merged(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "UT:left:2", "--site", "UT:right", "--site", "levator:left",
                    "--site", "levator:right", "--site", "QL:bilateral:4", "--agent", "lidocaine 1% 3 mL")
    text = " ".join(" ".join(pages).split())
    assert "upper trapezius, both sides (top of the shoulder) — 2 spots on the left, 1 spot on the right" in text
    assert "levator scapulae, both sides (where the neck meets the shoulder blade) — 1 spot on each side" in text
    assert "quadratus lumborum, both sides (low back, above the hip bone) — 4 spots" in text
    assert text.count("upper trapezius") == 1


def test_spanish_sites_agree_and_are_never_called_puntos(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "UT:left:2", "--site", "UT:right", "--agent", "lidocaine 1% 3 mL",
                    "--agent", "triamcinolone 40 mg/mL 0.5 mL", patient_flags=("--diabetic",), lang="es")
    text = " ".join(" ".join(pages).split())
    assert ("trapecio superior, ambos lados (parte de arriba del hombro) — 2 sitios a la izquierda, "
            "1 sitio a la derecha") in text
    assert "Los medicamentos fueron lidocaína (para adormecer la zona) y triamcinolona" in text
    assert "El esteroide puede subirlo." in text  # el azúcar: masculine
    assert "punto" not in text.lower()


@pytest.mark.parametrize(("items", "lang", "expected"), [
    (["A"], "en", "A"), (["A", "B"], "en", "A and B"), (["A", "B", "C"], "en", "A, B and C"),
    (["A", "B", "C"], "es", "A, B y C"), (["lidocaína", "ibuprofeno"], "es", "lidocaína e ibuprofeno"),
    (["agua", "hielo"], "es", "agua y hielo"),
])
def test_lists_read_as_each_language_writes_them(items, lang, expected):
    assert listing(items, handout_texts(lang)) == expected


def test_salt_water_alone_is_not_called_a_medicine(tpi, tmp_path):
    _, pages = make(tpi, tmp_path, "--site", "QL:left", "--agent", "saline 2 mL")
    text = " ".join(" ".join(pages).split())
    assert "We used salt water only, with no medicine in it." in text
    assert "The medicine was" not in text


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value
    return [string for item in items for string in _strings(item)]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_no_word_of_the_handout_is_wider_than_the_narrowest_column_it_can_print_in(lang):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from tpi_cli.pdf.common import FONT_BOLD, make_styles
    from tpi_cli.pdf.handout import GUTTER, WIDTH

    make_styles(12)
    units = [unit for line in _strings(handout_texts(lang)) for unit in keep_together(line).split(" ")]
    # regular print: half the page at 12 pt (headings 15 % larger) less a bullet's indent; large print:
    # the whole width at 16 pt
    for size, width in ((12 * 1.15, (WIDTH - GUTTER) / 2 - 12 * 1.2), (16 * 1.15, WIDTH - 16 * 1.2)):
        widest = max(units, key=lambda unit: stringWidth(unit, FONT_BOLD, size))
        assert stringWidth(widest, FONT_BOLD, size) < width, widest


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


def test_text_comes_out_in_reading_order_header_body_footer(tpi, tmp_path):
    """The drawing order is the reading order: tools that ignore the structure tree read it too."""
    _, pages = make(tpi, tmp_path, "--site", "UT:left:2", "--site", "UT:right", "--agent", "lidocaine 1% 3 mL",
                    "--agent", "triamcinolone 40 mg/mL 0.5 mL", patient_flags=("--diabetic", "--anticoagulated"))
    order = ["For: Ana Núñez", "Care after your trigger point shots", "Call 911 right away", "What we did today",
             "What to expect", "When to call us", "You also got a steroid", "You take a blood thinner",
             "Questions? Call (555) 010-2000.", "Page 1 of"]
    first = pages[0]
    assert [first.index(marker) for marker in order] == sorted(first.index(marker) for marker in order)
    for number, page in enumerate(pages, start=1):
        assert any(line.startswith("For: Ana Núñez") for line in page.split("\n")[:2])  # the clinic's line first
        assert page.rstrip().endswith(f"Page {number} of {len(pages)}")


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize(("large", "most"), [(False, 2), (True, 4)])
def test_a_busy_seven_site_visit_still_fits_one_sheet(tpi, tmp_path, lang, large, most):
    """Epinephrine, both sides of the chest wall, the kidney and sciatic-nerve lines, a steroid in a diabetic
    patient on a blood thinner: every optional section at once."""
    sites = ["UT:left:2", "UT:right", "rhomboid major:left", "rhomboid major:right", "levator:left", "QL:right",
             "piriformis:left"]
    reader, _ = make(tpi, tmp_path, *[flag for site in sites for flag in ("--site", site)],
                     "--agent", "lidocaine 1% with epinephrine 6 mL", "--agent", "triamcinolone 40 mg/mL 0.5 mL",
                     patient_flags=("--diabetic", "--anticoagulated"), lang=lang, large=large)
    assert len(reader.pages) <= most
