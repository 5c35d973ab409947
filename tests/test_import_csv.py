"""A CSV that `tpi export csv` wrote is imported row by row as it is read (its visits held as the text of their
records, not as models): every value comes back exact, and every problem is named by its line, with nothing
written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tpi_cli import documents
from tpi_cli.errors import InputError
from tpi_cli.store import Store
from tpi_cli.synthetic import clinic_records
from tpi_cli.workflow import import_file


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("exported")
    source = folder / "history.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in clinic_records(8, 4, seed=9)), encoding="utf-8")
    store = Store(folder / "store")
    import_file(store, source)
    return b"".join(documents.csv_export(store))


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _nothing_written(store: Store) -> None:
    assert not store.root.exists() or sorted(p.name for p in store.root.iterdir()) == ["store.lock"]


def test_an_export_comes_back_exact(exported, tmp_path):
    table = tmp_path / "visits.csv"
    table.write_bytes(exported)
    store = Store(tmp_path / "store")
    result = import_file(store, table)
    assert (result.patients, result.visits) == (8, 32)
    again = _rows(b"".join(documents.csv_export(store)))
    header = again[0]
    stamped = {header.index("recorded_at"), header.index("recorded_by")}
    assert [[c for i, c in enumerate(r) if i not in stamped] for r in again] == \
        [[c for i, c in enumerate(r) if i not in stamped] for r in _rows(exported)]


def _refused(tmp_path: Path, data: bytes, message: str) -> None:
    table = tmp_path / "visits.csv"
    table.write_bytes(data)
    store = Store(tmp_path / "store")
    with pytest.raises(InputError, match=message):
        import_file(store, table)
    _nothing_written(store)


def test_a_patient_whose_rows_disagree_is_named_with_both_lines(exported, tmp_path):
    rows = _rows(exported)
    header = rows[0]
    first = next(n for n, r in enumerate(rows) if n and r[header.index("patient_id")] == "P00003")
    later = [n for n, r in enumerate(rows) if n > first and r[header.index("patient_id")] == "P00003"][-1]
    rows[later][header.index("patient_weight_kg")] = "99.9"
    lines = [len(_csv(rows[:n]).decode("utf-8-sig").splitlines()) + 1 for n in (first, later)]
    _refused(tmp_path, _csv(rows), rf"^line {lines[1]}: patient P00003 differs from line {lines[0]} ")


def test_a_bad_cell_in_a_late_row_is_named_by_its_first_line(exported, tmp_path):
    rows = _rows(exported)
    header = rows[0]
    rows[-1][header.index("pain_before")] = "seven"
    line = len(_csv(rows[:-1]).decode("utf-8-sig").splitlines()) + 1  # rows before it may span lines
    _refused(tmp_path, _csv(rows), rf"^line {line}: pain_before: 'seven' is not a whole number$")


@pytest.mark.parametrize(("change", "message"), [
    (lambda rows: rows[:1], r"holds no rows$"),
    (lambda rows: [[*rows[0], "extra"]] + [[*r, ""] for r in rows[1:]], r"column\(s\) extra are not ones this tpi reads"),
    (lambda rows: [[c for c in r[1:]] for r in rows], r"not a tpi CSV export: missing column\(s\) visit_id$"),
])
def test_a_file_that_is_not_an_export_is_named(exported, tmp_path, change, message):
    _refused(tmp_path, _csv(change(_rows(exported))), message)


def test_a_file_that_is_not_utf8_is_named(exported, tmp_path):
    _refused(tmp_path, exported[:-20] + b"\xff\xfe" + exported[-18:], r"is not UTF-8 text$")
