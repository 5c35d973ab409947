"""Volume per site (clinical-reference.md §1: per site muscle, side, number of points, volume).

Optional: `sites[].volume_ml` is null when not given. Given, it is given for every site, in mL, and the
sites' volumes add up to the agents' total volume exactly; else the visit is refused naming both totals.
"""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tpi_cli.models import Site
from tpi_cli.parsing import format_site, parse_site

PAIN = ("--pain-before", "7", "--pain-after", "2")


# --- typing it ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "volume"), [
    ("UT:left:2:1.5mL", 1.5),
    ("UT:left:2:1.5 mL", 1.5),
    ("UT:left:2:1.5ML", 1.5),
    ("UT:left:2: 1.5ml ", 1.5),
    ("QL:bilateral:4:.5mL", 0.5),
    ("UT:left:2:100mL", 100.0),
    ("UT left 2 1.5mL", 1.5),
    ("UT left 2 1.5 mL", 1.5),
    ("UT:left:2", None),
    ("UT:left", None),
    ("UT left 2", None),
])
def test_a_site_volume_is_read_as_typed_and_null_when_not_given(text, volume):
    assert parse_site(text).volume_ml == volume


@pytest.mark.parametrize(("text", "says"), [
    ("UT:left:2:1.5", "no unit; write it in mL"),
    ("UT:left:2:1.5cc", "must be in mL"),
    ("UT:left:2:1.5 L", "must be in mL"),
    ("UT:left:2:0mL", "more than 0 mL"),
    ("UT:left:2:0.0mL", "more than 0 mL"),
    ("UT:left:2:-1mL", "more than 0 mL"),
    ("UT:left:2:100.5mL", "at most 100 mL"),
    ("UT:left:2:1,5mL", "decimal comma"),
    ("UT:left:2:infmL", "cannot read volume"),
    ("UT:left:2:nan mL", "cannot read volume"),
    ("UT:left:2:1e2mL", "cannot read volume"),
    ("UT:left:2:", "cannot read volume"),
    ("UT:left:1.5mL", "the volume comes fourth"),
    ("UT:left::1.5mL", "give the number of points before the volume"),
    ("UT left 1.5mL", "give the number of points before the volume"),
    ("UT:left:2:1.5mL:3", "cannot read site"),
])
def test_a_site_volume_that_could_be_misread_is_refused_with_the_fix(text, says):
    with pytest.raises(ValueError, match=says):
        parse_site(text)


def test_a_decimal_comma_in_site_flag_is_refused_not_split_into_two_sites(tpi, patient):
    result = tpi("log-visit", "--patient", "P001", "--site", "UT:left:2:1,5mL", "--agent", "lidocaine 1% 1.5 mL",
                 *PAIN)
    assert result.exit_code == 2
    assert "decimal comma" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert json.loads(tpi("visits", "--json").stdout) == []


def test_format_site_writes_the_volume_only_when_given():
    assert format_site(parse_site("UT:left:2")) == "upper trapezius:left:2"
    assert format_site(parse_site("UT:left:2:0.1mL")) == "upper trapezius:left:2:0.1mL"


# --- the totals --------------------------------------------------------------------------------------


def test_volumes_per_site_are_stored_exactly_and_shown(tpi, log, patient):
    visit = log("--site", "UT:left:2:1.5mL", "--site", "levator:left:1:0.5mL", "--agent", "lidocaine 1% 2 mL", *PAIN)
    assert [(s["muscle"], s["volume_ml"]) for s in visit["sites"]] == [("upper trapezius", 1.5),
                                                                       ("levator scapulae", 0.5)]
    shown = tpi("visit", "show", visit["id"])
    assert shown.exit_code == 0 and "upper trapezius left ×2 1.5 mL" in shown.stdout + shown.stderr
    assert json.loads(tpi("visit", "show", visit["id"], "--json").stdout)["sites"] == visit["sites"]


def test_without_volumes_per_site_each_site_stores_null(log, patient):
    visit = log("--site", "UT:left:2", "--agent", "lidocaine 1% 2 mL", *PAIN)
    assert visit["sites"] == [{"muscle": "upper trapezius", "side": "left", "points": 2, "volume_ml": None}]


def test_volumes_that_add_up_in_decimals_are_accepted_though_floats_do_not(log, patient):
    # 0.1 + 0.2 is 0.30000000000000004 in floating point: the sum is taken in decimals, as typed
    visit = log("--site", "UT:left:1:0.1mL", "--site", "levator:left:1:0.2mL", "--agent", "lidocaine 1% 0.3 mL",
                *PAIN)
    assert [s["volume_ml"] for s in visit["sites"]] == [0.1, 0.2]


@pytest.mark.parametrize(("sites", "agents", "says"), [
    (["UT:left:2:1.5mL", "levator:left:1:1.5mL"], ["lidocaine 1% 4 mL"], "add up to 3 mL but the agents to 4 mL"),
    (["UT:left:2:1.5mL", "levator:left:1:1.5mL"], ["lidocaine 1% 2 mL", "triamcinolone 40 mg/mL 0.5 mL"],
     "add up to 3 mL but the agents to 2.5 mL"),
    (["UT:left:2:1mL"], ["lidocaine 1% 1.001 mL"], "add up to 1 mL but the agents to 1.001 mL"),
    (["UT:left:2:2mL", "levator:left:1"], ["lidocaine 1% 2 mL"], "a volume is given for 1 of 2 sites"),
    (["UT:left:2:2mL"], [], "no agent is given"),
])
def test_volumes_per_site_that_do_not_match_the_agents_are_refused_naming_both_totals(tpi, patient, sites, agents,
                                                                                       says):
    args = [arg for site in sites for arg in ("--site", site)] + [arg for a in agents for arg in ("--agent", a)]
    result = tpi("log-visit", "--patient", "P001", *args, *PAIN)
    assert result.exit_code == 2, result.stdout
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert json.loads(tpi("visits", "--json").stdout) == []


# --- files -------------------------------------------------------------------------------------------


def _record(**sites_volumes):
    return {"patient_id": "P001", "date": "2026-11-02", "pain_before": 7, "pain_after": 2,
            "sites": [{"muscle": "upper trapezius", "side": "left", "points": 2, **sites_volumes}],
            "agents": [{"drug": "lidocaine", "concentration": {"value": 1, "unit": "%"}, "volume_ml": 1.5}]}


@pytest.mark.parametrize("volume", ["1.5", 0, -1.5, 1e309, True, {"value": 1.5, "unit": "mL"}])
def test_a_site_volume_in_a_file_must_be_a_number_above_0(tpi, patient, tmp_path, volume):
    path = tmp_path / "v.json"
    path.write_text(json.dumps(_record(volume_ml=volume)))  # 1e309 is written as Infinity
    result = tpi("log-visit", "--from-file", str(path))
    assert result.exit_code == 2, result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert json.loads(tpi("visits", "--json").stdout) == []


def test_a_site_volume_in_a_file_is_stored_and_checked_against_the_agents(tpi, patient, tmp_path):
    path = tmp_path / "v.json"
    path.write_text(json.dumps(_record(volume_ml=1.5)))
    result = tpi("log-visit", "--from-file", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["sites"][0]["volume_ml"] == 1.5
    path.write_text(json.dumps(_record(volume_ml=2)))
    result = tpi("log-visit", "--from-file", str(path))
    assert result.exit_code == 2 and "add up to 2 mL but the agents to 1.5 mL" in result.stderr
    path.write_text(json.dumps(_record(volume_ml=None)))
    result = tpi("log-visit", "--from-file", str(path), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["sites"][0]["volume_ml"] is None


def test_csv_export_and_import_carry_the_volumes_per_site_exactly(tpi, log, patient, tmp_path, monkeypatch):
    visit = log("--site", "UT:left:2:0.1mL", "--site", "QL:bilateral:4:1.23456789mL",
                "--agent", "lidocaine 1% 1.33456789 mL", *PAIN)
    out = tmp_path / "out.csv"
    assert tpi("export", "csv", "-o", str(out)).exit_code == 0
    assert "upper trapezius:left:2:0.1mL; quadratus lumborum:bilateral:4:1.23456789mL" in out.read_text()
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "other"))
    result = tpi("import", str(out))
    assert result.exit_code == 0, result.stderr
    again = json.loads(tpi("visit", "show", visit["id"], "--json").stdout)
    assert again["sites"] == visit["sites"]


def test_the_fhir_procedure_note_carries_each_sites_volume(tpi, log, patient):
    log("--site", "UT:left:2:1.5mL", "--site", "levator:right:1:0.5mL", "--agent", "lidocaine 1% 2 mL", *PAIN)
    bundle = json.loads(tpi("export", "fhir", "-o", "-").stdout)
    notes = [note["text"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == "Procedure"
             for note in entry["resource"].get("note", [])]
    assert any("left upper trapezius, 2 point(s), 1.5 mL; right levator scapulae, 1 point(s), 0.5 mL" in n
               for n in notes), notes


def test_the_procedure_note_lists_each_sites_volume(tpi, log, patient, tmp_path):
    visit = log("--site", "UT:left:2:1.5mL", "--site", "levator:right:1:0.5mL", "--agent", "lidocaine 1% 2 mL", *PAIN)
    out = tmp_path / "note.pdf"
    assert tpi("report", "--visit", visit["id"], "-o", str(out)).exit_code == 0
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Volume" in text and "1.5 mL" in text and "0.5 mL" in text
    assert "Volume per site not recorded" not in text


# --- amending ----------------------------------------------------------------------------------------


def test_amending_a_sites_volume_keeps_the_old_one_and_rechecks_the_total(tpi, log, patient):
    visit = log("--site", "UT:left:2:1.5mL", "--site", "levator:left:1:1.5mL", "--agent", "lidocaine 1% 3 mL", *PAIN)
    result = tpi("visit", "amend", visit["id"], "--reason", "split was 2 and 1", "--site", "UT:left:2:2mL",
                 "--site", "levator:left:1:1mL", "--json")
    assert result.exit_code == 0, result.stderr
    amended = json.loads(result.stdout)
    assert [s["volume_ml"] for s in amended["sites"]] == [2.0, 1.0]
    change = amended["amendments"][-1]["changes"]["sites"]
    assert [s["volume_ml"] for s in change["from"]] == [1.5, 1.5]
    assert [s["volume_ml"] for s in change["to"]] == [2.0, 1.0]
    # the agents alone changed: the sites' volumes no longer add up, so the amendment is refused
    result = tpi("visit", "amend", visit["id"], "--reason", "more lidocaine", "--agent", "lidocaine 1% 4 mL")
    assert result.exit_code == 2 and "add up to 3 mL but the agents to 4 mL" in result.stderr
    assert json.loads(tpi("visit", "show", visit["id"], "--json").stdout)["sites"] == amended["sites"]


def test_guided_entry_asks_the_sites_and_agents_again_when_their_volumes_do_not_add_up(tpi, patient, monkeypatch):
    from tpi_cli.cli import visit as visit_cli

    monkeypatch.setattr(visit_cli, "stdin_is_terminal", lambda: True)
    answers = (
        "P001\n"
        "UT:left:2:1.5mL\n\n"
        "lidocaine 1% 2 mL\n\n"      # 1.5 mL on the sites, 2 mL in the syringe: asked again, nothing lost yet
        "UT:left:2:2mL\n\n"
        "lidocaine 1% 2 mL\n\n"
        "7\n2\n"
    )
    result = tpi("log-visit", "--consent", "verbal", "--json", input=answers)
    assert result.exit_code == 0, result.stderr
    assert "add up to 1.5 mL but the agents to 2 mL" in result.stderr and "again" in result.stderr
    stored = json.loads(tpi("visit", "show", "P001-V1", "--json").stdout)
    assert stored["sites"][0]["volume_ml"] == 2.0


# --- the sum, as a property --------------------------------------------------------------------------

_tenths = st.decimals(min_value="0.001", max_value="9.999", places=3)


@given(st.lists(_tenths, min_size=1, max_size=8), st.integers(1, 3))
def test_volumes_per_site_are_accepted_exactly_when_their_decimal_sum_is_the_agents(volumes, agents):
    from tpi_cli.models import AgentInput, VisitInput, site_volume_problem

    names = ["upper trapezius", "levator scapulae", "rhomboid major", "infraspinatus", "supraspinatus",
             "teres minor", "gluteus medius", "piriformis"]
    sites = [Site(muscle=name, side="left", volume_ml=float(v)) for name, v in zip(names, volumes, strict=False)]
    total = sum(volumes)
    # the same total split over several syringes, as typed: floats of decimals, never a float sum
    shares = [total / agents] * (agents - 1)
    shares = [share.quantize(Decimal("0.001")) for share in shares]
    shares.append(total - sum(shares, Decimal(0)))
    assume(all(share > 0 for share in shares))
    given = [AgentInput(drug="saline", volume_ml=float(share)) for share in shares]
    assert site_volume_problem(sites, given) is None
    VisitInput(patient_id="P001", date="2026-11-02", sites=sites, agents=given, pain_before=7, pain_after=2)
    off = [*given[:-1], AgentInput(drug="saline", volume_ml=float(shares[-1] + Decimal("0.001")))]
    assert "add up to" in (site_volume_problem(sites, off) or "")
