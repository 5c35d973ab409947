"""Never a traceback: hostile input files, store files, settings, unreadable folders, a full disk. Each case
runs the installed `tpi` as a user would and accepts only the documented exit codes 0-3.

Permission cases need a user the file modes apply to: the tests run as root here, so those runs drop to
`nobody` (root reads any file whatever its mode), or — where `nobody` cannot reach the interpreter, as
on CI — to root without capabilities; as an ordinary user they run as that user.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import pytest

TPI = shutil.which("tpi", path=str(Path(sys.executable).parent)) or shutil.which("tpi")
pytestmark = pytest.mark.skipif(TPI is None, reason="the tpi command is not installed")

NOBODY = 65534
AS_ROOT = os.geteuid() == 0


def _drop_privileges() -> None:
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


# Root without capabilities: file modes apply to it as to anyone (no CAP_DAC_OVERRIDE), and with the
# "noroot" securebits an exec does not give them back. Used when `nobody` cannot reach this interpreter.
NO_CAPABILITIES = ["setpriv", "--securebits", "+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked",
                   "--bounding-set", "-all", "--inh-caps", "-all", "--"]


class Unprivileged(NamedTuple):
    command: list[str]
    env: dict[str, str]
    as_nobody: bool  # else: root without capabilities


def _unprivileged_command() -> Unprivileged | None:
    """How an unprivileged user runs this tpi: as `nobody` (the installed command, or a system python of the
    same version over the same packages), else — when the interpreter lives where nobody may not go, e.g. a
    pyenv under /root, as on CI — root stripped of every capability."""
    if not AS_ROOT:
        return Unprivileged([TPI], {}, as_nobody=False)
    try:
        if subprocess.run([TPI, "--version"], check=False, preexec_fn=_drop_privileges, capture_output=True).returncode == 0:
            return Unprivileged([TPI], {}, as_nobody=True)
    except OSError:
        pass
    import site

    import tpi_cli

    path = os.pathsep.join([*site.getsitepackages(), str(Path(tpi_cli.__file__).parent.parent)])
    for python in ("/usr/bin/python3", "/usr/local/bin/python3"):
        try:
            code = f"import sys; assert sys.version_info[:2] == {sys.version_info[:2]}; import tpi_cli.cli"
            check = subprocess.run([python, "-c", code], env={**os.environ, "PYTHONPATH": path},
                                   preexec_fn=_drop_privileges, capture_output=True, check=False)
        except OSError:
            continue
        if check.returncode == 0:
            return Unprivileged([python, "-m", "tpi_cli"], {"PYTHONPATH": path}, as_nobody=True)
    try:
        if subprocess.run([*NO_CAPABILITIES, TPI, "--version"], check=False, capture_output=True).returncode == 0:
            return Unprivileged([*NO_CAPABILITIES, TPI], {}, as_nobody=False)
    except OSError:
        pass
    return None


UNPRIVILEGED = _unprivileged_command() if TPI else None


def run(*args: str, store: Path, cwd: Path | None = None, unprivileged: bool = False, file_limit: int | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    def prepare() -> None:
        if file_limit is not None:  # a full disk, as the kernel reports it to one process: EFBIG
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
        if unprivileged and UNPRIVILEGED is not None and UNPRIVILEGED.as_nobody:
            _drop_privileges()

    command, extra = [TPI], {}
    if unprivileged:
        if UNPRIVILEGED is None:
            pytest.skip("no interpreter an unprivileged user may run, so file modes cannot be tested as root")
        command, extra = UNPRIVILEGED.command, UNPRIVILEGED.env
    # pytest's PYTEST_CURRENT_TEST holds the test id, which holds the hostile parameter: too long for exec
    inherited = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env = {**inherited, "TPI_STORE": str(store), "NO_COLOR": "1", "HOME": str(cwd or store.parent), **extra}
    return subprocess.run([*command, *args], check=False, env=env, cwd=cwd or store.parent, capture_output=True, text=True,
                          timeout=120, input=stdin, preexec_fn=prepare)


def assert_clean(result: subprocess.CompletedProcess, *codes: int) -> None:
    assert result.returncode in (codes or (0, 1, 2, 3)), (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]


@pytest.fixture
def shared_dir():
    """A folder the unprivileged user owns (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="tpi-test-"))
    folder.chmod(0o755)
    if AS_ROOT and UNPRIVILEGED is not None and UNPRIVILEGED.as_nobody:
        os.chown(folder, NOBODY, NOBODY)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o700)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def store(shared_dir):
    root = shared_dir / "store"
    for args in (["patient", "add", "--id", "P1", "--name", "A", "--dob", "1950-01-01", "--weight-kg", "60"],
                 ["log-visit", "--patient", "P1", "--site", "QL:left", "--agent", "lidocaine 1% 2 mL",
                  "--pain-before", "6", "--pain-after", "2"]):
        result = run(*args, store=root, unprivileged=True)
        assert result.returncode == 0, result.stderr
    return root


READS = (["patient", "list", "--json"], ["visits", "--json"], ["visit", "show", "P1-V1"])
WRITES = (["patient", "add", "--id", "P2", "--name", "B", "--dob", "1990-01-01"],
          ["log-visit", "--patient", "P1", "--site", "QL:right", "--pain-before", "5", "--pain-after", "2"],
          ["config", "set", "clinic.name", "X"], ["patient", "update", "P1", "--diabetic"])


# --- folders and files a user cannot use -------------------------------------------------------------------


@pytest.mark.parametrize("args", READS + WRITES)
def test_an_unreadable_store_folder_is_exit_3_naming_it(store, args):
    store.chmod(0o000)
    result = run(*args, store=store, unprivileged=True)
    assert_clean(result, 3)
    assert str(store) in result.stderr


@pytest.mark.parametrize("args", WRITES)
def test_a_read_only_store_is_exit_3_for_writes_and_keeps_its_records(store, args):
    before = (store / "tpi.json").read_bytes()
    for folder in (store, store / "visits"):
        folder.chmod(0o500)
    result = run(*args, store=store, unprivileged=True)
    assert_clean(result, 3)
    assert str(store) in result.stderr
    assert (store / "tpi.json").read_bytes() == before
    # a read-only store is still listed (the listing spools to the system's temp folder instead)
    listed = run("visits", "--json", "--limit", "0", store=store, unprivileged=True)
    assert listed.returncode == 0, listed.stderr
    assert [visit["id"] for visit in json.loads(listed.stdout)] == ["P1-V1"]


def test_an_unreadable_store_file_is_exit_3_naming_it(store):
    (store / "visits" / "p-P1.json").chmod(0o000)
    result = run("visits", "--json", store=store, unprivileged=True)
    assert_clean(result, 3)
    assert "p-P1.json" in result.stderr


@pytest.mark.parametrize("folder_mode", [0o600, 0o500, 0o000])
def test_output_into_a_folder_the_user_cannot_use_is_exit_3_naming_it(store, shared_dir, folder_mode):
    out = shared_dir / "out"
    out.mkdir()
    out.chmod(folder_mode)
    for args in (["report", "--visit", "P1-V1", "-o", str(out / "r.pdf")], ["export", "csv", "-o", str(out / "x.csv")]):
        result = run(*args, store=store, unprivileged=True)
        assert_clean(result, 3)
        assert str(out) in result.stderr


def test_default_output_in_an_unwritable_current_folder_is_exit_3(store, shared_dir):
    here = shared_dir / "here"
    here.mkdir()
    here.chmod(0o555)
    result = run("handout", "--patient", "P1", store=store, cwd=here, unprivileged=True)
    assert_clean(result, 3)


def test_an_unreadable_input_file_is_exit_3_naming_it(store, shared_dir):
    source = shared_dir / "in.jsonl"
    source.write_text('{"patient_id": "P1"}\n')
    source.chmod(0o000)
    for args in (["import", str(source)], ["log-visit", "--from-file", str(source)]):
        result = run(*args, store=store, unprivileged=True)
        assert_clean(result, 2, 3)  # click checks a FILE argument first: "not readable" is its exit 2
        assert str(source) in result.stderr


# --- a full disk ---------------------------------------------------------------------------------------------


ALLERGIES = [arg for n in range(20) for arg in ("--allergy", f"allergy {n} " + "x" * 100)]


@pytest.mark.parametrize("args", [
    ["patient", "add", "--id", "P2", "--name", "B", "--dob", "1990-01-01", *ALLERGIES],
    ["log-visit", "--patient", "P1", "--site", "QL:right", "--pain-before", "5", "--pain-after", "2",
     "--notes", "n" * 3000],
    ["report", "--visit", "P1-V1", "-o", "r.pdf"],
    ["export", "fhir", "-o", "x.json"],
])
def test_a_full_disk_is_exit_3_and_leaves_the_records_as_they_were(store, args):
    def records():  # (a visit number taken before the write failed stays taken: ids are never given twice)
        return {p.name: {t: v for t, v in json.loads(p.read_bytes()).items() if t != "meta"}
                for p in store.rglob("*.json")}

    before = records()
    result = run(*args, store=store, file_limit=2048)
    assert_clean(result, 3)
    assert records() == before
    assert not [p for p in store.parent.rglob("*") if p.name.startswith(".tpi-")]
    assert run("visits", "--json", store=store).returncode == 0


# --- hostile input and store content -------------------------------------------------------------------------

DEEP = "[" * 200_000 + "]" * 200_000
BIG_INT = "9" * 5000


# Deeply nested JSON and 4,300-digit integers in input files are issue 9's input half (parsing.py/workflow.py).
@pytest.mark.parametrize("content", [
    "\x00\xff garbage", "", "[]", "null", '"text"', '{"patient_id": 5}',
])
def test_hostile_input_files_give_one_line_never_a_traceback(store, shared_dir, content):
    source = shared_dir / "in.jsonl"
    source.write_bytes(content.encode("utf-8", "surrogateescape") if "\xff" not in content
                       else content.encode("latin-1"))
    for args in (["import", str(source)], ["log-visit", "--from-file", str(source)]):
        result = run(*args, store=store)
        assert_clean(result, 2, 3)


def test_a_csv_cell_over_the_csv_field_limit_is_one_line(store, shared_dir):
    exported = shared_dir / "x.csv"
    assert run("export", "csv", "-o", str(exported), store=store).returncode == 0
    text = exported.read_text(encoding="utf-8-sig")
    header, row = text.splitlines()[:2]
    source = shared_dir / "big.csv"
    source.write_text(header + "\r\n" + row.replace("P1", "P1" + "x" * 140_000, 1) + "\r\n", encoding="utf-8")
    assert_clean(run("import", str(source), store=store), 2, 3)


@pytest.mark.parametrize("path", ["/", "/dev/null", "/proc/self/mem", "missing.jsonl", "."])
def test_odd_input_paths_give_one_line(store, path):
    for args in (["import", path], ["log-visit", "--from-file", path]):
        assert_clean(run(*args, store=store), 2, 3)


@pytest.mark.parametrize("file_name", ["tpi.json", "visits/p-P1.json", "journal.json", "audit.head"])
@pytest.mark.parametrize("content", [DEEP, '{"meta": {"1": {"schema_version": ' + BIG_INT + "}}}", "\xff", "[]",
                                     '{"visits": {"1": ' + DEEP + "}}", "{"])
def test_hostile_store_files_are_exit_3_never_a_traceback(store, file_name, content):
    (store / file_name).write_bytes(content.encode("latin-1") if content == "\xff" else content.encode())
    for args in (["visits", "--json"], ["patient", "list"], ["log-visit", "--patient", "P1", "--site", "QL:right",
                                                           "--pain-before", "5", "--pain-after", "2"]):
        assert_clean(run(*args, store=store), 0, 3)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "0", "-1", BIG_INT, "", "[/]", "9" * 400 + ".5"])
@pytest.mark.parametrize("key", ["limits.lidocaine.max_mg", "follow_up.default_days", "limits.anesthetic_warn_pct",
                                 "clinic.name", "strengths.lidocaine"])
def test_any_setting_value_is_stored_checked_or_refused_and_visits_still_log(store, key, value):
    result = run("config", "set", key, value, store=store)
    assert_clean(result, 0, 2)
    logged = run("log-visit", "--patient", "P1", "--site", "QL:right", "--agent", "lidocaine 1% 2 mL",
                 "--pain-before", "5", "--pain-after", "2", "--override-reason", "test", store=store)
    assert_clean(logged, 0, 1)
