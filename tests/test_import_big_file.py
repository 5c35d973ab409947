"""A big history is refused at the line where it goes wrong, wherever that line is, and nothing is written."""

from __future__ import annotations

import json

import pytest

from tpi_cli import workflow
from tpi_cli.errors import InputError, RefusedError
from tpi_cli.store import Store
from tpi_cli.synthetic import clinic_records
from tpi_cli.workflow import import_file


@pytest.fixture(scope="module")
def history() -> list[dict]:
    return clinic_records(40, 15, seed=3)


@pytest.fixture(autouse=True, params=["shared", "one process"])
def sharing(request, monkeypatch):
    """Each test with the import's checks shared with a forked copy (tpi_cli.forked: it takes some of the patients) and
    in one process."""
    monkeypatch.setattr(workflow, "SHARED_FROM_VISITS", 0 if request.param == "shared" else 10**9)


def _write(path, records) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _nothing_written(store: Store) -> None:
    """No store: no folder, or the folder the refused import made holding only its lock file (read as no store)."""
    assert not store.root.exists() or sorted(p.name for p in store.root.iterdir()) == ["store.lock"]


def test_a_key_given_twice_on_the_last_line_of_a_big_file_is_named_and_nothing_is_written(history, tmp_path):
    source = tmp_path / "history.jsonl"
    _write(source, history)
    text = source.read_text(encoding="utf-8").rstrip("\n")
    head, last = text.rsplit("\n", 1)
    source.write_text(head + "\n" + last.replace('"unit": "%"}', '"unit": "%", "unit": "%"}', 1) + "\n")
    store = Store(tmp_path / "store")
    with pytest.raises(InputError, match=rf'^line {len(history)}: "unit" is given twice in one record'):
        import_file(store, source)
    _nothing_written(store)


def test_a_refusal_in_the_middle_of_a_patients_visits_names_its_line_and_nothing_is_written(history, tmp_path):
    records = [dict(r) for r in history]
    visits = [n for n, r in enumerate(records) if r["type"] == "visit" and r["patient_id"] == "P00020"]
    middle = visits[len(visits) // 2]
    records[middle] = {**records[middle], "override_reason": None,
                       "agents": [{"drug": "lidocaine", "concentration": {"value": 2, "unit": "%"}, "volume_ml": 40.0}]}
    source = tmp_path / "history.jsonl"
    _write(source, records)
    store = Store(tmp_path / "store")
    with pytest.raises(RefusedError, match=rf"^line {middle + 1}: refused by the local anesthetic dose check"):
        import_file(store, source)
    _nothing_written(store)
    records[middle]["override_reason"] = "a long procedure, supervised"
    _write(source, records)
    result = import_file(store, source)
    assert (result.patients, result.visits) == (40, sum(r["type"] == "visit" for r in records))
    assert store.verify_audit().ok  # the refused import left nothing in the trail either
