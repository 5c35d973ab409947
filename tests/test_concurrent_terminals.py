"""Sixteen terminals running the installed `tpi` on one store at the same moment (issue 9 item 10).

A lost allergy means a later visit with that drug is stored, not refused, so every update must read the
patient under the store lock. Each process waits at a barrier file so they start together.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

TPI = shutil.which("tpi", path=str(Path(sys.executable).parent)) or shutil.which("tpi")
pytestmark = pytest.mark.skipif(TPI is None, reason="the tpi command is not installed")
TERMINALS = 16

# Waits for the start file, then runs tpi as the terminal would (exec: the process is tpi itself).
_WAIT_THEN_RUN = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.005)\nos.execv(sys.argv[2], sys.argv[2:])\n"


def _tpi(store: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TPI, "--store", str(store), *args], check=False, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"})


def _all_at_once(tmp_path: Path, commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    start = tmp_path / "start"
    procs = [subprocess.Popen([sys.executable, "-c", _WAIT_THEN_RUN, str(start), TPI, *command],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                              env={**os.environ, "NO_COLOR": "1"}) for command in commands]
    time.sleep(0.5)  # let every interpreter reach its wait loop
    start.touch()
    results = []
    for proc, command in zip(procs, commands, strict=True):
        out, err = proc.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(command, proc.returncode, out, err))
    return results


@pytest.fixture
def shared_store(tmp_path):
    store = tmp_path / "store"
    added = _tpi(store, "patient", "add", "--id", "P1", "--name", "Ana", "--dob", "1960-01-01", "--weight-kg", "70")
    assert added.returncode == 0, added.stderr
    return store


def test_sixteen_terminals_adding_allergies_at_once_keep_all_sixteen(tmp_path, shared_store):
    allergies = [f"allergen{i}" for i in range(TERMINALS)]
    results = _all_at_once(tmp_path, [["--store", str(shared_store), "patient", "update", "P1", "--allergy", a]
                                      for a in allergies])
    assert [r.returncode for r in results] == [0] * TERMINALS, [r.stderr for r in results if r.returncode]
    shown = _tpi(shared_store, "patient", "show", "P1", "--json")
    assert shown.returncode == 0, shown.stderr
    patient = json.loads(shown.stdout)
    assert sorted(patient["allergies"]) == sorted(allergies)
    assert len(patient["amendments"]) == TERMINALS
    assert sorted(a["changes"]["allergies"]["to"][-1] for a in patient["amendments"]) == sorted(allergies)


def test_sixteen_terminals_logging_visits_at_once_store_sixteen_with_distinct_ids(tmp_path, shared_store):
    results = _all_at_once(tmp_path, [["--store", str(shared_store), "log-visit", "--patient", "P1", "--site",
                                       "QL:left", "--pain-before", "6", "--pain-after", str(i % 5), "--json"]
                                      for i in range(TERMINALS)])
    assert [r.returncode for r in results] == [0] * TERMINALS, [r.stderr for r in results if r.returncode]
    logged_ids = {json.loads(r.stdout)["id"] for r in results}
    listed = _tpi(shared_store, "visits", "--patient", "P1", "--json")
    assert listed.returncode == 0, listed.stderr
    visits = json.loads(listed.stdout)
    assert len(visits) == TERMINALS
    assert {v["id"] for v in visits} == logged_ids and len(logged_ids) == TERMINALS
