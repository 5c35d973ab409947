from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from pg_server import create_database, drop_database, running_server
from typer.testing import CliRunner

from tpi_cli.cli import app


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """No test touches a real store: every test gets its own, and stable terminal output."""
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "store"


@pytest.fixture
def tpi() -> Callable[..., object]:
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return run


@pytest.fixture
def patient(tpi):
    """A registered patient, 70 kg, no allergies, Medicare."""
    result = tpi("patient", "add", "--id", "P001", "--name", "Ana María Núñez", "--dob", "1968-04-02",
                 "--weight-kg", "70", "--payer", "medicare")
    assert result.exit_code == 0, result.stderr
    return "P001"


@pytest.fixture
def log(tpi):
    """Log a visit with --json and return the stored record (asserting success)."""

    def run(*args: str, patient: str = "P001"):
        result = tpi("log-visit", "--patient", patient, *args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return run


# --- PostgreSQL: one server per test session, one fresh database per test ------------------------------

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server of its own on 127.0.0.1 (see tests/pg_server.py), stopped when the session ends."""
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server):
    """An empty database on the test server, dropped afterwards; its URL logs in as the superuser."""
    name = f"tpi_test_{next(_databases)}"
    url = create_database(pg_server, name)
    yield url
    drop_database(pg_server, name)


@pytest.fixture
def pg_store_url(pg_url):
    """A database holding an initialised tpi store."""
    from tpi_cli.store_pg import PostgresStore

    store = PostgresStore(pg_url)
    store.init()
    store.close()
    return pg_url


@pytest.fixture(params=["tinydb", "postgresql"])
def store_kind(request, monkeypatch, tmp_path):
    """Run the test once against each kind of store, selected as users select it (TPI_STORE)."""
    if request.param == "postgresql":
        monkeypatch.setenv("TPI_STORE", request.getfixturevalue("pg_store_url"))
    return request.param
