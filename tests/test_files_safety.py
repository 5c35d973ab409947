"""Files written safely outside the store too, stores made only where they belong, and shards that hold only
their own records. Run as a user would: CliRunner for most, the installed `tpi` where a kill or a second
user matters."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

TPI = shutil.which("tpi", path=str(Path(sys.executable).parent)) or shutil.which("tpi")
needs_tpi = pytest.mark.skipif(TPI is None, reason="the tpi command is not installed")

VISIT = ("--site", "QL:left", "--agent", "lidocaine 1% 2 mL", "--pain-before", "6", "--pain-after", "2")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def visit(tpi, patient):
    result = tpi("log-visit", "--patient", patient, *VISIT)
    assert result.exit_code == 0, result.stderr
    return "P001-V1"


# --- -o: a regular file or a new path, nothing else ------------------------------------------------------


def _refused(result, *words):
    assert result.exit_code in (2, 3), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and all(w in result.stderr for w in words), result.stderr


def test_output_onto_a_device_is_refused_and_the_device_untouched(tpi, visit):
    _refused(tpi("report", "--visit", visit, "-o", "/dev/null"), "/dev/null", "not a regular file")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_output_onto_a_fifo_is_refused(tpi, visit, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _refused(tpi("export", "csv", "-o", str(fifo)), str(fifo), "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_output_onto_a_symlink_is_refused_and_its_target_untouched(tpi, visit, tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "report.pdf"
    link.symlink_to(target)
    _refused(tpi("report", "--visit", visit, "-o", str(link)), str(link), "symbolic link")
    assert link.is_symlink() and target.read_text() == "keep me"


def test_output_onto_a_folder_or_into_a_missing_folder_is_refused(tpi, visit, tmp_path):
    _refused(tpi("handout", "--visit", visit, "-o", str(tmp_path)), "is a folder")
    missing = tmp_path / "no" / "such.pdf"
    _refused(tpi("handout", "--visit", visit, "-o", str(missing)), "does not exist")
    assert not missing.parent.exists()


def test_output_replaces_a_regular_file_privately_and_leaves_no_temp_file(tpi, visit, tmp_path):
    out = tmp_path / "out" / "note.pdf"
    out.parent.mkdir()
    out.write_text("old")
    out.chmod(0o644)
    result = tpi("report", "--visit", visit, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF") and mode(out) == 0o600
    assert sorted(p.name for p in out.parent.iterdir()) == ["note.pdf"]


def test_default_names_never_replace_a_file_nor_follow_a_planted_link(tpi, visit, tmp_path):
    first = tpi("handout", "--visit", visit)
    assert first.exit_code == 0, first.stderr
    [made] = tmp_path.glob("P001-*-handout.pdf")
    # someone plants a link where the next default name would go
    planted_target = tmp_path / "victim.txt"
    planted_target.write_text("keep me")
    second_name = made.with_name(made.stem + "-2.pdf")
    second_name.symlink_to(planted_target)
    again = tpi("handout", "--visit", visit)
    assert again.exit_code == 0, again.stderr
    assert planted_target.read_text() == "keep me" and second_name.is_symlink()
    assert made.with_name(made.stem + "-3.pdf").read_bytes().startswith(b"%PDF")


@needs_tpi
def test_a_killed_export_leaves_no_temp_file(tmp_path, store_path):
    """kill -9 while the export is being written: the folder holds nothing new (no hidden PHI file)."""
    env = {**os.environ, "TPI_STORE": str(store_path)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TPI, *args], check=False, env=env, capture_output=True, text=True, timeout=120)

    assert run("patient", "add", "--id", "P1", "--name", "A", "--dob", "1950-01-01").returncode == 0
    lines = "\n".join(json.dumps({"patient_id": "P1", "date": f"2025-{m:02d}-{d:02d}", "sites": [
        {"muscle": "QL", "side": "left"}], "pain_before": 5, "pain_after": 2}) for m in range(1, 13) for d in (1, 15))
    (tmp_path / "in.jsonl").write_text(lines)
    assert run("import", str(tmp_path / "in.jsonl")).returncode == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8):
        proc = subprocess.Popen([TPI, "export", "fhir", "-o", str(out_dir / "x.json")], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert {p.name for p in out_dir.iterdir()} <= {"x.json"}, list(out_dir.iterdir())


# --- stores: made only in a new or empty folder, never shown empty when missing ------------------------


def test_a_store_is_never_made_in_a_folder_holding_other_files(tpi, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / ".bashrc").write_text("x")
    (home / ".notes.tmp").write_text("mine")
    monkeypatch.setenv("TPI_STORE", str(home))
    result = tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01")
    assert result.exit_code == 3 and str(home) in result.stderr and "not a tpi store" in result.stderr
    assert mode(home) == 0o755 and sorted(p.name for p in home.iterdir()) == [".bashrc", ".notes.tmp"]
    assert tpi("config", "set", "clinic.name", "X").exit_code == 3
    assert sorted(p.name for p in home.iterdir()) == [".bashrc", ".notes.tmp"]


def test_a_store_is_made_in_a_new_or_an_empty_folder(tpi, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    for root in (empty, tmp_path / "new" / "deeper"):
        monkeypatch.setenv("TPI_STORE", str(root))
        assert tpi("patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01").exit_code == 0
        assert mode(root) == 0o700 and (root / "tpi.json").exists()


@pytest.mark.parametrize("args", [["patient", "list"], ["patient", "list", "--json"], ["visits", "--json"],
                                  ["config", "show"], ["patient", "show", "P1"], ["visit", "show", "P1-V1"],
                                  ["export", "csv", "-o", "-"], ["handout", "--patient", "P1"],
                                  ["log-visit", "--patient", "P1", *VISIT], ["patient", "update", "P1", "--diabetic"]])
def test_commands_on_a_missing_store_say_so_and_create_nothing(tpi, tmp_path, args):
    typo = tmp_path / "stroe"
    result = tpi("--store", str(typo), *args)
    assert result.exit_code == 3, (result.exit_code, result.stderr)
    assert f"no tpi store at {typo}" in result.stderr and result.stdout == ""
    assert not typo.exists()


def test_an_empty_store_location_is_bad_input(tpi, monkeypatch):
    assert tpi("--store", "", "patient", "list").exit_code == 2
    monkeypatch.setenv("TPI_STORE", "")
    result = tpi("patient", "list")
    assert result.exit_code == 2 and "TPI_STORE is empty" in result.stderr


def test_visit_files_without_tpi_json_are_damage_not_an_empty_store(tpi, visit, store_path):
    (store_path / "tpi.json").unlink()
    for args in (["visits", "--json"], ["patient", "list"], ["patient", "add", "--id", "P2", "--name", "B",
                                                             "--dob", "1990-01-01"]):
        result = tpi(*args)
        assert result.exit_code == 3 and "no tpi.json" in result.stderr, result.stderr
    assert not (store_path / "tpi.json").exists()


def test_a_store_folder_that_is_a_file_is_exit_3(tpi, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (["patient", "list"], ["patient", "add", "--id", "P1", "--name", "A", "--dob", "1990-01-01"]):
        result = tpi("--store", str(blocker), *args)
        assert result.exit_code == 3 and str(blocker) in result.stderr, result.stderr
    assert blocker.read_text() == "x"


# --- a shard's records belong to it; ids are never given twice -------------------------------------------


def _shard(store_path, pid):
    return store_path / "visits" / f"p-{pid}.json"


def test_a_visit_in_another_patients_file_is_damage(tpi, visit, store_path):
    assert tpi("patient", "add", "--id", "P3", "--name", "Other", "--dob", "1980-01-01").exit_code == 0
    shutil.copy(_shard(store_path, "P001"), _shard(store_path, "P3"))
    before = _shard(store_path, "P3").read_bytes()
    for args in (["handout", "--patient", "P3"], ["visits", "--json"], ["visits", "--patient", "P3"],
                 ["log-visit", "--patient", "P3", *VISIT]):
        result = tpi(*args)
        assert result.exit_code == 3, (args, result.stderr)
        assert str(_shard(store_path, "P3")) in result.stderr and "belongs to patient P001" in result.stderr
    assert _shard(store_path, "P3").read_bytes() == before
    assert not list(Path.cwd().glob("P3-*.pdf"))


def test_a_visit_id_used_twice_is_damage(tpi, visit, store_path):
    path = _shard(store_path, "P001")
    data = json.loads(path.read_text())
    data["visits"]["2"] = dict(data["visits"]["1"])
    path.write_text(json.dumps(data))
    result = tpi("visits", "--json")
    assert result.exit_code == 3 and "P001-V1 is used twice" in result.stderr and str(path) in result.stderr


def test_a_visits_file_without_its_patient_is_damage(tpi, visit, store_path):
    shutil.copy(_shard(store_path, "P001"), _shard(store_path, "P404"))
    result = tpi("visits", "--json")
    assert result.exit_code == 3 and str(_shard(store_path, "P404")) in result.stderr
    assert "not in" in result.stderr


def test_a_deleted_visits_id_is_never_given_again(tpi, patient, store_path):
    for _ in range(2):
        assert tpi("log-visit", "--patient", patient, *VISIT).exit_code == 0
    path = _shard(store_path, "P001")
    data = json.loads(path.read_text())
    del data["visits"]["2"]  # P001-V2 removed by hand
    path.write_text(json.dumps(data))
    logged = tpi("log-visit", "--patient", patient, *VISIT, "--json")
    assert logged.exit_code == 0, logged.stderr
    assert json.loads(logged.stdout)["id"] == "P001-V3"


# --- printed text is never markup ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Clinic [/] x", "[bold]Clinic[/bold]", "A [red]& B", "[link=x]y"])
def test_a_clinic_name_with_markup_prints_literally(tpi, patient, name):
    result = tpi("config", "set", "clinic.name", name)
    assert result.exit_code == 0, result.stderr
    assert name in result.stderr
    shown = tpi("config", "show", "--json")
    assert json.loads(shown.stdout)["clinic.name"] == name
