"""What only the shared PostgreSQL store has: schema init, roles, concurrency done by the database, copy."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
VISIT_ARGS = ["--site", "QL:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "7", "--pain-after", "2"]


def add_patient(tpi, pid="P1"):
    result = tpi("patient", "add", "--id", pid, "--name", "Zoë Núñez", "--dob", "1960-01-01", "--weight-kg", "50")
    assert result.exit_code == 0, result.stderr


def log_visit(tpi, pid="P1", *extra: str) -> dict:
    result = tpi("log-visit", "--patient", pid, *VISIT_ARGS, *extra, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def with_user(url: str, user: str) -> str:
    return re.sub(r"://[^@]+@", f"://{user}@", url)


# --- schema ----------------------------------------------------------------------------------------------


def test_store_init_creates_the_schema_once_and_says_so(tpi, pg_url):
    first = tpi("store", "init", pg_url)
    assert first.exit_code == 0, first.stderr
    assert "created a tpi store (schema 1)" in first.stderr
    again = tpi("store", "init", pg_url)
    assert again.exit_code == 0 and "nothing to do" in again.stderr
    meta = dict(sql(pg_url, "SELECT key, value FROM tpi.meta"))
    assert meta.pop("namespace")  # the store's own FHIR identifier namespace, made once
    assert meta == {"app": "tpi", "schema_version": "1"}


def test_store_init_refuses_a_database_holding_other_tables(tpi, pg_url):
    sql(pg_url, "CREATE TABLE invoices (id int)")
    result = tpi("store", "init", pg_url)
    assert result.exit_code == 2
    assert "already holds other tables (public.invoices)" in result.stderr
    assert sql(pg_url, "SELECT to_regclass('tpi.meta')") == [(None,)]


def test_a_schema_named_tpi_that_is_not_a_store_is_refused(tpi, pg_url):
    sql(pg_url, "CREATE SCHEMA tpi; CREATE TABLE tpi.meta (key text, value text)")
    result = tpi("store", "init", pg_url)
    assert result.exit_code == 3 and "not a tpi store" in result.stderr


def test_a_database_without_a_store_says_how_to_create_it(tpi, pg_url, monkeypatch):
    monkeypatch.setenv("TPI_STORE", pg_url)
    result = tpi("patient", "list")
    assert result.exit_code == 3
    assert f"tpi store init {pg_url}" in result.stderr


def test_a_newer_schema_is_refused(tpi, pg_store_url, monkeypatch):
    sql(pg_store_url, "UPDATE tpi.meta SET value = '99' WHERE key = 'schema_version'")
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    result = tpi("patient", "list")
    assert result.exit_code == 3 and "newer tpi (schema 99)" in result.stderr


def test_an_unreachable_server_is_exit_3_naming_the_store_without_its_password(tpi, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("TPI_STORE", f"postgresql://ana:s3cret@127.0.0.1:{port}/tpi")
    result = tpi("patient", "list")
    assert result.exit_code == 3
    assert f"postgresql://ana@127.0.0.1:{port}/tpi" in result.stderr and "s3cret" not in result.stderr


def test_a_folder_store_never_imports_psycopg(tmp_path):
    code = ("import sys; from tpi_cli.cli import main; sys.argv = ['tpi', 'patient', 'list']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint('psycopg' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", "TPI_STORE": str(tmp_path / "s")}, timeout=60)
    assert result.stdout.strip().endswith("False"), result.stderr


def test_a_damaged_row_is_exit_3_naming_the_record(tpi, pg_store_url, monkeypatch):
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    add_patient(tpi)
    sql(pg_store_url, """UPDATE tpi.patients SET doc = '{"id": "P1", "name": 7}'::json""")
    result = tpi("patient", "show", "P1")
    assert result.exit_code == 3
    assert "record P1 in table tpi.patients" in result.stderr and "damaged" in result.stderr


# --- who did it, and who may ----------------------------------------------------------------------------


def readme_grants() -> str:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- grants:start -->", 1)[1].split("<!-- grants:end -->", 1)[0]
    return block.split("```sql", 1)[1].split("```", 1)[0]


@pytest.fixture
def roles(pg_store_url):
    """The README's roles: ana (clinician) and billing (read-only), created in this test's server."""
    grants = readme_grants()
    for role in re.findall(r"CREATE ROLE (\w+)", grants):
        sql(pg_store_url, f"DROP ROLE IF EXISTS {role}")  # roles are server-wide; each test makes its own
    sql(pg_store_url, grants)
    yield pg_store_url
    for role in reversed(re.findall(r"CREATE ROLE (\w+)", grants)):
        sql(pg_store_url, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_by_is_the_database_role_of_the_clinician(tpi, roles, monkeypatch):
    monkeypatch.setenv("TPI_STORE", with_user(roles, "ana"))
    add_patient(tpi)
    logged = log_visit(tpi)
    assert logged["recorded_by"] == "ana"
    result = tpi("visit", "amend", logged["id"], "--reason", "side", "--site", "QL:right", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["amendments"][0]["by"] == "ana"


def test_a_read_only_role_lists_and_prints_but_cannot_write(tpi, roles, monkeypatch, tmp_path):
    monkeypatch.setenv("TPI_STORE", with_user(roles, "ana"))
    add_patient(tpi)
    logged = log_visit(tpi)
    monkeypatch.setenv("TPI_STORE", with_user(roles, "billing"))
    assert [v["id"] for v in json.loads(tpi("visits", "--json").stdout)] == [logged["id"]]
    assert tpi("patient", "show", "P1", "--json").exit_code == 0
    printed = tpi("report", "--visit", logged["id"], "-o", str(tmp_path / "note.pdf"))
    assert printed.exit_code == 0, printed.stderr
    for attempt in (
        ("log-visit", "--patient", "P1", *VISIT_ARGS),
        ("visit", "amend", logged["id"], "--reason", "x", "--pain-after", "1"),
        ("patient", "update", "P1", "--weight-kg", "60"),
        ("config", "set", "clinic.name", "X"),
    ):
        result = tpi(*attempt)
        assert result.exit_code == 3, attempt
        assert "database role billing may not do this" in result.stderr and "nothing was saved" in result.stderr
    monkeypatch.setenv("TPI_STORE", roles)
    assert json.loads(tpi("visits", "--json").stdout) == [logged]
    assert sql(roles, "SELECT count(*) FROM tpi.settings") == [(0,)]


# --- concurrency ----------------------------------------------------------------------------------------


def test_concurrent_writers_of_one_patient_get_distinct_numbers_lose_nothing_and_chain_one_trail(tpi, pg_store_url, monkeypatch):
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    add_patient(tpi)
    writers = [subprocess.Popen([sys.executable, "-m", "tpi_cli", "log-visit", "--patient", "P1", *VISIT_ARGS,
                                 "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                env={"PATH": "/usr/bin:/bin", "TPI_STORE": pg_store_url}) for _ in range(6)]
    outputs = [writer.communicate(timeout=120) for writer in writers]
    assert [writer.returncode for writer in writers] == [0] * 6, [err for _, err in outputs]
    ids = sorted(json.loads(out)["id"] for out, _ in outputs)
    assert ids == sorted(f"P1-V{n}" for n in range(1, 7))
    stored = json.loads(tpi("visits", "--json").stdout)
    assert sorted(v["id"] for v in stored) == ids
    # each writer queued behind the others and saw their visits: all but the first warn of a same-day session
    assert sum(any("one session a day" in w for w in v["warnings"]) for v in stored) == 5
    # the audit chain stayed one line: every write an event, in sequence, each chaining onto the one before
    trail = json.loads(tpi("audit", "--json").stdout)
    assert [e["seq"] for e in trail] == list(range(1, 8))
    assert sorted(e["record"] for e in trail if e["action"] == "visit.log") == ids
    assert tpi("audit", "verify").exit_code == 0


def test_amending_a_visit_another_clinician_is_changing_is_a_conflict_and_writes_nothing(
        tpi, pg_store_url, monkeypatch):
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    add_patient(tpi)
    logged = log_visit(tpi)
    with psycopg.connect(pg_store_url) as other:  # another clinician's amend, mid-transaction
        other.execute("SELECT 1 FROM tpi.visits WHERE id = %s FOR UPDATE", (logged["id"],))
        result = tpi("visit", "amend", logged["id"], "--reason", "pain", "--pain-after", "1")
        assert result.exit_code == 3
        assert "another clinician is changing this record right now" in result.stderr
        assert "nothing was saved" in result.stderr
    assert json.loads(tpi("visit", "show", logged["id"], "--json").stdout) == logged
    assert tpi("visit", "amend", logged["id"], "--reason", "pain", "--pain-after", "1").exit_code == 0


def test_a_connection_lost_in_the_middle_of_a_write_saves_nothing(tpi, pg_store_url, monkeypatch):
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    add_patient(tpi)
    with psycopg.connect(pg_store_url) as other:
        other.execute("SELECT 1 FROM tpi.patients WHERE id = 'P1' FOR UPDATE")  # the writer will wait here
        writer = subprocess.Popen([sys.executable, "-m", "tpi_cli", "log-visit", "--patient", "P1", *VISIT_ARGS],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                  env={"PATH": "/usr/bin:/bin", "TPI_STORE": pg_store_url})
        with psycopg.connect(pg_store_url, autocommit=True) as admin:
            for _ in range(300):
                waiting = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'tpi' "
                                        "AND wait_event_type = 'Lock'").fetchall()
                if waiting:
                    break
                admin.execute("SELECT pg_sleep(0.05)")
            assert waiting, "the writer never waited for the lock"
            admin.execute("SELECT pg_terminate_backend(%s)", waiting[0])
        _, err = writer.communicate(timeout=60)
    assert writer.returncode == 3, err
    assert "cannot use the store" in err and "Traceback" not in err
    assert json.loads(tpi("visits", "--json").stdout) == []


# --- copy -----------------------------------------------------------------------------------------------


def test_store_copy_both_ways_is_exact(tpi, pg_store_url, tmp_path, monkeypatch):
    solo = str(tmp_path / "solo")
    monkeypatch.setenv("TPI_STORE", solo)
    add_patient(tpi, "P1")
    add_patient(tpi, "P2")
    assert tpi("config", "set", "clinic.name", "Clínica Ñandú").exit_code == 0
    first = log_visit(tpi, "P1")
    assert tpi("protocol", "save", "back", "-s", "QL:right", "-a", "lidocaine 1% 2 mL").exit_code == 0
    log_visit(tpi, "P2", "--date", "2026-01-05")
    assert tpi("visit", "amend", first["id"], "--reason", "side", "--site", "QL:right").exit_code == 0
    assert tpi("visit", "void", "P2-V1", "--reason", "wrong patient").exit_code == 0

    def everything() -> list:
        return [json.loads(tpi(*args, "--json").stdout) for args in
                (("patient", "list"), ("visits", "--all"), ("config", "show"), ("protocol", "list"))]

    original = everything()
    result = tpi("store", "copy", solo, pg_store_url)
    assert result.exit_code == 0, result.stderr
    assert "copied 2 patients, 2 visits, 1 setting, 1 protocol and 8 audit events" in result.stderr
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    assert everything() == original
    assert tpi("audit", "verify").exit_code == 0
    back = str(tmp_path / "back")
    assert tpi("store", "copy", pg_store_url, back).exit_code == 0
    monkeypatch.setenv("TPI_STORE", back)
    assert everything() == original
    verified = tpi("audit", "verify")
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    trail = json.loads(tpi("audit", "--json").stdout)
    assert [e["action"] for e in trail[:8]] == ["patient.add", "patient.add", "config.set", "visit.log",
                                                 "protocol.save", "visit.log", "visit.amend", "visit.void"]


def test_store_copy_refuses_a_target_that_holds_records(tpi, pg_store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    add_patient(tpi, "P9")
    solo = str(tmp_path / "solo")
    monkeypatch.setenv("TPI_STORE", solo)
    add_patient(tpi, "P1")
    result = tpi("store", "copy", solo, pg_store_url)
    assert result.exit_code == 2 and "already holds records" in result.stderr
    assert sql(pg_store_url, "SELECT id FROM tpi.patients") == [("P9",)]


def test_store_info_names_the_kind_and_counts(tpi, pg_store_url, monkeypatch):
    monkeypatch.setenv("TPI_STORE", pg_store_url)
    add_patient(tpi)
    log_visit(tpi)
    info = json.loads(tpi("store", "info", "--json").stdout)
    head = json.loads(tpi("audit", "--json").stdout)[-1]
    assert info == {"kind": "postgresql", "location": pg_store_url, "schema_version": 1, "patients": 1,
                    "visits": 1, "audit_head": {"seq": 2, "hash": head["hash"]}, "role": "postgres",
                    "last_backup": None}


def test_both_store_kinds_offer_the_same_methods_with_the_same_parameters():
    import inspect

    from tpi_cli.store import Store
    from tpi_cli.store_pg import PostgresStore

    def interface(cls) -> dict[str, list[str]]:
        return {name: list(inspect.signature(member).parameters) for name, member in vars(cls).items()
                if not name.startswith("_") and callable(member)}

    assert interface(Store) == interface(PostgresStore)


def _edit_visit(store: Path, pid: str, change) -> None:
    shard = store / "visits" / f"p-{pid}.json"
    data = json.loads(shard.read_text())
    change(next(iter(data["visits"].values())))
    shard.write_text(json.dumps(data))


def _nothing_copied(url: str) -> bool:
    return sql(url, "SELECT (SELECT count(*) FROM tpi.patients) + (SELECT count(*) FROM tpi.visits) + "
                    "(SELECT count(*) FROM tpi.audit) + (SELECT seq FROM tpi.audit_head)") == [(0,)]


@pytest.mark.parametrize(("edit", "named"), [
    # valid, but the model would store "stiff": a copy written from the model would not be the source
    (lambda visit: visit.update(notes="  stiff  "), "record P2-V1 in the store"),
    (lambda visit: visit.update(pain_before=99), "is damaged"),
])
def test_store_copy_stops_at_a_source_record_it_cannot_copy_exactly_and_writes_nothing(
        tpi, pg_store_url, tmp_path, monkeypatch, edit, named):
    solo = tmp_path / "solo"
    monkeypatch.setenv("TPI_STORE", str(solo))
    for pid in ("P1", "P2", "P3"):
        add_patient(tpi, pid)
        log_visit(tpi, pid)
    _edit_visit(solo, "P2", edit)
    result = tpi("store", "copy", str(solo), pg_store_url)
    assert result.exit_code == 3 and named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _nothing_copied(pg_store_url)
    folder = tmp_path / "folder"
    result = tpi("store", "copy", str(solo), str(folder))
    assert result.exit_code == 3 and named in result.stderr, result.stderr
    monkeypatch.setenv("TPI_STORE", str(folder))
    assert json.loads(tpi("patient", "list", "--json").stdout) == []
    assert json.loads(tpi("audit", "--json").stdout) == []


def test_store_copy_is_refused_and_rolled_back_when_the_database_does_not_hold_what_was_sent(
        tpi, pg_store_url, tmp_path, monkeypatch):
    # a trigger that rewrites a stored visit stands for anything between tpi and the table (no read-back of
    # each row any more: the count and digest of every record, computed by the database, must match)
    sql(pg_store_url, """
        CREATE FUNCTION tpi.meddle() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.doc := replace(NEW.doc::text, '"pain_after":2', '"pain_after":1')::json; RETURN NEW; END $$;
        CREATE TRIGGER meddle BEFORE INSERT ON tpi.visits FOR EACH ROW EXECUTE FUNCTION tpi.meddle();
    """)
    solo = tmp_path / "solo"
    monkeypatch.setenv("TPI_STORE", str(solo))
    add_patient(tpi, "P1")
    log_visit(tpi, "P1")
    result = tpi("store", "copy", str(solo), pg_store_url)
    assert result.exit_code == 3, result.stderr
    assert "differs from its source in its visits" in result.stderr
    assert _nothing_copied(pg_store_url)
