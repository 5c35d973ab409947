"""FHIR export: a transaction an EHR can load, identities per store, and US Core 6.1.0's required elements.

No Python validator checks US Core profiles offline (the HL7 validator is a Java jar that downloads the
IG), so every entry is validated with fhir.resources R4B and the US Core 6.1.0 must-have elements are
tested one by one below.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from tpi_cli.exports.fhir import valid_npi

NPI_OK = "1234567893"  # the CMS example NPI: check digit 3 by the Luhn formula over 80840123456789


@pytest.fixture
def clinic(tpi):
    tpi("patient", "add", "--id", "P1", "--name", 'Chloë "Coco" O\'Brien, Jr.', "--dob", "1970-01-02",
        "--weight-kg", "64", "--sex", "female", "--family", "O'Brien", "--given", "Chloë", "--given", "Anne")
    tpi("patient", "add", "--id", "P2", "--name", "王秀英", "--dob", "1980-03-04", "--weight-kg", "55")
    for args in (
        ["--patient", "P1", "--date", "2026-03-02", "--time", "09:30", "--site", "UT:left:2",
         "--site", "QL:bilateral:4", "--agent", "lidocaine 1% 3 mL", "--agent", "triamcinolone 40 mg/mL 0.5 mL",
         "--dx", "M79.12", "--ultrasound", "--clinician", "Dr. Rivera", "--function", "NDI=22",
         "--home-exercise", "--consent", "verbal"],
        ["--patient", "P1", "--date", "2026-05-04", "--site", "UT:left", "--agent", "bupivacaine 0.25% 2 mL",
         "--agent", "lidocaine 1% with epinephrine 1 mL", "--prior-relief-pct", "60", "--prior-relief-weeks", "7",
         "--consent", "written"],
        ["--patient", "P2", "--date", "2026-04-01", "--site", "glute med:right"],
    ):
        result = tpi("log-visit", *args, "--pain-before", "7", "--pain-after", "3")
        assert result.exit_code == 0, result.stderr
    assert tpi("patient", "update", "P1", "--weight-kg", "70").exit_code == 0  # later than both visits


def export(tpi, *args):
    result = tpi("export", "fhir", "-o", "-", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def resources(bundle, kind):
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


def by_key(bundle, kind, key):
    matches = [r for r in resources(bundle, kind)
               if any(i["value"] == key for i in r.get("identifier", []))
               or any(t["code"] == key for t in r.get("meta", {}).get("tag", []))]
    assert len(matches) == 1, (kind, key, matches)
    return matches[0]


def references(node):
    if isinstance(node, dict):
        if "reference" in node:
            yield node["reference"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def test_the_bundle_is_a_transaction_of_conditional_updates_on_the_stores_identifiers(tpi, clinic):
    bundle = export(tpi)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "transaction"
    system = by_key(bundle, "Patient", "P1")["identifier"][0]["system"]
    assert system.startswith("urn:uuid:")
    urls = set()
    for entry in bundle["entry"]:
        resource, request = entry["resource"], entry["request"]
        assert "id" not in resource  # the server assigns ids; some refuse a conditional update carrying one
        assert request["method"] == "PUT"
        kind = resource["resourceType"]
        if kind == "Provenance":
            [tag] = resource["meta"]["tag"]
            assert request["url"] == f"Provenance?_tag={system}|{tag['code']}"
        else:
            assert resource["identifier"][0]["system"] == system
            assert request["url"] == f"{kind}?identifier={system}|{resource['identifier'][0]['value']}"
        assert entry["fullUrl"].startswith("urn:uuid:")
        urls.add(entry["fullUrl"])
    assert len(urls) == len(bundle["entry"])
    assert set(references(bundle)) <= urls  # every reference resolves inside the bundle


def test_uuids_are_stable_within_a_store_and_differ_across_stores(tpi, clinic, tmp_path, monkeypatch):
    first, again = export(tpi), export(tpi)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in again["entry"]]
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "other-clinic"))
    tpi("patient", "add", "--id", "P1", "--name", "Someone Else", "--dob", "1990-01-01")
    other = export(tpi)
    [mine], [theirs] = resources(first, "Patient")[:1], resources(other, "Patient")
    assert mine["identifier"][0]["system"] != theirs["identifier"][0]["system"]
    assert {e["fullUrl"] for e in first["entry"]}.isdisjoint(e["fullUrl"] for e in other["entry"])


def test_store_info_namespace_survives_and_a_clinic_uri_replaces_the_default_system(tpi, clinic):
    assert tpi("config", "set", "fhir.identifier_system", "urn:oid:2.16.840.1.113883.3.9999").exit_code == 0
    bundle = export(tpi)
    patient = by_key(bundle, "Patient", "P1")
    assert patient["identifier"][0] == {"system": "urn:oid:2.16.840.1.113883.3.9999", "value": "P1"}
    assert {e["request"]["url"].split("=")[1].split("|")[0] for e in bundle["entry"]} == {
        "urn:oid:2.16.840.1.113883.3.9999"}


@pytest.mark.parametrize("key,value", [("fhir.identifier_system", "my clinic"),
                                       ("fhir.identifier_system", "urn:oid:1.2.x"),
                                       ("fhir.mrn_system", "mrn"), ("clinician.npi", "1234567890"),
                                       ("clinic.npi", "12345")])
def test_a_bad_identity_setting_is_bad_input_naming_it(tpi, clinic, tmp_path, key, value):
    assert tpi("config", "set", key, value).exit_code == 0
    out = tmp_path / "b.json"
    result = tpi("export", "fhir", "-o", str(out))
    assert result.exit_code == 2 and key in result.stderr
    assert not out.exists()


def test_npi_check_digit():
    assert valid_npi(NPI_OK)
    assert not valid_npi("1234567890") and not valid_npi("123456789") and not valid_npi("12345678a3")


def test_patient_names_are_sent_as_given_and_never_split_from_the_text(tpi, clinic):
    bundle = export(tpi)
    [name] = by_key(bundle, "Patient", "P1")["name"]
    assert name["family"] == "O'Brien" and name["given"] == ["Chloë", "Anne"]
    assert name["text"] == 'Chloë "Coco" O\'Brien, Jr.'
    [only_text] = by_key(bundle, "Patient", "P2")["name"]
    assert only_text["text"] == "王秀英" and "family" not in only_text and "given" not in only_text
    assert only_text["extension"] == [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                       "valueCode": "unknown"}]


def test_an_mrn_needs_its_system_and_then_travels_as_an_mr_identifier(tpi, clinic, tmp_path):
    assert tpi("patient", "update", "P1", "--mrn", "007").exit_code == 0
    refused = tpi("export", "fhir", "-o", str(tmp_path / "b.json"))
    assert refused.exit_code == 2 and "fhir.mrn_system" in refused.stderr and "P1" in refused.stderr
    assert not (tmp_path / "b.json").exists()
    tpi("config", "set", "fhir.mrn_system", "urn:oid:1.2.3.4")
    identifiers = by_key(export(tpi), "Patient", "P1")["identifier"]
    assert identifiers[1]["system"] == "urn:oid:1.2.3.4" and identifiers[1]["value"] == "007"
    assert identifiers[1]["type"]["coding"][0]["code"] == "MR"


def test_an_mrn_names_one_patient(tpi, clinic):
    assert tpi("patient", "update", "P1", "--mrn", "A-1").exit_code == 0
    taken = tpi("patient", "update", "P2", "--mrn", "A-1")
    assert taken.exit_code == 2 and "mrn" in taken.stderr and "P1" in taken.stderr
    again = tpi("patient", "add", "--id", "P3", "--name", "X", "--dob", "1990-01-01", "--mrn", "A-1")
    assert again.exit_code == 2


def test_body_weight_is_the_visits_own_weight_on_the_visits_date(tpi, clinic):
    bundle = export(tpi)
    weights = [o for o in resources(bundle, "Observation") if o["code"].get("coding", [{}])[0].get("code") == "29463-7"]
    assert sorted((o["effectiveDateTime"][:10], o["valueQuantity"]["value"]) for o in weights) == [
        ("2026-03-02", 64), ("2026-04-01", 55), ("2026-05-04", 64)]  # not today's 70 kg
    assert all(o["category"][0]["coding"][0]["code"] == "vital-signs" for o in weights)
    assert all(o["valueQuantity"]["code"] == "kg" for o in weights)


def test_pain_scores_have_distinct_ordered_times(tpi, clinic):
    bundle = export(tpi)
    before = by_key(bundle, "Observation", "P1-V1/pain-before")
    after = by_key(bundle, "Observation", "P1-V1/pain-after")
    assert before["effectiveDateTime"].startswith("2026-03-02T09:30:00")
    assert after["effectivePeriod"]["start"].startswith("2026-03-02T09:35:00")
    assert after["effectivePeriod"]["end"].startswith("2026-03-02T09:45:00")
    assert (before["valueInteger"], after["valueInteger"]) == (7, 3)
    # no procedure time: both end by the time the visit was recorded, the score before five minutes earlier
    before = by_key(bundle, "Observation", "P1-V2/pain-before")["effectivePeriod"]
    after = by_key(bundle, "Observation", "P1-V2/pain-after")["effectivePeriod"]
    assert before["start"] == after["start"] == "2026-05-04"
    assert before["end"] < after["end"]


def test_medications_carry_verified_rxnorm_codes_and_the_mg_dose(tpi, clinic):
    bundle = export(tpi)
    lidocaine = by_key(bundle, "MedicationAdministration", "P1-V1/agent-1")
    assert lidocaine["medicationCodeableConcept"]["coding"] == [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6387", "display": "lidocaine"}]
    assert lidocaine["dosage"]["dose"] == {"value": 30.0, "unit": "mg", "system": "http://unitsofmeasure.org",
                                           "code": "mg"}
    assert "3 mL" in lidocaine["dosage"]["text"]
    steroid = by_key(bundle, "MedicationAdministration", "P1-V1/agent-2")
    assert steroid["medicationCodeableConcept"]["coding"][0]["code"] == "10759"
    assert steroid["dosage"]["dose"]["value"] == 20.0
    unverified = by_key(bundle, "MedicationAdministration", "P1-V2/agent-1")
    assert "coding" not in unverified["medicationCodeableConcept"]  # bupivacaine: no code was verified
    with_epi = by_key(bundle, "MedicationAdministration", "P1-V2/agent-2")
    assert "coding" not in with_epi["medicationCodeableConcept"]  # a two-ingredient product is not lidocaine


def test_ultrasound_guidance_is_its_own_procedure(tpi, clinic):
    bundle = export(tpi)
    main = by_key(bundle, "Procedure", "P1-V1")
    assert [c["code"] for c in main["code"]["coding"]] == ["20553"]
    guidance = by_key(bundle, "Procedure", "P1-V1/ultrasound")
    assert [c["code"] for c in guidance["code"]["coding"]] == ["76942"]
    assert guidance["partOf"] == [{"reference": next(e["fullUrl"] for e in bundle["entry"]
                                                     if e["resource"] is main or e["resource"] == main)}]


def test_practitioner_and_organization_with_their_npis_are_the_performers(tpi, clinic):
    for key, value in (("clinician", "Dr. Rivera"), ("clinician.npi", NPI_OK), ("clinic.name", "Back Clinic"),
                       ("clinic.npi", NPI_OK)):
        assert tpi("config", "set", key, value).exit_code == 0
    bundle = export(tpi)
    [organization] = resources(bundle, "Organization")
    assert organization["name"] == "Back Clinic"
    assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": NPI_OK} in organization["identifier"]
    practitioners = resources(bundle, "Practitioner")
    rivera = next(p for p in practitioners if p["name"][0]["text"] == "Dr. Rivera")
    assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": NPI_OK} in rivera["identifier"]
    urls = {id(e["resource"]): e["fullUrl"] for e in bundle["entry"]}
    procedure = by_key(bundle, "Procedure", "P1-V1")
    assert procedure["performer"] == [{"actor": {"reference": urls[id(rivera)]},
                                       "onBehalfOf": {"reference": urls[id(organization)]}}]
    assert by_key(bundle, "Encounter", "P1-V1")["serviceProvider"] == {"reference": urls[id(organization)]}


def test_functional_scores_and_prior_relief_are_observations(tpi, clinic):
    bundle = export(tpi)
    ndi = by_key(bundle, "Observation", "P1-V1/function-1")
    assert ndi["code"]["text"] == "NDI score" and ndi["valueQuantity"]["value"] == 22
    relief = by_key(bundle, "Observation", "P1-V2/prior-relief")
    assert [c["valueQuantity"]["value"] for c in relief["component"]] == [60, 7]


def test_an_amendment_is_a_provenance_of_the_visits_resources(tpi, clinic):
    assert tpi("visit", "amend", "P1-V1", "--reason", "pain after was 2", "--pain-after", "2").exit_code == 0
    bundle = export(tpi)
    provenance = by_key(bundle, "Provenance", "P1-V1/amendment-1")
    assert "pain after was 2" in provenance["reason"][0]["text"]
    assert provenance["activity"]["coding"][0]["code"] == "UPDATE"
    urls = {e["resource"]["identifier"][0]["value"] + e["resource"]["resourceType"]: e["fullUrl"]
            for e in bundle["entry"] if e["resource"].get("identifier")}
    assert provenance["target"] == [{"reference": urls["P1-V1Encounter"]}, {"reference": urls["P1-V1Procedure"]}]
    assert by_key(bundle, "Observation", "P1-V1/pain-after")["valueInteger"] == 2


def test_collection_keeps_the_plain_form(tpi, clinic):
    bundle = export(tpi, "--type", "collection")
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    assert all("request" not in e and e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])
    bad = tpi("export", "fhir", "-o", "-", "--type", "batch")
    assert bad.exit_code == 2 and "--type" in bad.stderr


def test_with_documents_adds_the_procedure_note_pdf(tpi, clinic):
    bundle = export(tpi, "--patient", "P2", "--with-documents")
    [document] = resources(bundle, "DocumentReference")
    assert document["type"]["coding"][0]["code"] == "28570-0"
    attachment = document["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert base64.b64decode(attachment["data"]).startswith(b"%PDF")


def test_export_needs_a_destination(tpi, clinic):
    result = tpi("export", "fhir")
    assert result.exit_code == 2 and "-o" in result.stderr


# --- US Core 6.1.0: the elements each profile requires (1..*) ----------------------------------------------


def test_us_core_required_elements(tpi, clinic):
    for key, value in (("clinician.npi", NPI_OK), ("clinician", "Dr. Rivera"), ("clinic.name", "Back Clinic")):
        tpi("config", "set", key, value)
    tpi("visit", "amend", "P1-V1", "--reason", "typo", "--pain-after", "2")
    bundle = export(tpi, "--with-documents")
    for patient in resources(bundle, "Patient"):
        assert patient["identifier"][0]["system"] and patient["identifier"][0]["value"]
        assert patient["gender"] and patient["name"]
        for name in patient["name"]:  # us-core-6: family or given, or a data-absent-reason
            assert name.get("family") or name.get("given") or name.get("extension")
    for encounter in resources(bundle, "Encounter"):
        assert encounter["status"] and encounter["class"] and encounter["type"] and encounter["subject"]
    for procedure in resources(bundle, "Procedure"):
        assert procedure["status"] and procedure["code"]["coding"] and procedure["subject"]
        assert procedure["performedDateTime"]
    for observation in resources(bundle, "Observation"):
        assert observation["status"] and observation["category"] and observation["code"] and observation["subject"]
        effective = observation.get("effectiveDateTime") or observation["effectivePeriod"]
        assert effective  # us-core-1: at least a day
    for practitioner in resources(bundle, "Practitioner"):
        assert practitioner["identifier"] and practitioner["name"]
        assert all("family" in n or "_family" in n for n in practitioner["name"])
    for organization in resources(bundle, "Organization"):
        assert organization["name"] and "active" in organization
    for provenance in resources(bundle, "Provenance"):
        assert provenance["target"] and provenance["recorded"] and provenance["agent"][0]["who"]
    for document in resources(bundle, "DocumentReference"):
        assert document["status"] and document["type"] and document["category"] and document["subject"]
        assert document["content"][0]["attachment"]["contentType"]


def test_a_copied_store_keeps_its_fhir_identities(tpi, clinic, store_path, tmp_path, monkeypatch):
    before = export(tpi)
    copied = tpi("store", "copy", str(store_path), str(tmp_path / "copy"))
    assert copied.exit_code == 0, copied.stderr
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "copy"))
    assert [e["fullUrl"] for e in export(tpi)["entry"]] == [e["fullUrl"] for e in before["entry"]]


def test_a_voided_visit_is_retracted_by_a_transaction_and_left_out_elsewhere(tpi, clinic):
    assert tpi("visit", "void", "P1-V2", "--reason", "wrong patient").exit_code == 0
    bundle = export(tpi)
    keys = [r for r in bundle["entry"] if "P1-V2" in json.dumps(r["resource"].get("identifier", ""))]
    assert keys and all(e["resource"]["status"] == "entered-in-error" for e in keys)
    provenance = by_key(bundle, "Provenance", "P1-V2/void")
    assert provenance["activity"]["coding"][0]["code"] == "NULLIFY"
    assert "wrong patient" in provenance["reason"][0]["text"]
    assert by_key(bundle, "Encounter", "P1-V1")["status"] == "finished"
    collection = export(tpi, "--type", "collection")
    assert "P1-V2" not in json.dumps(collection)
    csv_text = tpi("export", "csv", "-o", "-").stdout
    assert "P1-V2" not in csv_text and "P1-V1" in csv_text


def test_every_export_is_a_disclosure_in_the_audit_trail(tpi, clinic, tmp_path):
    out = tmp_path / "bundle.json"
    assert tpi("export", "fhir", "-o", str(out)).exit_code == 0
    assert tpi("export", "csv", "-o", "-").exit_code == 0
    events = json.loads(tpi("audit", "--json").stdout)
    fhir_event = next(e for e in events if e["action"] == "export.fhir")
    assert fhir_event["record"] == str(out)
    assert fhir_event["digest"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert any(e["action"] == "export.csv" and e["record"] == "-" for e in events)
    assert tpi("audit", "verify").exit_code == 0
