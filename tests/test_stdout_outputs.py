"""`-o -` puts a PDF or an export on stdout, and every such disclosure is accounted for in the audit trail."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TPI = shutil.which("tpi", path=str(Path(sys.executable).parent)) or shutil.which("tpi")


def audit_events(tpi) -> list[dict]:
    result = tpi("audit", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(("command", "kind"), [
    (["report", "--visit", "P001-V1"], "pdf.summary"),
    (["handout", "--visit", "P001-V1"], "pdf.handout"),
    (["report", "--patient", "P001"], "pdf.review"),
])
def test_a_pdf_goes_to_stdout_with_dash_and_no_file_named_dash_is_made(tpi, patient, log, tmp_path, monkeypatch,
                                                                      command, kind):
    log("--site", "QL:left", "--agent", "lidocaine 1% 2 mL", "--pain", "6/2")
    monkeypatch.chdir(tmp_path)
    result = tpi(*command, "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"%PDF-") and result.stdout_bytes.rstrip().endswith(b"%%EOF")
    assert not (tmp_path / "-").exists()
    # a handout also records "handout given" on the visit after it
    assert (kind, "-") in [(event["action"], event["record"]) for event in audit_events(tpi)[-2:]]


@pytest.mark.skipif(TPI is None, reason="the tpi command is not installed")
def test_an_export_cut_short_by_its_reader_is_still_a_recorded_disclosure(tmp_path):
    store = tmp_path / "demo" / "store"
    subprocess.run([TPI, "demo", "--out", str(tmp_path / "demo")], capture_output=True, check=True, cwd=tmp_path)
    env = {**os.environ, "TPI_STORE": str(store)}

    def events() -> list[dict]:
        return json.loads(subprocess.run([TPI, "audit", "--json"], env=env, capture_output=True, text=True,
                                         check=True).stdout)

    before = len(events())
    # the demo's FHIR bundle (~470 kB) is far larger than a pipe's buffer, so the writer meets a closed pipe
    with subprocess.Popen([TPI, "export", "fhir", "-o", "-"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        assert process.stdout.read(10)
        process.stdout.close()  # the reader goes away, as `| head -c 10` does
        _, stderr = process.communicate()
    assert b"Traceback" not in stderr
    after = events()
    assert len(after) == before + 1
    assert (after[-1]["action"], after[-1]["record"]) == ("export.fhir", "-")
