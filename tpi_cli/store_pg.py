"""The shared store of a group practice: one PostgreSQL database, behind the same methods as :class:`Store`.

Only :func:`tpi_cli.store.open_store` creates one (for a ``postgresql://`` location), and only then is
psycopg imported. Everything lives in the schema ``tpi``::

    meta       key/value: "app" = "tpi", "schema_version"
    settings   key → value (JSON)
    patients   id → doc (the Patient record)
    visits     id → doc (the Visit record), with patient_id, number and date as indexed columns
    protocols  name → doc
    audit      seq → doc (the audit events), with audit_head holding the end of the chain

Records are kept as ``json``, not ``jsonb``: json keeps the text the TinyDB store keeps, byte for byte
(key order and numbers as written), so every listing and export reads the same from both kinds.

Concurrency is the database's: every command's writes are one transaction (READ COMMITTED). Inside a
transaction, reading a patient or their visits first locks the patient's row, so writers of one
patient queue up and each sees the visits committed before it: visit numbers never collide and the
checks that read history (same-day doses, sessions per year, steroid over 365 days) see every visit.
A visit about to be changed (amend, sign, void) is locked without waiting: a second clinician changing
the same visit at that moment gets a conflict (exit 3) and nothing of theirs is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors

from tpi_cli import audit
from tpi_cli.errors import InputError, StoreError

if TYPE_CHECKING:
    import datetime as dt

    from tpi_cli.models import Patient, Visit
    from tpi_cli.store import Progress

SCHEMA = "tpi"
CONNECT_TIMEOUT_S = 10
LOCK_TIMEOUT = "15s"
FETCH_ROWS = 2000  # rows per round trip when a whole table is read (store copy)

# Schema version N is reached by running MIGRATIONS[N - 1]; released entries never change.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE tpi.settings (key text PRIMARY KEY, value json NOT NULL);
    CREATE TABLE tpi.patients (id text COLLATE "C" PRIMARY KEY, doc json NOT NULL);
    CREATE TABLE tpi.visits (
        id text COLLATE "C" PRIMARY KEY,
        patient_id text COLLATE "C" NOT NULL REFERENCES tpi.patients (id),
        number integer NOT NULL CHECK (number > 0),
        date date NOT NULL,
        doc json NOT NULL,
        UNIQUE (patient_id, number)
    );
    CREATE INDEX visits_by_patient ON tpi.visits (patient_id, date DESC, number DESC);
    CREATE INDEX visits_by_date ON tpi.visits (date DESC, number DESC);
    CREATE TABLE tpi.protocols (name text COLLATE "C" PRIMARY KEY, doc json NOT NULL);
    CREATE TABLE tpi.audit (seq bigint PRIMARY KEY CHECK (seq > 0), doc json NOT NULL);
    CREATE TABLE tpi.audit_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL,
                                 hash text);
    INSERT INTO tpi.audit_head (seq, hash) VALUES (0, NULL);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
_LIST_ADAPTERS: dict[type, Any] = {}


def display_location(url: str) -> str:
    """URL without a password, for messages."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1@", url)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class PostgresStore:
    """A tpi store in a PostgreSQL database. Reads need no transaction; writes happen inside :meth:`transaction`."""

    kind = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self.location = display_location(url)
        self._conn: psycopg.Connection | None = None
        self._in_transaction = False
        self._locked_patients: set[str] = set()

    # --- connection, errors, transactions ----------------------------------------------------

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Database errors become StoreErrors (exit 3) naming the store and what to do."""
        try:
            yield
        except errors.LockNotAvailable:
            raise StoreError(
                f"conflict in the store {self.location}: another clinician is changing this record right now; "
                "nothing was saved — look at it again and repeat your change"
            ) from None
        except (errors.SerializationFailure, errors.DeadlockDetected, errors.UniqueViolation):
            raise StoreError(
                f"conflict in the store {self.location}: another tpi wrote the same record at the same time; "
                "nothing was saved — try again"
            ) from None
        except errors.InsufficientPrivilege:
            raise StoreError(
                f"the database role {self._role()} may not do this in the store {self.location} "
                "(read-only access); nothing was saved"
            ) from None
        except errors.UndefinedTable:
            raise StoreError(
                f"the database {self.location} holds no tpi store; create it with: tpi store init {self.location}"
            ) from None
        except errors.QueryCanceled:
            raise StoreError(
                f"the store {self.location} stayed locked by another tpi for {LOCK_TIMEOUT}; nothing was saved — "
                "try again"
            ) from None
        except psycopg.OperationalError as error:
            detail = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
            raise StoreError(f"cannot use the store {self.location}: {detail}") from None
        except psycopg.Error as error:
            raise StoreError(f"the store {self.location} failed: {type(error).__name__}: {error}") from None

    def _role(self) -> str:
        try:
            return self._connection().info.parameter_status("session_authorization") or "?"
        except (StoreError, psycopg.Error):
            return "?"

    def _connection(self, *, check_schema: bool = True) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            with self._translated():
                self._conn = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="tpi",
                    options=f"-c lock_timeout={LOCK_TIMEOUT}",
                )
            if check_schema:
                self._check_schema()
        return self._conn

    def _rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = self._connection()
        with self._translated():
            return conn.execute(query, params).fetchall()

    def _execute(self, query: str, params: tuple[Any, ...] = ()) -> None:
        self._require_transaction()
        with self._translated():
            self._connection().execute(query, params)

    def _check_schema(self) -> None:
        version = self._schema_version(self._conn)
        if version is None:
            raise StoreError(
                f"the database {self.location} holds no tpi store; create it with: tpi store init {self.location}"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.location} was written by a newer tpi (schema {version}); upgrade tpi to use it"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"store {self.location} has schema {version}; upgrade it with: tpi store init {self.location}"
            )

    def _schema_version(self, conn: psycopg.Connection) -> int | None:
        with self._translated():
            if conn.execute("SELECT to_regclass('tpi.meta')").fetchone()[0] is None:
                return None
            meta = dict(conn.execute("SELECT key, value FROM tpi.meta").fetchall())
        if meta.get("app") != "tpi" or not str(meta.get("schema_version", "")).isdigit():
            raise StoreError(f"the database {self.location} holds a schema 'tpi' that is not a tpi store")
        return int(meta["schema_version"])

    def schema_version(self) -> int | None:
        return self._schema_version(self._connection(check_schema=False))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostgresStore]:
        """One database transaction: the command's writes are all saved, or none."""
        if self._in_transaction:
            yield self
            return
        conn = self._connection()
        with self._translated():
            try:
                with conn.transaction():
                    self._in_transaction = True
                    yield self
            finally:
                self._in_transaction = False
                self._locked_patients.clear()

    def _require_transaction(self) -> None:
        if not self._in_transaction:
            raise RuntimeError("store writes must run inside PostgresStore.transaction()")

    def _lock_patient(self, patient_id: str) -> None:
        """Inside a transaction, queue behind every other writer of this patient (see the module doc)."""
        if self._in_transaction and patient_id not in self._locked_patients:
            self._rows("SELECT 1 FROM tpi.patients WHERE id = %s FOR UPDATE", (patient_id,))
            self._locked_patients.add(patient_id)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def user(self) -> str:
        """Who writes: the database role this connection logged in as."""
        return self._rows("SELECT current_user")[0][0]

    # --- schema -------------------------------------------------------------------------------

    def init(self) -> tuple[int, int]:
        """Create the schema or bring it to the current version; (version before, version after).

        Refuses a database holding tables that are not a tpi store's, so a wrong URL never mixes
        patient records into another application's database.
        """
        conn = self._connection(check_schema=False)
        with self._translated(), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('tpi store init'))")
            version = self._schema_version(conn)
            if version is None:
                others = [f"{schema}.{name}" for schema, name in conn.execute(
                    "SELECT schemaname, tablename FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2 LIMIT 5"
                ).fetchall()]
                if others:
                    raise InputError(
                        f"URL: the database {self.location} already holds other tables ({', '.join(others)}); "
                        "give tpi an empty database of its own (CREATE DATABASE tpi)"
                    )
                conn.execute("CREATE SCHEMA tpi")
                conn.execute("CREATE TABLE tpi.meta (key text PRIMARY KEY, value text NOT NULL)")
                conn.execute("INSERT INTO tpi.meta VALUES ('app', 'tpi'), ('schema_version', '0'), ('namespace', %s)",
                             (str(uuid.uuid4()),))
                version = 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"store {self.location} was written by a newer tpi (schema {version}); upgrade tpi to use it"
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                conn.execute(MIGRATIONS[number - 1])
            conn.execute("UPDATE tpi.meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        return version, SCHEMA_VERSION

    def info(self) -> dict[str, Any]:
        """Which store this is and how much it holds."""
        ((version, patients, visits),) = self._rows(
            "SELECT (SELECT value FROM tpi.meta WHERE key = 'schema_version')::int, "
            "(SELECT count(*) FROM tpi.patients), (SELECT count(*) FROM tpi.visits)")
        head = self.audit_head()
        return {"kind": self.kind, "location": self.location, "schema_version": version, "patients": patients,
                "visits": visits, "audit_head": {"seq": head.seq, "hash": head.hash} if head else None,
                "role": self.user(), "last_backup": None}  # backed up by the database's own tools

    def as_record(self, model: type[Any], doc: Any) -> Any:
        """DOC as a MODEL; a stored row that is not a valid record is damage (exit 3), not bad input."""
        from pydantic import ValidationError

        try:
            return model.model_validate(doc)
        except ValidationError as error:
            name = doc.get("id") if isinstance(doc, dict) else None
            table = "patients" if model.__name__ == "Patient" else "visits"
            raise StoreError(
                f"record {name or '?'} in table tpi.{table} of the store {self.location} is damaged "
                f"({error.error_count()} problem(s), first at {'.'.join(map(str, error.errors()[0]['loc'])) or 'top'}); "
                "it was left untouched — restore it from a backup"
            ) from None

    # --- settings -------------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        from tpi_cli.settings import check_value

        values = {}
        for key, value in self._rows("SELECT key, value FROM tpi.settings ORDER BY key"):
            try:
                values[key] = check_value(key, value)
            except ValueError as error:
                raise StoreError(f"setting {key} in table tpi.settings of the store {self.location} is damaged "
                                 f"({error}); it was left untouched — correct it with `tpi config set`") from None
        return values

    def set_setting(self, key: str, value: Any) -> None:
        self.audit_write("config.set", key, {"key": key, "value": value})
        self._execute(
            "INSERT INTO tpi.settings (key, value) VALUES (%s, %s::json) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, _dumps(value)),
        )

    def patient_ids(self) -> list[str]:
        """Every patient id, sorted (for shell completion)."""
        return [ident for (ident,) in self._rows("SELECT id FROM tpi.patients ORDER BY id")]

    def visit_ids(self, patient_id: str) -> list[str]:
        """PATIENT_ID's visit ids, last logged first (for shell completion)."""
        return [ident for (ident,) in self._rows(
            "SELECT id FROM tpi.visits WHERE patient_id = %s ORDER BY number DESC", (patient_id,))]

    def protocols(self) -> list[dict[str, Any]]:
        """Saved protocols as stored, by name."""
        return [doc for (doc,) in self._rows("SELECT doc FROM tpi.protocols ORDER BY name")]

    def protocol(self, name: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT doc FROM tpi.protocols WHERE name = %s", (name,))
        return rows[0][0] if rows else None

    def save_protocol(self, doc: dict[str, Any]) -> None:
        """Store DOC under its name, replacing a protocol of that name."""
        self.audit_write("protocol.save", doc["name"], doc)
        self._execute(
            "INSERT INTO tpi.protocols (name, doc) VALUES (%s, %s::json) "
            "ON CONFLICT (name) DO UPDATE SET doc = EXCLUDED.doc",
            (doc["name"], _dumps(doc)),
        )

    def unset_setting(self, key: str) -> bool:
        """Back to the default: remove KEY's stored value; False when none was stored."""
        self._require_transaction()
        if key not in self.settings():
            return False
        self.audit_write("config.unset", key, None)
        return bool(self._rows("DELETE FROM tpi.settings WHERE key = %s RETURNING key", (key,)))

    def namespace(self) -> str:
        """The store's own random identifier namespace (see Store.namespace); an older store gets one now."""
        rows = self._rows("SELECT value FROM tpi.meta WHERE key = 'namespace'")
        if not rows:
            with self.transaction():
                self._execute("INSERT INTO tpi.meta VALUES ('namespace', %s) ON CONFLICT (key) DO NOTHING",
                              (str(uuid.uuid4()),))
            rows = self._rows("SELECT value FROM tpi.meta WHERE key = 'namespace'")
        return rows[0][0]

    def set_namespace(self, value: str) -> None:
        """Take over another store's namespace (an exact copy keeps its FHIR identities)."""
        self._execute("INSERT INTO tpi.meta VALUES ('namespace', %s) ON CONFLICT (key) DO UPDATE SET value = %s",
                      (value, value))

    # --- patients -------------------------------------------------------------------------------

    def has_patient(self, patient_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM tpi.patients WHERE id = %s", (patient_id,)))

    def patient_records(self) -> list[dict[str, Any]]:
        """Patients as stored (the JSON shape of the Patient model), by id, without building models."""
        return [doc for (doc,) in self._rows("SELECT doc FROM tpi.patients ORDER BY id")]

    def patients(self) -> list[Patient]:
        from tpi_cli.models import Patient

        return [self.as_record(Patient, doc) for doc in self.patient_records()]

    def patient(self, patient_id: str) -> Patient | None:
        from tpi_cli.models import Patient

        self._lock_patient(patient_id)
        rows = self._rows("SELECT doc FROM tpi.patients WHERE id = %s", (patient_id,))
        return self.as_record(Patient, rows[0][0]) if rows else None

    def add_patient(self, patient: Patient) -> None:
        self.audit_write("patient.add", patient.id, patient.model_dump(mode="json"))
        self._execute("INSERT INTO tpi.patients (id, doc) VALUES (%s, %s::json)",
                      (patient.id, patient.model_dump_json()))
        self._locked_patients.add(patient.id)

    def replace_patient(self, patient: Patient, *, action: str = "patient.update") -> None:
        self._lock_patient(patient.id)
        self.audit_write(action, patient.id, patient.model_dump(mode="json"))
        self._execute("UPDATE tpi.patients SET doc = %s::json WHERE id = %s", (patient.model_dump_json(), patient.id))

    # --- visits ---------------------------------------------------------------------------------

    def visit_records(self, patient_id: str | None = None, *, voided: bool = False) -> list[dict[str, Any]]:
        """Visits as stored (the JSON shape of the Visit model), newest first, without building models.

        Voided visits are left out unless VOIDED (see :meth:`tpi_cli.store.Store.visit_records`).
        """
        live = "" if voided else " AND doc->>'voided' IS NULL"
        if patient_id is None:
            return [doc for (doc,) in self._rows(
                f"SELECT doc FROM tpi.visits WHERE true{live} ORDER BY date DESC, number DESC, patient_id")]
        self._lock_patient(patient_id)
        return [doc for (doc,) in self._rows(
            f"SELECT doc FROM tpi.visits WHERE patient_id = %s{live} ORDER BY date DESC, number DESC", (patient_id,))]

    def visit_listing(self, patient_id: str | None = None, *, voided: bool = False, since: dt.date | None = None,
                      until: dt.date | None = None, unsigned: bool = False, progress: Progress | None = None,
                      encode: Callable[[dict[str, Any]], bytes] | None = None) -> list[Any]:
        """As :meth:`tpi_cli.store.Store.visit_listing`; the database sorts, and a list is a listing (one query:
        no progress to tell)."""
        low, high = since.isoformat() if since else "", until.isoformat() if until else "9999"
        docs = [doc for doc in self.visit_records(patient_id, voided=voided) if low <= doc["date"] <= high
                and not (unsigned and (doc.get("signed") or doc.get("voided")))]
        return docs if encode is None else [encode(doc) for doc in docs]

    def visits(self, patient_id: str | None = None, *, voided: bool = False) -> list[Visit]:
        from tpi_cli.models import Visit

        return [self.as_record(Visit, doc) for doc in self.visit_records(patient_id, voided=voided)]

    def visit(self, visit_id: str) -> Visit | None:
        from tpi_cli.models import Visit

        lock = " FOR UPDATE NOWAIT" if self._in_transaction else ""
        rows = self._rows(f"SELECT doc FROM tpi.visits WHERE id = %s{lock}", (visit_id,))
        return self.as_record(Visit, rows[0][0]) if rows else None

    def _visit_row(self, visit: Visit, text: str | None = None) -> tuple[Any, ...]:
        from tpi_cli.models import split_visit_id

        number = split_visit_id(visit.id)[1]
        return visit.id, visit.patient_id, number, visit.date, visit.model_dump_json() if text is None else text

    def next_visit_number(self, patient_id: str) -> int:
        """The number of PATIENT_ID's next visit (visit rows are never deleted by tpi)."""
        ((last,),) = self._rows("SELECT coalesce(max(number), 0) FROM tpi.visits WHERE patient_id = %s",
                                (patient_id,))
        return last + 1

    def add_visit(self, visit: Visit) -> None:
        self._lock_patient(visit.patient_id)
        self.audit_write("visit.log", visit.id, visit.model_dump(mode="json"))
        self._execute("INSERT INTO tpi.visits (id, patient_id, number, date, doc) VALUES (%s, %s, %s, %s, %s::json)",
                      self._visit_row(visit))

    def replace_visit(self, visit: Visit, *, action: str) -> None:
        self.audit_write(action, visit.id, visit.model_dump(mode="json"))
        self._execute("UPDATE tpi.visits SET date = %s, doc = %s::json WHERE id = %s",
                      (visit.date, visit.model_dump_json(), visit.id))

    # --- many records at once -----------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[PostgresStore]:
        """One consistent view of the whole store for reads that span it (store copy, audit verify): a
        REPEATABLE READ transaction, so writers committing meanwhile are not seen halfway."""
        if self._in_transaction:
            yield self
            return
        with self.transaction():
            self._execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield self

    def checked_records(self, kind: str) -> Iterator[tuple[dict[str, Any], Any]]:
        """(stored JSON, model) of every record of KIND ("patient", "visit": voided ones too), each validated
        once, fetched a few thousand rows at a time."""
        from tpi_cli.models import Patient, Visit

        model, table, order = ((Patient, "patients", "id") if kind == "patient"
                               else (Visit, "visits", "patient_id, number"))
        with self.reading(), self._translated(), self._connection().cursor(name=f"checked_{table}") as cursor:
            cursor.execute(f"SELECT doc FROM tpi.{table} ORDER BY {order}")
            while rows := cursor.fetchmany(FETCH_ROWS):
                docs = [doc for (doc,) in rows]
                yield from zip(docs, self._validated(model, docs), strict=True)

    def _validated(self, model: type[Any], docs: list[Any]) -> list[Any]:
        """DOCS as MODELs in one call into pydantic's core; a damaged one is named as :meth:`as_record` does."""
        from pydantic import TypeAdapter, ValidationError

        from tpi_cli.models import built

        adapter = _LIST_ADAPTERS.get(model)
        if adapter is None:
            adapter = _LIST_ADAPTERS[model] = TypeAdapter(list[built(model)])
        try:
            return adapter.validate_python(docs)
        except ValidationError as error:
            self.as_record(model, docs[error.errors()[0]["loc"][0]])
            raise  # as_record names the record and raises; this only if it did not

    def content_digests(self) -> dict[str, tuple[int, str]]:
        """Per kind ("patient", "visit"): how many records are stored and :func:`audit.digest_of_records` of them,
        computed by the database from the stored text (json keeps it byte for byte)."""
        digests = {}
        for kind, table in (("patient", "patients"), ("visit", "visits")):
            ((count, combined),) = self._rows(
                "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg(id || ' ' || "
                "encode(sha256(convert_to(doc::text, 'UTF8')), 'hex'), E'\\n' ORDER BY id), ''), 'UTF8')), 'hex') "
                f"FROM tpi.{table}")
            digests[kind] = (count, combined)
        return digests

    def write_batch(self, patients: Iterable[Patient], visits: Iterable[Visit]) -> None:
        """Write all of these or none (the transaction): patients and visits upserted by id.

        Each record is serialised once, as the canonical JSON its audit digest is taken of (the text
        the TinyDB store's batches write too), and streamed by COPY into a temporary table, then one
        INSERT … ON CONFLICT from it: a 50,000-visit copy or import takes seconds, not one round trip
        per row. The import events are chained last, in the same transaction.
        """
        self._require_transaction()
        conn = self._connection()
        writes: list[tuple[str, str, str]] = []
        batches = (
            ("patients", "id, doc", patients, "patient.import", lambda patient, text: (patient.id, text),
             "doc = EXCLUDED.doc"),
            ("visits", "id, patient_id, number, date, doc", visits, "visit.import", self._visit_row,
             "date = EXCLUDED.date, doc = EXCLUDED.doc"),
        )
        with self._translated(), conn.cursor() as cursor:
            for table, columns, records, action, row, update in batches:
                cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS batch_{table} (LIKE tpi.{table}) ON COMMIT DROP")
                cursor.execute(f"TRUNCATE batch_{table}")
                before = len(writes)
                with cursor.copy(f"COPY batch_{table} ({columns}) FROM STDIN") as copy:
                    for record in records:
                        text = audit.canonical(record.model_dump(mode="json"))
                        writes.append((action, record.id, hashlib.sha256(text).hexdigest()))
                        copy.write_row(row(record, text.decode()))
                if len(writes) > before:
                    cursor.execute(f"INSERT INTO tpi.{table} ({columns}) SELECT {columns} FROM batch_{table} "
                                   f"ON CONFLICT (id) DO UPDATE SET {update}")
        self.audit_writes(writes)

    # --- audit trail -----------------------------------------------------------------------------

    def audit_write(self, action: str, record: str, doc: Any) -> None:
        """The audit hook (see :meth:`tpi_cli.store.Store.audit_write`): in the write's own transaction."""
        self.audit_writes([(action, record, audit.digest(doc))])

    def audit_writes(self, writes: list[tuple[str, str, str]]) -> None:
        """Chain one event per (action, record, digest) onto the head, which stays locked until commit:
        concurrent writers append one after another, so the chain stays linear."""
        self._require_transaction()
        if not writes:
            return
        seq, last = self._rows("SELECT seq, hash FROM tpi.audit_head FOR UPDATE")[0]
        events = audit.chain(audit.Head(seq, last or audit.GENESIS), audit.now_text(), self.user(), writes)
        self._append_events(events)

    def _append_events(self, events: Iterable[dict[str, Any]]) -> None:
        """Store EVENTS (already chained onto the locked head) by COPY, as they come, and make the last one the head."""
        conn = self._connection()
        last = None
        with self._translated(), conn.cursor() as cursor, cursor.copy("COPY tpi.audit (seq, doc) FROM STDIN") as copy:
            for last in events:
                copy.write_row((last["seq"], audit.canonical(last).decode()))
        if last is not None:
            self._execute("UPDATE tpi.audit_head SET seq = %s, hash = %s", (last["seq"], last["hash"]))

    def adopt_trail(self, events: Iterable[dict[str, Any]]) -> None:
        """Start this store's empty trail with EVENTS, another store's trail verbatim (store copy)."""
        self._require_transaction()
        if self._rows("SELECT seq FROM tpi.audit_head FOR UPDATE")[0][0] != 0:
            raise StoreError(f"the store {self.location} already has an audit trail; copy into an empty store")
        self._append_events(events)

    def audit_disclosure(self, action: str, file_name: str, data_digest: str) -> None:
        with self.transaction():
            self.audit_writes([(action, file_name, data_digest)])

    def audit_events(self) -> Iterator[tuple[int, Any]]:
        """(seq, event) for each event, oldest first."""
        yield from self._rows("SELECT seq, doc FROM tpi.audit ORDER BY seq")

    def audit_head(self) -> audit.Head | None:
        seq, last = self._rows("SELECT seq, hash FROM tpi.audit_head")[0]
        return None if seq == 0 else audit.Head(seq, last)

    def audited_records(self) -> Iterator[tuple[str, str, Any]]:
        for key, value in self._rows("SELECT key, value FROM tpi.settings"):
            yield "setting", key, {"key": key, "value": value}
        for record_id, doc in self._rows("SELECT id, doc FROM tpi.patients"):
            yield "patient", record_id, doc
        for name, doc in self._rows("SELECT name, doc FROM tpi.protocols"):
            yield "protocol", name, doc
        for record_id, doc in self._rows("SELECT id, doc FROM tpi.visits"):
            yield "visit", record_id, doc

    def verify_audit(self) -> audit.Verification:
        """Recompute the chain and every record's digest in one snapshot of the database."""
        with self.reading():
            return audit.verify(self.audit_events(), self.audited_records(), self.audit_head())
