"""The documents that leave the clinic: what goes into each PDF, gathered from the store.

The PDF modules (reportlab) are imported inside these functions only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from tpi_cli.errors import InputError
from tpi_cli.lookup import require_patient, require_visit
from tpi_cli.models import Patient, Visit
from tpi_cli.settings import Settings
from tpi_cli.store import Progress, Store


class Document(NamedTuple):
    data: bytes
    default_name: str  # <patient id>-<date>-<kind>.pdf: no patient name in file names
    visit_id: str | None = None  # the visit a handout was printed for
    kind: str = "pdf"  # pdf.handout, pdf.summary, pdf.review: named in the audit trail's disclosure event


def record_disclosure(store: Store, kind: str, file_name: str, data_digest: str) -> None:
    """Account for patient data leaving the store (a PDF or export written): one audit event, after writing."""
    store.audit_disclosure(kind, file_name, data_digest)


def record_handout_given(store: Store, visit_id: str, lang: str, large_print: bool,
                         user: str | None = None) -> Visit:
    """Note on the visit that its aftercare handout was printed (the procedure note shows it)."""
    from tpi_cli.dates import now
    from tpi_cli.models import HandoutGiven

    with store.transaction():
        visit = require_visit(store, visit_id)
        given = HandoutGiven(at=now(), by=user or store.user(), lang=lang, large_print=large_print)
        updated = visit.model_copy(update={"handout_given": [*visit.handout_given, given]})
        store.replace_visit(updated, action="visit.handout")
    return updated


def _clinic(settings: Settings):
    from tpi_cli.pdf.common import Clinic

    return Clinic(name=settings["clinic.name"], phone=settings["clinic.phone"],
                  after_hours_phone=settings["clinic.after_hours_phone"], address=settings["clinic.address"])


def _visit_for(store: Store, visit_id: str | None, patient_id: str | None) -> tuple[Patient, Visit]:
    if (visit_id is None) == (patient_id is None):
        raise InputError("give --visit VISIT_ID or --patient ID (the patient's latest visit), not both")
    if visit_id is not None:
        visit = require_visit(store, visit_id)
        if visit.voided is not None:
            raise InputError(f"visit: {visit.id} was voided (entered in error: {visit.voided.reason}); "
                             "it gets no handout")
        return require_patient(store, visit.patient_id), visit
    patient = require_patient(store, patient_id)
    visits = store.visits(patient.id)  # newest first, checked as the store reads them
    if not visits:
        raise InputError(f"patient: {patient.id} has no visits yet; log one with `tpi log-visit`")
    return patient, visits[0]


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
    return Document(data, f"{patient.id}-{visit.date.isoformat()}-{kind}.pdf", visit.id, f"pdf.{kind}")


def visit_summary(store: Store, visit_id: str) -> Document:
    from tpi_cli.pdf.summary import build_visit_summary

    visit = require_visit(store, visit_id)
    patient = require_patient(store, visit.patient_id)
    settings = Settings(store.settings())
    history = [v for v in store.visits(patient.id) if v.id != visit.id]
    data = build_visit_summary(patient, visit, history, settings, _clinic(settings))
    return Document(data, f"{patient.id}-{visit.date.isoformat()}-summary.pdf", kind="pdf.summary")


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
    return Document(data, f"{patient.id}-{end.isoformat()}-review.pdf", kind="pdf.review")


def _chooser(store: Store, patient_id: str | None, since: dt.date | None, until: dt.date | None, *,
             voided: bool = False) -> tuple[list[Patient], Callable[[Patient], list[Visit] | None]]:
    """The patients to look at and, for each, their visits in the period, oldest first, or None when the patient is
    left out; voided visits only when VOIDED (a FHIR transaction retracts them).

    With a period, patients with no visit in it are left out (unless asked for by --patient). The store checks each
    visit as a model on reading: those models are the ones exported (never a second validation).
    """
    if since and until and since > until:
        raise InputError(f"--since {since.isoformat()} is after --until {until.isoformat()}")
    patients = [require_patient(store, patient_id)] if patient_id is not None else store.patients()
    low, high = since.isoformat() if since else "", until.isoformat() if until else "9999"

    def chosen(patient: Patient) -> list[Visit] | None:
        visits = [v for v in reversed(store.visits(patient.id, voided=voided)) if low <= v.date.isoformat() <= high]
        return visits if visits or not (since or until) or patient.id == patient_id else None

    return patients, chosen


def fhir_export(store: Store, patient_id: str | None = None, since: dt.date | None = None,
                until: dt.date | None = None, *, transaction: bool = True,
                with_documents: bool = False, progress: Progress | None = None) -> Iterator[bytes]:
    """One FHIR R4 Bundle (a transaction, or a collection) of the selected patients and visits, validated,
    as JSON pieces. Settings are checked before the first piece: bad input never leaves half a file."""
    from tpi_cli.dates import now
    from tpi_cli.exports import fhir

    clinic = fhir.clinic_from_settings(Settings(store.settings()), store.namespace())
    if clinic.mrn_system is None:
        with_mrn = next((p["id"] for p in store.patient_records() if p.get("mrn")), None)
        if with_mrn is not None:
            raise InputError(f"fhir.mrn_system: patient {with_mrn} has an MRN, and an MRN means nothing to an EHR "
                             "without its system; `tpi config set fhir.mrn_system urn:oid:…` (the EHR's)")
    note = (lambda visit: visit_summary(store, visit.id).data) if with_documents else None
    writer = fhir.BundleWriter(clinic, transaction=transaction, procedure_note=note)
    patients, chosen = _chooser(store, patient_id, since, until, voided=transaction)
    shapes: set[tuple[Any, ...]] = set()

    def texts(patient: Patient) -> list[tuple[str | None, bytes]]:
        visits = chosen(patient)
        return [] if visits is None else fhir.patient_texts(patient, visits, writer, shapes)

    return fhir.bundle_chunks(_shared(texts, patients, progress), writer, now=now())


def csv_export(store: Store, patient_id: str | None = None, since: dt.date | None = None,
               until: dt.date | None = None, *, progress: Progress | None = None) -> Iterator[bytes]:
    """One CSV row per selected visit, with the patient's columns, as text pieces."""
    from tpi_cli.exports import spreadsheet

    patients, chosen = _chooser(store, patient_id, since, until)

    def rows(patient: Patient) -> bytes:
        visits = chosen(patient)
        return b"" if visits is None else spreadsheet.patient_rows(patient, visits)

    def pieces() -> Iterator[bytes]:
        yield spreadsheet.csv_header()
        yield from (piece for piece in _shared(rows, patients, progress) if piece)

    return pieces()  # bad input is reported above, before a byte is written


def _shared(work: Callable[[Patient], Any], patients: list[Patient], progress: Progress | None) -> Iterator[Any]:
    """WORK(patient) for each of PATIENTS, in order; with many patients a forked copy of this process works on some
    of them meanwhile (reading and checking each patient's visits is most of an export). PROGRESS is told of each."""
    from tpi_cli.forked import shared_map

    results = shared_map(work, patients, share=len(patients) >= SHARED_FROM_PATIENTS)
    with contextlib.closing(results):
        for done, (_, result) in enumerate(results, start=1):
            if progress is not None:
                progress("Exporting patients", done, len(patients))
            yield result


# An export shares its work with a forked copy from this many patients on (see tpi_cli.forked).
SHARED_FROM_PATIENTS = 100
