from __future__ import annotations

import json
from collections.abc import Callable

import pytest
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
