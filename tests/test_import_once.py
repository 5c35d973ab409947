"""A JSON Lines import reads only where each visit line belongs (its patient and date) at first, and validates the
whole line once, when its patient's turn comes. Which line an import names must not depend on that: the first line
in the file that cannot be read is named, whatever the patients' turns met first (a refusal, a bad line further
down, an unknown patient), and nothing is written."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpi_cli import workflow
from tpi_cli.errors import InputError, RefusedError, StoreError
from tpi_cli.store import Store


def patient(pid: str) -> str:
    return json.dumps({"type": "patient", "id": pid, "name": f"Name {pid}", "dob": "1970-01-02", "weight_kg": 70})


def visit(pid: str, day: str = "2024-01-02", **changes) -> str:
    record = {"patient_id": pid, "date": day, "sites": [{"muscle": "upper trapezius", "side": "left", "points": 2}],
              "agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 2}],
              "pain_before": 5, "pain_after": 2, **changes}
    return json.dumps(record)


OVERDOSE = {"agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 60}]}


def run_import(tmp_path, lines: list[str]):
    source = tmp_path / "history.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = Store(tmp_path / "store")
    return store, lambda: workflow.import_file(store, source)


def assert_nothing_written(store: Store) -> None:
    """Refused before the store was opened (no folder), or after: the folder it made holds only its lock file."""
    assert not store.root.exists() or sorted(p.name for p in store.root.iterdir()) == ["store.lock"]


@pytest.mark.parametrize("later", [
    pytest.param(visit("P1", "2024-02-01", **OVERDOSE), id="a refusal of an earlier patient's turn"),
    pytest.param(visit("P9"), id="a visit of an unknown patient"),
    pytest.param(visit("P1", "2024-02-01", pain_after="x"), id="a bad line the earlier patient's turn meets first"),
    pytest.param("{not json", id="a line that is not JSON"),
    pytest.param(visit("P1", "2024-01-01"), id="a duplicate of the earlier patient's visit"),
])
def test_the_first_line_that_cannot_be_read_is_named_whatever_comes_after_it(tmp_path, later):
    # P1's turn comes first (its visit is on line 3) and meets LATER on line 5 before P2's bad line 4
    lines = [patient("P1"), patient("P2"), visit("P1", "2024-01-01"), visit("P2", pain_after=11), later]
    store, run = run_import(tmp_path, lines)
    with pytest.raises(InputError, match=r"^line 4: pain_after: "):
        run()
    assert_nothing_written(store)


def test_a_refusal_is_named_when_every_line_can_be_read(tmp_path):
    lines = [patient("P1"), patient("P2"), visit("P1", "2024-01-01"), visit("P2"), visit("P1", "2024-02-01", **OVERDOSE)]
    store, run = run_import(tmp_path, lines)
    with pytest.raises(RefusedError, match=r"^line 5: refused by the local anesthetic dose check"):
        run()
    assert_nothing_written(store)


def test_of_two_bad_lines_the_first_is_named_though_its_patient_comes_later(tmp_path):
    lines = [patient("P1"), patient("P2"), visit("P1", "2024-01-01"), visit("P2", sites=[]),
             visit("P1", "2024-03-01", pain_before=-1)]
    store, run = run_import(tmp_path, lines)
    with pytest.raises(InputError, match=r"^line 4: sites: "):
        run()
    assert_nothing_written(store)


def test_each_visit_line_is_validated_once(tmp_path, monkeypatch):
    read = []
    whole = workflow._visit_from_line

    def counted(text):
        read.append(text)
        return whole(text)

    monkeypatch.setattr(workflow, "_visit_from_line", counted)
    lines = [patient("P1"), patient("P2")] + [visit(pid, f"2024-01-{day:02d}") for day in range(1, 11)
                                               for pid in ("P2", "P1")]
    store, run = run_import(tmp_path, lines)
    result = run()
    assert (result.patients, result.visits) == (2, 20)
    assert sorted(text.rstrip("\n") for text in read) == sorted(lines[2:])  # each visit line once, none twice
    assert sorted(v.date.day for v in store.visits("P1")) == list(range(1, 11))


def test_a_line_placed_by_its_patient_and_date_is_stored_with_them_as_the_whole_reading_makes_them(tmp_path):
    """Whitespace around an id is stripped by both readings, so the line goes with its patient's other visits."""
    lines = [patient("P1"), visit(" P1 ", "2024-01-05"), visit("P1", "2024-01-01")]
    store, run = run_import(tmp_path, lines)
    run()
    stored = sorted((v.date.isoformat(), v.id, v.patient_id) for v in store.visits("P1"))
    assert stored == [("2024-01-01", "P1-V1", "P1"), ("2024-01-05", "P1-V2", "P1")]


def _keys_in(value) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_keys_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(_keys_in(v) for v in value)
    return 0


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(_json_values, st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : "), (",", "\t:"), (",", "\n:")]),
       st.booleans())
def test_a_lines_key_ends_are_never_fewer_than_its_keys(value, separators, ascii_only):
    """A key given twice is looked for whenever pydantic took fewer keys than the line's key ends: counting them
    the quick way must never miss one (a colon in a text may count as one more, never one less)."""
    text = json.dumps({"k": value}, separators=separators, ensure_ascii=ascii_only)
    assert workflow._key_ends(text) >= _keys_in({"k": value})


@pytest.mark.parametrize("bad", [visit("P2", pain_after=11), visit("P1", "2024-02-01", **OVERDOSE)],
                         ids=["a line that cannot be read", "a refusal"])
def test_a_refused_first_import_leaves_no_store_and_no_staged_file(tmp_path, bad):
    lines = [patient("P1"), patient("P2"), visit("P1", "2024-01-01"), bad]
    store, run = run_import(tmp_path, lines)
    with pytest.raises((InputError, RefusedError)):
        run()
    # the folder it had to make holds only the lock file, which every command reads as no store
    assert sorted(p.name for p in store.root.iterdir()) == ["store.lock"]
    with pytest.raises(StoreError, match=r"no tpi store at .* \(the folder is empty\)"):
        store.patients()
    good = [line for line in lines if line != bad]
    (tmp_path / "history.jsonl").write_text("\n".join(good) + "\n", encoding="utf-8")
    result = run()  # the same folder takes the import once it is right
    assert (result.patients, result.visits) == (2, 1)


def test_a_refused_import_into_a_store_leaves_it_as_it_was_and_no_staged_file(tmp_path):
    store, run = run_import(tmp_path, [patient("P1"), visit("P1", "2024-01-01")])
    run()
    before = {p.relative_to(store.root): p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
    _, refused = run_import(tmp_path, [patient("P2"), visit("P2", "2024-01-01"), visit("P1", "2024-02-01", **OVERDOSE)])
    with pytest.raises(RefusedError):
        refused()
    after = {p.relative_to(store.root): p.read_bytes() for p in store.root.rglob("*") if p.is_file()}
    assert after == before
