"""Finding a patient or a visit the user named, with the error that tells them how to fix it."""

from __future__ import annotations

from tpi_cli.errors import InputError
from tpi_cli.models import Patient, Visit
from tpi_cli.store import Store


def require_patient(store: Store, patient_id: str) -> Patient:
    patient = store.patient(patient_id)
    if patient is None:
        raise InputError(f"patient: no patient with id {patient_id!r}; add one with `tpi patient add --id {patient_id}`")
    return patient


def require_visit(store: Store, visit_id: str) -> Visit:
    visit = store.visit(visit_id)
    if visit is None:
        raise InputError(f"visit: no visit with id {visit_id!r}; `tpi visits` lists them")
    return visit
