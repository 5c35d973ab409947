"""Backups: one file holding a consistent snapshot of the store, its manifest and audit head.

The file is a gzip-compressed tar (``manifest.json`` first, then the store's files under ``store/``),
encrypted with a passphrase in the age format (age-encryption.org/v1, scrypt recipient; see agefile.py),
so the standard ``age -d`` opens it too and ``tar -xzf`` unpacks it. ``--no-encrypt`` writes the tar
alone. The manifest holds the SHA-256 of every file and the audit head, so `verify` can prove the backup
is whole, and a restored store is verified (chain and every record) before it is reported restored.
Every step streams (store file → tar → gzip → age chunks → file, and back), so memory does not grow with
the store; the one large allocation is scrypt's (64 MiB for a backup tpi writes), made and freed before the archive is read or
written.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tpi_cli import agefile, audit
from tpi_cli import store as stores
from tpi_cli.errors import InputError, StoreError, VerificationError
from tpi_cli.files import why, write_private_file
from tpi_cli.store import Store

FORMAT = "tpi-backup"
VERSION = 1
CHUNK = 1 << 20
MANIFEST_LIMIT = 64 << 20  # a manifest lists a digest per store file: far below this for any real store
# NIST SP 800-63B-4 asks 15 characters of a password that is the only thing between an attacker and the
# data; a stolen backup is attacked offline, as fast as the attacker's hardware allows
ADVISED_PASSPHRASE_LENGTH = 15


def passphrase_advice(passphrase: str) -> str | None:
    """A warning for a passphrase shorter than advised (it is still used: the clinic may have its reasons)."""
    if len(passphrase) >= ADVISED_PASSPHRASE_LENGTH:
        return None
    return (f"passphrase: {len(passphrase)} characters; a lost or stolen backup is only as safe as its passphrase: "
            f"{ADVISED_PASSPHRASE_LENGTH} or more (four random words) is advised")


@dataclass
class BackupInfo:
    path: Path
    encrypted: bool
    manifest: dict[str, Any]
    verification: audit.Verification | None = None


def create(store: Store, path: Path, encryptor: agefile.Encryptor | None, *, created_at: str,
           created_by: str) -> BackupInfo:
    """Snapshot STORE under its lock and write the backup to PATH (0600), encrypted by ENCRYPTOR unless None.

    The archive is streamed: each store file is read twice under the lock, once for the manifest's
    digests and once into the tar (checked against the first read), and the tar is compressed,
    encrypted and written as it is made, so a 50,000-visit store is backed up in the memory of one
    file's compressed piece, not of the whole store. ENCRYPTOR has derived its key already (scrypt's
    memory is freed by then), so the two never add up and no writer waits for the key derivation.
    """
    if path.is_dir():
        raise InputError(f"FILE: {path} is a folder; give a file name, e.g. tpi-2026-11-25.tpibackup")
    if not path.parent.is_dir():
        raise StoreError(f"cannot write {path}: the folder {path.parent} does not exist")
    written = hashlib.sha256()
    with stores.snapshot(store) as (files, head):
        manifest = {
            "format": FORMAT, "version": VERSION, "created_at": created_at, "created_by": created_by,
            "store": store.location, "files": {name: _file_digest(file) for name, file in files.items()},
            "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
        }
        pieces = _archive(manifest, files)
        if encryptor is not None:
            pieces = encryptor.encrypt(pieces)
        write_private_file(path, _hashed(pieces, written))
    digest = written.hexdigest()
    store.audit_disclosure("backup.create", str(path.resolve()), digest)
    stores.note_backup(store, {"at": created_at, "file": str(path.resolve()), "sha256": digest, "encrypted": encryptor
                       is not None, "audit_seq": head.seq if head else 0})
    return BackupInfo(path, encryptor is not None, manifest)


def _file_digest(path: Path) -> dict[str, Any]:
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
                size += len(block)
    except OSError as error:
        raise StoreError(f"cannot read store file {path}: {why(error)}") from None
    return {"sha256": digest.hexdigest(), "size": size}


class _Hashing:
    """Reads from HANDLE, keeping the SHA-256 of what was read."""

    def __init__(self, handle: Any) -> None:
        self.handle, self.sha256 = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.sha256.update(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.handle.readline(size)
        self.sha256.update(data)
        return data


def _archive(manifest: dict[str, Any], files: dict[str, Path]) -> Iterator[bytes]:
    """The gzip-compressed tar of MANIFEST and FILES, in pieces as it is made, each file read from disk a
    block at a time: tarfile would hand over a member's compressed data only once the whole member is
    in, and the audit log alone grows with every event, so the members are framed here (tarfile's own
    headers, zlib's gzip) and no piece is larger than one compressed block."""
    gzip = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    mtime, written = int(time.time()), 0

    def tar(data: bytes) -> bytes:
        nonlocal written
        written += len(data)
        return gzip.compress(data)

    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    yield tar(_member("manifest.json", len(data), mtime) + data + _padding(len(data)))
    for name, path in files.items():
        expected = manifest["files"][name]
        changed = StoreError(f"store file {path} changed while it was being backed up (edited outside tpi?); "
                             "no backup was written — try again")
        digest, left = hashlib.sha256(), expected["size"]
        yield tar(_member(f"store/{name}", left, mtime))
        try:
            with path.open("rb") as handle:
                while left:
                    block = handle.read(min(CHUNK, left))
                    if not block:  # the file shrank since it was hashed
                        raise changed
                    digest.update(block)
                    left -= len(block)
                    yield tar(block)
                grew = bool(handle.read(1))
        except OSError as error:
            raise StoreError(f"cannot read store file {path}: {why(error)}") from None
        if grew or digest.hexdigest() != expected["sha256"]:
            raise changed
        yield tar(_padding(expected["size"]))
    yield tar(bytes(2 * tarfile.BLOCKSIZE))  # the end-of-archive marker
    yield tar(_padding(written, tarfile.RECORDSIZE)) + gzip.flush()


def _padding(size: int, unit: int = tarfile.BLOCKSIZE) -> bytes:
    return bytes(-size % unit)


def _member(name: str, size: int, mtime: int) -> bytes:
    """The tar header of a regular file NAME of SIZE bytes, 0600, as tarfile writes it."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, mtime
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _hashed(pieces: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for piece in pieces:
        digest.update(piece)
        yield piece


def is_encrypted(path: Path) -> bool:
    """Whether the backup at PATH is age-encrypted (and so needs a passphrase to open)."""
    with _opened(path) as handle:
        return handle.read(len(agefile.INTRO)) == agefile.INTRO


def _opened(path: Path):
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"FILE: {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"FILE: {path} is a folder, not a backup file") from None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror or error}") from None


def _unpack(path: Path, passphrase: str | None, root: Path, *, durable: bool) -> tuple[dict[str, Any], str]:
    """Stream the backup at PATH into the empty folder ROOT as a store, every file checked against the manifest.

    Returns the manifest and the SHA-256 of the backup file. VerificationError (exit 1) names what is
    wrong; the caller removes ROOT then. DURABLE: the files are synced to disk (a restore, not a scratch copy).
    """
    digests: dict[str, str] = {}
    twice: list[str] = []
    found: dict[str, Any] = {}
    with _opened(path) as handle:
        raw = _Hashing(handle)
        source: Any = raw
        try:
            if handle.peek(len(agefile.INTRO)).startswith(agefile.INTRO):
                if passphrase is None:
                    raise InputError(f"passphrase: {path} is encrypted; set TPI_BACKUP_PASSPHRASE or run in a terminal")
                source = agefile.Decryptor(raw, passphrase)
            with tarfile.open(fileobj=source, mode="r|gz") as tar:
                stores.restore_files(root, _store_files(tar, found, digests, twice), durable=durable)
            if isinstance(source, agefile.Decryptor):
                source.finish()
            while raw.read(CHUNK):  # the digest names the whole file, past what tar needed
                pass
        except agefile.DecryptError as error:
            raise VerificationError(f"cannot decrypt {path}: {error}") from None
        except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as error:
            raise VerificationError(f"{path} is not a readable tpi backup (damaged or cut short: {error})") from None
    manifest = found.get("manifest")
    if manifest is None:
        raise VerificationError(f"{path} is not a tpi backup: it holds no manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise VerificationError(f"{path} is not a tpi backup: its manifest is not a tpi backup manifest")
    if manifest.get("version", 0) > VERSION:
        raise VerificationError(f"{path} was written by a newer tpi (backup version {manifest['version']})")
    problems = [f"{name} appears more than once in the backup" for name in sorted(set(twice))]
    for name, expected in sorted(manifest["files"].items()):
        if name not in digests:
            problems.append(f"{name} is missing from the backup")
        elif digests[name] != (expected.get("sha256") if isinstance(expected, dict) else None):
            problems.append(f"{name} differs from its SHA-256 in the manifest")
    problems += [f"{name} is in the backup but not in its manifest" for name in sorted(set(digests) - set(manifest["files"]))]
    if problems:
        raise VerificationError(f"backup {path}: " + "; ".join(problems))
    return manifest, raw.sha256.hexdigest()


def _store_files(tar: tarfile.TarFile, found: dict[str, Any], digests: dict[str, str],
                 twice: list[str]) -> Iterator[tuple[str, Iterator[bytes]]]:
    """The store files of TAR as they stream past (name, pieces), each piece added to its SHA-256 in DIGESTS
    when it is written; the manifest goes into FOUND, names seen twice into TWICE."""
    for member in tar:
        if not member.isfile():
            continue
        if member.name == "manifest.json":
            if member.size > MANIFEST_LIMIT:
                raise ValueError(f"its manifest.json is {member.size:,} bytes")
            found["manifest"] = json.loads(tar.extractfile(member).read())
            continue
        name = member.name.removeprefix("store/")
        if name in digests:
            twice.append(name)
            continue
        digest = hashlib.sha256()
        yield name, _hashed(_blocks(tar.extractfile(member)), digest)
        digests[name] = digest.hexdigest()


def _blocks(handle: Any) -> Iterator[bytes]:
    while block := handle.read(CHUNK):
        yield block


def _check_store(store: Store, manifest: dict[str, Any], what: str) -> audit.Verification:
    result = store.verify_audit()
    recorded = manifest.get("audit_head")
    if recorded is not None and (result.head.seq, result.head.hash) != (recorded["seq"], recorded["hash"]):
        result.problems.append(f"the audit trail ends at event {result.head.seq}, not at the manifest's "
                               f"head {recorded['seq']}")
    if result.problems:
        raise VerificationError(f"{what}: " + "; ".join(result.problems))
    return result


def verify(path: Path, passphrase: str | None) -> BackupInfo:
    """Decrypt PATH, check every file's digest, then the audit chain and every record in a scratch copy."""
    encrypted = is_encrypted(path)
    with tempfile.TemporaryDirectory(prefix="tpi-verify-") as scratch:
        root = Path(scratch) / "store"
        manifest, _ = _unpack(path, passphrase, root, durable=False)
        result = _check_store(Store(root, create=False), manifest, f"backup {path}")
    return BackupInfo(path, encrypted, manifest, result)


def restore(path: Path, target: Path, passphrase: str | None) -> BackupInfo:
    """Write the store in the backup at PATH into the empty or new folder TARGET and verify it there.

    The store is unpacked and verified in a hidden folder first (inside TARGET when it exists, else
    beside it) and only then moved into place, so a backup that fails leaves nothing restored.
    """
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"--to: {target} is not an empty folder; restore into a new or empty folder")
    encrypted = is_encrypted(path)
    inside = target.is_dir()
    try:
        if not inside:
            target.parent.mkdir(mode=stores.DIR_MODE, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tpi-restore-", dir=target if inside else target.parent))
    except OSError as error:
        raise StoreError(f"cannot create the store folder {target}: {why(error)}") from None
    try:
        manifest, file_digest = _unpack(path, passphrase, staging, durable=True)
        result = _check_store(Store(staging, create=False), manifest, f"the store restored into {target}")
        _move_in(staging, target, inside)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    Store(target, create=False).audit_disclosure("backup.restore", str(path.resolve()), file_digest)
    return BackupInfo(path, encrypted, manifest, result)


def _move_in(staging: Path, target: Path, inside: bool) -> None:
    try:
        if inside:
            for entry in staging.iterdir():
                entry.rename(target / entry.name)
            staging.rmdir()
            target.chmod(stores.DIR_MODE)
        else:
            staging.rename(target)
    except OSError as error:
        raise StoreError(f"cannot move the restored store into {target}: {why(error)}") from None
