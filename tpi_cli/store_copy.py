"""Copy a whole store into an empty one, either kind to either kind, and prove the copy is exact."""

from __future__ import annotations

from typing import Any

from tpi_cli.errors import InputError, StoreError
from tpi_cli.store import Store, open_store


def copy_store(source_location: str, target_location: str) -> dict[str, Any]:
    """Copy every setting, patient and visit (with its amendments) from SOURCE into the empty TARGET.

    All of it is written in one transaction of the target, then read back and compared with the
    source record for record: a copy that differs is reported, never passed off as exact.
    """
    source, target = open_store(source_location), open_store(target_location)
    if source.location == target.location:
        raise InputError("DST: the target is the source store; give another folder or database")
    if not source.info()["schema_version"]:
        raise InputError(f"SRC: {source.location} holds no tpi store")
    target.init()
    if target.patient_records() or target.settings():
        raise InputError(
            f"DST: {target.location} already holds records; copy into an empty store (a new folder, or a new "
            "database after `tpi store init`)"
        )
    settings, patients, visits = source.settings(), source.patients(), source.visits(voided=True)
    with target.transaction():
        target.set_namespace(source.namespace())
        for key, value in settings.items():
            target.set_setting(key, value)
        target.write_batch(patients, visits)
    _check_same(source, target)
    return {"from": source.location, "to": target.location, "settings": len(settings), "patients": len(patients),
            "visits": len(visits)}


def _check_same(source: Store, target: Store) -> None:
    def by_id(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(records, key=lambda record: record["id"])

    for what, differs in (
        ("identifier namespace", source.namespace() != target.namespace()),
        ("settings", source.settings() != target.settings()),
        ("patients", source.patient_records() != target.patient_records()),
        ("visits", by_id(source.visit_records(voided=True)) != by_id(target.visit_records(voided=True))),
    ):
        if differs:
            raise StoreError(f"the copy in {target.location} differs from {source.location} in its {what}; "
                             "do not use the copy")
