"""Repeating a visit in one line: what `log-visit --like` and `--protocol` copy, and saved protocols.

A protocol is the part of a visit a clinician repeats: the sites, the agents, the diagnoses, the needle,
ultrasound guidance, the consent and the follow-up interval. What belongs to the day — the date, the pain
scores, notes, findings, complications, relief and function — is never copied: it must be given.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tpi_cli.errors import InputError

# the visit-input keys a protocol carries; follow_up_days is the interval from the visit to its follow-up
COPIED_KEYS = ("sites", "agents", "diagnoses", "needle", "ultrasound", "consent")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


def from_visit(record: dict[str, Any]) -> dict[str, Any]:
    """The protocol of a stored visit record."""
    fields = {key: record.get(key) for key in COPIED_KEYS}
    fields["agents"] = [{k: v for k, v in agent.items() if k != "dose_mg"} for agent in record.get("agents") or []]
    follow_up = record.get("follow_up")
    fields["follow_up_days"] = (
        (dt.date.fromisoformat(follow_up) - dt.date.fromisoformat(record["date"])).days if follow_up else None
    )
    return fields


def visit_to_copy(store, reference: str, patient_id: str | None) -> dict[str, Any]:
    """The stored visit REFERENCE names: a visit id, or `last` (PATIENT_ID's latest visit that is not voided)."""
    from tpi_cli.lookup import require_patient, require_visit

    if reference.strip().lower() == "last":
        if patient_id is None:
            raise InputError("--like last: give the patient too (--patient / -p), whose latest visit to repeat")
        require_patient(store, patient_id)
        records = store.visit_records(patient_id)
        if not records:
            raise InputError(f"--like last: patient {patient_id} has no visit yet to repeat; log the first in full")
        return records[0]
    visit = require_visit(store, reference)
    if getattr(visit, "voided", None) is not None:
        raise InputError(f"--like: visit {reference} was voided (entered in error); copy another visit")
    return visit.model_dump(mode="json")


def template(store, *, like: str | None, protocol: str | None, patient_id: str | None) -> tuple[dict[str, Any], str]:
    """(the copied fields, the patient) for `log-visit --like` or `--protocol`."""
    if like is not None and protocol is not None:
        raise InputError("give --like or --protocol, not both")
    if like is not None:
        record = visit_to_copy(store, like, patient_id)
        return from_visit(record), patient_id or record["patient_id"]
    doc = store.protocol(protocol)
    if doc is None:
        names = ", ".join(p["name"] for p in store.protocols()) or "none saved yet"
        raise InputError(f"--protocol: no protocol named {protocol!r} (saved: {names}); "
                         "save one with `tpi protocol save NAME --site … --agent …`")
    return {key: value for key, value in doc.items() if key != "name"}, patient_id


def save_protocol(store, name: str, fields: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Check FIELDS as a visit would be checked and store them as protocol NAME; (the protocol, whether it
    replaced one of that name)."""
    from tpi_cli.models import VisitInput
    from tpi_cli.workflow import validated

    if not NAME.match(name):
        raise InputError(f"name: {name!r} may hold letters, digits, '.', '_' and '-' (up to 40), e.g. neck-4")
    if not fields.get("sites"):
        raise InputError("protocol: give the sites (--site), e.g. --site 'UT:left:2,levator:left'")
    unknown = set(fields) - {*COPIED_KEYS, "follow_up_days"}
    if unknown:
        raise InputError(f"protocol: {', '.join(sorted(unknown))} belong to one visit, not to a protocol")
    days = fields.get("follow_up_days")
    if days is not None and not 0 <= days <= 3650:
        raise InputError("follow-up: give a number of days from 0 to 3650")
    # the same checks as a visit's (muscles, sides, strengths, ICD-10-CM), on a stand-in visit
    given = {key: value for key, value in fields.items() if key in COPIED_KEYS and value is not None}
    validated(VisitInput, {"patient_id": "protocol", "date": dt.date.today().isoformat(), "pain_before": 0,
                           "pain_after": 0, **given}, "protocol")
    doc = {"name": name, **{key: fields.get(key) for key in COPIED_KEYS}, "follow_up_days": days}
    doc["diagnoses"] = doc["diagnoses"] or []
    doc["agents"] = doc["agents"] or []
    with store.transaction():
        replaced = store.protocol(name) is not None
        store.save_protocol(doc)
    return doc, replaced
