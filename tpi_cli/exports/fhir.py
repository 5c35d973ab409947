"""FHIR R4 export: one Bundle (type collection) of Patients, Encounters, Procedures,
MedicationAdministrations and pain Observations, as clinical-reference.md §8 maps them.

Built as plain JSON and validated with the fhir.resources R4B models before it is written; import this
module only in `tpi export fhir` (fhir.resources adds ~150 ms to start-up).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from tpi_cli import vocab
from tpi_cli.clinical.coding import CPT_WORDING
from tpi_cli.models import Agent, Patient, Site, Visit
from tpi_cli.parsing import format_agent, format_medication
from tpi_cli.vocab.codes import ICD10_DESCRIPTIONS

CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
LATERALITY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
PATIENT_ID_SYSTEM = "urn:tpi:patient-id"
VISIT_ID_SYSTEM = "urn:tpi:visit-id"

# SNOMED CT laterality qualifiers and route (clinical-reference.md §3 [R])
LATERALITY = {"left": ("7771000", "Left"), "right": ("24028007", "Right"),
              "bilateral": ("51440002", "Right and left")}
INTRAMUSCULAR = ("78421000", "Intramuscular route")
PAIN_NRS = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
BODY_WEIGHT = ("29463-7", "Body weight")

# Stable ids: the same record always gets the same urn:uuid (uuid5 of its kind and tpi id).
_NAMESPACE = uuid.UUID("4f1c9a52-6b1e-5d8e-9a0f-2f6a3c1d7e10")


def stable_uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))


def _ref(kind: str, key: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{stable_uuid(kind, key)}"}


def _entry(kind: str, key: str, resource: dict[str, Any]) -> dict[str, Any]:
    resource = {"resourceType": kind, "id": stable_uuid(kind, key), **resource}
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _diagnoses(visit: Visit) -> list[dict[str, Any]]:
    return [{"coding": [{"system": ICD10CM, "code": code, **({"display": ICD10_DESCRIPTIONS[code]}
                                                               if code in ICD10_DESCRIPTIONS else {})}],
             "text": code} for code in visit.diagnoses]


def body_site(site: Site) -> dict[str, Any]:
    side = "" if site.side == "midline" else f"{'left and right' if site.side == 'bilateral' else site.side} "
    concept: dict[str, Any] = {"text": f"{side}{site.muscle}"}
    snomed = vocab.muscles()[site.muscle].snomed  # empty until a code is verified (clinical-reference.md §3)
    if snomed:
        concept["coding"] = [{"system": SNOMED, "code": snomed, "display": site.muscle}]
    if site.side in LATERALITY:
        code, display = LATERALITY[site.side]
        concept["extension"] = [{"url": LATERALITY_EXTENSION, "valueCodeableConcept": {
            "coding": [{"system": SNOMED, "code": code, "display": display}]}}]
    return concept


def patient_entries(patient: Patient) -> list[dict[str, Any]]:
    entries = [_entry("Patient", patient.id, {
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": patient.id}],
        "name": [{"text": patient.name}],
        "birthDate": patient.dob.isoformat(),
        "gender": patient.sex,
    })]
    if patient.weight_kg is not None:
        entries.append(_entry("Observation", f"{patient.id}:weight", {
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs"}]}],
            "code": {"coding": [{"system": LOINC, "code": BODY_WEIGHT[0], "display": BODY_WEIGHT[1]}],
                     "text": "Body weight"},
            "subject": _ref("Patient", patient.id),
            "valueQuantity": {"value": patient.weight_kg, "unit": "kg", "system": UCUM, "code": "kg"},
        }))
    return entries


def _agent_text(agent: Agent) -> str:
    dose = f"{agent.dose_mg:g} mg" if agent.dose_mg is not None else "no mg dose"
    return f"{dose} ({format_agent(agent)})"


def visit_entries(visit: Visit) -> list[dict[str, Any]]:
    subject = _ref("Patient", visit.patient_id)
    encounter = _ref("Encounter", visit.id)
    procedure = _ref("Procedure", visit.id)
    day = visit.date.isoformat()
    clinician = [{"individual": {"display": visit.clinician}}] if visit.clinician else []
    entries = [_entry("Encounter", visit.id, {
        "identifier": [{"system": VISIT_ID_SYSTEM, "value": visit.id}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": subject,
        "period": {"start": day, "end": day},
        **({"participant": clinician} if clinician else {}),
        **({"reasonCode": _diagnoses(visit)} if visit.diagnoses else {}),
    })]

    notes = [f"Trigger point injection: {'; '.join(f'{s.side} {s.muscle}, {s.points} point(s)' for s in visit.sites)}."]
    if visit.needle:
        notes.append(f"Needle: {visit.needle}.")
    notes.append(f"Guidance: {'ultrasound' if visit.ultrasound else 'landmark'}.")
    if visit.twitch is not None:
        notes.append(f"Local twitch response: {'yes' if visit.twitch else 'no'}.")
    notes.append(f"Consent: {visit.consent or 'not documented'}.")
    if visit.notes:
        notes.append(visit.notes)
    entries.append(_entry("Procedure", visit.id, {
        "identifier": [{"system": VISIT_ID_SYSTEM, "value": visit.id}],
        "status": "completed",
        "code": {"coding": [{"system": CPT, "code": code, "display": CPT_WORDING.get(code, code)}
                            for code in visit.cpt],
                 "text": "Trigger point injection" if visit.agents else "Dry needling (needle insertion without "
                                                                          "injection)"},
        "subject": subject,
        "encounter": encounter,
        "performedDateTime": day,
        **({"performer": [{"actor": {"display": visit.clinician}}]} if visit.clinician else {}),
        **({"reasonCode": _diagnoses(visit)} if visit.diagnoses else {}),
        "bodySite": [body_site(site) for site in visit.sites],
        **({"complication": [{"text": c} for c in visit.complications]} if visit.complications else {}),
        "note": [{"text": " ".join(notes)}],
    }))

    for number, agent in enumerate(visit.agents, start=1):
        dosage: dict[str, Any] = {
            "text": _agent_text(agent),
            "route": {"coding": [{"system": SNOMED, "code": INTRAMUSCULAR[0], "display": INTRAMUSCULAR[1]}]},
            "dose": {"value": agent.volume_ml, "unit": "mL", "system": UCUM, "code": "mL"},
        }
        entries.append(_entry("MedicationAdministration", f"{visit.id}:agent:{number}", {
            "status": "completed",
            "medicationCodeableConcept": {"text": format_medication(agent)},
            "subject": subject,
            "context": encounter,
            "partOf": [procedure],
            "effectiveDateTime": day,
            "dosage": dosage,
        }))

    for moment, score, label in (("before", visit.pain_before, "Before the injection"),
                                 ("after", visit.pain_after, "5-15 minutes after the injection")):
        entries.append(_entry("Observation", f"{visit.id}:pain-{moment}", {
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
            "code": {"coding": [{"system": LOINC, "code": PAIN_NRS[0], "display": PAIN_NRS[1]}],
                     "text": "Pain 0-10"},
            "subject": subject,
            "encounter": encounter,
            "partOf": [procedure],
            "effectiveDateTime": day,
            "valueInteger": score,
            "note": [{"text": f"{label} (no standard code tells pre from post)."}],
        }))
    return entries


def bundle_chunks(selection: Iterable[tuple[Patient, list[Visit]]], *, now: dt.datetime) -> Iterator[bytes]:
    """The Bundle as JSON text, piece by piece, every entry validated with fhir.resources (R4B).

    Streamed so that a clinic's whole history never sits in memory at once: each patient's entries
    are built, validated and written before the next patient's.
    """
    from fhir.resources.R4B.bundle import Bundle, BundleEntry

    head = {"resourceType": "Bundle", "id": stable_uuid("Bundle", now.isoformat()), "type": "collection",
            "timestamp": now.isoformat()}
    Bundle.model_validate(head)
    opening = json.dumps(head, ensure_ascii=False)[:-1]
    written = 0
    for patient, visits in selection:
        entries = patient_entries(patient)
        for visit in visits:
            entries += visit_entries(visit)
        for entry in entries:
            BundleEntry.model_validate(entry)
            text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
            yield (f'{opening},"entry":[\n{text}' if written == 0 else f",\n{text}").encode("utf-8")
            written += 1
    # FHIR JSON has no empty arrays: a bundle with no entries has no "entry"
    yield (f"{opening}}}\n" if written == 0 else "\n]}\n").encode("utf-8")
