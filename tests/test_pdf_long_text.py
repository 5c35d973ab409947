"""No text is ever lost in a PDF: long notes, many complications and long names flow onto more pages."""

from __future__ import annotations

import json
import re

import pytest
from pypdf import PdfReader

WORDS = ["muscle", "tender", "band", "reports", "pain", "since", "March", "lifting", "improved", "with", "PT"]
LONG_NAME = " ".join(["Maximiliana-Alexandrina"] * 8)


def all_text(path) -> str:
    """The text of every page without the page header and footer (the lines every page repeats)."""
    pages = [page.extract_text().replace("\u00a0", " ").split("\n") for page in PdfReader(str(path)).pages]
    repeated = set.intersection(*(set(lines) for lines in pages)) if len(pages) > 1 else set()
    body = [line for lines in pages for line in lines
            if line not in repeated and not re.search(r"Page \d+ of \d+", line)]
    return " ".join(" ".join(body).split())


@pytest.mark.parametrize("note", [
    " ".join(WORDS[i % len(WORDS)] + str(i) for i in range(2600))[:20000],
    "x" * 20000,
])
def test_long_notes_and_many_complications_flow_onto_more_pages(tpi, tmp_path, note):
    assert tpi("patient", "add", "--id", "L1", "--name", LONG_NAME, "--dob", "1970-01-01").exit_code == 0
    complications = [flag for i in range(30) for flag in ("--complication", f"complication {i} described at length")]
    result = tpi("log-visit", "--patient", "L1", "--date", "2026-11-02", "--site", "UT:left", "--site",
                 "QL:bilateral:4", "--agent", "lidocaine 1% 3 mL", "--pain-before", "7", "--pain-after", "2",
                 "--notes", note, *complications, "--json")
    assert result.exit_code == 0, result.stderr
    visit = json.loads(result.stdout)["id"]
    assert tpi("visit", "amend", visit, "--reason", "note retyped", "--notes", note[:-4] + " end").exit_code == 0
    for args in (("report", "--visit", visit), ("report", "--patient", "L1"), ("handout", "--visit", visit),
                 ("handout", "--visit", visit, "--large-print")):
        out = tmp_path / "d.pdf"
        result = tpi(*args, "-o", str(out))
        assert result.exit_code == 0, (args, result.stderr)
        text = all_text(out)
        if args[:2] == ("report", "--visit"):
            squeezed = text.replace(" ", "")
            assert (note[:-4] + " end").replace(" ", "") in squeezed  # the note as amended
            assert note.replace(" ", "") in squeezed  # and as first logged, in the amendment
            assert all(f"complication {i} described at length" in text for i in range(30))


def test_a_review_of_years_of_weekly_visits_lists_every_function_score_across_pages(tpi, tmp_path):
    """320 visits with a score each: one table cell for them all grew taller than a page (a LayoutError)."""
    from tpi_cli.synthetic import clinic_records

    history = tmp_path / "history.jsonl"
    records = clinic_records(1, 320, seed=5)
    history.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert tpi("import", str(history)).exit_code == 0
    result = tpi("report", "--patient", "P00001", "-o", str(tmp_path / "review.pdf"))
    assert result.exit_code == 0, result.stderr
    scored = [r for r in records if r.get("functional_scores")]
    text = all_text(tmp_path / "review.pdf")
    assert len(scored) > 200 and text.count(" (cont.)") >= len(scored) // 24 - 1
    last = max(scored, key=lambda r: r["date"])
    assert f"{last['functional_scores'][0]['score']:g}" in text
