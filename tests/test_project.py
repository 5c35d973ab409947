"""The project's own promises: schemas in step with the models, no reportlab at start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    # the ICD-10-CM tabular list, PostgreSQL, encryption or text shaping
    code = ("import sys\nfrom tpi_cli.cli import main\n"
            "for args in (['patient', 'add', '--id', 'P1', '--name', 'A B', '--dob', '1970-01-01'],\n"
            "             ['log-visit', '-p', 'P1', '-s', 'UT:left:2', '-a', 'lidocaine 1% 3 mL', '--pain', '7/2',\n"
            "              '--dx', 'M79.12', '--consent', 'verbal', '--follow-up', '6w']):\n"
            "    sys.argv = ['tpi', *args]\n"
            "    try:\n        main()\n    except SystemExit as end:\n        assert not end.code, end.code\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'fhir', 'simple_icd_10_cm',\n"
            "               'psycopg', 'cryptography', 'uharfbuzz', 'pypdf', 'PIL'})\n"
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
