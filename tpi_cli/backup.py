"""Backups: one file holding a consistent snapshot of the store, its manifest and audit head.

The file is a gzip-compressed tar (``manifest.json`` first, then the store's files under ``store/``),
encrypted with a passphrase in the age format (age-encryption.org/v1, scrypt recipient) by pyrage, so
the standard ``age -d`` opens it too and ``tar -xzf`` unpacks it. ``--no-encrypt`` writes the tar alone.
The manifest holds the SHA-256 of every file and the audit head, so `verify` can prove the backup is
whole, and a restored store is verified (chain and every record) before it is reported restored.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tpi_cli import audit
from tpi_cli import store as stores
from tpi_cli.errors import InputError, StoreError, VerificationError
from tpi_cli.files import why, write_private_file
from tpi_cli.store import Store

FORMAT = "tpi-backup"
VERSION = 1
AGE_HEADER = b"age-encryption.org/v1\n"
CHUNK = 1 << 20


@dataclass
class BackupInfo:
    path: Path
    encrypted: bool
    manifest: dict[str, Any]
    verification: audit.Verification | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create(store: Store, path: Path, passphrase: str | None, *, created_at: str, created_by: str) -> BackupInfo:
    """Snapshot STORE under its lock and write the backup to PATH (0600), encrypted unless PASSPHRASE is None.

    The archive is streamed: each store file is read twice under the lock, once for the manifest's
    digests and once into the tar (checked against the first read), so a 50,000-visit store is backed
    up in the memory of its largest compressed file, not of the whole store. An encrypted backup is
    the one exception: pyrage encrypts with a passphrase from bytes only, so the compressed archive
    (about a tenth of the store) is held once; the key derivation (scrypt) then holds 128·8·N bytes for
    the work factor N the age library picks to take about a second (2^17 to 2^20 on the 2-core test machine,
    depending on its load: 128 MiB to 1 GiB).
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
        archive = _archive(manifest, files)
        if passphrase is None:
            write_private_file(path, _hashed(archive, written))
        else:
            data = b"".join(archive)
    if passphrase is not None:  # outside the lock: the key derivation takes a second or more
        import pyrage

        data = pyrage.passphrase.encrypt(data, passphrase)
        write_private_file(path, data)
        written.update(data)
    digest = written.hexdigest()
    store.audit_disclosure("backup.create", str(path.resolve()), digest)
    stores.note_backup(store, {"at": created_at, "file": str(path.resolve()), "sha256": digest, "encrypted": passphrase
                       is not None, "audit_seq": head.seq if head else 0})
    return BackupInfo(path, passphrase is not None, manifest)


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


class _Pending:
    """A write-only file object that keeps what is written until it is taken (tarfile writes, we stream on)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


class _Hashing:
    """Reads from HANDLE, keeping the SHA-256 of what was read."""

    def __init__(self, handle: Any) -> None:
        self.handle, self.sha256 = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.sha256.update(data)
        return data


def _archive(manifest: dict[str, Any], files: dict[str, Path]) -> Iterator[bytes]:
    """The gzip-compressed tar of MANIFEST and FILES, in pieces as it is made, each file read from disk in turn."""
    pending = _Pending()
    mtime = int(time.time())
    with tarfile.open(fileobj=pending, mode="w:gz", compresslevel=6) as tar:
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        tar.addfile(_member("manifest.json", len(data), mtime), io.BytesIO(data))
        yield pending.take()
        for name, path in files.items():
            expected = manifest["files"][name]
            changed = StoreError(f"store file {path} changed while it was being backed up (edited outside tpi?); "
                                 "no backup was written — try again")
            try:
                with path.open("rb") as handle:
                    reader = _Hashing(handle)
                    tar.addfile(_member(f"store/{name}", expected["size"], mtime), reader)
                    grew = bool(handle.read(1))
            except OSError as error:
                if error.errno is None:  # tarfile's "unexpected end of data": the file shrank since it was hashed
                    raise changed from None
                raise StoreError(f"cannot read store file {path}: {why(error)}") from None
            if grew or reader.sha256.hexdigest() != expected["sha256"]:
                raise changed
            yield pending.take()
    yield pending.take()


def _member(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, mtime
    return info


def _hashed(pieces: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for piece in pieces:
        digest.update(piece)
        yield piece


def is_encrypted(path: Path) -> bool:
    """Whether the backup at PATH is age-encrypted (and so needs a passphrase to open)."""
    with _opened(path) as handle:
        return handle.read(len(AGE_HEADER)) == AGE_HEADER


def _opened(path: Path):
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"FILE: {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"FILE: {path} is a folder, not a backup file") from None
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror or error}") from None


def read(path: Path, passphrase: str | None) -> tuple[dict[str, Any], dict[str, bytes], str]:
    """The manifest, the store files and the SHA-256 of the backup at PATH, every file checked against the
    manifest. VerificationError (exit 1) names what is wrong."""
    with _opened(path) as handle:
        raw = handle.read()
    file_digest = _sha256(raw)
    if raw.startswith(AGE_HEADER):
        if passphrase is None:
            raise InputError(f"passphrase: {path} is encrypted; set TPI_BACKUP_PASSPHRASE or run in a terminal")
        import pyrage

        try:
            raw = pyrage.passphrase.decrypt(raw, passphrase)
        except pyrage.DecryptError:
            raise VerificationError(f"cannot decrypt {path}: wrong passphrase, or the file was damaged") from None
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            members = {member.name: member for member in tar.getmembers() if member.isfile()}
            if "manifest.json" not in members:
                raise VerificationError(f"{path} is not a tpi backup: it holds no manifest.json")
            manifest = json.loads(tar.extractfile(members.pop("manifest.json")).read())
            contents = {name.removeprefix("store/"): tar.extractfile(member).read()
                        for name, member in members.items()}
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        raise VerificationError(f"{path} is not a readable tpi backup (damaged or cut short: {error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise VerificationError(f"{path} is not a tpi backup: its manifest is not a tpi backup manifest")
    if manifest.get("version", 0) > VERSION:
        raise VerificationError(f"{path} was written by a newer tpi (backup version {manifest['version']})")
    problems = []
    for name, expected in sorted(manifest["files"].items()):
        if name not in contents:
            problems.append(f"{name} is missing from the backup")
        elif _sha256(contents[name]) != expected.get("sha256"):
            problems.append(f"{name} differs from its SHA-256 in the manifest")
    problems += [f"{name} is in the backup but not in its manifest" for name in sorted(set(contents) - set(manifest["files"]))]
    if problems:
        raise VerificationError(f"backup {path}: " + "; ".join(problems))
    return manifest, contents, file_digest


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
    manifest, contents, _ = read(path, passphrase)
    with tempfile.TemporaryDirectory(prefix="tpi-verify-") as scratch:
        store = stores.restore_files(Path(scratch) / "store", contents)
        result = _check_store(store, manifest, f"backup {path}")
    return BackupInfo(path, encrypted, manifest, result)


def restore(path: Path, target: Path, passphrase: str | None) -> BackupInfo:
    """Write the store in the backup at PATH into the empty or new folder TARGET and verify it there."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"--to: {target} is not an empty folder; restore into a new or empty folder")
    encrypted = is_encrypted(path)
    manifest, contents, file_digest = read(path, passphrase)
    store = stores.restore_files(target, contents)
    result = _check_store(store, manifest, f"the store restored into {target}")
    store.audit_disclosure("backup.restore", str(path.resolve()), file_digest)
    return BackupInfo(path, encrypted, manifest, result)
