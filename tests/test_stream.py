"""Long listings and exports stream: a store of many visits is read one visits file at a time, yet every
record is still checked, and damage anywhere is exit 3 with nothing on stdout (never half a JSON array,
never a listing that silently stops where the damage is)."""

from __future__ import annotations

import json

import pytest

from tpi_cli.synthetic import clinic_records

PATIENTS, VISITS_EACH = 12, 4


@pytest.fixture
def clinic(tpi, tmp_path, store_path):
    """A store of 12 patients with 4 visits each, imported as a clinic moves its history in."""
    source = tmp_path / "history.jsonl"
    records = clinic_records(PATIENTS, VISITS_EACH, seed=3)
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = tpi("import", str(source))
    assert result.exit_code == 0, result.stderr
    return store_path


def _stored_visits(store_path):
    visits = []
    for shard in sorted((store_path / "visits").iterdir()):
        visits.extend(json.loads(shard.read_text())["visits"].values())
    return visits


def _newest_first(visits):
    # by date, then the order logged (the number in the id), newest first; ties in patient order
    by_patient = sorted(visits, key=lambda v: v["patient_id"])
    return sorted(by_patient, key=lambda v: (v["date"], int(v["id"].rpartition("-V")[2])), reverse=True)


def test_a_listing_of_many_visits_as_json_is_every_stored_record_newest_first(tpi, clinic):
    result = tpi("visits", "--json", "--limit", "0")
    assert result.exit_code == 0, result.stderr
    listed = json.loads(result.stdout)
    assert len(listed) == PATIENTS * VISITS_EACH
    assert listed == _newest_first(_stored_visits(clinic))


def test_the_json_listing_is_laid_out_as_before_two_spaces_a_level(tpi, clinic):
    result = tpi("visits", "--json", "--limit", "2")
    listed = json.loads(result.stdout)
    assert result.stdout == json.dumps(listed, ensure_ascii=False, indent=2) + "\n"
    assert "showing 2 of 48 visits" in result.stderr


def test_an_empty_json_listing_is_an_empty_array(tpi, patient):
    result = tpi("visits", "--json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")


def test_a_piped_listing_of_many_visits_is_one_tab_separated_row_each_newest_first(tpi, clinic):
    result = tpi("visits", "--limit", "0")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["visit", "date", "patient"]
    assert [line.split("\t")[0] for line in lines[1:]] == [v["id"] for v in _newest_first(_stored_visits(clinic))]


def test_the_period_and_unsigned_filters_choose_from_every_patient(tpi, clinic):
    visits = _newest_first(_stored_visits(clinic))
    middle = visits[len(visits) // 2]["date"]
    result = tpi("visits", "--json", "--since", middle, "--unsigned")
    assert json.loads(result.stdout) == [v for v in visits if v["date"] >= middle and not v.get("signed")]
    assert tpi("config", "set", "clinician", "Dr. Lee").exit_code == 0
    assert tpi("visit", "sign", visits[0]["id"]).exit_code == 0
    unsigned = json.loads(tpi("visits", "--json", "--unsigned").stdout)
    assert visits[0]["id"] not in {v["id"] for v in unsigned} and len(unsigned) == len(visits) - 1


def test_a_listing_leaves_no_file_behind_in_the_store(tpi, clinic):
    before = sorted(p.name for p in clinic.rglob("*"))
    assert tpi("visits", "--json", "--limit", "0").exit_code == 0
    assert tpi("visits", "--limit", "3").exit_code == 0
    assert sorted(p.name for p in clinic.rglob("*")) == before


LISTINGS = (["visits", "--json", "--limit", "0"], ["visits", "--limit", "0"], ["visits", "--json", "--limit", "3"],
            ["visits", "--limit", "3"], ["visits", "--json", "--since", "2000-01-01"])


@pytest.mark.parametrize("args", LISTINGS, ids=" ".join)
def test_a_damaged_visit_in_the_middle_of_a_long_listing_is_exit_3_with_nothing_listed(tpi, clinic, args):
    """Half a JSON array is worse than none, and a TSV that stops at the damage looks complete to `grep`:
    every file is checked before the first record is printed."""
    shard = sorted((clinic / "visits").iterdir())[PATIENTS // 2]
    data = json.loads(shard.read_text())
    key, record = list(data["visits"].items())[1]
    record["pain_after"] = "x"
    shard.write_text(json.dumps(data))
    before = shard.read_bytes()
    result = tpi(*args)
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert result.stdout == ""
    message = " ".join(result.stderr.split())
    assert str(shard) in result.stderr.replace("\n", "")
    assert f"visit record {key} ({record['id']})" in message and "pain_after" in message
    assert "Traceback" not in result.stderr
    assert shard.read_bytes() == before



# --- FHIR: which entries fhir.resources validates ------------------------------------------------------------


def _entry(**resource):
    return {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Observation", **resource}}


def _checks(entries):
    from pydantic_core import to_json

    from tpi_cli.exports.fhir import _new_shape

    shapes = set()
    return [_new_shape(entry, to_json(entry), shapes) for entry in entries]


def test_fhir_entries_of_a_shape_already_validated_are_not_validated_again():
    assert _checks([_entry(status="final", valueInteger=7), _entry(status="amended", valueInteger=2)]) == [True, False]


@pytest.mark.parametrize("other", [
    _entry(status="final", valueString="7"),  # another element
    _entry(status="final", valueInteger=7, note=[{"text": "x"}]),  # one more element
    _entry(status="final", valueInteger=7, code={"coding": [{"code": "a"}, {"code": "b"}]}),  # nested structure
    {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Procedure", "status": "final", "valueInteger": 7}},
], ids=["element", "more", "nested", "type"])
def test_a_fhir_entry_of_a_new_shape_is_validated(other):
    assert _checks([_entry(status="final", valueInteger=7), other]) == [True, True]


@pytest.mark.parametrize("never", [{"status": ""}, {"note": []}, {"code": {}}, {"status": None}],
                         ids=["empty string", "empty array", "empty object", "null"])
def test_a_fhir_entry_holding_what_fhir_never_allows_is_validated_whatever_its_shape(never):
    """An empty value is data, not shape: the entry goes to fhir.resources, which refuses it."""
    first = _entry(status="final", note=[{"text": "x"}], code={"text": "y"})
    assert _checks([first, _entry(**{**first["resource"], **never})])[1] is True


# --- progress on stderr ---------------------------------------------------------------------------------------


def test_an_import_outside_a_terminal_prints_no_progress(tpi, tmp_path):
    source = tmp_path / "history.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in clinic_records(3, 2, seed=5)))
    result = tpi("import", str(source))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "Imported 3 patients and 6 visits.\n")


@pytest.fixture
def terminal(monkeypatch):
    """stderr as a terminal: what the progress bar draws there."""
    import io

    from rich.console import Console

    from tpi_cli.cli import console

    screen = io.StringIO()
    monkeypatch.setattr(console, "stderr", Console(file=screen, force_terminal=True, width=100))
    return screen


def test_progress_is_drawn_on_stderr_in_a_terminal_and_never_on_stdout(terminal, capsys):
    from tpi_cli.cli import progress

    with progress.shown("Starting") as step:
        step("Checking lines", 3, 10)
    assert "Checking lines" in terminal.getvalue() and "3/10" in terminal.getvalue()
    assert capsys.readouterr().out == ""


def test_no_progress_while_the_data_goes_to_a_terminal_on_stdout(terminal, monkeypatch):
    import sys

    from tpi_cli.cli import progress

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    with progress.shown("Starting", data_on_stdout=True) as step:
        step("Exporting patients", 1, 2)
    assert terminal.getvalue() == ""


def test_the_listing_export_and_import_tell_their_progress(clinic, tmp_path):
    """The work below the CLI reports each file, patient and visit: the bar reaches its total."""
    from tpi_cli.documents import csv_export
    from tpi_cli.store import open_store
    from tpi_cli.workflow import import_file

    seen = []

    def step(what, done, total):
        seen.append((what, done, total))

    store = open_store(str(clinic))
    listing = store.visit_listing(progress=step)
    assert len(listing) == PATIENTS * VISITS_EACH and seen[-1] == ("Reading visits", PATIENTS, PATIENTS)
    b"".join(csv_export(store, progress=step))
    assert seen[-1] == ("Exporting patients", PATIENTS, PATIENTS)
    source = tmp_path / "more.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in clinic_records(2, 3, seed=9)))
    import_file(open_store(str(tmp_path / "other"), create=True), source, progress=step)
    assert seen[-1] == ("Checking and writing visits", 6, 6)


EXPORTS = (["export", "csv"], ["export", "fhir"], ["export", "fhir", "--type", "collection"])


@pytest.mark.parametrize("export", EXPORTS, ids=" ".join)
@pytest.mark.parametrize("output", ["-", "out"])
def test_a_damaged_visit_in_the_middle_of_an_export_leaves_no_export_at_all(tpi, clinic, tmp_path, export, output):
    """An export streams patient by patient, so the damage is found after earlier patients were written: to a
    file nothing is linked in, to stdout nothing is copied (a truncated CSV or Bundle in a pipe would pass)."""
    shard = sorted((clinic / "visits").iterdir())[PATIENTS // 2]
    data = json.loads(shard.read_text())
    key, record = next(iter(data["visits"].items()))
    record["sites"] = "x"
    shard.write_text(json.dumps(data))
    target = "-" if output == "-" else str(tmp_path / "export.out")
    result = tpi(*export, "-o", target)
    assert result.exit_code == 3, (result.stdout[-300:], result.stderr)
    assert result.stdout == "" and str(shard) in result.stderr.replace("\n", "")
    assert f"visit record {key}" in " ".join(result.stderr.split())
    assert not (tmp_path / "export.out").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".tpi-")) == []


@pytest.mark.parametrize("export", EXPORTS, ids=" ".join)
def test_an_export_to_stdout_is_the_same_as_to_a_file(tpi, clinic, tmp_path, export):
    assert tpi(*export, "-o", str(tmp_path / "export.out")).exit_code == 0
    piped = tpi(*export, "-o", "-")
    assert piped.exit_code == 0
    written = (tmp_path / "export.out").read_bytes()
    if export[1] == "fhir":  # each export is its own Bundle: its id and timestamp differ
        first, second = json.loads(written), json.loads(piped.stdout_bytes)
        assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
        assert first["entry"] == second["entry"]
    else:
        assert piped.stdout_bytes == written
