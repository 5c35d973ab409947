"""The store: the only module that touches TinyDB or the files of the store.

Layout of a store folder (mode 0700, every file 0600)::

    tpi.json            TinyDB: tables "meta" (schema_version), "settings", "patients"
    visits/p-<id>.json  TinyDB: table "visits", one file per patient
    journal.json        present only while a committed multi-file write (import) is being applied
    store.lock          the cross-process lock

Why this layout: TinyDB reads and writes a whole file on every operation, so one file holding a
clinic's 50,000 visits costs seconds per insert. One file per patient keeps ``log-visit`` and
``visits --patient`` as fast at 50,000 visits as on an empty store.

Every write goes to a temp file in the same folder, is fsynced and renamed over the old file, and
the folder is fsynced: a crash leaves the old or the new file, never a broken one. Every
read-modify-write runs under one store-wide file lock, so two terminals logging at once lose
nothing. A write that spans files (import) stages every file, commits with a small journal of
renames, then renames; see :meth:`Store.write_batch`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb import TinyDB
from tinydb.storages import Storage

from tpi_cli.errors import StoreError
from tpi_cli.files import FILE_MODE, fsync_dir, write_private_file, write_synced

if TYPE_CHECKING:
    from tpi_cli.models import Patient, Visit
    from tpi_cli.store_pg import PostgresStore

SCHEMA_VERSION = 1
LOCK_TIMEOUT_S = 15.0
DIR_MODE = 0o700
STORE_ENV = "TPI_STORE"

def is_database_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_store(location: str | None = None) -> Store | PostgresStore:
    """The store at LOCATION (else $TPI_STORE, else the user data folder): a folder, or a postgresql:// URL.

    This and the store classes are the only code that knows which kind of store is in use.
    """
    location = location if location is not None else os.environ.get(STORE_ENV) or None
    if location is not None and is_database_url(location):
        from tpi_cli.store_pg import PostgresStore  # psycopg is imported only for a database store

        return PostgresStore(location)
    return Store(Path(location).expanduser() if location is not None else default_store_path())


def default_store_path() -> Path:
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tpi", appauthor=False))


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _encode(data: dict[str, Any]) -> bytes:
    return _json(data).encode()


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


def _acquire_lock(path: Path, timeout: float) -> Callable[[], None]:
    """Take the store's exclusive lock; return the function that releases it.

    On POSIX this is flock(2) on an 0600 file, which is what filelock does there, without the
    8-20 ms its import adds to every command (measured); elsewhere filelock itself.
    """
    try:
        import fcntl
    except ImportError:
        from filelock import FileLock, Timeout

        lock = FileLock(str(path), mode=FILE_MODE, timeout=timeout)
        try:
            lock.acquire()
        except Timeout:
            raise TimeoutError(str(path)) from None
        return lock.release

    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise TimeoutError(str(path)) from None
            time.sleep(0.02)

    def release() -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    return release


class AtomicJSONStorage(Storage):
    """TinyDB storage that reads strictly and writes atomically (TinyDB's own writes in place)."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> dict[str, Any] | None:
        return read_store_file(self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        write_private_file(self.path, _encode(data))

    def close(self) -> None:
        pass


class Store:
    """A tpi store folder. Reads need no lock; writes happen inside :meth:`transaction`."""

    kind = "tinydb"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.location = str(self.root)
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
        self._ensure_folders()
        lock_path = self.root / "store.lock"
        try:
            release = _acquire_lock(lock_path, LOCK_TIMEOUT_S)
        except TimeoutError:
            raise StoreError(
                f"could not lock the store {lock_path} within {LOCK_TIMEOUT_S:g} s; another tpi is writing — "
                "try again"
            ) from None
        except OSError as error:
            raise StoreError(f"cannot lock the store {lock_path}: {error.strerror or error}") from None
        try:
            self._locked = True
            self._apply_journal()
            self._sweep_temp_files()
            self._check_schema()
            yield self
        finally:
            self._locked = False
            release()

    def close(self) -> None:
        """Nothing stays open between operations (the PostgreSQL store closes its connection here)."""

    def user(self) -> str:
        """Who writes: the OS user."""
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    def _require_lock(self) -> None:
        if not self._locked:
            raise RuntimeError("store writes must run inside Store.transaction()")

    def _sweep_temp_files(self) -> None:
        """Remove what a crash left: temp files, and staged files of a batch that was never committed."""
        for folder in (self.root, self._visits_dir):
            for pattern in (".*.tmp", ".*.staged"):
                for leftover in folder.glob(pattern):
                    with contextlib.suppress(OSError):
                        leftover.unlink()

    def _db(self, path: Path) -> TinyDB:
        return TinyDB(path, storage=AtomicJSONStorage)

    def _shard(self, patient_id: str) -> Path:
        return self._visits_dir / f"p-{patient_id}.json"

    def _meta(self) -> dict[str, Any]:
        meta = (read_store_file(self._main) or {}).get("meta", {})
        return next(iter(meta.values()), {}) if meta else {}

    def _check_schema(self) -> None:
        version = self._schema_version()
        if version is None:
            self._db(self._main).table("meta").insert({"schema_version": SCHEMA_VERSION,
                                                       "namespace": str(uuid.uuid4())})
        elif version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.root} was written by a newer tpi (schema {version}); upgrade tpi to use it"
            )
        elif "namespace" not in self._meta():  # a store made before namespaces: it gets one now, once
            self._db(self._main).table("meta").update({"namespace": str(uuid.uuid4())})

    def namespace(self) -> str:
        """The store's own random identifier namespace (a UUID), made with the store and never changed.

        FHIR exports derive every urn:uuid and their default identifier system from it, so two clinics'
        patient P00001 never meet in one EHR.
        """
        value = self._meta().get("namespace")
        if value is None:
            with self.transaction():  # an older store's namespace is made by its first transaction
                pass
            value = self._meta()["namespace"]
        return value

    def set_namespace(self, value: str) -> None:
        """Take over another store's namespace (an exact copy keeps its FHIR identities)."""
        self._require_lock()
        self._db(self._main).table("meta").update({"namespace": value})

    def _schema_version(self) -> int | None:
        meta = (read_store_file(self._main) or {}).get("meta", {})
        return next(iter(meta.values()), {}).get("schema_version") if meta else None

    def init(self) -> tuple[int, int]:
        """Create the store (its folders and schema record); (schema version before, after)."""
        before = self._schema_version() or 0
        with self.transaction():
            pass
        return before, SCHEMA_VERSION

    def info(self) -> dict[str, Any]:
        """Which store this is and how much it holds."""
        shards = sorted(self._visits_dir.glob("p-*.json")) if self._visits_dir.is_dir() else []
        visits = sum(len((read_store_file(shard) or {}).get("visits", {})) for shard in shards)
        return {"kind": self.kind, "location": self.location, "schema_version": self._schema_version(),
                "patients": len(self._patient_docs()), "visits": visits}

    # --- settings -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        table = (read_store_file(self._main) or {}).get("settings", {})
        return {doc["key"]: doc["value"] for doc in table.values()}

    def set_setting(self, key: str, value: Any) -> None:
        self._require_lock()
        from tinydb import Query

        self._db(self._main).table("settings").upsert({"key": key, "value": value}, Query().key == key)

    def unset_setting(self, key: str) -> bool:
        """Back to the default: remove KEY's stored value; False when none was stored."""
        self._require_lock()
        from tinydb import Query

        return bool(self._db(self._main).table("settings").remove(Query().key == key))

    # --- patients -------------------------------------------------------------------------------

    def _patient_docs(self) -> dict[str, dict[str, Any]]:
        table = (read_store_file(self._main) or {}).get("patients", {})
        return {doc["id"]: doc for doc in table.values()}

    def has_patient(self, patient_id: str) -> bool:
        return patient_id in self._patient_docs()

    def patient_records(self) -> list[dict[str, Any]]:
        """Patients as stored (the JSON shape of the Patient model), by id, without building models."""
        return sorted(self._patient_docs().values(), key=lambda doc: doc["id"])

    def patients(self) -> list[Patient]:
        from tpi_cli.models import Patient

        return [Patient.model_validate(doc) for doc in self.patient_records()]

    def patient(self, patient_id: str) -> Patient | None:
        from tpi_cli.models import Patient

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

    def visit_records(self, patient_id: str | None = None) -> list[dict[str, Any]]:
        """Visits as stored (the JSON shape of the Visit model), newest first, without building models."""
        if patient_id is not None:
            docs = self._visit_docs(patient_id)
        else:
            docs = []
            if self._visits_dir.is_dir():
                for shard in sorted(self._visits_dir.glob("p-*.json")):
                    docs.extend((read_store_file(shard) or {}).get("visits", {}).values())
        # newest first: by date, then by the order they were logged (the number in the id)
        docs.sort(key=lambda doc: (doc["date"], int(doc["id"].rsplit("-V", 1)[1])), reverse=True)
        return docs

    def visits(self, patient_id: str | None = None) -> list[Visit]:
        from tpi_cli.models import Visit

        return [Visit.model_validate(doc) for doc in self.visit_records(patient_id)]

    def visit(self, visit_id: str) -> Visit | None:
        from tpi_cli.models import Visit, split_visit_id

        parts = split_visit_id(visit_id)
        if parts is None:
            return None
        for doc in self._visit_docs(parts[0]):
            if doc["id"] == visit_id:
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
        """Write all of these or none.

        Every changed file is first written beside its final name as ``.NAME.staged``; then the
        journal, one small file listing the renames, is written atomically: that is the commit. The
        renames follow. A crash before the journal leaves staged files that are swept away (nothing
        was written); a crash after it leaves a journal that the next transaction completes.
        """
        self._require_lock()
        renames: list[tuple[Path, Path]] = []
        try:
            if patients:
                renames.append(self._stage(self._main, "patients", patients))
            by_patient: dict[str, list[Visit]] = {}
            for visit in visits:
                by_patient.setdefault(visit.patient_id, []).append(visit)
            for patient_id, group in by_patient.items():
                renames.append(self._stage(self._shard(patient_id), "visits", group))
            fsync_dir(self._visits_dir)
        except OSError as error:
            raise StoreError(f"cannot write to the store {self.root}: {error.strerror or error}") from None
        journal = {"renames": [[str(staged.relative_to(self.root)), str(final.relative_to(self.root))]
                               for staged, final in renames]}
        write_private_file(self._journal, _encode(journal))
        self._apply_journal()

    def _stage(self, path: Path, table_name: str, records: list[Patient] | list[Visit]) -> tuple[Path, Path]:
        """Write PATH's new content, with RECORDS upserted by id into TABLE_NAME, to a staged file.

        New records are serialised by pydantic straight to JSON text (several times faster than
        dumping to Python and encoding again: it is most of a large import's writing).
        """
        data = read_store_file(path) or {}
        table = data.pop(table_name, {})
        index = {doc["id"]: key for key, doc in table.items()}
        rows = {key: _json(doc) for key, doc in table.items()}
        next_key = max((int(k) for k in table), default=0) + 1
        for record in records:
            key = index.get(record.id)
            if key is None:
                key, next_key = str(next_key), next_key + 1
            rows[key] = record.model_dump_json()
        tables = [f"{json.dumps(name)}:{_json(other)}" for name, other in data.items()]
        tables.append(json.dumps(table_name) + ":{" + ",".join(f'"{key}":{row}' for key, row in rows.items()) + "}")
        staged = path.with_name(f".{path.name}.staged")
        write_synced(staged, ("{" + ",".join(tables) + "}").encode())
        return staged, path

    def _apply_journal(self) -> None:
        """Finish the renames of a committed batch (again, if a crash interrupted them)."""
        try:
            raw = self._journal.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise StoreError(f"cannot read store journal {self._journal}: {error.strerror or error}") from None
        try:
            renames = json.loads(raw)["renames"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            raise StoreError(f"store journal {self._journal} is damaged; it was left untouched") from None
        try:
            for staged, final in renames:
                if (self.root / staged).exists():
                    os.replace(self.root / staged, self.root / final)
            fsync_dir(self._visits_dir)
            self._journal.unlink()
            fsync_dir(self.root)
        except OSError as error:
            raise StoreError(f"cannot finish a write in the store {self.root}: {error.strerror or error}") from None
