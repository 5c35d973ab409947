"""Backups: a consistent, encrypted (age format) snapshot that verifies, restores exactly, and opens with `age`."""

from __future__ import annotations

import io
import json
import os
import pty
import shutil
import stat
import tarfile
import threading
import time

import pytest

from tpi_cli import backup as backups
from tpi_cli.models import Patient, VisitInput
from tpi_cli.store import Store
from tpi_cli.workflow import add_patient, log_visit

VISIT = ("--site", "QL:left", "--pain-before", "6", "--pain-after", "2", "--consent", "verbal")
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def clinic(tpi, patient, log):
    assert tpi("config", "set", "clinician", "Dr. Rivera").exit_code == 0
    log(*VISIT)
    log(*VISIT)
    assert tpi("visit", "sign", "P001-V1").exit_code == 0
    assert tpi("visit", "void", "P001-V2", "--reason", "duplicate").exit_code == 0
    assert tpi("patient", "add", "--id", "P002", "--name", "Без визитов", "--dob", "1990-03-04").exit_code == 0


@pytest.fixture
def passphrase_env(monkeypatch):
    monkeypatch.setenv("TPI_BACKUP_PASSPHRASE", PASSPHRASE)


def everything(tpi, store=None):
    """Every record of a store as its JSON listings show them."""
    prefix = ("--store", str(store)) if store else ()
    out = {}
    for args in (("patient", "list"), ("visits", "--all"), ("config", "show")):
        result = tpi(*prefix, *args, "--json")
        assert result.exit_code == 0, result.stderr
        out[args[0]] = json.loads(result.stdout)
    return out


def test_a_plain_backup_verifies_and_restores_record_for_record(tpi, clinic, tmp_path):
    file = tmp_path / "clinic.tpibackup"
    made = tpi("backup", "create", str(file), "--no-encrypt")
    assert made.exit_code == 0, made.stderr
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert tpi("backup", "verify", str(file)).exit_code == 0
    restored = tmp_path / "restored"
    result = tpi("backup", "restore", str(file), "--to", str(restored))
    assert result.exit_code == 0, result.stderr
    assert everything(tpi, restored) == everything(tpi)
    verified = tpi("--store", str(restored), "audit", "verify")
    assert verified.exit_code == 0, verified.stderr
    trail = json.loads(tpi("--store", str(restored), "audit", "--json").stdout)
    original = json.loads(tpi("audit", "--json").stdout)
    assert trail[:-1] == original[:-1]  # the original's last event is the backup itself
    assert (original[-1]["action"], trail[-1]["action"]) == ("backup.create", "backup.restore")
    assert all(stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600) for p in restored.rglob("*"))


@pytest.mark.parametrize(("secret", "warned"), [
    ("a" * 14, True), ("four random words", False), ("a" * 15, False), ("ёжик в тумане 15", False), ("pw", True),
])
def test_a_passphrase_shorter_than_15_characters_is_warned_of_and_still_used(tpi, clinic, tmp_path, monkeypatch,
                                                                             secret, warned):
    monkeypatch.setenv("TPI_BACKUP_PASSPHRASE", secret)
    file = tmp_path / "clinic.tpibackup"
    made = tpi("backup", "create", str(file))
    assert made.exit_code == 0, made.stderr
    assert ("15 or more (four random words) is advised" in made.stderr) is warned
    if warned:
        assert f"passphrase: {len(secret)} characters;" in made.stderr and secret not in made.stderr
    assert tpi("backup", "verify", str(file)).exit_code == 0


def test_an_encrypted_backup_needs_its_passphrase(tpi, clinic, tmp_path, passphrase_env, monkeypatch):
    file = tmp_path / "clinic.tpibackup"
    assert tpi("backup", "create", str(file)).exit_code == 0
    assert file.read_bytes().startswith(b"age-encryption.org/v1\n")
    assert PASSPHRASE.encode() not in file.read_bytes() and b"P001" not in file.read_bytes()
    assert tpi("backup", "verify", str(file)).exit_code == 0
    monkeypatch.setenv("TPI_BACKUP_PASSPHRASE", "wrong")
    wrong = tpi("backup", "verify", str(file))
    assert wrong.exit_code == 1 and "cannot decrypt" in wrong.stderr
    restore = tpi("backup", "restore", str(file), "--to", str(tmp_path / "r"))
    assert restore.exit_code == 1 and "cannot decrypt" in restore.stderr
    monkeypatch.delenv("TPI_BACKUP_PASSPHRASE")
    asked = tpi("backup", "verify", str(file))  # no terminal, no variable
    assert asked.exit_code == 2 and "TPI_BACKUP_PASSPHRASE" in asked.stderr


def test_no_passphrase_and_no_terminal_writes_nothing(tpi, clinic, tmp_path, monkeypatch):
    monkeypatch.delenv("TPI_BACKUP_PASSPHRASE", raising=False)
    result = tpi("backup", "create", str(tmp_path / "b"))
    assert result.exit_code == 2 and "--no-encrypt" in result.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.skipif(shutil.which("age") is None, reason="the age tool is not installed")
def test_the_standard_age_tool_opens_a_backup(tpi, clinic, tmp_path, passphrase_env):
    file = tmp_path / "clinic.tpibackup"
    assert tpi("backup", "create", str(file)).exit_code == 0
    opened = tmp_path / "opened.tar.gz"
    # age reads a passphrase from the terminal only: give it one (a pseudo-terminal)
    pid, terminal = pty.fork()
    if pid == 0:
        os.execv(shutil.which("age"), ["age", "--decrypt", "--output", str(opened), str(file)])
    said = b""
    while b"passphrase" not in said.lower():
        said += os.read(terminal, 1024)
    os.write(terminal, PASSPHRASE.encode() + b"\n")
    with pytest.raises(OSError):
        while os.read(terminal, 1024):
            pass
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with tarfile.open(opened) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert "store/tpi.json" in names and "store/audit.jsonl" in names
    assert set(manifest["files"]) == {name.removeprefix("store/") for name in names if name != "manifest.json"}


def test_restore_refuses_a_folder_that_is_not_empty(tpi, clinic, tmp_path):
    file = tmp_path / "clinic.tpibackup"
    assert tpi("backup", "create", str(file), "--no-encrypt").exit_code == 0
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = tpi("backup", "restore", str(file), "--to", str(target))
    assert result.exit_code == 2 and "not an empty folder" in result.stderr
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert tpi("backup", "restore", str(file), "--to", str(tmp_path / "empty-made")).exit_code == 0
    (tmp_path / "empty").mkdir()
    assert tpi("backup", "restore", str(file), "--to", str(tmp_path / "empty")).exit_code == 0


def _rewrite(file, change):
    """Rewrite a plain backup, CHANGE(manifest, files) editing it."""
    with tarfile.open(file) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(files.pop("manifest.json"))
    change(manifest, files)
    files["manifest.json"] = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    file.write_bytes(buffer.getvalue())


def _edit_visit(files):
    name = "store/visits/p-P001.json"
    files[name] = files[name].replace(b'"pain_after":2', b'"pain_after":0', 1)


def _edit_visit_and_manifest(manifest, files):
    import hashlib

    _edit_visit(files)
    data = files["store/visits/p-P001.json"]
    manifest["files"]["visits/p-P001.json"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


@pytest.mark.parametrize(("tamper", "named"), [
    (lambda manifest, files: _edit_visit(files), "visits/p-P001.json differs from its SHA-256 in the manifest"),
    (lambda manifest, files: files.pop("store/audit.jsonl"), "audit.jsonl is missing from the backup"),
    (lambda manifest, files: files.update({"store/extra.json": b"{}"}), "extra.json is in the backup but not"),
    (_edit_visit_and_manifest, "visit P001-V1 differs from its last audit event"),
    (lambda manifest, files: manifest.update(audit_head={"seq": 99, "hash": "x"}), "not at the manifest's head 99"),
])
def test_a_tampered_backup_fails_verify_and_restore_naming_what_differs(tpi, clinic, tmp_path, tamper, named):
    file = tmp_path / "clinic.tpibackup"
    assert tpi("backup", "create", str(file), "--no-encrypt").exit_code == 0
    _rewrite(file, tamper)
    result = tpi("backup", "verify", str(file))
    assert result.exit_code == 1 and named in result.stderr, result.stderr
    restore = tpi("backup", "restore", str(file), "--to", str(tmp_path / "r"))
    assert restore.exit_code == 1 and named in restore.stderr


def test_a_damaged_or_foreign_file_is_not_a_backup(tpi, clinic, tmp_path, passphrase_env):
    file = tmp_path / "clinic.tpibackup"
    assert tpi("backup", "create", str(file)).exit_code == 0
    data = bytearray(file.read_bytes())
    data[-40] ^= 0xFF
    file.write_bytes(bytes(data))
    assert tpi("backup", "verify", str(file)).exit_code == 1
    (tmp_path / "notes.txt").write_text("hello")
    foreign = tpi("backup", "verify", str(tmp_path / "notes.txt"))
    assert foreign.exit_code == 1 and "not a readable tpi backup" in foreign.stderr
    missing = tpi("backup", "verify", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


def test_store_info_shows_the_last_backup_and_the_audit_head(tpi, clinic, tmp_path):
    file = tmp_path / "clinic.tpibackup"
    assert tpi("backup", "create", str(file), "--no-encrypt").exit_code == 0
    info = json.loads(tpi("store", "info", "--json").stdout)
    assert info["kind"] == "tinydb" and info["patients"] == 2 and info["visits"] == 2
    assert info["last_backup"]["file"] == str(file) and info["last_backup"]["encrypted"] is False
    last = json.loads(tpi("audit", "--json").stdout)[-1]
    assert info["audit_head"] == {"seq": last["seq"], "hash": last["hash"]}
    assert "last_backup" in tpi("store", "info").stdout


def test_a_backup_taken_while_visits_are_logged_is_consistent(store_path, tmp_path):
    store = Store(store_path)
    add_patient(store, Patient(id="P1", name="A", dob="1960-01-01", weight_kg=70))
    entered = VisitInput.model_validate({"patient_id": "P1", "date": "2026-11-01", "sites": [
        {"muscle": "QL", "side": "left"}], "pain_before": 6, "pain_after": 2, "override_reason": "test"})
    done = threading.Event()
    logged = threading.Semaphore(0)

    def clinician():
        while not done.is_set():
            log_visit(Store(store_path), entered)
            logged.release()
            time.sleep(0.05)  # a terminal between commands (a tight loop would starve the lock's other waiters)

    writer = threading.Thread(target=clinician)
    writer.start()
    try:
        files = [tmp_path / f"b{n}" for n in range(4)]
        for file in files:
            while logged.acquire(blocking=False):  # forget visits logged before the last backup ended
                pass
            assert logged.acquire(timeout=60)  # a visit logged since then
            backups.create(Store(store_path), file, None, created_at="now", created_by="test")
    finally:
        done.set()
        writer.join()
    counts = []
    for n, file in enumerate(files):
        restored = backups.restore(file, tmp_path / f"r{n}", None)
        assert restored.verification.ok
        counts.append(restored.verification.records["visit"])
    assert counts == sorted(set(counts))  # each backup holds a later, complete state


def test_backup_create_reads_the_store_one_file_at_a_time(tpi, clinic, store_path, tmp_path):
    import tracemalloc

    # twenty 1 MiB files that do not compress: held whole, the store would cost 20 MiB or more of memory
    for n in range(20):
        (store_path / "visits" / f"p-BULK{n}.json").write_bytes(os.urandom(1 << 20))
    tracemalloc.start()
    try:
        backups.create(Store(store_path), tmp_path / "b.tar.gz", None, created_at="now", created_by="test")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20, f"peak {peak / 2**20:.1f} MiB"
    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        assert tar.extractfile("store/visits/p-BULK7.json").read() == (store_path / "visits/p-BULK7.json").read_bytes()


@pytest.mark.parametrize("change", [
    lambda path: path.write_bytes(path.read_bytes().replace(b"P001", b"P009")),  # same size, other content
    lambda path: path.write_bytes(path.read_bytes() + b" "),
    lambda path: path.write_bytes(path.read_bytes()[:-10]),
])
def test_a_store_file_changed_between_hashing_and_archiving_stops_the_backup(clinic, store_path, change):
    # the two reads happen under the store lock, so only an edit outside tpi can fall between them
    files = {"tpi.json": store_path / "tpi.json"}
    manifest = {"files": {"tpi.json": backups._file_digest(files["tpi.json"])}}
    archive = backups._archive(manifest, files)
    next(archive)  # the manifest is in; tpi.json is read next
    change(files["tpi.json"])
    with pytest.raises(backups.StoreError, match="changed while it was being backed up"):
        list(archive)
