"""A big import shares its checks with a forked copy of tpi (tpi_cli.forked) and reads each visit line again from the
file instead of holding it (files.TextLines): the store it writes, and every refusal, are exactly those of an import
done in one process from lines held in memory. A CSV export of many patients shares its rows the same way: the
same bytes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpi_cli import documents, forked, workflow
from tpi_cli import store as store_module
from tpi_cli.errors import InputError
from tpi_cli.files import TextLines
from tpi_cli.store import Store
from tpi_cli.synthetic import clinic_records
from tpi_cli.workflow import import_file

needs_a_second_core = pytest.mark.skipif(not forked.can_share(), reason="shared only on Linux with 2+ cores")


def _children() -> set[str]:
    return {child for task in Path("/proc/self/task").iterdir() for child in (task / "children").read_text().split()}


@pytest.fixture
def leaves_no_process():
    """Every process a test's import or map started has ended and been waited for when it returns (the servers
    other tests started may run on)."""
    before = _children()
    yield
    assert _children() <= before


@needs_a_second_core
@settings(max_examples=25, deadline=None)
@given(count=st.integers(0, 40), slow=st.sets(st.integers(0, 39), max_size=10), slow_here=st.booleans())
def test_every_result_comes_in_order_from_whichever_process_worked_on_it(count, slow, slow_here):
    here, before = os.getpid(), _children()

    def work(n):
        if n in slow and (os.getpid() == here) == slow_here:  # one process or the other falls behind
            time.sleep(0.002)
        return n * n

    got = list(forked.shared_map(work, list(range(count)), sent=lambda r: -r))
    assert [(value if not given else -value) for given, value in got] == [n * n for n in range(count)]
    assert all(not given for given, _ in got[:1])  # the first item is always worked on here
    assert _children() <= before


@pytest.mark.usefixtures("leaves_no_process")
@needs_a_second_core
def test_the_less_busy_process_takes_more_of_the_items():
    here = os.getpid()

    def work(n):
        time.sleep(0.02 if os.getpid() == here else 0.001)  # this process, say, writes files meanwhile
        return n

    got = list(forked.shared_map(work, list(range(40))))
    assert [value for _, value in got] == list(range(40))
    assert sum(given for given, _ in got) >= 30


@pytest.mark.usefixtures("leaves_no_process")
@needs_a_second_core
def test_an_item_whose_work_raises_raises_here_after_every_earlier_result():
    def work(n):
        if n == 7:
            raise ValueError("item 7 is bad")
        return n

    got = []
    with pytest.raises(ValueError, match="^item 7 is bad$"):
        got.extend(forked.shared_map(work, list(range(20))))
    assert [value for _, value in got] == list(range(7))


@pytest.mark.usefixtures("leaves_no_process")
@needs_a_second_core
@pytest.mark.parametrize("how", ["raises there only", "exits", "is killed"])
def test_what_the_copy_cannot_give_is_worked_on_here(how):
    here = os.getpid()

    def work(n):
        if os.getpid() != here:  # the copy fails at the first item it takes
            if how == "raises there only":
                raise MemoryError
            if how == "exits":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)
        return n * 10

    got = list(forked.shared_map(work, list(range(12))))
    assert got == [(False, n * 10) for n in range(12)]


def test_no_process_to_be_had_means_every_item_is_worked_on_here(monkeypatch):
    def refused():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(forked.os, "fork", refused)
    got = list(forked.shared_map(lambda n: n + 1, list(range(9))))
    assert got == [(False, n + 1) for n in range(9)]


@pytest.mark.usefixtures("leaves_no_process")
@needs_a_second_core
def test_a_consumer_that_stops_early_leaves_no_process_behind():
    results = forked.shared_map(lambda n: n, list(range(100)))
    assert [next(results)[1] for _ in range(3)] == [0, 1, 2]
    results.close()


# --- the import --------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def history() -> list[dict]:
    return clinic_records(30, 12, seed=5)


@pytest.fixture
def by_the_copy(monkeypatch) -> list[bool]:
    """For each patient an import checks, in order: whether the forked copy checked it (see shared_map)."""
    told: list[bool] = []

    def spied(*args, **kwargs):
        for result in forked.shared_map(*args, **kwargs):
            told.append(result[0])
            yield result

    monkeypatch.setattr(workflow, "shared_map", spied)
    return told


@pytest.fixture(params=["shared", "one process"])
def sharing(request, monkeypatch):
    monkeypatch.setattr(workflow, "SHARED_FROM_VISITS", 0 if request.param == "shared" else 10**9)
    return request.param


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _stored(store: Store) -> tuple[list[dict], list[tuple[str, str]]]:
    visits = [{k: v for k, v in doc.items() if k not in ("recorded_at",)} for doc in store.visit_records(voided=True)]
    events = [(event["action"], event["record"]) for _, event in store.audit_events()]
    return visits, events


@pytest.mark.usefixtures("leaves_no_process")
def test_a_shared_import_writes_the_store_an_import_in_one_process_writes(history, tmp_path, monkeypatch,
                                                                           by_the_copy):
    source = tmp_path / "history.jsonl"
    _write(source, history)
    stores = {}
    for mode, threshold in (("shared", 0), ("one process", 10**9)):
        monkeypatch.setattr(workflow, "SHARED_FROM_VISITS", threshold)
        store = Store(tmp_path / mode)
        result = import_file(store, source, user="dr")
        if mode == "shared":
            assert (by_the_copy.count(True) > 0) == forked.can_share()  # the copy checked some of the patients
        assert (result.patients, result.visits) == (30, 360)
        assert store.verify_audit().ok
        stores[mode] = _stored(store)
    assert stores["shared"] == stores["one process"]
    assert len(stores["shared"][0]) == 360


@pytest.mark.usefixtures("leaves_no_process")
def test_tpi_import_and_export_csv_as_a_user_runs_them_share_their_work(history, tmp_path, monkeypatch, tpi):
    monkeypatch.setattr(workflow, "SHARED_FROM_VISITS", 0)
    monkeypatch.setattr(documents, "SHARED_FROM_PATIENTS", 0)
    source = tmp_path / "history.jsonl"
    _write(source, history)
    imported = tpi("import", str(source))
    assert (imported.exit_code, imported.stderr.strip()) == (0, "Imported 30 patients and 360 visits.")
    exported = tpi("export", "csv", "-o", "-")
    assert exported.exit_code == 0
    assert len(list(csv.reader(io.StringIO(exported.stdout)))) == 361  # the header and a row per visit
    assert tpi("audit", "verify").exit_code == 0


@pytest.mark.usefixtures("leaves_no_process")
def test_a_csv_import_holds_its_rows_and_is_not_shared(history, tmp_path, monkeypatch, by_the_copy):
    source = tmp_path / "history.jsonl"
    _write(source, history)
    exporter = Store(tmp_path / "exporter")
    import_file(exporter, source)
    table = tmp_path / "visits.csv"
    table.write_bytes(b"".join(documents.csv_export(exporter)))
    monkeypatch.setattr(workflow, "SHARED_FROM_VISITS", 0)
    by_the_copy.clear()  # the export's store was imported too
    result = import_file(Store(tmp_path / "store"), table)
    assert (result.patients, result.visits) == (30, 360)
    assert by_the_copy == [False] * 30  # every patient checked in this process


@pytest.mark.usefixtures("leaves_no_process")
def test_an_unreadable_line_after_a_refusal_is_named_first_in_file_order(history, tmp_path, sharing):
    records = [dict(r) for r in history]
    p10 = [n for n, r in enumerate(records) if r["type"] == "visit" and r["patient_id"] == "P00010"]
    p25 = [n for n, r in enumerate(records) if r["type"] == "visit" and r["patient_id"] == "P00025"]
    records[p10[0]] = {**records[p10[0]], "override_reason": None,
                       "agents": [{"drug": "lidocaine", "concentration": {"value": 2, "unit": "%"}, "volume_ml": 40.0}]}
    records[p25[-1]] = {**records[p25[-1]], "pain_before": "five"}
    source = tmp_path / "history.jsonl"
    _write(source, records)
    with pytest.raises(InputError, match=rf"^line {p25[-1] + 1}: pain_before"):
        import_file(Store(tmp_path / "store"), source)


@pytest.mark.usefixtures("leaves_no_process")
def test_a_line_changed_while_it_is_imported_is_refused_and_nothing_is_written(history, tmp_path, sharing,
                                                                               monkeypatch):
    source = tmp_path / "history.jsonl"
    _write(source, history)
    line = next(n for n, r in enumerate(history) if r["type"] == "visit" and r["patient_id"] == "P00020") + 1
    real_import = workflow._import

    def edited_meanwhile(*args, **kwargs):
        text = source.read_bytes().split(b"\n")
        text[line - 1] = text[line - 1].replace(b'"pain_after": ', b'"pain_after":', 1) + b" "  # same length
        source.write_bytes(b"\n".join(text))
        return real_import(*args, **kwargs)

    monkeypatch.setattr(workflow, "_import", edited_meanwhile)
    store = Store(tmp_path / "store")
    with pytest.raises(InputError, match=rf"^line {line}: .*history.jsonl changed while it was being imported; "
                                         "import it again$"):
        import_file(store, source)
    assert not store.root.exists() or sorted(p.name for p in store.root.iterdir()) == ["store.lock"]


@pytest.mark.usefixtures("leaves_no_process")
def test_a_history_from_a_pipe_is_imported_as_from_a_file(history, tmp_path, sharing):
    fifo = tmp_path / "history.jsonl"
    os.mkfifo(fifo)
    text = "".join(json.dumps(r) + "\n" for r in history).encode()
    writer = threading.Thread(target=lambda: fifo.write_bytes(text))
    writer.start()
    store = Store(tmp_path / "store")
    result = import_file(store, fifo)
    writer.join()
    assert (result.patients, result.visits) == (30, 360)


@pytest.mark.usefixtures("leaves_no_process")
@pytest.mark.parametrize("period", ["all", "since", "until"])
def test_a_shared_csv_export_is_the_same_bytes(history, tmp_path, monkeypatch, period):
    source = tmp_path / "history.jsonl"
    _write(source, history)
    store = Store(tmp_path / "store")
    import_file(store, source)
    dates = sorted(dt.date.fromisoformat(r["date"]) for r in history if r["type"] == "visit")
    middle = dates[len(dates) // 2]  # half of the visits on each side
    since, until = {"all": (None, None), "since": (middle, None), "until": (None, middle)}[period]
    exported, told = {}, []
    for mode, threshold in (("shared", 0), ("one process", 10**9)):
        monkeypatch.setattr(documents, "SHARED_FROM_PATIENTS", threshold)
        told.clear()
        exported[mode] = b"".join(documents.csv_export(store, since=since, until=until,
                                                       progress=lambda *step: told.append(step)))
        assert told[-1] == ("Exporting patients", 30, 30)
    assert exported["shared"] == exported["one process"]
    assert exported["shared"].count(b"\r\n") > (100 if since or until else 360)


@pytest.mark.usefixtures("leaves_no_process")
@pytest.mark.parametrize("damaged", [None, "P00008", "P00009"])  # one read by each process when shared
def test_a_shared_listing_gives_what_one_process_gives(history, tmp_path, monkeypatch, tpi, damaged):
    source = tmp_path / "history.jsonl"
    _write(source, history)
    assert tpi("import", str(source)).exit_code == 0
    if damaged:
        shard = tmp_path / "store" / "visits" / f"p-{damaged}.json"
        shard.write_bytes(shard.read_bytes()[:-40])
    middle = sorted(r["date"] for r in history if r["type"] == "visit")[180]
    listings = {}
    for mode, threshold in (("shared", 0), ("one process", 10**9)):
        monkeypatch.setattr(store_module, "SHARED_FROM_FILES", threshold)
        listings[mode] = [(run.exit_code, run.stdout, run.stderr) for run in (
            tpi("visits", "--json", "--limit", "0"), tpi("visits", "--limit", "0"),
            tpi("visits", "--since", middle, "--limit", "0"), tpi("visits", "--until", middle, "--json"))]
    assert listings["shared"] == listings["one process"]
    if damaged:
        assert {code for code, _, _ in listings["shared"]} == {3}
    else:
        assert len(json.loads(listings["shared"][0][1])) == 360


@pytest.mark.usefixtures("leaves_no_process")
@pytest.mark.parametrize("transaction", [True, False])
def test_a_shared_fhir_export_is_the_same_bytes(history, tmp_path, monkeypatch, transaction):
    source = tmp_path / "history.jsonl"
    _write(source, history)
    store = Store(tmp_path / "store")
    import_file(store, source)
    with store.transaction():
        store.set_setting("clinic.name", "Valley Pain Clinic")  # its Organization entry: once, with the first visit
    exported = {}
    for mode, threshold in (("shared", 0), ("one process", 10**9)):
        monkeypatch.setattr(documents, "SHARED_FROM_PATIENTS", threshold)
        exported[mode] = b"".join(documents.fhir_export(store, transaction=transaction))
    # the same bytes after the Bundle's opening, whose id and timestamp are the moment of export
    assert exported["shared"].split(b"\n", 1)[1] == exported["one process"].split(b"\n", 1)[1]
    entries = json.loads(exported["shared"])["entry"]
    urls = [entry["fullUrl"] for entry in entries]
    assert len(urls) == len(set(urls))  # each Practitioner and the Organization once
    kinds = [entry["resource"]["resourceType"] for entry in entries]
    assert kinds.count("Organization") == 1 and kinds.count("Practitioner") >= 2
    assert kinds.count("Patient") == 30 and kinds.count("Encounter") == 360


# --- lines read as text mode reads them ---------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "é", "{}", " ", "\n", "\r", "\r\n", "\t", "\u2028", "\x85", "😀"]),
                max_size=30))
def test_lines_are_those_text_mode_reads_and_each_reads_again_the_same(tmp_path_factory, pieces):
    path = tmp_path_factory.mktemp("lines") / "lines.txt"
    path.write_bytes("".join(pieces).encode())
    with open(path, encoding="utf-8") as handle:
        expected = list(enumerate(handle, start=1))
    with TextLines(path, "import") as lines:
        got = list(lines)
        assert [(number, text) for number, text, _ in got] == expected
        assert all(lines.again(where) == text for _, text, where in got)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": "\xff"}\n')
    with pytest.raises(InputError, match=r"^import: .*h.jsonl is not UTF-8 text$"), TextLines(path, "import") as lines:
        list(lines)
