"""The store: the only module that touches TinyDB or the files of the store.

Layout of a store folder (mode 0700, every file 0600)::

    tpi.json            TinyDB: tables "meta" (schema_version), "settings", "patients"
    visits/p-<id>.json  TinyDB: table "visits", one file per patient
    journal.json        present only while a committed multi-file write (import) is being applied
    audit.jsonl         the audit trail: one event per line, appended, never rewritten (see tpi_cli.audit)
    audit.head          the trail's last event (seq, hash): a trail cut short is caught by `audit verify`
    audit.pending       present only during a write: its events, written before the records change
    store.lock          the cross-process lock

Why this layout: TinyDB reads and writes a whole file on every operation, so one file holding a
clinic's 50,000 visits costs seconds per insert. One file per patient keeps ``log-visit`` and
``visits --patient`` as fast at 50,000 visits as on an empty store.

Every write goes to a temp file in the same folder, is fsynced and renamed over the old file, and
the folder is fsynced: a crash leaves the old or the new file, never a broken one. Every
read-modify-write runs under one store-wide file lock, so two terminals logging at once lose
nothing. A write that spans files (import) stages every file, commits with a small journal of
renames, then renames; see :meth:`Store.write_batch`.

Audit: every write method calls :meth:`Store.audit_write` (or :meth:`Store.audit_writes`) for each
record it changes, BEFORE changing it. The events are chained at once and written to
``audit.pending``; when the transaction ends they are appended to ``audit.jsonl`` (fsynced, O(1) per
event) and ``audit.head`` is updated. After a crash the next transaction keeps the pending events
whose records hold their digests (the write landed) and drops the rest, so the trail and the records
never disagree.

Every record read is checked: a stored record that is readable JSON but not a valid record, a visit in
another patient's file, an id used twice, a visits file without its patient are damage (exit 3 naming
the file and the record), never shown or overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from tinydb import TinyDB
from tinydb.storages import Storage

from tpi_cli import audit
from tpi_cli.errors import InputError, StoreError
from tpi_cli.files import (
    FILE_MODE,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    SyncedFiles,
    fsync_dir,
    parse_json,
    why,
    write_private_file,
)
from tpi_cli.forked import shared_map

if TYPE_CHECKING:
    import datetime as dt

    from tpi_cli.models import Patient, Visit
    from tpi_cli.store_pg import PostgresStore

SCHEMA_VERSION = 1
LOCK_TIMEOUT_S = 15.0
DIR_MODE = 0o700
STORE_ENV = "TPI_STORE"
MAIN_FILE = "tpi.json"
LOCK_FILE = "store.lock"
# Visits files kept parsed besides the main file: a write reads its patient's file a few times; a bulk read
# (export, listing) goes through every file once and must not keep them all.
_CACHED_SHARDS = 4
# What a crash while creating a store can leave in its folder: still "empty" for creating it again.
_CREATION_LEFTOVERS = {LOCK_FILE, "visits"}


# A listing shares its reading with a forked copy of tpi from this many visits files on (see tpi_cli.forked).
SHARED_FROM_FILES = 100

# What long work (a listing, an export, an import) is told as it goes: what it is doing, how much is done, of how
# much (None: not known). The CLI draws it on stderr; nothing below the CLI knows how.
Progress = Callable[[str, int, "int | None"], None]


def is_database_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_store(location: str | None = None, *, create: bool = False) -> Store | PostgresStore:
    """The store at LOCATION (else $TPI_STORE, else the user data folder): a folder, or a postgresql:// URL.

    This and the store classes are the only code that knows which kind of store is in use. CREATE: a
    folder store may be started in a new or empty folder (commands that add records); otherwise a
    missing store is reported, never shown as an empty one.
    """
    if location is not None and not location.strip():
        raise InputError("--store: the path is empty; give the store folder, e.g. --store ~/tpi-store")
    if location is None:
        location = os.environ.get(STORE_ENV)
        if location is not None and not location.strip():
            raise InputError(f"{STORE_ENV} is empty; set it to the store folder, or unset it for the default")
    if location is not None and is_database_url(location):
        from tpi_cli.store_pg import PostgresStore  # psycopg is imported only for a database store

        return PostgresStore(location)
    return Store(Path(location).expanduser() if location is not None else default_store_path(), create=create)


def default_store_path() -> Path:
    env = os.environ.get(STORE_ENV)
    if env is not None:
        if not env.strip():
            raise InputError(f"{STORE_ENV} is empty; set it to the store folder, or unset it for the default")
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("tpi", appauthor=False))


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _encode(data: dict[str, Any]) -> bytes:
    return _json(data).encode()


def _damaged(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"store file {path} is damaged ({detail}); it was left untouched. "
        "Restore it from a backup, or correct or move aside that file."
    )


def read_store_file(path: Path, parse: Callable[[bytes], Any] = parse_json) -> dict[str, Any] | None:
    """The tables of a store file, None when it does not exist; StoreError when it cannot be read.

    Checks the TinyDB shape (tables of documents keyed by number); the records are checked by the Store.
    PARSE: parse_json, or another parser giving exactly what it gives (:func:`parse_fast`).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreError(f"cannot read store file {path}: {why(error)}") from None
    try:
        data = parse(raw)
    except ValueError as error:
        raise _damaged(path, f"{error}; not a complete tpi store file") from None
    if not isinstance(data, dict):
        raise _damaged(path, "not a complete tpi store file")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise _damaged(path, f"table {name!r} is not a table of records")
        for key, doc in table.items():
            if not key.isdigit() or not key.isascii() or not isinstance(doc, dict):
                raise _damaged(path, f"{name} record {key!r} is not a record")
    return data


def parse_fast(raw: bytes) -> Any:
    """RAW as parse_json reads it, read by pydantic's JSON parser (jiter), which takes 40% less time over a store's
    visits files; for a reading that validates the records, pydantic is loaded anyway (for anything else its import
    costs more than it saves). What jiter refuses (e.g. a lone surrogate escape, which json takes, or a broken
    file) is read by parse_json itself, so a file is taken or refused, with the same words, as parse_json does;
    tests/test_store_read.py holds the two readers equal."""
    from pydantic_core import from_json

    try:
        return from_json(raw)
    except (ValueError, RecursionError):
        return parse_json(raw)


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

    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC, FILE_MODE)
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


@cache
def _list_adapter(kind: str) -> Any:
    """A validator of a whole table at once (one call into pydantic's core instead of one per record)."""
    from pydantic import TypeAdapter

    from tpi_cli.models import Patient, Visit, built

    model = Patient if kind == "patient" else Visit
    return TypeAdapter(list[built(model)])


@cache
def _visits_file_adapter() -> Any:
    """A visits file validated straight from its text, {"visits": {key: Visit}, "meta": {key: {...}}}, by
    pydantic's own JSON parser: no dict of each record is built on the way (a third of reading a store)."""
    from pydantic import ConfigDict, TypeAdapter, with_config
    from typing_extensions import TypedDict

    from tpi_cli.models import Visit, built

    # only the tables tpi writes there: any other file is read the full way (read_store_file, then each record)
    visits_file = TypedDict("VisitsFile", {"visits": dict[str, built(Visit)], "meta": dict[str, dict[str, Any]]},
                            total=False)
    return TypeAdapter(with_config(ConfigDict(extra="forbid"))(visits_file))


def _validated(path: Path, kind: str, docs: list[dict[str, Any]], keys: list[str]) -> list[Any]:
    """DOCS as models; a record that is not a valid KIND is damage naming PATH and the record."""
    from pydantic import ValidationError

    from tpi_cli.models import problems

    try:
        return _list_adapter(kind).validate_python(docs)
    except ValidationError as error:
        index = error.errors()[0]["loc"][0]
        doc = docs[index]
        ident = doc.get("id")
        named = f"{kind} record {keys[index]}" + (f" ({ident})" if isinstance(ident, str) else "")
        lines = [line.split(".", 1)[1] if line[:1].isdigit() and "." in line.split(":")[0] else line
                 for line in problems(error) if line.split(".", 1)[0] == str(index)]
        raise _damaged(path, f"{named}: {'; '.join(lines or problems(error))}") from None


class Store:
    """A tpi store folder. Reads need no lock; writes happen inside :meth:`transaction`.

    CREATE: whether a transaction may create the store when its folder is new or empty (commands that
    add records do; a read never creates a store, so a mistyped --store is reported, not made).
    """

    kind = "tinydb"

    def __init__(self, root: Path, *, create: bool = True):
        self.root = Path(root)
        self.location = str(self.root)
        self.create = create
        self._main = self.root / MAIN_FILE
        self._visits_dir = self.root / "visits"
        self._journal = self.root / "journal.json"
        self._audit_log = self.root / "audit.jsonl"
        self._audit_head_file = self.root / "audit.head"
        self._audit_pending = self.root / "audit.pending"
        # events chained in this transaction, appended when it ends: their lines (audit.line, encoded once) and
        # the last one's head (an import's 50,000 events are held as text, not as 50,000 dicts)
        self._events: list[bytes] = []
        self._events_head = audit.Head()
        self._locked = False
        self._cache: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}
        self._patient_index: tuple[dict[str, Any], dict[str, tuple[str, dict[str, Any]]]] | None = None
        if self._exists(self._journal):
            with self.transaction():
                pass

    # --- files and locking -----------------------------------------------------------------

    def _exists(self, path: Path) -> bool:
        try:
            os.stat(path)
        except FileNotFoundError:
            return False
        except NotADirectoryError:
            raise StoreError(f"cannot use the store {self.root}: it is not a folder") from None
        except OSError as error:
            raise StoreError(f"cannot read the store {path}: {why(error)}") from None
        return True

    def _entries(self, folder: Path) -> list[str]:
        try:
            return os.listdir(folder)
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            raise StoreError(f"cannot use the store {self.root}: {folder} is not a folder") from None
        except OSError as error:
            raise StoreError(f"cannot read the store folder {folder}: {why(error)}") from None

    def _missing(self) -> StoreError:
        """Why there is no tpi.json: no store here, a folder that is not a store, or a store that lost it."""
        if any(name.endswith(".json") for name in self._entries(self._visits_dir)):
            return StoreError(
                f"store {self.root} has visit files but no {MAIN_FILE} (its patients and settings): the store is "
                f"damaged; restore {self._main} from a backup. Nothing was changed."
            )
        if not self._exists(self.root):
            return StoreError(
                f"no tpi store at {self.root}; check --store or {STORE_ENV}, or add a patient with "
                "`tpi patient add` to start a new store there"
            )
        if set(self._entries(self.root)) - _CREATION_LEFTOVERS:
            return StoreError(
                f"{self.root} is not a tpi store (it holds other files and no {MAIN_FILE}); give --store a new or "
                "empty folder"
            )
        return StoreError(
            f"no tpi store at {self.root} (the folder is empty); add a patient with `tpi patient add` to start one"
        )

    def _read(self, path: Path, parse: Callable[[bytes], Any] = parse_json) -> dict[str, Any] | None:
        """A store file's tables, parsed (by PARSE: see read_store_file) once per version of the file (each write
        renames a new inode in).

        Only the main file and the last few visits files stay parsed: a command that reads every patient's
        visits (an export, a listing) holds one file at a time, not the whole store.
        """
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self._cache.pop(path, None)
            return None
        except OSError as error:
            raise StoreError(f"cannot read store file {path}: {why(error)}") from None
        signature = (info.st_ino, info.st_mtime_ns, info.st_size)
        cached = self._cache.get(path)
        if cached is not None and cached[0] == signature:
            return cached[1]
        data = read_store_file(path, parse)
        if data is not None:
            self._cache.pop(path, None)
            self._cache[path] = (signature, data)
            shards = [cached for cached in self._cache if cached != self._main]
            for stale in shards[:-_CACHED_SHARDS]:
                del self._cache[stale]
        return data

    def _main_data(self) -> dict[str, Any]:
        data = self._read(self._main)
        if data is None:
            raise self._missing()
        return data

    def _create(self) -> None:
        """Make ROOT a store: only a new folder or an empty one (never chmod or fill someone's folder)."""
        try:
            self.root.mkdir(mode=DIR_MODE, parents=True)
        except FileExistsError:
            if not self.root.is_dir() or set(self._entries(self.root)) - _CREATION_LEFTOVERS:
                raise self._missing() from None
            if any(True for _ in self._entries(self._visits_dir)):
                raise self._missing() from None
        except OSError as error:
            raise StoreError(f"cannot create the store folder {self.root}: {why(error)}") from None
        try:
            self.root.chmod(DIR_MODE)
        except OSError as error:
            raise StoreError(f"cannot create the store folder {self.root}: {why(error)}") from None

    def _ensure_private(self) -> None:
        """The store's folders are the owner's only: bits for others are taken away, none are ever added (a
        store its owner made read-only stays read-only)."""
        for folder in (self.root, self._visits_dir):
            try:
                folder.mkdir(mode=DIR_MODE, exist_ok=True)
                folder_mode = folder.stat().st_mode & 0o777
                if folder_mode & 0o077:
                    folder.chmod(folder_mode & 0o700)
            except OSError as error:
                raise StoreError(f"cannot use the store folder {folder}: {why(error)}") from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the store-wide lock; apply a journal a crash left behind before anything else."""
        if self._locked:
            yield self
            return
        is_store = self._exists(self._main)
        if not is_store:
            if not self.create:
                raise self._missing()
            self._create()
        lock_path = self.root / LOCK_FILE
        try:
            release = _acquire_lock(lock_path, LOCK_TIMEOUT_S)
        except TimeoutError:
            raise StoreError(
                f"could not lock the store {lock_path} within {LOCK_TIMEOUT_S:g} s; another tpi is writing — "
                "try again"
            ) from None
        except OSError as error:
            raise StoreError(f"cannot lock the store {lock_path}: {why(error)}") from None
        made = False
        try:
            self._locked = True
            if not self._exists(self._main):  # created here, or by another tpi while this one waited
                if not self.create or self._entries(self._visits_dir):
                    raise self._missing()
                meta = {"schema_version": SCHEMA_VERSION, "namespace": str(uuid.uuid4())}
                write_private_file(self._main, _encode({"meta": {"1": meta}}))
                made = True
            self._ensure_private()
            self._apply_journal()
            self._recover_audit()
            self._sweep_temp_files()
            self._check_schema()
            yield self
            self._commit_audit()
        except BaseException:
            if made:
                self._unmake()
            raise
        finally:
            if self._events:  # the transaction failed: keep only the events whose writes landed
                with contextlib.suppress(StoreError):
                    self._recover_audit()
            self._locked = False
            release()

    def _unmake(self) -> None:
        """Undo what starting this store wrote, when the transaction that started it wrote nothing else (a first
        import refused at a bad line, a mistyped --store): the folder is left empty but for its lock file, which
        every command reads as no store, not an empty one. Under the lock; the lock file stays (others may wait on
        it)."""
        with contextlib.suppress(OSError, StoreError):
            if (set(self._entries(self.root)) - {LOCK_FILE, MAIN_FILE, "visits"} or self._entries(self._visits_dir)
                    or set(read_store_file(self._main) or {}) != {"meta"}):
                return  # something else was written: it stays
            self._main.unlink()
            self._visits_dir.rmdir()
            fsync_dir(self.root)

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
        """Remove what a crash left in this store: temp files, and staged files of a batch never committed."""
        for folder in (self.root, self._visits_dir):
            for name in self._entries(folder):
                if name.startswith(".") and name.endswith((TEMP_SUFFIX, ".staged")):
                    with contextlib.suppress(OSError):
                        os.unlink(folder / name)

    def _db(self, path: Path) -> TinyDB:
        return TinyDB(path, storage=AtomicJSONStorage)

    def _shard(self, patient_id: str) -> Path:
        return self._visits_dir / f"p-{patient_id}.json"

    def _meta(self) -> dict[str, Any]:
        meta = self._main_data().get("meta", {})
        return next(iter(meta.values()), {}) if meta else {}

    def _check_schema(self) -> None:
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.root} was written by a newer tpi (schema {version}); upgrade tpi to use it"
            )
        namespace = self._meta().get("namespace")
        if namespace is None:  # a store made before namespaces: it gets one now, once
            self._db(self._main).table("meta").update({"namespace": str(uuid.uuid4())})
        elif not isinstance(namespace, str):
            raise _damaged(self._main, "meta: namespace is not text")

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

    def _schema_version(self) -> int:
        meta = self._main_data().get("meta", {})
        docs = list(meta.values())
        version = docs[0].get("schema_version") if len(docs) == 1 else None
        if type(version) is not int or version < 1:
            raise _damaged(self._main, "meta: expected one record with a whole-number schema_version")
        return version

    def schema_version(self) -> int | None:
        """The store's schema version; None when there is no store here."""
        return self._schema_version() if self._exists(self._main) else None

    def as_record(self, model: type[Any], doc: Any) -> Any:
        """DOC as a MODEL; a stored record that is not a valid one is damage (exit 3), not bad input."""
        from pydantic import ValidationError

        try:
            return model.model_validate(doc)
        except ValidationError as error:
            name = doc.get("id") if isinstance(doc, dict) else None
            raise StoreError(
                f"{model.__name__.lower()} record {name or '?'} in the store {self.root} is damaged "
                f"({error.error_count()} problem(s)); it was left untouched — restore it from a backup"
            ) from None

    def init(self) -> tuple[int, int]:
        """Create the store (in a new or empty folder) or check it; (schema version before, after)."""
        before = self._schema_version() if self._exists(self._main) else 0
        self.create = True
        with self.transaction():
            pass
        return before, SCHEMA_VERSION

    def info(self) -> dict[str, Any]:
        """Which store this is and how much it holds (every record checked on the way)."""
        head = self.audit_head()
        return {"kind": self.kind, "location": self.location, "schema_version": self._schema_version(),
                "patients": len(self.patient_records()), "visits": self._visit_count(),
                "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
                "last_backup": self._last_backup()}

    def _visit_count(self) -> int:
        """Every visit, voided ones too, each checked: one visits file in memory at a time."""
        patients = self._patient_docs()
        return sum(len(self._checked_shard(shard_id, patients)[0]) for shard_id in self._shard_ids())

    # --- settings -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        from tpi_cli.settings import check_value

        values: dict[str, Any] = {}
        for key, doc in self._main_data().get("settings", {}).items():
            name = doc.get("key")
            if set(doc) != {"key", "value"} or not isinstance(name, str):
                raise _damaged(self._main, f"setting record {key}: expected {{\"key\": ..., \"value\": ...}}")
            if name in values:
                raise _damaged(self._main, f"setting {name} is stored twice")
            try:
                values[name] = check_value(name, doc["value"])
            except ValueError as error:
                raise _damaged(self._main, f"setting record {key}: {error}") from None
        return values

    def set_setting(self, key: str, value: Any) -> None:
        self._require_lock()
        from tinydb import Query

        doc = {"key": key, "value": value}
        self.audit_write("config.set", key, doc)
        self._db(self._main).table("settings").upsert(doc, Query().key == key)

    def unset_setting(self, key: str) -> bool:
        """Back to the default: remove KEY's stored value; False when none was stored."""
        self._require_lock()
        from tinydb import Query

        if key not in self.settings():
            return False
        self.audit_write("config.unset", key, None)
        return bool(self._db(self._main).table("settings").remove(Query().key == key))

    # --- protocols (templates of a visit's procedure, `tpi protocol`) -------------------------------

    def protocols(self) -> list[dict[str, Any]]:
        """Saved protocols as stored, by name."""
        docs = []
        for key, doc in self._main_data().get("protocols", {}).items():
            if not isinstance(doc.get("name"), str) or not isinstance(doc.get("sites"), list):
                raise _damaged(self._main, f"protocol record {key}: its name or sites are missing")
            docs.append(doc)
        return sorted(docs, key=lambda doc: doc["name"])

    def protocol(self, name: str) -> dict[str, Any] | None:
        return next((doc for doc in self.protocols() if doc["name"] == name), None)

    def save_protocol(self, doc: dict[str, Any]) -> None:
        """Store DOC under its name, replacing a protocol of that name."""
        self._require_lock()
        from tinydb import Query

        self.audit_write("protocol.save", doc["name"], doc)
        self._db(self._main).table("protocols").upsert(doc, Query().name == doc["name"])

    # --- patients -------------------------------------------------------------------------------

    def _patient_docs(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Stored patients by id, with their record keys; ids checked, records not yet validated.

        Indexed once per version of the main file (reading each patient's visits in turn asks for it each time).
        """
        data = self._main_data()
        if self._patient_index is not None and self._patient_index[0] is data:
            return self._patient_index[1]
        index: dict[str, tuple[str, dict[str, Any]]] = {}
        for key, doc in data.get("patients", {}).items():
            ident = doc.get("id")
            if not isinstance(ident, str):
                raise _damaged(self._main, f"patient record {key}: id: missing or not text")
            if ident in index:
                raise _damaged(self._main, f"patient {ident} is stored twice (records {index[ident][0]} and {key})")
            index[ident] = (key, doc)
        self._patient_index = (data, index)
        return index

    def has_patient(self, patient_id: str) -> bool:
        return patient_id in self._patient_docs()

    def patient_ids(self) -> list[str]:
        """Every patient id, sorted, without checking the records (for shell completion: fast, read-only)."""
        return sorted(self._patient_docs())

    def visit_ids(self, patient_id: str) -> list[str]:
        """PATIENT_ID's visit ids, last logged first, without checking the records (for shell completion)."""
        docs = (self._read(self._shard(patient_id)) or {}).get("visits", {}).values()
        # P001-V12 → 12, read without the models (whose import is most of a completion's time)
        numbered = {doc["id"]: doc["id"].rpartition("-V")[2] for doc in docs if isinstance(doc.get("id"), str)}
        ids = [ident for ident, number in numbered.items() if number.isdigit()]
        return sorted(ids, key=lambda ident: int(numbered[ident]), reverse=True)

    def patient_records(self) -> list[dict[str, Any]]:
        """Patients as stored (the JSON shape of the Patient model), by id, each checked to be a valid record."""
        index = self._patient_docs()
        ordered = sorted(index)
        docs = [index[i][1] for i in ordered]
        _validated(self._main, "patient", docs, [index[i][0] for i in ordered])
        return docs

    def patients(self) -> list[Patient]:
        index = self._patient_docs()
        ordered = sorted(index)
        return _validated(self._main, "patient", [index[i][1] for i in ordered], [index[i][0] for i in ordered])

    def patient(self, patient_id: str) -> Patient | None:
        found = self._patient_docs().get(patient_id)
        if found is None:
            return None
        return _validated(self._main, "patient", [found[1]], [found[0]])[0]

    def add_patient(self, patient: Patient) -> None:
        self._require_lock()
        doc = patient.model_dump(mode="json")
        self.audit_write("patient.add", patient.id, doc)
        self._db(self._main).table("patients").insert(doc)

    def replace_patient(self, patient: Patient, *, action: str = "patient.update") -> None:
        self._require_lock()
        from tinydb import Query

        doc = patient.model_dump(mode="json")
        self.audit_write(action, patient.id, doc)
        self._db(self._main).table("patients").update(doc, Query().id == patient.id)

    # --- visits ---------------------------------------------------------------------------------

    def _shard_ids(self) -> list[str]:
        """The patient id of every visits file."""
        ids = []
        for name in sorted(self._entries(self._visits_dir)):
            if name.startswith("p-") and name.endswith(".json"):
                ids.append(name[2:-5])
        return ids

    def _checked_shard(self, patient_id: str, patients: dict[str, Any] | None = None) -> tuple[list[dict], list[Visit]]:
        """The visits file of PATIENT_ID as (stored records, models), each checked to be a valid visit of
        that patient with its own id; damage (exit 3) otherwise."""
        path = self._shard(patient_id)
        if patients is None:
            patients = self._patient_docs()  # also: a missing store is reported, not read as empty
        data = self._read(path, parse_fast)  # the records are validated next: pydantic is loaded
        if data is None:
            return [], []
        if patient_id not in patients:
            raise _damaged(path, f"visits of patient {patient_id}, who is not in {self._main}")
        table = data.get("visits", {})
        keys, docs = list(table), list(table.values())
        visits = _validated(path, "visit", docs, keys)
        _check_owner(path, patient_id, keys, visits)
        return docs, visits

    def _visit_models(self, patient_id: str, patients: dict[str, Any]) -> list[Visit]:
        """The visits of PATIENT_ID's file as models, checked as :meth:`_checked_shard` checks them.

        A file not held parsed already is validated straight from its text (no dicts built on the way). Only a
        file that this reading takes whole is taken so; anything else (damage, a table tpi does not write) is
        read again the full way, which names the damage exactly as every other read does, or takes the file.
        """
        path = self._shard(patient_id)
        if path not in self._cache and patient_id in patients:
            from pydantic import ValidationError

            try:
                tables = _visits_file_adapter().validate_json(path.read_bytes())
            except FileNotFoundError:
                return []
            except (OSError, ValidationError, RecursionError):
                tables = None
            if tables is not None and all(key.isdigit() and key.isascii() for table in tables.values()
                                          for key in table):
                table = tables.get("visits", {})
                visits = list(table.values())
                _check_owner(path, patient_id, list(table), visits)
                return visits
        return self._checked_shard(patient_id, patients)[1]

    def _newest_first(self, pairs: list[tuple[dict, Visit]]) -> list[tuple[dict, Visit]]:
        from tpi_cli.models import split_visit_id

        # newest first: by date, then by the order they were logged (the number in the id)
        return sorted(pairs, key=lambda p: (p[1].date, split_visit_id(p[1].id)[1]), reverse=True)

    def _visit_pairs(self, patient_id: str | None, voided: bool) -> list[tuple[dict, Visit]]:
        if patient_id is not None:
            pairs = list(zip(*self._checked_shard(patient_id), strict=True))
        else:
            patients = self._patient_docs()
            pairs = []
            for shard_id in self._shard_ids():
                pairs.extend(zip(*self._checked_shard(shard_id, patients), strict=True))
        if not voided:
            pairs = [pair for pair in pairs if pair[1].voided is None]
        return self._newest_first(pairs)

    def visit_records(self, patient_id: str | None = None, *, voided: bool = False) -> list[dict[str, Any]]:
        """Visits as stored (the JSON shape of the Visit model), newest first, each checked to be valid.

        Voided visits (entered in error) are left out unless VOIDED: listings, safety-check history,
        reports, handouts and exports never see them; numbering and `--all` do.
        """
        return [doc for doc, _ in self._visit_pairs(patient_id, voided)]

    def visits(self, patient_id: str | None = None, *, voided: bool = False) -> list[Visit]:
        """Visit models, newest first; voided ones only when VOIDED (see :meth:`visit_records`)."""
        from tpi_cli.models import split_visit_id

        patients = self._patient_docs()  # also: a missing store is reported, not read as empty
        visits = []
        for shard_id in [patient_id] if patient_id is not None else self._shard_ids():
            visits.extend(self._visit_models(shard_id, patients))
        if not voided:
            visits = [visit for visit in visits if visit.voided is None]
        # newest first: by date, then by the order they were logged (the number in the id)
        return sorted(visits, key=lambda v: (v.date, split_visit_id(v.id)[1]), reverse=True)

    def visit_listing(self, patient_id: str | None = None, *, voided: bool = False, since: dt.date | None = None,
                      until: dt.date | None = None, unsigned: bool = False, progress: Progress | None = None,
                      encode: Callable[[dict[str, Any]], bytes] | None = None) -> VisitListing:
        """Visits as stored, newest first, for a listing of any size (the JSON shape, as visit_records).

        Every visits file is read and validated whole, one at a time, before the first record is given out:
        damage anywhere is exit 3 with nothing listed. The chosen records wait in a nameless temp file and
        only their sort keys stay in memory, so 50,000 visits are listed in the memory of one file.
        SINCE/UNTIL: the visit's date within them; UNSIGNED: only notes waiting for a signature.
        PROGRESS(what, done, total) is told of each patient's file read.
        ENCODE: the listing gives ENCODE(record) for each record instead of the record, made as it is read (e.g. its
        lines of output: 50,000 records are then not read back from the temp file and encoded a second time).
        """
        patients = self._patient_docs()
        shard_ids = [patient_id] if patient_id is not None else self._shard_ids()
        listing = VisitListing(self.root, decode=json.loads if encode is None else None)
        if not shard_ids:  # an empty store lists at once, without loading the models
            return listing
        if encode is None:
            from pydantic_core import to_json as encode

        def listed(shard_id: str) -> list[tuple[dt.date, int, bytes]]:
            """(date, visit number, encoded record) of each visit of SHARD_ID's file that the listing takes."""
            docs, visits = self._checked_shard(shard_id, patients)
            self._cache.pop(self._shard(shard_id), None)
            number_at = len(shard_id) + 2  # each id was checked to be <patient id>-V<number>
            return [(visit.date, int(visit.id[number_at:]), encode(doc)) for doc, visit in zip(docs, visits, strict=True)
                    if _listed(visit, voided, since, until, unsigned)]

        # reading and checking the files is nearly all of a long listing: a forked copy reads some of them
        results = shared_map(listed, shard_ids, share=len(shard_ids) >= SHARED_FROM_FILES)
        try:
            for index, (_, rows) in enumerate(results):
                for date, number, text in rows:
                    # newest first: by date, then by the order they were logged; ties in patient order
                    listing.add((date, number, -index), text)
                if progress is not None:
                    progress("Reading visits", index + 1, len(shard_ids))
        except BaseException:
            results.close()  # the copy, if any, is ended and waited for now, not when the error is let go of
            listing.close()
            raise
        return listing

    def visit(self, visit_id: str) -> Visit | None:
        from tpi_cli.models import split_visit_id

        parts = split_visit_id(visit_id)
        if parts is None:
            return None
        return next((v for v in self._checked_shard(parts[0])[1] if v.id == visit_id), None)

    def _last_visit_number(self, patient_id: str, data: dict[str, Any] | None) -> int:
        """The highest visit number ever given to PATIENT_ID's visits: kept in their visits file, so an id
        is never given twice even when a visit record is gone."""
        from tpi_cli.models import split_visit_id

        path = self._shard(patient_id)
        data = data or {}
        counter = 0
        meta = list(data.get("meta", {}).values())
        if meta:
            counter = meta[0].get("last_visit_number")
            if len(meta) != 1 or type(counter) is not int or counter < 0:
                raise _damaged(path, "meta: expected one record with a whole-number last_visit_number")
        numbers = [(split_visit_id(str(doc.get("id"))) or ("", 0))[1] for doc in data.get("visits", {}).values()]
        return max([counter, *numbers])

    def next_visit_number(self, patient_id: str) -> int:
        """The number of PATIENT_ID's next visit: never one given before."""
        return self._last_visit_number(patient_id, self._read(self._shard(patient_id))) + 1

    def add_visit(self, visit: Visit) -> None:
        self._require_lock()
        from tpi_cli.models import split_visit_id

        number = split_visit_id(visit.id)[1]
        if number <= self._last_visit_number(visit.patient_id, self._read(self._shard(visit.patient_id))):
            raise RuntimeError(f"visit id {visit.id} was given before; take Store.next_visit_number")
        doc = visit.model_dump(mode="json")
        self.audit_write("visit.log", visit.id, doc)
        db = self._db(self._shard(visit.patient_id))
        db.table("meta").upsert({"last_visit_number": number}, lambda doc: True)
        db.table("visits").insert(doc)

    def replace_visit(self, visit: Visit, *, action: str) -> None:
        """Store VISIT over the visit with its id; ACTION says why (visit.amend, visit.sign, …) in the audit."""
        self._require_lock()
        from tinydb import Query

        doc = visit.model_dump(mode="json")
        self.audit_write(action, visit.id, doc)
        self._db(self._shard(visit.patient_id)).table("visits").update(doc, Query().id == visit.id)

    # --- many records at once -----------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Store]:
        """One consistent view of the whole store for reads that span it (store copy): writers wait."""
        with self.transaction():
            yield self

    def checked_records(self, kind: str) -> Iterator[tuple[dict[str, Any], Any]]:
        """(stored JSON, model) of every record of KIND ("patient", "visit": voided ones too), each validated
        once; visits one visits file at a time, so a whole store is read in the memory of its largest file."""
        if kind == "patient":
            index = self._patient_docs()
            ordered = sorted(index)
            docs = [index[i][1] for i in ordered]
            yield from zip(docs, _validated(self._main, "patient", docs, [index[i][0] for i in ordered]), strict=True)
            return
        patients = self._patient_docs()
        for shard_id in self._shard_ids():
            docs, visits = self._checked_shard(shard_id, patients)
            self._cache.pop(self._shard(shard_id), None)
            yield from zip(docs, visits, strict=True)

    def content_digests(self) -> dict[str, tuple[int, str]]:
        """Per kind ("patient", "visit"): how many records are stored and :func:`audit.digest_of_records` of them."""
        patients = [(ident, audit.digest(doc)) for ident, (_, doc) in self._patient_docs().items()]
        visits = []
        for shard_id in self._shard_ids():
            data = read_store_file(self._shard(shard_id)) or {}
            visits.extend((str(doc.get("id")), audit.digest(doc)) for doc in data.get("visits", {}).values())
        return {"patient": (len(patients), audit.digest_of_records(patients)),
                "visit": (len(visits), audit.digest_of_records(visits))}

    def write_batch(self, patients: list[Patient], visits: Iterable[Visit | Encoded]) -> None:
        """Write all of these or none.

        Every changed file is first written beside its final name as ``.NAME.staged``; then the
        journal, one small file listing the renames, is written atomically: that is the commit. The
        renames follow. A crash before the journal leaves staged files that are swept away (nothing
        was written); a crash after it leaves a journal that the next transaction completes.
        """
        self._require_lock()
        renames: dict[Path, Path] = {}  # final → staged
        writes = self._chained(many=True)
        try:
            with SyncedFiles() as synced:
                if patients:
                    staged, final = self._stage(self._main, "patients", patients, "patient.import", writes, synced)
                    renames[final] = staged
                # staged a patient at a time: VISITS given patient by patient (an import) are never all in memory;
                # a patient met again is staged again on top of their staged file
                group: list[Visit] = []
                for visit in itertools.chain(visits, [None]):
                    if group and (visit is None or visit.patient_id != group[0].patient_id):
                        path = self._shard(group[0].patient_id)
                        staged, final = self._stage(path, "visits", group, "visit.import", writes, synced,
                                                    base=renames.get(path))
                        renames[final] = staged
                        group = []
                    if visit is not None:
                        group.append(visit)
                synced.wait()  # every staged file on disk before the journal commits them
            fsync_dir(self._visits_dir)
        except BaseException as error:
            # refused half way (a bad line, a safety check) or a failed write: what was staged is not left lying
            # in the store until the next write sweeps it
            for staged in renames.values():
                with contextlib.suppress(OSError):
                    staged.unlink(missing_ok=True)
            if isinstance(error, OSError):
                raise StoreError(f"cannot write to the store {self.root}: {why(error)}") from None
            raise
        self._pend(writes.lines, writes.head)
        journal = {"renames": [[str(staged.relative_to(self.root)), str(final.relative_to(self.root))]
                               for final, staged in renames.items()]}
        write_private_file(self._journal, _encode(journal))
        self._apply_journal()

    def _stage(self, path: Path, table_name: str, records: list[Patient] | list[Visit | Encoded], action: str,
               writes: _Chained, synced: SyncedFiles,
               base: Path | None = None) -> tuple[Path, Path]:
        """Write PATH's new content, with RECORDS upserted by id into TABLE_NAME, to a staged file (fsynced by
        SYNCED).

        Each new record is written as its canonical JSON, the text its audit digest is taken of, so
        it is serialised once; (ACTION, id, digest) of each is added to WRITES. BASE: the file staged
        for PATH earlier in this batch, to stage on top of.
        """
        data = (read_store_file(base) if base is not None else self._read(path)) or {}
        data = dict(data)
        if table_name == "visits":
            from tpi_cli.models import split_visit_id

            last = max([self._last_visit_number(path.name[2:-5], data),
                        *(split_visit_id(record.id)[1] for record in records)])
            data["meta"] = {"1": {"last_visit_number": last}}
        table = data.pop(table_name, {})
        index = {doc.get("id"): key for key, doc in table.items()}
        rows = {key: _encode(doc) for key, doc in table.items()}
        next_key = max((int(k) for k in table), default=0) + 1
        for record in records:
            key = index.get(record.id)
            if key is None:
                key, next_key = str(next_key), next_key + 1
            text = (record if isinstance(record, Encoded) else encoded(record)).text
            rows[key] = text
            writes.append((action, record.id, hashlib.sha256(text).hexdigest()))
        tables = [f"{json.dumps(name)}:{_json(other)}".encode() for name, other in data.items()]
        tables.append(json.dumps(table_name).encode() + b":{"
                      + b",".join(b'"' + key.encode() + b'":' + row for key, row in rows.items()) + b"}")
        staged = _staged_name(path)
        synced.write(staged, b"{" + b",".join(tables) + b"}")
        return staged, path

    def _apply_journal(self) -> None:
        """Finish the renames of a committed batch (again, if a crash interrupted them)."""
        try:
            raw = self._journal.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise StoreError(f"cannot read store journal {self._journal}: {why(error)}") from None
        try:
            renames = [(self.root / staged, self.root / final) for staged, final in parse_json(raw)["renames"]]
        except (ValueError, KeyError, TypeError):
            renames = None
        # only ever the renames a batch makes: a staged file onto its own store file
        allowed = {self._main.parent, self._visits_dir}
        if renames is None or any(staged != _staged_name(final) or final.parent not in allowed
                                  or ".." in final.parts for staged, final in renames):
            raise _damaged(self._journal, "not a journal of renames that tpi wrote")
        try:
            for staged, final in renames:
                if staged.exists():
                    os.replace(staged, final)
            fsync_dir(self._visits_dir)
            self._journal.unlink()
            fsync_dir(self.root)
        except OSError as error:
            raise StoreError(f"cannot finish a write in the store {self.root}: {why(error)}") from None


    # --- audit trail -----------------------------------------------------------------------------

    def audit_write(self, action: str, record: str, doc: Any) -> None:
        """The audit hook: every store write calls it for each record it changes, BEFORE changing it.

        ACTION is ``KIND.VERB`` (see :mod:`tpi_cli.audit`), RECORD the record's id and DOC the record's
        JSON as it will be stored.
        """
        self.audit_writes([(action, record, audit.digest(doc))])

    def audit_writes(self, writes: list[tuple[str, str, str]]) -> None:
        """Chain one event per (action, record, digest) and make them pending (see the module doc)."""
        self._require_lock()
        if not writes:
            return
        chained = self._chained()
        for write in writes:
            chained.append(write)
        self._pend(chained.lines, chained.head)

    def _chained(self, *, many: bool = False) -> _Chained:
        """Events to chain now, by this user, onto the trail's pending end (see _Chained)."""
        return _Chained(self._events_head if self._events else self._trail_end(), audit.now_text(), self.user(),
                        many=many)

    def _pend(self, lines: list[bytes], head: audit.Head) -> None:
        """Make LINES, events chained onto the trail's pending end and ending at HEAD, pending (see the module doc)."""
        if not lines:
            return
        self._events.extend(lines)
        self._events_head = head
        write_private_file(self._audit_pending, _joined(self._events))

    def adopt_trail(self, events: Iterable[dict[str, Any]]) -> None:
        """Start this store's empty trail with EVENTS, another store's trail verbatim (store copy).

        They are pending like any events: committed with the copied records, or not at all.
        """
        self._require_lock()
        if self._events or self._trail_end() != audit.Head():
            raise StoreError(f"the store {self.root} already has an audit trail; copy into an empty store")
        events = list(events)
        if events:
            self._events.extend(audit.line(event) for event in events)
            self._events_head = audit.Head.of(events[-1])
            write_private_file(self._audit_pending, _joined(self._events))

    def audit_disclosure(self, action: str, file_name: str, data_digest: str) -> None:
        """Record that a file of patient data left the store (an export, a PDF, a backup): after writing it."""
        with self.transaction():
            self.audit_writes([(action, file_name, data_digest)])

    def audit_events(self) -> Iterator[tuple[int, Any]]:
        """(line number, event or None when the line is not JSON) for each line of the trail, oldest first."""
        try:
            handle = self._audit_log.open("rb")
        except FileNotFoundError:
            if not self._exists(self.root):  # no store here: not a store without events
                raise self._missing() from None
            return
        except OSError as error:
            raise StoreError(f"cannot read the audit trail {self._audit_log}: {error.strerror or error}") from None
        with handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    yield number, parse_json(raw)
                except ValueError:
                    yield number, None

    def audit_head(self) -> audit.Head | None:
        """The trail's end as recorded in audit.head (None when nothing was ever recorded)."""
        try:
            data = json.loads(self._audit_head_file.read_bytes())
            return audit.Head(int(data["seq"]), str(data["hash"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return audit.Head(-1, "unreadable")

    def audited_records(self) -> Iterator[tuple[str, str, Any]]:
        """(kind, id, stored JSON) of every record the trail vouches for; a new kind of record adds itself here.

        Every record is checked first: one that is not a valid record is damage (exit 3), not a finding.
        """
        self.settings()
        for doc in self._main_data().get("settings", {}).values():
            yield "setting", doc["key"], doc
        for doc in self.patient_records():
            yield "patient", doc["id"], doc
        for doc in self.protocols():
            yield "protocol", doc["name"], doc
        # one visits file at a time, each checked whole, its models and parsed data dropped before the next:
        # a 50,000-visit store is verified in the memory of its largest file, not of all of them
        patients = self._patient_docs()
        for shard_id in self._shard_ids():
            docs, _ = self._checked_shard(shard_id, patients)
            self._cache.pop(self._shard(shard_id), None)
            for doc in docs:
                yield "visit", doc["id"], doc

    def verify_audit(self) -> audit.Verification:
        """Recompute the chain and every current record's digest (under the lock: a consistent view)."""
        if not self._exists(self.root):  # a mistyped --store is "no store here", never "verified"
            raise self._missing()
        with self.transaction():
            result = audit.verify(self.audit_events(), self.audited_records(), self.audit_head())
            if not self._audit_log.exists() and self._audit_head_file.exists():
                result.problems.insert(0, f"the audit trail {self._audit_log} was deleted")
            return result

    def _current_record(self, kind: str, record_id: str) -> Any:
        if kind == "visit":
            from tpi_cli.models import split_visit_id

            parts = split_visit_id(record_id)
            docs = (self._read(self._shard(parts[0])) or {}).get("visits", {}).values() if parts else []
            return next((doc for doc in docs if doc.get("id") == record_id), None)
        if kind == "patient":
            found = self._patient_docs().get(record_id)
            return found[1] if found else None
        if kind == "setting":
            table = self._main_data().get("settings", {})
            return next((doc for doc in table.values() if doc.get("key") == record_id), None)
        return next((doc for k, i, doc in self.audited_records() if (k, i) == (kind, record_id)), None)

    def _trail_end(self) -> audit.Head:
        """The last event of audit.jsonl, read from its end: appending stays O(1) however long the trail."""
        try:
            with self._audit_log.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                block = 4096
                while True:
                    start = max(0, size - block)
                    handle.seek(start)
                    tail = handle.read(size - start)
                    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
                    if len(lines) == 2 or start == 0:
                        last = lines[-1]
                        break
                    block *= 4
        except FileNotFoundError:
            return audit.Head()
        except OSError as error:
            raise StoreError(f"cannot read the audit trail {self._audit_log}: {error.strerror or error}") from None
        if not last.strip():
            return audit.Head()
        try:
            return audit.Head.of(json.loads(last))
        except (ValueError, KeyError, TypeError):
            raise StoreError(
                f"the audit trail {self._audit_log} ends with a damaged event; `tpi audit verify` names it. "
                "Restore the store from a backup."
            ) from None

    def _append_events(self, lines: list[bytes], head: audit.Head) -> None:
        """Append LINES (events as audit.line made them) to the trail; HEAD: the last one's."""
        if not lines:
            return
        new = not self._audit_log.exists()
        try:
            fd = os.open(self._audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                for chunk in _joined(lines):
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            if new:
                fsync_dir(self.root)
        except OSError as error:
            raise StoreError(f"cannot write the audit trail {self._audit_log}: {error.strerror or error}") from None
        write_private_file(self._audit_head_file, audit.canonical({"seq": head.seq, "hash": head.hash}))

    def _commit_audit(self) -> None:
        lines, self._events = self._events, []
        if lines:
            self._append_events(lines, self._events_head)
            with contextlib.suppress(FileNotFoundError):
                self._audit_pending.unlink()

    def _recover_audit(self) -> None:
        """Settle what a crash (or a failed write) left pending: keep each event whose write landed."""
        self._events = []
        try:
            raw = self._audit_pending.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise StoreError(f"cannot read {self._audit_pending}: {error.strerror or error}") from None
        self._repair_torn_append()
        end = self._trail_end()
        try:
            pending = [json.loads(text) for text in raw.splitlines() if text.strip()]
            todo = [event for event in pending if event["seq"] > end.seq]
        except (ValueError, KeyError, TypeError):
            todo = []  # a pending file is written atomically: damaged means edited by hand; nothing to keep
        landed: list[dict[str, Any]] = []
        expected = end
        for index, event in enumerate(todo):
            if event["prev"] != expected.hash:
                break
            kind = audit.record_kind(event["action"])
            if kind is not None:
                current = self._current_record(kind, event["record"])
                # a record written twice in one transaction holds the digest of its later event
                later = {e["digest"] for e in todo[index:] if e["record"] == event["record"]
                         and audit.record_kind(e["action"]) == kind}
                if current is None or audit.digest(current) not in later:
                    break
            landed.append(event)
            expected = audit.Head.of(event)
        if landed:
            self._append_events([audit.line(event) for event in landed], audit.Head.of(landed[-1]))
        elif self._audit_log.exists() and self.audit_head() != end:
            write_private_file(self._audit_head_file, audit.canonical({"seq": end.seq, "hash": end.hash}))
        self._audit_pending.unlink()

    def _repair_torn_append(self) -> None:
        """Cut a last line a crash left half-appended (only while events are pending: it can only be theirs)."""
        try:
            with self._audit_log.open("rb+") as handle:
                size = handle.seek(0, os.SEEK_END)
                if size == 0:
                    return
                handle.seek(size - 1)
                if handle.read(1) == b"\n":
                    return
                start = max(0, size - 65536)
                handle.seek(start)
                tail = handle.read()
                cut = tail.rfind(b"\n")
                handle.truncate(start + cut + 1 if cut >= 0 else 0)
                os.fsync(handle.fileno())
        except FileNotFoundError:
            return

    def _last_backup(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.root / BACKUP_NOTE).read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"unreadable": str(self.root / BACKUP_NOTE)}


class Encoded(NamedTuple):
    """A record as the store writes it, made beforehand (by another process: see workflow's import): its
    canonical JSON text, the text its audit digest is taken of."""

    patient_id: str | None  # whose visit it is; None for a patient
    id: str
    text: bytes


def encoded(record: Patient | Visit) -> Encoded:
    """RECORD as the store writes it. A validated record holds finite floats only (see audit.canonical_written)."""
    return Encoded(getattr(record, "patient_id", None), record.id,
                   audit.canonical_written(record.model_dump(mode="json")))


class _Chained:
    """Audit events chained one by one as their writes come, from HEAD (the trail's pending end), at AT, by BY.

    A batch stages its records and chains their events as it goes, so it never holds its 50,000 writes and their
    events at once (12 MiB of an import's peak); they become pending once every file is staged (see _pend).
    """

    def __init__(self, head: audit.Head, at: str, by: str, *, many: bool = False) -> None:
        self.head, self._at, self._by, self._many = head, at, by, many
        self.lines: list[bytes] = []

    def append(self, write: tuple[str, str, str]) -> None:
        """Chain the event of WRITE, (action, record, digest)."""
        for event, text in audit.chain_lines(self.head, self._at, self._by, [write], many=self._many):
            self.lines.append(text)
            self.head = audit.Head.of(event)


def _joined(lines: list[bytes]) -> Iterator[bytes]:
    """LINES (events as JSON Lines) a thousand at a time: an import's 50,000 events are never one more copy in
    memory."""
    for start in range(0, len(lines), 1000):
        yield b"".join(lines[start:start + 1000])


def _check_owner(path: Path, patient_id: str, keys: list[str], visits: list[Visit]) -> None:
    """Each of VISITS (stored under KEYS in PATH) is a visit of PATIENT_ID with an id of its own; damage otherwise."""
    from tpi_cli.models import split_visit_id

    seen: dict[str, str] = {}
    for key, visit in zip(keys, visits, strict=True):
        if visit.patient_id != patient_id or (split_visit_id(visit.id) or ("",))[0] != patient_id:
            raise _damaged(path, f"visit record {key} ({visit.id}) belongs to patient {visit.patient_id}, "
                                 f"not {patient_id}")
        if visit.id in seen:
            raise _damaged(path, f"visit id {visit.id} is used twice (records {seen[visit.id]} and {key})")
        seen[visit.id] = key


def _listed(visit: Visit, voided: bool, since: dt.date | None, until: dt.date | None, unsigned: bool) -> bool:
    if visit.voided is not None and not voided:
        return False
    if unsigned and (visit.signed is not None or visit.voided is not None):
        return False
    return (since is None or visit.date >= since) and (until is None or visit.date <= until)


class VisitListing:
    """Records in a listing's order, kept in a nameless 0600 temp file (the store's folder, else the system's
    temp folder for a read-only store) with only their sort keys in memory; iterate once, newest first.

    Each record is kept as bytes and given back as DECODE(bytes), or as the bytes themselves without DECODE."""

    def __init__(self, folder: Path, *, decode: Callable[[bytes], Any] | None = None):
        import tempfile

        # open for as long as the listing is: closed when it has been read, or by close()
        try:
            self._spool = tempfile.TemporaryFile(dir=folder, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)  # noqa: SIM115
        except OSError:
            self._spool = tempfile.TemporaryFile(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)  # noqa: SIM115
        self._keys: list[tuple[Any, ...]] = []
        self._end = 0
        self._decode = decode

    def add(self, key: tuple[Any, ...], text: bytes) -> None:
        self._spool.write(text)
        self._keys.append((*key, self._end, len(text)))
        self._end += len(text)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[Any]:
        self._keys.sort(reverse=True)
        self._spool.flush()
        fd = self._spool.fileno()
        decode = self._decode
        try:
            for *_, offset, length in self._keys:
                text = os.pread(fd, length, offset)
                yield text if decode is None else decode(text)
        finally:
            self.close()

    def close(self) -> None:
        self._spool.close()


# --- backups of a store folder (tpi_cli.backup); a PostgreSQL store is backed up by the database's tools ----

BACKUP_NOTE = "backup.json"  # this store's own last backup, for `tpi store info`
# Not part of a snapshot: the lock, and the note of the store's own last backup.
_NOT_SNAPSHOT = frozenset({LOCK_FILE, BACKUP_NOTE})


@contextlib.contextmanager
def snapshot(store: Store) -> Iterator[tuple[dict[str, Path], audit.Head | None]]:
    """Every file of STORE (path relative to its folder → its path) and the audit head, held under the lock
    while the caller reads them: writers wait, so the files are one consistent state (a settled journal, no
    pending events). The caller reads each file in turn; none is held in memory here."""
    if not store._exists(store._main):
        raise store._missing()
    with store.transaction():
        files = {}
        for path in sorted(store.root.rglob("*")):
            relative = path.relative_to(store.root).as_posix()
            if path.is_file() and not path.name.startswith(".") and relative not in _NOT_SNAPSHOT:
                files[relative] = path
        yield files, store.audit_head()


def restore_files(root: Path, files: Iterable[tuple[str, Iterable[bytes]]], *, durable: bool = True) -> Store:
    """Write FILES (each a path relative to the store folder and its content in pieces, as a backup holds
    them) as a new store in the empty or new folder ROOT, one file at a time as they come.

    DURABLE=False for a scratch copy that is checked and thrown away: its files are not synced to disk
    (two fsyncs per file were most of the time of verifying a 2,000-patient backup)."""
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InputError(f"--to: {root} is not an empty folder; restore into a new or empty folder")
    try:
        root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        root.chmod(DIR_MODE)
    except OSError as error:
        raise StoreError(f"cannot create the store folder {root}: {why(error)}") from None
    for relative, data in files:
        if ".." in Path(relative).parts or Path(relative).is_absolute():
            raise StoreError(f"the backup names a file outside the store ({relative}); it was not restored")
        target = root / relative
        try:
            target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create store folder {target.parent}: {why(error)}") from None
        if durable:
            write_private_file(target, data)
        else:
            _write_scratch(target, data)
    return Store(root, create=False)


def _write_scratch(path: Path, data: Iterable[bytes]) -> None:
    try:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), FILE_MODE),
                  "wb") as handle:
            handle.writelines(data)
    except OSError as error:
        raise StoreError(f"cannot write {path}: {why(error)}") from None


def note_backup(store: Store, details: dict[str, Any]) -> None:
    """Remember STORE's last backup (for `tpi store info`); under the lock, like every write."""
    with store.transaction():
        write_private_file(store.root / BACKUP_NOTE, _encode(details))


def _staged_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.staged")
