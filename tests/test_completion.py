"""Shell completion values: ids from the store, muscles and drugs from the vocabulary, protocols."""

from __future__ import annotations

from tpi_cli.cli import complete


def test_patient_and_visit_ids_complete_from_the_store(tpi, log, patient):
    for _ in range(2):
        log("-s", "QL:left", "--pain", "5/2", "--override-reason", "test")
    assert complete.patient_ids("P0") == ["P001"]
    assert complete.visit_ids("P") == ["P001-V2", "P001-V1"]
    assert complete.visit_ids("P001-V1") == ["P001-V1"]
    assert complete.like_values("") == ["last", "P001-V2", "P001-V1"]
    assert complete.visit_ids("Z") == []


def test_many_patients_complete_to_their_id_first(tpi):
    for n in range(5):
        assert tpi("patient", "add", "--id", f"P00{n}", "--name", "A", "--dob", "1970-01-01").exit_code == 0
    assert complete.visit_ids("P00") == [f"P00{n}-V" for n in range(5)]


def test_sites_complete_muscles_and_aliases_after_earlier_sites():
    assert "upper-trapezius" in complete.sites("upper-t")
    assert "UT:left,levator-scapulae" in complete.sites("UT:left,levator-s")
    assert complete.sites("UT:le") == []  # the side is the clinician's to type


def test_drugs_and_protocols_complete(tpi, patient):
    assert complete.drugs("lido") == ["lidocaine"]
    assert tpi("protocol", "save", "neck", "-s", "QL:left").exit_code == 0
    assert complete.protocols("n") == ["neck"]


def test_a_store_that_cannot_be_read_offers_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("TPI_STORE", str(tmp_path / "nothing-here"))
    assert complete.patient_ids("") == [] and complete.visit_ids("P") == [] and complete.protocols("") == []
