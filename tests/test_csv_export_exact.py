"""The CSV export is pinned byte for byte on a store that uses every field, and reads back through import.

tests/data/csv_export/store was written by tpi itself (patient add/update, log-visit with every option, amend,
sign, addendum, handout, void, an allergy override) and expected.csv is its export as tpi wrote it before the
export was made faster: any change to a cell, a quote, the column order or the line ends fails here.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "csv_export"
# what the import records anew about the writing itself (or derives from it), never read from the file
WRITTEN_ANEW = ("recorded_at", "recorded_by", "amendments", "signed", "addenda", "handout_given")


@pytest.fixture
def full_store(tmp_path, monkeypatch):
    store = tmp_path / "full"
    shutil.copytree(DATA / "store", store)
    monkeypatch.setenv("TPI_STORE", str(store))
    return store


def rows(raw: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_export_is_byte_identical_to_the_pinned_file(tpi, full_store, tmp_path):
    out = tmp_path / "out.csv"
    result = tpi("export", "csv", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == (DATA / "expected.csv").read_bytes()


def test_csv_export_to_stdout_is_the_same_bytes(tpi, full_store):
    result = tpi("export", "csv", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == (DATA / "expected.csv").read_bytes()


def test_the_pinned_store_uses_every_field_the_export_writes():
    """Guards the pin itself: a column left empty in every row would not be pinned at all."""
    exported = rows((DATA / "expected.csv").read_bytes())
    empty = [column for column in exported[0] if not any(row[column] for row in exported)]
    # drugs no visit of the pinned store was given
    assert all(column.startswith("total_mg_") for column in empty), empty
    assert any(not row["visit_id"] for row in exported)  # a patient without visits
    assert any("\n" in row["notes"] for row in exported)
    assert any(not row["patient_name"].isascii() for row in exported)


def test_the_pinned_export_imports_into_an_empty_store_and_exports_the_same(tpi, full_store, tmp_path, monkeypatch):
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "empty"))
    result = tpi("import", str(DATA / "expected.csv"))
    assert result.exit_code == 0, result.stderr
    again = tpi("export", "csv", "-o", "-")
    assert again.exit_code == 0, again.stderr
    before, after = rows((DATA / "expected.csv").read_bytes()), rows(again.stdout_bytes)
    assert [{k: v for k, v in row.items() if k not in WRITTEN_ANEW} for row in after] == \
           [{k: v for k, v in row.items() if k not in WRITTEN_ANEW} for row in before]


def test_visits_read_from_the_file_text_are_the_models_the_full_reading_gives(full_store):
    """Exports take each visits file straight from its text; a listing parses it, then validates each record."""
    from tpi_cli.store import Store

    store = Store(full_store, create=False)
    from_text = store.visits(voided=True)
    assert not store._cache or list(store._cache) == [full_store / "tpi.json"]  # nothing parsed on the way
    parsed = [visit for _, visit in store._visit_pairs(None, voided=True)]
    assert len(from_text) == 6 and from_text == parsed
    assert [v.model_dump(mode="json") for v in from_text] == [doc for doc, _ in store._visit_pairs(None, voided=True)]
