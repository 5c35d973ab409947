"""The age format of backups (tpi_cli/agefile.py): what we write opens with `age` and pyrage, what they write
opens with us, a fixed work factor, bounded memory, and every kind of tampering refused with nothing restored."""

from __future__ import annotations

import io
import itertools
import json
import os
import pty
import re
import shutil
import tarfile

import pyrage
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tpi_cli import agefile
from tpi_cli import backup as backups
from tpi_cli.cli import app
from tpi_cli.store import Store

PASSPHRASE = "correct horse battery staple"
CHUNK, SEALED = agefile.CHUNK, agefile.SEALED_CHUNK
needs_age = pytest.mark.skipif(shutil.which("age") is None, reason="the age tool is not installed")


def sealed(data: bytes, pieces: int = 3) -> bytes:
    """DATA encrypted by our writer, handed to it in PIECES uneven pieces."""
    cuts = sorted({len(data) * n // (pieces + 1) + n for n in range(1, pieces + 1)} | {0, len(data)})
    return b"".join(agefile.Encryptor(PASSPHRASE).encrypt(data[a:b] for a, b in itertools.pairwise(cuts)))


def opened(data: bytes, passphrase: str = PASSPHRASE) -> bytes:
    """DATA decrypted by our reader, in reads of odd sizes, authenticated to its end."""
    reader = agefile.Decryptor(io.BytesIO(data), passphrase)
    out = []
    while block := reader.read(10_007):
        out.append(block)
    reader.finish()
    return b"".join(out)


def run_age(args: list[str], passphrase: str, prompts: int) -> int:
    """Run the age tool, typing PASSPHRASE at each of its PROMPTS (it reads a passphrase from a terminal only)."""
    pid, terminal = pty.fork()
    if pid == 0:
        os.execv(shutil.which("age"), ["age", *args])
    for _ in range(prompts):
        said = b""
        while b"passphrase" not in said.lower():
            said += os.read(terminal, 1024)
        os.write(terminal, passphrase.encode() + b"\n")
    with pytest.raises(OSError):
        while os.read(terminal, 1024):
            pass
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


# --- the file format, against the two other implementations ------------------------------------------------

SIZES = [0, 1, CHUNK, CHUNK + 1, 2 * CHUNK + 17]


@pytest.mark.parametrize("size", SIZES)
def test_what_we_write_opens_with_pyrage_and_with_us_at_every_chunk_boundary(size):
    data = os.urandom(size)
    file = sealed(data)
    assert pyrage.passphrase.decrypt(file, PASSPHRASE) == data
    assert opened(file) == data
    # sealed in full chunks, the last one possibly short, never an empty one after data
    assert len(file) - payload_start(file) == size + 16 * max(1, -(-size // CHUNK))


@pytest.mark.parametrize("size", [0, CHUNK, 2 * CHUNK + 17])  # pyrage's scrypt takes a second or more each
def test_what_pyrage_writes_opens_with_us(size):
    data = os.urandom(size)
    assert opened(pyrage.passphrase.encrypt(data, PASSPHRASE)) == data


@needs_age
def test_the_age_tool_opens_a_file_of_several_chunks_we_wrote_and_we_open_one_it_wrote(tmp_path):
    data = os.urandom(3 * CHUNK + 100)
    ours, theirs = tmp_path / "ours.age", tmp_path / "theirs.age"
    ours.write_bytes(sealed(data, pieces=7))
    assert run_age(["--decrypt", "--output", str(tmp_path / "out"), str(ours)], PASSPHRASE, 1) == 0
    assert (tmp_path / "out").read_bytes() == data
    assert run_age(["--passphrase", "--output", str(theirs), str(tmp_path / "out")], PASSPHRASE, 2) == 0
    assert theirs.read_bytes().split(b"\n")[1].endswith(b" 18")  # the Go age's own work factor
    assert opened(theirs.read_bytes()) == data


def test_the_work_factor_is_2_to_the_16_always_and_never_lower():
    header = sealed(b"x").split(b"\n")
    assert header[1].startswith(b"-> scrypt ") and header[1].endswith(b" 16")
    with pytest.raises(ValueError, match="outside 16"):
        agefile.Encryptor(PASSPHRASE, work_factor=15)


def test_a_file_with_a_higher_work_factor_still_opens():
    # backups written before the factor was 2^16 carry 2^17; `age -p` writes 2^18 (tested above)
    data = os.urandom(CHUNK + 5)
    file = b"".join(agefile.Encryptor(PASSPHRASE, work_factor=17).encrypt([data]))
    assert file.split(b"\n")[1].endswith(b" 17")
    assert opened(file) == data


def test_the_key_derivation_gives_its_memory_back_before_the_payload_is_sealed():
    status = "/proc/self/status"
    if not os.path.exists(status):
        pytest.skip("no /proc to read the resident memory from")

    def resident_mib() -> float:
        with open(status) as lines:
            return next(int(line.split()[1]) for line in lines if line.startswith("VmRSS:")) / 1024

    agefile.Encryptor(PASSPHRASE)  # the library's own memory is loaded once
    before = resident_mib()
    encryptor = agefile.Encryptor(PASSPHRASE)  # scrypt holds 64 MiB while it runs
    assert resident_mib() - before < 16
    assert len(b"".join(encryptor.encrypt([b"x" * CHUNK]))) > CHUNK


# --- every kind of damage to a file of 4 chunks ---------------------------------------------------------------

DATA = bytes(range(256)) * (3 * CHUNK // 256) + b"tail"
FILE = sealed(DATA)


def payload_start(data: bytes) -> int:
    """Where the first chunk begins: after the MAC line ("--- " and 43 characters) and the 16-byte nonce."""
    return data.index(b"\n--- ") + 5 + 43 + 1 + 16


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def _retype(data: bytes, at: int) -> bytes:
    """Another base64 character at AT (a flipped bit could leave base64 and be refused for that instead)."""
    return data[:at] + (b"B" if data[at:at + 1] == b"A" else b"A") + data[at + 1:]


def _chunk(data: bytes, n: int) -> bytes:
    start = payload_start(data) + n * SEALED
    return data[start:start + SEALED]


def _swap(data: bytes, a: int, b: int) -> bytes:
    start = payload_start(data)
    chunks = [data[start + n * SEALED:start + (n + 1) * SEALED] for n in range(-(-(len(data) - start) // SEALED))]
    chunks[a], chunks[b] = chunks[b], chunks[a]
    return data[:start] + b"".join(chunks)


def _final(data: bytes) -> int:
    """Where the final chunk begins."""
    start = payload_start(data)
    return start + (len(data) - start - 1) // SEALED * SEALED


TAMPERED = {
    "intro": (lambda d: d.replace(b"org/v1", b"org/v2", 1), "not an age file"),
    "salt": (lambda d: _retype(d, d.index(b"scrypt ") + 8), "wrong passphrase, or the file was damaged"),
    "wrapped key": (lambda d: _retype(d, d.index(b"\n", 30) + 3), "wrong passphrase, or the file was damaged"),
    "MAC": (lambda d: _retype(d, d.index(b"\n--- ") + 8), "header MAC does not match"),
    "work factor": (lambda d: d.replace(b" 16\n", b" 17\n", 1), "wrong passphrase, or the file was damaged"),
    "payload nonce": (lambda d: _flip(d, payload_start(d) - 3), "chunk 1 of its payload fails authentication"),
    "chunk 1": (lambda d: _flip(d, payload_start(d) + 5), "chunk 1 of its payload fails authentication"),
    "chunk 2": (lambda d: _flip(d, payload_start(d) + SEALED + 100), "chunk 2 of its payload fails authentication"),
    "chunk 3": (lambda d: _flip(d, payload_start(d) + 3 * SEALED - 1), "chunk 3 of its payload fails authentication"),
    "final chunk": (lambda d: _flip(d, len(d) - 1), "of its payload fails authentication"),
    "final chunk dropped": (lambda d: d[:_final(d)], "cut short (its final chunk is missing)"),
    "cut in a chunk's tag": (lambda d: d[:payload_start(d) + 2 * SEALED + 9], "cut short (chunk 3 of its payload is incomplete)"),
    "cut inside a chunk": (lambda d: d[:payload_start(d) + 2 * SEALED + 900], "chunk 3 of its payload fails authentication"),
    "cut after the header": (lambda d: d[:payload_start(d) - 16], "cut short after its header"),
    "chunk appended": (lambda d: d[:_final(d)] + _chunk(d, 1) + d[_final(d):], "of its payload fails authentication"),
    "final chunk repeated": (lambda d: d + d[_final(d):], "of its payload fails authentication"),
    "byte appended": (lambda d: d + b"\0", "of its payload fails authentication"),
    "chunks swapped": (lambda d: _swap(d, 1, 2), "chunk 2 of its payload fails authentication"),
    "header line cut": (lambda d: d[:30], "malformed or cut short"),
    "a second stanza": (lambda d: d.replace(b"\n---", b"\n-> X25519 abc\nAAAA\n---", 1), "must be the only one"),
    "no passphrase stanza": (lambda d: d.replace(b"-> scrypt", b"-> X25519", 1), "encrypted to age keys"),
    "padded base64": (lambda d: d.replace(b"\n---", b"=\n---", 1), "not base64"),
}


@pytest.mark.parametrize("name", TAMPERED)
def test_a_damaged_file_is_refused_naming_how(name):
    change, named = TAMPERED[name]
    damaged = change(FILE)
    assert damaged != FILE
    with pytest.raises(agefile.DecryptError, match=re.escape(named)):
        opened(damaged)


def test_a_full_final_chunk_followed_by_another_is_named_an_extension():
    file = sealed(bytes(2 * CHUNK))  # two full chunks, the second sealed as the last
    extended = file + file[-SEALED:]
    with pytest.raises(agefile.DecryptError, match="data follows its final chunk"):
        opened(extended)


@pytest.mark.parametrize(("work_factor", "named"), [
    (b"23", "work factor 2^23 is above the limit 2^22"), (b"30", "above the limit"),
    (b"0", "passphrase stanza"), (b"017", "passphrase stanza"), (b"-1", "passphrase stanza"),
    (b"x", "passphrase stanza"),
])
def test_a_work_factor_over_22_or_malformed_is_refused_before_any_key_derivation(work_factor, named):
    # 2^30 would ask scrypt for 1 TiB: refused from the header alone, in no time and no memory
    with pytest.raises(agefile.DecryptError, match=re.escape(named)):
        opened(FILE.replace(b" 16\n", b" " + work_factor + b"\n", 1))


def test_a_work_factor_the_machine_has_no_memory_for_cannot_decrypt_in_one_line(tmp_path):
    import resource
    import subprocess
    import sys

    file = tmp_path / "big.age"
    file.write_bytes(FILE.replace(b" 16\n", b" 22\n", 1))  # within age's limit: 4 GiB

    def little_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run([sys.executable, "-m", "tpi_cli", "backup", "verify", str(file)], check=False,
                          capture_output=True, text=True, preexec_fn=little_memory,
                          env={**os.environ, "TPI_BACKUP_PASSPHRASE": PASSPHRASE})
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (f"error: cannot decrypt {file}: its scrypt work factor 2^22 needs 4096 MiB of "
                                   "memory, more than this machine gave")


def test_the_wrong_passphrase_is_named():
    with pytest.raises(agefile.DecryptError, match="wrong passphrase"):
        opened(FILE, "correct horse battery stapler")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(0, len(FILE) - 1), bit=st.integers(0, 7))
def test_any_flipped_bit_anywhere_is_refused(at, bit):
    damaged = FILE[:at] + bytes([FILE[at] ^ (1 << bit)]) + FILE[at + 1:]
    with pytest.raises(agefile.DecryptError):
        opened(damaged)


# --- backups through the CLI -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clinic_backup(tmp_path_factory):
    """A store of 60 patients' 1,200 visits and its encrypted backup, several chunks long."""
    from tpi_cli.synthetic import clinic_records

    folder = tmp_path_factory.mktemp("clinic")
    history = folder / "history.jsonl"
    history.write_text("".join(json.dumps(r) + "\n" for r in clinic_records(60, 20, seed=3)), encoding="utf-8")
    runner, store = CliRunner(), folder / "store"
    env = {"TPI_BACKUP_PASSPHRASE": PASSPHRASE, "NO_COLOR": "1"}
    assert runner.invoke(app, ["--store", str(store), "import", str(history)], env=env).exit_code == 0
    file = folder / "clinic.tpibackup"
    made = runner.invoke(app, ["--store", str(store), "backup", "create", str(file)], env=env)
    assert made.exit_code == 0, made.stderr
    assert file.stat().st_size > 3 * SEALED
    return store, file


def _listing(tpi, store):
    return [json.loads(tpi("--store", str(store), *args, "--json").stdout) for args in (("patient", "list"),
                                                                                       ("visits", "--all"))]


@pytest.fixture
def passphrase_env(monkeypatch):
    monkeypatch.setenv("TPI_BACKUP_PASSPHRASE", PASSPHRASE)


def test_a_backup_of_several_chunks_restores_record_for_record(tpi, clinic_backup, tmp_path, passphrase_env):
    store, file = clinic_backup
    assert tpi("backup", "verify", str(file)).exit_code == 0
    target = tmp_path / "empty"
    target.mkdir()
    restored = tpi("backup", "restore", str(file), "--to", str(target))
    assert restored.exit_code == 0, restored.stderr
    assert _listing(tpi, target) == _listing(tpi, store)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert not any(p.name.startswith(".tpi-restore") for p in target.iterdir())


def test_a_backup_opens_with_pyrage(clinic_backup):
    _, file = clinic_backup
    with tarfile.open(fileobj=io.BytesIO(pyrage.passphrase.decrypt(file.read_bytes(), PASSPHRASE))) as tar:
        assert tar.getnames()[0] == "manifest.json" and "store/audit.jsonl" in tar.getnames()


def _plain(tpi, tmp_path, *store: str) -> bytes:
    """A plain backup of the test's store, or of --store STORE."""
    file = tmp_path / "plain.tar.gz"
    assert tpi(*store, "backup", "create", str(file), "--no-encrypt").exit_code == 0
    return file.read_bytes()


def test_a_backup_encrypted_by_pyrage_verifies_and_restores(tpi, clinic_backup, tmp_path, passphrase_env):
    store, _ = clinic_backup
    file = tmp_path / "pyrage.tpibackup"
    file.write_bytes(pyrage.passphrase.encrypt(_plain(tpi, tmp_path, "--store", str(store)), PASSPHRASE))
    assert tpi("backup", "verify", str(file)).exit_code == 0
    assert tpi("backup", "restore", str(file), "--to", str(tmp_path / "r")).exit_code == 0
    assert _listing(tpi, tmp_path / "r") == _listing(tpi, store)


@needs_age
def test_a_backup_encrypted_by_the_age_tool_verifies_and_restores(tpi, patient, log, tmp_path, passphrase_env):
    log("--site", "QL:left", "--pain-before", "6", "--pain-after", "2", "--consent", "verbal")
    (tmp_path / "plain.tar.gz").write_bytes(_plain(tpi, tmp_path))
    file = tmp_path / "age.tpibackup"
    assert run_age(["--passphrase", "--output", str(file), str(tmp_path / "plain.tar.gz")], PASSPHRASE, 2) == 0
    assert tpi("backup", "verify", str(file)).exit_code == 0
    restored = tpi("backup", "restore", str(file), "--to", str(tmp_path / "r"))
    assert restored.exit_code == 0, restored.stderr
    assert _listing(tpi, tmp_path / "r") == _listing(tpi, tmp_path / "store")


CLI_TAMPERED = ["MAC", "salt", "chunk 1", "chunk 2", "final chunk", "final chunk dropped", "chunk appended",
                "chunks swapped", "work factor"]


@pytest.mark.parametrize("name", CLI_TAMPERED)
def test_a_tampered_encrypted_backup_fails_verify_and_restores_nothing(tpi, clinic_backup, tmp_path, name,
                                                                     passphrase_env):
    _, file = clinic_backup
    change, named = TAMPERED[name]
    damaged = tmp_path / "damaged.tpibackup"
    damaged.write_bytes(change(file.read_bytes()))
    result = tpi("backup", "verify", str(damaged))
    assert result.exit_code == 1 and "cannot decrypt" in result.stderr and named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (tmp_path / "new", empty):
        restore = tpi("backup", "restore", str(damaged), "--to", str(target))
        assert restore.exit_code == 1 and "cannot decrypt" in restore.stderr
    assert not (tmp_path / "new").exists() and list(empty.iterdir()) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tpi-restore")]


def test_a_wrong_passphrase_cannot_decrypt_and_restores_nothing(tpi, clinic_backup, tmp_path, monkeypatch):
    _, file = clinic_backup
    monkeypatch.setenv("TPI_BACKUP_PASSPHRASE", "not the passphrase")
    for args in (("verify", str(file)), ("restore", str(file), "--to", str(tmp_path / "r"))):
        result = tpi("backup", *args)
        assert result.exit_code == 1 and "cannot decrypt" in result.stderr and "wrong passphrase" in result.stderr
    assert not (tmp_path / "r").exists()


def test_a_restore_that_fails_the_audit_check_leaves_nothing_behind(tpi, patient, log, tmp_path):
    import hashlib

    log("--site", "QL:left", "--pain-before", "6", "--pain-after", "2", "--consent", "verbal")
    file = tmp_path / "plain.tar.gz"
    file.write_bytes(_plain(tpi, tmp_path))
    with tarfile.open(file) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    name = "store/visits/p-P001.json"
    files[name] = files[name].replace(b'"pain_after":2', b'"pain_after":0', 1)
    manifest = json.loads(files["manifest.json"])
    manifest["files"]["visits/p-P001.json"]["sha256"] = hashlib.sha256(files[name]).hexdigest()
    manifest["files"]["visits/p-P001.json"]["size"] = len(files[name])
    files["manifest.json"] = json.dumps(manifest).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member, data in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    file.write_bytes(buffer.getvalue())
    empty = tmp_path / "empty"
    empty.mkdir()
    for target in (tmp_path / "new", empty):
        result = tpi("backup", "restore", str(file), "--to", str(target))
        assert result.exit_code == 1 and "visit P001-V1 differs from its last audit event" in result.stderr
    assert not (tmp_path / "new").exists() and list(empty.iterdir()) == []


def test_an_encrypted_backup_is_written_and_read_in_bounded_memory(tpi, patient, log, store_path, tmp_path):
    import tracemalloc

    log("--site", "QL:left", "--pain-before", "6", "--pain-after", "2", "--consent", "verbal")
    # one file of 16 MiB that does not compress (the store keeps it but does not read it), like an audit
    # log that has grown for years: held whole, or its compressed form held whole, it would show
    (store_path / "attachments").mkdir()
    (store_path / "attachments" / "scan.bin").write_bytes(os.urandom(16 << 20))
    encryptor = agefile.Encryptor(PASSPHRASE)  # scrypt's memory is OpenSSL's, outside tracemalloc: see above
    file = tmp_path / "b.tpibackup"
    tracemalloc.start()
    try:
        backups.create(Store(store_path), file, encryptor, created_at="now", created_by="test")
        _, created = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        checked = backups.verify(file, PASSPHRASE)
        _, verified = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert file.stat().st_size > 16 << 20 and checked.verification.ok
    assert created < 5 << 20 and verified < 5 << 20, (created / 2**20, verified / 2**20)
