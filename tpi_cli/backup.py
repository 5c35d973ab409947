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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tpi_cli import audit
from tpi_cli import store as stores
from tpi_cli.errors import InputError, StoreError, VerificationError
from tpi_cli.files import write_private_file
from tpi_cli.store import Store

FORMAT = "tpi-backup"
VERSION = 1
AGE_HEADER = b"age-encryption.org/v1\n"


@dataclass
class BackupInfo:
    path: Path
    encrypted: bool
    manifest: dict[str, Any]
    verification: audit.Verification | None = None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create(store: Store, path: Path, passphrase: str | None, *, created_at: str, created_by: str) -> BackupInfo:
    """Snapshot STORE under its lock and write the backup to PATH (0600), encrypted unless PASSPHRASE is None."""
    if path.is_dir():
        raise InputError(f"FILE: {path} is a folder; give a file name, e.g. tpi-2026-11-25.tpibackup")
    if not path.parent.is_dir():
        raise StoreError(f"cannot write {path}: the folder {path.parent} does not exist")
    files, head = stores.snapshot(store)
    manifest = {
        "format": FORMAT, "version": VERSION, "created_at": created_at, "created_by": created_by,
        "store": store.location, "files": {name: {"sha256": _sha256(data), "size": len(data)}
                                           for name, data in files.items()},
        "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
    }
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=6) as tar:
        _add(tar, "manifest.json", json.dumps(manifest, indent=1, sort_keys=True).encode())
        for name in list(files):
            _add(tar, f"store/{name}", files.pop(name))  # let each file go once it is in the archive
    data = archive.getvalue()
    del archive
    if passphrase is not None:
        import pyrage

        data = pyrage.passphrase.encrypt(data, passphrase)
    write_private_file(path, data)
    digest = _sha256(data)
    store.audit_disclosure("backup.create", str(path.resolve()), digest)
    stores.note_backup(store, {"at": created_at, "file": str(path.resolve()), "sha256": digest, "encrypted": passphrase
                       is not None, "audit_seq": head.seq if head else 0})
    return BackupInfo(path, passphrase is not None, manifest)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


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
