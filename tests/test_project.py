"""The project's own promises: schemas in step with the models, no reportlab at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tpi_cli.schemas import render, schemas

ROOT = Path(__file__).resolve().parent.parent


def test_checked_in_schemas_match_the_models():
    for filename, schema in schemas().items():
        path = ROOT / "schemas" / filename
        assert path.exists(), f"run `python -m tpi_cli.schemas` to create {filename}"
        assert path.read_text(encoding="utf-8") == render(schema), (
            f"schemas/{filename} is out of date: run `python -m tpi_cli.schemas`")


def test_visit_schema_lists_the_contract_keys():
    visit = json.loads((ROOT / "schemas" / "visit.schema.json").read_text())
    for key in ("id", "patient_id", "sites", "agents", "cpt", "warnings", "overrides", "amendments"):
        assert key in visit["properties"]


def test_commands_without_pdfs_do_not_import_reportlab():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom tpi_cli.cli import app\n"
            "CliRunner().invoke(app, ['patient', 'list', '--json'])\n"
            "CliRunner().invoke(app, ['visits', '--json'])\n"
            "CliRunner().invoke(app, ['log-visit', '--help'])\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('reportlab', 'fhir', 'pypdf')]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_json_listings_print_stored_records_without_building_models(tmp_path):
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom tpi_cli.cli import main\n"
            "for args in (['patient', 'list', '--json'], ['visits', '--json']):\n"
            "    sys.argv = ['tpi', *args]\n"
            "    try:\n        main()\n    except SystemExit:\n        pass\n"
            "assert 'pydantic.main' not in sys.modules, 'a JSON listing built pydantic models'\n")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "TPI_STORE": str(tmp_path)},
                   capture_output=True)


def test_log_visit_with_a_diagnosis_loads_no_heavy_library(tmp_path):
    # start-up is a tracked goal (issue 14): a visit is logged without the libraries of PDFs, exports,
    # the ICD-10-CM tabular list, PostgreSQL, encryption, text shaping or a batch's JSON encoder
    code = ("import sys\nfrom tpi_cli.cli import main\n"
            "for args in (['patient', 'add', '--id', 'P1', '--name', 'A B', '--dob', '1970-01-01'],\n"
            "             ['log-visit', '-p', 'P1', '-s', 'UT:left:2', '-a', 'lidocaine 1% 3 mL', '--pain', '7/2',\n"
            "              '--dx', 'M79.12', '--consent', 'verbal', '--follow-up', '6w']):\n"
            "    sys.argv = ['tpi', *args]\n"
            "    try:\n        main()\n    except SystemExit as end:\n        assert not end.code, end.code\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'fhir', 'simple_icd_10_cm',\n"
            "               'psycopg', 'cryptography', 'uharfbuzz', 'pypdf', 'PIL', 'orjson'})\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "TPI_STORE": str(tmp_path)},
                   capture_output=True)


def test_a_command_builds_only_itself():
    from tpi_cli.cli import build_app

    app = build_app("log-visit")
    assert [info.name for info in app.registered_commands] == ["log-visit"]
    assert not app.registered_groups
    assert {info.name for info in build_app("visit").registered_groups} == {"visit"}
    assert {info.name for info in build_app(None).registered_commands} >= {"log-visit", "visits", "handout"}



@pytest.mark.parametrize(("command", "not_loaded"), [
    ("handout", {"tpi_cli.workflow"}),
    ("report", {"tpi_cli.workflow", "tpi_cli.pdf.summary", "tpi_cli.pdf.bodymap", "tpi_cli.parsing"}),
])
def test_pdf_commands_load_only_what_their_document_needs(tpi, store_path, tmp_path, command, not_loaded):
    # start-up of the PDF commands (issue 14): a handout does not load the logging and import workflow,
    # a progress review does not load the procedure note (body map, coding, parsing)
    assert tpi("patient", "add", "--id", "P1", "--name", "A B", "--dob", "1970-01-01").exit_code == 0
    assert tpi("log-visit", "-p", "P1", "-s", "UT:left:2", "-a", "lidocaine 1% 3 mL", "--pain", "7/2",
               "--consent", "verbal").exit_code == 0
    code = ("import sys\nfrom tpi_cli.cli import main\n"
            f"sys.argv = ['tpi', {command!r}, '--patient', 'P1', '-o', {str(tmp_path / 'x.pdf')!r}]\n"
            "try:\n    main()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
            f"loaded = sorted(set({sorted(not_loaded)!r}) & set(sys.modules))\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "TPI_STORE": str(store_path)},
                   capture_output=True)
    assert (tmp_path / "x.pdf").exists()
