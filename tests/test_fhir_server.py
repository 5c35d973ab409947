"""`tpi export fhir --post`: what a real FHIR server makes of the transaction.

The server (tests/fhir_server.py) is shared by the session, so every assertion searches by the sending
store's own identifier system: other tests' records never count.
"""

from __future__ import annotations

import json

import pytest
from fhir_server import running_server


@pytest.fixture(scope="session")
def server():
    with running_server() as running:
        yield running


@pytest.fixture
def send(tpi, server, monkeypatch):
    """Post the current store's export to the server; return the CLI result (asserting success)."""
    monkeypatch.setenv("TPI_FHIR_TOKEN", server.token)

    def run(*args: str):
        result = tpi("export", "fhir", "--post", server.base_url, *args)
        assert result.exit_code == 0, result.stderr
        return result

    return run


def system(tpi) -> str:
    bundle = json.loads(tpi("export", "fhir", "-o", "-").stdout)
    return bundle["entry"][0]["resource"]["identifier"][0]["system"]


def one_clinic(tpi, name: str) -> None:
    assert tpi("patient", "add", "--id", "P00001", "--name", name, "--dob", "1970-01-02", "--weight-kg", "70",
               "--family", name.split()[-1], "--given", name.split()[0]).exit_code == 0
    result = tpi("log-visit", "--patient", "P00001", "--date", "2026-03-02", "--time", "10:00", "--site",
                 "UT:left:2", "--agent", "lidocaine 1% 3 mL", "--pain-before", "7", "--pain-after", "3", "--dx", "M79.12",
                 "--clinician", "Dr. Rivera", "--function", "NDI=20")
    assert result.exit_code == 0, result.stderr


def test_two_clinics_load_side_by_side_without_merging(tpi, server, send, tmp_path, monkeypatch):
    clinics = {}
    for name in ("Alice Able", "Bob Baker"):
        monkeypatch.setenv("TPI_STORE", str(tmp_path / name))
        one_clinic(tpi, name)
        summary = send().stderr
        assert "HTTP 200" in summary and "201 Created" in summary
        clinics[name] = system(tpi)
    for name, own in clinics.items():
        [patient] = server.search("Patient", identifier=f"{own}|P00001")
        assert patient["name"][0]["text"] == name
        [encounter] = server.search("Encounter", identifier=f"{own}|P00001-V1")
        assert encounter["subject"]["reference"] == f"Patient/{patient['id']}"
        observations = server.search("Observation", subject=f"Patient/{patient['id']}")
        assert len(observations) == 4  # weight, pain before, pain after, NDI


def test_sending_twice_duplicates_nothing(tpi, server, send):
    one_clinic(tpi, "Carla Cruz")
    send()
    own = system(tpi)
    first = {kind: server.search(kind, identifier=f"{own}|") for kind in
             ("Patient", "Encounter", "Procedure", "MedicationAdministration", "Observation", "Practitioner")}
    again = send().stderr
    assert "201 Created" not in again  # every entry found by its identifier and updated
    second = {kind: server.search(kind, identifier=f"{own}|") for kind in first}
    assert {k: sorted(r["id"] for r in v) for k, v in first.items()} == {
        k: sorted(r["id"] for r in v) for k, v in second.items()}
    assert [len(first[k]) for k in first] == [1, 1, 1, 1, 4, 1]


def test_an_amendment_updates_in_place_and_leaves_its_provenance(tpi, server, send):
    one_clinic(tpi, "Dana Diaz")
    send()
    own = system(tpi)
    [before] = server.search("Observation", identifier=f"{own}|P00001-V1/pain-after")
    assert tpi("visit", "amend", "P00001-V1", "--reason", "pain after was 2", "--pain-after", "2").exit_code == 0
    send()
    [after] = server.search("Observation", identifier=f"{own}|P00001-V1/pain-after")
    assert after["id"] == before["id"] and after["valueInteger"] == 2
    [provenance] = server.search("Provenance", _tag=f"{own}|P00001-V1/amendment-1")
    assert "pain after was 2" in provenance["reason"][0]["text"]
    [encounter] = server.search("Encounter", identifier=f"{own}|P00001-V1")
    assert {"reference": f"Encounter/{encounter['id']}"} in provenance["target"]


def test_a_refused_send_exits_3_naming_the_servers_message(tpi, server, monkeypatch):
    one_clinic(tpi, "Eve Evans")
    monkeypatch.delenv("TPI_FHIR_TOKEN", raising=False)
    refused = tpi("export", "fhir", "--post", server.base_url)
    assert refused.exit_code == 3
    assert server.base_url in refused.stderr and "HTTP 401" in refused.stderr
    monkeypatch.setenv("TPI_FHIR_TOKEN", server.token)
    wrong_place = tpi("export", "fhir", "--post", f"{server.base_url}/Patient")
    assert wrong_place.exit_code == 3 and "HTTP 4" in wrong_place.stderr


def test_an_unreachable_server_exits_3(tpi):
    one_clinic(tpi, "Finn Ford")
    result = tpi("export", "fhir", "--post", "http://127.0.0.1:9/fhir")
    assert result.exit_code == 3 and "cannot send" in result.stderr
    bad = tpi("export", "fhir", "--post", "ftp://example.org/fhir")
    assert bad.exit_code == 2 and "--post" in bad.stderr


def test_a_voided_visit_is_retracted_in_place(tpi, server, send):
    one_clinic(tpi, "Gail Grant")
    send()
    own = system(tpi)
    [before] = server.search("Encounter", identifier=f"{own}|P00001-V1")
    assert tpi("visit", "void", "P00001-V1", "--reason", "wrong patient").exit_code == 0
    send()
    [after] = server.search("Encounter", identifier=f"{own}|P00001-V1")
    assert after["id"] == before["id"] and after["status"] == "entered-in-error"
    [pain] = server.search("Observation", identifier=f"{own}|P00001-V1/pain-after")
    assert pain["status"] == "entered-in-error"
    events = json.loads(tpi("audit", "--json").stdout)
    assert sum(e["action"] == "export.fhir-post" and e["record"] == server.base_url for e in events) == 2
