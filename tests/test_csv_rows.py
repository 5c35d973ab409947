"""A CSV row is written from the visit's own values and a dump of a few of its fields: held here equal to the row
written from the visit's whole JSON dump (the way it was written before), on every visit of the pinned store (which
uses every field) and of a synthetic clinic, and on those visits with each field varied."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest

from tpi_cli.clinical.doses import dose_by_drug
from tpi_cli.exports import spreadsheet
from tpi_cli.exports.spreadsheet import _AT, _TOTAL_AT, _VISIT_PLAN, _cells, _guard, _json_cell, patient_cells
from tpi_cli.models import Amendment, FunctionalScore, HandoutGiven, Override, PriorRelief, Signature, Visit
from tpi_cli.parsing import format_agent, format_number, format_site
from tpi_cli.store import open_store
from tpi_cli.workflow import import_file

PINNED = Path(__file__).parent / "data" / "csv_export" / "store"


def row_before(patient: list[str], visit: Visit) -> list[str]:
    """The row as it was written before, from the visit's whole JSON dump."""
    record = visit.model_dump(mode="json")
    cells = _cells(_VISIT_PLAN, record)
    cells[_AT["sites"]] = "; ".join(format_site(s) for s in visit.sites)
    cells[_AT["agents"]] = "; ".join(format_agent(a) for a in visit.agents)
    for drug, mg in dose_by_drug(visit.agents).items():
        if drug in _TOTAL_AT:
            cells[_TOTAL_AT[drug]] = format_number(mg)
    cells[_AT["pain_change"]] = str(visit.pain_after - visit.pain_before)
    cells[_AT["cpt"]] = "; ".join(visit.cpt)
    cells[_AT["warnings"]] = _guard("\n".join(visit.warnings))
    for column in ("amendments", "signed", "addenda", "handout_given"):
        value = record[column]
        cells[_AT[column]] = "" if value is None else _json_cell(value)
    cells[_AT["recorded_at"]] = record["recorded_at"] or ""
    cells[_AT["recorded_by"]] = _guard(visit.recorded_by or "")
    return [_guard(visit.id), *patient[1:], *cells]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """(patient cells, visit) of every visit of the pinned store and of a synthetic clinic, voided ones too."""
    import json

    from tpi_cli.synthetic import clinic_records

    pinned = tmp_path_factory.mktemp("pinned") / "store"
    shutil.copytree(PINNED, pinned)
    clinic = tmp_path_factory.mktemp("clinic")
    source = clinic / "clinic.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in clinic_records(12, 6, seed=5)))
    import_file(open_store(str(clinic / "store"), create=True), source)
    pairs = []
    for path in (pinned, clinic / "store"):
        store = open_store(str(path))
        for patient in store.patients():
            pairs += [(patient_cells(patient), visit) for visit in store.visits(patient.id, voided=True)]
    return pairs


def test_every_stored_visits_row_is_the_row_of_its_whole_dump(stored):
    assert len(stored) > 60
    for patient, visit in stored:
        assert spreadsheet.row(patient, visit) == row_before(patient, visit)


AT = dt.datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
VARIED = {
    "procedure_time": [dt.time(0, 0), dt.time(9, 5), dt.time(23, 59), None],
    "prior_relief": [PriorRelief(pct=0, weeks=520), None],
    "functional_scores": [[FunctionalScore(scale="NDI", score=0.0), FunctionalScore(scale="my scale", score=12.5)],
                          []],
    "overrides": [[Override(check="allergy", reason='says "no", = 1')], []],
    "amendments": [[Amendment(at=AT, by="me", reason=None, changes={"notes": {"from": None, "to": "x"}})], []],
    "signed": [Signature(at=dt.datetime(2026, 3, 4, tzinfo=dt.UTC), by="u", name="Dr. Ñ"), None],
    "handout_given": [[HandoutGiven(at=AT, by="u", lang="es", large_print=True)], []],
    "recorded_at": [AT, dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC), dt.datetime(2026, 3, 4, 5, 6, 7), None],
    "weight_kg": [0.1, 61.123456789, 400.0, None],
    "inr": [0.5, 1.25, None],
    "steroid_vial_ml": [1e-05, 2.0, None],
    "follow_up": [dt.date(2099, 12, 31), None],
    "diagnoses": [["M79.18", "Z99.89"], []],
    "notes": ["=1+2", "line\nbreak", "007", None],
    "clinician": ["-x", "@y", None],
    "recorded_by": ["+1", None],
    "warnings": [["=cmd"], []],
}


@pytest.mark.parametrize("field", sorted(VARIED))
def test_a_row_with_a_field_varied_is_the_row_of_its_whole_dump(stored, field):
    rng = random.Random(field)
    for patient, visit in rng.sample(stored, 12):
        for value in VARIED[field]:
            varied = visit.model_copy(update={field: value})
            assert spreadsheet.row(patient, varied) == row_before(patient, varied), (field, value)


def test_the_kept_texts_of_numbers_sites_and_agents_are_those_written_anew(stored):
    """The second time a site, an agent or a number is written, it is taken from what was kept: the same text."""
    for patient, visit in stored[:20] * 2:
        assert spreadsheet.row(patient, visit) == row_before(patient, visit)
    for value in (0.0, -0.0, 1e-05, 2.5, float("nan"), 1e300):
        assert spreadsheet._number_text(value) == spreadsheet._number_text(value) == format_number(value)


@pytest.mark.parametrize("value", ["007", "=1", "Dr. A", "", " x", "x" * 101, 1, 1.0, True, "1", "true"])
def test_a_kept_text_cell_is_the_cell_written_anew(value):
    """Equal values of other types (1, 1.0, True) have texts of their own; a long text is not kept."""
    for _ in range(2):
        assert spreadsheet._text_cell(value) == _guard(str(value))
    assert all(len(text) <= 100 for text in spreadsheet._text_cells.values())


@pytest.mark.parametrize("value", [["M79.18"], ["M79.18", "Z99.89"], ["a\"b", "é"], [], ["x" * 120],
                                   [{"scale": "NDI", "score": -0.0}], [{"scale": "NDI", "score": 0.0}], [1], [True]])
def test_a_kept_list_cell_is_the_cell_written_anew(value):
    import json

    for _ in range(2):
        assert spreadsheet._json_cell(value) == (json.dumps(value, ensure_ascii=False) if value != [] else "")
