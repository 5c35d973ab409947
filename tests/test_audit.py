"""The audit trail: one hash-chained event per write and disclosure, and `tpi audit verify` catching
each kind of tampering with the store's files, naming it."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tpi_cli import audit

VISIT = ("--site", "QL:left", "--pain-before", "6", "--pain-after", "2", "--consent", "verbal")


@pytest.fixture
def history(tpi, patient, log):
    """A store with a setting, a patient, two visits (one amended) and a second patient."""
    assert tpi("config", "set", "clinician", "Dr. Rivera").exit_code == 0
    log(*VISIT)
    log(*VISIT)
    assert tpi("visit", "amend", "P001-V1", "--reason", "typo", "--pain-after", "3").exit_code == 0
    assert tpi("patient", "add", "--id", "P002", "--name", "Bo", "--dob", "1980-02-02").exit_code == 0


def events_of(tpi, *args):
    result = tpi("audit", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def verify(tpi):
    return tpi("audit", "verify")


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def trail_lines(store_path):
    return (store_path / "audit.jsonl").read_text().splitlines(keepends=True)


def write_trail(store_path, lines):
    (store_path / "audit.jsonl").write_text("".join(lines))


def test_every_write_appends_one_chained_event_oldest_first(tpi, history):
    events = events_of(tpi)
    assert [(e["action"], e["record"]) for e in events] == [
        ("patient.add", "P001"), ("config.set", "clinician"), ("visit.log", "P001-V1"), ("visit.log", "P001-V2"),
        ("visit.amend", "P001-V1"), ("patient.add", "P002")]
    assert [e["seq"] for e in events] == list(range(1, 7))
    assert events[0]["prev"] == audit.GENESIS
    for before, event in itertools.pairwise(events):
        assert event["prev"] == before["hash"]
    for event in events:
        assert set(event) == set(audit.EVENT_KEYS)
        assert event["hash"] == audit.event_hash(event)
        assert event["by"] and event["at"].endswith("Z")


def test_an_events_digest_is_the_sha256_of_the_records_canonical_json_after_the_change(tpi, history):
    shown = json.loads(tpi("visit", "show", "P001-V1", "--json").stdout)
    last = [e for e in events_of(tpi) if e["record"] == "P001-V1"][-1]
    import hashlib

    canonical = json.dumps(shown, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert last["digest"] == hashlib.sha256(canonical).hexdigest()


def test_audit_patient_lists_only_that_patients_records(tpi, history):
    records = {e["record"] for e in events_of(tpi, "--patient", "P001")}
    assert records == {"P001", "P001-V1", "P001-V2"}
    assert tpi("audit", "--patient", "NOPE").exit_code == 2


def test_audit_limit_shows_the_last_events_oldest_first_and_says_how_many_there_are(tpi, history):
    every = events_of(tpi)
    assert events_of(tpi, "--limit", "2") == every[-2:]
    assert events_of(tpi, "--limit", "0") == every == events_of(tpi, "--limit", "6") == events_of(tpi, "--limit", "99")
    assert events_of(tpi, "--patient", "P001", "--limit", "1") == [e for e in every if e["record"] == "P001-V1"][-1:]
    table = tpi("audit", "--limit", "3")
    assert table.exit_code == 0, table.stderr
    assert [line.split("\t")[0] for line in table.stdout.splitlines()] == ["seq", "4", "5", "6"]
    assert "showing the last 3 of 6 audit events; --limit 0 shows all" in table.stderr
    assert len(tpi("audit").stdout.splitlines()) == 7  # fewer than a screenful: all, without a note
    refused = tpi("audit", "--limit", "-1")
    assert refused.exit_code == 2 and "--limit: give a number of audit events to show, or 0 for all" in refused.stderr


def test_a_damaged_trail_line_prints_nothing_of_the_listing(tpi, history, store_path):
    lines = trail_lines(store_path)
    write_trail(store_path, [*lines[:-1], "[1, 2]\n"])
    for args in (("--json",), ()):
        result = tpi("audit", *args)
        assert result.exit_code == 2 and result.stdout == ""
        assert "line 6 of the trail is not an event" in result.stderr


def test_an_untouched_store_verifies_with_its_counts(tpi, history):
    result = verify(tpi)
    assert result.exit_code == 0, result.stderr
    assert "6 events" in result.stderr and "2 patients" in result.stderr and "2 visits" in result.stderr
    assert "1 setting" in result.stderr


@pytest.mark.parametrize("command", [("audit", "verify"), ("audit",), ("audit", "--json")])
def test_where_there_is_no_store_nothing_is_verified_or_listed(tpi, store_path, command):
    """A mistyped --store is "no tpi store", exit 3, as for every reading command; never "verified: 0 events"."""
    result = tpi(*command)
    assert result.exit_code == 3, result.output
    assert f"no tpi store at {store_path}" in result.stderr
    assert "verified" not in result.output and result.stdout == ""
    assert not store_path.exists()


def test_a_new_store_verifies(tpi, patient):
    result = verify(tpi)
    assert result.exit_code == 0, result.stderr
    assert "1 event" in result.stderr and "1 patient" in result.stderr


def test_a_refused_write_appends_no_event(tpi, history):
    before = events_of(tpi)
    assert tpi("log-visit", "--patient", "P001", *VISIT, "--agent", "lidocaine 1% 40 mL").exit_code == 1
    assert tpi("visit", "amend", "P001-V1", "--reason", "x", "--pain-after", "3").exit_code == 2  # nothing changed
    assert events_of(tpi) == before
    assert verify(tpi).exit_code == 0


def _tamper_visit_field(store_path):
    edit_json(store_path / "visits" / "p-P001.json",
              lambda d: next(v for v in d["visits"].values() if v["id"] == "P001-V2").update(pain_after=0))


def _delete_visit(store_path):
    def drop(data):
        key = next(k for k, v in data["visits"].items() if v["id"] == "P001-V2")
        del data["visits"][key]
    edit_json(store_path / "visits" / "p-P001.json", drop)


def _add_patient_by_hand(store_path):
    edit_json(store_path / "tpi.json", lambda d: d["patients"].update(
        {"99": {**next(iter(d["patients"].values())), "id": "P999", "name": "Forged"}}))


def _edit_setting(store_path):
    edit_json(store_path / "tpi.json", lambda d: next(iter(d["settings"].values())).update(value="Dr. Nobody"))


def _delete_patient(store_path):
    def drop(data):
        key = next(k for k, p in data["patients"].items() if p["id"] == "P002")
        del data["patients"][key]
    edit_json(store_path / "tpi.json", drop)


def _change_event(store_path):
    lines = trail_lines(store_path)
    lines[2] = lines[2].replace('"visit.log"', '"visit.sign"')
    write_trail(store_path, lines)


def _change_event_and_rehash(store_path):
    lines = trail_lines(store_path)
    event = json.loads(lines[2])
    event["by"] = "someone-else"
    event["hash"] = audit.event_hash(event)
    lines[2] = audit.line(event).decode()
    write_trail(store_path, lines)


def _remove_event(store_path):
    lines = trail_lines(store_path)
    del lines[2]
    write_trail(store_path, lines)


def _remove_last_event(store_path):
    write_trail(store_path, trail_lines(store_path)[:-1])


def _insert_event(store_path):
    lines = trail_lines(store_path)
    lines.insert(3, lines[2])
    write_trail(store_path, lines)


def _reorder_events(store_path):
    lines = trail_lines(store_path)
    lines[2], lines[3] = lines[3], lines[2]
    write_trail(store_path, lines)


def _garbage_line(store_path):
    lines = trail_lines(store_path)
    lines.insert(1, "not json\n")
    write_trail(store_path, lines)


def _delete_trail(store_path):
    (store_path / "audit.jsonl").unlink()


def _delete_shard(store_path):
    (store_path / "visits" / "p-P001.json").unlink()


@pytest.mark.parametrize(("tamper", "named"), [
    (_tamper_visit_field, "visit P001-V2 differs from its last audit event"),
    (_delete_visit, "visit P001-V2 is missing from the store"),
    (_delete_shard, "visit P001-V1 is missing from the store"),
    (_add_patient_by_hand, "patient P999 has no audit event"),
    (_delete_patient, "patient P002 is missing from the store"),
    (_edit_setting, "setting clinician differs from its last audit event"),
    (_change_event, "audit event 3 was changed"),
    (_change_event_and_rehash, "audit event 4 does not chain onto event 3"),
    (_remove_event, "audit event 3 was removed"),
    (_remove_last_event, "audit events 6-6 were removed from the end"),
    (_insert_event, "audit event 3 appears twice"),
    (_reorder_events, "audit event 3 is out of order: it comes after event 4"),
    (_garbage_line, "audit event on line 2 is not an audit event"),
    (_delete_trail, "was deleted"),
])
def test_audit_verify_catches_and_names_each_kind_of_tampering(tpi, history, store_path, tamper, named):
    tamper(store_path)
    result = verify(tpi)
    assert result.exit_code == 1, result.stderr
    assert named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_audit_verify_reports_a_visit_file_holding_an_invalid_visit_as_damage_naming_it(tpi, history, store_path):
    # verify reads one visits file at a time; each is still checked whole, so damage is exit 3, not a finding
    edit_json(store_path / "visits" / "p-P001.json",
              lambda d: next(v for v in d["visits"].values() if v["id"] == "P001-V2").update(pain_after="none"))
    result = verify(tpi)
    assert result.exit_code == 3, result.stderr
    assert "p-P001.json" in result.stderr and "P001-V2" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_trail_is_appended_not_rewritten(tpi, history, store_path):
    before = (store_path / "audit.jsonl").read_bytes()
    assert tpi("log-visit", "--patient", "P002", *VISIT).exit_code == 0
    after = (store_path / "audit.jsonl").read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1


@pytest.mark.usefixtures("store_kind")
def test_both_kinds_of_store_keep_the_same_trail_and_verify_it(tpi):
    assert tpi("config", "set", "clinician", "Dr. Rivera").exit_code == 0
    assert tpi("patient", "add", "--id", "P1", "--name", "Zoë", "--dob", "1960-01-01").exit_code == 0
    assert tpi("log-visit", "--patient", "P1", *VISIT, "--sign").exit_code == 0
    assert tpi("visit", "addendum", "P1-V1", "--text", "called: fine").exit_code == 0
    assert tpi("visit", "amend", "P1-V1", "--reason", "typo", "--pain-after", "3").exit_code == 0
    assert tpi("visit", "void", "P1-V1", "--reason", "wrong patient").exit_code == 0
    assert tpi("patient", "update", "P1", "--weight-kg", "61").exit_code == 0
    events = events_of(tpi)
    assert [(e["action"], e["record"]) for e in events] == [
        ("config.set", "clinician"), ("patient.add", "P1"), ("visit.log", "P1-V1"), ("visit.sign", "P1-V1"),
        ("visit.addendum", "P1-V1"), ("visit.amend", "P1-V1"), ("visit.void", "P1-V1"), ("patient.update", "P1")]
    assert all(e["hash"] == audit.event_hash(e) for e in events)
    result = verify(tpi)
    assert result.exit_code == 0, result.stderr
    assert "8 events" in result.stderr


def test_a_visit_changed_in_the_database_is_caught_by_audit_verify(tpi, monkeypatch, pg_store_url):
    import psycopg

    monkeypatch.setenv("TPI_STORE", pg_store_url)
    assert tpi("patient", "add", "--id", "P1", "--name", "Zoë", "--dob", "1960-01-01").exit_code == 0
    assert tpi("log-visit", "--patient", "P1", *VISIT).exit_code == 0
    with psycopg.connect(pg_store_url, autocommit=True) as conn:
        conn.execute("UPDATE tpi.visits SET doc = json_build_object('id', 'P1-V1', 'pain_after', 0) WHERE id = 'P1-V1'")
        conn.execute("DELETE FROM tpi.audit WHERE seq = 1")
    result = verify(tpi)
    assert result.exit_code == 1
    assert "visit P1-V1 differs from its last audit event" in result.stderr
    assert "audit event 1 was removed" in result.stderr or "patient P1 has no audit event" in result.stderr


def test_every_pdf_and_export_written_is_a_disclosure_event_with_kind_file_and_digest(tpi, history, tmp_path):
    import hashlib

    outputs = {
        "pdf.summary": ("report", "--visit", "P001-V1", "-o", str(tmp_path / "note.pdf")),
        "pdf.review": ("report", "--patient", "P001", "-o", str(tmp_path / "review.pdf")),
        "pdf.handout": ("handout", "--visit", "P001-V1", "-o", str(tmp_path / "handout.pdf")),
        "export.csv": ("export", "csv", "-o", str(tmp_path / "visits.csv")),
        "export.fhir": ("export", "fhir", "-o", str(tmp_path / "bundle.json")),
    }
    for args in outputs.values():
        result = tpi(*args)
        assert result.exit_code == 0, result.stderr
    disclosures = {e["action"]: e for e in events_of(tpi) if audit.record_kind(e["action"]) is None}
    assert set(disclosures) == set(outputs)
    for action, args in outputs.items():
        path = tmp_path / args[-1].rsplit("/", 1)[-1]
        assert disclosures[action]["record"] == str(path)
        assert disclosures[action]["digest"] == hashlib.sha256(path.read_bytes()).hexdigest()
    piped = tpi("export", "csv", "-o", "-")
    last = events_of(tpi)[-1]
    assert (last["action"], last["record"]) == ("export.csv", "-")
    assert last["digest"] == hashlib.sha256(piped.stdout_bytes).hexdigest()
    assert verify(tpi).exit_code == 0


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_JSON_VALUES)
def test_canonical_json_is_sorted_keys_utf8_without_spaces_for_any_json_value(value):
    # the definition every stored digest and event hash was taken with: a trail written earlier must still verify
    expected = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert audit.canonical(value) == expected
