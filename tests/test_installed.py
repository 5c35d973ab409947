"""A few real runs of the installed `tpi` command, as a clinic's terminal would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TPI = shutil.which("tpi", path=str(Path(sys.executable).parent)) or shutil.which("tpi")
pytestmark = pytest.mark.skipif(TPI is None, reason="the tpi command is not installed")


def run(*args: str, store: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TPI_STORE": str(store), "NO_COLOR": "1"}
    return subprocess.run([TPI, *args], check=False, env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_installed_tpi_logs_a_visit_and_prints_a_handout(tmp_path):
    store = tmp_path / "store"
    assert run("patient", "add", "--id", "P1", "--name", "Nguyễn Thị Ánh", "--dob", "1950-01-01",
               "--weight-kg", "55", store=store, cwd=tmp_path).returncode == 0
    logged = run("log-visit", "--patient", "P1", "--site", "UT:left:2", "--agent", "lidocaine 1% 3 mL",
                 "--pain-before", "7", "--pain-after", "2", "--json", store=store, cwd=tmp_path)
    assert logged.returncode == 0, logged.stderr
    assert json.loads(logged.stdout)["cpt"] == ["20552"]
    handout = run("handout", "--patient", "P1", store=store, cwd=tmp_path)
    assert handout.returncode == 0, handout.stderr
    [pdf] = tmp_path.glob("P1-*-handout.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_installed_tpi_exit_codes(tmp_path):
    store = tmp_path / "store"
    run("patient", "add", "--id", "P1", "--name", "A", "--dob", "1950-01-01", "--weight-kg", "40", store=store,
        cwd=tmp_path)
    bad = run("log-visit", "--patient", "P1", "--site", "UT:left", "--pain-before", "12", "--pain-after", "2",
              store=store, cwd=tmp_path)
    assert bad.returncode == 2 and "pain_before" in bad.stderr and "Traceback" not in bad.stderr
    refused = run("log-visit", "--patient", "P1", "--site", "UT:left", "--agent", "lidocaine 2% 10 mL",
                  "--pain-before", "7", "--pain-after", "2", store=store, cwd=tmp_path)
    assert refused.returncode == 1 and "--override-reason" in refused.stderr
    missing = run("log-visit", "--patient", "P1", "--site", "UT:left", store=store, cwd=tmp_path)
    assert missing.returncode == 2 and "missing --pain-before" in missing.stderr
    (store / "tpi.json").write_text("{broken")
    broken = run("patient", "list", store=store, cwd=tmp_path)
    assert broken.returncode == 3 and str(store / "tpi.json") in broken.stderr


def test_installed_tpi_demo_never_touches_the_users_store(tmp_path):
    store = tmp_path / "store"
    result = run("demo", "--out", str(tmp_path / "demo"), store=store, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo" / "store" / "tpi.json").exists()
    assert len(list((tmp_path / "demo").glob("*.pdf"))) == 4
    assert not store.exists()
