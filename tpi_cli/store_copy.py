"""Copy a whole store into an empty one, either kind to either kind, and prove the copy is exact."""

from __future__ import annotations

from typing import Any

from tpi_cli.errors import InputError, StoreError
from tpi_cli.store import Store, open_store


def copy_store(source_location: str, target_location: str) -> dict[str, Any]:
    """Copy every setting, protocol, patient, visit (with its amendments) and audit event from SOURCE into TARGET.

    TARGET must be empty.

    All of it is written in one transaction of the target, then read back and compared with the
    source record for record: a copy that differs is reported, never passed off as exact.
    """
    from tpi_cli.models import Patient, Visit

    source, target = open_store(source_location), open_store(target_location)
    if source.location == target.location:
        raise InputError("DST: the target is the source store; give another folder or database")
    if not source.schema_version():
        raise InputError(f"SRC: {source.location} holds no tpi store")
    target.init()
    if target.patient_records() or target.settings():
        raise InputError(
            f"DST: {target.location} already holds records; copy into an empty store (a new folder, or a new "
            "database after `tpi store init`)"
        )
    namespace, settings, protocols = source.namespace(), source.settings(), source.protocols()
    patients, visits = source.patient_records(), source.visit_records(voided=True)
    events = _trail(source)
    with target.transaction():
        # the source's trail first, verbatim; the copy's own writes then chain onto it as imports by the
        # one who copied, so `audit verify` holds every copied record against an event of the copy
        target.adopt_trail(events)
        target.set_namespace(namespace)
        for key, value in settings.items():
            target.set_setting(key, value)
        for doc in protocols:
            target.save_protocol(doc)
        # validating each record on the way proves the source undamaged (a damaged one stops the copy)
        target.write_batch([source.as_record(Patient, doc) for doc in patients],
                           [source.as_record(Visit, doc) for doc in visits])
    _check_same(target, namespace, settings, protocols, patients, visits)
    return {"from": source.location, "to": target.location, "settings": len(settings), "patients": len(patients),
            "visits": len(visits), "protocols": len(protocols), "events": len(events)}


def _trail(source: Store) -> list[dict[str, Any]]:
    events = []
    for number, event in source.audit_events():
        if not isinstance(event, dict):
            raise StoreError(f"event {number} of the audit trail of {source.location} is damaged; "
                             "`tpi audit verify` names it — a copy would not verify")
        events.append(event)
    return events


def _check_same(target: Store, namespace: str, settings: dict[str, Any], protocols: list[dict[str, Any]],
                patients: list[dict[str, Any]], visits: list[dict[str, Any]]) -> None:
    def by_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(records, key=lambda record: record["id"])

    for what, differs in (
        ("identifier namespace", namespace != target.namespace()),
        ("settings", settings != target.settings()),
        ("protocols", protocols != target.protocols()),
        ("patients", by_id(patients) != by_id(target.patient_records())),
        ("visits", by_id(visits) != by_id(target.visit_records(voided=True))),
    ):
        if differs:
            raise StoreError(f"the copy in {target.location} differs from its source in its {what}; "
                             "do not use the copy")
