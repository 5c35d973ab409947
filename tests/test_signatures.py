"""Signatures, addenda and voids: what a clinic can defend, and what each listing then shows."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.usefixtures("store_kind")

VISIT = ("--site", "QL:left", "--pain-before", "6", "--pain-after", "2", "--consent", "verbal")


@pytest.fixture
def p1(tpi):
    result = tpi("patient", "add", "--id", "P1", "--name", "Zoë Ng", "--dob", "1960-01-01", "--weight-kg", "70")
    assert result.exit_code == 0, result.stderr
    return "P1"


@pytest.fixture
def clinician(tpi):
    assert tpi("config", "set", "clinician", "Dr. Ana Rivera, MD").exit_code == 0


def logged(tpi, *args):
    result = tpi("log-visit", "--patient", "P1", *VISIT, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def shown(tpi, visit_id):
    result = tpi("visit", "show", visit_id, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def listed(tpi, *args):
    result = tpi("visits", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return [v["id"] for v in json.loads(result.stdout)]


def test_a_new_visit_is_unsigned_without_addenda_or_void(tpi, p1):
    visit = logged(tpi)
    assert visit["signed"] is None and visit["addenda"] == [] and visit["voided"] is None


def test_signing_needs_a_configured_clinician_and_writes_nothing_without_one(tpi, p1):
    logged(tpi)
    result = tpi("visit", "sign", "P1-V1")
    assert result.exit_code == 2 and "tpi config set clinician" in result.stderr
    assert shown(tpi, "P1-V1")["signed"] is None
    result = tpi("log-visit", "--patient", "P1", *VISIT, "--sign")
    assert result.exit_code == 2 and "clinician" in result.stderr
    assert listed(tpi) == ["P1-V1"]


def test_sign_stores_the_configured_name_the_os_user_and_the_time(tpi, p1, clinician):
    logged(tpi)
    result = tpi("visit", "sign", "P1-V1", "--json")
    assert result.exit_code == 0, result.stderr
    signed = json.loads(result.stdout)["signed"]
    assert signed["name"] == "Dr. Ana Rivera, MD" and signed["by"] and signed["at"]
    assert shown(tpi, "P1-V1")["signed"] == signed
    again = tpi("visit", "sign", "P1-V1")
    assert again.exit_code == 2 and "already signed" in again.stderr


def test_log_visit_sign_signs_at_once(tpi, p1, clinician):
    visit = logged(tpi, "--sign")
    assert visit["signed"]["name"] == "Dr. Ana Rivera, MD"


def test_visits_unsigned_is_the_daily_to_do(tpi, p1, clinician):
    logged(tpi, "--sign")
    logged(tpi)
    logged(tpi)
    assert tpi("visit", "void", "P1-V3", "--reason", "duplicate entry").exit_code == 0
    assert listed(tpi, "--unsigned") == ["P1-V2"]


def test_amending_a_signed_visit_unsigns_it_and_keeps_the_signature_in_the_amendment(tpi, p1, clinician):
    signature = logged(tpi, "--sign")["signed"]
    result = tpi("visit", "amend", "P1-V1", "--reason", "pain after misread", "--pain-after", "3", "--json")
    assert result.exit_code == 0, result.stderr
    visit = json.loads(result.stdout)
    assert visit["signed"] is None and visit["pain_after"] == 3
    changes = visit["amendments"][-1]["changes"]
    assert changes["signed"] == {"from": signature, "to": None}
    assert changes["pain_after"] == {"from": 2, "to": 3}
    assert listed(tpi, "--unsigned") == ["P1-V1"]


def test_an_addendum_is_dated_text_that_leaves_the_signature_in_place(tpi, p1, clinician):
    signature = logged(tpi, "--sign")["signed"]
    result = tpi("visit", "addendum", "P1-V1", "--text", "Called next day: numbness resolved.", "--json")
    assert result.exit_code == 0, result.stderr
    visit = json.loads(result.stdout)
    assert visit["signed"] == signature
    [addendum] = visit["addenda"]
    assert addendum["text"] == "Called next day: numbness resolved." and addendum["by"] and addendum["at"]
    assert tpi("visit", "addendum", "P1-V1", "--text", "  ").exit_code == 2
    amended = json.loads(tpi("visit", "amend", "P1-V1", "--reason", "r", "--pain-after", "4", "--json").stdout)
    assert amended["addenda"] == visit["addenda"]


def test_void_keeps_the_visit_marked_and_out_of_every_listing(tpi, p1):
    logged(tpi)
    logged(tpi)
    result = tpi("visit", "void", "P1-V1", "--reason", "logged for the wrong patient", "--json")
    assert result.exit_code == 0, result.stderr
    voided = json.loads(result.stdout)["voided"]
    assert voided["reason"] == "logged for the wrong patient" and voided["by"] and voided["at"]
    assert listed(tpi) == ["P1-V2"]
    assert listed(tpi, "--patient", "P1") == ["P1-V2"]
    assert set(listed(tpi, "--all")) == {"P1-V1", "P1-V2"}
    assert shown(tpi, "P1-V1")["voided"] == voided
    show = tpi("visit", "show", "P1-V1")
    assert "VOID" in show.stdout and "wrong patient" in show.stdout


def test_a_voided_visit_cannot_be_amended_signed_added_to_or_voided_again(tpi, p1, clinician):
    logged(tpi)
    assert tpi("visit", "void", "P1-V1", "--reason", "duplicate").exit_code == 0
    for args in (("amend", "P1-V1", "--reason", "x", "--pain-after", "1"), ("sign", "P1-V1"),
                 ("addendum", "P1-V1", "--text", "x"), ("void", "P1-V1", "--reason", "again")):
        result = tpi("visit", *args)
        assert result.exit_code == 2 and "voided" in result.stderr, args
    assert tpi("visit", "void", "P1-V9", "--reason", "x").exit_code == 2
    assert tpi("visit", "void", "P1-V1", "--reason", " ").exit_code == 2


def test_a_voided_visit_keeps_its_number(tpi, p1):
    logged(tpi)
    assert tpi("visit", "void", "P1-V1", "--reason", "duplicate").exit_code == 0
    assert logged(tpi)["id"] == "P1-V2"


def test_a_voided_visit_leaves_the_safety_checks_history(tpi, p1):
    # 150 mg lidocaine: with the voided 200 mg visit of the same day it is over the 315 mg limit at 70 kg
    logged(tpi, "--agent", "lidocaine 1% 20 mL")
    second = tpi("log-visit", "--patient", "P1", *VISIT, "--agent", "lidocaine 1% 15 mL", "--json")
    assert second.exit_code == 1, second.stderr
    assert tpi("visit", "void", "P1-V1", "--reason", "dose logged for the wrong patient").exit_code == 0
    third = tpi("log-visit", "--patient", "P1", *VISIT, "--agent", "lidocaine 1% 15 mL", "--json")
    assert third.exit_code == 0, third.stderr
    assert not any("session" in w or "same day" in w for w in json.loads(third.stdout)["warnings"])


def test_a_voided_visit_leaves_exports_and_reports(tpi, p1, tmp_path):
    logged(tpi)
    logged(tpi)
    assert tpi("visit", "void", "P1-V1", "--reason", "duplicate").exit_code == 0
    csv_out = tpi("export", "csv", "-o", "-")
    assert csv_out.exit_code == 0 and "P1-V2" in csv_out.stdout and "P1-V1" not in csv_out.stdout
    fhir_out = tpi("export", "fhir", "--type", "collection", "-o", "-")
    assert fhir_out.exit_code == 0 and "P1-V1" not in fhir_out.stdout
    # a transaction retracts it instead (product.md, Store): its resources are entered-in-error
    retracting = json.loads(tpi("export", "fhir", "-o", "-").stdout)
    voided = [e["resource"] for e in retracting["entry"] if "P1-V1" in json.dumps(e["resource"].get("identifier"))]
    assert voided and {r["status"] for r in voided} == {"entered-in-error"}
    assert tpi("report", "--visit", "P1-V1", "-o", str(tmp_path / "x.pdf")).exit_code == 0  # shown, marked
    handout = tpi("handout", "--patient", "P1", "-o", str(tmp_path / "h.pdf"))
    assert handout.exit_code == 0, handout.stderr


def test_a_voided_visit_gets_no_handout_and_the_patients_handout_is_of_the_latest_live_visit(tpi, p1, tmp_path):
    logged(tpi)
    logged(tpi)
    assert tpi("visit", "void", "P1-V2", "--reason", "duplicate").exit_code == 0
    refused = tpi("handout", "--visit", "P1-V2", "-o", str(tmp_path / "h.pdf"))
    assert refused.exit_code == 2 and "voided" in refused.stderr
    assert not (tmp_path / "h.pdf").exists()
    assert tpi("handout", "--patient", "P1", "-o", str(tmp_path / "h.pdf")).exit_code == 0
    actions = [e["action"] for e in json.loads(tpi("audit", "--json").stdout)]
    assert "pdf.handout" in actions[-2:]


def test_an_empty_to_do_or_an_all_voided_listing_does_not_read_as_an_empty_store(tpi, p1, clinician):
    visit_id = logged(tpi)["id"]
    assert tpi("visit", "sign", visit_id).exit_code == 0
    assert "No unsigned visits" in tpi("visits", "--unsigned").stderr
    assert tpi("visit", "void", visit_id, "--reason", "wrong patient").exit_code == 0
    result = tpi("visits")
    assert "apart from voided ones" in result.stderr and "No visits yet" not in result.stderr
