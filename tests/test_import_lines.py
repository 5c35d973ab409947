"""A visit line of a JSON Lines import is validated straight from its text: every line must come out exactly
as the full reading (parse, tell patient from visit, validate) makes it — the same visit, or the same refusal."""

from __future__ import annotations

import json

import pytest

from tpi_cli.errors import InputError, RefusedError
from tpi_cli.store import Store
from tpi_cli.workflow import import_file, import_records, parse_json

PATIENT = '{"type": "patient", "id": "P1", "name": "Ana Núñez", "dob": "1970-01-02", "weight_kg": 70}'
VISIT = ('{"patient_id": "P1", "date": "2024-01-02", "sites": [{"muscle": "upper trapezius", "side": "left", '
         '"points": 2}], "agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, '
         '"volume_ml": 2}], "pain_before": 5, "pain_after": 2, EXTRA}')
EXTRAS = {
    "plain": '"notes": "ok"',
    "typed": '"type": "visit"',
    "type null": '"type": null',
    "type patient": '"type": "patient"',
    "type other": '"type": "visits"',
    "tab in text": '"notes": "a\tb"',
    "control in text": '"notes": "a\x01b"',
    "lone surrogate": '"notes": "a\\ud800b"',
    "surrogate pair": '"notes": "a\\ud83d\\ude00b"',
    "nul escape": '"notes": "a\\u0000b"',
    "escaped key": '"not\\u0065s": "escaped key"',
    "NaN": '"inr": NaN',
    "Infinity": '"inr": Infinity',
    "huge exponent": '"inr": 1e400',
    "negative zero": '"inr": -0.0',
    "whole number for a number": '"inr": 2',
    "1.0 for a whole number": '"pain_before": 1.0',
    "text for a whole number": '"pain_before": "5"',
    "true for a whole number": '"pain_before": true',
    "1 for true": '"ultrasound": 1',
    "5 for text": '"notes": 5',
    "huge integer": '"pain_before": 1000000000000000000000000000000',
    "shadowed bad value": '"pain_before": "x", "pain_before": 3',
    "shadowing bad value": '"pain_before": 3, "pain_before": "x"',
    "twice the same key": '"notes": "first", "notes": "second"',
    "unknown key": '"colour": "blue"',
    "derived key": '"cpt": ["20552"]',
    "blank text": '"needle": "   "',
    "lowercase code": '"diagnoses": ["m79.12"]',
    "bad code": '"diagnoses": ["XYZ"]',
    "ambiguous muscle": '"findings": []',
    "future date": '"follow_up": "2023-01-01"',
    "overdose": '"override_reason": "", "notes": "x"',
    "deep nesting": '"prior_relief": ' + "[" * 5000 + "]" * 5000,
    "trailing comma": '"notes": "x",',
    # a key given twice is found however the line is spaced, wherever the object, and whatever the texts hold
    "twice in a site": '"sites": [{"muscle": "upper trapezius", "side": "left", "side": "right"}]',
    "twice in a concentration": '"agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%", '
                                '"value": 2}, "volume_ml": 2}]',
    "twice in prior relief": '"prior_relief": {"pct": 50, "weeks": 6, "pct": 60}',
    "twice in a score": '"functional_scores": [{"scale": "NDI", "score": 10, "score": 12}]',
    "twice, spaced": '"notes" : "a", "notes"   : "b"',
    "a colon in a text": '"notes": "a\\": b", "needle": ":", "skin_prep": "\\":"',
    "a text of a key's end twice": '"notes": "\\"x\\": 1, \\"x\\": 2"',
    "a colon in a text and a key twice": '"notes": "a\\": b", "needle": "x", "needle": "y"',
    "spaced keys": '"notes"   :   "ok" ,  "needle" :"27G"',
    "no-break space before a colon": '"notes"\u00a0: "x"'.replace("\\u00a0", "\u00a0"),
    "trailing data": '"notes": "x"} {"a": 1',
    "two objects": '"notes": "x"}{"patient_id": "P1"',
    "invalid escape": '"notes": "a\\qb"',
    "escaped slash": '"notes": "a\\/b"',
    "leading zero": '"inr": 01',
    "plus sign": '"inr": +1',
    "bare point": '"inr": .5',
    "point without digits": '"inr": 1.',
    "capital exponent": '"inr": 1E0',
    "minus zero whole": '"pain_after": -0',
    "true in capitals": '"ultrasound": True',
    "single quotes": "'notes': 'x'",
}
# A line that gives pain_before its own way leaves the template's out: a key given twice is a refusal of its own.
LINES = {name: (VISIT.replace('"pain_before": 5, ', "") if extra.startswith('"pain_before"') else VISIT)
         .replace("EXTRA", extra) for name, extra in EXTRAS.items()}
LINES["ambiguous muscle"] = LINES["ambiguous muscle"].replace("upper trapezius", "trapezius")
LINES["overdose"] = LINES["overdose"].replace('"volume_ml": 2}', '"volume_ml": 60}')
LINES["not an object"] = '["patient_id"]'
LINES["a patient by its keys"] = '{"id": "P2", "name": "B", "dob": "1980-01-01", "patient_id": "P2"}'
LINES["BOM"] = "\ufeff" + VISIT.replace("EXTRA", '"notes": "x"')
LINES["with line end"] = VISIT.replace("EXTRA", '"notes": "x"') + "\r"


def outcome(store: Store, run) -> tuple[str, object]:
    try:
        run()
    except (InputError, RefusedError, ValueError) as error:
        return type(error).__name__, str(error)
    visits = [{k: v for k, v in doc.items() if k not in ("recorded_at", "recorded_by")}
              for doc in store.visit_records(voided=True)]
    return "stored", visits


@pytest.mark.parametrize("name", sorted(LINES))
def test_a_visit_line_read_from_its_text_is_what_the_full_reading_makes_of_it(tmp_path, name):
    lines = [PATIENT, LINES[name]]
    source = tmp_path / "lines.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from_text = Store(tmp_path / "text")
    got = outcome(from_text, lambda: import_file(from_text, source))

    full = Store(tmp_path / "full")

    def the_full_way():
        records = [(number, parse_json(line, f"line {number}")) for number, line in enumerate(lines, start=1)]
        import_records(full, records)

    expected = outcome(full, the_full_way)
    assert got == expected
    if name in ("plain", "typed", "surrogate pair", "escaped key"):
        assert got[0] == "stored", got  # the lines that are visits are taken, not all refused
    if name in ("twice the same key", "shadowed bad value", "shadowing bad value"):
        assert got == ("InputError", 'line 2: "pain_before" is given twice in one record; keep the one you mean'
                       .replace("pain_before", "notes" if name == "twice the same key" else "pain_before")), got
    if name in ("nul escape", "lone surrogate", "1.0 for a whole number", "text for a whole number"):
        assert got[0] == "InputError", got
    twice = {"twice in a site": "side", "twice in a concentration": "value", "twice in prior relief": "pct",
             "twice in a score": "score", "twice, spaced": "notes", "a colon in a text and a key twice": "needle"}
    if name in twice:
        assert got == ("InputError", f'line 2: "{twice[name]}" is given twice in one record; keep the one you mean')
    if name in ("a colon in a text", "a text of a key's end twice", "spaced keys", "escaped slash"):
        assert got[0] == "stored", got


def test_the_lines_as_read_keep_their_numbers_and_the_first_bad_one_is_named(tmp_path):
    source = tmp_path / "lines.jsonl"
    source.write_text("\n".join([PATIENT, "", LINES["plain"], LINES["text for a whole number"], "{"]) + "\n")
    store = Store(tmp_path / "s")
    with pytest.raises(InputError, match=r"^line 4: pain_before: must be a whole number"):
        import_file(store, source)
    assert json.loads(LINES["plain"])["notes"] == "ok"
