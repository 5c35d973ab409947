"""PDFs made from real command lines, read back as text."""

from __future__ import annotations

import json
import stat

import pytest
import textstat
from pypdf import PdfReader


def pdf_text(path) -> str:
    """The text of every page; the non-breaking spaces that keep numbers and dates together read as spaces."""
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages).replace("\u00a0", " ")


def pages(path) -> int:
    return len(PdfReader(str(path)).pages)


@pytest.fixture
def clinic(tpi):
    for key, value in (("clinic.name", "Riverside Pain & Spine"), ("clinic.phone", "(555) 010-2000"),
                       ("clinic.after_hours_phone", "(555) 010-2999"), ("clinic.address", "1 Main St")):
        assert tpi("config", "set", key, value).exit_code == 0


def add_patient(tpi, pid="P1", name="Ana María Núñez", *flags):
    result = tpi("patient", "add", "--id", pid, "--name", name, "--dob", "1960-05-06", "--weight-kg", "70", *flags)
    assert result.exit_code == 0, result.stderr


def log(tpi, pid, *args):
    result = tpi("log-visit", "--patient", pid, "--date", "2026-11-02", "--consent", "verbal",
                 "--pain-before", "7", "--pain-after", "2", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def handout(tpi, tmp_path, *args, name="h.pdf"):
    out = tmp_path / name
    result = tpi("handout", *args, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out, pdf_text(out)


# --- the handout ----------------------------------------------------------------------------------


def test_handout_is_specific_to_the_visit(tpi, tmp_path, clinic):
    add_patient(tpi)
    log(tpi, "P1", "--site", "QL:left:3", "--site", "glute med:right", "--agent", "bupivacaine 0.25% 4 mL",
        "--follow-up", "2026-12-14")
    path, text = handout(tpi, tmp_path, "--patient", "P1")
    assert "quadratus lumborum, left side (low back, above the hip bone)" in text
    assert "gluteus medius, right side" in text
    assert "bupivacaine" in text
    assert "2 to 4 hours" in text  # bupivacaine's numbness after infiltration (AAFP-2014), not lidocaine's
    assert "December 14, 2026" in text
    assert "Ana María Núñez" in text and "May 6, 1960" in text and "November 2, 2026" in text
    assert "Pain diary" in text and "Relief lasted" in text
    assert "steroid" not in text.lower()
    assert "chest pain or hard breathing, even hours later" not in text
    assert "blood thinner" not in text
    assert pages(path) <= 2
    # the clinic phone on every page
    for page in PdfReader(str(path)).pages:
        assert "(555) 010-2000" in page.extract_text()


def test_steroid_lungs_and_blood_thinner_lines_appear_only_when_they_apply(tpi, tmp_path, clinic):
    add_patient(tpi, "P2", "Zofia Łukasiewicz", "--diabetic", "--anticoagulated")
    log(tpi, "P2", "--site", "upper trapezius:left:2", "--agent", "lidocaine 1% 3 mL",
        "--agent", "triamcinolone 40 mg/mL 0.5 mL")
    path, text = handout(tpi, tmp_path, "--patient", "P2")
    assert pages(path) <= 2  # every optional section, still one sheet of paper
    assert "You also got a steroid" in text
    assert "blood sugar" in text
    assert "chest pain or hard breathing, even hours later" in text and "911" in text
    assert "blood thinner" in text and "10 minutes" in text
    assert "1 to 2 hours" in text


def test_dry_needling_handout_has_no_numbing_line(tpi, tmp_path, clinic):
    add_patient(tpi)
    log(tpi, "P1", "--site", "QL:left")
    _, text = handout(tpi, tmp_path, "--patient", "P1")
    assert "dry needling" in text
    assert "wears off" not in text


def test_handout_reads_at_sixth_grade_or_below(tpi, tmp_path, clinic):
    add_patient(tpi, "P2", "Zofia Łukasiewicz", "--diabetic", "--anticoagulated")
    log(tpi, "P2", "--site", "upper trapezius:left:2", "--site", "rhomboid major:right", "--agent",
        "lidocaine 1% 3 mL", "--agent", "triamcinolone 40 mg/mL 0.5 mL", "--follow-up-days", "42")
    _, text = handout(tpi, tmp_path, "--patient", "P2")
    textstat.set_lang("en")
    assert textstat.flesch_kincaid_grade(text) <= 6


def test_spanish_handout_has_the_same_content_and_reads_easily(tpi, tmp_path, clinic):
    add_patient(tpi, "P2", "Zofia Łukasiewicz", "--diabetic", "--anticoagulated")
    log(tpi, "P2", "--site", "upper trapezius:left:2", "--agent", "lidocaine 1% 3 mL",
        "--agent", "triamcinolone 40 mg/mL 0.5 mL", "--follow-up", "2026-12-14")
    _, text = handout(tpi, tmp_path, "--patient", "P2", "--lang", "es")
    for phrase in ("lidocaína", "triamcinolona", "esteroide", "azúcar", "respirar", "911", "Diario del dolor",
                   "14 de diciembre de 2026", "parte de arriba del hombro", "(555) 010-2000"):
        assert phrase in text, phrase
    textstat.set_lang("es")
    assert textstat.fernandez_huerta(text) >= 70
    textstat.set_lang("en")


def test_large_print_is_bigger_type(tpi, tmp_path, clinic):
    add_patient(tpi)
    log(tpi, "P1", "--site", "QL:left:3", "--agent", "lidocaine 1% 3 mL")
    regular, _ = handout(tpi, tmp_path, "--patient", "P1", name="r.pdf")
    large, _ = handout(tpi, tmp_path, "--patient", "P1", "--large-print", name="l.pdf")
    assert pages(large) > pages(regular)
    sizes = []
    PdfReader(str(large)).pages[0].extract_text(
        visitor_text=lambda t, cm, tm, font, size: sizes.append(size * tm[0]) if t.strip() else None)
    assert sizes and min(sizes) >= 12


@pytest.mark.parametrize("name", ["Nguyễn Thị Ánh", "Zofia Łukasiewicz", "Þóra Guðmundsdóttir", "Иван Петров",
                                  "王秀英", "佐藤 花子", "김민준", "A & B <b>x</b>"])
def test_any_name_prints_as_typed(tpi, tmp_path, name):
    add_patient(tpi, "P9", name)
    visit = log(tpi, "P9", "--site", "QL:left", "--notes", "note with <i>tags</i> & ampersand")
    _, text = handout(tpi, tmp_path, "--patient", "P9")
    assert name in text
    summary = tmp_path / "s.pdf"
    assert tpi("report", "--visit", visit["id"], "-o", str(summary)).exit_code == 0
    summary_text = pdf_text(summary)
    assert name in summary_text and "note with <i>tags</i> & ampersand" in summary_text


# --- the visit summary and the progress review ---------------------------------------------------------


def test_visit_summary_is_a_complete_procedure_note(tpi, tmp_path, clinic):
    add_patient(tpi, "P2", "Zofia Łukasiewicz", "--allergy", "sulfite", "--anticoagulated")
    visit = log(tpi, "P2", "--site", "UT:bilateral:4", "--site", "levator:left", "--agent", "lidocaine 1% 5 mL",
                "--agent", "triamcinolone 40 mg/mL 0.5 mL", "--dx", "M79.12", "--needle", "27G 1.25 in",
                "--twitch", "--ultrasound", "--prior-relief-pct", "60", "--prior-relief-weeks", "8",
                "--function", "NDI=24", "--home-exercise", "--complication", "vasovagal")
    tpi("visit", "amend", visit["id"], "--reason", "pain after was 3", "--pain-after", "3")
    out = tmp_path / "summary.pdf"
    assert tpi("report", "--visit", visit["id"], "-o", str(out)).exit_code == 0
    text = pdf_text(out)
    for fact in ("Riverside Pain & Spine", "Zofia Łukasiewicz", "P2", "sulfite", "anticoagulated", "M79.12",
                 "Myalgia of auxiliary muscles", "verbal", "upper trapezius", "bilateral", "levator scapulae",
                 "lidocaine", "50 mg", "17% of 300 mg", "absolute limit 300", "20 mg", "27G 1.25 in", "ultrasound",
                 "twitch", "7 → 3", "60% for 8 weeks", "NDI 24", "vasovagal", "20553", "76942",
                 "3 muscles injected", "pain after was 3", "Front", "Back", "Nov 2, 2026"):
        assert fact in text, fact
    reader = PdfReader(str(out))
    assert reader.metadata.title == f"Procedure note {visit['id']}"
    assert reader.metadata.author == "Riverside Pain & Spine"
    assert reader.metadata.subject


def test_overrides_and_warnings_reach_the_summary(tpi, tmp_path):
    add_patient(tpi, "P3", "Light Patient", "--allergy", "amide")
    visit = log(tpi, "P3", "--site", "QL:left", "--agent", "lidocaine 1% 3 mL", "--override-reason",
                "skin test negative, allergist letter on file")
    out = tmp_path / "summary.pdf"
    tpi("report", "--visit", visit["id"], "-o", str(out))
    text = pdf_text(out)
    assert "allergy" in text and "skin test negative, allergist letter on file" in text


def test_progress_review_shows_trend_responders_and_payer_criteria(tpi, tmp_path, clinic):
    add_patient(tpi, "P4", "Иван Петров")
    for day, before, after, relief in (("2026-01-05", 8, 3, None), ("2026-03-02", 7, 2, ("40", "3")),
                                       ("2026-05-04", 6, 5, ("60", "7"))):
        args = ["--date", day, "--site", "QL:left", "--agent", "lidocaine 1% 3 mL", "--function", "ODI=40",
                "--home-exercise"]
        if relief:
            args += ["--prior-relief-pct", relief[0], "--prior-relief-weeks", relief[1]]
        result = tpi("log-visit", "--patient", "P4", *args, "--pain-before", str(before), "--pain-after",
                     str(after), "--consent", "verbal")
        assert result.exit_code == 0, result.stderr
    out = tmp_path / "review.pdf"
    result = tpi("report", "--patient", "P4", "--until", "2026-06-30", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = pdf_text(out)
    assert "Progress Review" in text and "Иван Петров" in text
    flat = " ".join(text.split())
    assert "2 of 3 (67%)" in flat  # immediate responders, reported apart: 8→3 and 7→2 are, 6→5 is not
    # sustained relief against the index pain 8 of 2026-01-05: 7 (12%) and 6 (25%), so no responder
    assert "0 of 2 follow-up visits ≥ 30%" in flat
    assert "25% relief: pain 6 before the visit of 2026-05-04 against index pain 8 before the first injection on " \
        "2026-01-05" in flat
    assert "relief 60% (≥ 50%) for 7 weeks (≥ 6)" in text
    assert "3 of 3 allowed" in text
    assert "Pain (0-10 numeric rating scale)" in text and "Visit date" in text and "before injection" in text
    # the reported 60% is contradicted by the data: 7 before the March injection, 6 before May's (14%)
    assert "contradicts the reported relief" in " ".join(text.split())
    assert "quadratus lumborum" in text


def test_review_period_filters_visits(tpi, tmp_path):
    add_patient(tpi)
    for day in ("2026-01-05", "2026-03-02", "2026-05-04"):
        tpi("log-visit", "--patient", "P1", "--date", day, "--site", "QL:left", "--pain-before", "6",
            "--pain-after", "2")
    out = tmp_path / "r.pdf"
    assert tpi("report", "--patient", "P1", "--since", "2026-02-01", "--until", "2026-04-01", "-o",
               str(out)).exit_code == 0
    text = pdf_text(out)
    assert "2026-03-02" in text and "2026-01-05" not in text.split("Visits")[1].split("Muscles")[0]
    empty = tpi("report", "--patient", "P1", "--since", "2025-01-01", "--until", "2025-02-01")
    assert empty.exit_code == 2 and "no visits in that period" in empty.stderr


# --- files ---------------------------------------------------------------------------------------------


def test_default_names_never_replace_a_file_and_are_private(tpi, tmp_path, clinic):
    add_patient(tpi)
    visit = log(tpi, "P1", "--site", "QL:left")
    for _ in range(3):
        assert tpi("handout", "--visit", visit["id"]).exit_code == 0
    names = sorted(p.name for p in tmp_path.glob("*.pdf"))
    assert names == ["P1-2026-11-02-handout-2.pdf", "P1-2026-11-02-handout-3.pdf", "P1-2026-11-02-handout.pdf"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in tmp_path.glob("*.pdf"))
    assert "Núñez" not in "".join(names)
    assert tpi("report", "--visit", visit["id"]).exit_code == 0
    assert (tmp_path / "P1-2026-11-02-summary.pdf").exists()


def test_output_file_is_replaced_when_named(tpi, tmp_path):
    add_patient(tpi)
    log(tpi, "P1", "--site", "QL:left")
    out = tmp_path / "mine.pdf"
    out.write_text("old")
    assert tpi("handout", "--patient", "P1", "-o", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["handout"], 2, "--visit"),
        (["handout", "--patient", "NOPE"], 2, "no patient"),
        (["handout", "--patient", "P1", "--lang", "fr"], 2, "--lang"),
        (["report", "--visit", "P1-V9"], 2, "no visit"),
        (["report", "--patient", "P1", "--since", "last week"], 2, "--since"),
        (["handout", "--patient", "P1", "-o", "/nonexistent-folder/x.pdf"], 3, "/nonexistent-folder"),
    ],
)
def test_bad_document_requests(tpi, args, code, message):
    add_patient(tpi)
    log(tpi, "P1", "--site", "QL:left")
    result = tpi(*args)
    assert result.exit_code == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_the_cycle_collector_is_back_on_after_every_document_built_or_refused(tpi, tmp_path):
    # documents pause the collector while they build (start-up, issue 14); a command that goes on after
    # (an export with procedure notes, the demo) must not run with it off
    import gc

    add_patient(tpi)
    visit = log(tpi, "P1", "--site", "QL:left")
    for args in (["handout", "--patient", "P1"], ["report", "--visit", visit["id"]], ["report", "--patient", "P1"],
                 ["report", "--patient", "P1", "--since", "2030-01-01"], ["handout", "--patient", "NOPE"]):
        tpi(*args, "-o", str(tmp_path / "x.pdf"))
        assert gc.isenabled(), args


def test_demo_writes_sample_pdfs_beside_its_own_store(tpi, tmp_path, store_path):
    result = tpi("demo", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.stderr
    made = sorted(p.name.split("-", 4)[-1] for p in (tmp_path / "demo").glob("*.pdf"))
    assert made == ["handout-es.pdf", "handout.pdf", "review.pdf", "summary.pdf"]
    assert not store_path.exists()  # the user's own store is never touched


def test_every_muscle_has_words_for_patients_in_every_language():
    from tpi_cli import vocab
    from tpi_cli.texts import LANGUAGES, handout_texts

    for muscle in vocab.muscles().values():
        assert muscle.plain_en
        for lang in LANGUAGES:
            if lang != "en":
                assert handout_texts(lang)["muscles"].get(muscle.name), (lang, muscle.name)


def test_the_procedure_note_keeps_the_weight_of_the_visit_day(tpi, tmp_path):
    tpi("patient", "add", "--id", "P5", "--name", "A", "--dob", "1960-01-01", "--weight-kg", "50")
    visit = log(tpi, "P5", "--site", "QL:left", "--agent", "lidocaine 1% 20 mL")  # 200 mg of 225 mg at 50 kg
    assert visit["weight_kg"] == 50
    tpi("patient", "update", "P5", "--weight-kg", "80")
    out = tmp_path / "s.pdf"
    assert tpi("report", "--visit", visit["id"], "-o", str(out)).exit_code == 0
    text = pdf_text(out)
    assert "50 kg at this visit (now 80 kg)" in text
    assert "89% of 225 mg" in text
    # an amendment is checked against that day's weight too: 230 mg is over 225 mg at 50 kg
    result = tpi("visit", "amend", visit["id"], "--reason", "volume", "--agent", "lidocaine 1% 23 mL")
    assert result.exit_code == 1 and "for 50 kg" in result.stderr
