"""The documents that leave the clinic: what goes into each PDF, gathered from the store.

The PDF modules (reportlab) are imported inside these functions only.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from tpi_cli.errors import InputError
from tpi_cli.lookup import require_patient, require_visit
from tpi_cli.models import Patient, Visit
from tpi_cli.settings import Settings
from tpi_cli.store import Store


class Document(NamedTuple):
    data: bytes
    default_name: str  # <patient id>-<date>-<kind>.pdf: no patient name in file names


def _clinic(settings: Settings):
    from tpi_cli.pdf.common import Clinic

    return Clinic(name=settings["clinic.name"], phone=settings["clinic.phone"],
                  after_hours_phone=settings["clinic.after_hours_phone"], address=settings["clinic.address"])


def _visit_for(store: Store, visit_id: str | None, patient_id: str | None) -> tuple[Patient, Visit]:
    if (visit_id is None) == (patient_id is None):
        raise InputError("give --visit VISIT_ID or --patient ID (the patient's latest visit), not both")
    if visit_id is not None:
        visit = require_visit(store, visit_id)
        return require_patient(store, visit.patient_id), visit
    patient = require_patient(store, patient_id)
    records = store.visit_records(patient.id)  # newest first: build only the latest
    if not records:
        raise InputError(f"patient: {patient.id} has no visits yet; log one with `tpi log-visit`")
    return patient, Visit.model_validate(records[0])


def handout(store: Store, *, visit_id: str | None = None, patient_id: str | None = None, lang: str = "en",
            large_print: bool = False) -> Document:
    from tpi_cli.pdf.handout import build_handout
    from tpi_cli.texts import LANGUAGES

    if lang not in LANGUAGES:
        raise InputError(f"--lang: choose {' or '.join(LANGUAGES)}, not {lang!r}")
    patient, visit = _visit_for(store, visit_id, patient_id)
    settings = Settings(store.settings())
    data = build_handout(patient, visit, _clinic(settings), lang=lang, large_print=large_print,
                         heat=settings["handout.heat"], no_soak_hours=settings["handout.no_soak_hours"])
    kind = "handout" if lang == "en" else f"handout-{lang}"
    return Document(data, f"{patient.id}-{visit.date.isoformat()}-{kind}.pdf")


def visit_summary(store: Store, visit_id: str) -> Document:
    from tpi_cli.pdf.summary import build_visit_summary

    visit = require_visit(store, visit_id)
    patient = require_patient(store, visit.patient_id)
    settings = Settings(store.settings())
    history = [v for v in store.visits(patient.id) if v.id != visit.id]
    data = build_visit_summary(patient, visit, history, settings, _clinic(settings))
    return Document(data, f"{patient.id}-{visit.date.isoformat()}-summary.pdf")


def progress_review(store: Store, patient_id: str, since: dt.date | None = None,
                    until: dt.date | None = None) -> Document:
    from tpi_cli.pdf.review import build_progress_review

    patient = require_patient(store, patient_id)
    if since and until and since > until:
        raise InputError(f"--since {since.isoformat()} is after --until {until.isoformat()}")
    every = store.visits(patient.id)
    chosen = [v for v in every if (since is None or v.date >= since) and (until is None or v.date <= until)]
    if not chosen:
        raise InputError(f"patient: {patient.id} has no visits in that period; `tpi visits --patient {patient.id}`")
    settings = Settings(store.settings())
    end = until or dt.date.today()
    data = build_progress_review(patient, list(reversed(chosen)), list(reversed(every)), settings,
                                 _clinic(settings), since=since, until=end)
    return Document(data, f"{patient.id}-{end.isoformat()}-review.pdf")


def _selection(store: Store, patient_id: str | None, since: dt.date | None,
               until: dt.date | None) -> tuple[list[Patient], list[Visit]]:
    """Patients and their visits (oldest first) for an export; with a period, only patients seen in it."""
    if since and until and since > until:
        raise InputError(f"--since {since.isoformat()} is after --until {until.isoformat()}")
    if patient_id is not None:
        patients = [require_patient(store, patient_id)]
    else:
        patients = store.patients()
    visits = [v for p in patients for v in reversed(store.visits(p.id))
              if (since is None or v.date >= since) and (until is None or v.date <= until)]
    if since or until:
        seen = {v.patient_id for v in visits}
        patients = [p for p in patients if p.id in seen or p.id == patient_id]
    return patients, visits


def fhir_export(store: Store, patient_id: str | None = None, since: dt.date | None = None,
                until: dt.date | None = None) -> bytes:
    """One FHIR R4 Bundle (collection) of the selected patients and visits, validated."""
    from tpi_cli.exports import fhir
    from tpi_cli.workflow import now

    patients, visits = _selection(store, patient_id, since, until)
    return fhir.render(fhir.build_bundle(patients, visits, now=now()))


def csv_export(store: Store, patient_id: str | None = None, since: dt.date | None = None,
               until: dt.date | None = None) -> bytes:
    """One CSV row per selected visit, with the patient's columns."""
    from tpi_cli.exports import spreadsheet

    patients, visits = _selection(store, patient_id, since, until)
    by_id = {p.id: p for p in patients}
    return spreadsheet.render([spreadsheet.row(by_id[v.patient_id], v) for v in visits])
