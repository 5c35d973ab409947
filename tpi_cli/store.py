"""The store: the only module that touches TinyDB or the files of the store.

Layout of a store folder (mode 0700, every file 0600)::

    tpi.json            TinyDB: tables "meta" (schema_version), "settings", "patients"
    visits/p-<id>.json  TinyDB: table "visits", one file per patient
    journal.json        present only while a multi-file write (import) is being applied
    store.lock          the cross-process lock

Why this layout: TinyDB reads and writes a whole file on every operation, so one file holding a
clinic's 50,000 visits costs seconds per insert. One file per patient keeps ``log-visit`` and
``visits --patient`` as fast at 50,000 visits as on an empty store.

Every write goes to a temp file in the same folder, is fsynced and renamed over the old file, and
the folder is fsynced: a crash leaves the old or the new file, never a broken one. Every
read-modify-write runs under one store-wide file lock, so two terminals logging at once lose
nothing. A write that spans files (import) first writes a journal atomically, then applies it; a
journal left by a crash is applied again (every record has its own id, so applying twice is the same
as once) before anything else reads or writes.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from tpi_cli.errors import StoreError
from tpi_cli.models import Patient, Visit, split_visit_id

SCHEMA_VERSION = 1
LOCK_TIMEOUT_S = 15.0
FILE_MODE = 0o600
DIR_MODE = 0o700
STORE_ENV = "TPI_STORE"

def default_store_path() -> Path:
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tpi", appauthor=False))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private_file(path: Path, data: bytes) -> None:
    """Write DATA to PATH atomically (temp file, fsync, rename, fsync folder), mode 0600."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as error:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StoreError(f"cannot write {path}: {error.strerror or error}") from None


def read_store_file(path: Path) -> dict[str, Any] | None:
    """The JSON of a store file, None when it does not exist; StoreError when it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"cannot read store file {path}: {error.strerror or error}") from None
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or not all(isinstance(table, dict) for table in data.values()):
        raise StoreError(
            f"store file {path} is damaged (not a complete tpi store file); it was left untouched. "
            "Restore it from a backup, or move it aside to start that part of the store afresh."
        )
    return data


class AtomicJSONStorage(Storage):
    """TinyDB storage that reads strictly and writes atomically (TinyDB's own writes in place)."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict[str, Any] | None:
        return read_store_file(self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        write_private_file(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())

    def close(self) -> None:
        pass


class Store:
    """A tpi store folder. Reads need no lock; writes happen inside :meth:`transaction`."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._main = self.root / "tpi.json"
        self._visits_dir = self.root / "visits"
        self._journal = self.root / "journal.json"
        self._locked = False
        if self._journal.exists():
            with self.transaction():
                pass

    # --- files and locking -----------------------------------------------------------------

    def _ensure_folders(self) -> None:
        for folder in (self.root, self._visits_dir):
            try:
                folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
                if folder.stat().st_mode & 0o777 != DIR_MODE:
                    folder.chmod(DIR_MODE)
            except OSError as error:
                raise StoreError(f"cannot create store folder {folder}: {error.strerror or error}") from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the store-wide lock; apply a journal a crash left behind before anything else."""
        if self._locked:
            yield self
            return
        from filelock import FileLock, Timeout

        self._ensure_folders()
        lock_path = self.root / "store.lock"
        lock = FileLock(str(lock_path), mode=FILE_MODE, timeout=LOCK_TIMEOUT_S)
        try:
            lock.acquire()
        except Timeout:
            raise StoreError(
                f"could not lock the store {lock_path} within {LOCK_TIMEOUT_S:g} s; another tpi is writing — "
                "try again"
            ) from None
        except OSError as error:
            raise StoreError(f"cannot lock the store {lock_path}: {error.strerror or error}") from None
        try:
            self._locked = True
            self._sweep_temp_files()
            self._check_schema()
            self._apply_journal()
            yield self
        finally:
            self._locked = False
            lock.release()

    def _require_lock(self) -> None:
        if not self._locked:
            raise RuntimeError("store writes must run inside Store.transaction()")

    def _sweep_temp_files(self) -> None:
        for folder in (self.root, self._visits_dir):
            for tmp in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()

    def _db(self, path: Path) -> TinyDB:
        return TinyDB(path, storage=AtomicJSONStorage)

    def _shard(self, patient_id: str) -> Path:
        return self._visits_dir / f"p-{patient_id}.json"

    def _check_schema(self) -> None:
        meta = (read_store_file(self._main) or {}).get("meta", {})
        version = next(iter(meta.values()), {}).get("schema_version") if meta else None
        if version is None:
            self._db(self._main).table("meta").insert({"schema_version": SCHEMA_VERSION})
        elif version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.root} was written by a newer tpi (schema {version}); upgrade tpi to use it"
            )

    # --- settings -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        table = (read_store_file(self._main) or {}).get("settings", {})
        return {doc["key"]: doc["value"] for doc in table.values()}

    def set_setting(self, key: str, value: Any) -> None:
        self._require_lock()
        from tinydb import Query

        self._db(self._main).table("settings").upsert({"key": key, "value": value}, Query().key == key)

    # --- patients -------------------------------------------------------------------------------

    def _patient_docs(self) -> dict[str, dict[str, Any]]:
        table = (read_store_file(self._main) or {}).get("patients", {})
        return {doc["id"]: doc for doc in table.values()}

    def patients(self) -> list[Patient]:
        return sorted((Patient.model_validate(doc) for doc in self._patient_docs().values()), key=lambda p: p.id)

    def patient(self, patient_id: str) -> Patient | None:
        doc = self._patient_docs().get(patient_id)
        return Patient.model_validate(doc) if doc else None

    def add_patient(self, patient: Patient) -> None:
        self._require_lock()
        self._db(self._main).table("patients").insert(patient.model_dump(mode="json"))

    def replace_patient(self, patient: Patient) -> None:
        self._require_lock()
        from tinydb import Query

        self._db(self._main).table("patients").update(patient.model_dump(mode="json"), Query().id == patient.id)

    # --- visits ---------------------------------------------------------------------------------

    def _visit_docs(self, patient_id: str) -> list[dict[str, Any]]:
        return list((read_store_file(self._shard(patient_id)) or {}).get("visits", {}).values())

    def visits(self, patient_id: str | None = None) -> list[Visit]:
        """Visits, newest first (by date, then by the order they were logged)."""
        if patient_id is not None:
            docs = self._visit_docs(patient_id)
        else:
            docs = []
            if self._visits_dir.is_dir():
                for shard in sorted(self._visits_dir.glob("p-*.json")):
                    docs.extend((read_store_file(shard) or {}).get("visits", {}).values())
        visits = [Visit.model_validate(doc) for doc in docs]
        visits.sort(key=lambda v: (v.date, split_visit_id(v.id)[1]), reverse=True)
        return visits

    def visit(self, visit_id_: str) -> Visit | None:
        parts = split_visit_id(visit_id_)
        if parts is None:
            return None
        for doc in self._visit_docs(parts[0]):
            if doc["id"] == visit_id_:
                return Visit.model_validate(doc)
        return None

    def add_visit(self, visit: Visit) -> None:
        self._require_lock()
        self._db(self._shard(visit.patient_id)).table("visits").insert(visit.model_dump(mode="json"))

    def replace_visit(self, visit: Visit) -> None:
        self._require_lock()
        from tinydb import Query

        self._db(self._shard(visit.patient_id)).table("visits").update(
            visit.model_dump(mode="json"), Query().id == visit.id
        )

    # --- many records at once -----------------------------------------------------------------

    def write_batch(self, patients: list[Patient], visits: list[Visit]) -> None:
        """Write all of these or none: journal first, then apply."""
        self._require_lock()
        journal = {
            "patients": [p.model_dump(mode="json") for p in patients],
            "visits": [v.model_dump(mode="json") for v in visits],
        }
        write_private_file(self._journal, json.dumps(journal, ensure_ascii=False).encode())
        self._apply_journal()

    def _apply_journal(self) -> None:
        try:
            raw = self._journal.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise StoreError(f"cannot read store journal {self._journal}: {error.strerror or error}") from None
        try:
            journal = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise StoreError(f"store journal {self._journal} is damaged; it was left untouched") from None

        if journal["patients"]:
            data = read_store_file(self._main) or {}
            table = data.setdefault("patients", {})
            index = {doc["id"]: key for key, doc in table.items()}
            next_key = max((int(k) for k in table), default=0) + 1
            for doc in journal["patients"]:
                key = index.get(doc["id"])
                if key is None:
                    key, next_key = str(next_key), next_key + 1
                table[key] = doc
            AtomicJSONStorage(self._main).write(data)

        by_patient: dict[str, list[dict[str, Any]]] = {}
        for doc in journal["visits"]:
            by_patient.setdefault(doc["patient_id"], []).append(doc)
        for patient_id, docs in by_patient.items():
            shard = self._shard(patient_id)
            data = read_store_file(shard) or {}
            table = data.setdefault("visits", {})
            index = {doc["id"]: key for key, doc in table.items()}
            next_key = max((int(k) for k in table), default=0) + 1
            for doc in docs:
                key = index.get(doc["id"])
                if key is None:
                    key, next_key = str(next_key), next_key + 1
                table[key] = doc
            AtomicJSONStorage(shard).write(data)
        try:
            self._journal.unlink()
            _fsync_dir(self.root)
        except OSError as error:
            raise StoreError(f"cannot remove store journal {self._journal}: {error.strerror or error}") from None
