"""Copy a whole store into an empty one, either kind to either kind, and prove the copy is exact."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tpi_cli import audit
from tpi_cli.errors import InputError, StoreError
from tpi_cli.store import Store, open_store


def copy_store(source_location: str, target_location: str) -> dict[str, Any]:
    """Copy every setting, protocol, patient, visit (with its amendments) and audit event from SOURCE into TARGET.

    TARGET must be empty.

    The source is read in one consistent view (writers wait), its visits one patient at a time, each
    record validated once on the way (a damaged one stops the copy). All of it is written in one
    transaction of the target, which is then checked against the source before it is committed: the
    same namespace, settings and protocols, and the same patients and visits, counted and held to the
    SHA-256 of each source record's canonical JSON. A copy that differs is refused, never passed off as exact.
    """
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
    expected: dict[str, list[tuple[str, str]]] = {"patient": [], "visit": []}
    events = [0]
    with source.reading():
        namespace, settings, protocols = source.namespace(), source.settings(), source.protocols()
        with target.transaction():
            # the source's trail first, verbatim; the copy's own writes then chain onto it as imports by the
            # one who copied, so `audit verify` holds every copied record against an event of the copy
            target.adopt_trail(_trail(source, events))
            # the records first: every one is read and validated before a folder store changes any file
            patients = list(_expecting(source.checked_records("patient"), expected["patient"], source.location))
            visits = _expecting(source.checked_records("visit"), expected["visit"], source.location)
            target.write_batch(patients, visits)
            target.set_namespace(namespace)
            for key, value in settings.items():
                target.set_setting(key, value)
            for doc in protocols:
                target.save_protocol(doc)
            _check_same(target, namespace, settings, protocols, expected)
    return {"from": source.location, "to": target.location, "settings": len(settings),
            "patients": len(expected["patient"]), "visits": len(expected["visit"]), "protocols": len(protocols),
            "events": events[0]}


def _trail(source: Store, count: list[int]) -> Iterator[dict[str, Any]]:
    for number, event in source.audit_events():
        if not isinstance(event, dict):
            raise StoreError(f"event {number} of the audit trail of {source.location} is damaged; "
                             "`tpi audit verify` names it — a copy would not verify")
        count[0] += 1
        yield event


def _expecting(pairs: Iterable[tuple[dict[str, Any], Any]], digests: list[tuple[str, str]],
               location: str) -> Iterator[Any]:
    """The models of PAIRS ((stored JSON, model)), noting (id, SHA-256 of the stored JSON) of each in DIGESTS.

    A record its model would store differently (a value the model normalises) stops the copy before
    anything is committed: the copy would not be exact.
    """
    for doc, model in pairs:
        if model.model_dump(mode="json") != doc:
            raise StoreError(f"record {model.id} in the store {location} is not stored the way tpi writes it, so "
                             "its copy would differ; nothing was copied — correct it with tpi, or restore it from "
                             "a backup")
        digests.append((model.id, audit.digest(doc)))
        yield model


def _check_same(target: Store, namespace: str, settings: dict[str, Any], protocols: list[dict[str, Any]],
                expected: dict[str, list[tuple[str, str]]]) -> None:
    held = target.content_digests()
    for what, differs in (
        ("identifier namespace", namespace != target.namespace()),
        ("settings", settings != target.settings()),
        ("protocols", protocols != target.protocols()),
        *((f"{kind}s", held[kind] != (len(pairs), audit.digest_of_records(pairs))) for kind, pairs in expected.items()),
    ):
        if differs:
            raise StoreError(f"the copy in {target.location} differs from its source in its {what}; "
                             "do not use the copy")
