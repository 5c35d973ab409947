"""Text is stored as typed or refused: a key given twice, a control character, a byte that is not UTF-8.

Each of these used to be taken silently (the last of two pain scores, an invisible character the PDF draws
as a space) or refused with a message about "raw data" that named no field.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

VISIT = {"patient_id": "P001", "date": "2026-01-05", "sites": [{"muscle": "upper trapezius", "side": "left",
         "points": 2}], "agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 2}],
         "pain_before": 7, "pain_after": 2, "diagnoses": ["M79.18"], "consent": "verbal"}


def visit_line(**extra: object) -> str:
    return json.dumps({**VISIT, **extra}, ensure_ascii=False)


def stored_visits(tpi) -> list[dict]:
    return json.loads(tpi("visits", "--json").stdout or "[]")


@pytest.mark.parametrize(("line", "message"), [
    (visit_line()[:-1] + ', "pain_after": 9}', 'line 1: "pain_after" is given twice in one record'),
    (visit_line().replace('"points": 2', '"points": 2, "points": 3'), 'line 1: "points" is given twice'),
    (visit_line(notes="before\u0001after"), "line 1: notes: holds the control character U+0001, which does not print"),
    (visit_line(notes="nul\u0000"), "line 1: notes: holds the control character U+0000"),
    (visit_line(needle="27G\u009b"), "line 1: needle: holds the control character U+009B"),
    (visit_line()[:-1] + ', "notes": "a\\ud800b"}', "line 1: notes: holds \\ud800, half of a UTF-16 pair"),
    (visit_line(complications=["ok", "bad\u0007"]), "line 1: complications.1: holds the control character U+0007"),
])
def test_an_import_line_that_cannot_be_stored_as_typed_is_refused_naming_the_field(tpi, patient, tmp_path, line,
                                                                                   message):
    source = tmp_path / "visits.jsonl"
    source.write_text(line + "\n", encoding="utf-8")
    result = tpi("import", str(source))
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "raw data" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert stored_visits(tpi) == []


def test_tabs_and_line_breaks_in_notes_are_text_and_kept(tpi, patient, tmp_path):
    source = tmp_path / "visits.jsonl"
    source.write_text(visit_line(notes="line one\nline two\tindented") + "\n", encoding="utf-8")
    assert tpi("import", str(source)).exit_code == 0
    assert stored_visits(tpi)[0]["notes"] == "line one\nline two\tindented"


def test_a_from_file_record_with_a_key_given_twice_is_refused(tpi, patient, tmp_path):
    source = tmp_path / "visit.json"
    source.write_text(visit_line()[:-1] + ', "pain_before": 3}', encoding="utf-8")
    result = tpi("log-visit", "--from-file", str(source))
    assert result.exit_code == 2
    assert '"pain_before" is given twice in one record; keep the one you mean' in result.stderr
    assert stored_visits(tpi) == []


@pytest.mark.parametrize(("flag", "value", "field"), [
    ("--notes", "left\x01right", "notes: holds the control character U+0001"),
    ("--needle", "27G\x1b[31m", "needle: holds the control character U+001B"),
    ("--notes", "Jos\udce9", "notes: holds the byte 0xE9, which is not UTF-8 text"),
])
def test_a_flag_with_text_that_would_not_print_as_typed_is_refused(tpi, patient, flag, value, field):
    result = tpi("log-visit", "-p", "P001", "-s", "UT:left:2", "-a", "lidocaine 1% 2 mL", "--pain", "7/2",
                 "--dx", "M79.18", "--consent", "verbal", flag, value)
    assert result.exit_code == 2, result.stderr
    assert field in result.stderr
    assert stored_visits(tpi) == []


def test_a_latin1_name_typed_in_a_terminal_is_refused_with_the_byte_named_and_nothing_written(tmp_path):
    """The installed command given a byte that is not UTF-8 (a terminal set to Latin-1 typing José)."""
    env = {**os.environ, "TPI_STORE": str(tmp_path / "store"), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "tpi_cli", "patient", "add", "--id", "P9", "--name", b"Jos\xe9".decode(
        "utf-8", "surrogateescape"), "--dob", "1970-01-01", "--weight-kg", "70"]
    result = subprocess.run([os.fsencode(a) for a in argv], env=env, capture_output=True, timeout=60, check=False)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert "name: holds the byte 0xE9, which is not UTF-8 text" in stderr and "Traceback" not in stderr
    listing = subprocess.run([sys.executable, "-m", "tpi_cli", "patient", "list", "--json"], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    assert "P9" not in listing.stdout
