from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tpi_cli.errors import StoreError
from tpi_cli.models import Patient, VisitInput
from tpi_cli.store import Store
from tpi_cli.workflow import add_patient, import_records, log_visit


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def a_patient(pid="P001"):
    return Patient(id=pid, name="Zofia Łukasiewicz", dob="1950-01-01", weight_kg=60)


def a_visit(pid="P001", **extra):
    return VisitInput.model_validate({"patient_id": pid, "date": "2026-11-01", "consent": "verbal",
                                      "sites": [{"muscle": "QL", "side": "left"}], "pain_before": 6,
                                      "pain_after": 2, **extra})


def test_store_files_are_private(store_path):
    store = Store(store_path)
    add_patient(store, a_patient())
    log_visit(store, a_visit())
    assert mode(store_path) == 0o700
    assert mode(store_path / "visits") == 0o700
    files = [p for p in store_path.rglob("*") if p.is_file()]
    assert files and all(mode(p) == 0o600 for p in files), {str(p): oct(mode(p)) for p in files}


def test_reading_a_missing_store_says_so_and_creates_nothing(store_path):
    store = Store(store_path)
    for read in (store.patients, store.visits, store.settings):
        with pytest.raises(StoreError, match="no tpi store at"):
            read()
    assert not store_path.exists()


def test_a_damaged_store_file_is_reported_with_its_path_and_left_untouched(tpi, patient, store_path):
    main = store_path / "tpi.json"
    main.write_text('{"patients": {"1": {"id": "P0')
    before = main.read_bytes()
    for args in (["patient", "list"],
                 ["patient", "add", "--id", "P002", "--name", "B", "--dob", "1990-01-01"],
                 ["log-visit", "--patient", "P001", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2"]):
        result = tpi(*args)
        assert result.exit_code == 3, result.stderr
        assert str(main) in result.stderr and "damaged" in result.stderr
        assert "Traceback" not in result.stderr
    assert main.read_bytes() == before


def test_a_damaged_visit_file_is_reported_and_left_untouched(tpi, log, patient, store_path):
    log("--site", "QL:left", "--pain-before", "5", "--pain-after", "2")
    shard = store_path / "visits" / "p-P001.json"
    shard.write_bytes(b"\x00\x01garbage")
    result = tpi("log-visit", "--patient", "P001", "--site", "QL:left", "--pain-before", "5", "--pain-after", "2")
    assert result.exit_code == 3 and str(shard) in result.stderr
    assert shard.read_bytes() == b"\x00\x01garbage"


def test_an_unwritable_store_is_exit_3_naming_the_path(tpi, tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "file-not-folder"
        blocker.write_text("x")
        target = blocker / "store"
    else:
        target = tmp_path / "ro" / "store"
        (tmp_path / "ro").mkdir(mode=0o500)
    result = tpi("--store", str(target), "patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01")
    assert result.exit_code == 3
    assert str(target) in result.stderr


def test_a_newer_store_schema_is_refused(store_path):
    store = Store(store_path)
    add_patient(store, a_patient())
    data = json.loads((store_path / "tpi.json").read_text())
    data["meta"] = {"1": {"schema_version": 99}}
    (store_path / "tpi.json").write_text(json.dumps(data))
    with pytest.raises(StoreError, match="newer tpi"):
        add_patient(store, a_patient("P002"))


def test_leftover_temp_files_from_a_crash_are_ignored_and_swept(store_path):
    store = Store(store_path)
    add_patient(store, a_patient())
    (store_path / ".tpi.json.999.tmp").write_text('{"half')
    log_visit(store, a_visit())
    assert not list(store_path.glob("*.tmp")) and len(store.visits("P001")) == 1


def _crashing_batch(store_path, monkeypatch, before_commit: bool):
    """Import two patients' records and die just before or just after the commit point (kill -9)."""
    from tpi_cli import store as store_module

    store = Store(store_path)
    add_patient(store, a_patient())
    real_write = store_module.write_private_file

    def write(path, data):
        if path.name == "journal.json" and before_commit:
            raise SystemExit("killed before the journal was written")
        real_write(path, data)
        if path.name == "journal.json":
            raise SystemExit("killed after the journal was written")

    monkeypatch.setattr(store_module, "write_private_file", write)
    records = [(1, a_patient("P002").model_dump(mode="json")), (2, a_visit("P002").model_dump(mode="json")),
               (3, a_visit("P001").model_dump(mode="json"))]
    with pytest.raises(SystemExit):
        import_records(store, records)
    monkeypatch.undo()


def test_a_batch_committed_before_a_crash_is_completed_on_the_next_open(store_path, monkeypatch):
    _crashing_batch(store_path, monkeypatch, before_commit=False)
    assert (store_path / "journal.json").exists()
    reopened = Store(store_path)
    assert [p.id for p in reopened.patients()] == ["P001", "P002"]
    assert [v.id for v in reopened.visits("P001")] == ["P001-V1"]
    assert [v.id for v in reopened.visits("P002")] == ["P002-V1"]
    assert not (store_path / "journal.json").exists()
    assert not list(store_path.rglob(".*.staged"))


def test_a_batch_not_committed_before_a_crash_leaves_nothing(store_path, monkeypatch):
    _crashing_batch(store_path, monkeypatch, before_commit=True)
    assert list(store_path.rglob(".*.staged"))
    store = Store(store_path)
    assert [p.id for p in store.patients()] == ["P001"]
    log_visit(store, a_visit())
    assert [v.id for v in store.visits("P001")] == ["P001-V1"]
    assert store.visits("P002") == []
    assert not list(store_path.rglob(".*.staged"))


def test_threads_logging_at_once_lose_nothing(store_path):
    store = Store(store_path)
    add_patient(store, a_patient())

    def log_one(_):
        return log_visit(Store(store_path), a_visit()).id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(log_one, range(20)))
    assert len(set(ids)) == 20
    assert len(Store(store_path).visits("P001")) == 20


def test_three_processes_logging_at_once_lose_nothing(store_path, tpi, patient):
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from tpi_cli.cli import app\n"
        "for i in range(8):\n"
        "    r = CliRunner().invoke(app, ['log-visit', '--patient', 'P001', '--site', 'QL:left',\n"
        "                                 '--pain-before', '5', '--pain-after', '2'])\n"
        "    assert r.exit_code == 0, r.stderr\n"
    )
    env = {**os.environ, "TPI_STORE": str(store_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    visits = Store(store_path).visits("P001")
    assert len(visits) == 24 and len({v.id for v in visits}) == 24


def test_kill_9_during_writes_leaves_a_working_store(store_path, tpi, patient):
    """Kill a writer at random moments; the store must open and work after each kill."""
    import random
    import time

    code = (
        "from typer.testing import CliRunner\n"
        "from tpi_cli.cli import app\n"
        "while True:\n"
        "    CliRunner().invoke(app, ['log-visit', '--patient', 'P001', '--site', 'QL:left',\n"
        "                             '--pain-before', '5', '--pain-after', '2'])\n"
    )
    env = {**os.environ, "TPI_STORE": str(store_path)}
    rng = random.Random(1)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", code], env=env)
        time.sleep(rng.uniform(0.8, 1.6))
        proc.kill()
        proc.wait()
        store = Store(store_path)
        count = len(store.visits("P001"))
        log_visit(store, a_visit())
        assert len(store.visits("P001")) == count + 1
